# run_man_examples PAGE: run the .EX/.EE blocks of PAGE's EXAMPLES section as
# written (roff escapes undone), in a scratch folder beside a link to the
# data and holding a link to examples/, so that "../shared/data" and
# "examples/lfw7+other.model" work as they do from the project's folder.
# What the page leaves running is stopped when it ends.
run_man_examples() {
	local dir=$BATS_TEST_TMPDIR/man
	mkdir -p "$dir/project"
	ln -sfn "$(cd "$DATA/.." && pwd)" "$dir/shared"
	ln -sfn "$BATS_TEST_DIRNAME/../examples" "$dir/project/examples"
	awk '/^\.SH/ { ex = $2 == "EXAMPLES" } ex && /^\.EE/ { on = 0 }
		ex && on { print } ex && /^\.EX/ { on = 1 }' "$1" |
		sed 's/\\(aq/'"'"'/g; s/\\-/-/g; s/\\e/\\/g' > "$dir/examples.sh"
	[ -s "$dir/examples.sh" ] || { echo "$1: no EXAMPLES" >&2; return 1; }
	# in a process group of its own, without bats's fd 3: a page whose
	# example fails before it stops a server it started leaves no process
	# that holds the port for the next page or keeps bats waiting at its end
	local pid i status=0
	set -m
	(cd "$dir/project" && exec bash -e "$dir/examples.sh") 3>&- &
	pid=$!
	set +m
	wait "$pid" || status=$?
	kill -TERM -- -"$pid" 2> /dev/null || true
	for i in $(seq 100); do
		pgrep -g "$pid" -r D,R,S,T,t > /dev/null || break
		sleep 0.1
	done
	kill -KILL -- -"$pid" 2> /dev/null || true
	return $status
}

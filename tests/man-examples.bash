# run_man_examples PAGE: run the .EX/.EE blocks of PAGE's EXAMPLES section as
# written (roff escapes undone), in a scratch folder beside a link to the
# data and holding a link to examples/, so that "../shared/data" and
# "examples/lfw7+other.model" work as they do from the project's folder.
run_man_examples() {
	local dir=$BATS_TEST_TMPDIR/man
	mkdir -p "$dir/project"
	ln -sfn "$(cd "$DATA/.." && pwd)" "$dir/shared"
	ln -sfn "$BATS_TEST_DIRNAME/../examples" "$dir/project/examples"
	awk '/^\.SH/ { ex = $2 == "EXAMPLES" } ex && /^\.EE/ { on = 0 }
		ex && on { print } ex && /^\.EX/ { on = 1 }' "$1" |
		sed 's/\\(aq/'"'"'/g; s/\\-/-/g; s/\\e/\\/g' > "$dir/examples.sh"
	[ -s "$dir/examples.sh" ] || { echo "$1: no EXAMPLES" >&2; return 1; }
	(cd "$dir/project" && bash -e "$dir/examples.sh")
}

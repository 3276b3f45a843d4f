#!/usr/bin/env bats
# The documentation: every program and script has a man page, and every man
# page formats without a single groff warning.

load helper

top=$BATS_TEST_DIRNAME/..

@test "every program in cmd/ has a man page in man/" {
	for c in "$top"/cmd/*.c; do
		n=$(basename "$c" .c)
		[ -e "$top/man/$n.1" ] || fail "cmd/$n.c has no man/$n.1"
	done
}

@test "every user script in scripts/ has a man page and answers -h" {
	for s in "$top"/scripts/*; do
		n=$(basename "$s")
		[ "$n" = install-deps ] && continue
		[ -e "$top/man/$n.1" ] || grep -qw "$n" "$top"/man/*.[1357] ||
			fail "scripts/$n is documented nowhere in man/"
		run "$s" -h
		[ "$status" -eq 0 ] || fail "scripts/$n -h exits $status"
	done
}

@test "-h into a full disk exits 1 in every program and script" {
	for c in "$top"/cmd/*.c; do
		n=$(basename "$c" .c)
		run sh -c "$n -h > /dev/full"
		[ "$status" -eq 1 ] || fail "$n -h > /dev/full exits $status"
	done
	for s in "$top"/scripts/*; do
		run sh -c "'$s' -h > /dev/full"
		[ "$status" -eq 1 ] || fail "scripts/${s##*/} -h > /dev/full exits $status"
	done
}

# opts LEAD: the options named in the text on standard input after LEAD
# (a regular expression), one a line: "-xyz" as -x -y -z, "--long" whole
opts() {
	sed 's/\\-/-/g' | awk -v lead="$1" '{
		s = $0
		while (match(s, lead "(--[a-z][a-z-]*|-[A-Za-z0-9]+)")) {
			t = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
			sub(/^[^-]*/, "", t)
			if (t ~ /^--/) print t
			else for (i = 2; i <= length(t); i++) print "-" substr(t, i, 1)
		}
	}' | grep -vx -- -h | sort -u | xargs
}

# help_opts NAME: the options NAME -h shows: in its usage lines (the
# "usage:" line and those under it that start with "[" or NAME) and as the
# first word of its option lines ("  -x ...")
help_opts() {
	"$1" -h | awk -v n="${1##*/}" '
		/^usage:/ { u = 1; print; next }
		u && ($1 ~ /^\[/ || $1 == n) { print; next }
		{ u = 0 }
		/^[ \t]+-/ { print $1 }' | opts '(^|[ [])'
}

# page_opts SECTION PAGE: the options PAGE's SYNOPSIS names, or the tags
# of its OPTIONS list
page_opts() {
	awk -v want="$1" '/^\.SH/ { s = $2; next }
		s == want && (s == "SYNOPSIS" || prev == ".TP") { print s == "SYNOPSIS" ? $0 : $2 }
		{ prev = $0 }' "$2" | opts '(^|[ ["])'
}

@test "-h and the man page name the same options, in SYNOPSIS and in OPTIONS" {
	for p in "$top"/cmd/*.c "$top"/scripts/*; do
		n=$(basename "$p" .c)
		m=$top/man/$n.1
		[ -e "$m" ] || continue
		h=$(help_opts "$n")
		[ -n "$h" ] || [ "$n" = cascadepack ] || [ "$n" = faceapi ] || [ "$n" = putfile ] ||
			fail "$n -h names no option"
		[ "$(page_opts SYNOPSIS "$m")" = "$h" ] ||
			fail "$n: -h names \"$h\", the SYNOPSIS of $m \"$(page_opts SYNOPSIS "$m")\""
		[ "$(page_opts OPTIONS "$m")" = "$h" ] ||
			fail "$n: -h names \"$h\", the OPTIONS of $m \"$(page_opts OPTIONS "$m")\""
	done
}

@test "every man page formats without groff warnings" {
	for m in "$top"/man/*.[1357]; do
		run groff -mandoc -ww -z "$m"
		[ "$status" -eq 0 ] && [ -z "$output" ] || fail "$m: $output"
	done
}

@test "a page whose example fails leaves nothing running" {
	load man-examples
	DATA=$BATS_TEST_TMPDIR/data	# the runner links its parent
	mkdir -p "$DATA"
	printf '.TH X 1\n.SH EXAMPLES\n.EX\nsleep 1000 &\nfalse\nkill %%1; wait\n.EE\n' > "$BATS_TEST_TMPDIR/x.1"
	run run_man_examples "$BATS_TEST_TMPDIR/x.1"
	assert_failure
	run pgrep -f '^sleep 1000$'
	assert_failure
}

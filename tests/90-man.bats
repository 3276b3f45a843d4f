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

@test "every man page formats without groff warnings" {
	for m in "$top"/man/*.[1357]; do
		run groff -mandoc -ww -z "$m"
		[ "$status" -eq 0 ] && [ -z "$output" ] || fail "$m: $output"
	done
}

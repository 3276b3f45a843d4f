#!/usr/bin/env bats
# putfile: standard input to a file as the programs write theirs (whole or
# not at all; links followed, devices and FIFOs in place, - standard output).
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# no_tmp: no temporary file left in the current folder
no_tmp() {
	[ -z "$(ls -A | grep '\.tmp$')" ]
}

@test "-h prints the usage and exits 0; bad usage exits 2 with the usage" {
	run putfile -h
	assert_success
	assert_line --index 0 "usage: putfile OUT"
	for args in "" "a b" "-x a"; do
		# shellcheck disable=SC2086
		run putfile $args < /dev/null
		assert_failure 2
		assert_output --partial "usage: putfile OUT"
	done
	[ -z "$(ls -A)" ]
}

@test "a regular file is replaced by a new one, whole, keeping its permission bits" {
	head -c 300000 /dev/urandom > in
	echo old > out
	chmod 640 out
	ino=$(stat -c %i out)
	putfile out < in
	cmp in out
	[ "$(stat -c %a out)" = 640 ]
	# renamed over it, not written in place
	[ "$(stat -c %i out)" != "$ino" ]
	no_tmp
}

@test "a new file is created, an empty input gives an empty file" {
	echo hello | putfile new
	[ "$(cat new)" = hello ]
	echo old > empty
	putfile empty < /dev/null
	[ -f empty ] && [ ! -s empty ]
	no_tmp
}

@test "a symbolic link stays a link and its target is replaced, through a chain and when dangling" {
	mkdir sub
	echo old > sub/target
	ln -s sub/target link
	ln -s link link2
	echo new | putfile link2
	[ -L link ] && [ -L link2 ]
	[ "$(cat sub/target)" = new ]
	ln -s sub/later dangling
	echo born | putfile dangling
	[ -L dangling ]
	[ "$(cat sub/later)" = born ]
	[ -z "$(ls -A sub | grep '\.tmp$')" ]
}

@test "/dev/full: exit 1 naming it, and it stays a device; so through a link" {
	run putfile /dev/full <<< data
	assert_failure 1
	assert_output "putfile: /dev/full: write error: No space left on device"
	[ -c /dev/full ]
	ln -s /dev/full full
	head -c 200000 /dev/zero > in
	run putfile full < in
	assert_failure 1
	assert_output --partial "putfile: full: write error"
	[ -L full ]
	[ -c /dev/full ]
	no_tmp
}

@test "a FIFO is written in place, not replaced" {
	mkfifo fifo
	cat fifo > got &
	printf 'through\nthe fifo\n' | putfile fifo
	wait $!
	[ "$(cat got)" = "$(printf 'through\nthe fifo\n')" ]
	[ -p fifo ]
	no_tmp
}

@test "- is standard output" {
	head -c 100000 /dev/urandom > in
	putfile - < in > got
	cmp in got
	[ ! -e ./- ]
	run bash -c 'putfile - < in > /dev/full'
	assert_failure 1
	assert_output --partial "putfile: write error on standard output"
}

@test "standard input that cannot be read replaces nothing" {
	echo old > out
	run putfile out < .
	assert_failure 1
	assert_output --partial "putfile: out: cannot read standard input"
	[ "$(cat out)" = old ]
	run putfile new < .
	assert_failure 1
	[ ! -e new ]
	no_tmp
}

@test "OUT that cannot be written: a folder, a missing folder" {
	mkdir dir
	run putfile dir <<< data
	assert_failure 1
	assert_output "putfile: dir: is a folder"
	run putfile missing/out <<< data
	assert_failure 1
	assert_output --partial "putfile: missing/out: cannot create a temporary file"
	[ ! -e missing ]
	[ -z "$(ls -A dir)" ]
}

@test "SIGTERM, SIGINT and SIGHUP mid-stream: exit 143, 130 and 129, the target as it was, no temporary file" {
	echo old > out
	mkfifo in
	for sig in TERM INT HUP; do
		putfile out < in 2> err &
		pid=$!
		exec 5> in
		head -c 100000 /dev/zero >&5
		# the temporary file is there: putfile is copying
		for i in $(seq 100); do
			[ -n "$(ls -A | grep '\.tmp$')" ] && break
			sleep 0.1
		done
		[ -n "$(ls -A | grep '\.tmp$')" ] || { kill -9 $pid; false; }
		kill -$sig $pid
		# it removes its temporary file; one that ignored the signal
		# ends with the end of its input
		for i in $(seq 100); do
			[ -z "$(ls -A | grep '\.tmp$')" ] && break
			sleep 0.1
		done
		exec 5>&-
		status=0
		wait $pid || status=$?
		[ $status -eq $((128 + $(kill -l $sig))) ]
		[ "$(cat out)" = old ]
		no_tmp
		case $sig in
		TERM) said=terminated ;;
		INT) said=interrupted ;;
		HUP) said="hung up" ;;
		esac
		[ "$(cat err)" = "putfile: out: $said; left as it was" ]
	done
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run run_man_examples "$BATS_TEST_DIRNAME/../man/putfile.1"
	assert_success
	assert_line new
	assert_line 600
	[ "$(cat "$BATS_TEST_TMPDIR/man/project/boxes.txt")" = "$(facefind "$DATA/dlib-faces/2008_002470.jpg")" ]
}

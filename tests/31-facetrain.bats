#!/usr/bin/env bats
# facetrain: it learns real faces, resumes exactly, survives kill -9,
# SIGINT/SIGTERM and a diverging loss, and refuses bad input.
load helper
load faces

# small networks so the file runs in well under a minute
SPEC='conv 5 16; pool 3 2; conv 5 16; pool 3 2; fc 64; fc N'
TINY='conv 5 8; pool 3 2; fc N'

setup_file() {
	[ -d "$DATA/lfw" ] || return 0
	two_people "$BATS_FILE_TMPDIR/d" 100 30
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	d=$BATS_FILE_TMPDIR/d
}

# tiny ARGS...: a quick run of the tiny network on the two people, at a
# constant rate (-e 0), so that a run extended with a larger -n goes on
# as one never stopped (in the background, call facetrain itself, so that
# $! is its process)
tiny() {
	facetrain -l "$d/labels.txt" -N "$TINY" -b 16 -r 0.02 -e 0 "$@" "$d/train.bin"
}

# wait_rows LOG N: wait (up to 60 s) until LOG has N data rows
wait_rows() {
	for _ in $(seq 600); do
		n=$(grep -vc '^#' "$1" 2> /dev/null)
		[ "${n:-0}" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

@test "it learns two people: the loss falls and faceeval reports >= 90% on held-out faces" {
	skip_without_data
	n=300
	[ "${FACEKIT_SAN:-0}" = 1 ] && n=80
	facetrain -o m.bin -l "$d/labels.txt" -N "$SPEC" -n $n -b 32 -i 20 \
		-L log.tsv "$d/train.bin" 2> err
	first=$(awk '!/^#/ { print $2; exit }' log.tsv)
	last=$(awk '!/^#/ { l = $2 } END { print l }' log.tsv)
	echo "loss $first -> $last"
	if [ "${FACEKIT_SAN:-0}" = 1 ]; then
		# a short run under the sanitizers: the loss falls, that is all
		awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }'
		faceeval m.bin "$d/test.bin"
		return 0
	fi
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a / 2) }'
	faceeval m.bin "$d/test.bin" > eval.txt
	cat eval.txt
	awk '/^precision@1/ { exit !($2 >= 0.9) }' eval.txt
	# the same figure from faceclassify's names and the true labels
	cifarunpack -l labels "$d/test.bin" | faceclassify m.bin > names
	right=$(awk 'NR == FNR { want[FNR - 1] = $1 ? "Colin_Powell" : "George_W_Bush"; next }
		$2 == want[$1] { r++ } END { print r + 0 }' labels names)
	grep -q "^precision@1 [0-9.]* ($right of 60)\$" eval.txt
}

@test "a resumed run ends with the very weights of an uninterrupted one" {
	skip_without_data
	tiny -o whole.bin -n 30 2> /dev/null
	tiny -o parts.bin -n 13 2> /dev/null
	run tiny -o parts.bin -n 30
	assert_success
	assert_output --partial "resuming parts.bin at step 13"
	cmp whole.bin parts.bin
}

@test "by default the rate rises for 5% of -n steps, then falls along a half cosine, whatever the dataset's size" {
	skip_without_data
	# 40 steps: a warm-up of 2 (0.01, 0.02), then 0.01 (1 + cos(pi (t - 2)/38))
	for f in train test; do
		facetrain -o $f.model -l "$d/labels.txt" -N "$TINY" -b 16 -r 0.02 -n 40 -i 1 \
			-L $f.tsv "$d/$f.bin" 2> /dev/null
		cut -f 1,3 $f.tsv > $f.lr
	done
	# the same rates from 200 records and from 60
	cmp train.lr test.lr
	awk -F '\t' '!/^#/ {
		t = $1 - 1
		want = t < 2 ? 0.02 * (t + 1) / 2 : 0.01 * (1 + cos(3.141592653589793 * (t - 2) / 38))
		if ($2 - want > 1e-5 * want || want - $2 > 1e-5 * want) { print "step " $1 ": " $2 " not " want; bad = 1 }
	} END { exit bad }' train.lr
	[ "$(awk '$1 == 21 { print $2 }' train.lr)" = 0.0108258 ]
}

@test "a batch larger than the dataset is warned about" {
	skip_without_data
	run facetrain -o m.bin -l "$d/labels.txt" -N "$TINY" -b 64 -n 1 "$d/test.bin"
	assert_success
	assert_output --partial "facetrain: the batch of 64 is larger than the 60 records"
	run facetrain -o n.bin -l "$d/labels.txt" -N "$TINY" -b 60 -n 1 "$d/test.bin"
	assert_success
	refute_output --partial "larger than"
}

@test "momentum, Nesterov, decoupled decay and smoothing: killed and resumed, the very weights of a run never stopped" {
	skip_without_data
	for m in M V; do
		opts=(-l "$d/labels.txt" -N "$TINY" -b 16 -r 0.02 -$m 0.9 -W 0.0005 -y 0.1 -n 300)
		facetrain -o whole$m.bin "${opts[@]}" "$d/train.bin" 2> /dev/null
		facetrain -o parts$m.bin "${opts[@]}" -k 1 -i 1 -L log$m "$d/train.bin" 2> /dev/null 3>&- &
		pid=$!
		wait_rows log$m 20 || { kill -9 $pid; false; }
		kill -9 $pid
		wait $pid || true
		run facetrain -o parts$m.bin "${opts[@]}" "$d/train.bin"
		assert_success
		assert_output --regexp "resuming parts$m.bin at step [0-9]+"
		cmp whole$m.bin parts$m.bin
	done
	# Nesterov's steps are not the classical ones
	! cmp -s wholeM.bin wholeV.bin
}

@test "running a finished command again changes nothing" {
	skip_without_data
	tiny -o m.bin -n 5 2> /dev/null
	cp m.bin before.bin
	run tiny -o m.bin -n 5
	assert_success
	assert_output --partial "m.bin has taken 5 steps already"
	cmp m.bin before.bin
}

@test "kill -9 mid-run leaves a loadable model to resume from" {
	skip_without_data
	facetrain -l "$d/labels.txt" -N "$TINY" -b 16 -r 0.02 -o m.bin -n 1000000 \
		-k 3 -i 3 -L log "$d/train.bin" 2> /dev/null 3>&- &
	pid=$!
	wait_rows log 3 || { kill -9 $pid; false; }
	kill -9 $pid
	wait $pid || true
	run faceeval m.bin "$d/test.bin"
	assert_success
	run tiny -o m.bin -n 1
	assert_success
	assert_output --regexp "m.bin has taken [0-9]+ steps already"
}

@test "SIGINT, SIGTERM and SIGHUP save a checkpoint and exit 130, 143 and 129" {
	skip_without_data
	for sig in INT TERM HUP; do
		rm -f m.bin log
		facetrain -l "$d/labels.txt" -N "$TINY" -b 16 -r 0.02 -o m.bin \
			-n 1000000 -k 1000000 -i 2 -L log "$d/train.bin" 2> err 3>&- &
		pid=$!
		wait_rows log 2 || { kill -9 $pid; false; }
		kill -$sig $pid
		status=0
		wait $pid || status=$?
		[ $status -eq $((128 + $(kill -l $sig))) ]
		step=$(sed -n 's/.* at step \([0-9]*\): checkpoint saved to m.bin.*/\1/p' err)
		[ -n "$step" ]
		[ $sig = INT ] && grep -q "interrupted at step" err
		[ $sig = TERM ] && grep -q "terminated at step" err
		[ $sig = HUP ] && grep -q "hung up at step" err
		run tiny -o m.bin -n 1
		assert_output --partial "m.bin has taken $step steps already"
	done
}

@test "a huge learning rate stops on a non-finite loss and keeps the last checkpoint" {
	skip_without_data
	tiny -o m.bin -n 4 2> /dev/null
	cp m.bin good.bin
	run tiny -o m.bin -n 50 -r 1e30 -f
	assert_failure 1
	assert_output --partial "not finite"
	assert_output --partial "m.bin keeps the last good checkpoint (step 4)"
	cmp m.bin good.bin
	run tiny -o fresh.bin -n 50 -r 1e30
	assert_failure 1
	assert_output --partial "(step 0)"
	run faceeval fresh.bin "$d/test.bin"
	assert_success
}

@test "progress lines every -i steps, a log with test accuracy, and its plot" {
	skip_without_data
	tiny -o m.bin -n 20 -i 5 -t "$d/test.bin" -L log.tsv 2> err
	[ "$(grep -c '^step [0-9]*/20 loss [0-9.]* lr 0.02 [0-9]* img/s ETA [0-9]*m[0-9]*s test [0-9.]*$' err)" -eq 4 ]
	[ "$(grep -c '^#' log.tsv)" -eq 1 ]
	[ "$(awk -F '\t' '!/^#/ && NF == 5 && $1 % 5 == 0 && $5 >= 0 && $5 <= 1' log.tsv | wc -l)" -eq 4 ]
	plot-log log.tsv > log.png
	pngtopam log.png | pamfile | grep -q "800 by 500"
	# a resumed run appends to the log, without a second header
	tiny -o m.bin -n 25 -i 5 -t "$d/test.bin" -L log.tsv 2> /dev/null
	[ "$(grep -c '^#' log.tsv)" -eq 1 ]
	[ "$(tail -n 1 log.tsv | cut -f 1)" = 25 ]
}

@test "plot-log refuses a file that is not a log" {
	echo "hello world" > bad.tsv
	run plot-log bad.tsv
	assert_failure 1
	assert_output --partial "not a facetrain log"
	run plot-log
	assert_failure 2
}

@test "records whose label has no class name are refused" {
	ppmmake red 32 32 | cifarpack 5 > five.bin
	printf 'a\nb\n' > labels.txt
	run facetrain -o m.bin -l labels.txt five.bin
	assert_failure 1
	assert_output --partial "five.bin: record 0 has label 5, but there are only 2 classes"
	[ ! -e m.bin ]
}

@test "truncated, empty and other-size record files are refused" {
	printf 'a\nb\n' > labels.txt
	ppmmake red 32 32 | cifarpack 1 > one.bin
	head -c 3000 one.bin > cut.bin
	run facetrain -o m.bin -l labels.txt cut.bin
	assert_failure 1
	assert_output --partial "3000 bytes is not a whole number of 32x32 records"
	: > empty.bin
	run facetrain -o m.bin -l labels.txt empty.bin
	assert_failure 1
	assert_output --partial "no records"
	run facetrain -o m.bin -l labels.txt -s 40 one.bin
	assert_failure 1
	assert_output --partial "not a whole number of 40x40 records"
	[ ! -e m.bin ]
}

@test "a model file that is not one, or was made for another network or size, is not overwritten" {
	printf 'a\nb\n' > labels.txt
	{ ppmmake red 36 36 | cifarpack -s 36 0; ppmmake blue 36 36 | cifarpack -s 36 1; } > rec.bin
	echo "precious" > m.bin
	run facetrain -o m.bin -l labels.txt -s 36 rec.bin
	assert_failure 1
	# the file named once
	assert_output "facetrain: cannot resume: m.bin: truncated: 9 bytes, shorter than the 20-byte header (remove it to start afresh)"
	[ "$(cat m.bin)" = precious ]
	facetrain -o n.bin -l labels.txt -N 'fc N' -s 36 -n 2 -b 2 rec.bin 2> /dev/null
	cp n.bin keep.bin
	run facetrain -o n.bin -l labels.txt -N 'fc N' -s 36 -c 36 -n 4 -b 2 rec.bin
	assert_failure 1
	assert_output --partial "cannot resume: it was trained with"
	run facetrain -o n.bin -l labels.txt -N 'fc N' -s 36 -m 1.5 -n 4 -b 2 rec.bin
	assert_failure 1
	assert_output --partial "margin=1.25\", not"
	run facetrain -o n.bin -l labels.txt -N 'fc 8; fc N' -s 36 -n 4 -b 2 rec.bin
	assert_failure 1
	assert_output --partial "cannot resume: its network is"
	printf 'a\nc\n' > other.txt
	run facetrain -o n.bin -l other.txt -N 'fc N' -s 36 -n 4 -b 2 rec.bin
	assert_failure 1
	assert_output --partial "class names differ"
	cmp n.bin keep.bin
}

@test "an unwritable model path fails at once" {
	printf 'a\nb\n' > labels.txt
	ppmmake red 32 32 | cifarpack 1 > one.bin
	run facetrain -o no/such/dir/m.bin -l labels.txt -N 'fc N' -n 1000000 one.bin
	assert_failure 1
	assert_output --partial "no/such/dir/m.bin: cannot create the lock file"
}

# one_record: labels.txt and one.bin, a record to train 'fc N' on in no time
one_record() {
	printf 'a\nb\n' > labels.txt
	ppmmake red 32 32 | cifarpack 1 > one.bin
}

@test "a resume into a folder that has become read-only fails before training" {
	one_record
	mkdir d
	facetrain -o d/m.bin -l labels.txt -N 'fc N' -e 0 -n 2 one.bin 2> /dev/null
	again=(facetrain -o d/m.bin -l labels.txt -N 'fc N' -e 0 -n 50 -i 10 one.bin)
	if [ "$(id -u)" = 0 ]; then
		unshare -m true 2> /dev/null || skip "root cannot make a read-only folder here"
		run unshare -m sh -c 'mount --bind -o ro d d && exec "$@"' sh "${again[@]}"
	else
		chmod 555 d
		run "${again[@]}"
		chmod 755 d
	fi
	assert_failure 1
	assert_output --regexp "d/m.bin: .*(Read-only file system|Permission denied)"
	refute_output --partial "step 10/50"
}

@test "a link to the model stays a link; -o - and a device are refused" {
	one_record
	ln -s real.bin link.bin
	facetrain -o link.bin -l labels.txt -N 'fc N' -e 0 -n 2 one.bin 2> /dev/null
	[ -L link.bin ]
	run facetrain -o link.bin -l labels.txt -N 'fc N' -e 0 -n 4 one.bin
	assert_success
	assert_output --partial "resuming link.bin at step 2"
	[ -L link.bin ]
	run faceeval real.bin one.bin
	assert_success
	run facetrain -o - -l labels.txt -N 'fc N' -n 2 one.bin
	assert_failure 2
	assert_output --partial "facetrain: -o -: the model is read back to resume"
	[ ! -e ./- ]
	run facetrain -o /dev/null -l labels.txt -N 'fc N' -n 2 one.bin
	assert_failure 1
	assert_output --partial "/dev/null: not a regular file"
	[ -c /dev/null ]
}

@test "-L - writes the log to standard output; a link to a log stays a link" {
	one_record
	facetrain -o m.bin -l labels.txt -N 'fc N' -e 0 -n 4 -i 2 -L - one.bin > out 2> /dev/null
	[ "$(head -n 1 out | cut -f 1)" = "# step" ]
	[ "$(grep -vc '^#' out)" -eq 2 ]
	[ ! -e ./- ]
	ln -s real.tsv link.tsv
	facetrain -o m.bin -l labels.txt -N 'fc N' -e 0 -n 6 -i 2 -L link.tsv one.bin 2> /dev/null
	[ -L link.tsv ]
	[ "$(grep -vc '^#' real.tsv)" -eq 1 ]
}

@test "a reader of its messages that goes away does not stop it: SIGPIPE is ignored" {
	one_record
	facetrain -o m.bin -l labels.txt -N 'fc N' -b 1 -n 200 -i 1 one.bin 2>&1 | head -n 1
	[ "${PIPESTATUS[0]}" -eq 0 ]
	run facetrain -o m.bin -l labels.txt -N 'fc N' -b 1 -n 200 one.bin
	assert_output --partial "m.bin has taken 200 steps already"
}

@test "a resume with another rate, batch, schedule or seed is refused, naming it, unless -f" {
	one_record
	train=(facetrain -o m.bin -l labels.txt -N 'fc N' -b 1 -r 0.1 -e 350)
	"${train[@]}" -n 2 one.bin 2> /dev/null
	cp m.bin keep.bin
	for change in "-r 0.05|lr=0.1, not 0.05 (-r)" \
		"-b 2|decay_steps=350, not 175 (-e, with -b and the record count); batch=1, not 2 (-b)" \
		"-S 7|seed=1, not 7 (-S)" "-e 1|decay_steps=350, not 1 (-e, with -b and the record count)" \
		"-d 0.5|decay=0.1, not 0.5 (-d)" "-w 0|wd=0.004, not 0 (-w)" "-a 0.5|ema=0.9999, not 0.5 (-a)" \
		"-M 0.9|momentum=0, not 0.9 (-M, -V)" \
		"-V 0.5|momentum=0, not 0.5 (-M, -V); nesterov=0, not 1 (-V)" \
		"-W 0.01|dwd=0, not 0.01 (-W)" "-y 0.1|smoothing=0, not 0.1 (-y)"; do
		run "${train[@]}" -n 4 ${change%|*} one.bin
		assert_failure 1
		assert_output --partial "m.bin: cannot resume: it was trained with ${change#*|}; -f resumes anyway"
		cmp m.bin keep.bin
	done
	# two at once, both named
	run "${train[@]}" -n 4 -r 0.05 -S 7 one.bin
	assert_output --partial "lr=0.1, not 0.05 (-r); seed=1, not 7 (-S)"
	# the thread count may change freely
	run "${train[@]}" -n 3 -T 2 one.bin
	assert_success
	# -f resumes, and the new settings are the model's from then on
	run "${train[@]}" -n 4 -r 0.05 -f one.bin
	assert_success
	assert_output --partial "resuming with other settings (-f): it was trained with lr=0.1, not 0.05 (-r)"
	run "${train[@]}" -n 5 -r 0.05 one.bin
	assert_success
	assert_output --partial "resuming m.bin at step 4"
}

@test "the cosine schedule: another length or warm-up is refused, and so is leaving the staircase" {
	one_record
	train=(facetrain -o m.bin -l labels.txt -N 'fc N' -b 1)
	"${train[@]}" -e 350 -n 2 one.bin 2> /dev/null
	run "${train[@]}" -n 4 one.bin
	assert_failure 1
	assert_output --partial "it was trained with schedule=step, not cosine (-e); steps=0, not 4 (-n, with the cosine schedule); decay_steps=350, not 0 (-e, with -b and the record count); -f resumes anyway"
	train=(facetrain -o c.bin -l labels.txt -N 'fc N' -b 1)
	"${train[@]}" -n 2 one.bin 2> /dev/null
	run "${train[@]}" -n 4 one.bin
	assert_failure 1
	assert_output --partial "c.bin: cannot resume: it was trained with steps=2, not 4 (-n, with the cosine schedule)"
	run "${train[@]}" -n 4 -u 0.5 one.bin
	assert_failure 1
	assert_output --partial "steps=2, not 4 (-n, with the cosine schedule); warmup=0.05, not 0.5 (-u)"
	# with nothing left to train, nothing is compared
	run "${train[@]}" -n 1 one.bin
	assert_success
	assert_output --partial "c.bin has taken 2 steps already (-n 1): nothing to do"
}

@test "a model whose settings predate the cosine is compared as trained with the staircase and plain SGD" {
	printf 'red\ngreen\nblue\n' > labels.txt
	printf '\000\310\012\012\001\012\310\012\002\012\012\310' > rec.bin
	"$(dirname "$(command -v facetrain)")/../tests/hand_model" hand.bin \
		"lr=0.1 decay=0.1 decay_steps=3 batch=3 wd=0.004 ema=0.9999 seed=1"
	cp hand.bin keep.bin
	run facetrain -o hand.bin -N 'fc N' -s 1 -Z -n 2 -b 3 rec.bin
	assert_failure 1
	assert_output --partial "it was trained with decay_steps=3, not 0 (-e, with -b and the record count); schedule=step, not cosine (-e); steps=0, not 2 (-n, with the cosine schedule); -f"
	run facetrain -o hand.bin -N 'fc N' -s 1 -Z -n 2 -b 3 -e 3 -M 0.9 rec.bin
	assert_failure 1
	assert_output --partial "it was trained with momentum=0, not 0.9 (-M, -V); -f"
	cmp hand.bin keep.bin
	run facetrain -o hand.bin -N 'fc N' -s 1 -Z -n 2 -b 3 -e 3 rec.bin
	assert_success
}

@test "a second writer on the same model is refused; readers keep working during checkpoints" {
	one_record
	facetrain -o m.bin -l labels.txt -N 'fc N' -b 1 -n 1000000 -k 1 -i 1 -L log one.bin 2> /dev/null 3>&- &
	pid=$!
	wait_rows log 2 || { kill -9 $pid; false; }
	run facetrain -o m.bin -l labels.txt -N 'fc N' -b 1 -n 1000000 one.bin
	ln -s m.bin link.bin
	run2=$(facetrain -o link.bin -l labels.txt -N 'fc N' -b 1 -n 1000000 one.bin 2>&1) || s2=$?
	for _ in 1 2 3 4 5; do faceeval m.bin one.bin > /dev/null; done
	kill -TERM $pid
	wait $pid || true
	assert_failure 1
	assert_output --partial "facetrain: m.bin: another process (pid $pid) is writing it (it holds m.bin.lock)"
	[ "$s2" = 1 ]
	[[ $run2 == *"link.bin: another process (pid $pid) is writing it"* ]]
	[ ! -e m.bin.lock ]
}

@test "records cut short while training stop it with a checkpoint and exit 1, not SIGBUS" {
	printf 'a\nb\n' > labels.txt
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ppmmake rgb:$i/40/80 32 32 | cifarpack $((i % 2))
	done > recs.bin
	cp recs.bin whole.bin
	facetrain -o m.bin -l labels.txt -N 'fc N' -b 4 -n 1000000 -k 1000000 -i 1 -L log \
		recs.bin 2> err 3>&- &
	pid=$!
	wait_rows log 2 || { kill -9 $pid; false; }
	truncate -s 3073 recs.bin
	status=0
	wait $pid || status=$?
	cat err
	[ $status -eq 1 ]
	grep -q "recs.bin: record [0-9]* is gone: the file was cut short" err
	step=$(sed -n 's/.*checkpoint saved to m.bin at step \([0-9]*\)$/\1/p' err)
	[ "$step" -ge 2 ]
	run facetrain -o m.bin -l labels.txt -N 'fc N' -b 4 -n 1 whole.bin
	assert_output --partial "m.bin has taken $step steps already"
}

@test "temporary files a killed run left are removed by the next run, a live run's are not" {
	one_record
	facetrain -o m.bin -l labels.txt -N 'fc N' -e 0 -n 2 one.bin 2> /dev/null
	# no process has an id above 2^22 (the ceiling of pid_max); $$ is alive
	: > m.bin.999999999.0.tmp
	: > m.bin.$$.0.tmp
	run facetrain -o m.bin -l labels.txt -N 'fc N' -e 0 -n 3 one.bin
	assert_success
	assert_output --partial "m.bin: removed 1 temporary file left by a killed run"
	[ ! -e m.bin.999999999.0.tmp ]
	[ -e m.bin.$$.0.tmp ]
}

@test "the model gets the mode a new file gets under the umask, and no temporary file stays" {
	printf 'a\nb\n' > labels.txt
	ppmmake red 32 32 | cifarpack 1 > one.bin
	(umask 027 && facetrain -o m.bin -l labels.txt -N 'fc N' -n 2 one.bin)
	# what the shell's redirection gives a new file under the same umask
	(umask 027 && : > plain)
	[ "$(stat -c %a m.bin)" = "$(stat -c %a plain)" ]
	[ "$(stat -c %a m.bin)" = 640 ]
	run ls
	assert_output "$(printf 'labels.txt\nm.bin\none.bin\nplain')"
}

@test "mkdataset's 40x40 records train without -s, -c or -l: dataset.txt and labels.txt beside them say" {
	mkdir d
	printf 'a\nb\n' > d/labels.txt
	echo "stored=40 margin=1.5" > d/dataset.txt
	{ ppmmake red 40 40 | cifarpack -s 40 0; ppmmake blue 40 40 | cifarpack -s 40 1; } > d/train.bin
	run facetrain -o m.bin -N 'fc N' -n 2 -b 2 d/train.bin
	assert_success
	# stored 40, cut to the pipeline's 32, the margin recorded
	assert_equal "$(faceclassify -i m.bin | grep -v find-margin)" "$(printf 'margin 1.5\nstored 40\ninput 32\nclass a\nclass b')"
	# -s, -c and -m still say otherwise
	facetrain -o n.bin -N 'fc N' -n 2 -b 2 -s 40 -c 40 -m 1.2 d/train.bin 2> /dev/null
	assert_equal "$(faceclassify -i n.bin | head -3)" "$(printf 'margin 1.2\nstored 40\ninput 40')"
	echo "stored=forty" > d/dataset.txt
	run facetrain -o k.bin -N 'fc N' -n 2 -b 2 d/train.bin
	assert_failure 1
	assert_output --partial 'dataset.txt: "stored=forty" is not stored=SIDE or margin=MARGIN'
}

@test "records of another side: the one side their size fits is taken, else a hint names the sides" {
	printf 'a\nb\n' > labels.txt
	{ ppmmake red 40 40 | cifarpack -s 40 0; ppmmake blue 40 40 | cifarpack -s 40 1; } > forty.bin
	run facetrain -o m.bin -N 'fc N' -n 2 -b 2 forty.bin
	assert_success
	assert_output --partial "forty.bin: taking 40x40 records, the one size that fits (-s to say)"
	assert_equal "$(faceclassify -i m.bin | sed -n 2,3p)" "$(printf 'stored 40\ninput 32')"
	run facetrain -o n.bin -s 32 -N 'fc N' -n 2 -b 2 forty.bin
	assert_failure 1
	assert_output --partial "not a whole number of 32x32 records"
	assert_output --partial "the size fits 40x40 (-s 40), plus -c 32"
	# 364 bytes: 28 records of 2x2 or 13 of 3x3, and no way to tell
	head -c 364 /dev/zero > two-or-three.bin
	run facetrain -o n.bin -N 'fc N' two-or-three.bin
	assert_failure 1
	assert_output --partial "the size fits 2x2 (-s 2), 3x3 (-s 3)"
	[ ! -e n.bin ]
}

@test "a labels file that names a class twice is refused; a class without records is warned of" {
	{ ppmmake red 32 32 | cifarpack 0; ppmmake blue 32 32 | cifarpack 1; } > rec.bin
	printf 'a\nb\na\n' > twice.txt
	run facetrain -o m.bin -l twice.txt -N 'fc N' -n 2 -b 2 rec.bin
	assert_failure 1
	assert_output --partial 'twice.txt:3: class name "a" is line 1'"'"'s too'
	[ ! -e m.bin ]
	printf 'a\nb\nc\n' > three.txt
	run facetrain -o m.bin -l three.txt -N 'fc N' -n 2 -b 2 rec.bin
	assert_success
	assert_output --partial 'three.txt:3: class 2 ("c") has no records to train on'
}

@test "a checkpoint from before margins were recorded resumes, as cut at 1.25" {
	"$(dirname "$(command -v facetrain)")/../tests/hand_model" hand.bin
	printf 'red\ngreen\nblue\n' > labels.txt
	printf '\000\310\012\012\001\012\310\012\002\012\012\310' > rec.bin
	run facetrain -o hand.bin -N 'fc N' -s 1 -Z -n 2 -b 3 rec.bin
	assert_success
	assert_equal "$(faceclassify -i hand.bin | head -1)" "margin 1.25"
}

@test "-T: every online CPU by default" {
	printf 'a\nb\n' > labels.txt
	{ ppmmake red 32 32 | cifarpack 0; ppmmake blue 32 32 | cifarpack 1; } > rec.bin
	facetrain -o all.bin -N 'conv 5 8; pool 3 2; fc N' -n 5 -b 2 rec.bin 2> /dev/null
	facetrain -o n.bin -N 'conv 5 8; pool 3 2; fc N' -n 5 -b 2 -T "$(nproc)" rec.bin 2> /dev/null
	cmp all.bin n.bin
	run facetrain -o m.bin -T 65 rec.bin
	assert_failure 2
}

@test "bad labels files and usage errors" {
	ppmmake red 32 32 | cifarpack 0 > one.bin
	echo solo > one.txt
	run facetrain -o m.bin -l one.txt one.bin
	assert_failure 1
	assert_output --partial "at least 2 are needed"
	printf 'a\n\nb\n' > gap.txt
	run facetrain -o m.bin -l gap.txt one.bin
	assert_failure 1
	assert_output --partial "gap.txt:2: empty class name"
	printf 'a b\nc\n' > blank.txt
	run facetrain -o m.bin -l blank.txt one.bin
	assert_failure 1
	assert_output --partial 'blank.txt:1: class name "a b" has a blank'
	run facetrain -l gap.txt one.bin
	assert_failure 2
	assert_output --partial "-o MODEL is required"
	run facetrain -o m.bin one.bin
	assert_failure 2
	run facetrain -o m.bin -l one.txt -s 32 -c 40 one.bin
	assert_failure 2
	run facetrain -o m.bin -l one.txt -C 2 one.bin
	assert_failure 2
	# a bad network spec is the option's fault, quoted with its name
	printf 'a\nb\n' > two.txt
	run facetrain -o m.bin -l two.txt -N 'conv x' one.bin
	assert_failure 2
	assert_output --partial "facetrain: -N: spec part 1 'conv x'"
	run facetrain -o m.bin -l two.txt -N 'fc 3' one.bin
	assert_failure 2
	assert_output --partial "facetrain: -N: spec part 1 'fc 3'"
	[ ! -e m.bin ]
	run facetrain -o m.bin -l two.txt -C 1,x one.bin
	assert_failure 2
	assert_output --partial 'facetrain: -C: "1,x" is not LO,HI'
	run facetrain -o m.bin -l two.txt -d 0.5 one.bin
	assert_failure 2
	assert_output --partial "give -e EPOCHS too"
	run facetrain -o m.bin -l two.txt -e 10 -u 0.1 one.bin
	assert_failure 2
	assert_output --partial "which -e EPOCHS replaces"
	for bad in "-M 1" "-V -0.5" "-y 2" "-W -1" "-u 1"; do
		run facetrain -o m.bin -l two.txt $bad one.bin
		assert_failure 2
	done
	[ ! -e m.bin ]
	run facetrain -h
	assert_success
	assert_output --partial "usage: facetrain"
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/facetrain.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/plot-log.1"
}

# The dataset and evaluation scripts: help, usage errors, bad input, and
# contact-sheet's drawing checked pixel by pixel on a hand-made case.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# two_people SIDE BOX: people/Ann and people/Bob, four SIDE x SIDE photos
# each (the 4th a test one), and boxes with the box "BOX" on every photo
two_people() {
	mkdir -p people/Ann people/Bob
	for i in 1 2 3 4; do
		ppmmake rgb:80/40/2$i "$1" "$1" > people/Ann/a$i.ppm
		ppmmake rgb:20/40/8$i "$1" "$1" > people/Bob/b$i.ppm
		printf 'Ann/a%d.ppm %s\nBob/b%d.ppm %s\n' $i "$2" $i "$2"
	done > boxes
}

@test "every script prints its usage with -h and exits 0" {
	for s in mkdataset evaluate classify-dir contact-sheet make-model; do
		run "$s" -h
		assert_success
		assert_output --partial "usage: $s"
	done
}

@test "every script in scripts/: -h prints a usage line; into a full disk it exits 1 saying so" {
	for s in "$BATS_TEST_DIRNAME"/../scripts/*; do
		n=${s##*/}
		run "$s" -h
		assert_success
		assert_line --partial "usage: $n "
		run bash -c '"$1" -h > /dev/full' sh "$s"
		assert_failure 1
		assert_output "$n: write error on standard output"
	done
}

@test "a full disk on standard output: lfw-boxes, plot-log, evaluate exit 1 saying so" {
	# one annotation line: name, box, pose, 10 and ten points
	echo "A/A_0001.jpg 10 10 100 100 0 10 $(seq -s ' ' 21 40)" > ann.txt
	run lfw-boxes ann.txt
	assert_success
	assert_output "A/A_0001.jpg 6 6 60 60 45.0000"
	run bash -c 'lfw-boxes ann.txt > /dev/full'
	assert_failure 1
	# after awk's own word on it
	assert_line "lfw-boxes: write error on standard output"
	run lfw-boxes missing.txt
	assert_failure 1
	assert_output "lfw-boxes: missing.txt: cannot read it"
	printf '# step\tloss\tlr\tseconds\n1\t0.7\t0.1\t0.5\n2\t0.6\t0.1\t1.0\n' > log.tsv
	plot-log log.tsv | pngtopam | pamfile | grep -q 'PPM raw'
	run bash -c 'plot-log log.tsv > /dev/full'
	assert_failure 1
	assert_output "plot-log: write error on standard output"
	# two people of four photos each (the 4th a test one), two training steps
	two_people 60 '10 10 40 40'
	run bash -c 'evaluate -b boxes -w ev -s 32 -c 32 -n 2 people -N "fc N" -b 2 > /dev/full'
	assert_failure 1
	assert_output --partial "evaluate: write error on standard output"
	[ -s ev/report.txt ]
}

@test "unknown options and missing operands exit 2 with the usage" {
	for s in mkdataset evaluate classify-dir contact-sheet make-model; do
		run "$s" -Q
		[ "$status" -eq 2 ]
		assert_output --partial "usage: $s"
	done
	run mkdataset
	[ "$status" -eq 2 ]
	assert_output --partial "mkdataset: expected one TASK, FOLDER or FACES, got 0"
	run contact-sheet model records
	[ "$status" -eq 2 ]
	assert_output --partial "contact-sheet: no output file"
	run classify-dir model
	[ "$status" -eq 2 ]
	run make-model extra
	[ "$status" -eq 2 ]
	assert_output --partial "make-model: unexpected argument 'extra'"
}

@test "mkdataset refuses bad numbers and unknown tasks, naming them" {
	run mkdataset -m 1.2x lfw7
	[ "$status" -eq 2 ]
	assert_output --partial "mkdataset: margin '1.2x' is not a positive number"
	run mkdataset -s 0 lfw7
	[ "$status" -eq 2 ]
	assert_output --partial "size '0'"
	run mkdataset -j x lfw7
	[ "$status" -eq 2 ]
	run mkdataset -d . lfw8
	[ "$status" -eq 1 ]
	assert_output --partial "mkdataset: ./lfw/annotations.txt: no LFW data"
	mkdir -p fake/lfw && : > fake/lfw/annotations.txt
	run mkdataset -d fake lfw8
	[ "$status" -eq 2 ]
	assert_output --partial "mkdataset: unknown task 'lfw8'"
}

@test "mkdataset on a folder: a missing image, a bad box and no matching box are errors" {
	mkdir -p people/Ann people/Bob
	ppmmake rgb:80/40/20 60 60 > people/Ann/a1.ppm
	ppmmake rgb:20/40/80 60 60 > people/Bob/b1.ppm
	printf 'Ann/a1.ppm 10 10 40 40\nBob/b1.ppm 10 10 40 40\n' > boxes
	run mkdataset -s 8 -o out -b boxes people
	assert_success
	# one image each, none is a 4th: all train, label 0 then 1
	[ "$(wc -c < out/train.bin)" -eq $((2 * (1 + 3 * 8 * 8))) ]
	[ "$(wc -c < out/test.bin)" -eq 0 ]
	[ "$(od -An -tu1 -j0 -N1 out/train.bin | tr -d ' ')" = 0 ]
	[ "$(od -An -tu1 -j$((1 + 3 * 64)) -N1 out/train.bin | tr -d ' ')" = 1 ]
	printf 'Ann/a1.ppm 10 10 40 40\nBob/gone.ppm 10 10 40 40\n' > boxes2
	run mkdataset -o out2 -b boxes2 people
	[ "$status" -eq 1 ]
	assert_output --partial "people/Bob/gone.ppm: cannot read image"
	[ ! -e out2/train.bin ]
	printf 'Ann/a1.ppm 10 10 -4 40\n' > boxes3
	run mkdataset -o out3 -b boxes3 people
	[ "$status" -eq 1 ]
	assert_output --partial "facecrop failed on people/Ann/a1.ppm"
	printf 'Cy/c.ppm 1 1 4 4\n' > boxes4
	run mkdataset -o out4 -b boxes4 people
	[ "$status" -eq 1 ]
	assert_output --partial "no box for any image"
}

@test "contact-sheet frames right faces green and wrong ones red, names under them" {
	# a model trained on class 0 alone calls every face class 0
	mkdir d
	for c in 20 60 a0; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > d/test.bin
	printf 'only\nnever\n' > d/labels.txt
	facetrain -o m -l d/labels.txt -n 30 -N 'fc N' -b 3 d/test.bin 2> /dev/null
	run contact-sheet -c 2 -s 32 -o sheet.png m d/test.bin
	assert_success
	assert_output --partial "3 faces, 0 wrong"
	pngtopam sheet.png > sheet.ppm
	# the first cell's frame pixel (4 px margin, then the frame) is pure green
	[ "$(pamcut -left 5 -top 5 -width 1 -height 1 sheet.ppm | pamtopnm -plain | tail -n1 | xargs)" = "0 255 0" ]
	# two cells a row: two rows, the second one cell wide padded white
	set -- $(pamfile -machine sheet.ppm)
	w=$4 h=$5
	[ "$(pamcut -left $((w - 6)) -top $((h - 6)) -width 1 -height 1 sheet.ppm | pamtopnm -plain | tail -n1 | xargs)" = "255 255 255" ]
	# labelled as the other class: every face is wrong and framed red
	for c in 20 60 a0; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 1 > d/test.bin
	run contact-sheet -w -s 32 -o wrong.png m d/test.bin
	assert_output --partial "3 faces, 3 wrong"
	[ "$(pngtopam wrong.png | pamcut -left 5 -top 5 -width 1 -height 1 | pamtopnm -plain | tail -n1 | xargs)" = "255 0 0" ]
}

@test "contact-sheet -p draws an unlabelled stream; bad records are refused" {
	mkdir d
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > d/train.bin
	printf 'only\nnever\n' > d/labels.txt
	facetrain -o m -l d/labels.txt -n 1 -N 'fc N' -b 2 d/train.bin 2> /dev/null
	ppmmake red 32 32 | contact-sheet -p -s 32 -o p.png m -
	pngtopam p.png | pamfile | grep -q 'PPM raw'
	head -c 100 d/train.bin > d/test.bin
	run contact-sheet -s 32 -o x.png m d/test.bin
	[ "$status" -eq 1 ]
	assert_output --partial "d/test.bin: 100 bytes is not a whole number of 32x32 records"
	assert_output --partial "contact-sheet: d/test.bin: refused"
	[ ! -e x.png ]
	run contact-sheet -p -l d/labels.txt -o x.png m -
	[ "$status" -eq 2 ]
}

@test "contact-sheet refuses records beyond the model's classes and labels that are not its names" {
	mkdir d
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > d/test.bin
	printf 'only\nnever\n' > d/labels.txt
	facetrain -o m -n 1 -N 'fc N' -b 2 d/test.bin 2> /dev/null
	printf 'never\nonly\n' > d/labels.txt
	run contact-sheet -o x.png m d/test.bin
	[ "$status" -eq 1 ]
	assert_output --partial 'd/labels.txt:1: label 0 is "never", but m calls it "only"'
	[ ! -e x.png ]
	printf 'only\nnever\n' > d/labels.txt
	ppmmake red 32 32 | cifarpack 2 >> d/test.bin
	run contact-sheet -o x.png m d/test.bin
	[ "$status" -eq 1 ]
	assert_output --partial "d/test.bin: record 2 has label 2, but there are only 2 classes"
	[ ! -e x.png ]
}

@test "contact-sheet takes the stored and input sides from the model" {
	mkdir d
	for c in 20 60 a0; do ppmmake rgb:$c/$c/$c 40 40; done | cifarpack -s 40 0 > d/test.bin
	printf 'only\nnever\n' > d/labels.txt
	facetrain -o m -s 40 -n 1 -N 'fc N' -b 3 d/test.bin 2> /dev/null
	run contact-sheet -o sheet.png m d/test.bin
	assert_success
	assert_output --partial "3 faces, 0 wrong"
}

@test "contact-sheet -o: - is standard output, a link stays a link, a device is written in place" {
	mkdir d
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > d/test.bin
	printf 'only\nnever\n' > d/labels.txt
	facetrain -o m -n 1 -N 'fc N' -b 2 d/test.bin 2> /dev/null
	contact-sheet -o sheet.png m d/test.bin 2> /dev/null
	contact-sheet -o - m d/test.bin > out.png 2> /dev/null
	cmp out.png sheet.png
	[ ! -e ./- ]
	echo old > target.png
	ln -s target.png link.png
	contact-sheet -o link.png m d/test.bin 2> /dev/null
	[ -L link.png ]
	cmp target.png sheet.png
	# a link to a device: written through, the link kept; the device kept
	ln -s /dev/full full
	run contact-sheet -o full m d/test.bin
	assert_failure 1
	assert_output --partial "contact-sheet: full: cannot write the sheet"
	[ -L full ]
	run contact-sheet -o /dev/full m d/test.bin
	assert_failure 1
	[ -c /dev/full ]
	[ -z "$(ls | grep tmp)" ]
}

@test "evaluate -r: - is standard output, a link stays a link, a device is written in place" {
	two_people 40 '5 5 30 30'
	ev=(evaluate -b boxes -w ev -s 8 -c 8 -n 2 -j 1 -T 1)
	"${ev[@]}" -r - people -N 'fc N' -b 2 > out 2> /dev/null
	head -n 1 out | grep -qx '# facekit evaluation: people'
	grep -qi 'precision@1' out
	! grep -q 'report in' out
	[ ! -e ./- ] && [ ! -e ev/report.txt ]
	echo old > target.txt
	ln -s target.txt link.txt
	"${ev[@]}" -r link.txt people -N 'fc N' -b 2 > /dev/null 2>&1
	[ -L link.txt ]
	head -n 1 target.txt | grep -qx '# facekit evaluation: people'
	ln -s /dev/full full
	run "${ev[@]}" -r full people -N 'fc N' -b 2
	assert_failure 1
	assert_output --partial "evaluate: full: cannot write"
	[ -L full ]
	run "${ev[@]}" -r /dev/full people -N 'fc N' -b 2
	assert_failure 1
	[ -c /dev/full ]
	[ -z "$(ls . ev | grep tmp)" ]
}

@test "make-model -o: - is standard output, a link stays a link, a device is written in place; a stopped training stops it" {
	# make-model in a tree of its own, with an evaluate that makes a
	# stand-in model at once (training is evaluate's and facetrain's test)
	mkdir -p tree/scripts data/lfw
	cp "$BATS_TEST_DIRNAME/../scripts/make-model" tree/scripts/
	cat > tree/scripts/evaluate <<'SH'
#!/bin/sh
while getopts d:w:m:s:c:n:T: opt; do [ $opt = w ] && dir=$OPTARG; done
[ -z "${STOP:-}" ] || exit 130	# facetrain was interrupted
mkdir -p "$dir" && echo model > "$dir/model" && echo "lfw7+other: precision@1 1"
SH
	chmod +x tree/scripts/evaluate
	mm=(tree/scripts/make-model -d data -w work)
	"${mm[@]}" -o - > out 2> err
	[ "$(cat out)" = model ]
	grep -q 'precision@1' err
	grep -q 'make-model: wrote - (6 bytes)' err
	[ ! -e ./- ]
	echo old > target.model
	ln -s target.model link.model
	run "${mm[@]}" -o link.model
	assert_success
	assert_output --partial "make-model: wrote link.model (6 bytes)"
	[ -L link.model ]
	[ "$(cat target.model)" = model ]
	ln -s /dev/full full
	run "${mm[@]}" -o full
	assert_failure 1
	assert_output --partial "make-model: full: cannot write"
	[ -L full ]
	run "${mm[@]}" -o /dev/full
	assert_failure 1
	[ -c /dev/full ]
	[ -z "$(ls | grep tmp)" ]
	# training stopped by a signal: make-model stops with its status, no model
	STOP=1 run "${mm[@]}" -o new.model
	[ "$status" -eq 130 ]
	[ ! -e new.model ]
}

@test "mkdataset -o: a link to one of its files stays a link" {
	mkdir -p people/Ann people/Bob
	ppmmake rgb:80/40/20 60 60 > people/Ann/a1.ppm
	ppmmake rgb:20/40/80 60 60 > people/Bob/b1.ppm
	printf 'Ann/a1.ppm 10 10 40 40\nBob/b1.ppm 10 10 40 40\n' > boxes
	mkdir out
	ln -s ../kept.bin out/train.bin
	run mkdataset -s 8 -o out -b boxes people
	assert_success
	[ -L out/train.bin ]
	[ "$(wc -c < kept.bin)" -eq $((2 * (1 + 3 * 8 * 8))) ]
	[ -z "$(ls -a out | grep -v '^\.*$' | grep -v -x -e train.bin -e test.bin -e labels.txt -e dataset.txt)" ]
}

@test "contact-sheet, evaluate and classify-dir give the programs every online CPU by default, or -T N" {
	# the programs, wrapped to note the -T they are given
	mkdir bin
	for p in facefind faceclassify faceeval facetrain; do
		printf '#!/bin/sh\nfor a; do [ "$t" = -T ] && echo "%s $a" >> "%s/threads"; t=$a; done\nexec "%s" "$@"\n' \
			"$p" "$PWD" "$(command -v $p)" > bin/$p
		chmod +x bin/$p
	done
	n=$(nproc)
	mkdir -p d photos
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > d/test.bin
	printf 'only\nnever\n' > d/labels.txt
	facetrain -o m -n 1 -N 'fc N' -b 2 d/test.bin 2> /dev/null
	PATH=$PWD/bin:$PATH contact-sheet -o s.png m d/test.bin 2> /dev/null
	assert_equal "$(sort threads)" "$(printf 'faceclassify %s\nfaceeval %s' $n $n)"
	rm threads
	PATH=$PWD/bin:$PATH contact-sheet -T 3 -o s.png m d/test.bin 2> /dev/null
	assert_equal "$(sort threads)" "$(printf 'faceclassify 3\nfaceeval 3')"
	rm threads
	ppmmake rgb:80/80/80 60 60 | pnmtojpeg > photos/a.jpg
	PATH=$PWD/bin:$PATH classify-dir -T 3 -j 1 m photos > /dev/null 2>&1 || true
	assert_equal "$(sort threads)" "facefind 3"
	rm threads
	two_people 40 '5 5 30 30'
	PATH=$PWD/bin:$PATH evaluate -b boxes -w ev -s 8 -c 8 -n 2 people -N 'fc N' -b 2 > /dev/null 2>&1
	assert_equal "$(sort threads)" "$(printf 'faceeval %s\nfacetrain %s' $n $n)"
	rm threads
	PATH=$PWD/bin:$PATH evaluate -T 2 -b boxes -w ev2 -s 8 -c 8 -n 2 people -N 'fc N' -b 2 > /dev/null 2>&1
	assert_equal "$(sort threads)" "$(printf 'faceeval 2\nfacetrain 2')"
}

@test "classify-dir cuts faces at the model's margin for facefind's boxes, unless -m says" {
	mkdir bin photos
	printf '#!/bin/sh\nfor f; do :; done\necho 4 4 20 20\n' > bin/facefind
	# a facecrop that notes its margin, then does its job
	printf '#!/bin/sh\necho "$2" >> "%s/margins"\nexec "%s" "$@"\n' "$PWD" \
		"$(command -v facecrop)" > bin/facecrop
	chmod +x bin/facefind bin/facecrop
	ppmmake rgb:80/80/80 40 40 | pnmtojpeg > photos/a.jpg
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > train.bin
	printf 'only\nnever\n' > labels.txt
	facetrain -o m -m 1.5 -n 1 -N 'fc N' -b 2 train.bin 2> /dev/null
	PATH=$PWD/bin:$PATH run classify-dir m photos
	assert_success
	assert_output --partial "only"
	# margin 1.5 on LFW-like boxes, 32 of 32, facefind's boxes 1.2 times narrower
	PATH=$PWD/bin:$PATH classify-dir -m 1.1 m photos
	assert_equal "$(cat margins)" "$(printf '1.8\n1.1')"
}

@test "classify-dir -M averages each face with its mirror image, as faceclassify -M does" {
	skip_without_data
	model=$BATS_TEST_DIRNAME/../examples/lfw7+other.model
	photo=$DATA/lfw/images/Tony_Blair/Tony_Blair_0004.jpg
	m=$(faceclassify -i "$model" | awk '$1 == "find-margin" { print $2 }')
	for o in "" -M; do
		facefind "$photo" | facecrop -m "$m" /dev/stdin "$photo" | ppmscale32 |
			faceclassify -k 2 $o "$model" > want$o
		classify-dir -k 2 $o "$model" "$photo" | cut -f3 > got$o
		cat want$o got$o
		cmp want$o got$o
	done
	! cmp -s want want-M
}

@test "classify-dir: one line per face, photo name and box first, photos in name order" {
	# a stand-in facefind (the detector has its own tests): two faces in
	# photos named a*, none in b*, one elsewhere
	mkdir bin photos
	cat > bin/facefind <<'SH'
#!/bin/sh
for f; do :; done
case ${f##*/} in
a*) printf '0 0 20 20\n10 10 20 20\n' ;;
b*) ;;
*) printf '5 5 20 20\n' ;;
esac
SH
	chmod +x bin/facefind
	for n in c1 a1 b1 a2; do ppmmake rgb:80/80/80 40 40 | pnmtojpeg > photos/$n.jpg; done
	ppmmake rgb:80/80/80 40 40 | pnmtopng > photos/d1.PNG
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > train.bin
	printf 'only\nnever\n' > labels.txt
	facetrain -o m -l labels.txt -n 30 -N 'fc N' -b 2 train.bin 2> /dev/null
	PATH=$PWD/bin:$PATH run classify-dir -j 3 m photos
	assert_success
	[ "${#lines[@]}" -eq 6 ]
	# photo, box, then faceclassify's line: index, name, probability
	[ "$(printf '%s\n' "${lines[@]}" | awk -F'\t' '{ split($3, c, " "); print $1 "|" $2 "|" c[1] "|" c[2] }')" = \
	  "$(printf '%s\n' 'photos/a1.jpg|0 0 20 20|0|only' 'photos/a1.jpg|10 10 20 20|1|only' \
		'photos/a2.jpg|0 0 20 20|0|only' 'photos/a2.jpg|10 10 20 20|1|only' \
		'photos/c1.jpg|5 5 20 20|0|only' 'photos/d1.PNG|5 5 20 20|0|only')" ]
	# a photo that cannot be read is named, the others still come out
	# a full disk is said to be one, not blamed on the photos
	PATH=$PWD/bin:$PATH run bash -c 'classify-dir m photos > /dev/full'
	assert_failure 1
	assert_output "classify-dir: cannot write the lines on standard output"
	echo 'not a jpeg' > photos/a3.jpg
	PATH=$PWD/bin:$PATH run classify-dir m photos
	[ "$status" -eq 1 ]
	assert_output --partial "classify-dir: photos/a3.jpg"
	assert_output --partial "photos/c1.jpg"
}

@test "evaluate stops when facetrain is interrupted, keeps the model and resumes it when run again" {
	mkdir -p people/Ann people/Bob
	for i in 1 2 3 4; do
		ppmmake rgb:80/40/$((i * 20)) 40 40 > people/Ann/a$i.ppm
		ppmmake rgb:20/$((i * 20))/80 40 40 > people/Bob/b$i.ppm
		printf 'Ann/a%d.ppm 5 5 30 30\nBob/b%d.ppm 5 5 30 30\n' $i $i >> boxes
	done
	ev=(evaluate -s 8 -c 8 -b boxes -w ev -j 1 -T 1)
	"${ev[@]}" -n 1000000 people -N 'fc N' -b 2 -i 1 > out 2> err 3>&- &
	pid=$!
	for _ in $(seq 600); do
		[ "$(grep -vc '^#' ev/log.tsv 2> /dev/null)" -ge 2 ] && break
		sleep 0.1
	done
	kill -INT "$(pgrep -P $pid -x facetrain)"
	status=0
	wait $pid || status=$?
	cat err
	[ $status -eq 130 ]
	grep -q "evaluate: facetrain was stopped by a signal; ev/model is kept: run the same command to resume" err
	grep -q "interrupted at step" err
	[ ! -e ev/report.txt ]
	# run again (with a smaller -n, not a training setting): the model is
	# resumed, not thrown away, and reported
	run "${ev[@]}" -n 1 people -N 'fc N' -b 2 -i 1
	assert_success
	assert_output --regexp "ev/model has taken [0-9]+ steps already"
	[ -s ev/report.txt ]
}

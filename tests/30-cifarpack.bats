#!/usr/bin/env bats
# cifarpack / cifarunpack: PPM streams <-> CIFAR-10 records.
load helper
load faces

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "real LFW crops survive pack and unpack byte for byte" {
	skip_without_data
	lfw_faces Colin_Powell train 10 > faces.ppm
	run cifarpack 7 faces.ppm
	assert_success
	cifarpack 7 < faces.ppm > rec.bin
	[ "$(stat -c %s rec.bin)" -eq $((10 * 3073)) ]
	cifarunpack -l labels.txt rec.bin > back.ppm
	cmp faces.ppm back.ppm
	[ "$(sort -u labels.txt)" = 7 ]
	[ "$(wc -l < labels.txt)" -eq 10 ]
}

@test "a record is the label, then the red, green and blue planes (as pamchannel sees them)" {
	skip_without_data
	lfw_faces George_W_Bush train 1 > face.ppm
	cifarpack 200 face.ppm > rec.bin
	[ "$(head -c 1 rec.bin | od -An -tu1 | tr -d ' ')" = 200 ]
	for c in 0 1 2; do
		pamchannel -infile face.ppm -tupletype GRAYSCALE $c | pamtopnm | tail -c 1024 > want
		tail -c +$((2 + c * 1024)) rec.bin | head -c 1024 > got
		cmp want got
	done
}

@test "-s 40 packs and unpacks 40x40 images" {
	skip_without_data
	lfw_faces Tony_Blair train 5 40 > faces.ppm
	cifarpack -s 40 3 < faces.ppm > rec.bin
	[ "$(stat -c %s rec.bin)" -eq $((5 * 4801)) ]
	cifarunpack -s 40 < rec.bin | cmp - faces.ppm
}

@test "an image of another size is an error naming its index; nothing after it is written" {
	ppmmake red 32 32 > a.ppm
	ppmmake blue 40 40 > b.ppm
	cat a.ppm a.ppm b.ppm a.ppm > s.ppm
	run cifarpack 1 s.ppm
	assert_failure 1
	assert_output --partial "image 2 is 40x40, not 32x32"
	cifarpack 1 s.ppm > rec.bin 2>/dev/null || true
	[ "$(stat -c %s rec.bin)" -eq $((2 * 3073)) ]
}

@test "a label outside 0..255 or not a number is a usage error" {
	run cifarpack 256 /dev/null
	assert_failure 2
	assert_output --partial '"256"'
	run cifarpack x /dev/null
	assert_failure 2
	run cifarpack
	assert_failure 2
	assert_output --partial usage
	run cifarpack -s 0 1
	assert_failure 2
}

@test "input that is not an image is refused" {
	echo "hello" > bad.txt
	run cifarpack 1 bad.txt
	assert_failure 1
	assert_output --partial "cifarpack: bad.txt: image 0"
}

@test "images over the pixel limit are refused before they are read; -p changes it" {
	printf 'P6\n16384 16384\n255\n' > huge.ppm
	run cifarpack 1 huge.ppm
	assert_failure 1
	assert_output --partial "huge.ppm: image 0: image of 16384x16384 pixels is over the limit of 119304647 pixels"
	ppmmake red 32 32 > p.ppm
	run cifarpack -p 1023 1 p.ppm
	assert_failure 1
	assert_output --partial "over the limit of 1023 pixels"
	cifarpack -p 1024 1 p.ppm | cmp - <(cifarpack 1 p.ppm)
	run cifarpack -p 0 1 p.ppm
	assert_failure 2
}

@test "empty input gives empty output" {
	run cifarpack 1 /dev/null
	assert_success
	assert_output ""
	: > empty.bin
	run cifarunpack empty.bin
	assert_success
	assert_output ""
}

@test "a file that is not a whole number of records is refused before anything is written" {
	ppmmake green 32 32 | cifarpack 4 > one.bin
	cat one.bin one.bin > two.bin
	head -c 6000 two.bin > cut.bin
	run cifarunpack cut.bin
	assert_failure 1
	assert_output --partial "6000 bytes is not a whole number of 32x32 records"
	cifarunpack cut.bin > out.ppm 2>/dev/null || true
	[ ! -s out.ppm ]
	# read as 40x40 records, a 32x32 file is ragged too
	run cifarunpack -s 40 two.bin
	assert_failure 1
	assert_output --partial "not a whole number of 40x40 records"
}

@test "a short final record on a pipe is an error, after the whole ones" {
	ppmmake green 32 32 | cifarpack 4 > one.bin
	cat one.bin one.bin > two.bin
	head -c 6000 two.bin | cifarunpack > out.ppm 2> err || status=$?
	[ "${status:-0}" -eq 1 ]
	grep -q "short final record (2927 of 3073 bytes)" err
	ppmmake green 32 32 | cmp - out.ppm
}

@test "a full disk is an error" {
	ppmmake red 32 32 > a.ppm
	run sh -c 'cifarpack 1 a.ppm > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
	cifarpack 1 a.ppm > rec.bin
	run sh -c 'cifarunpack rec.bin > /dev/full'
	assert_failure 1
	run cifarunpack -l /dev/full rec.bin
	assert_failure 1
	assert_output --partial "/dev/full"
}

@test "-l: the labels file appears whole, a link stays a link, a FIFO is written in place, - is refused" {
	ppmmake red 32 32 | cifarpack 3 > rec.bin
	echo old > target
	ln -s target link
	cifarunpack -l link rec.bin > /dev/null
	[ -L link ]
	[ "$(cat target)" = 3 ]
	mkfifo fifo
	cat fifo > got &
	cifarunpack -l fifo rec.bin > /dev/null
	wait $!
	[ -p fifo ]
	[ "$(cat got)" = 3 ]
	# a short file: no labels file at all
	printf 'x' >> rec.bin
	run cifarunpack -l new rec.bin
	assert_failure 1
	[ ! -e new ]
	run cifarunpack -l - rec.bin
	assert_failure 2
	assert_output --partial "cifarunpack: -l -: standard output carries the images"
	[ -z "$(ls | grep tmp)" ]
}

@test "-h prints the usage and succeeds; a bad option is a usage error" {
	run cifarpack -h
	assert_success
	assert_output --partial "usage: cifarpack"
	run cifarunpack -h
	assert_success
	assert_output --partial "usage: cifarunpack"
	run cifarunpack -x
	assert_failure 2
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/cifarpack.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/cifarunpack.1"
}

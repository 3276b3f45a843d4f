#!/usr/bin/env bats
# faceclassify: probabilities from a hand-made model (tests/unit/hand_model.c:
# 1x1 images, logits 10*(R, G, B)/255, classes red, green, blue) checked
# against softmax worked out here with awk.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	"$(dirname "$(command -v faceclassify)")/../tests/hand_model" hand.bin
}

# softmax of 10*(r, g, b)/255 as "%.6f" for class k (0, 1, 2)
p() {
	awk -v r="$1" -v g="$2" -v b="$3" -v k="$4" 'BEGIN {
		l[0] = 10 * r / 255; l[1] = 10 * g / 255; l[2] = 10 * b / 255
		s = exp(l[0]) + exp(l[1]) + exp(l[2])
		printf "%.6f", exp(l[k]) / s }'
}

@test "one line per image: index, best class, its probability" {
	{ ppmmake rgb:ff/00/00 1 1; ppmmake rgb:00/ff/00 1 1; ppmmake rgb:10/20/f0 1 1; } > s.ppm
	run faceclassify hand.bin s.ppm
	assert_success
	assert_line -n 0 "0 red $(p 255 0 0 0)"
	assert_line -n 1 "1 green $(p 0 255 0 1)"
	assert_line -n 2 "2 blue $(p 16 32 240 2)"
	[ "${#lines[@]}" -eq 3 ]
}

@test "-k 3 lists the next classes in order of probability" {
	ppmmake rgb:10/80/40 1 1 | faceclassify -k 3 hand.bin > out
	[ "$(cat out)" = "0 green $(p 16 128 64 1) blue $(p 16 128 64 2) red $(p 16 128 64 0)" ]
	# -k beyond the class count lists them all
	ppmmake rgb:10/80/40 1 1 | faceclassify -k 9 hand.bin | cmp - out
}

@test "-t P prints unknown when the best probability is below P" {
	# red and green tie at e^3.92 / (2 e^3.92 + 1) = 0.495
	ppmmake rgb:64/64/00 1 1 > tie.ppm
	run faceclassify -t 0.5 hand.bin tie.ppm
	assert_output "0 unknown $(p 100 100 0 0)"
	run faceclassify -t 0.49 hand.bin tie.ppm
	assert_output "0 red $(p 100 100 0 0)"
}

@test "-j gives JSON lines" {
	command -v jq > /dev/null || skip "jq is not installed"
	{ ppmmake rgb:ff/00/00 1 1; ppmmake rgb:00/00/ff 1 1; } | faceclassify -j -k 2 hand.bin > out
	[ "$(wc -l < out)" -eq 2 ]
	[ "$(sed -n 2p out | jq -r '"\(.index) \(.class) \(.next[0].class)"')" = "1 blue red" ]
	[ "$(sed -n 1p out | jq -r .prob)" = "$(p 255 0 0 0 | sed 's/0*$//')" ]
}

@test "a face of any size is scaled to the model's input, as ppmscale32 would" {
	{ ppmmake red 1 1; ppmmake red 2 2; ppmmake rgb:10/20/f0 5 3; } > s.ppm
	run faceclassify hand.bin s.ppm
	assert_success
	assert_line -n 0 "0 red $(p 255 0 0 0)"
	assert_line -n 1 "1 red $(p 255 0 0 0)"
	assert_line -n 2 "2 blue $(p 16 32 240 2)"
}

@test "a model stored at 36 for a 32 crop: 36x36 centre-cropped, 32x32 whole, others scaled" {
	printf 'a\nb\n' > labels.txt
	{ ppmmake red 36 36 | cifarpack -s 36 0; ppmmake blue 36 36 | cifarpack -s 36 1; } > rec.bin
	facetrain -o m.bin -l labels.txt -N 'fc N' -s 36 -c 32 -n 3 -b 2 rec.bin 2> /dev/null
	# a face whose every side differs: left half red, right half blue, a white frame
	pgmramp -lr 36 36 | pgmtoppm red-blue | pnmpad -white -left 2 -right 2 -top 2 -bottom 2 > f40.ppm
	pamcut -left 2 -top 2 -width 36 -height 36 f40.ppm > f36.ppm
	pamcut -left 2 -top 2 -width 32 -height 32 f36.ppm > f32.ppm
	[ "$(faceclassify m.bin f36.ppm)" = "$(faceclassify m.bin f32.ppm)" ]
	[ "$(faceclassify m.bin f40.ppm)" = "$(ppmscale32 f40.ppm | faceclassify m.bin)" ]
	[ "$(faceclassify m.bin f40.ppm)" != "$(faceclassify m.bin f32.ppm)" ]
}

@test "-i prints the crop margin, sides, margin for facefind's boxes and class names" {
	run faceclassify -i hand.bin
	assert_success
	# hand.bin does not say its margin: it is taken as 1.25
	assert_output "$(printf 'margin 1.25\nstored 1\ninput 1\nfind-margin 1.5\nclass red\nclass green\nclass blue')"
	printf 'a\nb\n' > labels.txt
	{ ppmmake red 36 36 | cifarpack -s 36 0; ppmmake blue 36 36 | cifarpack -s 36 1; } > rec.bin
	facetrain -o m.bin -l labels.txt -N 'fc N' -s 36 -m 1.5 -n 1 -b 2 rec.bin 2> /dev/null
	run faceclassify -i m.bin
	# around facefind's boxes: 1.5 * 1.2 * 32/36
	assert_output "$(printf 'margin 1.5\nstored 36\ninput 32\nfind-margin 1.6\nclass a\nclass b')"
	run faceclassify -i m.bin extra.ppm
	assert_failure 2
}

@test "-T N: the same lines for every thread count" {
	skip_without_data
	load faces
	lfw_faces Colin_Powell test 6 > faces.ppm
	m=$BATS_TEST_DIRNAME/../examples/lfw7+other.model
	faceclassify -T 1 -k 3 "$m" faces.ppm > one
	faceclassify -T 2 -k 3 "$m" faces.ppm > two
	faceclassify -k 3 "$m" faces.ppm > all
	[ "$(wc -l < one)" -eq 6 ]
	cmp one two
	cmp one all
	run faceclassify -T 0 "$m" faces.ppm
	assert_failure 2
	assert_output --partial '-T: "0"'
}

@test "-M averages a face with its mirror image: a face and its mirror get the same line" {
	# a model of 4x4 faces whose scores depend on which side is bright
	printf 'left\nright\n' > lr.txt
	{ pnmpad -black -left 2 <(ppmmake white 2 4) | cifarpack -s 4 1
	  pnmpad -black -right 2 <(ppmmake white 2 4) | cifarpack -s 4 0; } > lr.bin
	facetrain -o lr.model -l lr.txt -N 'fc N' -s 4 -F -b 2 -n 20 -e 0 lr.bin 2> /dev/null
	pnmpad -black -left 1 <(ppmmake rgb:c0/80/40 3 4) > face.ppm
	pamflip -lr face.ppm > mirror.ppm
	[ "$(faceclassify -k 2 lr.model face.ppm)" != "$(faceclassify -k 2 lr.model mirror.ppm)" ]
	faceclassify -M -k 2 lr.model face.ppm > a
	faceclassify -M -k 2 lr.model mirror.ppm > b
	cmp a b
	# the mean of the two probabilities without -M
	cat face.ppm mirror.ppm | faceclassify -k 2 lr.model > both
	# (each printed to 6 decimals: the two may differ by 1e-6)
	want=$(awk '{ for (i = 2; i < NF; i += 2) if ($i == "left") p += $(i + 1) / 2 }
		END { printf "%.9f", p }' both)
	awk -v w="$want" '{ for (i = 2; i < NF; i += 2) if ($i == "left") d = $(i + 1) - w }
		END { exit !(d < 2e-6 && d > -2e-6) }' a
}

@test "input that is not an image, and a model that is not one, are refused" {
	echo "hello" > bad.txt
	run faceclassify hand.bin bad.txt
	assert_failure 1
	assert_output --partial "faceclassify: bad.txt: image 0"
	run sh -c 'ppmmake red 1 1 | faceclassify bad.txt'
	assert_failure 1
	# the file named once
	assert_output "faceclassify: bad.txt: truncated: 6 bytes, shorter than the 20-byte header"
	run faceclassify missing.bin bad.txt
	assert_failure 1
	assert_output "faceclassify: missing.bin: No such file or directory"
}

@test "images over the pixel limit are refused before they are read; -p changes it" {
	printf 'P6\n16384 16384\n255\n' > huge.ppm
	run faceclassify hand.bin huge.ppm
	assert_failure 1
	assert_output --partial "huge.ppm: image 0: image of 16384x16384 pixels is over the limit of 119304647 pixels"
	{ ppmmake red 1 1; ppmmake red 1 1; } > s.ppm
	run faceclassify -p 0 hand.bin s.ppm
	assert_failure 2
	run faceclassify -p 1 hand.bin s.ppm
	assert_success
	[ "${#lines[@]}" -eq 2 ]
}

@test "empty input gives no lines" {
	run faceclassify hand.bin /dev/null
	assert_success
	assert_output ""
}

@test "a full disk is an error" {
	run sh -c 'ppmmake red 1 1 | faceclassify hand.bin > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
}

@test "usage errors and -h" {
	run faceclassify
	assert_failure 2
	run faceclassify -t 2 hand.bin
	assert_failure 2
	run faceclassify -k 0 hand.bin
	assert_failure 2
	run faceclassify -h
	assert_success
	assert_output --partial "usage: faceclassify"
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/faceclassify.1"
}

#!/usr/bin/env bats
# faceeval: figures on a hand-made model (tests/unit/hand_model.c) and 1x1
# records whose every prediction is known, worked out by hand below.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	"$(dirname "$(command -v faceeval)")/../tests/hand_model" hand.bin
	# 1x1 records "label R G B"; the model calls a pixel by its strongest
	# channel (0 red, 1 green, 2 blue).  \310 = 200, \012 = 10.
	R='\310\012\012' G='\012\310\012' B='\012\012\310'
	printf "\000$R\000$R\000$R\000$G\001$G\001$G\001$R\002$B\002$R" > rec.bin
}

# By hand, averaged weights: rows are the true class, columns the predicted
#   red   3 1 0    green 1 2 0    blue 1 0 1
# precision@1 = 6/9; precision = column's diagonal share, recall = row's:
#   red   3/5 = 0.6,    3/4 = 0.75, F1 2*.6*.75/1.35 = 0.6667, support 4
#   green 2/3,          2/3,        F1 0.6667,                 support 3
#   blue  1/1,          1/2,        F1 2*.5/1.5 = 0.6667,      support 2

@test "precision@1 and its counts" {
	run faceeval hand.bin rec.bin
	assert_success
	assert_line "precision@1 0.6667 (6 of 9)"
}

@test "per-class precision, recall, F1 and support" {
	faceeval hand.bin rec.bin > out
	[ "$(awk '$1 == "red" && NF == 5 { print $2, $3, $4, $5 }' out)" = "0.6000 0.7500 0.6667 4" ]
	[ "$(awk '$1 == "green" && NF == 5 { print $2, $3, $4, $5 }' out)" = "0.6667 0.6667 0.6667 3" ]
	[ "$(awk '$1 == "blue" && NF == 5 { print $2, $3, $4, $5 }' out)" = "1.0000 0.5000 0.6667 2" ]
}

@test "the confusion matrix has the class names on both sides" {
	faceeval hand.bin rec.bin > out
	[ "$(sed -n '/^confusion/{n;p}' out | awk '{ print $1, $2, $3 }')" = "red green blue" ]
	sed -n '/^confusion/,$p' out | tail -n +3 > m
	[ "$(awk '$1 == "red"' m | awk '{ print $2, $3, $4 }')" = "3 1 0" ]
	[ "$(awk '$1 == "green"' m | awk '{ print $2, $3, $4 }')" = "1 2 0" ]
	[ "$(awk '$1 == "blue"' m | awk '{ print $2, $3, $4 }')" = "1 0 1" ]
}

# Raw weights: the red weight is -10, so a red pixel's logits are
# (-7.84, 0.39, 0.39) and the tie goes to green: every red pixel is green.
#   red 0 4 0   green 0 3 0   blue 0 1 1: 4/9; red never predicted: 0s;
#   green precision 3/8 = 0.375, recall 1, F1 2*.375/1.375 = 0.5455
@test "-r uses the raw weights" {
	faceeval -r hand.bin rec.bin > out
	grep -qx "precision@1 0.4444 (4 of 9)" out
	[ "$(awk '$1 == "red" && NF == 5 { print $2, $3, $4, $5 }' out)" = "0.0000 0.0000 0.0000 4" ]
	[ "$(awk '$1 == "green" && NF == 5 { print $2, $3, $4 }' out)" = "0.3750 1.0000 0.5455" ]
}

@test "-M averages each face with its mirror image: a face and its mirror are named alike" {
	# a model of 4x4 faces that tells which side is bright
	printf 'left\nright\n' > lr.txt
	{ pnmpad -black -left 2 <(ppmmake white 2 4) | cifarpack -s 4 1
	  pnmpad -black -right 2 <(ppmmake white 2 4) | cifarpack -s 4 0; } > lr.bin
	facetrain -o lr.model -l lr.txt -N 'fc N' -s 4 -F -b 2 -n 20 -e 0 lr.bin 2> /dev/null
	run faceeval lr.model lr.bin
	assert_line "precision@1 1.0000 (2 of 2)"
	run faceeval -M lr.model lr.bin
	assert_success
	assert_line "precision@1 0.5000 (1 of 2)"
	# 1x1 records are their own mirror: nothing changes
	faceeval hand.bin rec.bin > plain
	faceeval -M hand.bin rec.bin | cmp - plain
}

@test "-j gives the same figures as JSON" {
	command -v jq > /dev/null || skip "jq is not installed"
	faceeval -j hand.bin rec.bin > out.json
	[ "$(jq -r '"\(.precision_at_1) \(.correct) \(.total)"' out.json)" = "0.666667 6 9" ]
	[ "$(jq -r '.classes[0] | "\(.name) \(.precision) \(.recall) \(.support)"' out.json)" = "red 0.6 0.75 4" ]
	[ "$(jq -c .confusion out.json)" = "[[3,1,0],[1,2,0],[1,0,1]]" ]
}

@test "several record files count as one set" {
	head -c 16 rec.bin > a.bin
	tail -c +17 rec.bin > b.bin
	run faceeval hand.bin a.bin b.bin
	assert_line "precision@1 0.6667 (6 of 9)"
}

@test "a label beyond the class count is refused, naming the record" {
	cp rec.bin bad.bin
	printf '\003\310\012\012' >> bad.bin
	run faceeval hand.bin bad.bin
	assert_failure 1
	assert_output --partial "bad.bin: record 9 has label 3, but there are only 3 classes"
}

@test "a labels file that disagrees with the model's names is refused" {
	# beside the records, as mkdataset writes it
	printf 'red\nblue\ngreen\n' > labels.txt
	run faceeval hand.bin rec.bin
	assert_failure 1
	assert_output --partial 'labels.txt:2: label 1 is "blue", but hand.bin calls it "green"'
	# named with -l
	rm labels.txt
	printf 'red\ngreen\nblue\nwhite\n' > four.txt
	run faceeval -l four.txt hand.bin rec.bin
	assert_failure 1
	assert_output --partial "four.txt names 4 classes, but hand.bin has only 3"
	printf 'red\ngreen\nblue\n' > same.txt
	run faceeval -l same.txt hand.bin rec.bin
	assert_success
	assert_line "precision@1 0.6667 (6 of 9)"
}

@test "records of a task with fewer classes: their labels file may name the first ones" {
	printf 'red\ngreen\n' > two.txt
	printf '\000\310\012\012\001\012\310\012' > rg.bin
	run faceeval -l two.txt hand.bin rg.bin
	assert_success
	assert_line "precision@1 1.0000 (2 of 2)"
	# but a record labelled beyond the file's names is refused
	run faceeval -l two.txt hand.bin rec.bin
	assert_failure 1
	assert_output --partial "rec.bin: record 7 has label 2, but there are only 2 classes"
	assert_output --partial "two.txt names the records' classes"
}

@test "-T N: the same figures for every thread count" {
	for t in 1 2 3; do faceeval -T $t -j hand.bin rec.bin > out.$t; done
	faceeval -j hand.bin rec.bin > out.all
	cmp out.1 out.2
	cmp out.1 out.3
	cmp out.1 out.all
	run faceeval -T 65 hand.bin rec.bin
	assert_failure 2
}

@test "-T N: the shipped model gives the same figures on real faces for every thread count" {
	skip_without_data
	load faces
	n=70
	[ "${FACEKIT_SAN:-0}" = 1 ] && n=10
	lfw_faces George_W_Bush test $n 40 | cifarpack -s 40 3 > bush.bin
	m=$BATS_TEST_DIRNAME/../examples/lfw7+other.model
	faceeval -T 1 -j "$m" bush.bin > out.1
	faceeval -T 2 -j "$m" bush.bin > out.2
	cmp out.1 out.2
	[ "$(jq .total out.1)" -eq $n ]
}

@test "truncated, empty and other-size record files are refused" {
	head -c 10 rec.bin > cut.bin
	run faceeval hand.bin cut.bin
	assert_failure 1
	assert_output --partial "10 bytes is not a whole number of 1x1 records"
	assert_output --partial "hand.bin takes 1x1 records"
	: > empty.bin
	run faceeval hand.bin empty.bin
	assert_failure 1
	assert_output --partial "no records"
	ppmmake red 32 32 | cifarpack 0 > big.bin
	run faceeval hand.bin big.bin
	assert_failure 1
	assert_output --partial "3073 bytes is not a whole number of 1x1 records"
}

@test "a file that is not a model is refused" {
	echo "not a model" > fake.bin
	run faceeval fake.bin rec.bin
	assert_failure 1
	# the file named once
	assert_output "faceeval: fake.bin: truncated: 12 bytes, shorter than the 20-byte header"
	head -c 100 hand.bin > cut-model.bin
	run faceeval cut-model.bin rec.bin
	assert_failure 1
	run faceeval missing.bin rec.bin
	assert_failure 1
	assert_output "faceeval: missing.bin: No such file or directory"
}

@test "a full disk is an error" {
	run sh -c 'faceeval hand.bin rec.bin > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
}

@test "usage errors and -h" {
	run faceeval hand.bin
	assert_failure 2
	assert_output --partial "usage: faceeval"
	run faceeval -h
	assert_success
	assert_output --partial "usage: faceeval"
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/faceeval.1"
}

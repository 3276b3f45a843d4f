#!/usr/bin/env bats
# facecollect: faces of real photos into a faces folder, sorted only when
# certain; the manifest; bad files skipped and counted; a stopped run
# continued; one writer at a time.
load helper
load man-examples
bats_require_minimum_version 1.5.0

L=
setup() {
	skip_without_data
	cd "$BATS_TEST_TMPDIR"
	L=$DATA/lfw/images
}

# photos/: two people of LFW (names with a space and a non-ASCII letter;
# the second's photo a PNG), and a group photo of seven faces at the top
arrange() {
	mkdir -p "photos/Tony Blair" "photos/Jacques Chirac Élysée"
	cp "$L"/Tony_Blair/Tony_Blair_000[1-3].jpg "photos/Tony Blair/"
	jpegtopnm "$L"/Jacques_Chirac/Jacques_Chirac_0002.jpg 2> /dev/null |
		pnmtopng > "photos/Jacques Chirac Élysée/Jacques_Chirac_0002.png"
	cp "$DATA"/dlib-faces/2008_002470.jpg photos/
}

@test "one face in a person's folder goes to the person, the rest to unsorted; a PNG photo too" {
	arrange
	run facecollect -o faces photos
	[ "$status" -eq 0 ] || fail "$output"
	[ -f "faces/Tony Blair/Tony_Blair_0001-1.png" ]
	[ -f "faces/Jacques Chirac Élysée/Jacques_Chirac_0002-1.png" ]
	[ "$(ls faces/unsorted | wc -l)" -eq 7 ]
	# facefind on the same photo finds as many faces as went to unsorted
	[ "$(facefind "$DATA"/dlib-faces/2008_002470.jpg | wc -l)" -eq 7 ]
	assert_output --partial "5 photos read: 11 faces, 4 to person folders, 7 unsorted"
}

@test "a photo with two faces in a person's folder gives no face to the person" {
	mkdir -p "photos/Someone"
	cp "$DATA"/dlib-faces/2008_002470.jpg photos/Someone/
	run facecollect -o faces photos
	[ "$status" -eq 0 ]
	[ ! -e faces/Someone ]
	[ "$(ls faces/unsorted | wc -l)" -eq 7 ]
}

@test "the face images are upright PNGs of the asked side, the face in the middle" {
	arrange
	facecollect -o faces -s 64 photos
	run pngtopnm "faces/Tony Blair/Tony_Blair_0001-1.png"
	[ "$status" -eq 0 ]
	pngtopnm "faces/Tony Blair/Tony_Blair_0001-1.png" | pamfile | grep -q '64 by 64'
	# the same face cut by facecrop from the manifest's box at the same
	# margin, and scaled by ppmscale32
	grep '^Tony Blair/Tony_Blair_0001-1.png' faces/manifest.txt | cut -f3 |
		facecrop -m 1.25 - "$L"/Tony_Blair/Tony_Blair_0001.jpg | ppmscale32 -s 64 > want.ppm
	pngtopnm "faces/Tony Blair/Tony_Blair_0001-1.png" > got.ppm
	cmp want.ppm got.ppm
}

@test "the manifest names face, photo, box, neighbours and eyes for every face" {
	arrange
	facecollect -o faces photos
	head -n 1 faces/manifest.txt | grep -q '^# facecollect manifest 1'
	[ "$(grep -vc '^#' faces/manifest.txt)" -eq 11 ]
	run awk -F'\t' '!/^#/ && (NF != 5 || $2 !~ /^\// || split($3, b, " ") != 5 || $4 !~ /^[0-9]+$/ || $5 !~ /^[01]$/)' faces/manifest.txt
	[ -z "$output" ] || fail "bad lines: $output"
	line=$(grep '^Tony Blair/Tony_Blair_0001-1.png' faces/manifest.txt)
	[ "$(cut -f2 <<< "$line")" = "$PWD/photos/Tony Blair/Tony_Blair_0001.jpg" ]
	# the box is facefind -e's
	box=$(facefind -e "$L"/Tony_Blair/Tony_Blair_0001.jpg)
	[ "$(cut -f3 <<< "$line" | awk '{ printf "%g %g %g %g %.4g\n", $1, $2, $3, $4, $5 }')" = \
	  "$(awk '{ printf "%g %g %g %g %.4g\n", $1, $2, $3, $4, $5 }' <<< "$box")" ]
	[ "$(cut -f5 <<< "$line")" = 1 ]
	# every face file of the manifest is there
	grep -v '^#' faces/manifest.txt | cut -f1 | while IFS= read -r f; do
		[ -f "faces/$f" ] || fail "faces/$f missing"
	done
}

@test "a photo without a face gets a line, and is not read again" {
	mkdir photos
	cp "$DATA"/dlib-faces/dogs.jpg photos/
	run facecollect -o faces photos
	[ "$status" -eq 0 ]
	grep -q "^-	$PWD/photos/dogs.jpg	-" faces/manifest.txt
	run facecollect -o faces photos
	assert_output --partial "0 photos read"
	assert_output --partial "1 done before"
}

@test "a second run reads only new photos and keeps every name" {
	arrange
	facecollect -o faces photos
	before=$(ls -R faces | md5sum)
	cp "$L"/Tony_Blair/Tony_Blair_0004.jpg "photos/Tony Blair/"
	run facecollect -o faces photos
	[ "$status" -eq 0 ]
	assert_output --partial "1 photos read: 1 faces"
	assert_output --partial "5 done before"
	[ -f "faces/Tony Blair/Tony_Blair_0004-1.png" ]
	[ "$(grep -vc '^#' faces/manifest.txt)" -eq 12 ]
}

@test "a faces folder keeps one margin and side: a second run takes them, refuses others" {
	mkdir photos
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg photos/
	facecollect -o faces -m 1.5 -s 64 photos
	sed -n 2p faces/manifest.txt | grep -qx '# margin=1.5 side=64'
	cp "$L"/Tony_Blair/Tony_Blair_0002.jpg photos/
	run facecollect -o faces -m 1.25 photos
	[ "$status" -eq 1 ]
	assert_output --partial "cut with margin 1.5 at side 64"
	facecollect -o faces photos
	pngtopnm faces/unsorted/Tony_Blair_0002-1.png | pamfile | grep -q '64 by 64'
	grep '^unsorted/Tony_Blair_0002-1.png' faces/manifest.txt | cut -f3 |
		facecrop -m 1.5 - "$L"/Tony_Blair/Tony_Blair_0002.jpg | ppmscale32 -s 64 > want.ppm
	pngtopnm faces/unsorted/Tony_Blair_0002-1.png | cmp - want.ppm
	# and mkdataset passes the margin on, so that classify-dir cuts
	# facefind's boxes as these were cut (1.5 at the stored side 40, the
	# model's input 32 its centre)
	mkdir faces/a faces/b
	cp faces/unsorted/*.png faces/a/; cp faces/unsorted/*.png faces/b/
	mkdataset -o ds faces
	facetrain -o m.model -N 'conv 5 8; pool 3 2; fc N' -b 4 -n 2 ds/train.bin 2> /dev/null
	faceclassify -i m.model | grep -qx 'find-margin 1.2'
}

@test "two photos of one name in two folders get two face names" {
	mkdir -p photos/a photos/b
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg photos/a/x.jpg
	cp "$L"/Colin_Powell/Colin_Powell_0001.jpg photos/b/x.jpg
	facecollect -o faces photos/a/x.jpg photos/b/x.jpg
	[ -f faces/unsorted/x-1.png ] && [ -f faces/unsorted/x~2-1.png ]
	! cmp faces/unsorted/x-1.png faces/unsorted/x~2-1.png
}

@test "a file that is no photo is named, skipped and counted, and the run exits 1" {
	mkdir -p "photos/Tony Blair"
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg "photos/Tony Blair/"
	echo "a note" > "photos/Tony Blair/notes.txt"
	head -c 2000 "$L"/Tony_Blair/Tony_Blair_0002.jpg > "photos/Tony Blair/cut.jpg"
	run facecollect -o faces photos
	[ "$status" -eq 1 ]
	assert_output --partial "photos/Tony Blair/notes.txt: skipped"
	assert_output --partial "photos/Tony Blair/cut.jpg: skipped"
	assert_output --partial "1 photos read: 1 faces"
	assert_output --partial "2 skipped"
	[ -f "faces/Tony Blair/Tony_Blair_0001-1.png" ]
	! grep -q 'notes.txt\|cut.jpg' faces/manifest.txt
}

@test "a photo over the pixel limit is skipped, named" {
	mkdir photos
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg photos/
	run facecollect -o faces -p 10000 photos
	[ "$status" -eq 1 ]
	assert_output --partial "Tony_Blair_0001.jpg: skipped"
	[ "$(ls faces/unsorted | wc -l)" -eq 0 ]
}

@test "the default pixel limit is facefind's for the same threads and -r" {
	mkdir photos
	printf 'P5\n16384 16384\n255\n' > photos/huge.pgm
	for r in "" -r; do
		n=$(facefind -T 2 -h | sed -n 's/.*default MAXPIXELS here: \([0-9]*\) (\([0-9]*\) with -r)$/\1 \2/p')
		[ -z "$r" ] && n=${n% *} || n=${n#* }
		run facecollect -T 2 $r -o faces photos
		[ "$status" -eq 1 ]
		assert_output --partial "huge.pgm: skipped: image of 16384x16384 pixels is over the limit of $n pixels"
	done
}

@test "a write that fails leaves no half-written file, and the next run continues" {
	arrange
	# files over 4 KiB cannot be written: the first face PNG fails
	run bash -c 'trap "" XFSZ; ulimit -f 4; facecollect -o faces photos'
	[ "$status" -eq 1 ]
	[ -z "$(find faces -name '.*.tmp')" ] || fail "temporary files left: $(find faces -name '.*.tmp')"
	[ "$(grep -vc '^#' faces/manifest.txt)" -eq 0 ]
	run facecollect -o faces photos
	[ "$status" -eq 0 ]
	assert_output --partial "5 photos read: 11 faces"
	[ "$(find faces -name '*.png' | wc -l)" -eq 11 ]
}

@test "a second facecollect on the same faces folder is refused" {
	mkdir -p photos faces
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg photos/
	touch faces/manifest.txt
	flock faces/manifest.txt sleep 3 &
	sleep 0.5
	run facecollect -o faces photos
	wait
	[ "$status" -eq 1 ]
	assert_output --partial "another facecollect is writing to faces"
}

@test "the faces folder inside the photos folder is not collected again" {
	arrange
	facecollect -o photos/faces photos
	run facecollect -o photos/faces photos
	[ "$status" -eq 0 ]
	assert_output --partial "0 photos read"
}

@test "bad usage exits 2 and names the option" {
	run facecollect
	[ "$status" -eq 2 ]
	run facecollect -s 3 photos
	[ "$status" -eq 2 ]
	assert_output --partial '-s: "3"'
	run facecollect -T 0 photos
	[ "$status" -eq 2 ]
	run facecollect -h
	[ "$status" -eq 0 ]
	assert_output --partial "usage: facecollect"
}

@test "facedups: a photo saved again smaller is a near-duplicate, another photo is not" {
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg a.jpg
	jpegtopnm a.jpg | pnmscale 0.7 | pnmtojpeg -quality 50 > a2.jpg
	cp "$L"/Tony_Blair/Tony_Blair_0002.jpg b.jpg
	jpegtopnm b.jpg > b.ppm
	pnmtopng b.ppm > b.png
	run facedups a.jpg b.jpg a2.jpg b.png
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '1\ta.jpg\n2\tb.jpg\n1\ta2.jpg\n2\tb.png')" ]
	# names on standard input, and -d 64 puts everything in one group
	run bash -c 'printf "a.jpg\nb.jpg\n" | facedups -d 64'
	[ "$output" = "$(printf '1\ta.jpg\n1\tb.jpg')" ]
}

@test "facedups: a file that is no image fails, naming the problem; so does a full disk; bad -d is a usage error" {
	cp "$L"/Tony_Blair/Tony_Blair_0001.jpg a.jpg
	run bash -c 'facedups a.jpg > /dev/full'
	assert_failure 1
	assert_output --partial "facedups: write error on standard output"
	echo hello > note.txt
	run facedups a.jpg note.txt
	[ "$status" -eq 1 ]
	assert_output --partial "facedups:"
	run facedups a.jpg missing.jpg
	[ "$status" -eq 1 ]
	assert_output --partial "missing.jpg: cannot read image"
	run facedups -d 65 a.jpg
	[ "$status" -eq 2 ]
	run facedups -d x a.jpg
	[ "$status" -eq 2 ]
}

@test "the man pages' examples run" {
	run_man_examples "$BATS_TEST_DIRNAME/../man/facecollect.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/facedups.1"
}

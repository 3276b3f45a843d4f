#!/usr/bin/env bats
# scripts/demo: the README's main job, a contact sheet of a photo's faces.
load helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "-h prints the usage and exits 0" {
	run demo -h
	assert_success
	assert_line "usage: demo [-o OUT.png] [-s N] [-m F] [-M MODEL] [-T N] [PHOTO [BOXES]]"
}

@test "the default photo's faces, as facefind finds them, become one PNG" {
	skip_without_data
	n=$(facefind "$DATA/dlib-faces/2008_002470.jpg" | wc -l)
	[ "$n" -ge 6 ]	# dlib's testing.xml boxes 6 faces by hand
	run demo -M none -o sheet.png
	assert_success
	assert_output --partial "$n faces"
	# n faces of 64 pixels, 2 white pixels around each: n*68 by 68
	run sh -c 'pngtopam sheet.png | pamfile -'
	assert_output --partial "$((n * 68)) by 68"
}

@test "a named photo with a boxes file, 9 faces in two rows of 8" {
	skip_without_data
	for i in 1 2 3 4 5 6 7 8 9; do echo "$((i * 10)) 20 30 30"; done > b.txt
	run demo -M none -s 32 -o sub/sheet.png "$DATA/dlib-faces/dogs.jpg" b.txt
	assert_success
	run sh -c 'pngtopam sub/sheet.png | pamfile -'
	assert_output --partial "288 by 72"
	# without a model too: - is standard output, a link stays a link
	demo -M none -s 32 -o - "$DATA/dlib-faces/dogs.jpg" b.txt > out.png 2> err
	cmp out.png sub/sheet.png
	grep -q '^demo: 9 faces of .* -> -$' err
	[ ! -e ./- ]
	ln -s sub/sheet.png link.png
	rm sub/sheet.png
	demo -M none -s 32 -o link.png "$DATA/dlib-faces/dogs.jpg" b.txt > /dev/null
	[ -L link.png ]
	cmp out.png sub/sheet.png
}

@test "a photo without boxes where facefind finds no face is refused" {
	skip_without_data
	ppmmake red 50 50 > p.ppm
	run demo p.ppm
	assert_failure 1
	assert_output --partial "facefind found no face; name a BOXES file"
	[ ! -e out/faces.png ]
}

@test "with a model each face is named, on standard output and on the sheet" {
	skip_without_data
	# a model that has only seen class 0 calls every face by its name
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > r.bin
	printf 'Someone\nNobody\n' > labels.txt
	facetrain -o m -l labels.txt -n 30 -N 'fc N' -b 2 r.bin 2> /dev/null
	run demo -M m -o sheet.png
	assert_success
	n=$(facefind "$DATA/dlib-faces/2008_002470.jpg" | wc -l)
	[ "$(printf '%s\n' "${lines[@]}" | grep -c ': face [0-9]* (.*): Someone [01]\.[0-9][0-9] Nobody [01]\.[0-9][0-9]$')" -eq "$n" ]
	assert_output --partial "sheet.png: $n faces"
	pngtopam sheet.png | pamfile | grep -q 'PPM raw'
	run bash -c 'demo -M m -o sheet2.png > /dev/full'
	assert_failure 1
	assert_output "demo: write error on standard output"
	# -o -: the sheet on standard output, the names on standard error
	demo -M m -o - > out.png 2> err
	cmp out.png sheet.png
	[ "$(grep -c ': face [0-9]* (.*): Someone' err)" -eq "$n" ]
	[ ! -e ./- ]
}

@test "faces are cut at the model's margin for facefind's boxes, unless -m says" {
	skip_without_data
	mkdir bin
	# a facecrop that notes its margin, then does its job
	printf '#!/bin/sh\necho "$2" >> "%s/margins"\nexec "%s" "$@"\n' "$PWD" \
		"$(command -v facecrop)" > bin/facecrop
	chmod +x bin/facecrop
	for c in 20 60; do ppmmake rgb:$c/$c/$c 40 40; done | cifarpack -s 40 0 > r.bin
	printf 'Someone\nNobody\n' > labels.txt
	facetrain -o m -s 40 -m 1.5 -n 1 -N 'fc N' -b 2 r.bin 2> /dev/null
	PATH=$PWD/bin:$PATH demo -M m -o sheet.png > /dev/null 2>&1
	PATH=$PWD/bin:$PATH demo -M m -m 1.3 -o sheet.png > /dev/null 2>&1
	# 1.5 around LFW-like boxes, 32 of 40, facefind's boxes 1.2 times narrower
	assert_equal "$(cat margins)" "$(printf '1.44\n1.3')"
}

#!/usr/bin/env bats
# facecrop: crops, geometry, input formats and bad input.  Expected pixels
# come from netpbm's own programs (pamcut, pamflip) or from hand computation.
load helper
load pnm
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
	# a 20x16 photo whose every pixel is known: R=10x, G=15y, B=x+10y
	awk 'BEGIN { print "P3 20 16 255"
		for (y = 0; y < 16; y++) for (x = 0; x < 20; x++) print 10*x, 15*y, x+10*y }' > syn.ppm
}

@test "-h prints the usage and exits 0" {
	run facecrop -h
	assert_success
	assert_output --partial "usage: facecrop"
}

@test "no BOXES is a usage error (exit 2)" {
	run facecrop
	assert_failure 2
	assert_output --partial "usage: facecrop"
}

@test "a bad -m is a usage error naming the value" {
	run facecrop -m nan b.txt syn.ppm
	assert_failure 2
	assert_output --partial '"nan"'
}

@test "dlib testing.xml: one crop per box, of the right size, for every image" {
	skip_without_data
	d=$DATA/dlib-faces
	# boxes of each image as "file left top width height"
	awk -F"'" '/<image file=/ { f = $2 }
		/<box / { for (i = 1; i < NF; i += 2) {
				k = $i; sub(/.* /, "", k); sub(/=$/, "", k); v[k] = $(i+1) }
			print f, v["left"], v["top"], v["width"], v["height"] }' \
		"$d/testing.xml" > all.txt
	[ "$(wc -l < all.txt)" -eq 25 ]
	for f in $(cut -d' ' -f1 all.txt | uniq); do
		awk -v f="$f" '$1 == f { print $2, $3, $4, $5 }' all.txt > b.txt
		awk '{ s = $3 > $4 ? $3 : $4; printf "PPM raw, %d by %d  maxval 255\n", s, s }' \
			b.txt > want
		facecrop b.txt "$d/$f" > out.ppm
		pamfile -allimages out.ppm | cut -f3 > got
		diff want got
	done
}

@test "an integral box at angle 0 is exactly pamcut's cut" {
	facecrop <(echo "3 4 5 5") syn.ppm > got.ppm
	pamcut -left 3 -top 4 -width 5 -height 5 syn.ppm > want.ppm
	diff <(pixels got.ppm) <(pixels want.ppm)
}

@test "a box half a pixel to the right averages neighbouring columns" {
	facecrop <(echo "3.5 4 2 2") syn.ppm > got.ppm
	# output pixel (i,j) samples halfway between pixels (3+i,4+j) and (4+i,4+j);
	# halves round up
	run pixels got.ppm
	assert_output "$(printf '%s\n' 35 60 43.5 45 60 44.5 35 75 53.5 45 75 54.5 |
		awk '{ printf "%d\n", $1 + 0.5 }')"
}

@test "angle 90 is pamflip -ccw of the upright crop, angle -90 is -cw" {
	echo "2 3 8 8" > b0.txt
	echo "2 3 8 8 90" > b90.txt
	echo "2 3 8 8 -90" > bm90.txt
	facecrop b0.txt syn.ppm | pamflip -ccw > want90.ppm
	facecrop b0.txt syn.ppm | pamflip -cw > wantm90.ppm
	facecrop b90.txt syn.ppm > got90.ppm
	facecrop bm90.txt syn.ppm > gotm90.ppm
	same_within1 got90.ppm want90.ppm
	same_within1 gotm90.ppm wantm90.ppm
	run cmp got90.ppm gotm90.ppm
	assert_failure
}

@test "a crop turned 30 degrees of a linear ramp is the ramp turned" {
	# R = 5x+40, G = 5y+40 at pixel (x, y): bilinear sampling is exact on it,
	# so output pixel (i, j) of the square of side 10 about (20, 20) holds the
	# ramp at (20, 20) + R(30 degrees) (i+0.5-5, j+0.5-5) - 0.5
	awk 'BEGIN { print "P3 40 40 255"
		for (y = 0; y < 40; y++) for (x = 0; x < 40; x++) print 5*x+40, 5*y+40, 0 }' > ramp.ppm
	facecrop <(echo "15 15 10 10 30") ramp.ppm > got.ppm
	awk 'BEGIN { c = cos(atan2(1, 1) / 45 * 30); s = sin(atan2(1, 1) / 45 * 30)
		for (j = 0; j < 10; j++) for (i = 0; i < 10; i++) {
			u = i + 0.5 - 5; v = j + 0.5 - 5
			print 5 * (20 + u*c - v*s - 0.5) + 40; print 5 * (20 + u*s + v*c - 0.5) + 40; print 0 } }' > want
	paste <(pixels got.ppm) want |
		awk '{ d = $1 - $2; if (d > 0.5 + 1e-9 || d < -0.5 - 1e-9) bad++ } END { exit bad > 0 }'
	# and the other way round for -30
	run cmp <(facecrop <(echo "15 15 10 10 -30") ramp.ppm) got.ppm
	assert_failure
}

@test "angle 360 equals angle 0" {
	facecrop <(echo "2 3 8 7 360") syn.ppm > a.ppm
	facecrop <(echo "2 3 8 7") syn.ppm > b.ppm
	cmp a.ppm b.ppm
}

@test "-n prints the crop as a box line: -m enlarges about the centre, side rounded" {
	printf '10 10 4 6\n0 0 5 5 12.5\n' > b.txt
	run facecrop -n -m 2 b.txt syn.ppm
	assert_success
	# side round(6*2)=12 about centre (12,13); side round(5*2)=10 about (2.5,2.5)
	assert_output "$(printf '6 7 12 12 0\n-2.5 -2.5 10 10 12.5')"
	run facecrop -n -m 1.5 <(echo "0 0 5 5") syn.ppm
	assert_output "-1.5 -1.5 8 8 0"
}

@test "-m 2 crops twice the box about its centre" {
	facecrop -m 2 <(echo "6 5 4 4") syn.ppm > got.ppm
	pamcut -left 4 -top 3 -width 8 -height 8 syn.ppm > want.ppm
	diff <(pixels got.ppm) <(pixels want.ppm)
}

@test "beyond the photo the edge repeats, or is black with -b" {
	# output column i samples x = i-2, row j samples y = 14+j: columns -2, -1
	# repeat column 0 and rows 16, 17 repeat row 15
	facecrop <(echo "-2 14 4 4") syn.ppm > rep.ppm
	[ "$(pixels rep.ppm | sed -n 1,12p | tr '\n' ' ')" = "0 210 140 0 210 140 0 210 140 10 210 141 " ]
	[ "$(pixels rep.ppm | sed -n 37,48p | tr '\n' ' ')" = "0 225 150 0 225 150 0 225 150 10 225 151 " ]
	facecrop -b <(echo "-2 14 4 4") syn.ppm > blk.ppm
	# row 0 (y=14): black, black, then pixels (0,14) and (1,14); row 3 (y=17) all black
	[ "$(pixels blk.ppm | sed -n 1,12p | tr '\n' ' ')" = "0 0 0 0 0 0 0 210 140 10 210 141 " ]
	[ "$(pixels blk.ppm | sed -n 37,48p | tr -d '\n')" = "000000000000" ]
}

@test "comments, blank lines and an angle column are accepted" {
	printf '# faces\n\n  3 4 5 5   # first\n\t1 1 2 2 0\n' > b.txt
	run facecrop -n b.txt syn.ppm
	assert_success
	assert_output "$(printf '3 4 5 5 0\n1 1 2 2 0')"
}

@test "a stream of images: each is cut with the boxes of its '# image N' block" {
	pnmtojpeg syn.ppm > syn.jpg
	pamflip -lr syn.ppm | pnmtopng > flip.png
	printf '1 1 4 4\n# image 2\n# image 3\n2 3 5 5 10\n0 0 3 3\n' > b.txt
	cat syn.ppm syn.jpg flip.png > s
	facecrop b.txt s > got.ppm
	{ facecrop <(echo "1 1 4 4") syn.ppm
	  facecrop <(printf '2 3 5 5 10\n0 0 3 3\n') flip.png; } | cmp - got.ppm
	# -n writes the blocks too: its output cuts the same images
	facecrop -n b.txt s > n.txt
	assert_equal "$(cat n.txt)" "$(printf '1 1 4 4 0\n# image 2\n# image 3\n2 3 5 5 10\n0 0 3 3 0')"
	facecrop n.txt s | cmp - got.ppm
	# facefind's blocks, with "# image 1" allowed to open the file
	printf '# image 1\n1 1 4 4\n# image 2\n' > b1.txt
	facecrop b1.txt < <(cat syn.ppm syn.ppm) | cmp - <(facecrop <(echo "1 1 4 4") syn.ppm)
}

@test "images and blocks that do not match are refused clearly" {
	echo "1 1 4 4" > one.txt
	run facecrop one.txt <(cat syn.ppm syn.ppm)
	assert_failure 1
	assert_output --partial 'image 2 has no "# image 2" block in one.txt'
	printf '1 1 4 4\n# image 2\n# image 3\n' > three.txt
	run facecrop three.txt <(cat syn.ppm syn.ppm)
	assert_failure 1
	assert_output --partial "the stream ends after image 2, but three.txt has a block for image 3"
	printf '1 1 4 4\n# image 3\n1 1 4 4\n' > skip.txt
	run facecrop skip.txt syn.ppm
	assert_failure 1
	assert_output --partial 'skip.txt:2: "# image 3" after the block of image 1 (want "# image 2")'
	# the second image is broken: named by its number
	{ cat syn.ppm; printf 'P6 20 16 255\nshort'; } > s
	printf '1 1 4 4\n# image 2\n1 1 4 4\n' > two.txt
	run facecrop two.txt s
	assert_failure 1
	assert_output --partial "s: image 2: "
}

@test "an empty BOXES writes nothing and exits 0" {
	printf '# nothing here\n\n' > b.txt
	run facecrop b.txt syn.ppm
	assert_success
	assert_output ""
	run facecrop /dev/null syn.ppm
	assert_success
	assert_output ""
}

@test "the image may come on standard input, raw or as JPEG" {
	echo "3 4 5 5" > b.txt
	pnmtojpeg syn.ppm > syn.jpg
	facecrop b.txt < syn.ppm | cmp - <(facecrop b.txt syn.ppm)
	facecrop b.txt < syn.jpg > a.ppm
	jpegtopnm syn.jpg 2>/dev/null | facecrop b.txt > b.ppm
	cmp a.ppm b.ppm
	cat syn.ppm | facecrop b.txt | cmp - <(facecrop b.txt syn.ppm)
	cat b.txt | facecrop - syn.ppm | cmp - <(facecrop b.txt syn.ppm)
}

@test "grey, bitmap and 16-bit images become RGB with maxval 255" {
	echo "0 0 2 2" > b.txt
	printf 'P2 2 2 1000 0 500 1000 250\n' > g.pgm
	run pixels <(facecrop b.txt g.pgm)
	# 500*255/1000 = 127.5 -> 128; 250*255/1000 = 63.75 -> 64
	assert_output "$(printf '%s\n' 0 0 0 128 128 128 255 255 255 64 64 64)"
	printf 'P1 2 2 1 0 0 1\n' > b.pbm
	run pixels <(facecrop b.txt b.pbm)
	assert_output "$(printf '%s\n' 0 0 0 255 255 255 255 255 255 0 0 0)"
	pamdepth 65535 syn.ppm > deep.ppm
	facecrop <(echo "3 4 5 5") deep.ppm | cmp - <(facecrop <(echo "3 4 5 5") syn.ppm)
}

@test "PNG of every kind reads as pngtopam reads it: grey, palette, 16-bit, interlaced, alpha dropped" {
	ppmtopgm syn.ppm > g.pgm
	awk 'BEGIN { print "P3 20 16 65535"; srand(3)
		for (i = 0; i < 320; i++) print int(rand() * 65536), int(rand() * 65536), int(rand() * 65536) }' > deep.ppm
	ppmtopgm deep.ppm > deep.pgm
	pnmtopng syn.ppm > rgb.png
	pnmtopng -interlace syn.ppm > interlaced.png
	pnmtopng g.pgm > grey.png
	pamthreshold g.pgm 2>/dev/null | pnmtopng > bit.png
	pamdepth 3 g.pgm | pnmtopng > grey2.png
	ppmmake red 20 16 | pnmtopng > palette.png
	pnmtopng deep.ppm > rgb16.png
	pnmtopng -force -alpha=g.pgm syn.ppm > rgba.png
	pnmtopng -force -alpha=g.pgm deep.pgm > greyalpha16.png
	pnmtopng -alpha=g.pgm g.pgm > palette-alpha.png
	pnmtopng -transparent=rgb:00/00/00 syn.ppm > trns.png
	for f in *.png; do
		facecrop <(echo "0 0 20 16") $f > got.ppm || fail "$f refused"
		pngtopam $f 2>/dev/null | facecrop <(echo "0 0 20 16") > want.ppm
		cmp got.ppm want.ppm || fail "$f differs from pngtopam's"
	done
	# the kinds are those named
	file rgb16.png greyalpha16.png palette-alpha.png interlaced.png bit.png |
		grep -c '16-bit/color RGB,\|16-bit gray+alpha\|colormap\|interlaced$\|1-bit grayscale' |
		grep -qx 5
}

@test "a truncated or damaged PNG is refused" {
	pnmtopng syn.ppm > p.png
	head -c 60 p.png > t.png
	run facecrop <(echo "1 1 4 4") t.png
	assert_failure 1
	assert_output --partial "t.png: PNG: Premature end of PNG file"
	# a byte of the image data changed
	n=$(stat -c %s p.png)
	{ head -c $((n - 30)) p.png; printf 'x'; tail -c 29 p.png; } > bad.png
	run facecrop <(echo "1 1 4 4") bad.png
	assert_failure 1
	assert_output --partial "bad.png: PNG: "
	printf '\211PNG\r\n\032\n' > sig.png
	run facecrop <(echo "1 1 4 4") sig.png
	assert_failure 1
	assert_output --partial "sig.png: PNG: Premature end of PNG file"
}

@test "a PAM with alpha is read as RGB" {
	pamchannel -infile syn.ppm 0 > alpha.pam
	pamstack -tupletype RGB_ALPHA syn.ppm alpha.pam 2>/dev/null > a.pam
	pamfile a.pam | grep -q 'by 4 maxval'
	facecrop <(echo "3 4 5 5") a.pam | cmp - <(facecrop <(echo "3 4 5 5") syn.ppm)
}

@test "EXIF orientation is applied: boxes refer to the picture as seen" {
	pnmtojpeg -quality 100 syn.ppm > plain.jpg
	# APP1 "Exif" with IFD0 holding Orientation (0x0112) = 6: rotate 90 cw
	{ head -c 2 plain.jpg
	  printf '\377\341\000\042Exif\000\000MM\000\052\000\000\000\010\000\001'
	  printf '\001\022\000\003\000\000\000\001\000\006\000\000\000\000\000\000'
	  tail -c +3 plain.jpg; } > turned.jpg
	# seen as 16 wide, 20 high: x=17 is outside, y=17 is inside
	run facecrop <(echo "17 0 2 2") turned.jpg
	assert_failure 1
	assert_output --partial "16x20 image"
	facecrop <(echo "0 0 16 16") turned.jpg > got.ppm
	jpegtopnm plain.jpg 2>/dev/null | pamflip -cw | pamcut -width 16 -height 16 > want.ppm
	same_within1 got.ppm want.ppm
}

@test "all eight EXIF orientations turn the picture as pamflip does" {
	pamcut -width 16 -height 16 syn.ppm | pnmtojpeg -quality 100 > sq.jpg
	jpegtopnm sq.jpg 2>/dev/null > sq.ppm
	flips=(-null -lr -r180 -tb -transpose -cw -xform=transpose,leftright,topbottom -ccw)
	for o in 1 2 3 4 5 6 7 8; do
		{ head -c 2 sq.jpg
		  printf '\377\341\000\042Exif\000\000II\052\000\010\000\000\000\001\000'
		  printf "\\022\\001\\003\\000\\001\\000\\000\\000\\x0$o\\000\\000\\000\\000\\000\\000\\000"
		  tail -c +3 sq.jpg; } > o$o.jpg
		facecrop <(echo "0 0 16 16") o$o.jpg > got$o.ppm
		pamflip "${flips[o - 1]}" sq.ppm > want$o.ppm
		same_within1 got$o.ppm want$o.ppm || fail "orientation $o is not pamflip ${flips[o - 1]}"
	done
}

@test "outputs are read by pamfile and pnmtopng" {
	skip_without_data
	# sides round(53*1.3) = 69 and round(44*1.3) = 57
	facecrop -m 1.3 <(printf '274 181 52 53\n55 156 44 44 10\n') \
		"$DATA/dlib-faces/2008_002470.jpg" > out.ppm
	run pamfile -allimages out.ppm
	assert_line --index 0 --partial "PPM raw, 69 by 69  maxval 255"
	assert_line --index 1 --partial "PPM raw, 57 by 57  maxval 255"
	pamsplit out.ppm one%d.ppm
	pnmtopng one0.ppm > one0.png
	pnmtopng one1.ppm > one1.png
	[ -s one1.png ]
}

# refused BOXES-TEXT MESSAGE: facecrop fails with exit 1 and MESSAGE
refused() {
	printf "$1" > bad.txt
	run facecrop bad.txt syn.ppm
	assert_failure 1
	assert_output --partial "bad.txt$2"
}

@test "malformed box lines are refused naming the line and the value" {
	refused '1 2 3 4\n1 2 3\n' ':2: 3 columns'
	refused '1 2 3 4 5 6\n' ':1: more than 5 columns'
	refused '1 2 3x 4\n' ':1: w is not a number: "3x"'
	refused '1 2 3 0\n' ':1: h must be positive: "0"'
	refused '1 2 -3 4\n' ':1: w must be positive: "-3"'
}

@test "NaN and infinity are refused" {
	refused '1 2 3 4\nnan 2 3 4\n' ':2: x is not a finite number: "nan"'
	refused '1 2 3 4 inf\n' ':1: angle is not a finite number: "inf"'
	refused '1 1e999 3 4\n' ':1: y is not a finite number: "1e999"'
}

@test "a box wholly outside the image is refused and nothing is written" {
	printf '1 1 4 4\n\n-5000 3 40 40\n' > b.txt
	run --separate-stderr facecrop b.txt syn.ppm
	assert_failure 1
	[ -z "$output" ]
	[[ $stderr == *"box at line 3 (x=-5000 w=40) lies wholly outside the 20x16 image"* ]]
	run facecrop <(echo "0 16 4 4") syn.ppm
	assert_failure 1
	assert_output --partial "(y=16 h=4) lies wholly outside the 20x16 image"
	run facecrop <(echo "-3.5 -3 4 4") syn.ppm
	assert_success
}

@test "a crop over the pixel limit is refused" {
	run facecrop -p 400 <(echo "0 0 30 30") syn.ppm
	assert_failure 1
	assert_output --partial "crop of side 30 is over the limit of 400 pixels"
}

@test "truncated JPEG" {
	skip_without_data
	head -c 20000 "$DATA/dlib-faces/2008_002470.jpg" > t.jpg
	run facecrop <(echo "1 1 4 4") t.jpg
	assert_failure 1
	assert_output --partial "t.jpg: JPEG: Premature end of JPEG file"
	head -c 100 "$DATA/dlib-faces/2008_002470.jpg" > t.jpg
	run facecrop <(echo "1 1 4 4") t.jpg
	assert_failure 1
	assert_output --partial "JPEG"
}

@test "truncated PPM" {
	head -c 500 <(pnmtopnm syn.ppm) > t.ppm
	run facecrop <(echo "1 1 4 4") t.ppm
	assert_failure 1
	assert_output --partial "t.ppm: "
	assert_output --partial "End of file"
}

@test "wrong magic" {
	printf 'GIF89a....' > x.gif
	run facecrop <(echo "1 1 4 4") x.gif
	assert_failure 1
	assert_output --partial "x.gif: not a JPEG, PNG or netpbm image (first byte 0x47)"
	printf 'P9 1 1 255\n' > x.ppm
	run facecrop <(echo "1 1 4 4") x.ppm
	assert_failure 1
	assert_output --partial "x.ppm: "
	assert_output --partial "magic"
	printf '\377\000junk' > x.jpg
	run facecrop <(echo "1 1 4 4") x.jpg
	assert_failure 1
	assert_output --partial "Not a JPEG file"
	: > empty
	run facecrop <(echo "1 1 4 4") empty
	assert_failure 1
	assert_output --partial "empty: no image"
}

@test "a huge declared size is refused before allocation; -p changes the limit" {
	printf 'P6\n100000 100000\n255\n' > huge.ppm
	run facecrop <(echo "1 1 4 4") huge.ppm
	assert_failure 1
	assert_output --partial "image of 100000x100000 pixels is over the limit of 119304647 pixels"
	run facecrop -p 319 <(echo "1 1 4 4") syn.ppm
	assert_failure 1
	assert_output --partial "image of 20x16 pixels is over the limit of 319 pixels"
	# a JPEG's header is checked the same way
	pnmtojpeg syn.ppm > syn.jpg
	run facecrop -p 100 <(echo "1 1 4 4") syn.jpg
	assert_failure 1
	assert_output --partial "over the limit of 100 pixels"
}

@test "unreadable files" {
	run facecrop nosuch.txt syn.ppm
	assert_failure 1
	assert_output --partial "nosuch.txt: No such file or directory"
	run facecrop <(echo "1 1 4 4") nosuch.ppm
	assert_failure 1
	assert_output --partial "nosuch.ppm: No such file or directory"
	mkdir d
	run facecrop <(echo "1 1 4 4") d
	assert_failure 1
	assert_output --partial "d: read error"
	run facecrop d syn.ppm
	assert_failure 1
	assert_output --partial "d: read error"
}

@test "a tiny negative angle is a quarter turn of none, not a read past a table" {
	ppmmake red 8 8 > p.ppm
	echo "0 0 4 4 -1e-20" > b.txt
	run sh -c 'facecrop b.txt p.ppm | pamfile'
	assert_success
	assert_output --partial "4 by 4"
}

@test "a crop side beyond any image is refused whatever -p says" {
	ppmmake red 8 8 > p.ppm
	echo "0 0 3000000000 1" > b.txt
	run facecrop -n -p 9223372036854775807 b.txt p.ppm
	assert_failure 1
	assert_output --partial "over the longest side"
}

@test "a full disk is an error" {
	echo "1 1 4 4" > b.txt
	run sh -c 'facecrop b.txt syn.ppm > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
	run sh -c 'facecrop -n b.txt syn.ppm > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/facecrop.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/lfw-boxes.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/facekit.7"
}

#!/usr/bin/env bats
# ppmscale32: sizes, values against netpbm's pamscale (its "pixel mixing"
# with -linear is also exact area averaging), streams, memory, bad input.
load helper
load pnm
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# a w x h picture with detail everywhere
picture() {
	awk -v w="$1" -v h="$2" 'BEGIN { printf "P3 %d %d 255\n", w, h
		for (y = 0; y < h; y++) for (x = 0; x < w; x++)
			print (x * 37 + y * 11) % 256, (x * y) % 256, (x * 3 + y * 29) % 256 }' |
		pnmtopnm
}

@test "-h prints the usage and exits 0" {
	run ppmscale32 -h
	assert_success
	assert_output --partial "usage: ppmscale32"
}

@test "bad -s and extra arguments are usage errors (exit 2)" {
	run ppmscale32 -s 0
	assert_failure 2
	assert_output --partial '"0"'
	run ppmscale32 -s 12x
	assert_failure 2
	run ppmscale32 a b
	assert_failure 2
	assert_output --partial "usage: ppmscale32"
}

@test "a flat colour stays that colour, at 32x32 by default" {
	ppmmake rgb:10/80/fe 50 37 | ppmscale32 > out.ppm
	ppmmake rgb:10/80/fe 32 32 > want.ppm
	diff <(pixels out.ppm) <(pixels want.ppm)
	run pamfile out.ppm
	assert_output --partial "PPM raw, 32 by 32  maxval 255"
}

@test "a 1-pixel checkerboard halved becomes mid-grey" {
	pbmmake -gray 64 64 | ppmscale32 > out.ppm
	# (0 + 255) / 2 = 127.5, rounded either way
	v=$(pixels out.ppm | sort -u)
	[[ $v == 128 || $v == 127 ]]
}

@test "downscaling averages the covered area: agrees with pamscale -linear" {
	picture 100 100 > p.ppm
	ppmscale32 p.ppm > got.ppm
	pamscale -linear -width 32 -height 32 p.ppm > want.ppm
	same_within1 got.ppm want.ppm
	ppmscale32 -s 7 p.ppm > got.ppm
	pamscale -linear -width 7 -height 7 p.ppm > want.ppm
	same_within1 got.ppm want.ppm
}

@test "a non-square picture is centre-cropped, or padded black with -f" {
	picture 90 61 > p.ppm
	ppmscale32 -s 20 p.ppm > got.ppm
	pamcut -left 14 -width 61 p.ppm | pamscale -linear -width 20 -height 20 > want.ppm
	same_within1 got.ppm want.ppm
	ppmscale32 -f -s 20 p.ppm > got.ppm
	pnmpad -black -top 14 -bottom 15 p.ppm | pamscale -linear -width 20 -height 20 > want.ppm
	same_within1 got.ppm want.ppm
}

@test "upscaling is bilinear between pixel centres" {
	printf 'P2 2 1 255 0 200\n' | ppmscale32 -f -s 4 > got.ppm
	# side 2 padded: row 0 is the picture, row 1 black.  Output centres sit at
	# source x = -0.25, 0.25, 0.75, 1.25 -> 0, 50, 150, 200 on row y=-0.25 (row 0)
	run pixels got.ppm
	assert_line --index 0 0
	[ "$(pixels got.ppm | sed -n '1~3p' | head -4 | tr '\n' ' ')" = "0 50 150 200 " ]
	# row 1 (y = 0.25): 3/4 of row 0
	[ "$(pixels got.ppm | sed -n '1~3p' | sed -n 5,8p | tr '\n' ' ')" = "0 38 113 150 " ]
}

@test "a stream of mixed netpbm images gives one square each; JPEG too" {
	{ ppmmake red 40 30; pgmmake 0.5 10 10; picture 33 33 | pamtopam; pbmmake -w 5 9; } > s.pnm
	run pamfile -allimages <(ppmscale32 -s 16 s.pnm)
	assert_success
	[ "${#lines[@]}" -eq 4 ]
	for l in "${lines[@]}"; do [[ $l == *"PPM raw, 16 by 16  maxval 255" ]]; done
	picture 30 30 | pnmtojpeg > p.jpg
	ppmscale32 < p.jpg | pamfile - | grep -q "PPM raw, 32 by 32"
}

@test "JPEGs and PNGs in a stream are read one after another, as netpbm images are" {
	picture 30 20 | pnmtojpeg > a.jpg
	picture 20 30 | pnmtopng > b.png
	ppmmake red 5 5 > c.ppm
	cat a.jpg a.jpg b.png c.ppm b.png a.jpg > s
	run pamfile -allimages <(ppmscale32 -s 8 s)
	assert_success
	[ "${#lines[@]}" -eq 6 ]
	# each image as if alone
	for f in a.jpg a.jpg b.png c.ppm b.png a.jpg; do ppmscale32 -s 8 $f; done | cmp - <(ppmscale32 -s 8 s)
}

@test "bytes after a JPEG or a PNG that are not an image are an error" {
	picture 30 20 | pnmtojpeg > a.jpg
	picture 30 20 | pnmtopng > a.png
	for f in a.jpg a.png; do
		{ cat $f; printf 'junk'; } > j
		run --separate-stderr ppmscale32 j
		assert_failure 1
		[[ $stderr == *"j: image 2: not a JPEG, PNG or netpbm image (first byte 0x6a)"* ]]
		# the image before them is written
		ppmscale32 j 2>/dev/null | cmp - <(ppmscale32 $f)
	done
}

@test "a JPEG cut short but ending in a marker is refused, not grey-filled" {
	picture 200 200 | pnmtojpeg > p.jpg
	n=$(stat -c %s p.jpg)
	{ head -c $((n / 2)) p.jpg; printf '\377\331'; } > cut.jpg
	run ppmscale32 cut.jpg
	assert_failure 1
	assert_output --partial "cut.jpg: image 1: JPEG: Corrupt JPEG data: premature end of data segment"
	# a corrupted byte in the middle of the data
	{ head -c $((n / 2)) p.jpg; printf '\377\320'; tail -c +$((n / 2 + 3)) p.jpg; } > bad.jpg
	run ppmscale32 bad.jpg
	assert_failure 1
	assert_output --partial "bad.jpg: image 1: JPEG: Corrupt JPEG data"
}

@test "an empty input gives no output and exit 0" {
	run ppmscale32 < /dev/null
	assert_success
	assert_output ""
}

@test "outputs are read by pamfile and pnmtopng" {
	picture 50 50 | ppmscale32 | pnmtopng > out.png
	pngtopam out.png | pamfile - | grep -q "32 by 32"
}

@test "a 10,000-image stream runs in flat memory" {
	[ "${FACEKIT_SAN:-0}" = 1 ] && skip "the sanitizer's allocator quarantines freed memory"
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	# images of growing and shrinking sizes, so buffers are reused and regrown
	{ picture 40 30; picture 64 64; picture 12 20; picture 90 10; picture 33 33; } > s5
	cat s5 s5 > s10
	cat s10 s10 s10 s10 s10 s10 s10 s10 s10 s10 > s100
	cat s100 s100 s100 s100 s100 s100 s100 s100 s100 s100 > s1000
	cat s1000 s1000 s1000 s1000 s1000 s1000 s1000 s1000 s1000 s1000 > s10000
	/usr/bin/time -f %M -o rss10 ppmscale32 s10 > out10
	/usr/bin/time -f %M -o rss10000 ppmscale32 s10000 > out10000
	[ "$(pamfile -allimages out10000 | wc -l)" -eq 10000 ]
	echo "max RSS: 10 images $(cat rss10) KB, 10000 images $(cat rss10000) KB" >&3
	[ $(( $(cat rss10000) - $(cat rss10) )) -lt 2048 ]
}

@test "truncated PPM: the images before it are written, then exit 1 naming it" {
	picture 20 20 > a.ppm
	{ cat a.ppm; head -c 700 a.ppm; } > t.ppm
	run --separate-stderr ppmscale32 t.ppm
	assert_failure 1
	[[ $stderr == *"t.ppm: image 2: End of file"* ]]
	[ "$(printf '%s' "$output" | wc -c)" -ge 3000 ]
}

@test "wrong magic and junk between images" {
	printf 'GIF89a' > x.gif
	run ppmscale32 x.gif
	assert_failure 1
	assert_output --partial "x.gif: image 1: not a JPEG, PNG or netpbm image (first byte 0x47)"
	{ picture 4 4; printf 'junk'; } > j.ppm
	run --separate-stderr ppmscale32 j.ppm
	assert_failure 1
	[[ $stderr == *"image 2: not a JPEG, PNG or netpbm image (first byte 0x6a)"* ]]
}

@test "truncated JPEG" {
	skip_without_data
	head -c 20000 "$DATA/dlib-faces/2008_002470.jpg" > t.jpg
	run ppmscale32 t.jpg
	assert_failure 1
	assert_output --partial "t.jpg: image 1: JPEG: Premature end of JPEG file"
}

@test "a huge declared size is refused; -p changes the limit" {
	printf 'P5\n70000 70000\n255\n' > huge.pgm
	run ppmscale32 huge.pgm
	assert_failure 1
	assert_output --partial "image of 70000x70000 pixels is over the limit of 119304647 pixels"
	picture 20 20 > p.ppm
	run ppmscale32 -p 399 p.ppm
	assert_failure 1
	assert_output --partial "over the limit of 399 pixels"
	run ppmscale32 -p 400 p.ppm
	assert_success
}

@test "a PNG chunk that claims 1.3 GB costs no memory; text and transparency are no trouble" {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	# a 16x8 PNG whose sPLT chunk claims 0x4d4d002a bytes, cut short (the fuzzer's find)
	printf '\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x10\0\0\0\x08\x10\x04\0\0\0\x0a\xef\x6b\x5f\x4d\x4d\0\x2asPLTE\0\0\0\0\0\0' > splt.png
	run -1 /usr/bin/time -f %M -o rss ppmscale32 splt.png
	assert_output --partial "splt.png: image 1: PNG: Premature end of PNG file"
	[ "$(tail -n 1 rss)" -lt 204800 ]	# KB (the sanitizers take some); it was 1.27 GB
	picture 40 20 > p.ppm
	echo "Title facekit" > text
	pnmtopng -text text -transparent =rgb:00/00/00 p.ppm > t.png
	ppmscale32 p.ppm > want
	ppmscale32 t.png | cmp - want
}

@test "reading takes at most the 9 bytes a pixel its default limit of 2^30 / 9 pixels assumes" {
	[ "${FACEKIT_SAN:-0}" = 1 ] && skip "the sanitizer's allocator keeps memory of its own"
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	run ppmscale32 -h
	assert_output --partial "(default 119304647)"
	# the costliest JPEG: progressive, colour planes at full size, turned by EXIF
	for w in 1000 2000; do
		ppmmake rgb:40/80/c0 $w $w | pnmtojpeg -progressive -sample=1x1,1x1,1x1 > p.jpg
		{ head -c 2 p.jpg
		  printf '\377\341\000\042Exif\000\000MM\000\052\000\000\000\010\000\001'
		  printf '\001\022\000\003\000\000\000\001\000\006\000\000\000\000\000\000'
		  tail -c +3 p.jpg; } > t$w.jpg
		/usr/bin/time -f %M -o rss$w ppmscale32 t$w.jpg > /dev/null
	done
	# bytes more for 3 million more pixels: 9 a pixel, and 1% for libjpeg's rows
	echo "max RSS: $(cat rss1000) KB, $(cat rss2000) KB" >&3
	[ $(( ($(cat rss2000) - $(cat rss1000)) * 1024 )) -le $((3000000 * 909 / 100)) ]
}

@test "unreadable file" {
	run ppmscale32 nosuch.ppm
	assert_failure 1
	assert_output --partial "ppmscale32: nosuch.ppm: No such file or directory"
}

@test "a full disk is an error" {
	picture 20 20 > p.ppm
	run sh -c 'ppmscale32 p.ppm > /dev/full'
	assert_failure 1
	assert_output --partial "write error"
}

@test "the man page's EXAMPLES run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/ppmscale32.1"
}

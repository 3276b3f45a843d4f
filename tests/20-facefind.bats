#!/usr/bin/env bats
# facefind: faces found against hand-drawn boxes (dlib) and hand-marked eyes
# (LFW), no faces where there are none, odd image sizes, the options, and
# bad cascades and images.
load helper
load pnm
load man-examples
bats_require_minimum_version 1.5.0

setup() {
	cd "$BATS_TEST_TMPDIR"
	D=$DATA/dlib-faces
}

# hand_boxes XML FILE: "x y w h" of FILE's hand boxes in a dlib XML file
hand_boxes() {
	awk -F"'" -v f="$2" '/<image file=/ { on = $2 == f }
		on && /<box / { for (i = 1; i < NF; i += 2) {
				k = $i; sub(/.* /, "", k); sub(/=$/, "", k); v[k] = $(i+1) }
			print v["left"], v["top"], v["width"], v["height"] }' "$1"
}

# matched HAND FOUND: how many boxes of FOUND overlap a box of HAND (each
# used once) with intersection over union >= 0.5
matched() {
	awk 'BEGIN { n = 0 }
		FNR == NR { hx[n] = $1; hy[n] = $2; hw[n] = $3; hh[n] = $4; n++; next }
		/^#/ { next }
		{ best = 0; bi = -1
		  for (i = 0; i < n; i++) {
			if (used[i]) continue
			ix = ($1 + $3 < hx[i] + hw[i] ? $1 + $3 : hx[i] + hw[i]) - ($1 > hx[i] ? $1 : hx[i])
			iy = ($2 + $4 < hy[i] + hh[i] ? $2 + $4 : hy[i] + hh[i]) - ($2 > hy[i] ? $2 : hy[i])
			in_ = ix > 0 && iy > 0 ? ix * iy : 0
			iou = in_ / ($3 * $4 + hw[i] * hh[i] - in_)
			if (iou > best) { best = iou; bi = i } }
		  if (best >= 0.5) { used[bi] = 1; m++ } }
		END { print m + 0 }' "$1" "$2"
}

@test "-h prints the usage and exits 0" {
	run facefind -h
	assert_success
	assert_output --partial "usage: facefind"
}

@test "an unknown option or two images is a usage error (exit 2)" {
	run facefind -Z x.ppm
	assert_failure 2
	run facefind a.ppm b.ppm
	assert_failure 2
	assert_output --partial "usage: facefind"
}

@test "bad option values are usage errors that quote them" {
	run facefind -s 1 x.ppm
	assert_failure 2
	assert_output --partial '"1"'
	run facefind -n -1 x.ppm
	assert_failure 2
	assert_output --partial '"-1"'
	run facefind -A 10:-10:6 x.ppm
	assert_failure 2
	assert_output --partial '"10:-10:6"'
	run facefind -A -48:48:0 x.ppm
	assert_failure 2
	# a sweep of 360001 angles is the option's fault, not the photo's
	ppmmake rgb:80/80/80 30 30 > x.ppm
	run facefind -A -180:180:0.001 x.ppm
	assert_failure 2
	assert_output --partial 'facefind: -A: "-180:180:0.001" tries more than 3601 angles'
	run facefind -A -180:180:0.1 x.ppm
	assert_success
}

@test "-T N: the same faces for every thread count, the default every CPU" {
	skip_without_data
	p=$DATA/dlib-faces/2008_002470.jpg
	facefind -T 1 -r -A -12:12:6 "$p" > one
	[ -s one ]
	for t in 2 3; do facefind -T $t -r -A -12:12:6 "$p" | cmp - one; done
	facefind -r -A -12:12:6 "$p" | cmp - one
	run facefind -T 0 "$p"
	assert_failure 2
	assert_output --partial '-T: "0"'
	run facefind -h
	assert_output --partial "-T N"
}

@test "a dlib test photo: its hand-boxed faces are found (IoU >= 0.5)" {
	skip_without_data
	hand_boxes "$D/testing.xml" 2008_004176.jpg > hand.txt
	[ "$(wc -l < hand.txt)" -eq 7 ]
	facefind "$D/2008_004176.jpg" > found.txt
	# OpenCV's detector with these settings finds all 7 and nothing else
	[ "$(matched hand.txt found.txt)" -eq 7 ]
	[ "$(wc -l < found.txt)" -eq 7 ]
	# plain "x y w h" integer lines, sorted by top then left
	run grep -vE '^[0-9]+ [0-9]+ [0-9]+ [0-9]+$' found.txt
	assert_failure
	sort -n -k2,2 -k1,1 -s found.txt | cmp - found.txt
}

@test "every dlib test photo: at least 24 of the 25 hand-boxed faces" {
	skip_without_data
	total=0 photos="2008_002470 2008_002506 2008_004176 2008_007676 2009_004587"
	# under the sanitizers (10 times slower) the two smallest: 5 faces of 5
	[ "${FACEKIT_SAN:-0}" = 1 ] && photos="2008_002506 2009_004587"
	for f in $photos; do
		hand_boxes "$D/testing.xml" $f.jpg > hand.txt
		facefind "$D/$f.jpg" > found.txt
		total=$((total + $(matched hand.txt found.txt)))
	done
	if [ "${FACEKIT_SAN:-0}" = 1 ]; then [ "$total" -eq 5 ]; else [ "$total" -ge 24 ]; fi
}

@test "dogs.jpg: no line and exit 0; -q exits 2 and prints nothing" {
	skip_without_data
	run facefind "$D/dogs.jpg"
	assert_success
	assert_output ""
	run facefind -q "$D/dogs.jpg"
	assert_failure 2
	assert_output ""
}

@test "-q exits 0 and prints nothing when there is a face" {
	skip_without_data
	run facefind -q "$D/2008_004176.jpg"
	assert_success
	assert_output ""
}

@test "a JPEG on standard input gives the same faces as the file" {
	skip_without_data
	facefind "$D/2008_002506.jpg" > a.txt
	facefind < "$D/2008_002506.jpg" > b.txt
	[ -s a.txt ]
	cmp a.txt b.txt
}

@test "a 1x1 image and one smaller than the window: no face, exit 0" {
	ppmmake rgb:80/80/80 1 1 > one.ppm
	run facefind one.ppm
	assert_success
	assert_output ""
	ppmmake rgb:80/80/80 19 40 > thin.ppm
	run facefind thin.ppm
	assert_success
	assert_output ""
	run facefind -r thin.ppm
	assert_success
}

@test "a flat 3000x2000 image: no face" {
	ppmmake rgb:40/80/c0 3000 2000 > big.ppm
	run facefind big.ppm
	assert_success
	assert_output ""
}

@test "a photo enlarged 4 times: the faces are found 4 times bigger (-m skips the small ones)" {
	skip_without_data
	jpegtopnm "$D/2008_004176.jpg" 2>/dev/null | pnmenlarge 4 > big.ppm
	hand_boxes "$D/testing.xml" 2008_004176.jpg | awk '{ print 4*$1, 4*$2, 4*$3, 4*$4 }' > hand.txt
	facefind -m 100 big.ppm > found.txt
	[ "$(matched hand.txt found.txt)" -ge 7 ]
}

@test "-m and -M keep the faces within the size limits" {
	skip_without_data
	facefind "$D/2008_004176.jpg" > all.txt
	facefind -m 60 "$D/2008_004176.jpg" > big.txt
	facefind -M 59 "$D/2008_004176.jpg" > small.txt
	[ -s big.txt ] && [ -s small.txt ]
	awk '$3 < 60 { exit 1 }' big.txt
	awk '$3 > 59 { exit 1 }' small.txt
}

@test "--biggest keeps the largest face, --center prints centres" {
	skip_without_data
	facefind "$D/2008_004176.jpg" > all.txt
	sort -n -k3,3 all.txt | tail -1 > want.txt
	facefind --biggest "$D/2008_004176.jpg" > got.txt
	cmp want.txt got.txt
	awk '{ print $1 + $3 / 2, $2 + $4 / 2 }' all.txt > want.txt
	facefind --center "$D/2008_004176.jpg" > got.txt
	cmp want.txt got.txt
}

# roll ANNOTATION-LINE: the roll of the face, the angle of the line from the
# eye on the left (points 1-2) to the other (points 7-8), in degrees
roll() {
	awk '{ x1 = ($8 + $10) / 2; y1 = ($9 + $11) / 2; x2 = ($20 + $22) / 2; y2 = ($21 + $23) / 2
		print atan2(y2 - y1, x2 - x1) * 45 / atan2(1, 1) }'
}

@test "a real face turned 20 degrees by pnmrotate: -r finds it at its roll, within a step" {
	skip_without_data
	for p in George_W_Bush/George_W_Bush_0001 Tony_Blair/Tony_Blair_0001; do
		r0=$(grep "^$p.jpg " "$DATA/lfw/annotations.txt" | roll)
		# pnmrotate turns counterclockwise: the roll drops by 20
		jpegtopnm "$DATA/lfw/images/$p.jpg" 2>/dev/null | pnmrotate 20 > rot.ppm
		facefind -r rot.ppm > found.txt
		# the face nearest the centre of the 194x194 image
		awk -v r="$r0" 'BEGIN { best = 1e9 }
			{ d = ($1 + $3 / 2 - 97) ^ 2 + ($2 + $4 / 2 - 97) ^ 2
			  if (d < best) { best = d; a = $5 } }
			END { want = r - 20; print "roll", a, "want", want
			      exit !(best < 15 ^ 2 && a - want <= 6 && want - a <= 6) }' found.txt
	done
}

@test "-r: the fifth column is 0 for the faces found upright" {
	skip_without_data
	facefind -A 0:0:6 "$D/2008_004176.jpg" > r.txt
	facefind "$D/2008_004176.jpg" | awk '{ print $0, 0 }' > want.txt
	cmp want.txt r.txt
}

@test "-e keeps faces with two eyes and prints their roll" {
	skip_without_data
	facefind "$D/2008_004176.jpg" > all.txt
	facefind -e "$D/2008_004176.jpg" > eyes.txt
	[ -s eyes.txt ]
	[ "$(wc -l < eyes.txt)" -le "$(wc -l < all.txt)" ]
	awk 'NF != 5 || $5 < -45 || $5 > 45 { exit 1 }' eyes.txt
	# each is one of the upright faces
	cut -d' ' -f1-4 eyes.txt | while read -r b; do grep -qx "$b" all.txt; done
}

@test "-o writes the photo with the faces outlined, as PPM or PNG" {
	skip_without_data
	jpegtopnm "$D/2008_002506.jpg" 2>/dev/null > photo.ppm
	facefind -o out.ppm photo.ppm > b.txt
	[ -s b.txt ]
	[ "$(pamfile out.ppm | cut -f2)" = "$(pamfile photo.ppm | cut -f2)" ]
	! cmp -s out.ppm photo.ppm
	# the first box's top-left corner is red
	read -r x y w h < b.txt
	[ "$(pamcut "$x" "$y" 1 1 out.ppm | pixels | tr '\n' ' ')" = "255 0 0 " ]
	facefind -o out.png photo.ppm > /dev/null
	pngtopnm out.png | cmp - out.ppm
	ls | grep -v tmp
	[ -z "$(ls | grep tmp)" ]
}

@test "-o into a folder that does not exist: exit 1, no file" {
	ppmmake rgb:80/80/80 30 30 > p.ppm
	run facefind -o nowhere/out.ppm p.ppm
	assert_failure 1
	assert_output --partial "nowhere/out.ppm"
}

@test "-o follows a link and keeps it, writes a FIFO or device in place, - with -q is stdout" {
	ppmmake rgb:80/80/80 30 30 > p.ppm
	echo old > target.ppm
	ln -s target.ppm link.ppm
	facefind -o link.ppm p.ppm
	[ -L link.ppm ]
	[ "$(pamfile target.ppm)" = "target.ppm:	PPM raw, 30 by 30  maxval 255" ]
	mkfifo fifo
	cat fifo > got.ppm &
	facefind -o fifo p.ppm
	wait $!
	[ -p fifo ]
	cmp got.ppm target.ppm
	# a device: a link to it stays, and /dev/full itself stays a device
	ln -s /dev/full full
	run facefind -o full p.ppm
	assert_failure 1
	assert_output --partial "No space left on device"
	[ -L full ]
	run facefind -o /dev/full p.ppm
	assert_failure 1
	[ -c /dev/full ]
	# -q: no face here, so exit 2, and the photo on standard output
	run -2 bash -c 'facefind -q -o - p.ppm > out.ppm'
	cmp out.ppm target.ppm
	[ ! -e ./- ]
	run -2 facefind -o - p.ppm
	assert_output --partial "facefind: -o -: standard output carries the boxes; add -q"
	[ -z "$(ls | grep tmp)" ]
}

@test "a full disk on standard output: exit 1" {
	skip_without_data
	run bash -c 'facefind "$1" > /dev/full' sh "$D/2008_004176.jpg"
	assert_failure 1
	assert_output --partial "write error"
}

@test "a stream of two images: the second's faces after a '# image 2' line" {
	skip_without_data
	jpegtopnm "$D/2008_002506.jpg" 2>/dev/null > a.ppm
	facefind a.ppm > one.txt
	cat a.ppm a.ppm | facefind > two.txt
	{ cat one.txt; echo "# image 2"; cat one.txt; } | cmp - two.txt
}

@test "a stream of JPEGs and PNGs: each image's faces in its own '# image N' block" {
	skip_without_data
	facefind "$D/2008_002506.jpg" > a.txt
	facefind "$D/2008_004176.jpg" > b.txt
	jpegtopnm "$D/2008_004176.jpg" 2>/dev/null | pnmtopng > b.png
	cat "$D/2008_002506.jpg" b.png "$D/2008_004176.jpg" | facefind > all.txt
	{ cat a.txt; echo "# image 2"; cat b.txt; echo "# image 3"; cat b.txt; } | cmp - all.txt
	# one image alone keeps its plain lines
	run grep -c '#' a.txt
	assert_output 0
}

# the default pixel limits facefind -h prints: upright, then with -r
limits() {
	facefind "$@" -h | sed -n 's/.*default MAXPIXELS here: \([0-9]*\) (\([0-9]*\) with -r)$/\1 \2/p'
}

@test "the default pixel limit keeps facefind within 1 GiB, smaller with -r" {
	read -r n nr < <(limits)
	[ "$n" -gt 0 ] && [ "$nr" -gt 0 ] && [ "$nr" -lt "$n" ]
	printf 'P5\n16384 16384\n255\n' > huge.pgm
	run facefind huge.pgm
	assert_failure 1
	assert_output --partial "image of 16384x16384 pixels is over the limit of $n pixels"
	run facefind -r huge.pgm
	assert_failure 1
	assert_output --partial "over the limit of $nr pixels"
	run facefind -p 100 <(ppmmake red 10 11)
	assert_failure 1
	assert_output --partial "image of 10x11 pixels is over the limit of 100 pixels"
	run facefind -p 110 <(ppmmake red 10 11)
	assert_success
}

@test "facefind takes no more memory a pixel than its default limit assumes" {
	[ "${FACEKIT_SAN:-0}" = 1 ] && skip "the sanitizer's allocator keeps memory of its own"
	[ -x /usr/bin/time ] || skip "no /usr/bin/time"
	read -r n nr < <(limits)
	# photos twice as wide as high: turned 45 degrees, 2.25 times their pixels
	for w in 1000 2000; do
		ppmmake rgb:40/80/c0 $w $((w / 2)) > f$w.ppm
		/usr/bin/time -f %M -o rss$w facefind f$w.ppm
		/usr/bin/time -f %M -o rssr$w facefind -A -45:45:45 f$w.ppm
	done
	echo "max RSS: $(cat rss1000) KB, $(cat rss2000) KB; -r $(cat rssr1000) KB, $(cat rssr2000) KB" >&3
	# bytes more for 1.5 million more pixels, within the 2^30 / limit a pixel assumed
	[ $(( ($(cat rss2000) - $(cat rss1000)) * 1024 * n )) -le $(( (1 << 30) * 1500000 )) ]
	[ $(( ($(cat rssr2000) - $(cat rssr1000)) * 1024 * nr )) -le $(( (1 << 30) * 1500000 )) ]
}

@test "a missing cascade file: exit 1 naming it" {
	run facefind -c nosuch.xml x.ppm
	assert_failure 1
	assert_output --partial "nosuch.xml: No such file"
	mkdir folder.xml
	run facefind -c folder.xml x.ppm
	assert_failure 1
	assert_output "facefind: folder.xml: Is a directory"
}

@test "an empty cascade file: exit 1 naming it" {
	: > empty.xml
	ppmmake rgb:80/80/80 30 30 > p.ppm
	run facefind -c empty.xml p.ppm
	assert_failure 1
	assert_output "facefind: empty.xml: the cascade file is empty"
}

@test "malformed cascade files: exit 1 naming the file and what is wrong" {
	C=/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml
	[ -r "$C" ] || skip "no opencv-data"
	ppmmake rgb:80/80/80 30 30 > p.ppm
	head -c 20000 "$C" > cut.xml
	run facefind -c cut.xml p.ppm
	assert_failure 1
	assert_output --partial "cut.xml:"
	assert_output --partial "not well-formed XML"
	echo '<opencv_storage><x><y>1</y></x></opencv_storage>' > notcascade.xml
	run facefind -c notcascade.xml p.ppm
	assert_failure 1
	assert_output --partial "notcascade.xml:1: <x> is not a cascade"
	# each line: a sed edit of the cascade, and the message it must give
	while IFS='|' read -r edit want; do
		sed "$edit" "$C" > edited.xml
		run facefind -c edited.xml p.ppm
		assert_failure 1
		assert_output --partial "edited.xml:"
		assert_output --partial "$want"
	done <<-'EOF'
	0,/<stageThreshold>[^<]*/s//<stageThreshold>zz/|"zz" is not a finite number
	0,/2 7 16 4 -1\./s//2 7 19 4 -1./|does not fit the 20x20 window
	0,/2 7 16 4 -1\./s//1 0 2147483647 1 -1./|does not fit the 20x20 window
	0,/<leafValues>/s//<leafValues>1 /|<leafValues> has 4 numbers
	s/<featureType>HAAR/<featureType>HOG/|neither HAAR nor LBP
	0,/<internalNodes>/{n;s/0 1 0/0 5 0/}|children 0 5 are not later nodes
	0,/<internalNodes>/{n;s/0 1 0/0 1 9999/}|node 0 uses feature 9999, not one of the
	EOF
}

@test "a PNG outline whose pnmtopng fails leaves no file behind" {
	skip_without_data
	mkdir bin
	ln -s /bin/false bin/pnmtopng
	PATH=$PWD/bin:$PATH run facefind -o o.png "$DATA/dlib-faces/2008_002470.jpg"
	assert_failure 1
	[ -z "$(ls o.png* 2>/dev/null)" ]
}

@test "an LBP cascade works too" {
	skip_without_data
	C=/usr/share/opencv4/lbpcascades/lbpcascade_frontalface.xml
	[ -r "$C" ] || skip "no opencv-data"
	hand_boxes "$D/testing.xml" 2008_004176.jpg > hand.txt
	facefind -c "$C" "$D/2008_004176.jpg" > found.txt
	[ "$(matched hand.txt found.txt)" -ge 5 ]
}

@test "bad images: exit 1 with a message naming the input" {
	printf 'P6\n10 10\n255\nshort' > trunc.ppm
	run facefind trunc.ppm
	assert_failure 1
	assert_output --partial "facefind: trunc.ppm:"
	printf 'hello' > junk.ppm
	run facefind junk.ppm
	assert_failure 1
	assert_output --partial "junk.ppm"
	: > empty.ppm
	run facefind empty.ppm
	assert_failure 1
	assert_output --partial "empty.ppm: no image"
	run facefind -q nosuch.ppm
	assert_failure 1
	assert_output --partial "nosuch.ppm"
}

@test "the man page's examples run" {
	skip_without_data
	run_man_examples "$BATS_TEST_DIRNAME/../man/facefind.1"
}

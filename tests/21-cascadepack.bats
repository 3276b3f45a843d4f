#!/usr/bin/env bats
# cascadepack: OpenCV's cascades packed (fkcascade(5)) find exactly what
# their XML finds; the header agrees with counts taken from the XML; bad
# cascades, damaged packed files and a full disk are refused.
load helper
load man-examples
bats_require_minimum_version 1.5.0

H=/usr/share/opencv4/haarcascades
L=/usr/share/opencv4/lbpcascades

setup() {
	cd "$BATS_TEST_TMPDIR"
}

need_opencv_data() {
	[ -r $H/haarcascade_frontalface_alt2.xml ] || skip "no opencv-data"
}

# u32 FILE OFFSET: the little-endian u32 at OFFSET of FILE
u32() {
	od -An -tu4 --endian=little -j "$2" -N 4 "$1" | tr -d ' '
}

@test "-h prints the usage and exits 0" {
	run cascadepack -h
	assert_success
	assert_output --partial "usage: cascadepack"
}

@test "an unknown option or two cascades is a usage error (exit 2)" {
	run cascadepack -x
	assert_failure 2
	assert_output --partial "usage: cascadepack"
	run cascadepack a.xml b.xml
	assert_failure 2
}

@test "the header: magic, version 1, the file's length, and the XML's counts" {
	need_opencv_data
	X=$H/haarcascade_frontalface_alt2.xml
	cascadepack $X > p.fkc
	[ "$(head -c 8 p.fkc | od -An -tx1 | tr -d ' ')" = 89464b430d0a1a0a ]
	[ "$(u32 p.fkc 8)" = 1 ]
	[ "$(u32 p.fkc 12)" = "$(stat -c %s p.fkc)" ]
	[ "$(u32 p.fkc 16)" = 0 ]
	[ "$(u32 p.fkc 20) $(u32 p.fkc 24)" = "20 20" ]
	# stages, trees, features, and nodes (4 numbers each in <internalNodes>)
	S=$(grep -c '<stageThreshold>' $X)
	T=$(grep -c '<internalNodes>' $X)
	F=$(grep -c '<rects>' $X)
	N=$(awk '/<internalNodes>/ { on = 1 } on { l = $0; gsub(/<\/?internalNodes>/, " ", l); n += split(l, a, " ") }
		/<\/internalNodes>/ { on = 0 } END { print n / 4 }' $X)
	[ "$(u32 p.fkc 28) $(u32 p.fkc 32) $(u32 p.fkc 36) $(u32 p.fkc 40)" = "$S $T $N $F" ]
	# the length by fkcascade(5)'s formula for HAAR
	[ "$(stat -c %s p.fkc)" -eq $((48 + 8 * S + 8 * T + 20 * N + 64 * F)) ]
}

@test "packed alt2, eye, a tilted-feature cascade and LBP find exactly what their XML finds" {
	need_opencv_data
	skip_without_data
	for x in $H/haarcascade_frontalface_alt2.xml $H/haarcascade_eye.xml \
		$H/haarcascade_eye_tree_eyeglasses.xml $L/lbpcascade_frontalface.xml; do
		cascadepack $x > p.fkc
		for p in 2008_002506 2008_004176; do
			for n in 0 3; do
				facefind -n $n -c $x "$DATA/dlib-faces/$p.jpg" > xml.txt
				facefind -n $n -c p.fkc "$DATA/dlib-faces/$p.jpg" > packed.txt
				cmp xml.txt packed.txt || fail "$x on $p with -n $n"
			done
		done
		# the photos hold faces and eyes: the comparison is not of nothing
		[ "$(facefind -n 0 -c p.fkc "$DATA/dlib-faces/2008_002506.jpg" | wc -l)" -gt 0 ]
	done
	grep -q '<tilted>1' $H/haarcascade_eye_tree_eyeglasses.xml
}

@test "a packed cascade packs to itself; standard input works" {
	need_opencv_data
	cascadepack $H/haarcascade_eye.xml > a.fkc
	cascadepack < $H/haarcascade_eye.xml > b.fkc
	cmp a.fkc b.fkc
	cascadepack a.fkc > c.fkc
	cmp a.fkc c.fkc
}

@test "facefind's defaults are the packed cascades beside it, else opencv-data's XML" {
	need_opencv_data
	bin=$(dirname "$(command -v facefind)")
	[ -e "$bin/../share/facekit/haarcascade_frontalface_alt2.fkc" ] || skip "make did not pack them"
	run facefind -h
	assert_output --partial "-c $(cd "$bin/.." && pwd)/share/facekit/haarcascade_frontalface_alt2.fkc"
	assert_output --partial "-E $(cd "$bin/.." && pwd)/share/facekit/haarcascade_eye.fkc"
	cascadepack $H/haarcascade_frontalface_alt2.xml | cmp - "$bin/../share/facekit/haarcascade_frontalface_alt2.fkc"
	mkdir -p alone/bin
	cp "$bin/facefind" alone/bin/
	run alone/bin/facefind -h
	assert_output --partial "-c $H/haarcascade_frontalface_alt2.xml"
	assert_output --partial "-E $H/haarcascade_eye.xml"
}

@test "missing, empty, folder or malformed cascades: exit 1 naming them" {
	run cascadepack nosuch.xml
	assert_failure 1
	assert_output "cascadepack: nosuch.xml: No such file or directory"
	: > empty.xml
	run cascadepack empty.xml
	assert_failure 1
	assert_output "cascadepack: empty.xml: the cascade file is empty"
	mkdir folder.xml
	run cascadepack folder.xml
	assert_failure 1
	assert_output "cascadepack: folder.xml: Is a directory"
	echo '<opencv_storage><x>1</x></opencv_storage>' > notcascade.xml
	run cascadepack < notcascade.xml
	assert_failure 1
	assert_output --partial "(standard input):1: <x> is not a cascade"
}

# laughs N: a 1 KB cascade whose stage threshold is an entity nested N
# levels deep, ten references a level: 2 * 10^(N+1) bytes once expanded
laughs() {
	local i j
	printf '<?xml version="1.0"?>\n<!DOCTYPE opencv_storage [\n<!ENTITY l0 "0 0 0 0 0 0 0 0 0 0 ">\n'
	for ((i = 1; i <= $1; i++)); do
		printf '<!ENTITY l%d "' $i
		for j in 0 1 2 3 4 5 6 7 8 9; do printf '&l%d;' $((i - 1)); done
		printf '">\n'
	done
	printf ']>\n<opencv_storage><cascade><stageType>BOOST</stageType><featureType>HAAR</featureType>'
	printf '<height>4</height><width>4</width><featureParams><maxCatCount>0</maxCatCount></featureParams>'
	printf '<stageNum>1</stageNum><stages><_><maxWeakCount>0</maxWeakCount><stageThreshold>&l%d;</stageThreshold>' $1
	printf '<weakClassifiers/></_></stages><features/></cascade></opencv_storage>\n'
}

@test "a DOCTYPE (billion laughs: nested entities) is refused at once, in cascadepack and facefind" {
	laughs 8 > lol.xml
	[ "$(stat -c %s lol.xml)" -lt 1500 ]
	# the same in UTF-16, where libxml2's guard and the DTD check refuse it
	iconv -f UTF-8 -t UTF-16 lol.xml > lol16.xml
	laughs 0 | iconv -f UTF-8 -t UTF-16 > dtd16.xml
	ppmmake rgb:80/80/80 30 30 > p.ppm
	# 2 GB of expansion in 150 MB of address space (not under the
	# sanitizers, which reserve terabytes)
	lim=150000
	[ "${FACEKIT_SAN:-0}" = 1 ] && lim=unlimited
	while IFS='|' read -r f want; do
		run bash -c 'ulimit -v $1 && cascadepack $2' sh $lim $f
		assert_failure 1
		assert_output --partial "cascadepack: $f$want"
		run bash -c 'ulimit -v $1 && facefind -c $2 p.ppm' sh $lim $f
		assert_failure 1
		assert_output --partial "facefind: $f$want"
	done <<-EOF
	lol.xml|:2: a DOCTYPE has no place in a cascade (entities are refused)
	lol16.xml|:
	dtd16.xml|: a DOCTYPE has no place in a cascade (entities are refused)
	EOF
}

@test "elements nested 300 deep are refused (libxml2's limit is 256)" {
	{
		printf '<opencv_storage>'
		for ((i = 0; i < 300; i++)); do printf '<a>'; done
		for ((i = 0; i < 300; i++)); do printf '</a>'; done
		printf '</opencv_storage>\n'
	} > deep.xml
	run cascadepack deep.xml
	assert_failure 1
	assert_output --partial "cascadepack: deep.xml:1: not well-formed XML: Excessive depth"
}

@test "a damaged packed cascade: exit 1 saying what is wrong, in cascadepack and facefind" {
	need_opencv_data
	cascadepack $H/haarcascade_eye.xml > good.fkc
	head -c 5000 good.fkc > cut.fkc
	cp good.fkc flipped.fkc
	printf '\377' | dd of=flipped.fkc bs=1 seek=3000 conv=notrunc 2>/dev/null
	cp good.fkc v2.fkc
	printf '\002' | dd of=v2.fkc bs=1 seek=8 conv=notrunc 2>/dev/null
	{ cat good.fkc; echo; } > long.fkc
	ppmmake rgb:80/80/80 30 30 > p.ppm
	while IFS='|' read -r f want; do
		run cascadepack $f
		assert_failure 1
		assert_output "cascadepack: $f: $want"
		run facefind -c $f p.ppm
		assert_failure 1
		assert_output "facefind: $f: $want"
	done <<-EOF
	cut.fkc|truncated: the file ends at byte 5000 of the 98312 its header declares
	v2.fkc|packed cascade version 2, not 1
	long.fkc|1 byte after the 98312 its header declares
	EOF
	run facefind -c flipped.fkc p.ppm
	assert_failure 1
	assert_output --partial "flipped.fkc: CRC mismatch"
}

@test "a full disk on standard output: exit 1" {
	need_opencv_data
	run bash -c 'cascadepack "$1" > /dev/full' sh $H/haarcascade_eye.xml
	assert_failure 1
	assert_output "cascadepack: write error on standard output: No space left on device"
}

@test "the man pages' examples run" {
	need_opencv_data
	skip_without_data
	run_man_examples "$BATS_TEST_DIRNAME/../man/cascadepack.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/fkcascade.5"
}

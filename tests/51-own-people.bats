#!/usr/bin/env bats
# Your own people: records from a sorted faces folder (mkdataset FACES),
# the split that keeps a picture on one side, suggestions (facesuggest),
# and the bad folders a user makes.
load helper
bats_require_minimum_version 1.5.0

setup() {
	skip_without_data
	cd "$BATS_TEST_TMPDIR"
}

# faces/: facecollect of 8 photos each of two people, names with a space
collected() {
	local p f
	for p in Tony_Blair Colin_Powell; do
		mkdir -p "photos/${p/_/ }"
		for f in $(ls "$DATA/lfw/images/$p" | head -n 8); do
			cp "$DATA/lfw/images/$p/$f" "photos/${p/_/ }/"
		done
	done
	facecollect -o faces photos 2> /dev/null
}

# records FILE SIDE [LABEL]: how many records of SIDE x SIDE FILE holds
# (of LABEL only, when given)
records() {
	if [ $# -eq 2 ]; then
		echo $(($(wc -c < "$1") / (1 + 3 * $2 * $2)))
	else
		od -An -v -tu1 -w$((1 + 3 * $2 * $2)) "$1" | awk -v l="$3" '$1 == l { n++ } END { print n + 0 }'
	fi
}

# trains FACE: FACE, scaled to 40x40, is one of ds/train.bin's records
trains() {
	local f
	pngtopnm "$1" | ppmscale32 -s 40 > face.ppm
	cifarunpack -s 40 ds/train.bin > train.ppm
	rm -f one-*.ppm
	pamsplit train.ppm 'one-%d.ppm' 2> /dev/null
	for f in one-*.ppm; do cmp -s "$f" face.ppm && return 0; done
	return 1
}

@test "mkdataset FACES: the person folders are the classes, every face a record" {
	collected
	mkdir -p faces/nonface faces/suggested/Someone
	cp "faces/Tony Blair/$(ls "faces/Tony Blair" | head -n 1)" faces/nonface/x.png
	cp "faces/Tony Blair/$(ls "faces/Tony Blair" | head -n 1)" faces/suggested/Someone/y.png
	n=$(find "faces/Tony Blair" "faces/Colin Powell" -type f | wc -l)
	run mkdataset -o ds faces
	[ "$status" -eq 0 ] || fail "$output"
	# class names are one word: a folder's blanks become underscores
	[ "$(cat ds/labels.txt)" = "$(printf 'Colin_Powell\nTony_Blair')" ]
	[ $(($(records ds/train.bin 40) + $(records ds/test.bin 40))) -eq "$n" ]
	[ "$(records ds/test.bin 40)" -ge 2 ]
}

@test "mkdataset FACES: a face saved again under another name is on its original's side" {
	collected
	dir="faces/Colin Powell"
	o1=$(ls "$dir" | sed -n 1p) o3=$(ls "$dir" | sed -n 3p)
	# the first face, smaller and saved again, named to sort 4th: alone
	# it would be a test face, beside its original that trains
	pngtopnm "$dir/$o1" | pnmscale 0.8 | pnmtopng > "$dir/${o3%.png}b.png"
	[ "$(ls "$dir" | sed -n 4p)" = "${o3%.png}b.png" ]
	run mkdataset -o ds faces
	[ "$status" -eq 0 ] || fail "$output"
	trains "$dir/${o3%.png}b.png" || fail "the copy is not a training record beside its original"
}

@test "mkdataset FACES: two faces of one photo go to the same side" {
	collected
	# make the manifest say that the first two faces of Colin Powell come from one photo
	a=$(ls "faces/Colin Powell" | sed -n 1p) b=$(ls "faces/Colin Powell" | sed -n 4p)
	pa=$(grep "^Colin Powell/$a" faces/manifest.txt | cut -f2)
	awk -F'\t' -v OFS='\t' -v b="Colin Powell/$b" -v p="$pa" '$1 == b { $2 = p } { print }' \
		faces/manifest.txt > m && mv m faces/manifest.txt
	run mkdataset -o ds faces
	[ "$status" -eq 0 ] || fail "$output"
	# alone, the 4th face would be a test face; grouped with the 1st it trains
	trains "faces/Colin Powell/$b" || fail "the 4th face is not a training record"
}

@test "mkdataset FACES: one person folder, too few faces, an empty folder or a bad file are named" {
	collected
	mv "faces/Colin Powell" away
	run mkdataset -o ds faces
	[ "$status" -eq 1 ]
	assert_output --partial "1 person folder(s)"
	mv away "faces/Colin Powell"
	mkdir faces/Empty
	run mkdataset -o ds faces
	[ "$status" -eq 1 ]
	assert_output --partial "faces/Empty: 0 face(s)"
	rmdir faces/Empty
	mkdir faces/Lonely
	cp "faces/Tony Blair/$(ls "faces/Tony Blair" | head -n 1)" faces/Lonely/
	run mkdataset -o ds faces
	[ "$status" -eq 1 ]
	assert_output --partial "faces/Lonely: 1 face(s)"
	rm -r faces/Lonely
	echo hello > "faces/Tony Blair/note.txt"
	run mkdataset -o ds faces
	[ "$status" -eq 1 ]
	assert_output --partial "cannot group its faces"
	rm "faces/Tony Blair/note.txt"
	run mkdataset -m 1.5 -o ds faces
	[ "$status" -eq 2 ]
	assert_output --partial "-m:"
	[ ! -e ds/train.bin ]
}

@test "facesuggest: faces the model is sure of go to suggested/NAME, the rest stay" {
	collected
	mkdataset -o ds faces 2> /dev/null
	facetrain -o m.model -l ds/labels.txt -N 'conv 5 8; pool 3 2; fc N' -b 16 -n 150 ds/train.bin 2> /dev/null
	# the faces back to unsorted, as if never sorted
	mv faces/*/*.png faces/unsorted/ 2> /dev/null || true
	n=$(ls faces/unsorted | wc -l)
	run facesuggest -n m.model faces
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq "$n" ]
	run facesuggest -t 0.5 m.model faces
	[ "$status" -eq 0 ]
	assert_output --partial "faces suggested"
	s=$(find faces/suggested -name '*.png' | wc -l)
	[ "$s" -ge $((n / 2)) ]
	[ $((s + $(ls faces/unsorted | wc -l))) -eq "$n" ]
	# most suggestions right: a Tony Blair face suggested as Tony Blair
	right=$(find "faces/suggested/Tony Blair" -name 'Tony_Blair*' | wc -l)
	wrong=$(find "faces/suggested/Tony Blair" -name 'Colin_Powell*' | wc -l)
	[ "$right" -gt "$wrong" ]
	# a threshold over 1 is refused; run again, it moves nothing
	run facesuggest -t 1.01 m.model faces
	[ "$status" -eq 2 ]
	find faces -name '*.png' | sort > before
	facesuggest -t 0.5 m.model faces
	find faces -name '*.png' | sort | diff - before
}

@test "facesuggest: a face is named as classify-dir names it in its photo" {
	collected
	mkdataset -o ds faces 2> /dev/null
	# a slow rate, so that the probabilities are not all 0 or 1
	facetrain -o m.model -l ds/labels.txt -N 'conv 5 8; pool 3 2; fc N' -b 16 -r 0.001 -n 100 \
		-T 1 ds/train.bin 2> /dev/null
	# the model's faces are cut at margin 1.25 / 1.2 * 1.2 * 32/40 = 1 about
	# facefind's box, the folder's at 1.25
	[ "$(faceclassify -i m.model | awk '$1 == "find-margin" { print $2 }')" = 1 ]
	mv faces/*/*.png faces/unsorted/ 2> /dev/null || true
	facesuggest -n m.model faces | sort > suggested
	# the same faces named by the whole pipeline on their photos: the
	# manifest gives each photo's k-th face its file
	cut -f 2 faces/manifest.txt | grep '^/' | sort -u | tr '\n' '\0' |
		xargs -0 classify-dir -T 1 m.model |
		awk -F'\t' -v OFS='\t' 'FILENAME == ARGV[1] { if ($1 !~ /^#/ && $1 != "-") {
				n = $1; sub(/.*\//, "", n); k = n; sub(/\.png$/, "", k); sub(/.*-/, "", k)
				face[$2, k] = n }; next }
			{ split($3, c, " "); print "unsorted/" face[$1, c[1] + 1], c[2], c[3] }' \
			faces/manifest.txt - | sort > named
	[ "$(wc -l < named)" -ge 12 ]
	[ "$(cut -f 1 suggested)" = "$(cut -f 1 named)" ]
	# Tony Blair's probability agrees but for resampling the face twice (a
	# face cut as the whole image, at the folder's margin, is off by 0.07)
	paste suggested named | awk -F'\t' '
		function tb(name, p) { return name == "Tony_Blair" ? p : 1 - p }
		{ d = tb($2, $3) - tb($5, $6); if (d < 0) d = -d; if (d > m) m = d }
		END { exit !(m < 0.025) }' || fail "$(paste suggested named)"
}

@test "facesuggest: no faces folder, no model, bad usage, a full disk" {
	run facesuggest m.model nowhere
	[ "$status" -eq 1 ]
	mkdir -p faces/unsorted
	run facesuggest missing.model faces
	[ "$status" -eq 1 ]
	assert_output --partial "missing.model"
	run facesuggest faces
	[ "$status" -eq 2 ]
	run facesuggest -h
	[ "$status" -eq 0 ]
	assert_output --partial "usage: facesuggest"
	# -n's lines into a full disk
	printf '# facecollect manifest 1\n# margin=1.25 side=32\n' > faces/manifest.txt
	ppmmake red 32 32 | pnmtopng > faces/unsorted/a.png
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > r.bin
	printf 'Ann\nBob\n' > labels.txt
	facetrain -o m.model -l labels.txt -n 1 -N 'fc N' -b 2 r.bin 2> /dev/null
	run bash -c 'facesuggest -n m.model faces > /dev/full'
	assert_failure 1
	assert_output --partial "facesuggest: write error on standard output"
}

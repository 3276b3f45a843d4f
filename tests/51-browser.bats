#!/usr/bin/env bats
# facekit's page in a real browser: Debian's chromium, headless, driven by
# playwright-core (tests/browser/pages.js) in one run for the whole file:
# a photo dropped on the page is boxed and named as the API names it,
# errors are shown; on the sorting page clicks and keys move face files.  Skipped, with the reason, only when chromium cannot
# start; scripts/install-deps installs it and playwright-core.
load helper
load server

top=$BATS_TEST_DIRNAME/..

setup_file() {
	cd "$BATS_FILE_TMPDIR"
	[ -d "$top/tests/browser/node_modules/playwright-core" ] ||
		fail "playwright-core is not installed: run scripts/install-deps"
	# a faces folder as facecollect leaves it
	mkdir -p faces/unsorted faces/suggested/Tony_Blair faces/Alice
	for f in unsorted/a-1 unsorted/b-1 unsorted/b-2 suggested/Tony_Blair/c-1; do
		ppmmake red 24 24 | pnmtopng > "faces/$f.png"
	done
	printf '# facecollect\nunsorted/a-1.png\t/p/a.jpg\t1 2 3 4 0\t5\t1\n' > faces/manifest.txt
	start_server -f faces
	export URL SERVER
	printf 'hello\n' > note.txt
	ppmmake gray 64 48 > grey.ppm
	steps=(drop:note.txt drop:grey.ppm sort)
	if [ -d "$DATA/dlib-faces" ]; then
		cp "$DATA/dlib-faces/2008_002470.jpg" photo.jpg
		jpegtopnm photo.jpg 2> /dev/null > photo.ppm
		mkdir -p "$top/out"
		steps+=("drop:photo.jpg:$top/out/web.png" pick:photo.ppm)
		curl -sS -f -F file=@photo.jpg "$URL/api/faces" > api.json
	fi
	status=0
	node "$top/tests/browser/pages.js" "$URL/" "${steps[@]}" > pages.out 2> pages.err || status=$?
	echo "$status" > pages.status
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown_file() {
	stop_server
}

# the page's state after step N (from 1), or skip when chromium cannot start
step() {
	local s
	s=$(cat "$BATS_FILE_TMPDIR/pages.status")
	[ "$s" -ne 77 ] || skip "$(cat "$BATS_FILE_TMPDIR/pages.err")"
	[ "$s" -eq 0 ] || fail "pages.js: $(cat "$BATS_FILE_TMPDIR/pages.err")"
	sed -n "$1p" "$BATS_FILE_TMPDIR/pages.out" > "$BATS_TEST_TMPDIR/page.json"
}

@test "a file that is not a photo gives a clear message on the page" {
	step 1
	jq -e '.error and (.status | test("refused the photo \\(400\\): the body is not a photo"))
		and .boxes == []' page.json > /dev/null || fail "$(cat page.json)"
}

@test "a photo without faces says so" {
	step 2
	jq -e '.error == false and .status == "No face found in this photo."' page.json > /dev/null ||
		fail "$(cat page.json)"
}

@test "on the sorting page a click and keys move faces into person folders" {
	step 3
	f=$BATS_FILE_TMPDIR/faces
	jq -e '.said == ["Moved to Alice/b-1.png; 3 left.", "Moved to other/b-2.png; 2 left.",
			 "Moved to Tony_Blair/c-1.png; 1 left."]
		and .people == ["Alice", "other", "nonface", "Tony_Blair"]
		and .left == ["unsorted/a-1.png"]' page.json > /dev/null || fail "$(cat page.json)"
	[ -f "$f/Alice/b-1.png" ] && [ -f "$f/other/b-2.png" ] && [ -f "$f/Tony_Blair/c-1.png" ]
	[ "$(cd "$f" && find . -name '*.png' | sort | tr '\n' ' ')" = \
		"./Alice/b-1.png ./Tony_Blair/c-1.png ./other/b-2.png ./unsorted/a-1.png " ]
}

@test "a dropped photo is boxed and named as the API names it; the README's screenshot" {
	skip_without_data
	step 4
	a=$BATS_FILE_TMPDIR/api.json
	[ "$(jq '.faces | length' "$a")" -ge 6 ]
	# on each box its number, top name and probability to 2 places; beside, the top three
	jq -e --slurpfile a "$a" '
		.error == false and (.status | startswith("\($a[0].faces | length) faces"))
		and .lists == [$a[0].faces[] | [.predictions[].label]]
		and ([.boxes[] | split(" ")[1]] == [$a[0].faces[].predictions[0].label])
		and ([.boxes[] | split(" ")[2] | tonumber] | length) == ($a[0].faces | length)' page.json > /dev/null ||
		fail "page: $(cat page.json) api: $(cat "$a")"
	for i in $(seq "$(jq '.boxes | length' page.json)"); do
		want=$(jq -r --argjson i "$i" '.faces[$i - 1].predictions[0].probability' "$a")
		got=$(jq -r --argjson i "$i" '.boxes[$i - 1] | split(" ")[2]' page.json)
		[ "$(printf '%.2f' "$want")" = "$got" ] || fail "box $i: $got, not $want"
	done
	pngtopam "$top/out/web.png" | pamfile - | grep -q 'PPM raw'
}

@test "a photo picked with the file button, as a PPM, is named too" {
	skip_without_data
	step 5
	jq -e --slurpfile a "$BATS_FILE_TMPDIR/api.json" '.lists == [$a[0].faces[] | [.predictions[].label]]' \
		page.json > /dev/null || fail "$(cat page.json)"
}

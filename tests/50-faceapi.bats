#!/usr/bin/env bats
# faceapi under a real lighttpd started by faceserve on a free port of
# 127.0.0.1: the faces and names of the command-line pipeline, every error
# status, 20 requests at once, slow clients, and a clean stop.
load helper
load server

model=$BATS_TEST_DIRNAME/../examples/lfw7+other.model

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	stop_server
}

# what the README's pipeline says of PHOTO, in the API's JSON form; faces
# cut at MARGIN (default 1.2, the shipped model's for facefind's boxes)
pipeline_json() {
	facefind "$1" > boxes.txt
	facecrop -m "${2:-1.2}" boxes.txt "$1" | ppmscale32 | faceclassify -k 3 -j "$model" > names.txt
	jq -n --rawfile b boxes.txt --slurpfile n names.txt '
		[$b | split("\n")[] | select(length > 0) | split(" ") | map(tonumber)] as $boxes
		| [range(0; $boxes | length) as $i
		   | {box: {x: $boxes[$i][0], y: $boxes[$i][1], w: $boxes[$i][2], h: $boxes[$i][3]},
		      angle: 0,
		      predictions: ([$n[$i] | {label: .class, probability: .prob}]
				    + [$n[$i].next[] | {label: .class, probability: .prob}])}]'
}

@test "-h prints the usage; run outside a web server it is a usage error" {
	run faceapi -h
	assert_success
	assert_output --partial "usage: faceapi"
	run env -u REQUEST_METHOD faceapi
	assert_failure 2
	assert_output --partial "run me as a CGI program"
}

@test "GET /api/labels lists the model's class names in order" {
	hand=$(dirname "$(command -v faceapi)")/../tests/hand_model
	"$hand" hand.bin
	start_server -m hand.bin
	run curl -sS "$URL/api/labels"
	assert_success
	[ "$(jq -c .labels <<< "$output")" = '["red","green","blue"]' ]
	[ "$(jq -r .model <<< "$output")" = hand.bin ]
}

@test "a photo gives the faces, boxes and names of the command-line pipeline" {
	skip_without_data
	start_server
	photos="2008_002470 2008_007676 bald_guys dogs"
	[ "${FACEKIT_SAN:-0}" = 1 ] && photos="2008_002470 dogs"
	for p in $photos; do
		photo=$DATA/dlib-faces/$p.jpg
		pipeline_json "$photo" > want.json
		curl -sS -f -H 'Content-Type: image/jpeg' --data-binary "@$photo" \
			"$URL/api/faces" > got.json || fail "$p: curl failed"
		jq -e --slurpfile w want.json '.faces == $w[0]' got.json > /dev/null ||
			fail "$p: $(jq -c .faces got.json) is not $(cat want.json)"
		read -r w h < <(jpegtopnm "$photo" 2> /dev/null | pamfile - | awk '{ print $4, $6 }')
		jq -e --argjson w "$w" --argjson h "$h" \
			'.image == {width: $w, height: $h} and .model == "lfw7+other.model"
			 and (.elapsed_ms | type == "number" and . > 0)' got.json > /dev/null ||
			fail "$p: $(jq -c 'del(.faces)' got.json)"
	done
	# the group photos hold faces; the dogs none
	[ "$(jq '.faces | length' got.json)" -eq 0 ]
}

@test "faces are cut at the model's margin for facefind's boxes, as classify-dir and demo cut them" {
	skip_without_data
	for c in 20 60; do ppmmake rgb:$c/$c/$c 32 32; done | cifarpack 0 > r.bin
	printf 'Someone\nNobody\n' > labels.txt
	facetrain -o m.model -l labels.txt -m 1.5 -n 30 -N 'fc N' -b 2 r.bin 2> /dev/null
	model=$PWD/m.model
	start_server -m "$model"
	# 1.5 around LFW-like boxes, 32 of 32, facefind's boxes 1.2 times narrower
	[ "$(curl -sS -f "$URL/api/labels" | jq .margin)" = 1.8 ]
	photo=$DATA/dlib-faces/2008_002470.jpg
	pipeline_json "$photo" 1.8 > want.json
	[ "$(jq length want.json)" -ge 6 ]
	curl -sS -f -H 'Content-Type: image/jpeg' --data-binary "@$photo" "$URL/api/faces" |
		jq -e --slurpfile w want.json '.faces == $w[0]' > /dev/null
	# and not at the shipped model's 1.2
	pipeline_json "$photo" 1.2 > other.json
	! cmp -s <(jq -c . want.json) <(jq -c . other.json)
}

@test "the same photo as a form's file field, as a PPM, as a PNG, and with k=1" {
	skip_without_data
	start_server
	photo=$DATA/dlib-faces/2008_002470.jpg
	curl -sS -f -H 'Content-Type: image/jpeg' --data-binary "@$photo" "$URL/api/faces" |
		jq -c .faces > raw.json
	[ "$(jq length raw.json)" -ge 6 ]
	curl -sS -f -F "file=@$photo" "$URL/api/faces" | jq -c .faces > form.json
	cmp raw.json form.json
	jpegtopnm "$photo" 2> /dev/null > photo.ppm
	curl -sS -f -H 'Content-Type: image/x-portable-pixmap' --data-binary @photo.ppm \
		"$URL/api/faces" | jq -c .faces | cmp - raw.json
	pnmtopng photo.ppm > photo.png
	curl -sS -f -H 'Content-Type: image/png' --data-binary @photo.png \
		"$URL/api/faces" | jq -c .faces | cmp - raw.json
	curl -sS -f -F "file=@$photo" "$URL/api/faces?k=1" |
		jq -e --slurpfile r raw.json '.faces == [$r[0][] | .predictions |= .[:1]]'
}

@test "detector settings and the eye check are taken from the query" {
	skip_without_data
	start_server
	photo=$DATA/dlib-faces/2008_002470.jpg
	for q in "min_size=40:-m 40" "neighbors=8:-n 8" "scale=1.3:-s 1.3" "eyes=1:-e"; do
		facefind ${q#*:} "$photo" | awk '{ print $1, $2, $3, $4 }' > want
		curl -sS -f --data-binary "@$photo" -H 'Content-Type: image/jpeg' \
			"$URL/api/faces?${q%%:*}" | jq -r '.faces[] | .box | "\(.x) \(.y) \(.w) \(.h)"' > got
		cmp want got || fail "${q%%:*}: $(cat got) is not $(cat want)"
	done
}

# status CODE of a curl run, body JSON naming WORDS: check_error CODE WORDS -- CURL-ARGS
check_error() {
	local code=$1 words=$2
	shift 3
	run curl -sS -o body.json -D head.txt -w '%{http_code}' "$@"
	[ "$output" = "$code" ] || fail "$*: status $output, not $code: $(cat body.json)"
	grep -qi '^Content-Type: application/json' head.txt || fail "$*: not JSON: $(cat head.txt)"
	jq -e --argjson c "$code" '.status == $c and (.error | type == "string")' body.json > /dev/null ||
		fail "$*: $(cat body.json)"
	grep -q -- "$words" body.json || fail "$*: \"$words\" not in $(cat body.json)"
}

@test "every error is JSON with its status" {
	start_server -s 5000
	printf 'GIF89a\001\000\001\000\000\000\000;' > tiny.gif
	printf 'hello' > hello.txt
	printf 'P6\n4 4\n255\n' > cut.ppm
	head -c 5001 /dev/zero > over.bin
	head -c 6000 /dev/zero > way-over.bin
	check_error 405 "send the photo with POST" -- "$URL/api/faces"
	grep -q '^Allow: POST' head.txt
	check_error 405 "only GET" -- -d x "$URL/api/labels"
	check_error 411 "Content-Length" -- -X POST -H 'Content-Length:' -H 'Transfer-Encoding:' "$URL/api/faces"
	check_error 413 "over the limit of 5000" -- --data-binary @over.bin -H 'Content-Type: image/jpeg' "$URL/api/faces"
	check_error 413 "over the server's limit" -- --data-binary @way-over.bin -H 'Content-Type: image/jpeg' "$URL/api/faces"
	check_error 415 "text/plain" -- --data-binary @hello.txt -H 'Content-Type: text/plain' "$URL/api/faces"
	check_error 415 "GIF" -- --data-binary @tiny.gif -H 'Content-Type: application/octet-stream' "$URL/api/faces"
	check_error 415 "GIF" -- -F file=@tiny.gif "$URL/api/faces"
	check_error 400 "not a photo" -- --data-binary @hello.txt -H 'Content-Type: image/jpeg' "$URL/api/faces"
	check_error 400 "cannot be read" -- --data-binary @cut.ppm -H 'Content-Type: image/x-portable-pixmap' "$URL/api/faces"
	check_error 400 "empty" -- -X POST -H 'Content-Type: image/jpeg' -H 'Content-Length: 0' "$URL/api/faces"
	check_error 400 'no field \\"file\\"' -- -F photo=@cut.ppm "$URL/api/faces"
	check_error 400 "boundary" -- --data-binary @cut.ppm -H 'Content-Type: multipart/form-data' "$URL/api/faces"
	check_error 400 "not a media type" -- --data-binary @cut.ppm -H 'Content-Type: image' "$URL/api/faces"
	check_error 400 'unknown parameter \\"x\\"' -- --data-binary @cut.ppm "$URL/api/faces?x=1"
	check_error 400 'k=\\"0\\"' -- --data-binary @cut.ppm "$URL/api/faces?k=0"
	check_error 400 'scale=\\"1\\"' -- --data-binary @cut.ppm "$URL/api/faces?scale=1"
	check_error 400 "Bad Request" -- --data-binary @cut.ppm "$URL/api/faces?k=%00"
	check_error 404 "no such API" -- "$URL/api/nothing"
	check_error 404 "Not Found" -- "$URL/nothing.html"
}

@test "a damaged JPEG is refused with 400" {
	skip_without_data
	start_server
	photo=$DATA/dlib-faces/2008_002470.jpg
	head -c 3000 "$photo" > cut.jpg
	{ head -c 200 "$photo"; head -c 3000 /dev/zero; tail -c +3201 "$photo"; } > holed.jpg
	check_error 400 "cannot be read" -- --data-binary @cut.jpg -H 'Content-Type: image/jpeg' "$URL/api/faces"
	check_error 400 "cannot be read" -- -F file=@holed.jpg "$URL/api/faces"
}

@test "when every pipeline is busy a request waits, then gets 503 with Retry-After" {
	start_server -j 1 -w 300
	ppmmake gray 40 40 > grey.ppm
	# hold the only slot, as a running pipeline does
	flock "$RUN/slot.0" sleep 3 &
	holder=$!
	sleep 0.3
	check_error 503 "busy" -- -F file=@grey.ppm "$URL/api/faces"
	grep -q '^Retry-After: 1' head.txt
	wait "$holder"
	run curl -sS -f -F file=@grey.ppm "$URL/api/faces"
	assert_success
	[ "$(jq -c .faces <<< "$output")" = "[]" ]
}

@test "20 requests at once are all answered, every answer right" {
	skip_without_data
	start_server -w 120000
	photo=$DATA/dlib-faces/2008_002470.jpg
	# under the sanitizers, an LFW photo of one face: the same requests, a tenth of the work
	[ "${FACEKIT_SAN:-0}" = 1 ] && photo=$DATA/lfw/images/Colin_Powell/Colin_Powell_0001.jpg
	pipeline_json "$photo" > want.json
	pids=()
	for i in $(seq 20); do
		curl -sS -o "got$i.json" -w '%{http_code}\n' -F "file=@$photo" "$URL/api/faces" > "code$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 20); do
		[ "$(cat "code$i")" = 200 ] || fail "request $i: $(cat "code$i") $(cat "got$i.json")"
		# the same boxes and names; probabilities within 1e-5, as a
		# batch of faces and one face at a time round the last digit
		jq -e --slurpfile w want.json '(.faces | length) == ($w[0] | length) and
			([.faces, $w[0]] | transpose | all(.[0].box == .[1].box and .[0].angle == .[1].angle and
			 ([.[0].predictions, .[1].predictions] | transpose | all(.[0].label == .[1].label and
			  ((.[0].probability - .[1].probability) as $d | $d < 1e-5 and $d > -1e-5)))))' \
			"got$i.json" > /dev/null ||
			fail "request $i: $(jq -c .faces "got$i.json")"
	done
}

@test "a slow client holds no pipeline and is dropped after the idle time" {
	start_server -j 1 -t 2
	ppmmake gray 40 40 > grey.ppm
	# half the headers, then silence; and a body promised but never sent
	exec 5<> "/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /api/faces HTTP/1.1\r\nHost: x\r\n' >&5
	exec 6<> "/dev/tcp/127.0.0.1/$PORT"
	printf 'POST /api/faces HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n\377\330' >&6
	sleep 0.5
	# the one pipeline is free for a quick client meanwhile
	run curl -sS -f --max-time 5 -F file=@grey.ppm "$URL/api/faces"
	assert_success
	# the server closes both within the idle time and a little
	SECONDS=0
	run timeout 10 cat <&5
	[ "$status" -eq 0 ] || fail "the slow headers were held $SECONDS s"
	run timeout 10 cat <&6
	[ "$status" -eq 0 ] || fail "the slow body was held $SECONDS s"
	[ "$SECONDS" -le 6 ]
	exec 5>&- 6>&-
}

@test "a request leaves no file behind and reaches nothing outside the server's folders" {
	skip_without_data
	start_server
	photo=$DATA/dlib-faces/2008_002470.jpg
	head -c 2000000 /dev/urandom > noise.bin
	curl -sS -o /dev/null -F "file=@$photo" "$URL/api/faces"
	curl -sS -o /dev/null -F "file=@noise.bin" "$URL/api/faces"
	[ -z "$(ls -A "$RUN/upload")" ] || fail "left in upload/: $(ls "$RUN/upload")"
	for p in /../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /api/../../etc/passwd /api/labels/../../../etc/passwd; do
		run curl -sS --path-as-is "$URL$p"
		refute_output --partial "root:"
	done
	grep -q 'server.bind = "127.0.0.1"' "$RUN/lighttpd.conf"
}

@test "faceserve stops on SIGINT and SIGTERM, and removes what it made" {
	start_server
	kill -INT "$SERVER"
	status=0
	wait "$SERVER" || status=$?
	SERVER=
	[ "$status" -eq 130 ]
	# -d keeps the configuration only
	[ "$(ls "$RUN")" = lighttpd.conf ]
	run curl -sS --max-time 2 "$URL/api/labels"
	assert_failure
	# without -d every file goes
	mkdir tmp
	TMPDIR=$PWD/tmp faceserve -p "$PORT" 2> /dev/null &
	pid=$!
	for i in $(seq 100); do curl -s -o /dev/null "$URL/" && break; sleep 0.05; done
	[ -n "$(ls tmp)" ]
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	[ "$status" -eq 143 ]
	[ -z "$(ls tmp)" ]
}

@test "faceserve refuses bad options" {
	run faceserve -p 0
	assert_failure 2
	assert_output --partial "-p '0' is not an integer in 1..65535"
	run faceserve -a 'x"y'
	assert_failure 2
	run faceserve -m nothing.model
	assert_failure 1
	assert_output --partial "nothing.model: no such model"
	run faceserve -h
	assert_success
	assert_output --partial "usage: faceserve"
}

@test "the man pages' examples run as written" {
	skip_without_data
	load man-examples
	run_man_examples "$BATS_TEST_DIRNAME/../man/faceapi.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/faceserve.1"
	run_man_examples "$BATS_TEST_DIRNAME/../man/facekit-api.7"
}

@test "the sorting API moves a face inside the faces folder and nowhere else" {
	mkdir -p faces/unsorted faces/suggested/Jo faces/Ann outside
	for f in unsorted/a-1 unsorted/b-1 suggested/Jo/c-1; do
		ppmmake red 8 8 | pnmtopng > "faces/$f.png"
	done
	printf 'secret\n' > outside/secret.png
	ln -s "$PWD/outside/secret.png" faces/unsorted/link.png
	ln -s "$PWD/outside" faces/suggested/Out
	start_server -f faces
	run curl -sS -f "$URL/api/sort"
	assert_success
	jq -e '.people == ["Ann", "other", "nonface"]
		and [.faces[].file] == ["unsorted/a-1.png", "unsorted/b-1.png", "suggested/Jo/c-1.png"]
		and .faces[2].suggested == "Jo"' <<< "$output" > /dev/null || fail "$output"
	curl -sS -f "$URL/api/sort/face?file=unsorted/a-1.png" | cmp - faces/unsorted/a-1.png
	run curl -sS -f -d '' "$URL/api/sort/move?file=unsorted/a-1.png&to=Jo%20Smith"
	assert_success
	[ -f "faces/Jo Smith/a-1.png" ] && [ ! -e faces/unsorted/a-1.png ]
	check_error 404 "no face unsorted/link.png" -- "$URL/api/sort/face?file=unsorted/link.png"
	check_error 404 "no face suggested/Out/secret.png" -- "$URL/api/sort/face?file=suggested/Out/secret.png"
	check_error 404 "no face" -- -d '' "$URL/api/sort/move?file=unsorted/link.png&to=Ann"
	check_error 400 "starts with a dot" -- "$URL/api/sort/face?file=unsorted/..%2F..%2Foutside%2Fsecret.png"
	check_error 400 "not in unsorted" -- "$URL/api/sort/face?file=%2Fetc%2Fpasswd"
	check_error 400 "starts with a dot" -- -d '' "$URL/api/sort/move?file=unsorted/b-1.png&to=.."
	check_error 400 "slash" -- -d '' "$URL/api/sort/move?file=unsorted/b-1.png&to=a%2Fb"
	check_error 400 "collector's folder" -- -d '' "$URL/api/sort/move?file=unsorted/b-1.png&to=unsorted"
	cp faces/unsorted/b-1.png faces/Ann/b-1.png
	check_error 409 "exists already" -- -d '' "$URL/api/sort/move?file=unsorted/b-1.png&to=Ann"
	check_error 405 "use POST" -- "$URL/api/sort/move?file=unsorted/b-1.png&to=Ann"
	[ -f faces/unsorted/b-1.png ] && [ "$(cat outside/secret.png)" = secret ]
	[ "$(ls outside)" = secret.png ]
}

@test "start_server tries another port when the server ends at once" {
	# a faceserve that fails its first start, as on a port taken meanwhile
	mkdir bin
	printf '#!/bin/sh\n[ -e %s/once ] && exec %s "$@"\n: > %s/once; exit 1\n' \
		"$PWD" "$(command -v faceserve)" "$PWD" > bin/faceserve
	chmod +x bin/faceserve
	PATH=$PWD/bin:$PATH start_server
	[ -e once ] && curl -sf "$URL/" > /dev/null
}

@test "without a faces folder the sorting API is not there" {
	start_server
	check_error 404 "sorts no faces folder" -- "$URL/api/sort"
}

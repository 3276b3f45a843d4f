#!/usr/bin/env bats
# The house: programs over libfacekit (lib/face) over libcnn (lib/cnn) over
# the shared base (lib/base).  A floor includes only its own headers and the
# public headers of the floors below; no two files of a library call each
# other.

load helper

top=$BATS_TEST_DIRNAME/..

# the "quoted" includes of the files given, as "file header" lines
includes() {
	grep -o '^#include "[^"]*"' "$@" /dev/null | sed 's/:#include "/ /; s/"$//'
}

# private headers: a library's own files use them, nothing above does
private() {
	case $1 in *_impl.h | cnn_layer.h) return 0 ;; esac
	return 1
}

# where header h lives: base, cnn, face, or nothing
floor_of() {
	for d in base cnn face; do
		[ -e "$top/lib/$d/$1" ] && { echo "$d"; return; }
	done
}

@test "lib/base includes nothing from libcnn or libfacekit" {
	includes "$top"/lib/base/*.[ch] | while read -r f h; do
		[ "$(floor_of "$h")" = base ] || fail "$f includes $h"
	done
}

@test "libcnn includes only its own headers and lib/base" {
	includes "$top"/lib/cnn/*.[ch] | while read -r f h; do
		case $(floor_of "$h") in base | cnn) ;; *) fail "$f includes $h" ;; esac
	done
}

@test "libfacekit includes only its own headers and the public ones below" {
	includes "$top"/lib/face/*.[ch] | while read -r f h; do
		case $(floor_of "$h") in
		face) ;;
		base | cnn) ! private "$h" || fail "$f includes private $h" ;;
		*) fail "$f includes $h" ;;
		esac
	done
}

@test "programs include no library's private headers" {
	includes "$top"/cmd/*.[ch] | while read -r f h; do
		! private "$h" || fail "$f includes private $h"
	done
}

# the library objects' symbols, as "object kind symbol" (kind U or D)
symbols() {
	for o in "$@"; do
		nm -g --defined-only "$o" | awk -v o="${o##*/}" '{print o, "D", $3}'
		nm -g --undefined-only "$o" | awk -v o="${o##*/}" '{print o, "U", $2}'
	done
}

@test "no two files of a library call each other" {
	bin=$(dirname "$(command -v facefind)")
	for lib in base cnn face; do
		objs=("$bin"/../lib/"$lib"/*.o)
		[ -e "${objs[0]}" ] || fail "no objects in $bin/../lib/$lib"
		symbols "${objs[@]}" > "$BATS_TEST_TMPDIR/sym"
		# edges "a b": a uses a symbol that b defines
		awk '$2 == "D" {def[$3] = $1} $2 == "U" {use[NR] = $1 " " $3}
		     END {for (i in use) {split(use[i], u, " ");
			  if (u[2] in def && def[u[2]] != u[1]) print u[1], def[u[2]]}}' \
			"$BATS_TEST_TMPDIR/sym" | sort -u > "$BATS_TEST_TMPDIR/edges"
		[ -s "$BATS_TEST_TMPDIR/edges" ] || [ "$lib" = base ] ||
			fail "lib/$lib: no calls between files found: the test sees nothing"
		awk '{e[$1 " " $2] = 1} END {for (k in e) {split(k, p, " ");
		     if ((p[2] " " p[1]) in e && p[1] < p[2]) print p[1], "<->", p[2]}}' \
			"$BATS_TEST_TMPDIR/edges" > "$BATS_TEST_TMPDIR/both"
		[ ! -s "$BATS_TEST_TMPDIR/both" ] ||
			fail "lib/$lib: $(cat "$BATS_TEST_TMPDIR/both")"
	done
}

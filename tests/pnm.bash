# Helpers for the image tests: compare netpbm images sample by sample.

# the samples of a one-image netpbm file (or standard input), one a line
pixels() {
	pnmtoplainpnm "$@" | tr -s ' \n' '\n\n' | sed '/^$/d' | tail -n +5
}

# two one-image files have the same size and samples within 1
same_within1() {
	[ "$(pamfile "$1" | cut -f2)" = "$(pamfile "$2" | cut -f2)" ] || return 1
	paste <(pixels "$1") <(pixels "$2") |
		awk '{ d = $1 - $2; if (d > 1 || d < -1) bad++ } END { exit bad > 0 }'
}

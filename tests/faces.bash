# faces.bash — real LFW face crops for the program tests, made with the
# toolkit's own filters: lfw-boxes | facecrop | ppmscale32.

# lfw_faces PERSON SPLIT COUNT [SIDE]: a PPM stream of up to COUNT SIDE x SIDE
# (default 32) crops of PERSON.  SPLIT "train" takes the images whose number
# is not divisible by 4, "test" those whose number is (the lfw7 split).
lfw_faces() {
	local person=$1 split=$2 count=$3 side=${4:-32} f box
	ls "$DATA/lfw/images/$person" | sort |
	awk -v s="$split" '{ n = substr($0, length($0) - 7, 4) + 0
		if ((s == "test") == (n % 4 == 0)) print }' |
	head -n "$count" |
	while read -r f; do
		box=$(lfw-boxes -i "$person/$f" "$DATA/lfw/annotations.txt") || return 1
		echo "$box" | facecrop -m 1.2 - "$DATA/lfw/images/$person/$f" || return 1
	done | ppmscale32 -s "$side"
}

# two_people DIR [COUNT [TESTCOUNT]]: DIR/train.bin, DIR/test.bin (32x32
# records, George W. Bush label 0, Colin Powell label 1) and DIR/labels.txt
two_people() {
	local dir=$1 n=${2:-100} t=${3:-30}
	mkdir -p "$dir"
	printf 'George_W_Bush\nColin_Powell\n' > "$dir/labels.txt"
	{ lfw_faces George_W_Bush train "$n" | cifarpack 0 &&
	  lfw_faces Colin_Powell train "$n" | cifarpack 1; } > "$dir/train.bin" &&
	{ lfw_faces George_W_Bush test "$t" | cifarpack 0 &&
	  lfw_faces Colin_Powell test "$t" | cifarpack 1; } > "$dir/test.bin"
}

/* cascade.c — the cascade library against answers worked out by hand: the
 * grey formula, the bit-exact resize on sizes where its weights are plain
 * halves, OpenCV's grouping on small sets of rectangles, and a one-stump
 * cascade on a picture of two flat halves, whose passing windows follow
 * from the variance rule and the feature by hand.  The same tilted feature
 * is also checked against the same rectangle turned by hand.  The packed
 * form of the stump is checked byte by byte against fkcascade(5), and
 * damaged or hostile packed files (with their CRC made right) are refused
 * with a message saying what is wrong.  And the detector's fast loop
 * (four windows at once) gives the plain loop's windows, to the pixel,
 * with OpenCV's cascades on made-up pictures and on real photos. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "cascade.h"
#include "detect.h"
#include "grey.h"
#include "image.h"
#include "tap.h"

static char dir[] = "/tmp/cascade-test-XXXXXX";

/* write text to a file in the scratch folder; its path */
static const char *file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return path;
	fputs(text, f);
	fclose(f);
	return path;
}

/* a cascade of one stage and one stump on a 4x4 window: go right (+1)
 * when the feature reaches 1, the stage passes at 0 */
static char *one_stump(const char *rects, int tilted)
{
	static char xml[2048];

	snprintf(xml, sizeof xml,
		 "<?xml version=\"1.0\"?>\n<opencv_storage>\n<cascade type_id=\"opencv-cascade-classifier\">"
		 "<stageType>BOOST</stageType><featureType>HAAR</featureType>"
		 "<height>4</height><width>4</width>"
		 "<featureParams><maxCatCount>0</maxCatCount></featureParams>"
		 "<stageNum>1</stageNum><stages><_><maxWeakCount>1</maxWeakCount>"
		 "<stageThreshold>0</stageThreshold><weakClassifiers><_>"
		 "<internalNodes>0 -1 0 1.</internalNodes><leafValues>-1. 1.</leafValues>"
		 "</_></weakClassifiers></_></stages>"
		 "<features><_><rects>%s</rects><tilted>%d</tilted></_></features>"
		 "</cascade></opencv_storage>\n", rects, tilted);
	return xml;
}

static void test_grey(void)
{
	fk_image im = { 3, 1, (unsigned char[]){ 255, 255, 255, 255, 0, 0, 10, 20, 30 } };
	unsigned char g[3];

	fk_grey(&im, g);
	/* (9798 R + 19235 G + 3735 B + 16384) >> 15 by hand:
	 * white 32768*255+16384 -> 255; red 2514874 -> 76;
	 * (97980 + 384700 + 112050 + 16384) = 611114 -> 18 */
	ok(g[0] == 255 && g[1] == 76 && g[2] == 18, "grey of white, red, (10,20,30): %d %d %d",
	   g[0], g[1], g[2]);
}

static void test_resize(void)
{
	unsigned char src[16] = { 1, 2, 10, 20, 3, 4, 30, 41, 0, 0, 255, 255, 0, 1, 255, 254 };
	unsigned char dst[9], one = 77;
	int i, same = 1;

	/* halving: weights 128/128 both ways, so the mean of each 2x2 block,
	 * rounded half up: 2.5 -> 3, 25.25 -> 25, 0.25 -> 0, 254.75 -> 255 */
	fk_resize_grey(src, 4, 4, dst, 2, 2);
	ok(dst[0] == 3 && dst[1] == 25 && dst[2] == 0 && dst[3] == 255,
	   "4x4 -> 2x2 averages blocks: %d %d %d %d", dst[0], dst[1], dst[2], dst[3]);
	/* one pixel grows into a flat picture */
	fk_resize_grey(&one, 1, 1, dst, 3, 3);
	for (i = 0; i < 9; i++)
		same &= dst[i] == 77;
	ok(same, "1x1 -> 3x3 repeats the pixel");
	fk_resize_grey(src, 4, 4, dst, 4, 2);
	/* 4 wide to 4 wide copies columns; rows are the means of rows 0-1 and
	 * 2-3, half up: 2, 30.5 -> 31, 0, 254.5 -> 255 */
	ok(dst[0] == 2 && dst[3] == 31 && dst[4] == 0 && dst[7] == 255,
	   "4x4 -> 4x2 keeps columns and averages row pairs: %d %d %d %d",
	   dst[0], dst[3], dst[4], dst[7]);
}

static void test_group(void)
{
	fk_rect r[8] = {
		{ 10, 10, 20, 20, 0 }, { 11, 10, 20, 20, 0 }, { 10, 11, 20, 20, 0 },
		{ 11, 11, 21, 21, 0 }, { 100, 100, 20, 20, 0 },
	};
	fk_rect big[10];
	int n, i;

	/* four similar (within 0.2 * 20 = 4 px) and one alone: the four average
	 * to 10.5 10.5 20.25 20.25, rounded half to even: 10 10 20 20 */
	n = fk_group_rects(r, 5, 3, 0.2);
	ok(n == 1 && r[0].x == 10 && r[0].y == 10 && r[0].w == 20 && r[0].h == 20 && r[0].n == 4,
	   "4 similar rectangles make one of 4 windows, the lone one is dropped (n=%d)", n);
	n = fk_group_rects(r, 1, 4, 0.2);
	ok(n == 0, "a group of no more than min_neighbors windows is dropped");
	/* 5 windows at 0 0 100 100 and 4 inside at 10 10 30 30: the small
	 * group goes, as the big one has more windows: 5 > max(3, 4) */
	for (i = 0; i < 5; i++)
		big[i] = (fk_rect){ 0, 0, 100, 100, 0 };
	for (; i < 9; i++)
		big[i] = (fk_rect){ 10, 10, 30, 30, 0 };
	n = fk_group_rects(big, 9, 1, 0.2);
	ok(n == 1 && big[0].w == 100, "a weaker group inside a bigger one is dropped (n=%d)", n);
	for (i = 0; i < 5; i++)
		big[i] = (fk_rect){ 0, 0, 100, 100, 0 };
	for (; i < 10; i++)
		big[i] = (fk_rect){ 10, 10, 30, 30, 0 };
	n = fk_group_rects(big, 10, 1, 0.2);
	ok(n == 2 && big[0].w == 100 && big[1].w == 30, "an equally strong one inside stays (n=%d)", n);
}

/* an 8x8 picture, rows 0-3 at 0 and rows 4-7 at 200 */
static void halves(unsigned char *g)
{
	memset(g, 0, 32);
	memset(g + 32, 200, 32);
}

static void test_detect(void)
{
	char err[FK_ERRLEN];
	unsigned char g[64];
	fk_detect_opts o;
	fk_cascade *c;
	fk_rect *r;
	int n, rc;

	/* bottom half minus top half of the window */
	c = fk_cascade_load(file("stump.xml", one_stump("<_>0 0 4 2 -1.</_><_>0 2 4 2 1.</_>", 0)), err);
	if (!ok(c != NULL, "a one-stump cascade loads"))
		return;
	halves(g);
	fk_detect_defaults(&o);
	o.scale = 1.5;
	o.max_w = o.max_h = 4; /* scale 1 only: windows at x, y in {0, 2, 4} */
	o.min_neighbors = -1;
	rc = fk_detect(c, g, 8, 8, &o, &r, &n, err);
	/* y = 0 and 4: the inner 2x2 is flat, refused.  y = 2: inner rows 3
	 * and 4, sum 400, squares 80000: 4*80000 - 400^2 = 160000, sd term
	 * 400; feature (1600 - 0) / 400 = 4 >= 1: every x passes */
	ok(rc == 0 && n == 3 && r[0].x == 0 && r[1].x == 2 && r[2].x == 4 && r[0].y == 2 && r[2].y == 2
	   && r[0].w == 4 && r[0].h == 4, "the three windows on the edge pass (n=%d)", n);
	free(r);
	o.min_neighbors = 2; /* 2 px apart: not similar (0.2 * 4 = 0.8), groups of 1 */
	rc = fk_detect(c, g, 8, 8, &o, &r, &n, err);
	ok(rc == 0 && n == 0, "grouped with 2 neighbours: none (n=%d)", n);
	free(r);
	/* turned over, the feature is -4 < 1: nothing passes */
	memset(g, 200, 32);
	memset(g + 32, 0, 32);
	o.min_neighbors = -1;
	rc = fk_detect(c, g, 8, 8, &o, &r, &n, err);
	ok(rc == 0 && n == 0, "the edge the other way up: none (n=%d)", n);
	free(r);
	fk_cascade_free(c);

	/* a tilted 1 x 1 rectangle at (x, y) is the 45-degree square of
	 * pixels (x-1, y) and (x-1, y+1): tilted sums at (x,y) - (x-1,y+1) -
	 * (x+1,y+1) + (x,y+2), each the triangle of pixels above its point */
	c = fk_cascade_load(file("tilt.xml", one_stump("<_>2 0 1 1 -1.</_><_>2 2 1 1 2.</_>", 1)), err);
	if (!ok(c != NULL, "a tilted cascade loads: %s", c ? "" : err))
		return;
	halves(g);
	o.min_neighbors = -1;
	rc = fk_detect(c, g, 8, 8, &o, &r, &n, err);
	/* at y = 2: the first square is pixels of rows 2-3 (0), the second of
	 * rows 4-5 (400, weight 2): 800 / 400 = 2 >= 1 */
	ok(rc == 0 && n == 3 && r[0].y == 2, "tilted feature: the three windows on the edge (n=%d)", n);
	free(r);
	fk_cascade_free(c);
}

static void test_errors(void)
{
	char err[FK_ERRLEN], path[300];

	ok(!fk_cascade_load(file("none.xml", ""), err) && strstr(err, "empty"), "empty file: %s", err);
	snprintf(path, sizeof path, "%s/nosuch.xml", dir);
	ok(!fk_cascade_load(path, err) && strstr(err, "nosuch.xml: No such file"), "missing file: %s", err);
	ok(!fk_cascade_load(file("feat.xml", one_stump("<_>0 0 4 2 -1.</_>", 0)), err)
	   && strstr(err, "1 rectangle"), "a one-rectangle feature: %s", err);
	ok(!fk_cascade_load(file("out.xml", one_stump("<_>0 0 4 2 -1.</_><_>0 3 4 2 1.</_>", 0)), err)
	   && strstr(err, "does not fit the 4x4 window"), "a rectangle beyond the window: %s", err);
	ok(!fk_cascade_load(file("tiltout.xml", one_stump("<_>0 0 1 1 -1.</_><_>2 2 1 1 1.</_>", 1)), err)
	   && strstr(err, "tilted rectangle"), "a tilted rectangle beyond the window: %s", err);
	ok(!fk_cascade_load(file("bad.xml", "<opencv_storage><cascade>"), err)
	   && strstr(err, "not well-formed XML"), "truncated XML: %s", err);
}

/* ---- the packed form ---- */
static void le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 255, p[1] = (v >> 8) & 255, p[2] = (v >> 16) & 255, p[3] = v >> 24;
}

static uint32_t f32(float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	return v;
}

/* the stump cascade of one_stump("0 0 4 2 -1 / 0 2 4 2 1") as
 * fkcascade(5) lays it out, field by field: 148 bytes */
#define STUMP_LEN 148
static void stump_bytes(unsigned char *b)
{
	static const uint32_t words[] = {
		1, STUMP_LEN, 0, 4, 4, 1, 1, 1, 1,   /* version .. feature count */
		1, 0,                               /* stage: 1 tree, threshold (below) */
		1, 0, (uint32_t)-1, 0, 0,           /* tree: 1 node: left 0, right -1, feature 0, thr */
		0, 0,                               /* leaves */
		0, 0, 0, 4, 2, 0, 0, 2, 4, 2, 0,    /* feature: upright, 2 rectangles ... */
		0, 0, 0, 0, 0,                      /* ... and an unused third */
	};
	size_t i;

	memcpy(b, "\x89" "FKC\r\n\x1a\n", 8);
	for (i = 0; i < sizeof words / sizeof *words; i++)
		le32(b + 8 + 4 * i, words[i]);
	le32(b + 48, f32(0.0f - 1e-5f)); /* the XML's threshold less OpenCV's 1e-5 */
	le32(b + 68, f32(1.0f));
	le32(b + 72, f32(-1.0f));
	le32(b + 76, f32(1.0f));
	le32(b + 100, f32(-1.0f));
	le32(b + 120, f32(1.0f));
	le32(b + 144, (uint32_t)crc32(0L, b, 144));
}

/* load n bytes of b as a cascade file: the cascade, or NULL with err */
static fk_cascade *load_bytes(const unsigned char *b, size_t n, char *err)
{
	FILE *f = fmemopen((void *)b, n, "rb");
	fk_cascade *c;

	if (!f) {
		snprintf(err, FK_ERRLEN, "fmemopen failed");
		return NULL;
	}
	c = fk_cascade_fload(f, "t.fkc", err);
	fclose(f);
	return c;
}

/* the stump with the u32 at off set to v and the CRC made right again is
 * refused with a message holding want */
static void refused(size_t off, uint32_t v, const char *want, const char *what)
{
	unsigned char b[STUMP_LEN];
	char err[FK_ERRLEN] = "";
	fk_cascade *c;

	stump_bytes(b);
	le32(b + off, v);
	le32(b + STUMP_LEN - 4, (uint32_t)crc32(0L, b, STUMP_LEN - 4));
	c = load_bytes(b, STUMP_LEN, err);
	ok(!c && strstr(err, want), "%s: %s", what, err);
	fk_cascade_free(c);
}

static void test_packed(void)
{
	unsigned char want[STUMP_LEN], *got = NULL, g[64], b[STUMP_LEN + 1];
	char err[FK_ERRLEN];
	size_t n = 0, k;
	fk_cascade *c, *p;
	fk_detect_opts o;
	fk_rect *r;
	FILE *f;
	int nr, all, i;

	c = fk_cascade_load(file("stump.xml", one_stump("<_>0 0 4 2 -1.</_><_>0 2 4 2 1.</_>", 0)), err);
	if (!ok(c != NULL, "the stump loads from XML"))
		return;
	f = open_memstream((char **)&got, &n);
	ok(f && fk_cascade_write(c, f, err) == 0 && fclose(f) == 0, "the stump packs");
	stump_bytes(want);
	for (k = 0; k < n && k < STUMP_LEN && got[k] == want[k]; k++)
		;
	ok(n == STUMP_LEN && k == n, "packed, it is the 148 bytes of fkcascade(5) (%zu bytes, first "
	   "difference at %zu)", n, k);
	fk_cascade_free(c);
	p = load_bytes(want, STUMP_LEN, err);
	if (!ok(p != NULL, "the hand-made bytes load: %s", p ? "" : err)) {
		free(got);
		return;
	}
	halves(g);
	fk_detect_defaults(&o);
	o.scale = 1.5;
	o.max_w = o.max_h = 4;
	o.min_neighbors = -1;
	nr = -1;
	fk_detect(p, g, 8, 8, &o, &r, &nr, err);
	ok(nr == 3 && r[0].y == 2 && r[1].x == 2, "and find the three windows on the edge, as the XML (n=%d)", nr);
	free(r);
	fk_cascade_free(p);
	free(got);

	/* damage */
	for (k = 1, all = 1; k < STUMP_LEN && all; k++) {
		c = load_bytes(want, k, err);
		all = !c && (strstr(err, "truncated") || (k < 8 && strstr(err, "XML")));
		fk_cascade_free(c);
	}
	ok(all, "every truncation is refused as truncated (the last tried, %zu bytes: %s)", k - 1, err);
	for (i = 0, all = 1; i < STUMP_LEN * 8 && all; i++) {
		memcpy(b, want, STUMP_LEN);
		b[i / 8] ^= (unsigned char)(1 << (i % 8));
		c = load_bytes(b, STUMP_LEN, err);
		all = !c;
		fk_cascade_free(c);
	}
	ok(all, "every flipped bit is refused (%d of %d tried)", i, STUMP_LEN * 8);
	memcpy(b, want, STUMP_LEN);
	b[100] ^= 1;
	c = load_bytes(b, STUMP_LEN, err);
	ok(!c && strstr(err, "CRC mismatch"), "a flipped bit in a weight: %s", err);
	fk_cascade_free(c);
	memcpy(b, want, STUMP_LEN);
	b[STUMP_LEN] = 0;
	c = load_bytes(b, STUMP_LEN + 1, err);
	ok(!c && strstr(err, "1 byte after the 148"), "a byte too many: %s", err);
	fk_cascade_free(c);

	/* hostile: every field wrong in turn, the CRC right */
	refused(8, 2, "version 2, not 1", "version 2");
	refused(12, 0xffffffffu, "ends at byte 148 of the 4294967295", "a length of 4 GiB");
	refused(16, 1, "take 128 bytes, not the file's 148", "LBP counts on HAAR data");
	refused(16, 7, "neither 0 (HAAR) nor 1 (LBP)", "feature type 7");
	refused(20, 2, "a 2x4 window is too small", "a 2x4 window");
	refused(20, 10001, "not within 1x1..10000x10000", "a window 10001 wide");
	refused(28, 2, "take 156 bytes", "2 stages in the header");
	refused(36, 0x80000000u, "node count 2147483648 is over 2^31", "2^31 nodes");
	refused(36, 0x7fffffffu, "take 42949673068 bytes", "2^31-1 nodes");
	refused(44, 0, "stage 0 has no weak classifiers", "a stage of no trees");
	refused(44, 2, "stage 0: 2 trees, more than the 1", "a stage of 2 trees of 1");
	refused(48, 0x7fc00000u, "stage 0: threshold nan is not finite", "a NaN stage threshold");
	refused(52, 2, "tree 0: 2 nodes, more than the 1", "a tree of 2 nodes of 1");
	refused(52, 0, "tree 0: 0 nodes", "a tree of no nodes");
	refused(56, 5, "children 5 -1 are not later nodes", "a child beyond the tree");
	refused(60, (uint32_t)-2, "children 0 -2 are not later nodes", "a leaf beyond the tree");
	refused(64, 1, "uses feature 1, not one of the 1", "a feature beyond the list");
	refused(64, (uint32_t)-1, "uses feature -1", "a negative feature");
	refused(68, 0x7f800000u, "threshold inf is not finite", "an infinite node threshold");
	refused(76, 0xffc00000u, "leaf value -nan is not finite", "a NaN leaf");
	refused(80, 2, "tilted is 2", "a tilted flag of 2");
	refused(84, 1, "rectangle 1 0 4 2 does not fit the 4x4 window", "a rectangle past the right edge");
	refused(84, 0x80000000u, "rectangle -2147483648 0 4 2 does not fit", "x = INT_MIN");
	refused(112, 0x7fffffffu, "rectangle 0 2 2147483647 2 does not fit", "w = INT_MAX");
	refused(124, 0xffffffffu, "rectangle -1 0 0 0 does not fit", "a bad unused third rectangle");
	refused(120, 0x7f800000u, "weight inf is not finite", "an infinite weight");
	refused(80, 1, "tilted rectangle 0 0 4 2 does not fit", "the rectangles tilted");
}

/* ---- the fast loop against the plain one ---- */
/* a w x h picture with some of everything: shading, noise, a block turned
 * negative, and flat patches that no window passes */
static void picture(unsigned char *g, int w, int h, unsigned seed)
{
	int x, y, v;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			seed = seed * 1103515245u + 12345u;
			v = (x * 255 / w + y * 128 / h) / 2 + (int)((seed >> 16) & 63) - 32;
			if (x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2)
				v = 255 - v;
			if ((x / 16 + y / 16) % 5 == 0)
				v = 77;
			g[(size_t)y * w + x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
}

/* the raw windows of c in g, fast and plain, are the same; 1 if so */
static int same_windows(const fk_cascade *c, const unsigned char *g, int w, int h, int *count)
{
	char err[FK_ERRLEN];
	fk_detect_opts o;
	fk_rect *a = NULL, *b = NULL;
	int na = -1, nb = -2, same;

	fk_detect_defaults(&o);
	o.min_neighbors = -1;
	fk_detect(c, g, w, h, &o, &a, &na, err);
	o.plain = 1;
	o.threads = 1;
	fk_detect(c, g, w, h, &o, &b, &nb, err);
	same = na == nb && (na == 0 || !memcmp(a, b, na * sizeof *a));
	*count = na;
	free(a);
	free(b);
	return same;
}

/* the LFW photo's face (x 41 y 44, 65 x 65) shrunk to sizes where a row
 * holds fewer windows than lanes, or one window */
static void odd_sizes(const fk_cascade *c, const char *name, const unsigned char *photo, int pw)
{
	static const int size[5][2] = { { 20, 20 }, { 25, 30 }, { 31, 22 }, { 47, 45 }, { 66, 65 } };
	unsigned char face[65 * 65], small[66 * 65];
	int k, y, n, same, all = 1, found = 0;

	for (y = 0; y < 65; y++)
		memcpy(face + y * 65, photo + (size_t)(44 + y) * pw + 41, 65);
	for (k = 0; k < 5; k++) {
		fk_resize_grey(face, 65, 65, small, size[k][0], size[k][1]);
		same = same_windows(c, small, size[k][0], size[k][1], &n);
		all &= same;
		found += n;
	}
	ok(all, "%s on the LFW face at 20x20, 25x30, 31x22, 47x45 and 66x65: the same %d windows "
	   "fast and plain", name, found);
}

static void test_fast_is_plain(void)
{
	static const char *names[] = { "haarcascade_frontalface_alt2", "haarcascade_eye",
		"haarcascade_eye_tree_eyeglasses", "haarcascade_frontalface_default" };
	const char *data = getenv("FACEKIT_DATA"), *san = getenv("FACEKIT_SAN");
	char err[FK_ERRLEN], path[512];
	unsigned char *g = malloc(130 * 110);
	size_t i;
	int n, k;

	for (i = 0; i < sizeof names / sizeof *names; i++) {
		fk_cascade *c;
		snprintf(path, sizeof path, "/usr/share/opencv4/haarcascades/%s.xml", names[i]);
		if (access(path, R_OK)) {
			ok(1, "# skip no opencv-data");
			continue;
		}
		c = fk_cascade_load(path, err);
		for (k = 0; k < 3 && c; k++) {
			int same;
			picture(g, 130 - 7 * k, 110 - 5 * k, (unsigned)(k + 1));
			same = same_windows(c, g, 130 - 7 * k, 110 - 5 * k, &n);
			ok(same, "%s on a made-up %dx%d picture: the same %d windows fast and plain",
			   names[i], 130 - 7 * k, 110 - 5 * k, n);
		}
		/* real faces and eyes, so that windows pass every stage too */
		if (c && data && !(san && i > 1)) {
			const char *photo[] = { "dlib-faces/2008_002506.jpg",
				"lfw/images/George_W_Bush/George_W_Bush_0001.jpg" };
			for (k = 0; k < 2; k++) {
				fk_image im = { 0 };
				unsigned char *grey;
				int same;
				FILE *f;
				snprintf(path, sizeof path, "%s/%s", data, photo[k]);
				if (!(f = fopen(path, "rb")) || fk_read_image(f, &im, 1 << 24, err) != 1) {
					ok(0, "%s: cannot read it", path);
					if (f)
						fclose(f);
					continue;
				}
				fclose(f);
				grey = malloc((size_t)im.w * im.h);
				fk_grey(&im, grey);
				same = same_windows(c, grey, im.w, im.h, &n);
				ok(same && n > 0, "%s on %s: the same %d windows fast and plain",
				   names[i], photo[k], n);
				if (k == 1)
					odd_sizes(c, names[i], grey, im.w);
				free(grey);
				fk_image_free(&im);
			}
		}
		fk_cascade_free(c);
	}
	free(g);
}

int main(void)
{
	(void)close_to;
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_grey();
	test_resize();
	test_group();
	test_detect();
	test_errors();
	test_packed();
	test_fast_is_plain();
	remove_tree(dir);
	return done_testing();
}

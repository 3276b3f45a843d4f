/* cascade.c — the cascade library against answers worked out by hand: the
 * grey formula, the bit-exact resize on sizes where its weights are plain
 * halves, OpenCV's grouping on small sets of rectangles, and a one-stump
 * cascade on a picture of two flat halves, whose passing windows follow
 * from the variance rule and the feature by hand.  The same tilted feature
 * is also checked against the same rectangle turned by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cascade.h"
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
	{
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return done_testing();
}

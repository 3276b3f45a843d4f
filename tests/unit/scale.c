/* scale.c — fk_scale_square against plain loops over the whole picture:
 * area coverage computed pixel by pixel for downscaling, the bilinear
 * formula for upscaling. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"
#include "tap.h"

/* sample k of pixel (x, y) of the square of side S laid over im, shifted by
 * (dx, dy) into the picture; black outside it */
static double at(const fk_image *im, int x, int y, int dx, int dy, int k)
{
	x += dx;
	y += dy;
	if (x < 0 || y < 0 || x >= im->w || y >= im->h)
		return 0;
	return im->px[3 * ((size_t)y * im->w + x) + k];
}

static double overlap(double a0, double a1, double b0, double b1)
{
	double lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
	return hi > lo ? hi - lo : 0;
}

/* output sample (ox, oy, k) the slow way */
static double naive(const fk_image *im, int n, int pad, int ox, int oy, int k)
{
	int S = pad ? (im->w > im->h ? im->w : im->h) : (im->w < im->h ? im->w : im->h);
	int dx = (im->w - S) / 2, dy = (im->h - S) / 2, x, y;
	double r = (double)S / n, sum = 0;

	if (S >= n) {
		for (y = 0; y < S; y++)
			for (x = 0; x < S; x++)
				sum += overlap(x, x + 1, ox * r, (ox + 1) * r) *
				       overlap(y, y + 1, oy * r, (oy + 1) * r) *
				       at(im, x, y, dx, dy, k);
		return sum / (r * r);
	} else {
		double sx = fmin(fmax((ox + 0.5) * r - 0.5, 0), S - 1);
		double sy = fmin(fmax((oy + 0.5) * r - 0.5, 0), S - 1);
		int x0 = (int)floor(sx), y0 = (int)floor(sy);
		int x1 = x0 + 1 < S ? x0 + 1 : x0, y1 = y0 + 1 < S ? y0 + 1 : y0;
		double fx = sx - x0, fy = sy - y0;
		return (1 - fx) * (1 - fy) * at(im, x0, y0, dx, dy, k) +
		       fx * (1 - fy) * at(im, x1, y0, dx, dy, k) +
		       (1 - fx) * fy * at(im, x0, y1, dx, dy, k) +
		       fx * fy * at(im, x1, y1, dx, dy, k);
	}
}

static void check(int w, int h, int n, int pad)
{
	fk_image in = { 0 }, out = { 0 };
	char err[FK_ERRLEN];
	int i, exact = 0, worst = 0, total = n * n * 3;

	fk_image_alloc(&in, w, h, err);
	for (i = 0; i < w * h * 3; i++)
		in.px[i] = (unsigned char)(rand() % 256);
	if (!ok(fk_scale_square(&in, n, pad, &out, err) == 0 && out.w == n && out.h == n,
		"%dx%d -> %d%s: scaled", w, h, n, pad ? " padded" : ""))
		return;
	for (i = 0; i < total; i++) {
		int o = i / 3, want = (int)floor(naive(&in, n, pad, o % n, o / n, i % 3) + 0.5);
		int d = abs(want - out.px[i]);
		exact += d == 0;
		worst = d > worst ? d : worst;
	}
	ok(worst <= 1 && exact >= total * 99 / 100,
	   "%dx%d -> %d%s: every sample within 1 of the plain loop, %d of %d exact",
	   w, h, n, pad ? " padded" : "", exact, total);
	fk_image_free(&in);
	fk_image_free(&out);
}

int main(void)
{
	fk_image in = { 0 }, out = { 0 };
	char err[FK_ERRLEN];
	int i;

	srand(7);
	check(100, 100, 32, 0);
	check(64, 64, 32, 0);
	check(37, 53, 32, 0);
	check(37, 53, 32, 1);
	check(53, 37, 10, 1);
	check(33, 33, 32, 0);
	check(5, 3, 32, 1);
	check(7, 7, 16, 0);
	check(1, 1, 4, 0);
	check(90, 61, 20, 0);

	/* same size: every pixel kept as it is */
	fk_image_alloc(&in, 32, 40, err);
	for (i = 0; i < 32 * 40 * 3; i++)
		in.px[i] = (unsigned char)(rand() % 256);
	fk_scale_square(&in, 32, 0, &out, err);
	ok(memcmp(out.px, in.px + 4 * 32 * 3, 32 * 32 * 3) == 0,
	   "32x40 -> 32 is the centre 32x32, unchanged");
	fk_image_free(&in);
	fk_image_free(&out);
	return done_testing();
}

/* crop.c — rotated square crops with bilinear sampling (see crop.h) */
#include "crop.h"

#include <math.h>
#include <string.h>

int fk_crop_geometry(const fk_box *b, double margin, long long max_pixels,
		     fk_crop *c, char *err)
{
	double side = round((b->w > b->h ? b->w : b->h) * margin);
	if (side < 1)
		side = 1;
	if (side > FK_MAX_SIDE) {
		snprintf(err, FK_ERRLEN, "box at line %ld (w=%g h=%g): a crop of side %.0f "
			 "is over the longest side, %d", b->line, b->w, b->h, side, FK_MAX_SIDE);
		return -1;
	}
	if (!(side * side <= (double)max_pixels)) {
		snprintf(err, FK_ERRLEN, "box at line %ld (w=%g h=%g): a crop of side %.0f "
			 "is over the limit of %lld pixels", b->line, b->w, b->h, side, max_pixels);
		return -1;
	}
	c->cx = b->x + b->w / 2;
	c->cy = b->y + b->h / 2;
	c->side = (int)side;
	c->angle = b->angle;
	return 0;
}

/* cos and sin of an angle in degrees, exact at multiples of 90 so that
 * quarter turns move pixels without blurring them */
static void cos_sin(double deg, double *co, double *si)
{
	static const double qc[4] = { 1, 0, -1, 0 }, qs[4] = { 0, 1, 0, -1 };
	double a = fmod(deg, 360);
	if (a < 0)
		a += 360;
	if (a >= 360)	/* a tiny negative angle rounds up to 360 */
		a -= 360;
	if (fmod(a, 90) == 0) {
		*co = qc[(int)(a / 90)];
		*si = qs[(int)(a / 90)];
	} else {
		*co = cos(a * M_PI / 180);
		*si = sin(a * M_PI / 180);
	}
}

/* pixel (x, y) of im; beyond the edges the nearest edge pixel, or black */
static const unsigned char *tap(const fk_image *im, long x, long y, int black)
{
	static const unsigned char zero[3];
	if (x < 0 || x >= im->w || y < 0 || y >= im->h) {
		if (black)
			return zero;
		x = x < 0 ? 0 : x >= im->w ? im->w - 1 : x;
		y = y < 0 ? 0 : y >= im->h ? im->h - 1 : y;
	}
	return im->px + 3 * ((size_t)y * im->w + x);
}

/* floor(s) for s clamped to [lo, hi]: far beyond the photo every tap is an
 * edge or black pixel whichever it is, so clamping changes no result */
static inline long clamped_floor(double s, double lo, double hi)
{
	long k;
	s = s < lo ? lo : s > hi ? hi : s;
	k = (long)s;
	return k - (s < k);
}

int fk_crop_image(const fk_image *src, const fk_crop *c, int black,
		  fk_image *out, char *err)
{
	double co, si, half = c->side / 2.0;
	size_t row = (size_t)src->w * 3;
	int i, j, k;

	if (fk_image_alloc(out, c->side, c->side, err))
		return -1;
	cos_sin(c->angle, &co, &si);
	for (j = 0; j < c->side; j++) {
		double v = j + 0.5 - half;
		unsigned char *o = out->px + (size_t)j * c->side * 3;
		for (i = 0; i < c->side; i++, o += 3) {
			double u = i + 0.5 - half;
			/* pixel centres sit at integer + 0.5 */
			double sx = c->cx + u * co - v * si - 0.5;
			double sy = c->cy + u * si + v * co - 0.5;
			long x0 = clamped_floor(sx, -3, src->w + 2);
			long y0 = clamped_floor(sy, -3, src->h + 2);
			double fx = sx - x0, fy = sy - y0;
			const unsigned char *p00, *p01, *p10, *p11;
			if (x0 >= 0 && y0 >= 0 && x0 < src->w - 1 && y0 < src->h - 1) {
				p00 = src->px + (size_t)y0 * row + 3 * (size_t)x0;
				p01 = p00 + 3;
				p10 = p00 + row;
				p11 = p10 + 3;
			} else {
				p00 = tap(src, x0, y0, black);
				p01 = tap(src, x0 + 1, y0, black);
				p10 = tap(src, x0, y0 + 1, black);
				p11 = tap(src, x0 + 1, y0 + 1, black);
			}
			for (k = 0; k < 3; k++) {
				double a = p00[k] + fx * (p01[k] - p00[k]);
				double b = p10[k] + fx * (p11[k] - p10[k]);
				o[k] = (unsigned char)(a + fy * (b - a) + 0.5);
			}
		}
	}
	return 0;
}

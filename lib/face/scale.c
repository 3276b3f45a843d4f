/* scale.c — separable resampling to a square (see scale.h).  Along each
 * axis every output pixel is a weighted sum of source pixels; the weights
 * come from one table per axis, built once per image. */
#include "scale.h"

#include <stdlib.h>

/* output pixel o reads source pixels first[o] .. first[o]+count[o]-1 of
 * the square with weights w[o*taps ...], which add up to 1 */
struct axis {
	int *first, *count, taps;
	double *w;
};

/* S source pixels onto n output pixels */
static int axis_make(struct axis *a, int S, int n)
{
	int o, t;
	a->taps = S >= n ? (S + n - 1) / n + 1 : 2;
	a->first = malloc(sizeof *a->first * 2 * n);
	a->w = malloc(sizeof *a->w * a->taps * n);
	if (!a->first || !a->w)
		return -1;
	a->count = a->first + n;
	for (o = 0; o < n; o++) {
		double *w = a->w + (size_t)o * a->taps;
		if (S >= n) {
			/* in units of 1/n source pixel, output o covers
			 * [o*S, (o+1)*S) and source p covers [p*n, (p+1)*n) */
			long long lo = (long long)o * S, hi = lo + S;
			int p = (int)(lo / n), last = (int)((hi - 1) / n);
			a->first[o] = p;
			a->count[o] = last - p + 1;
			for (t = 0; p + t <= last; t++) {
				long long pl = (long long)(p + t) * n, ph = pl + n;
				long long ov = (ph < hi ? ph : hi) - (pl > lo ? pl : lo);
				w[t] = (double)ov / S;
			}
		} else {
			/* bilinear between the two nearest pixel centres */
			double s = (o + 0.5) * S / n - 0.5;
			int p = (int)s;
			double f;
			if (s < 0)
				s = 0, p = 0;
			if (p >= S - 1)
				p = S > 1 ? S - 2 : 0, s = S - 1;
			f = s - p;
			a->first[o] = p;
			a->count[o] = S > 1 ? 2 : 1;
			w[0] = 1 - f;
			w[1] = f;
		}
	}
	return 0;
}

static void axis_free(struct axis *a)
{
	free(a->first);
	free(a->w);
}

int fk_scale_square(const fk_image *in, int n, int pad, fk_image *out, char *err)
{
	int S = pad ? (in->w > in->h ? in->w : in->h) : (in->w < in->h ? in->w : in->h);
	/* square coordinate + shift = picture coordinate */
	int sx = (in->w - S) / 2, sy = (in->h - S) / 2;
	struct axis a = { 0 };
	double *row = NULL, *acc = NULL;
	int ox, oy, t, u, k, r = -1;

	if (axis_make(&a, S, n) || !(row = malloc(sizeof *row * 3 * n)) ||
	    !(acc = malloc(sizeof *acc * 3 * n)) || fk_image_alloc(out, n, n, err)) {
		snprintf(err, FK_ERRLEN, "out of memory scaling a %dx%d image", in->w, in->h);
		goto done;
	}
	for (oy = 0; oy < n; oy++) {
		for (k = 0; k < 3 * n; k++)
			acc[k] = 0;
		for (t = 0; t < a.count[oy]; t++) {
			int y = a.first[oy] + t + sy;
			double wy = a.w[(size_t)oy * a.taps + t];
			const unsigned char *src;
			if (y < 0 || y >= in->h)
				continue; /* black padding */
			src = in->px + (size_t)y * in->w * 3;
			for (ox = 0; ox < n; ox++) {
				double s[3] = { 0, 0, 0 };
				for (u = 0; u < a.count[ox]; u++) {
					int x = a.first[ox] + u + sx;
					double wx = a.w[(size_t)ox * a.taps + u];
					if (x < 0 || x >= in->w)
						continue;
					for (k = 0; k < 3; k++)
						s[k] += wx * src[3 * x + k];
				}
				for (k = 0; k < 3; k++)
					row[3 * ox + k] = s[k];
			}
			for (k = 0; k < 3 * n; k++)
				acc[k] += wy * row[k];
		}
		for (k = 0; k < 3 * n; k++) {
			double v = acc[k] + 0.5;
			out->px[(size_t)oy * n * 3 + k] = (unsigned char)(v > 255 ? 255 : v);
		}
	}
	r = 0;
done:
	axis_free(&a);
	free(row);
	free(acc);
	return r;
}

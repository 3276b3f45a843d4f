/* grey.c — the grey image detection works on: OpenCV's BGR2GRAY and its
 * bit-exact bilinear resize (INTER_LINEAR_EXACT), see grey.h. */
#include "grey.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fk_grey(const fk_image *im, unsigned char *grey)
{
	size_t i, n = (size_t)im->w * im->h;
	const unsigned char *p = im->px;

	for (i = 0; i < n; i++, p += 3)
		grey[i] = (unsigned char)((9798 * p[0] + 19235 * p[1] + 3735 * p[2] + (1 << 14)) >> 15);
}

/* ---- bit-exact bilinear resize ----
 * Destination pixel d samples the source at s = (d + 0.5) * src/dst - 0.5;
 * the two weights are 8-bit fixed point (summing to 256).  Rows are first
 * filtered across into 16-bit values, then down into 32-bit ones rounded
 * back to 8 bits; destination rows or columns before the first source
 * sample or past the last copy the edge (a row filtered across only). */

static void axis_coeffs(struct fk_axis *a, int src, int dst)
{
	double scale = 1.0 / ((double)dst / src);
	int d;

	a->lo = 0;
	a->hi = dst;
	for (d = 0; d < dst; d++) {
		double f = scale * ((double)d + 0.5) - 0.5;
		int i = (int)floor(f);
		a->ofs[d] = src - 1;
		a->c[2 * d] = 256;
		a->c[2 * d + 1] = 0;
		if (i >= 0 && src > 1) {
			if (i < src - 1) {
				int c1 = (int)rint((f - i) * 256);
				a->ofs[d] = i;
				a->c[2 * d + 1] = (uint16_t)c1;
				a->c[2 * d] = (uint16_t)(256 - c1);
			} else if (d < a->hi)
				a->hi = d;
		} else
			a->lo = d + 1;
	}
	if (a->hi < a->lo)
		a->hi = a->lo;
}

static void filter_row(const unsigned char *s, const struct fk_axis *x, int dw, uint16_t *out)
{
	int d;

	for (d = 0; d < x->lo && d < dw; d++)
		out[d] = (uint16_t)(s[0] << 8);
	for (; d < x->hi; d++) {
		const unsigned char *p = s + x->ofs[d];
		out[d] = (uint16_t)(x->c[2 * d] * p[0] + x->c[2 * d + 1] * p[1]);
	}
	for (; d < dw; d++)
		out[d] = (uint16_t)(s[x->ofs[dw - 1]] << 8);
}

int fk_resizer_init(fk_resizer *r, int dw, int dh)
{
	memset(r, 0, sizeof *r);
	r->x.ofs = malloc(sizeof(int) * dw);
	r->y.ofs = malloc(sizeof(int) * dh);
	r->x.c = malloc(sizeof(uint16_t) * 2 * dw);
	r->y.c = malloc(sizeof(uint16_t) * 2 * dh);
	r->row[0] = malloc(sizeof(uint16_t) * dw);
	r->row[1] = malloc(sizeof(uint16_t) * dw);
	return r->x.ofs && r->y.ofs && r->x.c && r->y.c && r->row[0] && r->row[1] ? 0 : -1;
}

void fk_resizer_free(fk_resizer *r)
{
	free(r->x.ofs);
	free(r->y.ofs);
	free(r->x.c);
	free(r->y.c);
	free(r->row[0]);
	free(r->row[1]);
}

/* the filtered source row sy, kept in slot sy & 1 */
static const uint16_t *src_row(fk_resizer *r, const unsigned char *src, int sw, int sy, int dw)
{
	int k = sy & 1;

	if (r->have[k] != sy) {
		filter_row(src + (size_t)sy * sw, &r->x, dw, r->row[k]);
		r->have[k] = sy;
	}
	return r->row[k];
}

void fk_resize_with(fk_resizer *r, const unsigned char *src, int sw, int sh,
		    unsigned char *dst, int dw, int dh)
{
	int dx, dy;

	axis_coeffs(&r->x, sw, dw);
	axis_coeffs(&r->y, sh, dh);
	r->have[0] = r->have[1] = -1;
	for (dy = 0; dy < dh; dy++) {
		unsigned char *o = dst + (size_t)dy * dw;
		if (dy < r->y.lo || dy >= r->y.hi) {
			const uint16_t *a = src_row(r, src, sw, dy < r->y.lo ? 0 : sh - 1, dw);
			for (dx = 0; dx < dw; dx++)
				o[dx] = (unsigned char)((a[dx] + 128) >> 8);
		} else {
			int sy = r->y.ofs[dy];
			const uint16_t *a = src_row(r, src, sw, sy, dw);
			const uint16_t *b = src_row(r, src, sw, sy + 1, dw);
			uint32_t c0 = r->y.c[2 * dy], c1 = r->y.c[2 * dy + 1];
			for (dx = 0; dx < dw; dx++) {
				uint32_t v = (a[dx] * c0 + b[dx] * c1 + (1u << 15)) >> 16;
				o[dx] = (unsigned char)(v > 255 ? 255 : v);
			}
		}
	}
}

void fk_resize_grey(const unsigned char *src, int sw, int sh,
		    unsigned char *dst, int dw, int dh)
{
	fk_resizer r;

	if (sw == dw && sh == dh) {
		memcpy(dst, src, (size_t)sw * sh);
		return;
	}
	if (fk_resizer_init(&r, dw, dh) == 0)
		fk_resize_with(&r, src, sw, sh, dst, dw, dh);
	else
		memset(dst, 0, (size_t)dw * dh);
	fk_resizer_free(&r);
}

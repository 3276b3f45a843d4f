/* cnn_pool.c — max pooling, SIZE x SIZE windows every STRIDE pixels, with
 * TensorFlow's SAME padding: the output is ceil(in/stride) and the padded
 * cells never win (3x3 stride 2 takes 32 -> 16 -> 8).  Spec: pool SIZE
 * STRIDE.  Forward keeps the winner's index for backward. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "cnn_layer.h"

typedef struct {
	int k, stride, pt, pl;
} pool;

_Static_assert(sizeof(int) == sizeof(float), "aux holds ints in floats");

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	pool *pl = cnn__cfg(l, sizeof *pl, err);
	long k, s;

	if (!pl)
		return -1;
	if (argc != 2 || cnn__int_arg(argv[0], 1, 64, &k) ||
	    cnn__int_arg(argv[1], 1, 64, &s)) {
		snprintf(err, CNN_ERRLEN_LAYER,
			 "pool needs SIZE STRIDE, each 1-64");
		return -1;
	}
	pl->k = k, pl->stride = s;
	return 0;
}

static int make(cnn_layer *l, char *err)
{
	pool *pl = l->cfg;

	cnn__same(l->h, pl->k, pl->stride, &l->oh, &pl->pt);
	cnn__same(l->w, pl->k, pl->stride, &l->ow, &pl->pl);
	l->oc = l->c;
	l->nw = l->nb = 0;
	l->ws = 2L * l->w;
	l->aux = (long)l->oc * l->oh * l->ow;
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	const pool *pl = l->cfg;

	snprintf(buf, size, "pool %d %d", pl->k, pl->stride);
}

#ifdef __SSE2__
/* mask ? a : b, lane by lane */
static __m128 blend(__m128 mask, __m128 a, __m128 b)
{
	return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b));
}
#endif

/* cm[ix], ci[ix] = the maximum of column ix over rows y0..y1-1 of the
 * plane x (W wide) and its flat index; a later row wins if !(v <= max),
 * so NaN wins.  4 columns at a time with SSE2 (the compiler would not
 * vectorise the mixed float/int selection itself). */
static void column_max(const float *x, int W, int y0, int y1,
		       float *restrict cm, int *restrict ci)
{
	int ix = 0;

	for (int iy = y0; iy < y1; iy++) {
		const float *restrict r = x + (long)iy * W;
		int base = iy * W;
		ix = 0;
#ifdef __SSE2__
		__m128i step = _mm_set_epi32(3, 2, 1, 0);
		for (; ix + 4 <= W; ix += 4) {
			__m128 v = _mm_loadu_ps(r + ix);
			__m128i idx = _mm_add_epi32(_mm_set1_epi32(base + ix),
						    step);
			if (iy == y0) {
				_mm_storeu_ps(cm + ix, v);
				_mm_storeu_si128((__m128i *)(ci + ix), idx);
				continue;
			}
			__m128 m = _mm_loadu_ps(cm + ix);
			__m128 win = _mm_cmpnle_ps(v, m);
			__m128i wi = _mm_castps_si128(win);
			__m128i old = _mm_loadu_si128((__m128i *)(ci + ix));
			_mm_storeu_ps(cm + ix, blend(win, v, m));
			_mm_storeu_si128((__m128i *)(ci + ix),
					 _mm_or_si128(_mm_and_si128(wi, idx),
						      _mm_andnot_si128(wi, old)));
		}
#endif
		for (; ix < W; ix++)
			if (iy == y0 || !(r[ix] <= cm[ix])) {
				cm[ix] = r[ix];
				ci[ix] = base + ix;
			}
	}
}

/* mask ? a : b for a mask of all ones or all zeros, on the bits */
static float pick(int mask, float a, float b)
{
	uint32_t x, y;

	memcpy(&x, &a, sizeof x);
	memcpy(&y, &b, sizeof y);
	x = (x & (uint32_t)mask) | (y & ~(uint32_t)mask);
	memcpy(&a, &x, sizeof a);
	return a;
}

/* 2x2 windows every 2 pixels of an H x W plane with H and W even (no
 * padding): the winners of forward_planes, by the same comparisons in the
 * same order (the lower row if !(lower <= upper), then the right column
 * if !(right <= left)), 4 outputs at a time with SSE2.  The indices are
 * kept if arg is not NULL. */
static void max2x2(const float *x, float *restrict y, int *restrict arg,
		   int H, int W)
{
	int oh = H / 2, ow = W / 2;

	for (int oy = 0; oy < oh; oy++) {
		const float *r0 = x + 2L * oy * W, *r1 = r0 + W;
		float *yo = y + (long)oy * ow;
		int *ao = arg ? arg + (long)oy * ow : NULL, ox = 0;
		int base = 2 * oy * W;
#ifdef __SSE2__
		for (; ox + 4 <= ow; ox += 4) {
			int i = 2 * ox;
			__m128 a0 = _mm_loadu_ps(r0 + i), a1 = _mm_loadu_ps(r0 + i + 4);
			__m128 b0 = _mm_loadu_ps(r1 + i), b1 = _mm_loadu_ps(r1 + i + 4);
			__m128 w0 = _mm_cmpnle_ps(b0, a0), w1 = _mm_cmpnle_ps(b1, a1);
			__m128 c0 = blend(w0, b0, a0), c1 = blend(w1, b1, a1);
			__m128 e = _mm_shuffle_ps(c0, c1, _MM_SHUFFLE(2, 0, 2, 0));
			__m128 o = _mm_shuffle_ps(c0, c1, _MM_SHUFFLE(3, 1, 3, 1));
			__m128 w = _mm_cmpnle_ps(o, e);
			_mm_storeu_ps(yo + ox, blend(w, o, e));
			if (!ao)
				continue;
			/* the column winners' indices: base + i + lane, plus W
			 * where the lower row won */
			__m128i step = _mm_set_epi32(3, 2, 1, 0);
			__m128i i0 = _mm_add_epi32(_mm_set1_epi32(base + i), step);
			__m128i i1 = _mm_add_epi32(i0, _mm_set1_epi32(4));
			__m128i dw = _mm_set1_epi32(W);
			i0 = _mm_add_epi32(i0, _mm_and_si128(_mm_castps_si128(w0), dw));
			i1 = _mm_add_epi32(i1, _mm_and_si128(_mm_castps_si128(w1), dw));
			__m128 f0 = _mm_castsi128_ps(i0), f1 = _mm_castsi128_ps(i1);
			__m128 ie = _mm_shuffle_ps(f0, f1, _MM_SHUFFLE(2, 0, 2, 0));
			__m128 io = _mm_shuffle_ps(f0, f1, _MM_SHUFFLE(3, 1, 3, 1));
			_mm_storeu_si128((__m128i *)(ao + ox),
					 _mm_castps_si128(blend(w, io, ie)));
		}
#endif
		for (; ox < ow; ox++) {
			int i = 2 * ox, at[2];
			float c[2];
			for (int d = 0; d < 2; d++) {
				int lower = !(r1[i + d] <= r0[i + d]);
				c[d] = lower ? r1[i + d] : r0[i + d];
				at[d] = base + i + d + (lower ? W : 0);
			}
			int right = !(c[1] <= c[0]);
			yo[ox] = right ? c[1] : c[0];
			if (ao)
				ao[ox] = at[right];
		}
	}
}

/* Each output row in two passes: down the window's rows, each input
 * column's maximum and where it is (vectorisable); then along the
 * window's columns.  Ties go to the leftmost column, then the top row;
 * a NaN wins, so a NaN input reaches the loss and is refused there. */
static void forward_planes(const cnn_layer *l, const float *x, float *y,
			   float *aux, float *ws, long c0, long c1)
{
	const pool *pl = l->cfg;
	int k = pl->k, s = pl->stride, H = l->h, W = l->w;
	float *restrict cm = ws;	/* column maxima, W of them */
	int *restrict ci = (int *)(ws + W);	/* and their flat indices */
	int two = k == 2 && s == 2 && H % 2 == 0 && W % 2 == 0;	/* max2x2 */

	for (long c = c0; c < c1; c++) {
		const float *xc = x + c * H * W;
		float *yc = y + c * l->oh * l->ow;
		int *arg = aux ? (int *)aux + c * l->oh * l->ow : NULL;
		if (two) {
			max2x2(xc, yc, arg, H, W);
			continue;
		}
		for (int oy = 0; oy < l->oh; oy++) {
			int y0 = oy * s - pl->pt, y1 = y0 + k;
			y0 = y0 < 0 ? 0 : y0;
			y1 = y1 > H ? H : y1;
			column_max(xc, W, y0, y1, cm, ci);
			for (int ox = 0; ox < l->ow; ox++) {
				int x0 = ox * s - pl->pl, x1 = x0 + k;
				x0 = x0 < 0 ? 0 : x0;
				x1 = x1 > W ? W : x1;
				/* the winner by masks: a branch here is
				 * mispredicted half the time */
				float m = cm[x0];
				int at = ci[x0];
				for (int ix = x0 + 1; ix < x1; ix++) {
					int win = -!(cm[ix] <= m);
					m = pick(win, cm[ix], m);
					at = (ci[ix] & win) | (at & ~win);
				}
				yc[oy * l->ow + ox] = m;
				if (arg)
					arg[oy * l->ow + ox] = at;
			}
		}
	}
}

typedef struct {
	const cnn_layer *l;
	const float *x;
	float *y, *aux, *ws;
	long planes;
} planes_job;

static void planes_part(void *arg, int part, int nparts)
{
	const planes_job *j = arg;

	forward_planes(j->l, j->x, j->y, j->aux, j->ws + part * j->l->ws,
		       j->planes * part / nparts,
		       j->planes * (part + 1) / nparts);
}

/* with threads to spare (a lone image), each takes some of the planes */
static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	planes_job j = {l, x, y, aux, ws, (long)n * l->c};

	if (l->inner > 1)
		fk_pool_run(l->inner, planes_part, &j);
	else
		forward_planes(l, x, y, aux, ws, 0, j.planes);
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	long planes = (long)n * l->c, in = (long)l->h * l->w;
	long out = (long)l->oh * l->ow;

	if (!dx)
		return;
	memset(dx, 0, planes * in * sizeof *dx);
	for (long c = 0; c < planes; c++) {
		const int *arg = (const int *)aux + c * out;
		for (long j = 0; j < out; j++)
			dx[c * in + arg[j]] += dy[c * out + j];
	}
}

const cnn_kind cnn_kind_pool = {"pool", parse, make, print, forward, backward,
				NULL, 0, 0};

/* cnn_conv.c — 2-D convolution, k x k, any stride, TensorFlow SAME
 * padding, bias, ReLU fused (spec: conv KERNEL FILTERS [STRIDE] [relu=0]
 * [std=X] [bias=X]).  Each image is unrolled by im2col into a
 * (c*k*k) x (oh*ow) matrix, so the convolution is one GEMM per image:
 * y[f x oh*ow] = W[f x c*k*k] * col.  Weights are [f][c][k][k]. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

typedef struct {
	int k, f, stride, relu;
	int pt, pl;	/* SAME padding before, rows and columns */
} conv;

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	conv *cv = cnn__cfg(l, sizeof *cv, err);
	long v[3] = {0, 0, 1};
	int npos = 0;
	float relu = 1;

	if (!cv)
		return -1;
	for (int i = 0; i < argc; i++) {
		int r = cnn__weight_opt(l, argv[i]);
		if (!r)
			r = cnn__float_opt(argv[i], "relu", &relu);
		if (r < 0 || (!r && (npos == 3 ||
		    cnn__int_arg(argv[i], 1, npos == 1 ? 65536 : 64, &v[npos]))))
			goto usage;
		npos += !r;
	}
	if (npos < 2 || (relu != 0 && relu != 1))
		goto usage;
	cv->k = v[0], cv->f = v[1], cv->stride = v[2], cv->relu = relu;
	return 0;
usage:
	snprintf(err, CNN_ERRLEN_LAYER, "conv needs KERNEL FILTERS [STRIDE] "
		 "[relu=0|1] [std=X] [bias=X], kernel and stride 1-64");
	return -1;
}

static int make(cnn_layer *l, char *err)
{
	conv *cv = l->cfg;
	long kk = (long)l->c * cv->k * cv->k;

	cnn__same(l->h, cv->k, cv->stride, &l->oh, &cv->pt);
	cnn__same(l->w, cv->k, cv->stride, &l->ow, &cv->pl);
	l->oc = cv->f;
	l->nw = kk * cv->f;
	l->nb = cv->f;
	if (!l->std_given)
		l->std = 0.05f;
	if (!l->bias_given)
		l->bias = l->first ? 0 : 0.1f;
	l->ws = 2 * kk * l->oh * l->ow;	/* col, and dcol in backward */
	l->aux = 0;
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	const conv *cv = l->cfg;
	size_t n = snprintf(buf, size, "conv %d %d", cv->k, cv->f);

	if (cv->stride != 1 && n < size)
		n += snprintf(buf + n, size - n, " %d", cv->stride);
	if (!cv->relu && n < size)
		snprintf(buf + n, size - n, " relu=0");
	cnn__print_weight_opts(l, buf, size);
}

/* the output columns ox whose input column ox*s - pl + kx lies inside
 * 0..w-1: [*lo, *hi) */
static void valid(int w, int ow, int s, int pl, int kx, int *lo, int *hi)
{
	int a = pl - kx, b = w + pl - kx;	/* need a <= ox*s < b */

	*lo = a <= 0 ? 0 : (a + s - 1) / s;
	*hi = b <= 0 ? 0 : (b + s - 1) / s;
	*hi = *hi > ow ? ow : *hi;
	*lo = *lo > *hi ? *hi : *lo;
}

/* col[(ci*k + ky)*k + kx][oy*ow + ox] = x[ci][oy*s - pt + ky][ox*s - pl + kx],
 * 0 outside the image.  With col2im below, the bulk of conv's own time:
 * each row is a zeroed margin, a copy (strided unless s = 1), a margin. */
static void im2col(const cnn_layer *l, const float *x, float *col)
{
	const conv *cv = l->cfg;
	int k = cv->k, s = cv->stride, oh = l->oh, ow = l->ow, lo, hi;

	for (int ci = 0; ci < l->c; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				const float *xc = x + (long)ci * l->h * l->w;
				valid(l->w, ow, s, cv->pl, kx, &lo, &hi);
				for (int oy = 0; oy < oh; oy++) {
					int iy = oy * s - cv->pt + ky;
					float *restrict d = col + (long)oy * ow;
					if (iy < 0 || iy >= l->h) {
						memset(d, 0, ow * sizeof *d);
						continue;
					}
					const float *restrict row = xc + (long)iy * l->w;
					int x0 = lo * s + kx - cv->pl;
					/* rows are short (16 in conv2): loops
					 * beat memset/memcpy calls here */
					for (int ox = 0; ox < lo; ox++)
						d[ox] = 0;
					if (s == 1)
						BLOCKS(j, hi - lo, d[lo + j] = row[x0 + j]);
					else
						for (int ox = lo; ox < hi; ox++)
							d[ox] = row[x0 + (ox - lo) * s];
					for (int ox = hi; ox < ow; ox++)
						d[ox] = 0;
				}
				col += (long)oh * ow;
			}
}

/* the adjoint of im2col: dx = sum of col's entries at their sources */
static void col2im(const cnn_layer *l, const float *col, float *dx)
{
	const conv *cv = l->cfg;
	int k = cv->k, s = cv->stride, oh = l->oh, ow = l->ow, lo, hi;

	memset(dx, 0, (long)l->c * l->h * l->w * sizeof *dx);
	for (int ci = 0; ci < l->c; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				float *xc = dx + (long)ci * l->h * l->w;
				valid(l->w, ow, s, cv->pl, kx, &lo, &hi);
				for (int oy = 0; oy < oh; oy++) {
					int iy = oy * s - cv->pt + ky;
					const float *restrict d = col + (long)oy * ow;
					if (iy < 0 || iy >= l->h)
						continue;
					float *restrict row = xc + (long)iy * l->w +
						     lo * s + kx - cv->pl;
					if (s == 1)
						BLOCKS(j, hi - lo, row[j] += d[lo + j]);
					else
						for (int ox = lo; ox < hi; ox++)
							row[(ox - lo) * s] += d[ox];
				}
				col += (long)oh * ow;
			}
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	const conv *cv = l->cfg;
	long kk = (long)l->c * cv->k * cv->k, hw = (long)l->oh * l->ow;
	long in = (long)l->c * l->h * l->w, out = l->oc * hw;
	const float *b = p + l->nw;

	for (int i = 0; i < n; i++) {
		float *yi = y + i * out;
		im2col(l, x + i * in, ws);
		for (int f = 0; f < l->oc; f++)
			for (long j = 0; j < hw; j++)
				yi[f * hw + j] = b[f];
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
			    l->oc, hw, kk, 1, p, kk, ws, hw, 1, yi, hw);
		if (cv->relu)
			cnn__relu(yi, out);
	}
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	const conv *cv = l->cfg;
	long kk = (long)l->c * cv->k * cv->k, hw = (long)l->oh * l->ow;
	long in = (long)l->c * l->h * l->w, out = l->oc * hw;
	float *db = dp + l->nw, *dcol = ws + kk * hw;

	for (int i = 0; i < n; i++) {
		float *dyi = dy + i * out;
		if (cv->relu)
			cnn__relu_back(y + i * out, dyi, out);
		for (int f = 0; f < l->oc; f++) {
			float s = 0;
			for (long j = 0; j < hw; j++)
				s += dyi[f * hw + j];
			db[f] += s;
		}
		im2col(l, x + i * in, ws);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
			    l->oc, kk, hw, 1, dyi, hw, ws, hw, 1, dp, kk);
		if (!dx)
			continue;
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
			    kk, hw, l->oc, 1, p, kk, dyi, hw, 0, dcol, hw);
		col2im(l, dcol, dx + i * in);
	}
}

const cnn_kind cnn_kind_conv = {"conv", parse, make, print, forward, backward};

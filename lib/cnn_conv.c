/* cnn_conv.c — 2-D convolution, k x k, any stride, TensorFlow SAME
 * padding, bias, ReLU fused (spec: conv KERNEL FILTERS [STRIDE] [relu=0]
 * [std=X] [bias=X]).  Each image is unrolled by im2col into a
 * (c*k*k) x (oh*ow) matrix, so the convolution is a GEMM per image:
 * y[f x oh*ow] = W[f x c*k*k] * col.  Weights are [f][c][k][k]. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

typedef struct {
	int k, f, stride, relu;
	int pt, pl;	/* SAME padding before, rows and columns */
	int chunk;	/* input channels unrolled at a time */
} conv;

/* im2col's matrix for a whole image is larger than the L2 cache (1.6 MB
 * in conv2), so it went out to memory and back.  Unrolled a few input
 * channels at a time, each piece is multiplied while still in cache:
 * y += W[:, piece] * col(piece).  At most this many floats a piece: */
#define PIECE 98304

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
	{
		long per = (long)cv->k * cv->k * l->oh * l->ow;
		int pieces, most = PIECE / per > 0 ? PIECE / per : 1;
		pieces = (l->c + most - 1) / most;
		cv->chunk = (l->c + pieces - 1) / pieces;
		l->ws = 2 * cv->chunk * per;	/* col; dcol in backward */
	}
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
static void im2col(const cnn_layer *l, const float *x, float *col, int c0,
		   int c1, int oy0, int oy1)
{
	const conv *cv = l->cfg;
	int k = cv->k, s = cv->stride, ow = l->ow, lo, hi;

	for (int ci = c0; ci < c1; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++) {
				const float *xc = x + (long)ci * l->h * l->w;
				valid(l->w, ow, s, cv->pl, kx, &lo, &hi);
				for (int oy = oy0; oy < oy1; oy++) {
					int iy = oy * s - cv->pt + ky;
					float *restrict d = col + (long)(oy - oy0) * ow;
					if (iy < 0 || iy >= l->h) {
						cnn__zero(d, ow);
						continue;
					}
					const float *restrict row = xc + (long)iy * l->w;
					int x0 = lo * s + kx - cv->pl;
					cnn__zero(d, lo);
					if (s == 1)
						cnn__copy(d + lo, row + x0, hi - lo);
					else
						for (int ox = lo; ox < hi; ox++)
							d[ox] = row[x0 + (ox - lo) * s];
					cnn__zero(d + hi, ow - hi);
				}
				col += (long)(oy1 - oy0) * ow;
			}
}

/* the adjoint of im2col: dx's channels c0..c1-1 = sum of col's entries at
 * their sources */
static void col2im(const cnn_layer *l, const float *col, float *dx, int c0,
		   int c1)
{
	const conv *cv = l->cfg;
	int k = cv->k, s = cv->stride, oh = l->oh, ow = l->ow, lo, hi;
	long plane = (long)l->h * l->w;

	memset(dx + c0 * plane, 0, (c1 - c0) * plane * sizeof *dx);
	for (int ci = c0; ci < c1; ci++)
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
						cnn__add(row, d + lo, hi - lo);
					else
						for (int ox = lo; ox < hi; ox++)
							row[(ox - lo) * s] += d[ox];
				}
				col += (long)oh * ow;
			}
}

/* output rows oy0..oy1-1 of one image */
static void forward_rows(const cnn_layer *l, const float *p, const float *x,
			 float *y, float *ws, int oy0, int oy1)
{
	const conv *cv = l->cfg;
	int kk = cv->k * cv->k;
	long hw = (long)l->oh * l->ow, ld = (long)l->c * kk;
	long nr = (long)(oy1 - oy0) * l->ow;
	const float *b = p + l->nw;

	y += (long)oy0 * l->ow;
	for (int f = 0; f < l->oc; f++) {
		float *restrict yf = y + f * hw, bf = b[f];
		BLOCKS(j, nr, yf[j] = bf);
	}
	for (int c0 = 0; c0 < l->c; c0 += cv->chunk) {
		int c1 = c0 + cv->chunk < l->c ? c0 + cv->chunk : l->c;
		im2col(l, x, ws, c0, c1, oy0, oy1);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->oc,
			    nr, (c1 - c0) * kk, 1, p + c0 * kk, ld, ws, nr, 1,
			    y, hw);
	}
	if (cv->relu)
		for (int f = 0; f < l->oc; f++)
			cnn__relu(y + f * hw, nr);
}

typedef struct {
	const cnn_layer *l;
	const float *p, *x;
	float *y, *ws;
} rows_job;

static void rows_part(void *arg, int part, int nparts)
{
	const rows_job *j = arg;
	int oh = j->l->oh;

	forward_rows(j->l, j->p, j->x, j->y, j->ws + part * j->l->ws,
		     oh * part / nparts, oh * (part + 1) / nparts);
}

/* with threads to spare (a lone image), each thread takes a band of
 * output rows: its own im2col rows, its own GEMM columns */
static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	long in = (long)l->c * l->h * l->w, out = (long)l->oc * l->oh * l->ow;
	int t = l->inner < l->oh ? l->inner : l->oh;

	for (int i = 0; i < n; i++) {
		rows_job j = {l, p, x + i * in, y + i * out, ws};
		if (t > 1)
			cnn__parallel(t, rows_part, &j);
		else
			forward_rows(l, p, x + i * in, y + i * out, ws, 0,
				     l->oh);
	}
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	const conv *cv = l->cfg;
	int kk = cv->k * cv->k;
	long hw = (long)l->oh * l->ow, in = (long)l->c * l->h * l->w;
	long out = l->oc * hw, ld = (long)l->c * kk;
	float *db = dp + l->nw, *dcol = ws + (long)cv->chunk * kk * hw;

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
		for (int c0 = 0; c0 < l->c; c0 += cv->chunk) {
			int c1 = c0 + cv->chunk < l->c ? c0 + cv->chunk : l->c;
			long rows = (long)(c1 - c0) * kk;
			im2col(l, x + i * in, ws, c0, c1, 0, l->oh);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
				    l->oc, rows, hw, 1, dyi, hw, ws, hw, 1,
				    dp + c0 * kk, ld);
			if (!dx)
				continue;
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
				    rows, hw, l->oc, 1, p + c0 * kk, ld, dyi, hw,
				    0, dcol, hw);
			col2im(l, dcol, dx + i * in, c0, c1);
		}
	}
}

const cnn_kind cnn_kind_conv = {"conv", parse, make, print, forward, backward};

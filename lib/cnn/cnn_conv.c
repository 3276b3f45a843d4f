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

/* the padded extent that the windows cover: (oh-1)*s + k rows and
 * (ow-1)*s + k columns */
static int padded_h(const cnn_layer *l)
{
	const conv *cv = l->cfg;
	return (l->oh - 1) * cv->stride + cv->k;
}

static int padded_w(const cnn_layer *l)
{
	const conv *cv = l->cfg;
	return (l->ow - 1) * cv->stride + cv->k;
}

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
	l->decoupled = 1;
	if (!l->std_given)
		l->std = 0.05f;
	if (!l->bias_given)
		l->bias = l->first ? 0 : 0.1f;
	{
		long per = (long)cv->k * cv->k * l->oh * l->ow;
		int pieces, most = PIECE / per > 0 ? PIECE / per : 1;
		pieces = (l->c + most - 1) / most;
		cv->chunk = (l->c + pieces - 1) / pieces;
		/* col; dcol in backward; the padded input (or dx) */
		l->ws = 2 * cv->chunk * per + (long)cv->chunk *
			padded_h(l) * padded_w(l);
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

/* pad[ci - c0][py][px] = x[ci][py - pt][px - pl], 0 outside the image:
 * copied once, so that im2col's rows need no bounds tests */
static void pad(const cnn_layer *l, const float *x, float *pad, int c0,
		int c1)
{
	const conv *cv = l->cfg;
	int ph = padded_h(l), pw = padded_w(l);
	int n = pw - cv->pl < l->w ? pw - cv->pl : l->w;	/* copied */

	for (int ci = c0; ci < c1; ci++)
		for (int py = 0; py < ph; py++, pad += pw) {
			int iy = py - cv->pt;
			if (iy < 0 || iy >= l->h) {
				cnn__zero(pad, pw);
				continue;
			}
			cnn__zero(pad, cv->pl);
			cnn__copy(pad + cv->pl, x + ((long)ci * l->h + iy) *
				  l->w, n);
			cnn__zero(pad + cv->pl + n, pw - cv->pl - n);
		}
}

/* col[(ci*k + ky)*k + kx][(oy - oy0)*ow + ox] = pad[ci][oy*s + ky][ox*s + kx]
 * for channels c0..c1-1 (pad holds just those) and rows oy0..oy1-1 */
static void im2col(const cnn_layer *l, const float *pad, float *col,
		   int c0, int c1, int oy0, int oy1)
{
	const conv *cv = l->cfg;
	int k = cv->k, s = cv->stride, ow = l->ow;
	int ph = padded_h(l), pw = padded_w(l);

	for (int ci = 0; ci < c1 - c0; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++)
				for (int oy = oy0; oy < oy1; oy++, col += ow) {
					const float *src = pad + ((long)ci * ph +
						oy * s + ky) * pw + kx;
					if (s == 1)
						cnn__copy(col, src, ow);
					else
						for (int ox = 0; ox < ow; ox++)
							col[ox] = src[ox * s];
				}
}

/* the adjoint of im2col then pad: dx's channels c0..c1-1 from col, by way
 * of a padded buffer dpad */
static void col2im(const cnn_layer *l, const float *col, float *dpad,
		   float *dx, int c0, int c1)
{
	const conv *cv = l->cfg;
	int k = cv->k, s = cv->stride, oh = l->oh, ow = l->ow;
	int ph = padded_h(l), pw = padded_w(l);

	cnn__zero(dpad, (long)(c1 - c0) * ph * pw);
	for (int ci = 0; ci < c1 - c0; ci++)
		for (int ky = 0; ky < k; ky++)
			for (int kx = 0; kx < k; kx++)
				for (int oy = 0; oy < oh; oy++, col += ow) {
					float *dst = dpad + ((long)ci * ph +
						oy * s + ky) * pw + kx;
					if (s == 1)
						cnn__add(dst, col, ow);
					else
						for (int ox = 0; ox < ow; ox++)
							dst[ox * s] += col[ox];
				}
	for (int ci = c0; ci < c1; ci++)
		for (int iy = 0; iy < l->h; iy++) {
			float *d = dx + ((long)ci * l->h + iy) * l->w;
			int py = iy + cv->pt;
			int n = pw - cv->pl < l->w ? pw - cv->pl : l->w;
			if (py >= ph) {	/* below every window */
				cnn__zero(d, l->w);
				continue;
			}
			cnn__copy(d, dpad + ((long)(ci - c0) * ph + py) * pw +
				  cv->pl, n);
			cnn__zero(d + n, l->w - n);
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
	float *pads = ws + 2 * cv->chunk * kk * hw;

	y += (long)oy0 * l->ow;
	for (int f = 0; f < l->oc; f++) {
		float *restrict yf = y + f * hw, bf = b[f];
		BLOCKS(j, nr, yf[j] = bf);
	}
	for (int c0 = 0; c0 < l->c; c0 += cv->chunk) {
		int c1 = c0 + cv->chunk < l->c ? c0 + cv->chunk : l->c;
		pad(l, x, pads, c0, c1);
		im2col(l, pads, ws, c0, c1, oy0, oy1);
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
			fk_pool_run(t, rows_part, &j);
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
	float *pads = dcol + (long)cv->chunk * kk * hw;

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
			pad(l, x + i * in, pads, c0, c1);
			im2col(l, pads, ws, c0, c1, 0, l->oh);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
				    l->oc, rows, hw, 1, dyi, hw, ws, hw, 1,
				    dp + c0 * kk, ld);
			if (!dx)
				continue;
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans,
				    rows, hw, l->oc, 1, p + c0 * kk, ld, dyi, hw,
				    0, dcol, hw);
			col2im(l, dcol, pads, dx + i * in, c0, c1);
		}
	}
}

const cnn_kind cnn_kind_conv = {"conv", parse, make, print, forward, backward,
				NULL, 0, 0};

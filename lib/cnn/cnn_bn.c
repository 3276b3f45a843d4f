/* cnn_bn.c — batch normalisation of each channel, then ReLU (spec: bn
 * [relu=0|1]).  y = gamma (x - mean) / sqrt(var + eps) + beta, eps 1e-5.
 * Training takes the mean and the (biased) variance of the batch, over
 * every image and pixel of the channel, and leaves them for the running
 * statistics, which inference uses: after each training step
 *   mean_r += 0.1 (mean - mean_r),  var_r += 0.1 (var M/(M-1) - var_r)
 * for M = images x pixels (PyTorch's momentum and unbiased variance).
 * Parameters: gamma (c weights, starting at 1, no weight decay), beta (c
 * biases, starting at 0).  State: running mean (c, from 0), running
 * variance (c, from 1).
 *
 * A batch kind (cnn_layer.h): it sees the whole batch.  Each channel's
 * sums run over the images in order, on one thread, a plane at a time in
 * float (8 lanes) added into a double, so the bits do not depend on how
 * many threads share the channels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

#define EPS 1e-5
#define MOMENTUM 0.1f

typedef struct {
	int relu;
} bn;

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	bn *b = cnn__cfg(l, sizeof *b, err);

	if (!b)
		return -1;
	b->relu = 1;
	for (int i = 0; i < argc; i++)
		if (cnn__relu_opt(argv[i], &b->relu) != 1) {
			snprintf(err, CNN_ERRLEN_LAYER, "bn takes [relu=0|1]");
			return -1;
		}
	return 0;
}

static int make(cnn_layer *l, char *err)
{
	l->oc = l->c, l->oh = l->h, l->ow = l->w;
	l->nw = l->nb = l->c;
	l->decay = 0;
	l->ws = l->aux = 0;
	l->ns = 2L * l->c;		/* running mean, running variance */
	l->bs = 3L * l->c;		/* mean, unbiased variance, 1/std */
	l->momentum = MOMENTUM;
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	const bn *b = l->cfg;

	snprintf(buf, size, b->relu ? "bn" : "bn relu=0");
}

static void init(const cnn_layer *l, float *p, float *state)
{
	for (int i = 0; i < l->c; i++) {
		p[i] = 1, p[l->c + i] = 0;
		state[i] = 0, state[l->c + i] = 1;
	}
}

/* sum of a[j], of (a[j] - m)^2 and of a[j] (b[j] - m): 8 float lanes,
 * added in a fixed order into a double */
static double sum8(const float *restrict a, long n)
{
	float acc[8] = {0};
	double s = 0;
	long j = 0;

	for (; j + 8 <= n; j += 8)
		for (int k = 0; k < 8; k++)
			acc[k] += a[j + k];
	for (; j < n; j++)
		acc[0] += a[j];
	for (int k = 0; k < 8; k++)
		s += acc[k];
	return s;
}

static double dev8(const float *restrict a, float m, long n)
{
	float acc[8] = {0};
	double s = 0;
	long j = 0;

	for (; j + 8 <= n; j += 8)
		for (int k = 0; k < 8; k++)
			acc[k] += (a[j + k] - m) * (a[j + k] - m);
	for (; j < n; j++)
		acc[0] += (a[j] - m) * (a[j] - m);
	for (int k = 0; k < 8; k++)
		s += acc[k];
	return s;
}

/* dy[j] = 0 where y[j] <= 0 (ReLU's gradient), and the sums of dy[j] and
 * of dy[j] (x[j] - m) into *s and *sx, in one pass */
static void relu_sums8(const float *restrict y, float *restrict dy,
		       const float *restrict x, float m, long n, double *s,
		       double *sx)
{
	float a[8] = {0}, b[8] = {0};
	long j = 0;

	for (; j + 8 <= n; j += 8)
		for (int k = 0; k < 8; k++) {
			float d = y[j + k] > 0 ? dy[j + k] : 0;
			dy[j + k] = d;
			a[k] += d;
			b[k] += d * (x[j + k] - m);
		}
	for (; j < n; j++) {
		float d = y[j] > 0 ? dy[j] : 0;
		dy[j] = d;
		a[0] += d;
		b[0] += d * (x[j] - m);
	}
	for (int k = 0; k < 8; k++)
		*s += a[k], *sx += b[k];
}

static double dot8(const float *restrict a, const float *restrict b,
		   float m, long n)
{
	float acc[8] = {0};
	double s = 0;
	long j = 0;

	for (; j + 8 <= n; j += 8)
		for (int k = 0; k < 8; k++)
			acc[k] += a[j + k] * (b[j + k] - m);
	for (; j < n; j++)
		acc[0] += a[j] * (b[j] - m);
	for (int k = 0; k < 8; k++)
		s += acc[k];
	return s;
}

/* y[j] = (x[j] - m) a + off, then ReLU if relu (NaN passes, as in
 * cnn__relu).  The pointers are parameters, restrict, so that the loop is
 * vectorised at -O2 (unvectorised, it took a fifth of training's time). */
static void norm8(const float *restrict x, float *restrict y, long n,
		  float m, float a, float off, int relu)
{
	if (relu)
		BLOCKS(k, n, {
			float v = (x[k] - m) * a + off;
			y[k] = v < 0 ? 0 : v;
		});
	else
		BLOCKS(k, n, y[k] = (x[k] - m) * a + off);
}

/* dx[j] = k1 (dy[j] - k2 - (x[j] - m) k3) */
static void grad8(const float *restrict dy, const float *restrict x,
		  float *restrict dx, long n, float m, float k1, float k2,
		  float k3)
{
	BLOCKS(k, n, dx[k] = k1 * (dy[k] - k2 - (x[k] - m) * k3));
}

typedef struct {
	const cnn_layer *l;
	const float *p, *x, *y;
	float *yo, *dy, *dx, *dp;
	int n;
} job;

static void forward_part(void *arg, int part, int nparts)
{
	const job *j = arg;
	const cnn_layer *l = j->l;
	const bn *b = l->cfg;
	long hw = (long)l->h * l->w, M = j->n * hw, c = l->c;

	for (long ch = c * part / nparts; ch < c * (part + 1) / nparts; ch++) {
		float mean, istd;
		if (l->train) {
			double s = 0, v = 0, dm;
			for (int i = 0; i < j->n; i++)
				s += sum8(j->x + (i * c + ch) * hw, hw);
			dm = s / M;
			mean = (float)dm;
			for (int i = 0; i < j->n; i++) {
				const float *xc = j->x + (i * c + ch) * hw;
				v += dev8(xc, mean, hw);
			}
			istd = (float)(1 / sqrt(v / M + EPS));
			l->bstat[ch] = mean;
			l->bstat[c + ch] = (float)(M > 1 ? v / (M - 1) : v);
			l->bstat[2 * c + ch] = istd;
		} else {
			mean = l->state[ch];
			istd = (float)(1 / sqrt((double)l->state[c + ch] + EPS));
		}
		float a = j->p[ch] * istd, off = j->p[c + ch];
		for (int i = 0; i < j->n; i++)
			norm8(j->x + (i * c + ch) * hw, j->yo + (i * c + ch) * hw,
			      hw, mean, a, off, b->relu);
	}
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	job j = {l, p, x, NULL, y, NULL, NULL, NULL, n};
	int t = l->inner < l->c ? l->inner : l->c;

	fk_pool_run(t > 1 ? t : 1, forward_part, &j);
}

/* with xh = (x - mean)/std: dbeta = sum dy, dgamma = sum dy xh,
 * dx = gamma/std (dy - dbeta/M - xh dgamma/M) */
static void backward_part(void *arg, int part, int nparts)
{
	const job *j = arg;
	const cnn_layer *l = j->l;
	const bn *b = l->cfg;
	long hw = (long)l->h * l->w, M = j->n * hw, c = l->c;

	for (long ch = c * part / nparts; ch < c * (part + 1) / nparts; ch++) {
		float mean = l->bstat[ch], istd = l->bstat[2 * c + ch];
		double sd = 0, sdx = 0;
		for (int i = 0; i < j->n; i++) {
			long o = (i * c + ch) * hw;
			double s = 0, sx = 0;
			if (b->relu) {
				relu_sums8(j->y + o, j->dy + o, j->x + o, mean,
					   hw, &s, &sx);
				sd += s, sdx += sx;
				continue;
			}
			sd += sum8(j->dy + o, hw);
			sdx += dot8(j->dy + o, j->x + o, mean, hw);
		}
		j->dp[ch] += (float)(sdx * istd);
		j->dp[c + ch] += (float)sd;
		if (!j->dx)
			continue;
		float k1 = j->p[ch] * istd, k2 = (float)(sd / M);
		float k3 = (float)(sdx / M * istd * istd);
		for (int i = 0; i < j->n; i++) {
			long o = (i * c + ch) * hw;
			grad8(j->dy + o, j->x + o, j->dx + o, hw, mean, k1, k2, k3);
		}
	}
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	job j = {l, p, x, y, NULL, dy, dx, dp, n};
	int t = l->inner < l->c ? l->inner : l->c;

	fk_pool_run(t > 1 ? t : 1, backward_part, &j);
}

const cnn_kind cnn_kind_bn = {"bn", parse, make, print, forward, backward,
			      init, 1, 0};

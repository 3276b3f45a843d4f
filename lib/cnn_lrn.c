/* cnn_lrn.c — local response normalisation across channels, TensorFlow's
 * formula: y[c] = x[c] / (bias + alpha * sum(x[c']^2))^beta, the sum over
 * c' within radius channels of c (so 2*radius+1 channels, fewer at the
 * edges).  Spec: lrn [RADIUS [BIAS [ALPHA [BETA]]]], defaults 4 1 0.001/9
 * 0.75 (the CIFAR-10 tutorial's).  Forward keeps the denominators' base
 * s = bias + alpha*sum for backward:
 *   dx[j] = dy[j] s[j]^-beta - 2 alpha beta x[j] sum_{i near j} dy[i] y[i] / s[i] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cnn_layer.h"

typedef struct {
	int radius;
	float bias, alpha, beta;
} lrn;

static const lrn defaults = {4, 1.0f, 0.001f / 9, 0.75f};

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	lrn *n = malloc(sizeof *n);
	long r;
	float *f[3];
	char *end;

	if (!n) {
		snprintf(err, CNN_ERRLEN_LAYER, "out of memory");
		return -1;
	}
	*n = defaults;
	l->cfg = n;
	f[0] = &n->bias, f[1] = &n->alpha, f[2] = &n->beta;
	if (argc > 4 || (argc > 0 && cnn__int_arg(argv[0], 0, 64, &r)))
		goto usage;
	if (argc > 0)
		n->radius = r;
	for (int i = 1; i < argc; i++) {
		double v = strtod(argv[i], &end);
		if (end == argv[i] || *end || !(v >= 0 && v <= 1e6))
			goto usage;
		*f[i - 1] = v;
	}
	if (n->bias == 0)	/* 0^-beta: the denominator can vanish */
		goto usage;
	return 0;
usage:
	snprintf(err, CNN_ERRLEN_LAYER, "lrn takes [RADIUS [BIAS [ALPHA "
		 "[BETA]]]], radius 0-64, bias > 0, all >= 0");
	return -1;
}

static int make(cnn_layer *l, char *err)
{
	l->oc = l->c, l->oh = l->h, l->ow = l->w;
	l->nw = l->nb = 0;
	l->ws = (long)l->c * l->h * l->w;
	l->aux = l->ws;
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	const lrn *n = l->cfg;

	if (n->radius == defaults.radius && n->bias == defaults.bias &&
	    n->alpha == defaults.alpha && n->beta == defaults.beta)
		snprintf(buf, size, "lrn");
	else
		snprintf(buf, size, "lrn %d %.9g %.9g %.9g", n->radius,
			 n->bias, n->alpha, n->beta);
}

/* s^-beta, with the tutorial's beta 0.75 done by square roots */
static float rpow(float s, float beta)
{
	if (beta == 0.75f) {
		float r = 1 / sqrtf(s);
		return r * sqrtf(r);
	}
	return powf(s, -beta);
}

/* out[c][p] = sum over channels c' within radius of c of in[c'][p] */
static void window_sum(const lrn *n, const float *in, float *out, int C,
		       long hw, int square)
{
	for (int c = 0; c < C; c++) {
		int c0 = c - n->radius < 0 ? 0 : c - n->radius;
		int c1 = c + n->radius >= C ? C - 1 : c + n->radius;
		float *o = out + c * hw;
		for (long p = 0; p < hw; p++)
			o[p] = 0;
		for (int d = c0; d <= c1; d++) {
			const float *v = in + d * hw;
			if (square)
				for (long p = 0; p < hw; p++)
					o[p] += v[p] * v[p];
			else
				for (long p = 0; p < hw; p++)
					o[p] += v[p];
		}
	}
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	const lrn *ln = l->cfg;
	long hw = (long)l->h * l->w, size = l->c * hw;

	for (int i = 0; i < n; i++) {
		const float *xi = x + i * size;
		float *s = aux ? aux + i * size : ws, *yi = y + i * size;
		window_sum(ln, xi, s, l->c, hw, 1);
		for (long j = 0; j < size; j++) {
			s[j] = ln->bias + ln->alpha * s[j];
			yi[j] = xi[j] * rpow(s[j], ln->beta);
		}
	}
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	const lrn *ln = l->cfg;
	long hw = (long)l->h * l->w, size = l->c * hw;
	float k = 2 * ln->alpha * ln->beta;

	if (!dx)
		return;
	for (int i = 0; i < n; i++) {
		const float *xi = x + i * size, *yi = y + i * size;
		const float *s = aux + i * size;
		float *dyi = dy + i * size, *dxi = dx + i * size;
		for (long j = 0; j < size; j++)
			ws[j] = dyi[j] * yi[j] / s[j];
		window_sum(ln, ws, dxi, l->c, hw, 0);
		for (long j = 0; j < size; j++)
			dxi[j] = dyi[j] * rpow(s[j], ln->beta) -
				 k * xi[j] * dxi[j];
	}
}

const cnn_kind cnn_kind_lrn = {"lrn", parse, make, print, forward, backward};

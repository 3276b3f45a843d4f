/* cnn_lrn.c — local response normalisation across channels, TensorFlow's
 * formula: y[c] = x[c] / (bias + alpha * sum(x[c']^2))^beta, the sum over
 * c' within radius channels of c (so 2*radius+1 channels, fewer at the
 * edges).  Spec: lrn [RADIUS [BIAS [ALPHA [BETA]]]], defaults 4 1 0.001/9
 * 0.75 (the CIFAR-10 tutorial's).  With s = bias + alpha*sum, forward
 * keeps s^-beta and s^(-beta-1) for backward:
 *   dx[j] = dy[j] s[j]^-beta - 2 alpha beta x[j] sum_{i near j} dy[i] y[i] / s[i] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

typedef struct {
	int radius;
	float bias, alpha, beta;
} lrn;

static const lrn defaults = {4, 1.0f, 0.001f / 9, 0.75f};

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	lrn *n = cnn__cfg(l, sizeof *n, err);
	long r;
	float *f[3];
	char *end;

	if (!n)
		return -1;
	*n = defaults;
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
	l->aux = 2L * l->c * l->h * l->w;	/* s^-beta and s^(-beta-1) */
	l->ws = l->aux;	/* the same when forward keeps nothing */
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

/* r = s^-beta and u = s^(-beta-1) = r/s, from s in place of r; the
 * tutorial's beta 0.75 by square roots (4 at a time where SSE is there:
 * sqrtf itself will not vectorise, it may set errno) */
static void powers(float *r, float *u, long n, float beta)
{
	long i = 0;

	if (beta != 0.75f) {
		for (; i < n; i++) {
			float s = r[i];
			r[i] = powf(s, -beta);
			u[i] = r[i] / s;
		}
		return;
	}
#ifdef __SSE__
	for (; i + 4 <= n; i += 4) {
		__m128 s = _mm_loadu_ps(r + i);
		__m128 q = _mm_div_ps(_mm_set1_ps(1), _mm_sqrt_ps(s));
		q = _mm_mul_ps(q, _mm_sqrt_ps(q));
		_mm_storeu_ps(r + i, q);
		_mm_storeu_ps(u + i, _mm_div_ps(q, s));
	}
#endif
	for (; i < n; i++) {
		float s = r[i], q = 1 / sqrtf(s);
		r[i] = q * sqrtf(q);
		u[i] = r[i] / s;
	}
}

/* out[c][p] = sum over channels c' within radius of c of in[c'][p] (of
 * its square if square), over hw pixels each */
static void window_sum(const lrn *n, const float *restrict in,
		       float *restrict out, int C, long hw, int square)
{
	for (int c = 0; c < C; c++) {
		int c0 = c - n->radius < 0 ? 0 : c - n->radius;
		int c1 = c + n->radius >= C ? C - 1 : c + n->radius;
		float *restrict o = out + c * hw;
		memset(o, 0, hw * sizeof *o);
		for (int d = c0; d <= c1; d++) {
			const float *restrict v = in + d * hw;
			if (square)
				BLOCKS(p, hw, o[p] += v[p] * v[p]);
			else
				BLOCKS(p, hw, o[p] += v[p]);
		}
	}
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	const lrn *ln = l->cfg;
	long hw = (long)l->h * l->w, size = l->c * hw;
	float bias = ln->bias, alpha = ln->alpha;

	for (int i = 0; i < n; i++) {
		const float *restrict xi = x + i * size;
		float *restrict yi = y + i * size;
		float *restrict r = aux ? aux + 2 * i * size : ws;
		float *restrict u = r + size;
		window_sum(ln, xi, r, l->c, hw, 1);
		BLOCKS(j, size, r[j] = bias + alpha * r[j]);
		powers(r, u, size, ln->beta);
		BLOCKS(j, size, yi[j] = xi[j] * r[j]);
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
		const float *restrict xi = x + i * size;
		const float *restrict r = aux + 2 * i * size, *restrict u = r + size;
		float *restrict dyi = dy + i * size, *restrict dxi = dx + i * size;
		float *restrict t = ws;
		/* dy[i] y[i] / s[i] = dy[i] x[i] s[i]^(-beta-1) */
		BLOCKS(j, size, t[j] = dyi[j] * xi[j] * u[j]);
		window_sum(ln, t, dxi, l->c, hw, 0);
		BLOCKS(j, size, dxi[j] = dyi[j] * r[j] - k * xi[j] * dxi[j]);
	}
}

const cnn_kind cnn_kind_lrn = {"lrn", parse, make, print, forward, backward,
				NULL, 0, 0};

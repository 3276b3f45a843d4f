/* cnn_dropout.c — dropout (spec: dropout P, 0 <= P < 1): in training each
 * value is zeroed with probability P and the others are scaled by
 * 1/(1-P); inference passes the input through.  The mask is drawn from
 * the layer's random numbers for the step (l->rseed, from the network's
 * seed, the step and the layer's place), value after value over the whole
 * batch in order: a batch kind, so the same seed and step give the same
 * mask for every thread count.  Forward keeps the mask for backward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

typedef struct {
	float p;
} dropout;

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	dropout *d = cnn__cfg(l, sizeof *d, err);
	char *end;

	if (!d)
		return -1;
	if (argc == 1) {
		d->p = strtof(argv[0], &end);
		if (end != argv[0] && !*end && d->p >= 0 && d->p < 1)
			return 0;
	}
	snprintf(err, CNN_ERRLEN_LAYER, "dropout needs P, 0 <= P < 1");
	return -1;
}

static int make(cnn_layer *l, char *err)
{
	l->oc = l->c, l->oh = l->h, l->ow = l->w;
	l->nw = l->nb = 0;
	l->ws = 0;
	l->aux = (long)l->c * l->h * l->w;	/* the mask: 0 or 1/(1-P) */
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	const dropout *d = l->cfg;

	/* the shortest form that reads back as the same float */
	for (int digits = 1; digits <= 9; digits++) {
		snprintf(buf, size, "dropout %.*g", digits, d->p);
		if (strtof(buf + 8, NULL) == d->p)
			break;
	}
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	const dropout *d = l->cfg;
	long m = (long)n * l->c * l->h * l->w;
	float keep = 1 / (1 - d->p);
	/* P as a threshold on 24 random bits: drop when u < P 2^24 */
	unsigned long long cut = (unsigned long long)(d->p * 16777216.0);
	cnn_rng r;

	if (!l->train) {
		memmove(y, x, m * sizeof *y);
		return;
	}
	cnn__rng_seed(&r, l->rseed);
	for (long i = 0; i < m; i++) {
		float k = (cnn__rng_next(&r) >> 40) < cut ? 0 : keep;
		y[i] = x[i] * k;
		if (aux)
			aux[i] = k;
	}
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	long m = (long)n * l->c * l->h * l->w;

	if (dx)
		BLOCKS(i, m, dx[i] = dy[i] * aux[i]);
}

const cnn_kind cnn_kind_dropout = {"dropout", parse, make, print, forward,
				   backward, NULL, 1, 0};

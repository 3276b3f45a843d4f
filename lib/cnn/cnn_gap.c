/* cnn_gap.c — global average pooling: each channel's mean over its
 * pixels, c x h x w -> c x 1 x 1 (spec: gap).  No parameters. */
#include <stdio.h>

#include "cnn_layer.h"

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	if (argc) {
		snprintf(err, CNN_ERRLEN_LAYER, "gap takes no arguments");
		return -1;
	}
	return 0;
}

static int make(cnn_layer *l, char *err)
{
	l->oc = l->c, l->oh = l->ow = 1;
	l->nw = l->nb = 0;
	l->ws = l->aux = 0;
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	snprintf(buf, size, "gap");
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	long hw = (long)l->h * l->w, planes = (long)n * l->c;

	for (long c = 0; c < planes; c++) {
		const float *restrict xc = x + c * hw;
		float acc[8] = {0}, s = 0;
		long j = 0;
		for (; j + 8 <= hw; j += 8)
			for (int k = 0; k < 8; k++)
				acc[k] += xc[j + k];
		for (; j < hw; j++)
			acc[0] += xc[j];
		for (int k = 0; k < 8; k++)
			s += acc[k];
		y[c] = s / hw;
	}
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	long hw = (long)l->h * l->w, planes = (long)n * l->c;

	if (!dx)
		return;
	for (long c = 0; c < planes; c++) {
		float *restrict d = dx + c * hw, v = dy[c] / hw;
		BLOCKS(j, hw, d[j] = v);
	}
}

const cnn_kind cnn_kind_gap = {"gap", parse, make, print, forward, backward,
				NULL, 0, 0};

/* cnn_fc.c — fully connected layer on the flattened (c*h*w) input, ReLU
 * after it except on the last layer, which gives the class scores.
 * Spec: fc OUTPUTS [std=X] [bias=X], OUTPUTS a number or N (the class
 * count).  Weights are [outputs][inputs].  Defaults are the CIFAR-10
 * tutorial's: std 0.04, bias 0.1 and L2 weight decay, and for the last
 * layer std 1/inputs (1/192 there), bias 0 and no decay. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

typedef struct {
	int nout;	/* 0 = N, the class count */
} fc;

static int parse(cnn_layer *l, int argc, char **argv, char *err)
{
	fc *f = cnn__cfg(l, sizeof *f, err);
	long v;
	int npos = 0;

	if (!f)
		return -1;
	for (int i = 0; i < argc; i++) {
		int r = cnn__weight_opt(l, argv[i]);
		if (r < 0 || (!r && npos++))
			goto usage;
		if (r)
			continue;
		if (!strcmp(argv[i], "N"))
			f->nout = 0;
		else if (cnn__int_arg(argv[i], 1, 1 << 20, &v))
			goto usage;
		else
			f->nout = v;
	}
	if (npos != 1)
		goto usage;
	return 0;
usage:
	snprintf(err, CNN_ERRLEN_LAYER, "fc needs OUTPUTS (1-1048576 or N) "
		 "[std=X] [bias=X]");
	return -1;
}

static int make(cnn_layer *l, char *err)
{
	const fc *f = l->cfg;
	long in = (long)l->c * l->h * l->w;

	l->oc = f->nout ? f->nout : l->nclass;
	l->oh = l->ow = 1;
	if (l->last && l->oc != l->nclass) {
		snprintf(err, CNN_ERRLEN_LAYER, "the last layer gives the "
			 "class scores: fc %d but there are %d classes",
			 l->oc, l->nclass);
		return -1;
	}
	l->nw = in * l->oc;
	l->nb = l->oc;
	if (!l->std_given)
		l->std = l->last ? 1.0f / in : 0.04f;
	if (!l->bias_given)
		l->bias = l->last ? 0 : 0.1f;
	l->decay = !l->last;
	l->decoupled = 1;
	l->ws = l->aux = 0;
	return 0;
}

static void print(const cnn_layer *l, char *buf, size_t size)
{
	const fc *f = l->cfg;

	if (f->nout)
		snprintf(buf, size, "fc %d", f->nout);
	else
		snprintf(buf, size, "fc N");
	cnn__print_weight_opts(l, buf, size);
}

typedef struct {
	const cnn_layer *l;
	const float *p, *x;
	float *y;
} rows_job;

/* outputs o0..o1-1 of one image, by sgemv (sgemm would repack all the
 * weights for one row) */
static void one_rows(const cnn_layer *l, const float *p, const float *x,
		     float *y, int o0, int o1)
{
	long in = (long)l->c * l->h * l->w;

	cblas_sgemv(CblasRowMajor, CblasNoTrans, o1 - o0, in, 1, p + o0 * in,
		    in, x, 1, 1, y + o0, 1);
}

static void rows_part(void *arg, int part, int nparts)
{
	const rows_job *j = arg;
	int out = j->l->oc;

	one_rows(j->l, j->p, j->x, j->y, out * part / nparts,
		 out * (part + 1) / nparts);
}

static void forward(const cnn_layer *l, const float *p, const float *x,
		    float *y, float *aux, float *ws, int n)
{
	long in = (long)l->c * l->h * l->w;
	int out = l->oc;

	for (int i = 0; i < n; i++)
		memcpy(y + (long)i * out, p + l->nw, out * sizeof *y);
	if (n == 1 && l->inner > 1) {	/* a lone image: split the rows */
		rows_job j = {l, p, x, y};
		fk_pool_run(l->inner < out ? l->inner : out, rows_part, &j);
	} else if (n == 1)
		one_rows(l, p, x, y, 0, out);
	else
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out,
			    in, 1, x, in, p, in, 1, y, out);
	if (!l->last)
		cnn__relu(y, (long)n * out);
}

static void backward(const cnn_layer *l, const float *p, const float *x,
		     const float *y, const float *aux, float *dy, float *dx,
		     float *dp, float *ws, int n)
{
	long in = (long)l->c * l->h * l->w;
	int out = l->oc;
	float *db = dp + l->nw;

	if (!l->last)
		cnn__relu_back(y, dy, (long)n * out);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < out; j++)
			db[j] += dy[(long)i * out + j];
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1,
		    dy, out, x, in, 1, dp, in);
	if (dx)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in,
			    out, 1, dy, out, p, in, 0, dx, in);
}

const cnn_kind cnn_kind_fc = {"fc", parse, make, print, forward, backward,
				NULL, 0, 0};

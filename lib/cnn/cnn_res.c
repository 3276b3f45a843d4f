/* cnn_res.c — residual blocks: "res" opens a block, "add" closes the
 * innermost open one and adds the block's input to its own input, then
 * ReLU (spec: res; ...; add [relu=0|1] [std=X]).  When the block changed
 * the shape, the input goes through a projection first: a 1x1
 * convolution with stride s = ceil(h_in/h) and no bias, c x c_in weights
 * [out][in] with weight decay, so y = x + W skip(every s-th pixel).
 *
 * res passes its input through and, in backward, adds the gradient that
 * add sent back along the skip path.  Both are batch kinds (cnn_layer.h):
 * cnn.c hands them the block's input (l->skip) and the skip path's
 * gradient (l->dskip) for the whole batch.  The projection's weight
 * gradient sums the images in order on one thread; the rest is per
 * image, so the bits do not depend on the thread count. */
#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "cnn_layer.h"

typedef struct {
	int relu, stride;
} add;

static int res_parse(cnn_layer *l, int argc, char **argv, char *err)
{
	if (argc) {
		snprintf(err, CNN_ERRLEN_LAYER, "res takes no arguments");
		return -1;
	}
	return 0;
}

static int res_make(cnn_layer *l, char *err)
{
	l->oc = l->c, l->oh = l->h, l->ow = l->w;
	l->nw = l->nb = 0;
	l->ws = l->aux = 0;
	return 0;
}

static void res_print(const cnn_layer *l, char *buf, size_t size)
{
	snprintf(buf, size, "res");
}

static void res_forward(const cnn_layer *l, const float *p, const float *x,
			float *y, float *aux, float *ws, int n)
{
	memmove(y, x, (size_t)n * l->c * l->h * l->w * sizeof *y);
}

static void res_backward(const cnn_layer *l, const float *p, const float *x,
			 const float *y, const float *aux, float *dy,
			 float *dx, float *dp, float *ws, int n)
{
	long m = (long)n * l->c * l->h * l->w;
	const float *restrict s = l->dskip;

	if (dx)
		BLOCKS(i, m, dx[i] = dy[i] + s[i]);
}

const cnn_kind cnn_kind_res = {"res", res_parse, res_make, res_print,
			       res_forward, res_backward, NULL, 1, 1};

static int add_parse(cnn_layer *l, int argc, char **argv, char *err)
{
	add *a = cnn__cfg(l, sizeof *a, err);

	if (!a)
		return -1;
	a->relu = 1;
	for (int i = 0; i < argc; i++) {
		int r = cnn__weight_opt(l, argv[i]);
		if (!r)
			r = cnn__relu_opt(argv[i], &a->relu);
		if (r != 1 || l->bias_given) {
			snprintf(err, CNN_ERRLEN_LAYER,
				 "add takes [relu=0|1] [std=X]");
			return -1;
		}
	}
	return 0;
}

static int add_make(cnn_layer *l, char *err)
{
	add *a = l->cfg;

	l->oc = l->c, l->oh = l->h, l->ow = l->w;
	l->nb = 0;
	l->aux = 0;
	a->stride = (l->lh + l->h - 1) / l->h;
	if ((l->lh + a->stride - 1) / a->stride != l->h ||
	    (l->lw + a->stride - 1) / a->stride != l->w) {
		snprintf(err, CNN_ERRLEN_LAYER, "the block takes %dx%dx%d to "
			 "%dx%dx%d: no stride maps one onto the other", l->lc,
			 l->lh, l->lw, l->c, l->h, l->w);
		return -1;
	}
	if (l->lc == l->c && a->stride == 1) {
		l->nw = 0;
		l->ws = 0;
		return 0;
	}
	l->nw = (long)l->c * l->lc;
	l->decay = 1;
	l->decoupled = 1;
	if (!l->std_given)
		l->std = 0.05f;
	/* the sampled input, and its gradient */
	l->ws = 2L * l->lc * l->h * l->w;
	return 0;
}

static void add_print(const cnn_layer *l, char *buf, size_t size)
{
	const add *a = l->cfg;

	snprintf(buf, size, a->relu ? "add" : "add relu=0");
	cnn__print_weight_opts(l, buf, size);
}

/* the projection's input for image i: the block's input, every
 * stride-th pixel (the input itself at stride 1) */
static const float *sampled(const cnn_layer *l, int i, float *ws)
{
	const add *a = l->cfg;
	long in = (long)l->lc * l->lh * l->lw;
	const float *s = l->skip + i * in;

	if (a->stride == 1)
		return s;
	for (int c = 0; c < l->lc; c++)
		for (int y = 0; y < l->h; y++)
			for (int x = 0; x < l->w; x++)
				ws[((long)c * l->h + y) * l->w + x] =
					s[((long)c * l->lh + y * a->stride) *
					  l->lw + x * a->stride];
	return ws;
}

typedef struct {
	const cnn_layer *l;
	const float *p, *x;
	float *y, *dy, *ws;
	int n;
} job;

static void forward_part(void *arg, int part, int nparts)
{
	const job *j = arg;
	const cnn_layer *l = j->l;
	const add *a = l->cfg;
	long hw = (long)l->h * l->w, out = l->c * hw;
	float *ws = j->ws + part * l->ws;

	for (int i = j->n * part / nparts; i < j->n * (part + 1) / nparts; i++) {
		float *restrict y = j->y + i * out;
		const float *restrict x = j->x + i * out;
		if (l->nw) {
			memcpy(y, x, out * sizeof *y);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
				    l->c, hw, l->lc, 1, j->p, l->lc,
				    sampled(l, i, ws), hw, 1, y, hw);
		} else {
			const float *restrict s = l->skip + i * out;
			BLOCKS(k, out, y[k] = x[k] + s[k]);
		}
		if (a->relu)
			cnn__relu(y, out);
	}
}

static void add_forward(const cnn_layer *l, const float *p, const float *x,
			float *y, float *aux, float *ws, int n)
{
	job j = {l, p, x, y, NULL, ws, n};
	int t = l->inner < n ? l->inner : n;

	fk_pool_run(t > 1 ? t : 1, forward_part, &j);
}

/* the skip path's gradient of image i: W^T dy at the sampled pixels, 0
 * at the others */
static void back_part(void *arg, int part, int nparts)
{
	const job *j = arg;
	const cnn_layer *l = j->l;
	const add *a = l->cfg;
	long hw = (long)l->h * l->w, out = l->c * hw;
	long in = (long)l->lc * l->lh * l->lw;
	float *ds = j->ws + part * l->ws + l->lc * hw;

	for (int i = j->n * part / nparts; i < j->n * (part + 1) / nparts; i++) {
		float *d = l->dskip + i * in;
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l->lc, hw,
			    l->c, 1, j->p, l->lc, j->dy + i * out, hw, 0,
			    a->stride == 1 ? d : ds, hw);
		if (a->stride == 1)
			continue;
		memset(d, 0, in * sizeof *d);
		for (int c = 0; c < l->lc; c++)
			for (int y = 0; y < l->h; y++)
				for (int x = 0; x < l->w; x++)
					d[((long)c * l->lh + y * a->stride) *
					  l->lw + x * a->stride] =
						ds[((long)c * l->h + y) * l->w + x];
	}
}

static void add_backward(const cnn_layer *l, const float *p, const float *x,
			 const float *y, const float *aux, float *dy,
			 float *dx, float *dp, float *ws, int n)
{
	const add *a = l->cfg;
	long hw = (long)l->h * l->w, out = l->c * hw, m = n * out;
	int t = l->inner < n ? l->inner : n;

	if (a->relu)
		cnn__relu_back(y, dy, m);
	if (dx)
		memcpy(dx, dy, m * sizeof *dx);
	if (!l->nw) {
		memcpy(l->dskip, dy, m * sizeof *dy);
		return;
	}
	for (int i = 0; i < n; i++)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->c,
			    l->lc, hw, 1, dy + i * out, hw,
			    sampled(l, i, ws), hw, 1, dp, l->lc);
	job j = {l, p, x, NULL, dy, ws, n};
	fk_pool_run(t > 1 ? t : 1, back_part, &j);
}

const cnn_kind cnn_kind_add = {"add", add_parse, add_make, add_print,
			       add_forward, add_backward, NULL, 1, -1};

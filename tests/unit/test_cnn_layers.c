/* test_cnn_layers.c — every layer kind alone: known answers worked out by
 * hand, the BLAS path against a naive loop written here, and
 * finite-difference checks of backward.  Layers are driven through the
 * internal interface (cnn_layer.h) exactly as cnn.c drives them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "cnn_layer.h"
#include "tap.h"

/* the shape of the block's input, for add (cnn.c sets it from res) */
static int link_c, link_h, link_w;

/* a layer from its spec words, input shape c x h x w, in training mode
 * with room for its batch statistics and its state initialised */
static cnn_layer make(const cnn_kind *k, const char *args, int c, int h,
		      int w, int last)
{
	char buf[128], *words[16], err[CNN_ERRLEN];
	int n = 0;
	cnn_layer l;

	memset(&l, 0, sizeof l);
	l.kind = k;
	l.nclass = 3;
	l.last = last;
	snprintf(buf, sizeof buf, "%s", args);
	for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
		words[n++] = t;
	if (k->parse(&l, n, words, err))
		printf("# parse %s: %s\n", args, err);
	l.c = c, l.h = h, l.w = w;
	l.lc = link_c, l.lh = link_h, l.lw = link_w;
	if (k->make(&l, err))
		printf("# make %s: %s\n", args, err);
	l.train = 1;
	l.inner = 1;
	l.rseed = 77;
	l.bstat = calloc(l.bs + 1, sizeof *l.bstat);
	float *st = calloc(l.ns + 1, sizeof *st), *p = malloc((l.nw + l.nb + 1) * 4);
	if (k->init)
		k->init(&l, p, st);
	l.state = st;
	free(p);
	return l;
}

static void unmake(cnn_layer *l)
{
	free(l->cfg), free(l->bstat), free((float *)l->state);
}

static long isz(const cnn_layer *l) { return (long)l->c * l->h * l->w; }
static long osz(const cnn_layer *l) { return (long)l->oc * l->oh * l->ow; }

static unsigned long long seed = 42;
static float rnd(void)	/* uniform in [-1, 1) */
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((seed >> 40) / 8388608.0 - 1);
}

static void fwd(const cnn_layer *l, const float *p, const float *x,
		float *y, float *aux, int n)
{
	float *ws = malloc(((l->inner > 1 ? l->inner : 1) * l->ws + 1) *
			   sizeof *ws);
	l->kind->forward(l, p, x, y, aux, ws, n);
	free(ws);
}

/* naive convolution, TensorFlow SAME padding computed here from its
 * definition: out = ceil(in/s), pad before = floor(total/2) */
static void naive_conv(int c, int h, int w, int f, int k, int s, int relu,
		       const float *p, const float *x, float *y)
{
	int oh = (h + s - 1) / s, ow = (w + s - 1) / s;
	int pt = ((oh - 1) * s + k - h) / 2, pl = ((ow - 1) * s + k - w) / 2;
	const float *b = p + (long)f * c * k * k;

	if (pt < 0) pt = 0;
	if (pl < 0) pl = 0;
	for (int o = 0; o < f; o++)
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				double sum = b[o];
				for (int i = 0; i < c; i++)
					for (int ky = 0; ky < k; ky++)
						for (int kx = 0; kx < k; kx++) {
							int iy = oy * s - pt + ky, ix = ox * s - pl + kx;
							if (iy < 0 || iy >= h || ix < 0 || ix >= w)
								continue;
							sum += p[((o * c + i) * k + ky) * k + kx] *
							       x[(i * h + iy) * w + ix];
						}
				y[(o * oh + oy) * ow + ox] = relu && sum < 0 ? 0 : sum;
			}
}

static void test_conv_known(void)
{
	/* all-ones 1x3x3 image and 3x3 kernel: each output counts the
	 * window's cells inside the image: 4 in corners, 6 on edges, 9 */
	cnn_layer l = make(&cnn_kind_conv, "3 1", 1, 3, 3, 0);
	float p[10], x[9], y[9], want[9] = {4, 6, 4, 6, 9, 6, 4, 6, 4};
	int good = 1;

	for (int i = 0; i < 9; i++)
		p[i] = x[i] = 1;
	p[9] = 0.5f;
	fwd(&l, p, x, y, NULL, 1);
	for (int i = 0; i < 9; i++)
		good &= y[i] == want[i] + 0.5f;
	ok(l.oh == 3 && l.ow == 3 && good, "conv 3x3 ones: corners 4, edges 6, "
	   "centre 9, plus bias");
	unmake(&l);

	/* stride 2 on 5x5: out 3x3, SAME pads 1 before; a kernel with only
	 * its centre set samples x at (2oy, 2ox) */
	l = make(&cnn_kind_conv, "3 1 2 relu=0", 1, 5, 5, 0);
	float x5[25], y3[9], q[10] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
	for (int i = 0; i < 25; i++)
		x5[i] = i - 10;
	fwd(&l, q, x5, y3, NULL, 1);
	good = l.oh == 3 && l.ow == 3;
	for (int oy = 0; oy < 3; oy++)
		for (int ox = 0; ox < 3; ox++)
			good &= y3[oy * 3 + ox] == x5[2 * oy * 5 + 2 * ox];
	ok(good, "conv stride 2: 5x5 -> 3x3 sampling every other pixel, "
	   "negative values kept with relu=0");
	unmake(&l);
}

/* the BLAS path against the naive loop, on odd shapes and paddings, in
 * one piece and split in bands of rows over 3 threads */
static void test_conv_naive(int inner)
{
	static const struct { int c, h, w, f, k, s, relu; } cases[] = {
		{3, 8, 8, 5, 5, 1, 1}, {2, 7, 6, 3, 4, 1, 0},
		{4, 9, 9, 2, 3, 2, 1}, {3, 6, 5, 4, 4, 3, 0},
		{1, 1, 1, 2, 5, 1, 0},
	};
	for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
		char args[64];
		int n = 3;
		snprintf(args, sizeof args, "%d %d %d relu=%d", cases[t].k,
			 cases[t].f, cases[t].s, cases[t].relu);
		cnn_layer l = make(&cnn_kind_conv, args, cases[t].c, cases[t].h,
				   cases[t].w, 0);
		l.inner = inner;
		long np = l.nw + l.nb;
		float *p = malloc(np * sizeof *p), *x = malloc(n * isz(&l) * 4);
		float *y = malloc(n * osz(&l) * 4), *z = malloc(osz(&l) * 4);
		double worst = 0;
		for (long i = 0; i < np; i++)
			p[i] = rnd();
		for (long i = 0; i < n * isz(&l); i++)
			x[i] = rnd();
		fwd(&l, p, x, y, NULL, n);
		for (int i = 0; i < n; i++) {
			naive_conv(l.c, l.h, l.w, l.oc, cases[t].k, cases[t].s,
				   cases[t].relu, p, x + i * isz(&l), z);
			for (long j = 0; j < osz(&l); j++)
				if (fabs(z[j] - y[i * osz(&l) + j]) > worst)
					worst = fabs(z[j] - y[i * osz(&l) + j]);
		}
		/* sums of <= 100 products of values in [-1,1] in float: the
		 * rounding differences stay far below 1e-4 */
		ok(worst < 1e-4, "conv %s on %dx%dx%d, %d thread%s, equals the "
		   "naive loop (worst %.2g)", args, l.c, l.h, l.w, inner,
		   inner > 1 ? "s" : "", worst);
		free(p), free(x), free(y), free(z), unmake(&l);
	}
}

static void test_pool_known(void)
{
	/* 4x4 holding 0..15, 3x3 stride 2, SAME: 2x2 out, padding 1 after
	 * only: windows rows/cols {0-2, 2-3} -> 10 11 / 14 15 */
	cnn_layer l = make(&cnn_kind_pool, "3 2", 1, 4, 4, 0);
	float x[16], y[4], aux[4];
	for (int i = 0; i < 16; i++)
		x[i] = i;
	fwd(&l, NULL, x, y, aux, 1);
	ok(l.oh == 2 && l.ow == 2 && y[0] == 10 && y[1] == 11 && y[2] == 14 &&
	   y[3] == 15, "pool 3 2 on 0..15 (4x4) gives 10 11 14 15");
	unmake(&l);

	/* the padded cells never win, even against negative values */
	l = make(&cnn_kind_pool, "3 2", 1, 4, 4, 0);
	for (int i = 0; i < 16; i++)
		x[i] = -1 - i;
	fwd(&l, NULL, x, y, aux, 1);
	ok(y[0] == -1 && y[1] == -3 && y[2] == -9 && y[3] == -11,
	   "pool: padding is not a zero that beats negative values");
	unmake(&l);

	l = make(&cnn_kind_pool, "3 2", 64, 32, 32, 0);
	cnn_layer l2 = make(&cnn_kind_pool, "3 2", 64, 16, 16, 0);
	ok(l.oh == 16 && l.ow == 16 && l2.oh == 8 && l2.ow == 8 && l.oc == 64,
	   "pool 3 2 takes 32 -> 16 -> 8 (the tutorial's shapes)");
	unmake(&l), unmake(&l2);
}

/* pool 2 2 on even planes (its own code path) against the rule written
 * out here: each column's lower cell wins if !(lower <= upper), then the
 * right column if !(right <= left), so ties go left, then up, and NaN
 * wins; with and without the winners' indices kept */
static void test_pool_2x2(void)
{
	static const int shapes[][3] = {{1, 2, 2}, {3, 4, 6}, {2, 8, 18},
					{1, 6, 34}};
	for (int t = 0; t < 4; t++) {
		int c = shapes[t][0], h = shapes[t][1], w = shapes[t][2];
		cnn_layer l = make(&cnn_kind_pool, "2 2", c, h, w, 0);
		long n = (long)c * h * w, o = (long)c * (h / 2) * (w / 2);
		float *x = malloc(n * sizeof *x), *y = malloc(o * sizeof *y);
		float *y2 = malloc(o * sizeof *y2), *aux = malloc(o * sizeof *aux);
		int bad = 0;
		for (long i = 0; i < n; i++) {
			int r = (int)(8 * (rnd() + 1));	/* 0..15: many ties */
			x[i] = r == 15 ? NAN : r == 14 ? -0.0f : r == 13 ? 0.0f :
			       r - 6;
		}
		fwd(&l, NULL, x, y, aux, 1);
		fwd(&l, NULL, x, y2, NULL, 1);
		for (int ch = 0; ch < c; ch++)
			for (int oy = 0; oy < h / 2; oy++)
				for (int ox = 0; ox < w / 2; ox++) {
					long b = (long)ch * h * w, j = ((long)ch * (h / 2) + oy) * (w / 2) + ox;
					int at[2];
					for (int d = 0; d < 2; d++) {
						int u = 2 * oy * w + 2 * ox + d;
						at[d] = !(x[b + u + w] <= x[b + u]) ? u + w : u;
					}
					int win = !(x[b + at[1]] <= x[b + at[0]]) ? at[1] : at[0];
					int got;
					memcpy(&got, &aux[j], sizeof got);
					bad += memcmp(&y[j], &x[b + win], sizeof *y) ||
					       memcmp(&y2[j], &x[b + win], sizeof *y) ||
					       got != win;
				}
		ok(!bad, "pool 2 2 on %dx%dx%d picks the rule's winners, bit for "
		   "bit, with and without their indices (%d wrong)", c, h, w, bad);
		free(x), free(y), free(y2), free(aux), unmake(&l);
	}
}

static void test_lrn_known(void)
{
	/* the TensorFlow formula, with the defaults, by a naive loop */
	int c = 11, hw = 6, n = 2;
	cnn_layer l = make(&cnn_kind_lrn, "", c, 2, 3, 0);
	float x[2 * 66], y[2 * 66], *aux = malloc(n * l.aux * sizeof *aux);
	double worst = 0;
	for (int i = 0; i < n * c * hw; i++)
		x[i] = 8 * rnd();
	fwd(&l, NULL, x, y, aux, n);
	for (int i = 0; i < n; i++)
		for (int ch = 0; ch < c; ch++)
			for (int p = 0; p < hw; p++) {
				double sq = 0;
				for (int d = ch - 4; d <= ch + 4; d++)
					if (d >= 0 && d < c)
						sq += (double)x[(i * c + d) * hw + p] *
						      x[(i * c + d) * hw + p];
				double want = x[(i * c + ch) * hw + p] /
					pow(1.0 + 0.001 / 9 * sq, 0.75);
				double e = fabs(want - y[(i * c + ch) * hw + p]);
				worst = e > worst ? e : worst;
			}
	ok(worst < 1e-5, "lrn defaults (4, 1, 0.001/9, 0.75) match "
	   "x/(1+a*sum x^2)^0.75 (worst %.2g)", worst);
	unmake(&l), free(aux);

	/* radius 1, bias 2, alpha 1, beta 0.5 on channels 1 2 3 at one
	 * pixel: y0 = 1/sqrt(2+1+4), y1 = 2/sqrt(2+14), y2 = 3/sqrt(2+13) */
	l = make(&cnn_kind_lrn, "1 2 1 0.5", 3, 1, 1, 0);
	float x3[3] = {1, 2, 3}, y3[3], *a3 = malloc(l.aux * sizeof *a3);
	fwd(&l, NULL, x3, y3, a3, 1);
	ok(close_to(y3[0], 1 / sqrt(7), 1e-6) && close_to(y3[1], 0.5, 1e-6) &&
	   close_to(y3[2], 3 / sqrt(15), 1e-6), "lrn 1 2 1 0.5 by hand");
	unmake(&l), free(a3);
}

static void test_fc_known(void)
{
	/* 2 inputs of 2x1x2 (4 values), 3 outputs, last layer (no relu):
	 * y = W x + b by a naive loop; then the same with relu */
	for (int last = 1; last >= 0; last--) {
		cnn_layer l = make(&cnn_kind_fc, "3", 2, 1, 2, last);
		float p[15], x[8], y[6];
		int good = l.nw == 12 && l.nb == 3 && l.decay == !last;
		for (int i = 0; i < 15; i++)
			p[i] = rnd();
		for (int i = 0; i < 8; i++)
			x[i] = rnd();
		fwd(&l, p, x, y, NULL, 2);
		for (int i = 0; i < 2; i++)
			for (int o = 0; o < 3; o++) {
				double s = p[12 + o];
				for (int j = 0; j < 4; j++)
					s += p[o * 4 + j] * x[i * 4 + j];
				if (!last && s < 0)
					s = 0;
				good &= fabs(s - y[i * 3 + o]) < 1e-6;
			}
		ok(good, "fc 3 %s equals the naive loop", last ? "(last, no "
		   "relu, no decay)" : "(relu, decay)");
		unmake(&l);
	}
}

/* --- finite differences.  L = sum r[i] y[i] for fixed random r, so
 * dL/dy = r.  The layers compute in float: with values O(1) and ~100
 * terms, L carries a rounding error of about sqrt(100) * 1e-7 = 1e-6, so
 * a central difference with step h = 1e-3 is off by about 1e-6/h = 1e-3;
 * the truncation error h^2 f'''/6 is ~1e-6 for the smooth lrn and 0 for
 * the piecewise linear layers.  We accept
 * |numeric - analytic| <= 1e-2 * max(1, |numeric|, |analytic|), ten
 * times that noise: a wrong formula (a missed term, a factor 2) is off by
 * far more.  ReLU kinks and pooling ties make some points
 * non-differentiable; a point whose one-sided differences disagree by
 * more than the tolerance straddles a kink and is skipped (at most 10%
 * of them may be). */

static double objective(const cnn_layer *l, const float *p, const float *x,
			const float *r, int n)
{
	float *y = malloc(n * osz(l) * sizeof *y);
	double s = 0;
	fwd(l, p, x, y, NULL, n);
	for (long i = 0; i < n * osz(l); i++)
		s += (double)r[i] * y[i];
	free(y);
	return s;
}

/* compare analytic g with numeric derivative over v[0..m-1] */
static void fd_check(const char *what, const cnn_layer *l, float *p,
		     float *x, const float *r, int n, float *v, long m,
		     const float *g)
{
	const float h = 1e-3f;
	long skipped = 0, bad = 0;
	double worst = 0;

	for (long i = 0; i < m; i++) {
		float v0 = v[i];
		double f0 = objective(l, p, x, r, n), fp, fm;
		v[i] = v0 + h;
		fp = objective(l, p, x, r, n);
		v[i] = v0 - h;
		fm = objective(l, p, x, r, n);
		v[i] = v0;
		double num = (fp - fm) / (2 * h);
		double right = (fp - f0) / h, left = (f0 - fm) / h;
		if (!close_to(right, left, 1e-2)) {
			skipped++;
			continue;
		}
		double e = fabs(num - g[i]) / fmax(1, fmax(fabs(num), fabs(g[i])));
		worst = e > worst ? e : worst;
		bad += e > 1e-2;
	}
	ok(!bad && skipped * 10 <= m, "%s: %ld of %ld derivatives wrong "
	   "(worst rel. error %.2g; %ld at kinks skipped)", what, bad,
	   m - skipped, worst, skipped);
}

static void grad_check(const char *args, const cnn_kind *k, int c, int h,
		       int w, int last, int distinct)
{
	cnn_layer l = make(k, args, c, h, w, last);
	int n = 2;
	long np = l.nw + l.nb, ni = n * isz(&l), no = n * osz(&l);
	float *p = malloc((np + 1) * 4), *x = malloc(ni * 4), *y = malloc(no * 4);
	float *r = malloc(no * 4), *dy = malloc(no * 4), *dx = malloc(ni * 4);
	float *dp = calloc(np + 1, 4), *aux = malloc((n * l.aux + 1) * 4);
	float *ws = malloc((l.ws + 1) * 4);
	char what[128];

	for (long i = 0; i < np; i++)
		p[i] = 0.5f * rnd();
	for (long i = 0; i < ni; i++)
		x[i] = rnd();
	if (distinct)	/* values 0.1 apart: no ties within h of each other */
		for (long i = 0; i < ni; i++) {
			long j = (long)((rnd() + 1) / 2 * (i + 1));
			x[i] = x[j];
			x[j] = 0.1f * (i - ni / 2);
		}
	for (long i = 0; i < no; i++)
		r[i] = rnd();
	l.kind->forward(&l, p, x, y, aux, ws, n);
	memcpy(dy, r, no * 4);
	l.kind->backward(&l, p, x, y, aux, dy, dx, dp, ws, n);
	snprintf(what, sizeof what, "%s %s on %dx%dx%d, dL/dx", k->name, args,
		 c, h, w);
	fd_check(what, &l, p, x, r, n, x, ni, dx);
	if (np) {
		snprintf(what, sizeof what, "%s %s on %dx%dx%d, dL/dparams",
			 k->name, args, c, h, w);
		fd_check(what, &l, p, x, r, n, p, np, dp);
	}
	free(p), free(x), free(y), free(r), free(dy), free(dx), free(dp);
	free(aux), free(ws);
	unmake(&l);
}

static void test_bn_known(void)
{
	/* one channel of two 1x2 images, 1 1 | 3 3: mean 2, variance 1
	 * (biased; 4/3 unbiased), so x - mean = -1 -1 1 1 and y = gamma (x -
	 * mean)/sqrt(1 + 1e-5) + beta; a second channel 0 4 | 0 4 has mean
	 * 2, variance 4: y = gamma' (x - 2)/sqrt(4 + 1e-5) + beta' */
	cnn_layer l = make(&cnn_kind_bn, "relu=0", 2, 1, 2, 0);
	float x[8] = {1, 1, 0, 4, 3, 3, 0, 4}, y[8];
	float p[4] = {2, 0.5f, 1, -1};	/* gamma 2 0.5, beta 1 -1 */
	double s1 = 1 / sqrt(1 + 1e-5), s2 = 1 / sqrt(4 + 1e-5);
	double want[8] = {1 - 2 * s1, 1 - 2 * s1, -1 - s2, -1 + s2,
			  1 + 2 * s1, 1 + 2 * s1, -1 - s2, -1 + s2};
	int good = l.nw == 2 && l.nb == 2 && l.ns == 4 && !l.decay;

	fwd(&l, p, x, y, NULL, 2);
	for (int i = 0; i < 8; i++)
		good &= close_to(y[i], want[i], 1e-6);
	ok(good, "bn training: the batch's mean and variance per channel, "
	   "y = gamma (x - mean)/sqrt(var + 1e-5) + beta");
	ok(close_to(l.bstat[0], 2, 1e-7) && close_to(l.bstat[1], 2, 1e-7) &&
	   close_to(l.bstat[2], 4.0 / 3, 1e-7) && close_to(l.bstat[3], 16.0 / 3,
	   1e-7), "bn leaves the means 2 2 and the unbiased variances 4/3 "
	   "16/3 for the running statistics (%g %g %g %g)", l.bstat[0],
	   l.bstat[1], l.bstat[2], l.bstat[3]);
	ok(l.state[0] == 0 && l.state[1] == 0 && l.state[2] == 1 &&
	   l.state[3] == 1, "bn's running statistics start at mean 0, "
	   "variance 1");

	/* inference: the running statistics, mean 1 and -1, variance
	 * 4 - 1e-5 and 1 - 1e-5, so sqrt(var + eps) = 2 and 1 */
	float st[4] = {1, -1, 4 - 1e-5f, 1 - 1e-5f};
	const float *keep = l.state;
	l.state = st;
	l.train = 0;
	fwd(&l, p, x, y, NULL, 2);
	double inf[8] = {1, 1, -0.5, 1.5, 3, 3, -0.5, 1.5};
	good = 1;
	for (int i = 0; i < 8; i++)
		good &= close_to(y[i], inf[i], 1e-6);
	ok(good, "bn inference: gamma (x - mean_r)/sqrt(var_r + 1e-5) + beta "
	   "with the running statistics");
	l.state = keep;
	unmake(&l);

	/* ReLU by default */
	l = make(&cnn_kind_bn, "", 2, 1, 2, 0);
	fwd(&l, p, x, y, NULL, 2);
	good = 1;
	for (int i = 0; i < 8; i++)
		good &= close_to(y[i], want[i] > 0 ? want[i] : 0, 1e-6);
	ok(good, "bn: ReLU after it unless relu=0");
	unmake(&l);
}

static void test_gap_dropout_known(void)
{
	cnn_layer l = make(&cnn_kind_gap, "", 2, 2, 2, 0);
	float x[8] = {1, 2, 3, 6, -1, -1, -1, 7}, y[2], dy[2] = {4, 8}, dx[8];
	fwd(&l, NULL, x, y, NULL, 1);
	l.kind->backward(&l, NULL, x, y, NULL, dy, dx, NULL, NULL, 1);
	ok(l.oc == 2 && l.oh == 1 && l.ow == 1 && y[0] == 3 && y[1] == 1 &&
	   dx[0] == 1 && dx[7] == 2, "gap: the mean of each channel; its "
	   "gradient spread evenly");
	unmake(&l);

	enum { N = 20000 };
	float *a = malloc(N * 4), *b = malloc(N * 4), *c = malloc(N * 4);
	for (int i = 0; i < N; i++)
		a[i] = 1;
	l = make(&cnn_kind_dropout, "0.3", 1, 1, N, 0);
	fwd(&l, NULL, a, b, NULL, 1);
	fwd(&l, NULL, a, c, NULL, 1);
	long zeros = 0, kept = 0;
	for (int i = 0; i < N; i++) {
		zeros += b[i] == 0;
		kept += close_to(b[i], 1 / 0.7, 1e-6);
	}
	/* binomial: 6000 zeros expected, sd 65 */
	ok(zeros + kept == N && labs(zeros - 6000) < 400 && !memcmp(b, c, N * 4),
	   "dropout 0.3 in training: %ld of %d zeroed, the rest times 1/0.7, "
	   "the same mask for the same seed", zeros, N);
	l.rseed++;
	fwd(&l, NULL, a, c, NULL, 1);
	ok(memcmp(b, c, N * 4) != 0, "another step's seed, another mask");
	l.train = 0;
	fwd(&l, NULL, a, c, NULL, 1);
	ok(!memcmp(a, c, N * 4), "dropout in inference passes the input through");
	unmake(&l);
	free(a), free(b), free(c);
}

/* add closing a block whose input was lc x lh x lw: forward against a
 * naive loop, and finite differences for dx, the skip path's gradient
 * and the projection's weights */
static void test_add(const char *args, int lc, int lh, int lw, int c,
		     int h, int w)
{
	link_c = lc, link_h = lh, link_w = lw;
	cnn_layer l = make(&cnn_kind_add, args, c, h, w, 0);
	link_c = link_h = link_w = 0;
	int n = 2, s = (lh + h - 1) / h;
	long ni = n * isz(&l), ns = (long)n * lc * lh * lw, np = l.nw;
	float *p = malloc((np + 1) * 4), *x = malloc(ni * 4), *k = malloc(ns * 4);
	float *y = malloc(ni * 4), *r = malloc(ni * 4), *dy = malloc(ni * 4);
	float *dx = malloc(ni * 4), *dk = malloc(ns * 4), *dp = calloc(np + 1, 4);
	float *ws = malloc((l.ws + 1) * 4);
	int relu = !strstr(args, "relu=0"), good = 1;
	char what[128];

	for (long i = 0; i < np; i++)
		p[i] = rnd();
	for (long i = 0; i < ni; i++)
		x[i] = rnd(), r[i] = rnd();
	for (long i = 0; i < ns; i++)
		k[i] = rnd();
	l.skip = k;
	l.dskip = dk;
	fwd(&l, p, x, y, NULL, n);
	for (int i = 0; i < n; i++)
		for (int o = 0; o < c; o++)
			for (int j = 0; j < h * w; j++) {
				int yy = j / w, xx = j % w;
				double v = x[(i * c + o) * h * w + j];
				if (np)
					for (int q = 0; q < lc; q++)
						v += p[o * lc + q] * k[((i * lc + q) * lh + yy * s) * lw + xx * s];
				else
					v += k[(i * c + o) * h * w + j];
				v = relu && v < 0 ? 0 : v;
				good &= close_to(y[(i * c + o) * h * w + j], v, 1e-5);
			}
	ok(good && l.nw == (lc == c && s == 1 ? 0 : (long)c * lc),
	   "add %s, %dx%dx%d onto %dx%dx%d: x + %s, naive loop", args, lc, lh,
	   lw, c, h, w, np ? "W skip(stride)" : "skip");
	memcpy(dy, r, ni * 4);
	l.kind->backward(&l, p, x, y, NULL, dy, dx, dp, ws, n);
	snprintf(what, sizeof what, "add %s onto %dx%dx%d: dL/dx", args, c, h, w);
	fd_check(what, &l, p, x, r, n, x, ni, dx);
	snprintf(what, sizeof what, "add %s onto %dx%dx%d: dL/dskip", args, c, h, w);
	fd_check(what, &l, p, x, r, n, k, ns, dk);
	if (np) {
		snprintf(what, sizeof what, "add %s onto %dx%dx%d: dL/dW", args, c, h, w);
		fd_check(what, &l, p, x, r, n, p, np, dp);
	}
	free(p), free(x), free(k), free(y), free(r), free(dy), free(dx);
	free(dk), free(dp), free(ws);
	unmake(&l);
}

int main(void)
{
	test_conv_known();
	test_conv_naive(1);
	test_conv_naive(3);
	test_pool_known();
	test_pool_2x2();
	test_lrn_known();
	test_fc_known();
	grad_check("3 4 relu=0", &cnn_kind_conv, 2, 5, 5, 0, 0);
	grad_check("3 3", &cnn_kind_conv, 2, 5, 4, 0, 0);
	grad_check("4 3 2", &cnn_kind_conv, 3, 7, 6, 0, 0);
	grad_check("3 2", &cnn_kind_pool, 2, 7, 6, 0, 1);
	grad_check("2 2", &cnn_kind_pool, 3, 4, 4, 0, 1);
	grad_check("", &cnn_kind_lrn, 10, 2, 3, 0, 0);
	grad_check("2 1.5 0.3 0.6", &cnn_kind_lrn, 6, 2, 2, 0, 0);
	grad_check("3 1 0.5 0.75", &cnn_kind_lrn, 9, 3, 3, 0, 0);
	grad_check("5", &cnn_kind_fc, 3, 2, 2, 0, 0);
	grad_check("3", &cnn_kind_fc, 4, 1, 3, 1, 0);
	test_bn_known();
	test_gap_dropout_known();
	grad_check("relu=0", &cnn_kind_bn, 3, 3, 2, 0, 0);
	grad_check("", &cnn_kind_bn, 3, 2, 3, 0, 0);
	grad_check("", &cnn_kind_gap, 3, 3, 2, 0, 0);
	grad_check("0.4", &cnn_kind_dropout, 2, 3, 3, 0, 0);
	test_add("relu=0", 3, 4, 4, 3, 4, 4);
	test_add("", 3, 4, 4, 3, 4, 4);
	test_add("relu=0", 2, 5, 5, 4, 3, 3);
	test_add("", 3, 4, 4, 5, 4, 4);
	return done_testing();
}

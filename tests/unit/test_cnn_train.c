/* test_cnn_train.c — the optimiser beyond the tutorial's plain SGD:
 * momentum and Nesterov steps and the decoupled weight decay against
 * answers worked out by hand, the cosine schedule's rate at known steps,
 * and label smoothing's loss (a known answer) and gradient (finite
 * differences). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "cnn_impl.h"
#include "tap.h"

static char err[CNN_ERRLEN];

static unsigned long long seed = 11;
static float rnd(void)	/* uniform in [-1, 1) */
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((seed >> 40) / 8388608.0 - 1);
}

static cnn *net_or_bail(const char *spec, int c, int h, int w, int k)
{
	cnn *net = cnn_new(spec, c, h, w, k, 1, err);
	if (!net) {
		printf("Bail out! cnn_new: %s\n", err);
		exit(1);
	}
	return net;
}

/* "fc N" on a one-pixel image, two classes, all parameters 0, the image
 * 1 of class 0: logits z = w + b, so every step's gradient is
 * softmax(z) - (1, 0) on both weights and biases and a hand can follow.
 * Two steps at rate 0.5 with momentum 0.9 and decoupled decay 0.1:
 *   step 1: z = (0, 0), p = (1/2, 1/2), g = (-1/2, 1/2), v = g;
 *     classical: w = -0.5 (v + 0.1 * 0) = (0.25, -0.25), b the same;
 *     Nesterov: u = g + 0.9 v = (-0.95, 0.95), w = b = (0.475, -0.475)
 *   step 2: z = w + b, p0 = 1/(1 + e^(z1 - z0)), g = (p0 - 1, 1 - p0),
 *     v = 0.9 v + g, u = v or g + 0.9 v, w -= 0.5 (u + 0.1 w), b -= 0.5 u:
 *     classical: z = (0.5, -0.5), p0 = 0.7310585786300049,
 *       v = (-0.7189414213699951, ...), w = 0.25 + 0.5 * 0.6939414213699951
 *       = 0.5969707106849975, b = 0.25 + 0.5 * 0.7189414213699951
 *       = 0.6094707106849976;
 *     Nesterov: z = (0.95, -0.95), p0 = 0.8698915256370021, g0 =
 *       -0.1301084743629979, v0 = -0.5801084743629979, u0 =
 *       -0.6522061012896960, w = 0.475 - 0.5 (u0 + 0.0475) =
 *       0.7773530506448480, b = 0.475 - 0.5 u0 = 0.8011030506448480 */
static void test_momentum(void)
{
	const double want[2][2] = {
		{0.5969707106849975, 0.6094707106849976},
		{0.7773530506448480, 0.8011030506448480},
	};

	for (int nesterov = 0; nesterov < 2; nesterov++) {
		cnn *net = net_or_bail("fc N", 1, 1, 1, 2);
		cnn_train_opts o;
		float x[1] = {1}, loss;
		int y[1] = {0}, r = 0;
		long np;
		float *p = cnn__params(net, 0, &np);

		memset(p, 0, np * sizeof *p);
		cnn_train_defaults(&o);
		o.batch = 1;
		o.lr = 0.5f;
		o.momentum = 0.9f;
		o.nesterov = nesterov;
		o.decoupled_decay = 0.1f;
		for (int s = 0; s < 2; s++)
			r |= cnn_train_step(net, &o, x, y, 1, &loss, err);
		/* the blob: weights w0 w1, biases b0 b1 */
		ok(!r && np == 4 && close_to(p[0], want[nesterov][0], 1e-6) &&
		   close_to(p[1], -want[nesterov][0], 1e-6) &&
		   close_to(p[2], want[nesterov][1], 1e-6) &&
		   close_to(p[3], -want[nesterov][1], 1e-6),
		   "%s momentum, two steps by hand: w %.9f (%.9f), b %.9f (%.9f)",
		   nesterov ? "Nesterov" : "classical", p[0],
		   want[nesterov][0], p[2], want[nesterov][1]);
		int kind = -1;
		float *v = cnn__velocity(net, &kind);
		ok(v && kind == nesterov && close_to(v[3], 0.9 * 0.5 + (nesterov ? 0.1301084743629979 :
						      0.2689414213699951), 1e-6),
		   "%s: the velocity is 0.9 g1 + g2 (%.9f), and says whose",
		   nesterov ? "Nesterov" : "classical", v ? v[3] : 0);
		o.momentum = 0;
		r = cnn_train_step(net, &o, x, y, 1, &loss, err);
		ok(!r && !cnn__velocity(net, NULL), "a step without momentum "
		   "drops the velocity");
		cnn_free(net);
	}
}

/* set every bias of net to 0 */
static void zero_biases(cnn *net)
{
	long np, off = 0;
	float *p = cnn__params(net, 0, &np);

	for (int i = 0; i < cnn_nlayers(net); i++) {
		long k = cnn_layer_nparams(net, i);
		int c, h, w;
		cnn_layer_shape(net, i, &c, &h, &w);
		if (k)
			memset(p + off + k - c, 0, c * sizeof *p);
		off += k;
	}
}

/* The decoupled decay's two tests: two copies of spec's network (2
 * channels, 6x6, 3 classes), their biases zeroed when zero, each take one
 * step of o on the batch x of 4 (labels 0 1 2 0) from the same weights,
 * a with the decoupled decay 0.2, b without.  The weights before, p0
 * (malloc'd), their number np; nonzero when a step failed. */
static int decay_pair(const char *spec, cnn_train_opts o, const float *x, int zero,
		      cnn **a, cnn **b, float **p0, long *np)
{
	static const int y[4] = {0, 1, 2, 0};
	float loss, *pa;
	int r;

	*a = net_or_bail(spec, 2, 6, 6, 3);
	*b = net_or_bail(spec, 2, 6, 6, 3);
	if (zero) {
		zero_biases(*a);
		zero_biases(*b);
	}
	pa = cnn__params(*a, 0, np);
	*p0 = malloc(*np * sizeof *pa);
	memcpy(*p0, pa, *np * sizeof *pa);
	r = cnn_train_step(*b, &o, x, y, 4, &loss, err);
	o.decoupled_decay = 0.2f;
	r |= cnn_train_step(*a, &o, x, y, 4, &loss, err);
	return r;
}

/* with all-zero images and biases every weight's gradient is 0 (conv:
 * dy * x = 0; fc: its input relu(0) = 0), so one step of plain SGD with
 * the decoupled decay d scales every conv and fc weight by exactly
 * 1 - lr d, and moves the biases as it would without d */
static void test_decoupled(void)
{
	const float x[4 * 72] = {0};
	long np, off = 0, wrong = 0, biases_differ = 0;
	cnn_train_opts o;
	float *p0;
	cnn *a, *b;
	int r;

	cnn_train_defaults(&o);
	o.weight_decay = 0;
	o.lr = 0.5f;
	r = decay_pair("conv 3 4; pool 3 2; fc 6; fc N", o, x, 1, &a, &b, &p0, &np);
	float *pa = cnn__params(a, 0, &np), *pb = cnn__params(b, 0, &np);
	for (int i = 0; i < cnn_nlayers(a); i++) {
		long k = cnn_layer_nparams(a, i);
		int c, h, w;
		cnn_layer_shape(a, i, &c, &h, &w);
		if (!k)
			continue;
		for (long j = off; j < off + k - c; j++)	/* weights */
			wrong += !close_to(pa[j], p0[j] * 0.9, 1e-7) ||
				 pb[j] != p0[j];
		for (long j = off + k - c; j < off + k; j++)	/* biases */
			biases_differ += pa[j] != pb[j];
		off += k;
	}
	ok(!r && off == np && !wrong && !biases_differ, "decoupled decay "
	   "0.2 at rate 0.5 scales all %ld conv and fc weights by 0.9 "
	   "(%ld wrong) and leaves the biases alone (%ld differ)",
	   np - 4 - 6 - 3, wrong, biases_differ);
	free(p0);
	cnn_free(a);
	cnn_free(b);
}

/* which parameters take the decoupled decay, on a net with batch norm
 * and a residual block with a projection: one step with it and one
 * without, from the same weights and batch, differ by lr d w0 on the
 * weights of conv, fc and add's projection, and not at all on biases or
 * on bn's gamma and beta */
static void test_decoupled_which(void)
{
	long np, off = 0, wrong = 0, decayed = 0, kept = 0;
	cnn_train_opts o;
	float x[4 * 72], *p0;
	cnn *a, *b;
	int r;

	for (int i = 0; i < 4 * 72; i++)
		x[i] = rnd();
	cnn_train_defaults(&o);
	o.lr = 0.5f;
	r = decay_pair("conv 3 4; bn; res; conv 3 6 2; add; fc N", o, x, 0, &a, &b, &p0, &np);
	float *pa = cnn__params(a, 0, &np), *pb = cnn__params(b, 0, &np);
	for (int i = 0; i < cnn_nlayers(a); i++) {
		const char *kind = cnn_layer_kind(a, i);
		long k = cnn_layer_nparams(a, i), nb;
		int c, h, w;
		cnn_layer_shape(a, i, &c, &h, &w);
		if (!k)
			continue;
		nb = !strcmp(kind, "add") ? 0 : !strcmp(kind, "bn") ? k : c;
		for (long j = off; j < off + k - nb; j++, decayed++)
			wrong += !close_to(pa[j], pb[j] - 0.5 * 0.2 * p0[j], 1e-6);
		for (long j = off + k - nb; j < off + k; j++, kept++)
			wrong += pa[j] != pb[j];
		off += k;
	}
	ok(!r && off == np && decayed == 72 + 216 + 24 + 162 && kept == 4 + 8 + 6 + 3 &&
	   !wrong, "decoupled decay: %ld weights of conv, fc and add's "
	   "projection decayed, %ld biases and bn parameters not (%ld wrong)",
	   decayed, kept, wrong);
	free(p0);
	cnn_free(a);
	cnn_free(b);
}

/* lr 0.1, 100 steps, warm-up 0.1: 10 steps rising by 0.01, then
 * 0.05 (1 + cos(pi (t - 10)/90)) */
static void test_cosine(void)
{
	cnn *net = net_or_bail("fc N", 1, 1, 1, 2);
	cnn_train_opts o;
	const struct { long t; double lr; } want[] = {
		{0, 0.01}, {4, 0.05}, {9, 0.1}, {10, 0.1},
		{40, 0.075},					/* pi/3 */
		{55, 0.05},					/* pi/2 */
		{99, 3.0458649045213e-05},	/* 0.05 (1 - cos(pi/90)) */
		{100, 0}, {1000, 0},
	};
	int good = 1, worst = -1;
	float x[1] = {1}, loss;
	int y[1] = {0};

	cnn_train_defaults(&o);
	o.schedule = CNN_SCHED_COSINE;
	o.steps = 100;
	o.warmup = 0.1f;
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		cnn__set_step(net, want[i].t);
		if (!close_to(cnn_learning_rate(net, &o), want[i].lr, 1e-7)) {
			good = 0;
			worst = (int)want[i].t;
		}
	}
	ok(good, "cosine with warm-up: the rate at steps 0, 4, 9, 10, 40, 55, "
	   "99, 100 (first wrong: %d)", worst);
	o.warmup = 0;
	cnn__set_step(net, 0);
	ok(close_to(cnn_learning_rate(net, &o), 0.1, 1e-7), "no warm-up: "
	   "the peak rate at step 0");
	o.steps = 5000;
	o.warmup = 0.05f;
	cnn__set_step(net, 250 + 2375);
	ok(close_to(cnn_learning_rate(net, &o), 0.05, 1e-7),
	   "5000 steps, warm-up 0.05: half the peak rate at step 2625");
	o.steps = 100;
	o.warmup = 0.7f;	/* 69.99999... as a float times 100 */
	cnn__set_step(net, 68);
	ok(close_to(cnn_learning_rate(net, &o), 0.1 * 69 / 70, 1e-7),
	   "warm-up 0.7 of 100 steps is 70 steps, rounded, not 69");
	cnn__set_step(net, 100);
	o.steps = 100;
	ok(cnn_train_step(net, &o, x, y, 1, &loss, err) == -1 &&
	   strstr(err, "has ended"), "a step past the schedule is refused: %s",
	   err);
	o.steps = 0;
	cnn__set_step(net, 0);
	ok(cnn_train_step(net, &o, x, y, 1, &loss, err) == -1 &&
	   strstr(err, "cosine"), "a cosine schedule of no steps is refused: %s",
	   err);
	cnn_free(net);
}

/* logits (0, 0, ln 2) (the biases of "fc N" on an all-zero image) give
 * p = (1/4, 1/4, 1/2); with label 2 and smoothing 0.3 the target is
 * q = (0.1, 0.1, 0.8): loss -sum q log p = 0.2 ln 4 + 0.8 ln 2 = 1.2 ln 2
 * and the bias gradient p - q = (0.15, 0.15, -0.3) */
static void test_smoothing_known(void)
{
	cnn *net = net_or_bail("fc N", 1, 1, 1, 3);
	long np;
	float *p = cnn__params(net, 0, &np), x[1] = {0}, *g;
	int y[1] = {2};
	double loss;

	p[3] = p[4] = 0;
	p[5] = (float)log(2.0);
	g = cnn__grad_smooth(net, 0, 0.3f, x, y, 1, &loss, err);
	ok(g && close_to(loss, 1.2 * log(2.0), 1e-6) &&
	   close_to(g[3], 0.15, 1e-6) && close_to(g[4], 0.15, 1e-6) &&
	   close_to(g[5], -0.3, 1e-6), "smoothing 0.3: loss %.7f (1.2 ln 2 = "
	   "%.7f), bias gradient %.4f %.4f %.4f (0.15 0.15 -0.3)", loss,
	   1.2 * log(2.0), g ? g[3] : 0, g ? g[4] : 0, g ? g[5] : 0);
	g = cnn__grad_smooth(net, 0, 0, x, y, 1, &loss, err);
	ok(g && close_to(loss, log(2.0), 1e-6) && close_to(g[5], -0.5, 1e-6),
	   "no smoothing: loss ln 2, gradient p - onehot");
	cnn_free(net);
}

/* the smoothed loss of a small net by finite differences over every
 * parameter, as test_cnn_net.c checks the plain one */
static void test_smoothing_gradient(void)
{
	cnn *net = net_or_bail("conv 3 4; pool 3 2; fc 8; fc N", 2, 6, 6, 4);
	int n = 5, y[5] = {0, 1, 2, 3, 1};
	float x[5 * 72], h = 1e-3f, *g;
	long np, bad = 0, skipped = 0;
	double lp, lm, l0, worst = 0;
	float *p = cnn__params(net, 0, &np);

	for (int i = 0; i < n * 72; i++)
		x[i] = rnd();
	for (long i = 0; i < np; i++)
		p[i] = 0.6f * rnd();
	g = malloc(np * sizeof *g);
	memcpy(g, cnn__grad_smooth(net, 0, 0.2f, x, y, n, &l0, err),
	       np * sizeof *g);
	for (long i = 0; i < np; i++) {
		float v = p[i];
		p[i] = v + h;
		cnn__grad_smooth(net, 0, 0.2f, x, y, n, &lp, err);
		p[i] = v - h;
		cnn__grad_smooth(net, 0, 0.2f, x, y, n, &lm, err);
		p[i] = v;
		if (!close_to((lp - l0) / h, (l0 - lm) / h, 1e-2)) {
			skipped++;	/* a ReLU or max-pool kink */
			continue;
		}
		double num = (lp - lm) / (2 * h);
		double e = fabs(num - g[i]) / fmax(1, fmax(fabs(num), fabs(g[i])));
		worst = e > worst ? e : worst;
		bad += e > 1e-2;
	}
	ok(!bad && skipped * 10 <= np, "smoothing 0.2: %ld of %ld "
	   "derivatives wrong (worst %.2g; %ld at kinks skipped)", bad,
	   np - skipped, worst, skipped);
	free(g);
	cnn_free(net);
}

/* settings a step refuses */
static void test_bad_settings(void)
{
	cnn *net = net_or_bail("fc N", 1, 1, 1, 2);
	cnn_train_opts o;
	float x[1] = {1}, loss;
	int y[1] = {0};

	cnn_train_defaults(&o);
	o.batch = 1;
	o.momentum = 1;
	ok(cnn_train_step(net, &o, x, y, 1, &loss, err) == -1 &&
	   strstr(err, "momentum 1"), "momentum 1 is refused: %s", err);
	o.momentum = 0, o.smoothing = 1.5f;
	ok(cnn_train_step(net, &o, x, y, 1, &loss, err) == -1 &&
	   strstr(err, "smoothing 1.5"), "smoothing 1.5 is refused: %s", err);
	o.smoothing = 0, o.schedule = CNN_SCHED_COSINE, o.steps = 1;
	ok(cnn_train_step(net, &o, x, y, 1, &loss, err) == 0 &&
	   cnn_train_step(net, &o, x, y, 1, &loss, err) == -1 &&
	   strstr(err, "has ended"), "a step past the cosine's end is refused: %s", err);
	cnn_free(net);
}

int main(void)
{
	test_momentum();
	test_decoupled();
	test_decoupled_which();
	test_cosine();
	test_smoothing_known();
	test_smoothing_gradient();
	test_bad_settings();
	return done_testing();
}

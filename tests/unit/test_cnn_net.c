/* test_cnn_net.c — the network as a whole: the tutorial architecture and
 * its initialisation, spec parsing and its errors, a finite-difference
 * check of the full loss (cross-entropy plus weight decay), the SGD step
 * and moving average against their formulas, the learning-rate staircase,
 * a refused non-finite loss, bit-identical reruns, and a short training
 * run that must separate a small problem perfectly. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cnn.h"
#include "cnn_impl.h"
#include "tap.h"

static unsigned long long seed = 7;
static float rnd(void)	/* uniform in [-1, 1) */
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (float)((seed >> 40) / 8388608.0 - 1);
}

static void test_tutorial(void)
{
	char err[CNN_ERRLEN];
	cnn *net = cnn_new(NULL, 3, 32, 32, 6, 1, err);
	/* hand-computed: kind, output c h w, parameters (k*k*c*f + f) */
	static const struct { const char *kind; int c, h, w; long np; } want[] = {
		{"conv", 64, 32, 32, 5 * 5 * 3 * 64 + 64},
		{"pool", 64, 16, 16, 0}, {"lrn", 64, 16, 16, 0},
		{"conv", 64, 16, 16, 5 * 5 * 64 * 64 + 64},
		{"lrn", 64, 16, 16, 0}, {"pool", 64, 8, 8, 0},
		{"fc", 384, 1, 1, 4096L * 384 + 384},
		{"fc", 192, 1, 1, 384 * 192 + 192}, {"fc", 6, 1, 1, 192 * 6 + 6},
	};
	/* std of N(0,1) truncated at +-2: sqrt(1 - 4 phi(2) / (2 Phi(2) - 1)) */
	const double tstd = 0.879626;
	static const float stds[] = {0.05f, 0, 0, 0.05f, 0, 0, 0.04f, 0.04f,
				     1 / 192.0f};
	static const float bias[] = {0, 0, 0, 0.1f, 0, 0, 0.1f, 0.1f, 0};
	long n, off = 0;
	int good = 1, c, h, w;

	if (!ok(net != NULL, "the tutorial net builds for 3x32x32, 6 classes"))
		return;
	ok(!strcmp(cnn_spec(net), CNN_TUTORIAL_SPEC), "its spec reads back");
	ok(cnn_nlayers(net) == 9, "9 layers");
	for (int i = 0; i < 9; i++) {
		cnn_layer_shape(net, i, &c, &h, &w);
		good &= !strcmp(cnn_layer_kind(net, i), want[i].kind) &&
			c == want[i].c && h == want[i].h && w == want[i].w &&
			cnn_layer_nparams(net, i) == want[i].np;
	}
	ok(good, "layer kinds, shapes (32->16->8) and parameter counts");
	float *p = cnn__params(net, 0, &n), *e = cnn__params(net, 1, &n);
	ok(n == cnn_nparams(net) && !memcmp(p, e, n * sizeof *p),
	   "the average starts equal to the weights");
	for (int i = 0; i < 9; i++) {
		long np = cnn_layer_nparams(net, i), nb = want[i].c;
		if (!np)
			continue;
		double ss = 0, max = 0;
		int bgood = 1;
		for (long j = off; j < off + np - nb; j++) {
			ss += (double)p[j] * p[j];
			max = fabs(p[j]) > max ? fabs(p[j]) : max;
		}
		for (long j = off + np - nb; j < off + np; j++)
			bgood &= p[j] == bias[i];
		double sd = sqrt(ss / (np - nb)) / (stds[i] * tstd);
		/* >= 1152 draws: the sample std is within 10% of its value */
		ok(fabs(sd - 1) < 0.1 && max <= 2 * stds[i] && bgood,
		   "layer %d: weights truncated normal std %g (ratio %.3f, "
		   "max %.3g <= 2 std), biases %g", i + 1, stds[i], sd, max,
		   bias[i]);
		off += np;
	}
	cnn_free(net);
}

static void test_spec(void)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{"conv 5; fc N", "spec part 1 'conv 5': conv needs KERNEL FILTERS"},
		{"conv 5 64; pol 3 2; fc N", "spec part 2 'pol 3 2': unknown layer kind"},
		{"conv 5 64; pool 3", "spec part 2 'pool 3': pool needs SIZE STRIDE"},
		{"conv 5 64; pool 3 2", "spec part 2 'pool 3 2': the last part must be fc"},
		{"fc 7", "fc 7 but there are 6 classes"},
		{"conv 5 64;; fc N", "spec part 2 is empty"},
		{"", "spec part 1 is empty"},
		{"conv 0 64; fc N", "spec part 1 'conv 0 64'"},
		{"lrn 4 0; fc N", "spec part 1 'lrn 4 0': lrn takes"},
		{"fc x", "spec part 1 'fc x': fc needs OUTPUTS"},
		{"conv 5 64 std=-1; fc N", "spec part 1 'conv 5 64 std=-1'"},
		{"res; conv 3 4; fc N", "spec part 1 'res': block never closed"},
		{"conv 3 4; add; fc N", "spec part 2 'add': no block (res) open"},
		{"res; res; add; fc N", "spec part 1 'res': block never closed"},
		{"bn 3; fc N", "spec part 1 'bn 3': bn takes [relu=0|1]"},
		{"bn relu=2; fc N", "bn takes [relu=0|1]"},
		{"gap 2; fc N", "spec part 1 'gap 2': gap takes no arguments"},
		{"dropout 1; fc N", "spec part 1 'dropout 1': dropout needs P"},
		{"dropout; fc N", "dropout needs P"},
		{"res; add bias=1; fc N", "add takes [relu=0|1] [std=X]"},
	};
	char err[CNN_ERRLEN];
	cnn *net;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = 0;
		net = cnn_new(bad[i].spec, 3, 32, 32, 6, 1, err);
		ok(!net && strstr(err, bad[i].msg), "spec '%s' refused: %s",
		   bad[i].spec, err);
		cnn_free(net);
	}
	net = cnn_new("  conv 3 8 2  relu=0 ;pool 2 2;lrn 2 1 0.5 0.5; fc 6 "
		      "std=0.5", 1, 9, 9, 6, 1, err);
	ok(net && !strcmp(cnn_spec(net), "conv 3 8 2 relu=0; pool 2 2; "
	   "lrn 2 1 0.5 0.5; fc 6 std=0.5"), "spec normalised: %s",
	   net ? cnn_spec(net) : err);
	cnn_free(net);
	/* the new kinds: printed as written, and read back the same */
	static const char *const round[] = {
		"conv 3 8 relu=0; bn; res; conv 3 8 relu=0; bn; conv 3 8 "
		"relu=0; bn relu=0; add; res; conv 3 16 2 relu=0; bn; res; "
		"conv 3 16; add relu=0; add std=0.25; gap; dropout 0.3; fc N",
		"conv 3 32 relu=0; bn; conv 3 32 relu=0; bn; pool 2 2; "
		"conv 3 64 relu=0; bn; conv 3 64 relu=0; bn; pool 2 2; "
		"conv 3 128 relu=0; bn; conv 3 128 relu=0; bn; pool 2 2; gap; "
		"dropout 0.3; fc N",
	};
	for (int i = 0; i < 2; i++) {
		cnn *a = cnn_new(round[i], 3, 32, 32, 6, 1, err), *b = NULL;
		if (a)
			b = cnn_new(cnn_spec(a), 3, 32, 32, 6, 1, err);
		ok(a && b && !strcmp(cnn_spec(a), round[i]) &&
		   !strcmp(cnn_spec(b), round[i]) &&
		   cnn_nparams(a) == cnn_nparams(b), "spec round trip: %s",
		   a ? cnn_spec(a) : err);
		cnn_free(a), cnn_free(b);
	}
	net = cnn_new("  res ;conv 3 8 2 relu=0;  bn  relu=1;add   relu=0 ; "
		      "gap;dropout  0.50; fc N", 4, 9, 9, 6, 1, err);
	ok(net && !strcmp(cnn_spec(net), "res; conv 3 8 2 relu=0; bn; "
	   "add relu=0; gap; dropout 0.5; fc N"), "spec normalised: %s",
	   net ? cnn_spec(net) : err);
	/* hand-counted: 4*9*8+8, bn 8+8, add's projection 8x4, fc 8*6+6 */
	ok(net && cnn_nparams(net) == 296 + 16 + 32 + 54 &&
	   cnn_layer_nparams(net, 3) == 32 && cnn_nlayers(net) == 7,
	   "parameters: %ld (the projection 1x1 4 -> 8, stride 2: 32)",
	   net ? cnn_nparams(net) : 0L);
	cnn_free(net);
	ok(!cnn_new(NULL, 3, 0, 32, 6, 1, err) && strstr(err, "3x0x32"),
	   "an empty input shape is refused: %s", err);
	ok(!cnn_new(NULL, 3, 32, 32, 0, 1, err) && strstr(err, "class count"),
	   "no classes is refused: %s", err);
}

/* the whole loss by finite differences over every parameter (see
 * test_cnn_layers.c for the step and the tolerance: here L is one mean
 * of a few terms, so its rounding noise is smaller still) */
static void test_net_gradient(const char *spec, int threads)
{
	char err[CNN_ERRLEN];
	cnn *net = cnn_new(spec, 2, 8, 8, 3, 5, err);
	int n = 5, y[5] = {0, 1, 2, 1, 0};
	float x[5 * 128], wd = 0.3f, h = 1e-3f;
	long np, bad = 0, skipped = 0;
	double loss, lp, lm, l0, worst = 0;

	cnn_set_threads(threads);
	for (int i = 0; i < n * 128; i++)
		x[i] = rnd();
	float *p = cnn__params(net, 0, &np), *g = malloc(np * sizeof *g);
	for (long i = 0; i < np; i++)	/* larger weights: a livelier loss */
		p[i] = 0.6f * rnd();
	memcpy(g, cnn__grad(net, wd, x, y, n, &l0, err), np * sizeof *g);
	for (long i = 0; i < np; i++) {
		float v = p[i];
		p[i] = v + h;
		cnn__grad(net, wd, x, y, n, &lp, err);
		p[i] = v - h;
		cnn__grad(net, wd, x, y, n, &lm, err);
		p[i] = v;
		if (!close_to((lp - l0) / h, (l0 - lm) / h, 1e-2)) {
			skipped++;
			continue;
		}
		double num = (lp - lm) / (2 * h);
		double e = fabs(num - g[i]) / fmax(1, fmax(fabs(num), fabs(g[i])));
		worst = e > worst ? e : worst;
		bad += e > 1e-2;
	}
	ok(!bad && skipped * 10 <= np, "whole net '%s' (%d thread%s), loss "
	   "with weight decay: %ld of %ld derivatives wrong (worst %.2g; %ld "
	   "at kinks skipped)", spec, threads, threads > 1 ? "s" : "", bad,
	   np - skipped, worst, skipped);
	(void)loss;
	free(g);
	cnn_free(net);
	cnn_set_threads(1);
}

/* the loss's decay term: wd/2 * sum w^2 over local3 and local4 only */
static void test_decay_term(void)
{
	char err[CNN_ERRLEN];
	cnn *net = cnn_new(NULL, 3, 8, 8, 4, 3, err);
	float x[2 * 192] = {0};
	int y[2] = {0, 1};
	double l0, l1, ss = 0;
	long np, off = 0;
	float *p = cnn__params(net, 0, &np);

	cnn__grad(net, 0, x, y, 2, &l0, err);
	cnn__grad(net, 0.5f, x, y, 2, &l1, err);
	for (int i = 0; i < cnn_nlayers(net); i++) {
		int c, h, w;
		long k = cnn_layer_nparams(net, i);
		cnn_layer_shape(net, i, &c, &h, &w);
		if (i == 6 || i == 7)	/* local3, local4: weights, not biases */
			for (long j = off; j < off + k - c; j++)
				ss += (double)p[j] * p[j];
		off += k;
	}
	ok(close_to(l1 - l0, 0.5 * ss / 2, 1e-4), "weight decay adds wd/2 * "
	   "sum w^2 over local3 and local4 weights (%.6g vs %.6g)", l1 - l0,
	   0.5 * ss / 2);
	cnn_free(net);
}

/* one step: w1 = w0 - lr g, ema1 = w0 - (1 - d)(w0 - w1), d = min(0.9999,
 * (1 + 1)/(10 + 1)) as TensorFlow reads the step after its increment */
static void test_step(void)
{
	char err[CNN_ERRLEN];
	cnn *net = cnn_new("conv 3 4; pool 2 2; fc 5; fc N", 1, 6, 6, 3, 9, err);
	cnn_train_opts o;
	float x[4 * 36], loss;
	int y[4] = {0, 1, 2, 0};
	long np;
	double l;

	cnn_train_defaults(&o);
	o.lr = 0.5f;
	for (int i = 0; i < 4 * 36; i++)
		x[i] = rnd();
	float *p = cnn__params(net, 0, &np), *e = cnn__params(net, 1, &np);
	float *w0 = malloc(np * 4), *g = malloc(np * 4);
	memcpy(w0, p, np * 4);
	memcpy(g, cnn__grad(net, o.weight_decay, x, y, 4, &l, err), np * 4);
	int r = cnn_train_step(net, &o, x, y, 4, &loss, err);
	double d = 2.0 / 11, worst = 0;
	for (long i = 0; i < np; i++) {
		double w1 = w0[i] - 0.5 * g[i], e1 = w0[i] - (1 - d) * (w0[i] - w1);
		worst = fmax(worst, fmax(fabs(w1 - p[i]), fabs(e1 - e[i])));
	}
	ok(!r && worst < 1e-6 && close_to(loss, l, 1e-6) &&
	   cnn_step_count(net) == 1, "SGD step and moving average follow "
	   "their formulas (worst %.2g)", worst);

	o.lr = 0.1f, o.lr_decay = 0.5f, o.decay_steps = 3;
	float want[] = {0.1f, 0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.025f};
	int good = 1;
	for (int s = 0; s < 7; s++) {
		cnn__set_step(net, s);
		good &= close_to(cnn_learning_rate(net, &o), want[s], 1e-6);
	}
	ok(good, "staircase: 0.1 for steps 0-2, 0.05 for 3-5, 0.025 at 6");

	/* a NaN pixel makes the loss NaN: refused, weights untouched */
	memcpy(w0, p, np * 4);
	memcpy(g, e, np * 4);
	x[5] = NAN;
	cnn__set_step(net, 1);
	r = cnn_train_step(net, &o, x, y, 4, &loss, err);
	ok(r == -1 && strstr(err, "not finite") && !memcmp(w0, p, np * 4) &&
	   !memcmp(g, e, np * 4) && cnn_step_count(net) == 1,
	   "a non-finite loss is refused and changes nothing: %s", err);
	y[2] = 3;
	x[5] = 0;
	ok(cnn_train_step(net, &o, x, y, 4, &loss, err) == -1 &&
	   strstr(err, "label 3"), "a label out of range is refused: %s", err);
	free(w0), free(g);
	cnn_free(net);
}

/* batch norm's running statistics after one step with lr 0: images
 * 1 1 | 3 3 have mean 2 and unbiased variance 4/3, so the running mean
 * goes 0 -> 0.1 * 2 and the variance 1 -> 0.9 + 0.1 * 4/3; their average
 * moves with the weights' factor d = 2/11: e = d e0 + (1 - d) s */
static void test_bn_state(void)
{
	char err[CNN_ERRLEN];
	cnn *net = cnn_new("bn relu=0; fc N", 1, 1, 2, 2, 1, err);
	cnn_train_opts o;
	float x[4] = {1, 1, 3, 3}, loss;
	int y[2] = {0, 1};
	long ns;

	cnn_train_defaults(&o);
	o.lr = 0;
	float *st = cnn__state(net, 0, &ns), *se = cnn__state(net, 1, &ns);
	int r = cnn_train_step(net, &o, x, y, 2, &loss, err);
	double d = 2.0 / 11, v = 0.9 + 0.4 / 3;
	ok(!r && ns == 2 && close_to(st[0], 0.2, 1e-7) && close_to(st[1], v, 1e-7) &&
	   close_to(se[0], (1 - d) * 0.2, 1e-7) &&
	   close_to(se[1], d + (1 - d) * v, 1e-7), "bn running statistics after "
	   "a step: mean %g, variance %g; averaged %g %g", st[0], st[1], se[0],
	   se[1]);
	/* a refused step leaves them alone */
	x[0] = NAN;
	r = cnn_train_step(net, &o, x, y, 2, &loss, err);
	ok(r && close_to(st[0], 0.2, 1e-7) && close_to(st[1], v, 1e-7),
	   "a refused step leaves the running statistics as they were");
	cnn_free(net);
}

/* n images of 3x8x8 in 4 classes: class k lights quadrant k, plus noise */
static void quadrants(float *x, int *y, int n)
{
	for (int i = 0; i < n; i++) {
		y[i] = i % 4;
		for (int c = 0; c < 3; c++)
			for (int r = 0; r < 8; r++)
				for (int q = 0; q < 8; q++) {
					int quad = (r >= 4) * 2 + (q >= 4);
					x[((i * 3 + c) * 8 + r) * 8 + q] =
						(quad == y[i]) + 0.3f * rnd();
				}
	}
}

static void test_training(void)
{
	char err[CNN_ERRLEN];
	const char *spec = "conv 3 8; pool 3 2; lrn; fc 16; fc N";
	int n = 64, y[64], good = 0;
	float *x = malloc(n * 192 * 4), prob[64 * 4], loss = 0;
	cnn_train_opts o;
	cnn *net = cnn_new(spec, 3, 8, 8, 4, 11, err);

	cnn_train_defaults(&o);
	o.lr = 0.05f;
	quadrants(x, y, n);
	for (int s = 0; s < 60; s++)
		if (cnn_train_step(net, &o, x + (s % 2) * 32 * 192, y, 32,
				   &loss, err))
			break;
	quadrants(x, y, n);	/* fresh noise */
	cnn_predict(net, x, n, 0, prob, err);
	for (int i = 0; i < n; i++) {
		int best = 0;
		for (int k = 1; k < 4; k++)
			best = prob[i * 4 + k] > prob[i * 4 + best] ? k : best;
		good += best == y[i];
	}
	ok(good == n, "60 steps learn the quadrants: %d/%d right on fresh "
	   "images (loss %.3f)", good, n, loss);
	free(x);
	cnn_free(net);
}

#define DET_SPEC "conv 5 8; pool 3 2; lrn; conv 3 8; lrn; pool 3 2; " \
	"fc 16; fc 12; fc N"
/* batch norm, residual blocks (one with a projection), dropout, gap */
#define DET_SPEC_BN "conv 3 8 relu=0; bn; res; conv 3 8 relu=0; bn; " \
	"conv 3 8 relu=0; bn relu=0; add; res; conv 3 12 2 relu=0; bn; " \
	"add; gap; dropout 0.3; fc N"

/* train a few steps; copy of the weights and average, then the state
 * and its average */
static float *run(const char *spec, int threads, int steps)
{
	char err[CNN_ERRLEN];
	int n = 24, y[24];
	float *x = malloc(n * 3 * 16 * 16 * 4), loss;
	cnn_train_opts o;
	long np, ns;
	cnn *net;

	cnn_set_threads(threads);
	net = cnn_new(spec, 3, 16, 16, 5, 99, err);
	cnn_train_defaults(&o);
	seed = 5;
	for (int i = 0; i < n * 768; i++)
		x[i] = rnd();
	for (int i = 0; i < n; i++)
		y[i] = i % 5;
	for (int s = 0; s < steps; s++)
		cnn_train_step(net, &o, x, y, n, &loss, err);
	float *p = cnn__params(net, 0, &np), *e = cnn__params(net, 1, &np);
	float *st = cnn__state(net, 0, &ns), *se = cnn__state(net, 1, &ns);
	float *copy = malloc((2 * np + 2 * ns) * 4 + 4);
	memcpy(copy, p, np * 4);
	memcpy(copy + np, e, np * 4);
	memcpy(copy + 2 * np + 1, st, ns * 4);
	memcpy(copy + 2 * np + 1 + ns, se, ns * 4);
	copy[2 * np] = np;
	cnn_free(net);
	free(x);
	cnn_set_threads(1);
	return copy;
}

/* the weight count, found after the copy's two weight blobs */
static long count_of(const float *c)
{
	for (long i = 1;; i++)
		if (c[2 * i] == i)
			return i;
}

static void test_determinism(void)
{
	static const char *const specs[] = {DET_SPEC, DET_SPEC_BN};
	static const long nstate[] = {0, 2 * (8 + 8 + 8 + 12)};

	for (int k = 0; k < 2; k++) {
		for (int t = 1; t <= 2; t++) {
			float *a = run(specs[k], t, 3), *b = run(specs[k], t, 3);
			long np = count_of(b);
			ok(!memcmp(a, b, (2 * np + 1 + 2 * nstate[k]) * 4),
			   "same seed, %d thread%s: bit-identical weights, "
			   "averages%s", t, t > 1 ? "s" : "", k ? ", state "
			   "(batch norm, residual blocks, dropout)" : "");
			free(a), free(b);
		}
		/* the batch is cut into chunks whatever the thread count */
		float *a = run(specs[k], 1, 3), *b = run(specs[k], 2, 3);
		long np = count_of(b);
		ok(!memcmp(a, b, (2 * np + 1 + 2 * nstate[k]) * 4),
		   "1 and 2 threads: bit-identical weights, averages%s",
		   k ? ", state (batch norm, residual blocks, dropout)" : "");
		free(a), free(b);
	}
}

/* a lone image with 2 threads is split in bands of rows inside the
 * convolutions; several images are split between the threads: both give
 * what one thread gives */
static void test_predict_threads(void)
{
	char err[CNN_ERRLEN];
	float *x = malloc(3 * 3072 * 4), p1[18], p2[18], q[18];
	double worst = 0;
	cnn *net = cnn_new(NULL, 3, 32, 32, 6, 4, err);
	int r = 0;

	for (int i = 0; i < 3 * 3072; i++)
		x[i] = rnd();
	cnn_set_threads(1);
	r |= cnn_predict(net, x, 3, 0, p1, err);
	cnn_set_threads(2);
	for (int i = 0; i < 3; i++)
		r |= cnn_predict(net, x + i * 3072, 1, 0, p2 + i * 6, err);
	r |= cnn_predict(net, x, 3, 0, q, err);
	for (int i = 0; i < 18; i++)
		worst = fmax(worst, fmax(fabs(p1[i] - p2[i]), fabs(p1[i] - q[i])));
	ok(!r && worst < 1e-6, "one image on 2 threads, 3 images on 2 threads "
	   "and on 1 agree (worst %.2g)", worst);
	cnn_set_threads(1);
	free(x);
	cnn_free(net);

	/* more images than one pass takes (256): the same as one by one */
	int n = 300;
	float *big = malloc(n * 192 * 4), *pa = malloc(n * 4 * 4), pb[4];
	net = cnn_new("conv 3 4; pool 3 2; fc N", 3, 8, 8, 4, 2, err);
	for (int i = 0; i < n * 192; i++)
		big[i] = rnd();
	r = cnn_predict(net, big, n, 1, pa, err);
	worst = 0;
	for (int i = 0; i < n; i++) {
		r |= cnn_predict(net, big + i * 192, 1, 1, pb, err);
		for (int k = 0; k < 4; k++)
			worst = fmax(worst, fabs(pa[i * 4 + k] - pb[k]));
	}
	ok(!r && worst < 1e-6, "300 images at once give what they give one by "
	   "one (worst %.2g)", worst);
	free(big), free(pa);
	cnn_free(net);
}

/* two networks trained at once from two threads of the caller's, each
 * network on 2 threads, share libcnn's thread pool: the one that finds it
 * busy runs its parts in turn, and both get their bits all the same */
static void *train_one(void *arg)
{
	char err[CNN_ERRLEN];
	long s = (long)arg, np;
	cnn *net = cnn_new("conv 3 4; pool 2 2; fc N", 1, 8, 8, 3, s, err);
	cnn_train_opts o;
	float x[16 * 64], loss, *copy;
	int y[16];

	cnn_train_defaults(&o);
	for (int i = 0; i < 16 * 64; i++)
		x[i] = (i * 7 % 13) * 0.1f;
	for (int i = 0; i < 16; i++)
		y[i] = i % 3;
	for (int k = 0; k < 30; k++)
		cnn_train_step(net, &o, x, y, 16, &loss, err);
	float *p = cnn__params(net, 0, &np);
	copy = malloc(np * sizeof *copy);
	memcpy(copy, p, np * sizeof *copy);
	cnn_free(net);
	return copy;
}

static void test_concurrent(void)
{
	pthread_t t[2];
	void *got[2];
	float *want[2];
	long np = 4 * 9 + 4 + 64 * 3 + 3;	/* conv 3 4 on 1 channel; fc */
	int same = 1;

	cnn_set_threads(2);
	for (long i = 0; i < 2; i++)
		want[i] = train_one((void *)(i + 1));
	for (long i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, train_one, (void *)(i + 1));
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], &got[i]);
		same &= !memcmp(got[i], want[i], np * sizeof(float));
		free(got[i]), free(want[i]);
	}
	ok(same, "two networks trained at once from two threads: the same "
	   "bits as one after the other");
	cnn_set_threads(1);
}

int main(void)
{
	test_tutorial();
	test_spec();
	test_net_gradient("conv 3 4; pool 3 2; lrn 2; conv 3 5 2; lrn; "
			  "pool 2 2; fc 8; fc N", 1);
	test_net_gradient("conv 3 4; pool 3 2; lrn 2; conv 3 5 2; lrn; "
			  "pool 2 2; fc 8; fc N", 2);
	/* batch norm, residual blocks with and without a projection, gap,
	 * dropout, in training mode */
	test_net_gradient("conv 3 4 relu=0; bn; res; conv 3 4 relu=0; bn; "
			  "conv 3 4 relu=0; bn relu=0; add; res; "
			  "conv 3 6 2 relu=0; bn; add relu=0; gap; "
			  "dropout 0.25; fc N", 1);
	test_net_gradient("conv 3 4 relu=0; bn; res; conv 3 4 relu=0; bn; "
			  "conv 3 4 relu=0; bn relu=0; add; res; "
			  "conv 3 6 2 relu=0; bn; add relu=0; gap; "
			  "dropout 0.25; fc N", 2);
	test_decay_term();
	test_step();
	test_bn_state();
	test_training();
	test_determinism();
	test_predict_threads();
	test_concurrent();
	return done_testing();
}

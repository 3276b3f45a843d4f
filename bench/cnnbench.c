/* cnnbench.c — libcnn's speed on the CIFAR-10 tutorial network, or the
 * network of -s SPEC (batch 128, 3x32x32 inputs, 6 classes, plain SGD),
 * for bench/train to set beside PyTorch.  Build and run from the top of the tree:
 *
 *   make build/libcnn.a
 *   cc -O2 -Ilib/cnn bench/cnnbench.c build/libcnn.a -lopenblas -lpthread -lm \
 *      -o bench/cnnbench
 *   bench/cnnbench [-c] [-r RUNS] [-s SPEC] [-t THREADS]...
 *
 * For each thread count (default 1 and 2) it prints, each figure the
 * median of RUNS runs (default 5), one "NAME VALUE" line per measure:
 *   train_Nthr     training images/s (one run = 3 steps of 128 images)
 *   infer1_Nthr    single-image inference latency in ms (one run = the
 *                  median of 50 one-image cnn_predict calls)
 *   infer128_Nthr  batch-128 inference images/s (one run = 3 batches)
 * e.g. "train_2thr 431.2".  With -c each line is followed by the same
 * figure counted in the process's CPU time instead of the clock's, named
 * with "_cpu" added: images per CPU-second for the rates (so N threads
 * that scale perfectly give the 1-thread figure), CPU ms for the
 * latency.  A busy machine disturbs CPU time far less than the clock.
 * Exit 1 if libcnn fails, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cnn.h"

#define BATCH 128
#define NCLASS 6
#define IMG (3 * 32 * 32)

static int cpu;	/* -c: count CPU time, not the clock's */
static const char *spec;	/* -s, NULL = the tutorial's */

static double now(void)
{
	struct timespec t;

	clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fail(const char *err)
{
	fprintf(stderr, "cnnbench: %s\n", err);
	exit(1);
}

static void bench(int threads, int runs, const float *x, const int *y,
		  const char *suffix)
{
	char err[CNN_ERRLEN];
	double *v = malloc(runs * sizeof *v), one[50];
	static float prob[BATCH * NCLASS];
	cnn_train_opts o;
	float loss;
	cnn *net;

	cnn_set_threads(threads);
	if (!(net = cnn_new(spec, 3, 32, 32, NCLASS, 1, err)))
		fail(err);
	cnn_train_defaults(&o);
	if (cnn_train_step(net, &o, x, y, BATCH, &loss, err))	/* warm up */
		fail(err);
	for (int r = 0; r < runs; r++) {
		double t = now();
		for (int s = 0; s < 3; s++)
			if (cnn_train_step(net, &o, x, y, BATCH, &loss, err))
				fail(err);
		v[r] = 3 * BATCH / (now() - t);
	}
	printf("train_%dthr%s %.1f\n", threads, suffix, median(v, runs));
	for (int r = 0; r < runs; r++) {
		for (int i = 0; i < 50; i++) {
			double t = now();
			if (cnn_predict(net, x + i * IMG, 1, 1, prob, err))
				fail(err);
			one[i] = (now() - t) * 1e3;
		}
		v[r] = median(one, 50);
	}
	printf("infer1_%dthr%s %.3f\n", threads, suffix, median(v, runs));
	for (int r = 0; r < runs; r++) {
		double t = now();
		for (int s = 0; s < 3; s++)
			if (cnn_predict(net, x, BATCH, 1, prob, err))
				fail(err);
		v[r] = 3 * BATCH / (now() - t);
	}
	printf("infer128_%dthr%s %.1f\n", threads, suffix, median(v, runs));
	fflush(stdout);
	cnn_free(net);
	free(v);
}

int main(int argc, char **argv)
{
	int runs = 5, threads[8], nt = 0, c, y[BATCH], both = 0;
	float *x = malloc(BATCH * IMG * sizeof *x);
	unsigned long long s = 1;

	while ((c = getopt(argc, argv, "cr:s:t:h")) != -1)
		switch (c) {
		case 'c':
			both = 1;
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 's':
			spec = optarg;
			break;
		case 't':
			if (nt < 8)
				threads[nt++] = atoi(optarg);
			break;
		case 'h':
			printf("usage: cnnbench [-c] [-r RUNS] [-s SPEC] [-t THREADS]...\n");
			return 0;
		default:
			goto usage;
		}
	if (optind < argc || runs < 1 || runs > 1000)
		goto usage;
	if (!nt) {
		threads[nt++] = 1;
		threads[nt++] = 2;
	}
	for (int i = 0; i < BATCH * IMG; i++) {	/* a fixed pseudo-image */
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		x[i] = (float)((s >> 40) / 8388608.0 - 1);
	}
	for (int i = 0; i < BATCH; i++)
		y[i] = i % NCLASS;
	for (int i = 0; i < nt; i++) {
		if (threads[i] < 1 || threads[i] > 64)
			goto usage;
		cpu = 0;
		bench(threads[i], runs, x, y, "");
		if (both) {
			cpu = 1;
			bench(threads[i], runs, x, y, "_cpu");
		}
	}
	free(x);
	return 0;
usage:
	fprintf(stderr, "usage: cnnbench [-c] [-r RUNS] [-s SPEC] [-t THREADS]...\n");
	return 2;
}

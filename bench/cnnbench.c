/* cnnbench.c — libcnn's side of bench/train: time the tutorial network on
 * batches of 128 random 3x32x32 images, 6 classes, plain SGD, and print
 *   train_Tthr IMG/S     training steps (after one warm-up step)
 *   single_Tthr MS       one image through the net, median of 50
 *   batch_Tthr IMG/S     batches of 128 through the net
 * the same lines as bench/torchbench.py.
 * usage: cnnbench [-t THREADS] [-s STEPS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cnn.h"

enum { BATCH = 128, C = 3, H = 32, W = 32, NCLASS = 6, SINGLE = 50 };

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cnnbench [-t THREADS] [-s STEPS]\n");
}

int main(int argc, char **argv)
{
	int threads = 1, steps = 8, opt;
	char err[CNN_ERRLEN];

	while ((opt = getopt(argc, argv, "ht:s:")) != -1) {
		if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 's')
			steps = atoi(optarg);
		else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || threads < 1 || steps < 1) {
		usage(stderr);
		return 2;
	}
	cnn_set_threads(threads);
	cnn *net = cnn_new(NULL, C, H, W, NCLASS, 1, err);
	float *x = malloc(sizeof *x * BATCH * C * H * W), prob[BATCH * NCLASS], loss;
	int y[BATCH];
	if (!net || !x) {
		fprintf(stderr, "cnnbench: %s\n", net ? "out of memory" : err);
		return 1;
	}
	unsigned r = 1;
	for (long i = 0; i < (long)BATCH * C * H * W; i++) {
		r = r * 1664525u + 1013904223u;
		x[i] = (float)(r >> 8) / (1 << 24) - 0.5f;
	}
	for (int i = 0; i < BATCH; i++)
		y[i] = i % NCLASS;
	cnn_train_opts o;
	cnn_train_defaults(&o);
	o.lr = 0.01f;

	double t = 0;
	for (int s = 0; s <= steps; s++) {
		if (s == 1)
			t = now();
		if (cnn_train_step(net, &o, x, y, BATCH, &loss, err)) {
			fprintf(stderr, "cnnbench: %s\n", err);
			return 1;
		}
	}
	double train = steps * BATCH / (now() - t);

	double single[SINGLE];
	for (int i = -5; i < SINGLE; i++) {
		t = now();
		if (cnn_predict(net, x, 1, 1, prob, err)) {
			fprintf(stderr, "cnnbench: %s\n", err);
			return 1;
		}
		if (i >= 0)
			single[i] = now() - t;
	}
	qsort(single, SINGLE, sizeof *single, cmp);

	for (int i = -1; i < 3; i++) {
		if (i == 0)
			t = now();
		if (cnn_predict(net, x, BATCH, 1, prob, err)) {
			fprintf(stderr, "cnnbench: %s\n", err);
			return 1;
		}
	}
	double batch = 3 * BATCH / (now() - t);

	printf("train_%dthr %.1f\n", threads, train);
	printf("single_%dthr %.3f\n", threads, single[SINGLE / 2] * 1e3);
	printf("batch_%dthr %.1f\n", threads, batch);
	cnn_free(net);
	free(x);
	return 0;
}

/* gemmfloor.c — how fast any convolution through im2col and OpenBLAS's
 * sgemm can be: the time of the sgemm calls alone, each the best of RUNS,
 * for the 3x3 SAME convolutions of a network, with nothing else counted
 * (no im2col, batch norm, pooling or threads to start).  Build and run from
 * the top of the tree:
 *
 *   cc -O2 bench/gemmfloor.c -lopenblas -o bench/gemmfloor
 *   bench/gemmfloor [-b] [-n IMAGES] [-r RUNS] [-t THREADS] < LAYERS
 *
 * LAYERS has one line "IN OUT SIDE" per convolution (channels in and out,
 * the side of its square input); bench/README.md gives issue 11's VGG.
 * Each convolution is one sgemm of OUT x (IMAGES*SIDE^2) x (IN*9) for the
 * forward pass; with -b (a training step) also its weights' gradient
 * (OUT x IN*9 x IMAGES*SIDE^2) and, but for the first layer, its input's
 * (IN*9 x IMAGES*SIDE^2 x OUT).  It prints one line per sgemm (shape,
 * milliseconds, GFLOPS) and then
 *   floor MS ms for IMAGES images, RATE images/s, GFLOPS GFLOPS
 * Exit 1 when out of memory or on a bad line, 2 on bad usage. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void openblas_set_num_threads(int);

static int runs = 30;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

/* the best time in seconds of C[m x n] = op(A) op(B), inner size k */
static double gemm(int m, int n, int k, int ta, int tb, double *flop)
{
	float *a = calloc((size_t)m * k, sizeof *a), *b = calloc((size_t)k * n, sizeof *b);
	float *c = calloc((size_t)m * n, sizeof *c);
	double best = -1;

	if (!a || !b || !c) {
		fprintf(stderr, "gemmfloor: out of memory for %d x %d x %d\n", m, n, k);
		exit(1);
	}
	for (size_t i = 0; i < (size_t)m * k; i++)
		a[i] = (float)(i % 7) / 8;
	for (size_t i = 0; i < (size_t)k * n; i++)
		b[i] = (float)(i % 5) / 8;
	for (int r = 0; r < runs; r++) {
		double t = now();
		cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans,
			    tb ? CblasTrans : CblasNoTrans, m, n, k, 1, a, ta ? m : k,
			    b, tb ? k : n, 0, c, n);
		t = now() - t;
		if (best < 0 || t < best)
			best = t;
	}
	printf("%5d x %6d x %6d %s  %8.3f ms  %6.1f GFLOPS\n", m, n, k,
	       ta ? "TN" : tb ? "NT" : "NN", best * 1e3, 2.0 * m * n * k / best / 1e9);
	*flop += 2.0 * m * n * k;
	free(a);
	free(b);
	free(c);
	return best;
}

int main(int argc, char **argv)
{
	int back = 0, images = 1, threads = 1, c, in, out, side, line = 0, convs = 0;
	double t = 0, flop = 0;
	char buf[256];

	while ((c = getopt(argc, argv, "bn:r:t:h")) != -1)
		switch (c) {
		case 'b':
			back = 1;
			break;
		case 'n':
			images = atoi(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'h':
			printf("usage: gemmfloor [-b] [-n IMAGES] [-r RUNS] [-t THREADS] < LAYERS\n");
			return 0;
		default:
			goto usage;
		}
	if (optind < argc || images < 1 || images > 1024 || runs < 1 || runs > 100000 ||
	    threads < 1 || threads > 64)
		goto usage;
	openblas_set_num_threads(threads);
	while (fgets(buf, sizeof buf, stdin)) {
		int n;
		line++;
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		if (sscanf(buf, "%d %d %d", &in, &out, &side) != 3 || in < 1 || out < 1 ||
		    side < 1 || in > 4096 || out > 4096 || side > 1024) {
			fprintf(stderr, "gemmfloor: stdin:%d: want \"IN OUT SIDE\"\n", line);
			return 1;
		}
		n = images * side * side;
		t += gemm(out, n, in * 9, 0, 0, &flop);
		if (back) {
			t += gemm(out, in * 9, n, 0, 1, &flop);
			if (convs > 0)
				t += gemm(in * 9, n, out, 1, 0, &flop);
		}
		convs++;
	}
	printf("floor %.3f ms for %d images, %.1f images/s, %.1f GFLOPS\n", t * 1e3,
	       images, images / t, flop / t / 1e9);
	return 0;
usage:
	fprintf(stderr, "usage: gemmfloor [-b] [-n IMAGES] [-r RUNS] [-t THREADS] < LAYERS\n");
	return 2;
}

/* cnn_util.c — small helpers the layer files share: TensorFlow SAME
 * padding, spec argument parsing, ReLU, random numbers and threads. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cnn_layer.h"

void cnn__same(int in, int k, int stride, int *out, int *pad_before)
{
	int o = (in + stride - 1) / stride;
	int pad = (o - 1) * stride + k - in;

	*out = o;
	*pad_before = pad > 0 ? pad / 2 : 0;
}

void *cnn__cfg(cnn_layer *l, size_t size, char *err)
{
	if (!(l->cfg = calloc(1, size)))
		snprintf(err, CNN_ERRLEN_LAYER, "out of memory");
	return l->cfg;
}

int cnn__int_arg(const char *s, long lo, long hi, long *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

int cnn__float_opt(const char *s, const char *key, float *v)
{
	size_t n = strlen(key);
	char *end;
	double x;

	if (strncmp(s, key, n) || s[n] != '=')
		return 0;
	errno = 0;
	x = strtod(s + n + 1, &end);
	if (errno || end == s + n + 1 || *end || !isfinite(x) || x < 0 ||
	    x > 1e6)
		return -1;
	*v = (float)x;
	return 1;
}

void cnn__relu(float *y, long n)
{
	BLOCKS(i, n, y[i] = y[i] < 0 ? 0 : y[i]);	/* NaN passes */
}

void cnn__relu_back(const float *restrict y, float *restrict dy, long n)
{
	BLOCKS(i, n, dy[i] = y[i] > 0 ? dy[i] : 0);
}

/* --- random numbers: splitmix64 seeds xoshiro256** (Blackman, Vigna) */

static unsigned long long splitmix64(unsigned long long *x)
{
	unsigned long long z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void cnn__rng_seed(cnn_rng *r, unsigned long long seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static unsigned long long rotl(unsigned long long x, int k)
{
	return (x << k) | (x >> (64 - k));
}

unsigned long long cnn__rng_next(cnn_rng *r)
{
	unsigned long long *s = r->s;
	unsigned long long res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* uniform in (0, 1): 53 random bits, never 0 */
static double uniform(cnn_rng *r)
{
	return ((cnn__rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

float cnn__rng_truncnorm(cnn_rng *r, float std)
{
	double z;

	do	/* Box-Muller, one value per pair: simple and exact enough */
		z = sqrt(-2 * log(uniform(r))) * cos(2 * M_PI * uniform(r));
	while (fabs(z) > 2);
	return (float)(z * std);
}

/* --- threads: a pool of workers, started on first use and kept (a
 * thread's start costs 70-160 us on a busy machine, more than a layer of
 * one image).  Part i of a region runs on worker i, part 0 on the caller.
 * The work is split by part number, never by which thread is free, so
 * results depend only on the part count. */

#define MAXTHREADS 64

static int nthreads = 1;

int cnn__threads(void)
{
	return nthreads;
}

void cnn__set_own_threads(int n)
{
	nthreads = n < 1 ? 1 : n > MAXTHREADS ? MAXTHREADS : n;
}

/* The pool.  A region hands part i of n to worker i (part 0 is the
 * caller's); every worker takes part in every region, running its part or
 * none, and counts itself done, so a region's fields stay put until all
 * have read them.  Waiting spins for a short while before it sleeps: one
 * image's forward pass is a dozen regions of tens of microseconds each,
 * and waking a sleeping thread here costs about as much as a region. */
#define SPIN_NS 50000

static struct {
	pthread_mutex_t busy;	/* one region at a time */
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	int workers;		/* started: parts 1..workers */
	atomic_ulong gen;	/* region number */
	atomic_int pending;	/* workers not yet done with the region */
	void (*fn)(void *, int, int);
	void *arg;
	int n;			/* parts in the region */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	  PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, NULL,
	  NULL, 0};

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* spin until done(), for SPIN_NS at most; 1 if it came */
static int spin_for(int (*done)(unsigned long), unsigned long v)
{
	long long end = 0;

	for (int k = 0;; k++) {
		if (done(v))
			return 1;
		if ((k & 63) == 0) {
			long long t = now_ns();
			if (!end)
				end = t + SPIN_NS;
			else if (t > end)
				return 0;
		}
		relax();
	}
}

static int gen_moved(unsigned long seen)
{
	return atomic_load_explicit(&pool.gen, memory_order_acquire) != seen;
}

static int all_done(unsigned long unused)
{
	return atomic_load_explicit(&pool.pending, memory_order_acquire) == 0;
}

/* the region number each worker was started at: a worker started while
 * regions have already run must not take the last one for a new one */
static unsigned long start_gen[MAXTHREADS];

static void *worker(void *p)
{
	int i = (int)(long)p;
	unsigned long seen = start_gen[i];

	for (;;) {
		if (!spin_for(gen_moved, seen)) {
			pthread_mutex_lock(&pool.mu);
			while (!gen_moved(seen))
				pthread_cond_wait(&pool.go, &pool.mu);
			pthread_mutex_unlock(&pool.mu);
		}
		seen = atomic_load_explicit(&pool.gen, memory_order_acquire);
		if (i < pool.n)
			pool.fn(pool.arg, i, pool.n);
		if (atomic_fetch_sub_explicit(&pool.pending, 1,
					      memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&pool.mu);
			pthread_cond_signal(&pool.done);
			pthread_mutex_unlock(&pool.mu);
		}
	}
	return NULL;
}

void cnn__parallel(int n, void (*fn)(void *arg, int i, int n), void *arg)
{
	if (n > MAXTHREADS)
		n = MAXTHREADS;
	/* one part, or the pool busy (another caller's region): in turn */
	if (n <= 1 || pthread_mutex_trylock(&pool.busy)) {
		for (int i = 0; i < n; i++)
			fn(arg, i, n);
		return;
	}
	pthread_mutex_lock(&pool.mu);
	while (pool.workers < n - 1) {
		pthread_t t;
		start_gen[pool.workers + 1] =
			atomic_load_explicit(&pool.gen, memory_order_relaxed);
		if (pthread_create(&t, NULL, worker,
				   (void *)(long)(pool.workers + 1)))
			break;
		pthread_detach(t);
		pool.workers++;
	}
	if (pool.workers < n - 1) {	/* no more threads to be had */
		pthread_mutex_unlock(&pool.mu);
		pthread_mutex_unlock(&pool.busy);
		for (int i = 0; i < n; i++)
			fn(arg, i, n);
		return;
	}
	pool.fn = fn, pool.arg = arg, pool.n = n;
	atomic_store_explicit(&pool.pending, pool.workers, memory_order_relaxed);
	atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
	pthread_cond_broadcast(&pool.go);
	pthread_mutex_unlock(&pool.mu);
	fn(arg, 0, n);
	if (!spin_for(all_done, 0)) {
		pthread_mutex_lock(&pool.mu);
		while (!all_done(0))
			pthread_cond_wait(&pool.done, &pool.mu);
		pthread_mutex_unlock(&pool.mu);
	}
	pthread_mutex_unlock(&pool.busy);
}

int cnn__weight_opt(cnn_layer *l, const char *word)
{
	int r;

	if ((r = cnn__float_opt(word, "std", &l->std)))
		return l->std_given = r;
	if ((r = cnn__float_opt(word, "bias", &l->bias)))
		return l->bias_given = r;
	return 0;
}

void cnn__print_weight_opts(const cnn_layer *l, char *buf, size_t size)
{
	size_t n = strlen(buf);

	if (l->std_given && n < size)
		n += snprintf(buf + n, size - n, " std=%.9g", l->std);
	if (l->bias_given && n < size)
		snprintf(buf + n, size - n, " bias=%.9g", l->bias);
}

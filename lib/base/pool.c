/* pool.c — the thread pool under libcnn and libfacekit: one set of
 * workers, one thread count, one cap.
 *
 * Workers are started on first use and kept (a thread's start costs
 * 70-160 us on a busy machine, more than a layer of one image).  Part i
 * of a region runs on worker i, part 0 on the caller.  The work is split
 * by part number, never by which thread is free, so results depend only
 * on the part count. */

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "pool.h"

static int nthreads = 1;

int fk_pool_threads(void)
{
	return nthreads;
}

void fk_pool_set_threads(int n)
{
	nthreads = n < 1 ? 1 : n > FK_POOL_MAX ? FK_POOL_MAX : n;
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
static unsigned long start_gen[FK_POOL_MAX];

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

void fk_pool_run(int n, void (*fn)(void *arg, int i, int n), void *arg)
{
	if (n > FK_POOL_MAX)
		n = FK_POOL_MAX;
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

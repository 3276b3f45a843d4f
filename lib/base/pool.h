/* pool.h — the thread pool under libcnn and libfacekit.
 *
 * One set of workers, started on first use and kept, and one thread count
 * that every caller reads.  fk_pool_run(n, fn, arg) runs fn(arg, i, n) for
 * i = 0..n-1, part 0 on the caller and part i on worker i, and returns when
 * all are done.  The work is split by part number, never by which thread
 * is free, so results depend on the part count alone.  A call that finds
 * the workers busy with another thread's region runs its parts in turn on
 * its own thread, with the same result: several threads may call at once.
 * Set the count before such threads start. */
#ifndef FK_POOL_H
#define FK_POOL_H

/* the most parts a region may have, and so the most threads */
#define FK_POOL_MAX 64

/* the thread count callers split their work over: 1 until set; n is
 * clamped to 1..FK_POOL_MAX */
void fk_pool_set_threads(int n);
int fk_pool_threads(void);

/* run fn(arg, i, n) for i = 0..n-1 (n is clamped to FK_POOL_MAX) */
void fk_pool_run(int n, void (*fn)(void *arg, int i, int n), void *arg);

#endif

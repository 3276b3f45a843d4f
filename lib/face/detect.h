/* detect.h — Viola-Jones detection with a loaded cascade (cascade.h):
 * fk_detect reproduces cv::CascadeClassifier::detectMultiScale of OpenCV 4.
 * On the grey image of grey.h, its image pyramid, window stepping,
 * variance normalisation and rectangle grouping give the same rectangles
 * for the same pixels.  Library code: it never prints and never exits; a
 * failing call returns -1 and leaves a message in err[FK_ERRLEN]. */
#ifndef FK_DETECT_H
#define FK_DETECT_H

#include "cascade.h"

/* a detection: top-left corner and size in pixels, and how many raw
 * windows were grouped into it (0 for a raw window) */
typedef struct {
	int x, y, w, h, n;
} fk_rect;

typedef struct {
	double scale;      /* pyramid step, > 1 (OpenCV's scaleFactor) */
	int min_neighbors; /* keep groups of more than this many windows */
	int min_w, min_h;  /* smallest window tried, 0 = the cascade's */
	int max_w, max_h;  /* largest window tried, 0 = the image's */
	int threads;       /* parts of the work, 1..FK_POOL_MAX; 0: the pool's
			    * thread count (fk_pool_threads) */
	int plain;         /* one window at a time, never four at once: the
			    * obviously right loop, for the tests */
} fk_detect_opts;

/* scale 1.1, 3 neighbours, no size limits, the pool's threads, not plain */
void fk_detect_defaults(fk_detect_opts *o);

/* Detect in a w x h grey image, on o->threads parts of the shared thread
 * pool (pool.h): a call that finds the workers busy with another thread's
 * work runs on its own thread alone, with the same result.  *out gets the
 * grouped rectangles (malloc'd, *n of them, clipped to the image, sorted
 * by y then x; the caller frees).  With o->min_neighbors < 0 the raw
 * windows come back ungrouped, in scan order of each scale.  0 or -1 (bad
 * options, out of memory). */
int fk_detect(const fk_cascade *c, const unsigned char *grey, int w, int h,
	      const fk_detect_opts *o, fk_rect **out, int *n, char *err);

/* The memory fk_detect takes with options o, in bytes per pixel of the
 * image searched: each thread's shrunk image and integral planes, sized
 * for the biggest scale (the small fixed part not counted). */
double fk_detect_bytes_per_pixel(const fk_cascade *c, const fk_detect_opts *o);

/* OpenCV's groupRectangles: partition r[0..n) into classes of similar
 * rectangles (eps), average each class, drop classes of min_neighbors or
 * fewer windows and those inside a bigger, stronger class.  Rewrites r,
 * returns the new count, sorted by y then x; -1 when out of memory. */
int fk_group_rects(fk_rect *r, int n, int min_neighbors, double eps);

#endif

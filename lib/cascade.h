/* cascade.h — Viola-Jones object detection with OpenCV's trained cascades.
 *
 * fk_cascade_load reads a cascade in OpenCV's XML format (opencv_traincascade,
 * <cascade><stageType>BOOST</stageType>, HAAR features with stumps or trees,
 * upright or tilted, and LBP features), e.g. Debian's opencv-data files,
 * or the same packed by fk_cascade_write, which loads in microseconds.
 * fk_detect reproduces cv::CascadeClassifier::detectMultiScale of OpenCV 4:
 * grey conversion, image pyramid, window stepping, variance normalisation
 * and rectangle grouping give the same rectangles for the same pixels.
 * Library code: it never prints and never exits; a failing call returns -1
 * (or NULL) and leaves a message in the caller's err[FK_ERRLEN]. */
#ifndef FK_CASCADE_H
#define FK_CASCADE_H

#include "image.h"

typedef struct fk_cascade fk_cascade;

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
	int threads;       /* worker threads, >= 1 */
	int plain;         /* one window at a time, never four at once: the
			    * obviously right loop, for the tests */
} fk_detect_opts;

/* scale 1.1, 3 neighbours, no size limits, 2 threads, not plain */
void fk_detect_defaults(fk_detect_opts *o);

/* Load a cascade file, OpenCV's XML or facekit's packed form
 * (fkcascade(5)), told apart by the first bytes.  NULL with a message
 * naming the file and what is wrong in it (missing, empty, not XML, not a
 * cascade, bad numbers, a damaged packed file). */
fk_cascade *fk_cascade_load(const char *path, char *err);
/* the same from an open stream, read to its end; name is for messages */
fk_cascade *fk_cascade_fload(FILE *f, const char *name, char *err);
void fk_cascade_free(fk_cascade *c);

/* Write c in the packed form (fkcascade(5)) to f.  0, or -1 with err
 * when writing fails (f is not closed or flushed). */
int fk_cascade_write(const fk_cascade *c, FILE *f, char *err);

/* OpenCV's BGR2GRAY on RGB pixels: (9798 R + 19235 G + 3735 B + 2^14) >> 15 */
void fk_grey(const fk_image *im, unsigned char *grey);

/* OpenCV's bit-exact bilinear resize (INTER_LINEAR_EXACT) of a grey image */
void fk_resize_grey(const unsigned char *src, int sw, int sh,
		    unsigned char *dst, int dw, int dh);

/* Detect in a w x h grey image, on o->threads threads: the caller's and
 * libcnn's workers, which are kept from call to call and shared with
 * libcnn: a call that finds them busy with another thread's runs on its
 * own thread alone, with the same result.
 * *out gets the grouped rectangles
 * (malloc'd, *n of them, clipped to the image, sorted by y then x; the
 * caller frees).  With
 * o->min_neighbors < 0 the raw windows come back ungrouped, in scan order
 * of each scale.  0 or -1 (bad options, out of memory). */
int fk_detect(const fk_cascade *c, const unsigned char *grey, int w, int h,
	      const fk_detect_opts *o, fk_rect **out, int *n, char *err);

/* OpenCV's groupRectangles: partition r[0..n) into classes of similar
 * rectangles (eps), average each class, drop classes of min_neighbors or
 * fewer windows and those inside a bigger, stronger class.  Rewrites r,
 * returns the new count, sorted by y then x; -1 when out of memory. */
int fk_group_rects(fk_rect *r, int n, int min_neighbors, double eps);

#endif

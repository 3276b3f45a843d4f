/* grey.h — the grey image that detection works on: OpenCV's colour
 * conversion and its bit-exact bilinear resize, so that fk_detect sees the
 * pixels detectMultiScale sees.  Library code: never prints, never exits. */
#ifndef FK_GREY_H
#define FK_GREY_H

#include <stdint.h>

#include "image.h"

/* OpenCV's BGR2GRAY on RGB pixels: (9798 R + 19235 G + 3735 B + 2^14) >> 15 */
void fk_grey(const fk_image *im, unsigned char *grey);

/* OpenCV's bit-exact bilinear resize (INTER_LINEAR_EXACT) of a grey image
 * (all black when out of memory) */
void fk_resize_grey(const unsigned char *src, int sw, int sh,
		    unsigned char *dst, int dw, int dh);

/* The same with its buffers kept from call to call (one image pyramid
 * resizes again and again): init for destinations of at most dw x dh,
 * 0 or -1 when out of memory; free it even after a failed init. */
struct fk_axis {
	int *ofs;          /* left/top source sample of each destination */
	uint16_t *c;       /* its two weights, 2 per destination */
	int lo, hi;        /* [lo, hi) interpolate; before lo copy 0, from hi copy the last */
};

typedef struct {
	struct fk_axis x, y;
	uint16_t *row[2]; /* filtered source rows ... */
	int have[2];      /* ... and which rows they are */
} fk_resizer;

int fk_resizer_init(fk_resizer *r, int dw, int dh);
void fk_resize_with(fk_resizer *r, const unsigned char *src, int sw, int sh,
		    unsigned char *dst, int dw, int dh);
void fk_resizer_free(fk_resizer *r);

#endif

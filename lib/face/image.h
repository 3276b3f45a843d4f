/* image.h — facekit's image front end: read JPEG, PNG and netpbm, write PPM
 * (cropping and turning are crop.h's, scaling scale.h's).  Library code:
 * it never prints and never exits; a failing call returns -1 and leaves a
 * message (quoting the bad value) in the caller's err[FK_ERRLEN]. */
#ifndef FK_IMAGE_H
#define FK_IMAGE_H

#include <stdio.h>

#define FK_ERRLEN 256

/* The most memory fk_read_image takes, in bytes per pixel of the image it
 * reads: 3 for the image, and while a JPEG is decoded 6 more for a
 * progressive JPEG's coefficients (at most, for full-size colour planes)
 * or 3 for the picture an EXIF orientation is turned from; the second is
 * filled while the first is live, the image itself only after both. */
#define FK_READ_BYTES_PER_PIXEL 9

/* 8-bit RGB, row-major, 3 bytes a pixel, no padding */
typedef struct {
	int w, h;
	unsigned char *px;
} fk_image;

/* Read the next image of a stream of concatenated images, each JPEG (EXIF
 * orientation applied), PNG or any netpbm format (PBM, PGM, PPM, PAM, plain
 * or raw), chosen by its first byte; nothing past the image is read.  Grey
 * and palettes become RGB, any maxval or depth is rescaled to 255, alpha is
 * dropped.  Damaged data is an error, never grey filling.  An image of more
 * than max_pixels pixels is refused before memory is allocated for it.
 * Returns 1 with *im filled (reusing im->px when big enough; start from a
 * zeroed fk_image), 0 at a clean end of stream, -1 on error. */
int fk_read_image(FILE *f, fk_image *im, long long max_pixels, char *err);

/* Write im as raw PPM (P6, maxval 255).  0 or -1 (write error, e.g. a full disk). */
int fk_write_ppm(FILE *f, const fk_image *im, char *err);

/* Write im as an RGB PNG (libpng).  0 or -1 (write error). */
int fk_write_png(FILE *f, const fk_image *im, char *err);

/* Make im hold w x h pixels (contents undefined), reusing im->px when it
 * is big enough.  0 or -1 (out of memory). */
int fk_image_alloc(fk_image *im, int w, int h, char *err);

void fk_image_free(fk_image *im);

#endif

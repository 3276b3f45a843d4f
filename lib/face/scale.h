/* scale.h — scale a picture to an n x n square.  A non-square picture is
 * first centre-cropped to a square (its shorter side), or padded with
 * black to a square (its longer side).  Downscaling averages exactly the
 * source area each output pixel covers, fractions of pixels included;
 * upscaling is bilinear.  Library code: errors return -1 with a message. */
#ifndef FK_SCALE_H
#define FK_SCALE_H

#include "image.h"

/* scale in to n x n in out (reusing out->px); pad selects padding over
 * cropping.  0 or -1 (out of memory). */
int fk_scale_square(const fk_image *in, int n, int pad, fk_image *out, char *err);

#endif

/* boxes.h — face boxes as text: one face a line, "x y w h [angle]".
 * x, y is the top-left corner and w, h the size, in pixels (fractions
 * allowed); angle is the face's roll in degrees, positive clockwise as
 * seen (y grows downward).  '#' starts a comment; blank lines are skipped.
 * The boxes of a stream of several images come in blocks: those of the
 * first image, then a line "# image 2" and those of the second, and so on
 * (facefind writes them so).
 * Library code: errors return -1 with a message in err[FK_ERRLEN]. */
#ifndef FK_BOXES_H
#define FK_BOXES_H

#include <stdio.h>

#include "image.h"

typedef struct {
	double x, y, w, h, angle;
	long line; /* line of the boxes file it came from */
	int image; /* the image of the stream it belongs to, from 1 */
} fk_box;

/* Read every box of f into *boxes (malloc'd, *n of them, in order; the
 * caller frees), and the number of image blocks into *nimages (1 when
 * there is no "# image N" line).  A block line must name the image after
 * the previous block's ("# image 1" may open the file).  Messages start
 * "NAME:LINE: " and quote the bad field.  0 or -1. */
int fk_read_boxes(FILE *f, const char *name, fk_box **boxes, int *n, int *nimages,
		  char *err);

/* -1 with a message when box b lies wholly outside a w x h image */
int fk_box_inside(const fk_box *b, int w, int h, char *err);

#endif

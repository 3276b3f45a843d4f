/* boxes.h — face boxes as text: one face a line, "x y w h [angle]".
 * x, y is the top-left corner and w, h the size, in pixels (fractions
 * allowed); angle is the face's roll in degrees, positive clockwise as
 * seen (y grows downward).  '#' starts a comment; blank lines are skipped.
 * Library code: errors return -1 with a message in err[FK_ERRLEN]. */
#ifndef FK_BOXES_H
#define FK_BOXES_H

#include <stdio.h>

#include "image.h"

typedef struct {
	double x, y, w, h, angle;
	long line; /* line of the boxes file it came from */
} fk_box;

/* Read every box of f into *boxes (malloc'd, *n of them; the caller frees).
 * Messages start "NAME:LINE: " and quote the bad field.  0 or -1. */
int fk_read_boxes(FILE *f, const char *name, fk_box **boxes, int *n, char *err);

/* -1 with a message when box b lies wholly outside a w x h image */
int fk_box_inside(const fk_box *b, int w, int h, char *err);

#endif

/* boxes.c — fuzz fk_read_boxes: box lines read from memory.  Every box
 * read must have finite fields and a positive size, a line number within
 * the input, and an image block in order; fk_box_inside then places it in
 * a 640x480 image. */
#include "boxes.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	fk_box *b = NULL;
	char err[FK_ERRLEN];
	int n = 0, nimages = 0, i;

	if (!f)
		return 0;
	if (fk_read_boxes(f, "fuzz", &b, &n, &nimages, err) == 0)
		for (i = 0; i < n; i++) {
			if (!isfinite(b[i].x) || !isfinite(b[i].y) || !(b[i].w > 0) || !(b[i].h > 0)
			    || !isfinite(b[i].w) || !isfinite(b[i].h) || !isfinite(b[i].angle)
			    || b[i].line < 1 || (size_t)b[i].line > size
			    || b[i].image < 1 || b[i].image > nimages
			    || (i > 0 && b[i].image < b[i - 1].image))
				abort();
			fk_box_inside(&b[i], 640, 480, err);
		}
	free(b);
	fclose(f);
	return 0;
}

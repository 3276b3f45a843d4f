/* image.c — fuzz fk_read_image: JPEG (with EXIF orientation), PNG, every
 * netpbm kind, and streams of several images, read from memory.  Each
 * image read must have a sane size and every pixel of it readable; the
 * limit of 2^20 pixels keeps each run quick (the limit itself is
 * checked before any allocation, so it is not what is being tested). */
#include "image.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

volatile unsigned fuzz_sink; /* the pixels' sum, so that each is read */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	fk_image im = { 0, 0, NULL };
	char err[FK_ERRLEN];
	unsigned sum = 0;
	int r, n = 0;

	if (!f)
		return 0;
	while (n < 64 && (r = fk_read_image(f, &im, 1 << 20, err)) == 1) {
		size_t i, np;
		if (im.w < 1 || im.h < 1 || (long long)im.w * im.h > 1 << 20)
			abort();
		np = (size_t)im.w * im.h * 3;
		for (i = 0; i < np; i++)
			sum += im.px[i];
		n++;
	}
	fk_image_free(&im);
	fclose(f);
	fuzz_sink = sum;
	return 0;
}

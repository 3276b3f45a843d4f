/* pngwrite.c — write an image as PNG through libpng's simplified API
 * (see image.h). */
#include <errno.h>
#include <png.h>
#include <string.h>

#include "image.h"

int fk_write_png(FILE *f, const fk_image *im, char *err)
{
	png_image p;

	memset(&p, 0, sizeof p);
	p.version = PNG_IMAGE_VERSION;
	p.width = (png_uint_32)im->w;
	p.height = (png_uint_32)im->h;
	p.format = PNG_FORMAT_RGB;
	if (!png_image_write_to_stdio(&p, f, 0, im->px, 0, NULL)) {
		snprintf(err, FK_ERRLEN, "cannot write PNG: %s", p.message);
		png_image_free(&p);
		return -1;
	}
	if (fflush(f) || ferror(f)) {
		snprintf(err, FK_ERRLEN, "cannot write PNG: %s", strerror(errno));
		return -1;
	}
	return 0;
}

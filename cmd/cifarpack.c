/* cifarpack — a PPM stream of N x N images to CIFAR-10 records. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cifar.h"
#include "image.h"
#include "prog.h"

static const char usage[] =
	"usage: cifarpack [-s N] [-p MAXPIXELS] LABEL [FILE]\n"
	"  Read a stream of N x N images (PPM or any netpbm format) from FILE or\n"
	"  standard input and write one CIFAR-10 record per image: the byte LABEL\n"
	"  (0-255), then the red, green and blue planes.\n"
	"  -s N          image side (default 32)\n"
	"  -p MAXPIXELS  refuse bigger images before reading them (default 119304647)\n"
	"  -h            this help\n";

int main(int argc, char **argv)
{
	const char *in = "-";
	int side = 32, label, ch, status = 0;
	long idx = 0;
	long long max_pixels = FK_MAX_PIXELS_DEFAULT;
	fk_image im = {0};
	unsigned char *rec;
	FILE *f;

	fk_progname = "cifarpack";
	while ((ch = getopt(argc, argv, "s:p:h")) != -1) {
		if (ch == 's')
			side = (int)fk_int_arg("-s", optarg, 1, FK_CIFAR_MAXSIDE, usage);
		else if (ch == 'p')
			max_pixels = fk_int_arg("-p", optarg, 1, LONG_MAX, usage);
		else if (ch == 'h')
			fk_help(usage);
		else
			fk_usage(usage);
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		fk_usage(usage);
	label = (int)fk_int_arg("LABEL", argv[0], 0, 255, usage);
	if (argc == 2)
		in = argv[1];
	f = fk_open_in(in);
	rec = fk_xmalloc(fk_cifar_recsize(side));
	for (;;) {
		int r = fk_next_image(f, in, idx, max_pixels, &im);
		if (r <= 0) {
			status = -r;
			break;
		}
		if (im.w != side || im.h != side) {
			fk_warn("%s: image %ld is %dx%d, not %dx%d (see ppmscale32, or -s)",
				in, idx, im.w, im.h, side, side);
			status = 1;
			break;
		}
		fk_cifar_pack(&im, label, rec);
		if (fwrite(rec, fk_cifar_recsize(side), 1, stdout) != 1)
			break;
		idx++;
	}
	if (f != stdin)
		fclose(f);
	fk_image_free(&im);
	free(rec);
	return fk_close_out(status);
}

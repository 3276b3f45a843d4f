/* ppmscale32 — scale every image of a netpbm stream to a P6 N x N square
 * (32 x 32 by default), one image in memory at a time.  See ppmscale32(1). */
#include <getopt.h>
#include <limits.h>
#include <unistd.h>

#include "image.h"
#include "prog.h"
#include "scale.h"

static const char usage[] =
	"usage: ppmscale32 [-f] [-s N] [-p MAXPIXELS] [FILE]\n"
	"  scale each image of FILE (a netpbm stream, or one JPEG; default standard\n"
	"  input) to a P6 N x N image: area averaging down, bilinear up\n"
	"  -s N          output side (default 32)\n"
	"  -f            pad a non-square image with black (default: centre-crop it)\n"
	"  -p MAXPIXELS  refuse bigger input images (default 119304647)\n";

struct opts {
	int side, pad;
	long long max_pixels;
	const char *file;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	o->side = 32;
	o->pad = 0;
	o->max_pixels = FK_MAX_PIXELS_DEFAULT;
	while ((c = getopt(argc, argv, "fhp:s:")) != -1)
		switch (c) {
		case 'f': o->pad = 1; break;
		case 'h': fk_help(usage);
		case 'p': o->max_pixels = fk_int_arg("-p", optarg, 1, LONG_MAX, usage); break;
		case 's': o->side = (int)fk_int_arg("-s", optarg, 1, 16384, usage); break;
		default: fk_usage(usage);
		}
	if (argc - optind > 1)
		fk_usage(usage);
	o->file = argc - optind == 1 ? argv[optind] : "-";
}

int main(int argc, char **argv)
{
	struct opts o;
	fk_image in = { 0 }, out = { 0 };
	char err[FK_ERRLEN];
	long nimage = 0;
	FILE *f;
	int r;

	fk_progname = "ppmscale32";
	parse_args(argc, argv, &o);
	f = fk_open_in(o.file);
	while ((r = fk_read_image(f, &in, o.max_pixels, err)) == 1) {
		nimage++;
		if (fk_scale_square(&in, o.side, o.pad, &out, err) ||
		    fk_write_ppm(stdout, &out, err))
			fk_die("%s: image %ld: %s", o.file, nimage, err);
	}
	if (r < 0)
		fk_die("%s: image %ld: %s", o.file, nimage + 1, err);
	if (f != stdin)
		fclose(f);
	fk_image_free(&in);
	fk_image_free(&out);
	return fk_close_out(0);
}

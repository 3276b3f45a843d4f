/* facecrop — cut the faces named in a boxes file out of a photo, each as
 * an upright square P6 image.  See facecrop(1). */
#include <getopt.h>
#include <limits.h>
#include <unistd.h>

#include "boxes.h"
#include "crop.h"
#include "image.h"
#include "prog.h"

static const char usage[] =
	"usage: facecrop [-bn] [-m F] [-p MAXPIXELS] BOXES [IMAGE]\n"
	"  cut each face box of BOXES (\"x y w h [angle]\" lines) out of IMAGE\n"
	"  (JPEG, PNG or netpbm, default standard input) as a square P6 image;\n"
	"  for a stream of images, BOXES holds a block per image (\"# image N\")\n"
	"  -m F          enlarge each box by F about its centre (default 1)\n"
	"  -b            black beyond the photo's edges (default: repeat the edge)\n"
	"  -n            print each crop as a box line \"x y side side angle\" instead\n"
	"  -p MAXPIXELS  refuse bigger images and crops (default 119304647)\n";

struct opts {
	double margin;
	int black, geometry;
	long long max_pixels;
	const char *boxes, *image;
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	o->margin = 1;
	o->black = o->geometry = 0;
	o->max_pixels = FK_MAX_PIXELS_DEFAULT;
	while ((c = getopt(argc, argv, "bhm:np:")) != -1)
		switch (c) {
		case 'b': o->black = 1; break;
		case 'h': fk_help(usage);
		case 'm': o->margin = fk_num_arg("-m", optarg, 1e-3, 1e3, usage); break;
		case 'n': o->geometry = 1; break;
		case 'p': o->max_pixels = fk_int_arg("-p", optarg, 1, LONG_MAX, usage); break;
		default: fk_usage(usage);
		}
	if (argc - optind < 1 || argc - optind > 2)
		fk_usage(usage);
	o->boxes = argv[optind];
	o->image = argc - optind == 2 ? argv[optind + 1] : "-";
	if (!strcmp(o->boxes, "-") && !strcmp(o->image, "-")) {
		fk_warn("BOXES and IMAGE cannot both be standard input");
		fk_usage(usage);
	}
}

/* all the crops of image k of the photo stream, each checked before the
 * first is written; with -n, the geometry of image k >= 2 follows its
 * "# image k" line, so that the output is itself a boxes file */
static void crop_photo(const struct opts *o, const fk_box *box, int n, int k,
		       const fk_image *im)
{
	fk_crop *crop = fk_xmalloc(sizeof *crop * n);
	fk_image out = { 0 };
	char err[FK_ERRLEN];
	int i;

	for (i = 0; i < n; i++)
		if (fk_box_inside(&box[i], im->w, im->h, err) ||
		    fk_crop_geometry(&box[i], o->margin, o->max_pixels, &crop[i], err))
			fk_die("%s: %s", o->boxes, err);
	if (o->geometry && k > 1)
		printf("# image %d\n", k);
	for (i = 0; i < n; i++) {
		const fk_crop *c = &crop[i];
		if (o->geometry)
			printf("%.10g %.10g %d %d %.10g\n", c->cx - c->side / 2.0,
			       c->cy - c->side / 2.0, c->side, c->side, c->angle);
		else if (fk_crop_image(im, c, o->black, &out, err) ||
			 fk_write_ppm(stdout, &out, err))
			fk_die("%s", err);
	}
	fk_image_free(&out);
	free(crop);
}

/* Crop each image of the stream with the boxes of its block: as many
 * images as blocks, or an error naming the first that has none. */
static void crop_stream(const struct opts *o, FILE *f, const fk_box *box, int n, int nblocks)
{
	fk_image im = { 0 };
	char err[FK_ERRLEN];
	int k, r, i = 0;

	for (k = 1;; k++) {
		int first = i;
		r = fk_read_image(f, &im, o->max_pixels, err);
		if (r < 0 && k == 1)
			fk_die("%s: %s", o->image, err);
		if (r < 0)
			fk_die("%s: image %d: %s", o->image, k, err);
		if (r == 0 && k == 1)
			fk_die("%s: no image", o->image);
		if (r == 0 && k <= nblocks)
			fk_die("%s: the stream ends after image %d, but %s has a block for image %d",
			       o->image, k - 1, o->boxes, nblocks);
		if (r == 0)
			break;
		if (k > nblocks)
			fk_die("%s: image %d has no \"# image %d\" block in %s", o->image, k, k, o->boxes);
		while (i < n && box[i].image == k)
			i++;
		crop_photo(o, box + first, i - first, k, &im);
	}
	fk_image_free(&im);
}

int main(int argc, char **argv)
{
	struct opts o;
	fk_box *box;
	char err[FK_ERRLEN];
	FILE *f;
	int n, nblocks;

	fk_progname = "facecrop";
	parse_args(argc, argv, &o);
	f = fk_open_in(o.boxes);
	if (fk_read_boxes(f, o.boxes, &box, &n, &nblocks, err))
		fk_die("%s", err);
	if (f != stdin)
		fclose(f);
	if (n > 0) {
		f = fk_open_in(o.image);
		crop_stream(&o, f, box, n, nblocks);
		if (f != stdin)
			fclose(f);
	}
	free(box);
	return fk_close_out(0);
}

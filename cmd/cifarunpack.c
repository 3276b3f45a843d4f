/* cifarunpack — CIFAR-10 records to a PPM stream (and their labels). */
#include <sys/stat.h>
#include <unistd.h>

#include "cifar.h"
#include "image.h"
#include "outfile.h"
#include "prog.h"

static const char usage[] =
	"usage: cifarunpack [-s N] [-l LABELS] [FILE...]\n"
	"  Read CIFAR-10 records of N x N images from the FILEs or standard input\n"
	"  and write them as a PPM stream.\n"
	"  -s N       image side (default 32)\n"
	"  -l LABELS  also write each record's label to LABELS, one per line (not -:\n"
	"             standard output carries the images)\n"
	"  -h         this help\n";

/* unpack one file; 0 or 1 (an error, already reported) */
static int unpack(const char *path, int side, FILE *labels, fk_image *im,
		  unsigned char *rec)
{
	char err[FK_ERRLEN];
	size_t rs = fk_cifar_recsize(side);
	struct stat st;
	FILE *f = fk_open_in(path);
	int r, status = 0;

	/* a file's length is checked before anything of it is written */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    (size_t)st.st_size % rs != 0) {
		fk_warn("%s: %lld bytes is not a whole number of %dx%d records (%zu bytes each)",
			path, (long long)st.st_size, side, side, rs);
		status = 1;
		goto out;
	}
	while ((r = fk_cifar_read(f, side, rec, err)) == 1) {
		int label = fk_cifar_unpack(rec, side, im);
		if (fk_write_ppm(stdout, im, err) < 0) {
			fk_warn("%s", err);
			status = 1;
			goto out;
		}
		if (labels)
			fprintf(labels, "%d\n", label);
	}
	if (r < 0) {
		fk_warn("%s: %s", path, err);
		status = 1;
	}
out:
	if (f != stdin)
		fclose(f);
	return status;
}

int main(int argc, char **argv)
{
	static char *dash[] = {"-"};
	const char *lpath = NULL;
	int side = 32, ch, status = 0;
	FILE *labels = NULL;
	fk_outfile lout;
	char err[FK_OUT_ERRLEN];
	fk_image im;
	unsigned char *rec;

	fk_progname = "cifarunpack";
	while ((ch = getopt(argc, argv, "s:l:h")) != -1) {
		switch (ch) {
		case 's':
			side = (int)fk_int_arg("-s", optarg, 1, FK_CIFAR_MAXSIDE, usage);
			break;
		case 'l':
			lpath = optarg;
			break;
		case 'h':
			fk_help(usage);
		default:
			fk_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		argc = 1;
		argv = dash;
	}
	if (lpath && !strcmp(lpath, "-")) {
		fk_warn("-l -: standard output carries the images; name a file");
		fk_usage(usage);
	}
	if (lpath) {
		if (fk_out_open(&lout, lpath, err) != 0)
			fk_die("%s", err);
		labels = lout.f;
	}
	rec = fk_xmalloc(fk_cifar_recsize(side));
	im.px = fk_xmalloc(3 * (size_t)side * side);
	for (int i = 0; i < argc && !status; i++)
		status = unpack(argv[i], side, labels, &im, rec);
	if (labels && status)
		fk_out_abort(&lout);
	else if (labels && fk_out_commit(&lout, err) != 0) {
		fk_warn("%s", err);
		status = 1;
	}
	free(im.px);
	free(rec);
	return fk_close_out(status);
}

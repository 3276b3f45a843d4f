/* cascadepack — an OpenCV cascade (XML) to facekit's packed form, which
 * facefind loads in microseconds.  See cascadepack(1), fkcascade(5). */
#include <unistd.h>

#include "cascade.h"
#include "prog.h"

static const char usage[] =
	"usage: cascadepack [CASCADE]\n"
	"  Read an OpenCV cascade (XML, or an already packed one) from CASCADE or\n"
	"  standard input and write it packed (fkcascade(5)) to standard output.\n"
	"  -h     this help\n";

int main(int argc, char **argv)
{
	const char *in = "-";
	char err[FK_ERRLEN];
	fk_cascade *c;
	FILE *f;
	int ch;

	fk_progname = "cascadepack";
	while ((ch = getopt(argc, argv, "h")) != -1) {
		if (ch == 'h')
			fk_help(usage);
		fk_usage(usage);
	}
	if (argc - optind > 1)
		fk_usage(usage);
	if (argc - optind == 1)
		in = argv[optind];
	f = fk_open_in(in);
	c = fk_cascade_fload(f, f == stdin ? "(standard input)" : in, err);
	if (f != stdin)
		fclose(f);
	if (!c)
		fk_die("%s", err);
	if (fk_cascade_write(c, stdout, err)) {
		fk_warn("write error on standard output: %s", err);
		fk_cascade_free(c);
		return 1;
	}
	fk_cascade_free(c);
	return fk_close_out(0);
}

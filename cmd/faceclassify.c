/* faceclassify — name the face in each image of a stream. */
#include <limits.h>
#include <unistd.h>

#include "image.h"
#include "model.h"
#include "prog.h"

static const char usage[] =
	"usage: faceclassify [-k K] [-j] [-t P] [-M] [-T N] [-p MAXPIXELS] MODEL [FILE]\n"
	"       faceclassify -i MODEL\n"
	"  Classify each face image of a stream (FILE or standard input; any size,\n"
	"  brought to the model's input) and print one line per image: its index,\n"
	"  the best class and its probability, then the next K-1 classes and theirs.\n"
	"  -k K   classes per line (1)\n"
	"  -j     JSON lines\n"
	"  -t P   print \"unknown\" for the best class when its probability is below P\n"
	"  -M     average each face's probabilities with its mirror image's\n"
	"  -T N   threads (default: every online CPU)\n"
	"  -p MAXPIXELS  refuse bigger images before reading them (default 119304647)\n"
	"  -i     print the model's crop margin, stored side, input side, the margin\n"
	"         to cut around facefind's boxes for it, and its class names, one\n"
	"         \"key value\" a line, and exit\n"
	"  -h     this help\n";

typedef struct {
	int k, json, info, mirror;
	double threshold;
	long long max_pixels;
} options;

static void print(const options *o, const fk_model *m, long idx,
		  const float *prob, const int *order)
{
	for (int i = 0; i < o->k; i++) {
		const char *name = fk_model_label(m, order[i]);
		if (i == 0 && prob[order[0]] < o->threshold)
			name = "unknown";
		if (o->json) {
			if (i == 0)
				printf("{\"index\": %ld, \"class\": ", idx);
			else
				printf("%s{\"class\": ", i == 1 ? ", \"next\": [" : ", ");
			fk_json_string(stdout, name);
			printf(", \"prob\": %.6f", prob[order[i]]);
			if (i > 0)
				putchar('}');
		} else {
			if (i == 0)
				printf("%ld", idx);
			printf(" %s %.6f", name, prob[order[i]]);
		}
	}
	if (o->json)
		fputs(o->k > 1 ? "]}" : "}", stdout);
	putchar('\n');
}

/* what the scripts that cut faces for the model need to know */
static void print_info(const fk_model *m)
{
	printf("margin %g\nstored %d\ninput %d\nfind-margin %g\n",
	       fk_model_margin(m), fk_model_side(m), fk_model_input(m),
	       fk_model_find_margin(m));
	for (int i = 0; i < fk_model_nclass(m); i++)
		printf("class %s\n", fk_model_label(m, i));
}

int main(int argc, char **argv)
{
	options o = {.k = 1, .threshold = 0, .max_pixels = FK_MAX_PIXELS_DEFAULT};
	const char *in = "-";
	int ch, nclass, *order, status = 0;
	char err[FK_ERRLEN];
	fk_image im = {0};
	float *prob;
	fk_model *m;
	long idx;
	FILE *f;

	fk_progname = "faceclassify";
	fk_pool_set_threads(fk_online_cpus());
	while ((ch = getopt(argc, argv, "k:jt:MT:ip:h")) != -1) {
		switch (ch) {
		case 'k': o.k = (int)fk_int_arg("-k", optarg, 1, 256, usage); break;
		case 'p': o.max_pixels = fk_int_arg("-p", optarg, 1, LONG_MAX, usage); break;
		case 'j': o.json = 1; break;
		case 't': o.threshold = fk_num_arg("-t", optarg, 0, 1, usage); break;
		case 'M': o.mirror = 1; break;
		case 'T': fk_pool_set_threads((int)fk_int_arg("-T", optarg, 1, FK_POOL_MAX, usage)); break;
		case 'i': o.info = 1; break;
		case 'h': fk_help(usage);
		default: fk_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2 || (o.info && argc != 1))
		fk_usage(usage);
	if (!(m = fk_model_load(argv[0], err)))
		fk_die("%s", err);
	fk_model_set_mirror(m, o.mirror);
	if (o.info) {
		print_info(m);
		fk_model_free(m);
		return fk_close_out(0);
	}
	if (argc == 2)
		in = argv[1];
	nclass = fk_model_nclass(m);
	if (o.k > nclass)
		o.k = nclass;
	f = fk_open_in(in);
	prob = fk_xmalloc(nclass * sizeof *prob);
	order = fk_xmalloc(nclass * sizeof *order);
	for (idx = 0;; idx++) {
		int r = fk_next_image(f, in, idx, o.max_pixels, &im);
		if (r <= 0) {
			status = -r;
			break;
		}
		/* a face of the stored side is a record's, centre-cropped */
		if ((im.w == fk_model_side(m) && im.h == im.w ?
		     fk_model_classify_stored(m, &im, prob, err) :
		     fk_model_classify(m, &im, prob, err)) < 0) {
			fk_warn("%s: image %ld: %s", in, idx, err);
			status = 1;
			break;
		}
		fk_rank_classes(prob, nclass, order);
		print(&o, m, idx, prob, order);
	}
	if (f != stdin)
		fclose(f);
	fk_image_free(&im);
	free(prob);
	free(order);
	fk_model_free(m);
	return fk_close_out(status);
}

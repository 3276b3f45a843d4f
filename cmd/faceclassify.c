/* faceclassify — name the face in each image of a stream. */
#include <unistd.h>

#include "cifar.h"
#include "cnn.h"
#include "image.h"
#include "prep.h"
#include "prog.h"

static const char usage[] =
	"usage: faceclassify [-k K] [-j] [-t P] MODEL [FILE]\n"
	"  Classify each image of a PPM stream (FILE or standard input) and print\n"
	"  one line per image: its index, the best class and its probability, then\n"
	"  the next K-1 classes and theirs.\n"
	"  -k K   classes per line (1)\n"
	"  -j     JSON lines\n"
	"  -t P   print \"unknown\" for the best class when its probability is below P\n"
	"  -h     this help\n";

typedef struct {
	int k, json;
	double threshold;
} options;

/* the classes in order of probability, best first */
static void rank(const float *prob, int n, int *order)
{
	for (int i = 0; i < n; i++) {
		int j = i;
		while (j > 0 && prob[order[j - 1]] < prob[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

static void print(const options *o, const cnn *net, long idx, const float *prob,
		  const int *order)
{
	for (int i = 0; i < o->k; i++) {
		const char *name = cnn_class_name(net, order[i]);
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

int main(int argc, char **argv)
{
	options o = {.k = 1, .threshold = 0};
	const char *in = "-";
	int ch, nclass, *order, status = 0;
	char err[CNN_ERRLEN];
	unsigned char *rec;
	fk_image im = {0};
	float *x, *prob;
	fk_prep prep;
	long idx;
	cnn *net;
	FILE *f;

	fk_progname = "faceclassify";
	while ((ch = getopt(argc, argv, "k:jt:h")) != -1) {
		switch (ch) {
		case 'k': o.k = (int)fk_int_arg("-k", optarg, 1, 256, usage); break;
		case 'j': o.json = 1; break;
		case 't': o.threshold = fk_num_arg("-t", optarg, 0, 1, usage); break;
		case 'h': fk_help(usage);
		default: fk_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		fk_usage(usage);
	net = fk_load_model(argv[0], &prep);
	if (argc == 2)
		in = argv[1];
	nclass = cnn_nclass(net);
	if (o.k > nclass)
		o.k = nclass;
	f = fk_open_in(in);
	rec = fk_xmalloc(fk_cifar_recsize(prep.stored));
	x = fk_xmalloc(3 * (size_t)prep.crop * prep.crop * sizeof *x);
	prob = fk_xmalloc(nclass * sizeof *prob);
	order = fk_xmalloc(nclass * sizeof *order);
	for (idx = 0;; idx++) {
		int r = fk_next_image(f, in, idx, &im);
		if (r <= 0) {
			status = -r;
			break;
		}
		/* stored-size images are centre-cropped, input-size ones used whole */
		if (im.w != im.h || (im.w != prep.stored && im.w != prep.crop)) {
			if (prep.stored == prep.crop)
				fk_warn("%s: image %ld is %dx%d, but %s takes %dx%d faces (ppmscale32 makes them)",
					in, idx, im.w, im.h, argv[0], prep.crop, prep.crop);
			else
				fk_warn("%s: image %ld is %dx%d, but %s takes %dx%d or %dx%d faces (ppmscale32 makes them)",
					in, idx, im.w, im.h, argv[0], prep.stored,
					prep.stored, prep.crop, prep.crop);
			status = 1;
			break;
		}
		fk_cifar_pack(&im, 0, rec);
		fk_prep_eval(&prep, rec + 1, im.w, x);
		if (cnn_predict(net, x, 1, 1, prob, err) < 0) {
			fk_warn("%s: image %ld: %s", in, idx, err);
			status = 1;
			break;
		}
		rank(prob, nclass, order);
		print(&o, net, idx, prob, order);
	}
	if (f != stdin)
		fclose(f);
	fk_image_free(&im);
	free(rec);
	free(x);
	free(prob);
	free(order);
	cnn_free(net);
	return fk_close_out(status);
}

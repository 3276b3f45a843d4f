/* faceeval — how well a model classifies labelled records. */
#include <unistd.h>

#include "cifar.h"
#include "cnn.h"
#include "prep.h"
#include "prog.h"

static const char usage[] =
	"usage: faceeval [-j] [-r] MODEL RECORDS...\n"
	"  Classify the labelled records with the model and report precision@1,\n"
	"  per-class precision, recall, F1 and support, and the confusion matrix.\n"
	"  -j   JSON\n"
	"  -r   use the raw weights, not their moving average\n"
	"  -h   this help\n";

typedef struct {
	double precision, recall, f1;
	long support;
} figures;

/* a class's figures; 0 where a ratio is undefined */
static figures class_figures(const long *confusion, int nclass, int k)
{
	long tp = confusion[k * nclass + k], pred = 0, support = 0;
	figures f;

	for (int i = 0; i < nclass; i++) {
		pred += confusion[i * nclass + k];
		support += confusion[k * nclass + i];
	}
	f.precision = pred ? (double)tp / pred : 0;
	f.recall = support ? (double)tp / support : 0;
	f.f1 = f.precision + f.recall > 0 ?
		2 * f.precision * f.recall / (f.precision + f.recall) : 0;
	f.support = support;
	return f;
}

static void report_text(const cnn *net, const long *confusion, long right,
			long total)
{
	int nclass = cnn_nclass(net), wid = 5;

	for (int k = 0; k < nclass; k++) {
		int l = (int)strlen(cnn_class_name(net, k));
		if (l > wid)
			wid = l;
	}
	printf("precision@1 %.4f (%ld of %ld)\n\n", (double)right / total, right,
	       total);
	printf("%-*s  precision  recall      f1  support\n", wid, "class");
	for (int k = 0; k < nclass; k++) {
		figures f = class_figures(confusion, nclass, k);
		printf("%-*s  %9.4f  %6.4f  %6.4f  %7ld\n", wid, cnn_class_name(net, k),
		       f.precision, f.recall, f.f1, f.support);
	}
	printf("\nconfusion matrix (rows: true class, columns: predicted class)\n");
	printf("%-*s", wid, "");
	for (int k = 0; k < nclass; k++)
		printf("  %s", cnn_class_name(net, k));
	putchar('\n');
	for (int t = 0; t < nclass; t++) {
		printf("%-*s", wid, cnn_class_name(net, t));
		for (int k = 0; k < nclass; k++) {
			int l = (int)strlen(cnn_class_name(net, k));
			printf("  %*ld", l, confusion[t * nclass + k]);
		}
		putchar('\n');
	}
}

static void report_json(const cnn *net, const long *confusion, long right,
			long total)
{
	int nclass = cnn_nclass(net);

	printf("{\"precision_at_1\": %.6f, \"correct\": %ld, \"total\": %ld,\n",
	       (double)right / total, right, total);
	printf(" \"classes\": [");
	for (int k = 0; k < nclass; k++) {
		figures f = class_figures(confusion, nclass, k);
		printf("%s\n  {\"name\": ", k ? "," : "");
		fk_json_string(stdout, cnn_class_name(net, k));
		printf(", \"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %ld}",
		       f.precision, f.recall, f.f1, f.support);
	}
	printf("],\n \"confusion\": [");
	for (int t = 0; t < nclass; t++) {
		printf("%s\n  [", t ? "," : "");
		for (int k = 0; k < nclass; k++)
			printf("%s%ld", k ? ", " : "", confusion[t * nclass + k]);
		putchar(']');
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	int ch, json = 0, ema = 1, nclass;
	char err[FK_ERRLEN];
	long *confusion, right = 0;
	fk_records recs;
	fk_prep prep;
	cnn *net;

	fk_progname = "faceeval";
	while ((ch = getopt(argc, argv, "jrh")) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'r': ema = 0; break;
		case 'h': fk_help(usage);
		default: fk_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		fk_usage(usage);
	net = fk_load_model(argv[0], &prep);
	nclass = cnn_nclass(net);
	if (fk_records_open(&recs, argv + 1, argc - 1, prep.stored, err) < 0)
		fk_die("%s (%s takes %dx%d records)", err, argv[0], prep.stored,
		       prep.stored);
	if (recs.count == 0)
		fk_die("%s: no records", argv[1]);
	fk_check_labels(&recs, nclass);
	confusion = calloc((size_t)nclass * nclass, sizeof *confusion);
	if (!confusion)
		fk_die("out of memory");
	fk_tally(net, &prep, &recs, ema, confusion);
	for (int k = 0; k < nclass; k++)
		right += confusion[k * nclass + k];
	if (json)
		report_json(net, confusion, right, recs.count);
	else
		report_text(net, confusion, right, recs.count);
	free(confusion);
	fk_records_close(&recs);
	cnn_free(net);
	return fk_close_out(0);
}

/* faceeval — how well a model classifies labelled records. */
#include <unistd.h>

#include "cifar.h"
#include "model.h"
#include "prog.h"

static const char usage[] =
	"usage: faceeval [-j] [-r] [-M] [-l LABELS] [-T N] MODEL RECORDS...\n"
	"  Classify the labelled records with the model and report precision@1,\n"
	"  per-class precision, recall, F1 and support, and the confusion matrix.\n"
	"  -j         JSON\n"
	"  -r         use the raw weights, not their moving average\n"
	"  -M         average each face's probabilities with its mirror image's\n"
	"  -l LABELS  the records' class names, which must be the model's (default:\n"
	"             labels.txt beside the first RECORDS file, if there is one)\n"
	"  -T N       threads (default: every online CPU)\n"
	"  -h         this help\n";

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

static void report_text(const fk_model *m, const long *confusion, long right,
			long total)
{
	int nclass = fk_model_nclass(m), wid = 5;

	for (int k = 0; k < nclass; k++) {
		int l = (int)strlen(fk_model_label(m, k));
		if (l > wid)
			wid = l;
	}
	printf("precision@1 %.4f (%ld of %ld)\n\n", (double)right / total, right,
	       total);
	printf("%-*s  precision  recall      f1  support\n", wid, "class");
	for (int k = 0; k < nclass; k++) {
		figures f = class_figures(confusion, nclass, k);
		printf("%-*s  %9.4f  %6.4f  %6.4f  %7ld\n", wid, fk_model_label(m, k),
		       f.precision, f.recall, f.f1, f.support);
	}
	printf("\nconfusion matrix (rows: true class, columns: predicted class)\n");
	printf("%-*s", wid, "");
	for (int k = 0; k < nclass; k++)
		printf("  %s", fk_model_label(m, k));
	putchar('\n');
	for (int t = 0; t < nclass; t++) {
		printf("%-*s", wid, fk_model_label(m, t));
		for (int k = 0; k < nclass; k++) {
			int l = (int)strlen(fk_model_label(m, k));
			printf("  %*ld", l, confusion[t * nclass + k]);
		}
		putchar('\n');
	}
}

static void report_json(const fk_model *m, const long *confusion, long right,
			long total)
{
	int nclass = fk_model_nclass(m);

	printf("{\"precision_at_1\": %.6f, \"correct\": %ld, \"total\": %ld,\n",
	       (double)right / total, right, total);
	printf(" \"classes\": [");
	for (int k = 0; k < nclass; k++) {
		figures f = class_figures(confusion, nclass, k);
		printf("%s\n  {\"name\": ", k ? "," : "");
		fk_json_string(stdout, fk_model_label(m, k));
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

/* labels.txt beside path, as mkdataset writes it, if it is there */
static char *labels_beside(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path + 1) : 0;
	char *p = fk_xmalloc(dir + sizeof "labels.txt");

	sprintf(p, "%.*slabels.txt", dir, path);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* the records must be named as the model names its classes: the labels
 * file agrees with it, and every label is one the file names */
static void check_labels(const fk_model *m, const char *labels,
			 const fk_records *recs)
{
	char err[FK_ERRLEN], **names;
	int n;

	if (!(names = fk_labels_read(labels, &n, err)))
		fk_die("%s", err);
	if (fk_model_check_labels(m, names, n, labels, err) < 0 ||
	    fk_records_check_labels(recs, n, err) < 0)
		fk_die("%s (%s names the records' classes)", err, labels);
	fk_labels_free(names, n);
}

int main(int argc, char **argv)
{
	int ch, json = 0, ema = 1, mirror = 0, nclass;
	char err[FK_ERRLEN], *found = NULL;
	const char *labels = NULL;
	long *confusion, right = 0;
	fk_records recs;
	fk_model *m;

	fk_progname = "faceeval";
	fk_pool_set_threads(fk_online_cpus());
	while ((ch = getopt(argc, argv, "jrMl:T:h")) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'r': ema = 0; break;
		case 'M': mirror = 1; break;
		case 'l': labels = optarg; break;
		case 'T': fk_pool_set_threads((int)fk_int_arg("-T", optarg, 1, FK_POOL_MAX, usage)); break;
		case 'h': fk_help(usage);
		default: fk_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		fk_usage(usage);
	if (!(m = fk_model_load(argv[0], err)))
		fk_die("%s", err);
	fk_model_set_mirror(m, mirror);
	nclass = fk_model_nclass(m);
	if (fk_records_open(&recs, argv + 1, argc - 1, fk_model_side(m), err) < 0)
		fk_die("%s (%s takes %dx%d records)", err, argv[0], fk_model_side(m),
		       fk_model_side(m));
	if (recs.count == 0)
		fk_die("%s: no records", argv[1]);
	if (!labels)
		labels = found = labels_beside(argv[1]);
	if (labels)
		check_labels(m, labels, &recs);
	if (fk_records_check_labels(&recs, nclass, err) < 0)
		fk_die("%s", err);
	confusion = calloc((size_t)nclass * nclass, sizeof *confusion);
	if (!confusion)
		fk_die("out of memory");
	if (fk_model_tally(m, &recs, ema, confusion, err) < 0)
		fk_die("%s", err);
	for (int k = 0; k < nclass; k++)
		right += confusion[k * nclass + k];
	if (json)
		report_json(m, confusion, right, recs.count);
	else
		report_text(m, confusion, right, recs.count);
	free(confusion);
	free(found);
	fk_records_close(&recs);
	fk_model_free(m);
	return fk_close_out(0);
}

/* model.c — a facetrain model as the programs use it: load, classify one
 * face of any size, tally records, check labels. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "scale.h"

struct fk_model {
	char *path;             /* the file it came from, for messages */
	cnn *net;
	fk_prep prep;
	unsigned char *rec;     /* one record of the stored side */
	float *x;               /* the network's input for one face */
	float *more;            /* the probabilities of its mirror image */
	int mirror;             /* average each face with its mirror image */
	fk_image scaled;        /* a face brought to the input side */
};

fk_model *fk_model_load(const char *path, char *err)
{
	char why[CNN_ERRLEN];
	fk_model *m = calloc(1, sizeof *m);
	int c, h, w;

	if (!m) {
		snprintf(err, FK_ERRLEN, "%s: out of memory", path);
		return NULL;
	}
	m->path = strdup(path);
	/* cnn_load names the file in its messages */
	if (!(m->net = cnn_load(path, err)))
		goto fail;
	if (fk_prep_parse(&m->prep, cnn_prep(m->net), why) < 0) {
		snprintf(err, FK_ERRLEN, "%s: not a facetrain model: %.200s", path, why);
		goto fail;
	}
	cnn_input_shape(m->net, &c, &h, &w);
	if (c != 3 || h != m->prep.crop || w != m->prep.crop) {
		snprintf(err, FK_ERRLEN,
			 "%s: its input is %dx%dx%d, but its preprocessing makes 3x%dx%d",
			 path, c, h, w, m->prep.crop, m->prep.crop);
		goto fail;
	}
	for (int i = 0; i < cnn_nclass(m->net); i++)
		if (!cnn_class_name(m->net, i)) {
			snprintf(err, FK_ERRLEN, "%s: class %d has no name", path, i);
			goto fail;
		}
	m->rec = malloc(fk_cifar_recsize(m->prep.stored));
	m->x = malloc(3 * (size_t)m->prep.crop * m->prep.crop * sizeof *m->x);
	m->more = malloc((size_t)cnn_nclass(m->net) * sizeof *m->more);
	if (!m->path || !m->rec || !m->x || !m->more) {
		snprintf(err, FK_ERRLEN, "%s: out of memory", path);
		goto fail;
	}
	return m;
fail:
	fk_model_free(m);
	return NULL;
}

void fk_model_free(fk_model *m)
{
	if (!m)
		return;
	cnn_free(m->net);
	free(m->path);
	free(m->rec);
	free(m->x);
	free(m->more);
	fk_image_free(&m->scaled);
	free(m);
}

int fk_model_nclass(const fk_model *m)
{
	return cnn_nclass(m->net);
}

const char *fk_model_label(const fk_model *m, int i)
{
	return i >= 0 && i < cnn_nclass(m->net) ? cnn_class_name(m->net, i) : NULL;
}

double fk_model_margin(const fk_model *m)
{
	return m->prep.margin;
}

int fk_model_side(const fk_model *m)
{
	return m->prep.stored;
}

int fk_model_input(const fk_model *m)
{
	return m->prep.crop;
}

const fk_prep *fk_model_prep(const fk_model *m)
{
	return &m->prep;
}

cnn *fk_model_net(fk_model *m)
{
	return m->net;
}

void fk_model_set_mirror(fk_model *m, int on)
{
	m->mirror = on != 0;
}

double fk_model_find_margin(const fk_model *m)
{
	return m->prep.margin * 1.2 * m->prep.crop / m->prep.stored;
}

/* the class probabilities prob[n * nclass] of the n network inputs x;
 * with mirror, the mean of those of x and of x mirrored left-right (x is
 * left mirrored, more gets n * nclass floats) */
static int probabilities(cnn *net, const fk_prep *p, float *x, int n, int ema, int mirror,
			 float *prob, float *more, char *err)
{
	char why[CNN_ERRLEN];
	size_t in = 3 * (size_t)p->crop * p->crop, all = (size_t)n * cnn_nclass(net);

	if (cnn_predict(net, x, n, ema, prob, why) < 0)
		goto fail;
	if (!mirror)
		return 0;
	for (int j = 0; j < n; j++)
		fk_prep_mirror(p, x + j * in);
	if (cnn_predict(net, x, n, ema, more, why) < 0)
		goto fail;
	for (size_t k = 0; k < all; k++)
		prob[k] = (prob[k] + more[k]) / 2;
	return 0;
fail:
	snprintf(err, FK_ERRLEN, "%.250s", why);
	return -1;
}

/* the network on the centre input-side square of a side x side face */
static int predict(fk_model *m, const fk_image *im, float *prob, char *err)
{
	fk_cifar_pack(im, 0, m->rec);
	fk_prep_eval(&m->prep, m->rec + 1, im->w, m->x);
	return probabilities(m->net, &m->prep, m->x, 1, 1, m->mirror, prob, m->more, err);
}

int fk_model_classify(fk_model *m, const fk_image *face, float *prob, char *err)
{
	if (face->w < 1 || face->h < 1) {
		snprintf(err, FK_ERRLEN, "a %dx%d image is no face", face->w, face->h);
		return -1;
	}
	if (face->w == m->prep.crop && face->h == m->prep.crop)
		return predict(m, face, prob, err);
	if (fk_scale_square(face, m->prep.crop, 0, &m->scaled, err) < 0)
		return -1;
	return predict(m, &m->scaled, prob, err);
}

int fk_model_classify_stored(fk_model *m, const fk_image *face, float *prob,
			     char *err)
{
	if (face->w != m->prep.stored || face->h != m->prep.stored) {
		snprintf(err, FK_ERRLEN, "a %dx%d image is not of the stored side %d",
			 face->w, face->h, m->prep.stored);
		return -1;
	}
	return predict(m, face, prob, err);
}

/* 0 if label, that of record i, names one of nclass classes, else -1
 * naming the record (its file and its index there) */
static int check_label(const fk_records *r, long i, int label, int nclass,
		       char *err)
{
	long at;
	const char *path;

	if (label >= 0 && label < nclass)
		return 0;
	path = fk_record_where(r, i, &at);
	snprintf(err, FK_ERRLEN,
		 "%s: record %ld has label %d, but there are only %d classes (0..%d)",
		 path, at, label, nclass, nclass - 1);
	return -1;
}

int fk_tally(cnn *net, const fk_prep *p, const fk_records *r, int ema, int mirror,
	     long *confusion, char *err)
{
	enum { B = 64 };
	int nclass = cnn_nclass(net), label[B];
	size_t in = 3 * (size_t)p->crop * p->crop;
	float *x = malloc(B * in * sizeof *x);
	float *prob = malloc(B * (size_t)nclass * sizeof *prob);
	float *more = mirror ? malloc(B * (size_t)nclass * sizeof *more) : NULL;
	unsigned char *rec = malloc(r->recsize);
	int status = -1;

	if (r->side != p->stored) {
		snprintf(err, FK_ERRLEN, "the records are %dx%d, the model takes %dx%d",
			 r->side, r->side, p->stored, p->stored);
		goto out;
	}
	if (fk_records_check_labels(r, nclass, err) < 0)
		goto out;
	if (!x || !prob || (mirror && !more) || !rec) {
		snprintf(err, FK_ERRLEN, "out of memory");
		goto out;
	}
	for (long i = 0; i < r->count; i += B) {
		int n = r->count - i < B ? (int)(r->count - i) : B;
		for (int j = 0; j < n; j++) {
			if (fk_record_read(r, i + j, rec, err) < 0 ||
			    check_label(r, i + j, rec[0], nclass, err) < 0)
				goto out;
			label[j] = rec[0];
			fk_prep_eval(p, rec + 1, p->stored, x + j * in);
		}
		if (probabilities(net, p, x, n, ema, mirror, prob, more, err) < 0)
			goto out;
		for (int j = 0; j < n; j++) {
			const float *pj = prob + (size_t)j * nclass;
			int best = 0;
			for (int k = 1; k < nclass; k++)
				if (pj[k] > pj[best])
					best = k;
			confusion[label[j] * nclass + best]++;
		}
	}
	status = 0;
out:
	free(x);
	free(prob);
	free(more);
	free(rec);
	return status;
}

int fk_model_tally(fk_model *m, const fk_records *r, int ema, long *confusion,
		   char *err)
{
	return fk_tally(m->net, &m->prep, r, ema, m->mirror, confusion, err);
}

int fk_records_check_labels(const fk_records *r, int nclass, char *err)
{
	long i = fk_records_bad_label(r, nclass, err);
	int label;

	if (i == -1)
		return 0;
	if (i == -2 || (label = fk_record_label(r, i, err)) < 0)
		return -1;
	return check_label(r, i, label, nclass, err);
}

void fk_labels_free(char **names, int n)
{
	if (!names)
		return;
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* line k (from 1) of a labels file, its line end cut: 1, 0 at the end,
 * -1 with err set */
static int label_line(FILE *f, const char *path, int k, char *line, size_t size,
		      char *err)
{
	size_t len;

	if (!fgets(line, (int)size, f)) {
		if (ferror(f)) {
			snprintf(err, FK_ERRLEN, "%s: read error: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	len = strcspn(line, "\r\n");
	if (line[len] == '\0' && !feof(f)) {
		snprintf(err, FK_ERRLEN, "%s:%d: line longer than %d bytes", path, k,
			 FK_LABEL_MAX);
		return -1;
	}
	line[len] = '\0';
	if (len == 0) {
		snprintf(err, FK_ERRLEN, "%s:%d: empty class name", path, k);
		return -1;
	}
	if (strpbrk(line, " \t")) {
		snprintf(err, FK_ERRLEN,
			 "%s:%d: class name \"%.*s\" has a blank (names are one word, as faceclassify prints them in columns)",
			 path, k, 64, line);
		return -1;
	}
	return 1;
}

char **fk_labels_read(const char *path, int *n, char *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char line[FK_LABEL_MAX + 2], **names = NULL;
	int k = 0, r;

	if (!f) {
		snprintf(err, FK_ERRLEN, "%s: %s", path, strerror(errno));
		return NULL;
	}
	names = calloc(256, sizeof *names);
	if (!names) {
		snprintf(err, FK_ERRLEN, "out of memory");
		goto fail;
	}
	while ((r = label_line(f, path, k + 1, line, sizeof line, err)) > 0) {
		if (k == 256) {
			snprintf(err, FK_ERRLEN,
				 "%s:%d: more than 256 classes (labels are one byte)", path, k + 1);
			goto fail;
		}
		for (int i = 0; i < k; i++)
			if (!strcmp(names[i], line)) {
				snprintf(err, FK_ERRLEN,
					 "%s:%d: class name \"%.*s\" is line %d's too",
					 path, k + 1, 64, line, i + 1);
				goto fail;
			}
		if (!(names[k] = strdup(line))) {
			snprintf(err, FK_ERRLEN, "out of memory");
			goto fail;
		}
		k++;
	}
	if (r < 0)
		goto fail;
	if (f != stdin)
		fclose(f);
	*n = k;
	return names;
fail:
	if (f != stdin)
		fclose(f);
	fk_labels_free(names, k);
	return NULL;
}

int fk_model_check_labels(const fk_model *m, char *const *names, int n,
			  const char *path, char *err)
{
	int nclass = cnn_nclass(m->net);

	if (n > nclass) {
		snprintf(err, FK_ERRLEN, "%s names %d classes, but %s has only %d",
			 path, n, m->path, nclass);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], cnn_class_name(m->net, i))) {
			snprintf(err, FK_ERRLEN,
				 "%s:%d: label %d is \"%.*s\", but %s calls it \"%.*s\"",
				 path, i + 1, i, 64, names[i], m->path, 64,
				 cnn_class_name(m->net, i));
			return -1;
		}
	return 0;
}

int fk_dataset_read(const char *path, int *stored, float *margin, char *err)
{
	FILE *f = fopen(path, "r");
	char line[FK_PREP_LEN], *save = NULL, *t;
	int side = 0;
	float mar = 0;

	if (!f) {
		snprintf(err, FK_ERRLEN, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	for (t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		char *end;
		if (!strncmp(t, "stored=", 7)) {
			long v = strtol(t + 7, &end, 10);
			side = end > t + 7 && !*end && v >= 1 && v <= FK_CIFAR_MAXSIDE ? (int)v : -1;
		} else if (!strncmp(t, "margin=", 7)) {
			double v = strtod(t + 7, &end);
			mar = end > t + 7 && !*end && v > 0 && v <= 1000 ? (float)v : -1;
		} else {
			side = -1;
		}
		if (side < 0 || mar < 0) {
			snprintf(err, FK_ERRLEN, "%s: \"%.64s\" is not stored=SIDE or margin=MARGIN",
				 path, t);
			return -1;
		}
	}
	if (!side || !mar) {
		snprintf(err, FK_ERRLEN, "%s: want one line \"stored=SIDE margin=MARGIN\"",
			 path);
		return -1;
	}
	*stored = side;
	*margin = mar;
	return 0;
}

void fk_rank_classes(const float *prob, int n, int *order)
{
	for (int i = 0; i < n; i++) {	/* insertion: stable, n is small */
		int j = i;
		while (j > 0 && prob[order[j - 1]] < prob[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

/* model.c — libfacekit's model calls: loading (and the errors that name
 * the file), a face of any size brought to the model's input, tallies
 * that agree with one-face classification, and the checks of labels files
 * and of mkdataset's dataset.txt. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"

static char dir[] = "/tmp/test_model.XXXXXX";
static char err[FK_ERRLEN];

/* a file in the scratch folder */
static const char *at(const char *name)
{
	static char path[4][64];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
	return path[k];
}

static void put(const char *name, const char *text)
{
	FILE *f = fopen(at(name), "w");

	fputs(text, f);
	fclose(f);
}

/* "fc N" on 3x2x2 input, classes a and b, the given settings, saved */
static void make_model(const char *name, const char *prep, int named)
{
	static char *names[] = {"a", "b"};
	cnn *net = cnn_new("fc N", 3, 2, 2, 2, 7, err);

	if (!net || (named && cnn_set_class_names(net, names, 2, err) < 0) ||
	    cnn_set_prep(net, prep, err) < 0 || cnn_save(net, at(name), err) < 0) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	cnn_free(net);
}

/* an n x n image whose pixel (x, y) channel c is f(x, y, c) */
static void fill(fk_image *im, int n, int seed)
{
	fk_image_alloc(im, n, n, err);
	for (int i = 0; i < 3 * n * n; i++)
		im->px[i] = (unsigned char)((i * 37 + seed * 101) % 251);
}

static int same(const float *a, const float *b, int n)
{
	return !memcmp(a, b, n * sizeof *a);
}

static void test_load(void)
{
	fk_model *m;

	ok(!fk_model_load(at("missing.model"), err) && strstr(err, "missing.model"),
	   "a missing file: NULL, and the message names it: %s", err);
	put("text.model", "not a model\n");
	ok(!fk_model_load(at("text.model"), err) && strstr(err, "text.model"),
	   "a file that is not a model: %s", err);
	make_model("nameless.model", "stored=2 crop=2 std=0", 0);
	ok(!fk_model_load(at("nameless.model"), err) && strstr(err, "class 0 has no name"),
	   "a model without class names: %s", err);
	make_model("wrong.model", "stored=4 crop=3 std=0", 1);
	ok(!fk_model_load(at("wrong.model"), err) && strstr(err, "its input is 3x2x2"),
	   "a model whose settings make another input: %s", err);
	make_model("old.model", "stored=4 crop=2 std=0", 1);
	m = fk_model_load(at("old.model"), err);
	ok(m && fk_model_margin(m) == 1.25, "a model that does not say its margin: 1.25");
	fk_model_free(m);
	make_model("m.model", "stored=4 crop=2 std=0 margin=1.5", 1);
	m = fk_model_load(at("m.model"), err);
	ok(m != NULL, "a good model loads (%s)", m ? "" : err);
	if (!m)
		return;
	ok(fk_model_nclass(m) == 2 && !strcmp(fk_model_label(m, 0), "a") &&
	   !strcmp(fk_model_label(m, 1), "b") && !fk_model_label(m, 2) &&
	   !fk_model_label(m, -1), "its classes, and NULL beyond them");
	ok(fk_model_margin(m) == 1.5 && fk_model_side(m) == 4 && fk_model_input(m) == 2,
	   "margin %g, stored side %d, input %d", fk_model_margin(m), fk_model_side(m),
	   fk_model_input(m));
	ok(close_to(fk_model_find_margin(m), 1.5 * 1.2 * 2 / 4, 1e-12),
	   "around facefind's boxes: 1.5 * 1.2 * 2/4 = %g", fk_model_find_margin(m));
	fk_model_free(m);
}

static void test_classify(void)
{
	fk_model *m = fk_model_load(at("m.model"), err);
	fk_image face = {0}, other = {0};
	float p[2], q[2], x[12];
	int r;

	if (!m) {
		ok(0, "load: %s", err);
		return;
	}
	/* a stored-size face: its centre 2x2, as planes of x/255 (std=0) */
	fill(&face, 4, 1);
	for (int c = 0; c < 3; c++)
		for (int y = 0; y < 2; y++)
			for (int xx = 0; xx < 2; xx++)
				x[(c * 2 + y) * 2 + xx] = face.px[3 * ((y + 1) * 4 + xx + 1) + c] / 255.0f;
	r = fk_model_classify_stored(m, &face, p, err);
	cnn_predict(fk_model_net(m), x, 1, 1, q, err);
	ok(r == 0 && same(p, q, 2) && fabsf(p[0] + p[1] - 1) < 1e-6f,
	   "a 4x4 face as a record holds it: the network on its centre 2x2 (%.6f %.6f)",
	   p[0], p[1]);
	/* as any face, it is scaled: each output pixel the mean of a 2x2 block */
	for (int c = 0; c < 3; c++)
		for (int y = 0; y < 2; y++)
			for (int xx = 0; xx < 2; xx++) {
				int sum = 0;
				for (int k = 0; k < 4; k++)
					sum += face.px[3 * ((2 * y + k / 2) * 4 + 2 * xx + k % 2) + c];
				x[(c * 2 + y) * 2 + xx] = (unsigned char)((sum + 2) / 4) / 255.0f;
			}
	r = fk_model_classify(m, &face, p, err);
	cnn_predict(fk_model_net(m), x, 1, 1, q, err);
	ok(r == 0 && close_to(p[0], q[0], 1e-6) && close_to(p[1], q[1], 1e-6),
	   "a 4x4 face as any face: the network on it shrunk to 2x2 (%.6f %.6f)",
	   p[0], p[1]);
	fill(&other, 3, 1);
	ok(fk_model_classify_stored(m, &other, p, err) < 0 && strstr(err, "3x3"),
	   "a 3x3 face is no record of side 4: %s", err);
	/* an input-size face is used whole */
	fill(&face, 2, 2);
	for (int c = 0; c < 3; c++)
		for (int i = 0; i < 4; i++)
			x[c * 4 + i] = face.px[3 * i + c] / 255.0f;
	fk_model_classify(m, &face, p, err);
	cnn_predict(fk_model_net(m), x, 1, 1, q, err);
	ok(same(p, q, 2), "a 2x2 face: the network on it whole");
	/* a flat face of any other size is the same flat 2x2 face */
	fk_image_alloc(&face, 7, 5, err);
	fk_image_alloc(&other, 2, 2, err);
	for (int i = 0; i < 3 * 35; i++)
		face.px[i] = (unsigned char)(i % 3 == 0 ? 200 : i % 3 == 1 ? 30 : 90);
	for (int i = 0; i < 12; i++)
		other.px[i] = (unsigned char)(i % 3 == 0 ? 200 : i % 3 == 1 ? 30 : 90);
	r = fk_model_classify(m, &face, p, err);
	fk_model_classify(m, &other, q, err);
	ok(r == 0 && same(p, q, 2), "a flat 7x5 face: as the flat 2x2 one");
	face.w = 0;
	ok(fk_model_classify(m, &face, p, err) < 0 && strstr(err, "0x5"),
	   "an empty image is refused: %s", err);
	fk_image_free(&face);
	fk_image_free(&other);
	fk_model_free(m);
}

/* 70 records of 4x4 faces, labels 0 1 0 1 ..., to path (more than one
 * batch of the tally), and in want the confusion table m must tally for
 * them: each record as fk_model_classify_stored names it */
static void write_records(fk_model *m, const char *path, long want[4])
{
	unsigned char rec[1 + 48];
	fk_image face = {0};
	FILE *f = fopen(path, "wb");
	float p[2];

	for (int i = 0; i < 70; i++) {
		fill(&face, 4, i);
		fk_cifar_pack(&face, i % 2, rec);
		fwrite(rec, 1, sizeof rec, f);
		fk_model_classify_stored(m, &face, p, err);
		want[(i % 2) * 2 + (p[1] > p[0])]++;
	}
	fclose(f);
	fk_image_free(&face);
}

static void test_tally(void)
{
	fk_model *m = fk_model_load(at("m.model"), err);
	char *paths[1] = {(char *)at("rec.bin")};
	long conf[4] = {0}, want[4] = {0};
	fk_records r;
	int ret;

	write_records(m, paths[0], want);
	fk_records_open(&r, paths, 1, 4, err);
	ret = fk_model_tally(m, &r, 1, conf, err);
	ok(ret == 0 && !memcmp(conf, want, sizeof conf),
	   "the tally of 70 records: each as fk_model_classify_stored names it (%ld %ld %ld %ld)",
	   conf[0], conf[1], conf[2], conf[3]);
	ok(fk_records_check_labels(&r, 2, err) == 0, "labels 0 and 1 fit 2 classes");
	ok(fk_records_check_labels(&r, 1, err) < 0 && strstr(err, "rec.bin: record 1 has label 1"),
	   "label 1 does not fit 1 class: %s", err);
	fk_records_close(&r);
	fk_records_open(&r, paths, 1, 2, err);
	ok(r.count == 0 || fk_model_tally(m, &r, 1, conf, err) < 0,
	   "records of another side are refused: %s", err);
	fk_records_close(&r);
	fk_model_free(m);
}

/* with the mirror on, a face and its mirror image get the same
 * probabilities, the mean of the two without it; the tally agrees */
static void test_mirror(void)
{
	fk_model *m = fk_model_load(at("m.model"), err);
	char *paths[1] = {(char *)at("mirror.bin")};
	long conf[4] = {0}, want[4] = {0};
	fk_image face = {0}, flip = {0};
	float p[2], q[2], a[2], b[2];
	fk_records r;
	int ret;

	fill(&face, 2, 5);
	fk_image_alloc(&flip, 2, 2, err);
	for (int y = 0; y < 2; y++)
		for (int x = 0; x < 2; x++)
			memcpy(flip.px + 3 * (y * 2 + x), face.px + 3 * (y * 2 + 1 - x), 3);
	fk_model_classify(m, &face, p, err);
	fk_model_classify(m, &flip, q, err);
	ok(!same(p, q, 2), "without the mirror a face and its mirror differ (%.6f %.6f)", p[0], q[0]);
	fk_model_set_mirror(m, 1);
	fk_model_classify(m, &face, a, err);
	fk_model_classify(m, &flip, b, err);
	ok(same(a, b, 2) && close_to(a[0], (p[0] + q[0]) / 2, 1e-7) &&
	   close_to(a[1], (p[1] + q[1]) / 2, 1e-7),
	   "with it both get the mean of the two (%.6f %.6f)", a[0], a[1]);
	write_records(m, paths[0], want);
	fk_records_open(&r, paths, 1, 4, err);
	ret = fk_model_tally(m, &r, 1, conf, err);
	ok(ret == 0 && !memcmp(conf, want, sizeof conf),
	   "the tally with the mirror: each record as fk_model_classify_stored names it (%ld %ld %ld %ld)",
	   conf[0], conf[1], conf[2], conf[3]);
	fk_records_close(&r);
	fk_image_free(&face);
	fk_image_free(&flip);
	fk_model_free(m);
}

static void test_labels(void)
{
	fk_model *m = fk_model_load(at("m.model"), err);
	char **names;
	int n;

	put("ok.txt", "a\nb\n");
	names = fk_labels_read(at("ok.txt"), &n, err);
	ok(names && n == 2 && !strcmp(names[1], "b"), "a labels file: two names");
	ok(names && fk_model_check_labels(m, names, n, "ok.txt", err) == 0,
	   "the model's own names agree");
	fk_labels_free(names, n);
	put("one.txt", "a\n");
	names = fk_labels_read(at("one.txt"), &n, err);
	ok(names && fk_model_check_labels(m, names, n, "one.txt", err) == 0,
	   "its first name alone agrees");
	fk_labels_free(names, n);
	put("swap.txt", "b\na\n");
	names = fk_labels_read(at("swap.txt"), &n, err);
	ok(names && fk_model_check_labels(m, names, n, "swap.txt", err) < 0 &&
	   strstr(err, "swap.txt:1: label 0 is \"b\"") && strstr(err, "calls it \"a\""),
	   "names in another order: %s", err);
	fk_labels_free(names, n);
	put("three.txt", "a\nb\nc\n");
	names = fk_labels_read(at("three.txt"), &n, err);
	ok(names && fk_model_check_labels(m, names, n, "three.txt", err) < 0 &&
	   strstr(err, "names 3 classes") && strstr(err, "only 2"),
	   "more names than classes: %s", err);
	fk_labels_free(names, n);
	put("twice.txt", "a\nb\na\n");
	ok(!fk_labels_read(at("twice.txt"), &n, err) && strstr(err, "twice.txt:3:") &&
	   strstr(err, "line 1"), "a name twice: %s", err);
	put("blank.txt", "a b\n");
	ok(!fk_labels_read(at("blank.txt"), &n, err) && strstr(err, "blank.txt:1:"),
	   "a name with a blank: %s", err);
	ok(!fk_labels_read(at("none.txt"), &n, err) && strstr(err, "none.txt"),
	   "a missing file: %s", err);
	fk_model_free(m);
}

static void test_dataset(void)
{
	int side = 0;
	float margin = 0;

	put("d1.txt", "stored=40 margin=1.25\n");
	ok(fk_dataset_read(at("d1.txt"), &side, &margin, err) == 0 && side == 40 &&
	   margin == 1.25f, "dataset.txt: stored 40, margin 1.25");
	put("d2.txt", "stored=40 margin=x\n");
	ok(fk_dataset_read(at("d2.txt"), &side, &margin, err) < 0 &&
	   strstr(err, "\"margin=x\""), "a bad value is named: %s", err);
	put("d3.txt", "stored=40\n");
	ok(fk_dataset_read(at("d3.txt"), &side, &margin, err) < 0 &&
	   strstr(err, "d3.txt"), "a missing margin: %s", err);
	put("d4.txt", "");
	ok(fk_dataset_read(at("d4.txt"), &side, &margin, err) < 0, "an empty file");
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_load();
	test_classify();
	test_tally();
	test_mirror();
	test_labels();
	test_dataset();
	remove_tree(dir);
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

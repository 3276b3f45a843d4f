/* test_cnn_io.c — the model file: save -> load round trips, resuming
 * training (with momentum too), the byte layout of cnnmodel(5) decoded by
 * hand, files of every version (a version 3 one written by hand), and every kind
 * of bad file (truncated, flipped, wrong magic or version, absurd counts),
 * plus saves that fail (missing directory, /dev/full, a file size limit)
 * without leaving anything behind. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cnn_impl.h"
#include "tap.h"

/* small enough to load once per byte of its file; with batch norm, so
 * the file holds state (running statistics) too */
#define SPEC "conv 3 4 relu=0; bn; pool 3 2; lrn; fc 6; fc N"
/* without state: a version 1 file can hold it */
#define SPEC1 "conv 3 4; pool 3 2; lrn; fc 6; fc N"
enum { C = 3, H = 8, W = 8, NCL = 3, BATCH = 4 };

static char dir[] = "/tmp/test_cnn_io.XXXXXX";
static char err[CNN_ERRLEN];

static uint32_t rng = 12345;
static float frand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return (float)(rng >> 8) / (1 << 24) - 0.5f;
}

static void batch(float *x, int *y, int n)
{
	for (int i = 0; i < n * C * H * W; i++)
		x[i] = frand();
	for (int i = 0; i < n; i++)
		y[i] = (int)(rng >> 20) % NCL;
}

static cnn *small_net(uint64_t seed)
{
	cnn *net = cnn_new(SPEC, C, H, W, NCL, seed, err);
	if (!net) {
		printf("Bail out! cnn_new: %s\n", err);
		exit(1);
	}
	return net;
}

static void train(cnn *net, const cnn_train_opts *o, int steps)
{
	float x[BATCH * C * H * W], loss;
	int y[BATCH];
	for (int s = 0; s < steps; s++) {
		batch(x, y, BATCH);
		if (cnn_train_step(net, o, x, y, BATCH, &loss, err) != 0) {
			printf("Bail out! cnn_train_step: %s\n", err);
			exit(1);
		}
	}
}

/* the weights and the state, raw or averaged, to the bit */
static int same_blob(cnn *a, cnn *b, int ema)
{
	long na, nb, sa, sb;
	float *pa = cnn__params(a, ema, &na), *pb = cnn__params(b, ema, &nb);
	float *qa = cnn__state(a, ema, &sa), *qb = cnn__state(b, ema, &sb);
	return na == nb && memcmp(pa, pb, sizeof *pa * (size_t)na) == 0 &&
	       sa == sb && memcmp(qa, qb, sizeof *qa * (size_t)sa) == 0;
}

static int same_predictions(cnn *a, cnn *b, int ema)
{
	enum { N = 5 };
	float x[N * C * H * W], pa[N * NCL], pb[N * NCL];
	int y[N];
	batch(x, y, N);
	return cnn_predict(a, x, N, ema, pa, err) == 0 && cnn_predict(b, x, N, ema, pb, err) == 0 &&
	       memcmp(pa, pb, sizeof pa) == 0;
}

static char *path(const char *name)
{
	static char p[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static unsigned char *slurp(const char *p, size_t *n)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	rewind(f);
	unsigned char *b = malloc(*n ? *n : 1);
	if (fread(b, 1, *n, f) != *n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

/* fload from bytes in memory */
static cnn *load_bytes(const unsigned char *b, size_t n)
{
	FILE *f = n ? fmemopen((void *)b, n, "rb") : fopen("/dev/null", "rb");
	if (!f) {
		snprintf(err, sizeof err, "test: cannot open %zu bytes as a stream", n);
		return NULL;
	}
	cnn *net = cnn_fload(f, err);
	fclose(f);
	return net;
}

/* the readers the test uses: cnnmodel(5) says little-endian, no padding */
static uint32_t le32(const unsigned char *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}
static void set32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff, p[1] = v >> 8 & 0xff, p[2] = v >> 16 & 0xff, p[3] = v >> 24;
}
static void set64(unsigned char *p, uint64_t v)
{
	set32(p, (uint32_t)v);
	set32(p + 4, (uint32_t)(v >> 32));
}
/* rewrite the trailing CRC after an edit, so the field checks are reached */
static void fix_crc(unsigned char *b, size_t n)
{
	set32(b + n - 4, (uint32_t)crc32(0, b, (uInt)(n - 4)));
}

/* offsets of the variable fields in a saved small model */
typedef struct {
	size_t spec, prep, settings, names, opt, nstate, nparams, raw, ema, vel, nst, st, st_ema, crc;
} layout;

static layout find_layout(const unsigned char *b)
{
	layout l;
	l.spec = 52;
	l.prep = l.spec + 4 + le32(b + l.spec);
	/* version 3 has the training settings after the prep string */
	l.settings = l.prep + 4 + le32(b + l.prep);
	l.names = le32(b + 8) >= 3 ? l.settings + 4 + le32(b + l.settings) : l.settings;
	size_t at = l.names + 4;
	for (uint32_t i = 0; i < le32(b + l.names); i++)
		at += 4 + le32(b + at);
	l.opt = at;
	l.nstate = at + 4;
	l.nparams = at + 12;
	l.raw = at + 20;
	l.ema = l.raw + 4 * le64(b + l.nparams);
	l.vel = l.ema + 4 * le64(b + l.nparams);
	l.nst = l.vel + 4 * le64(b + l.nstate);
	l.st = l.nst + 8;
	l.st_ema = l.st + 4 * le64(b + l.nst);
	l.crc = l.st_ema + 4 * le64(b + l.nst);
	return l;
}

/* bad bytes must be refused with a message containing want */
static void refused(const unsigned char *b, size_t n, const char *want, const char *what)
{
	err[0] = 0;
	cnn *net = load_bytes(b, n);
	ok(!net && strstr(err, want), "%s is refused: %s", what, err);
	cnn_free(net);
}

static int no_temp_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int clean = 1;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".bin."))
			clean = 0;
	closedir(d);
	return clean;
}

static void test_round_trip(void)
{
	cnn_train_opts o;
	cnn_train_defaults(&o);
	o.batch = BATCH;
	cnn *a = small_net(42);
	char *names[NCL] = {"alice", "bob", "carol with spaces"};
	ok(cnn_set_class_names(a, names, NCL, err) == 0, "set class names");
	ok(cnn_set_prep(a, "stored=40 crop=32 std=1", err) == 0, "set prep");
	ok(cnn_set_train_settings(a, "lr=0.1 batch=8", err) == 0, "set training settings");
	train(a, &o, 3);

	ok(cnn_save(a, path("a.bin"), err) == 0, "save: %s", err);
	cnn *b = cnn_load(path("a.bin"), err);
	ok(b != NULL, "load: %s", b ? "" : err);
	if (!b)
		return;
	int c, h, w;
	cnn_input_shape(b, &c, &h, &w);
	ok(c == C && h == H && w == W, "input shape %dx%dx%d", c, h, w);
	ok(cnn_nclass(b) == NCL, "class count %d", cnn_nclass(b));
	ok(strcmp(cnn_spec(a), cnn_spec(b)) == 0, "spec \"%s\"", cnn_spec(b));
	ok(cnn_step_count(b) == 3, "step count %ld", cnn_step_count(b));
	ok(cnn_nparams(a) == cnn_nparams(b), "parameter count %ld", cnn_nparams(b));
	ok(cnn__seed(b) == 42, "seed %llu", (unsigned long long)cnn__seed(b));
	int names_ok = 1;
	for (int i = 0; i < NCL; i++)
		names_ok &= cnn_class_name(b, i) && strcmp(cnn_class_name(b, i), names[i]) == 0;
	ok(names_ok, "class names");
	ok(cnn_prep(b) && strcmp(cnn_prep(b), "stored=40 crop=32 std=1") == 0, "prep \"%s\"",
	   cnn_prep(b) ? cnn_prep(b) : "(null)");
	ok(!strcmp(cnn_train_settings(b), "lr=0.1 batch=8"), "training settings \"%s\"",
	   cnn_train_settings(b));
	ok(same_blob(a, b, 0), "raw weights identical");
	ok(same_blob(a, b, 1), "averaged weights identical");
	ok(same_predictions(a, b, 0), "identical raw predictions");
	ok(same_predictions(a, b, 1), "identical averaged predictions");

	/* a model without names or prep round-trips as such */
	cnn *bare = small_net(7);
	ok(cnn_save(bare, path("bare.bin"), err) == 0, "save a bare model");
	cnn *bare2 = cnn_load(path("bare.bin"), err);
	ok(bare2 && !cnn_class_name(bare2, 0) && (!cnn_prep(bare2) || !*cnn_prep(bare2)) &&
	   !*cnn_train_settings(bare2), "no names, no prep, no settings after loading a bare model");
	ok(bare2 && same_blob(bare, bare2, 0) && same_blob(bare, bare2, 1), "bare model's weights identical");
	cnn_free(bare);
	cnn_free(bare2);

	/* FILE* forms: two models in one stream, the stream left open */
	FILE *f = tmpfile();
	ok(cnn_fsave(a, f, err) == 0 && cnn_fsave(b, f, err) == 0, "fsave twice to one stream");
	ok(fputc('x', f) != EOF && fflush(f) == 0, "stream still open after fsave");
	rewind(f);
	cnn *f1 = cnn_fload(f, err), *f2 = cnn_fload(f, err);
	ok(f1 && f2 && same_blob(a, f1, 0) && same_blob(a, f2, 1), "fload twice from one stream");
	ok(fgetc(f) == 'x', "fload stops right after its model");
	fclose(f);
	cnn_free(f1);
	cnn_free(f2);

	/* the path form refuses trailing data */
	size_t n;
	unsigned char *bytes = slurp(path("a.bin"), &n);
	FILE *g = fopen(path("trail.bin"), "wb");
	fwrite(bytes, 1, n, g);
	fputc(0, g);
	fclose(g);
	cnn *t = cnn_load(path("trail.bin"), err);
	ok(!t && strstr(err, "trailing data") && strstr(err, "trail.bin"), "trailing byte refused: %s", err);
	free(bytes);

	/* the tutorial network itself, a 4 MB blob */
	cnn *tut = cnn_new(NULL, 3, 32, 32, 6, 1, err);
	ok(tut && cnn_save(tut, path("tut.bin"), err) == 0, "save the tutorial network");
	cnn *tut2 = cnn_load(path("tut.bin"), err);
	ok(tut2 && same_blob(tut, tut2, 0) && same_blob(tut, tut2, 1) &&
	   strcmp(cnn_spec(tut2), cnn_spec(tut)) == 0, "tutorial network round-trips (%ld parameters)",
	   tut2 ? cnn_nparams(tut2) : 0L);
	cnn_free(tut);
	cnn_free(tut2);
	cnn_free(a);
	cnn_free(b);
}

/* train k+m steps straight, or k, save, load, m: the same bits, with the
 * learning rate stepping down in between so the step count matters; with
 * one thread and with two (each batch then split in two parts) */
static void test_resume(int threads)
{
	cnn_train_opts o;
	cnn_train_defaults(&o);
	o.batch = BATCH;
	o.decay_steps = 4;
	o.lr_decay = 0.5f;
	enum { K = 5, M = 6 };
	uint32_t seed_data = rng;

	cnn *straight = small_net(3);
	train(straight, &o, K + M);

	rng = seed_data;
	cnn *first = small_net(3);
	train(first, &o, K);
	ok(cnn_save(first, path("resume.bin"), err) == 0, "save after %d steps", K);
	cnn_free(first);
	cnn *resumed = cnn_load(path("resume.bin"), err);
	ok(resumed && cnn_step_count(resumed) == K, "loaded at step %ld", resumed ? cnn_step_count(resumed) : -1L);
	if (!resumed)
		return;
	ok(close_to(cnn_learning_rate(resumed, &o), 0.05, 1e-7), "learning rate after %d steps is %g", K,
	   cnn_learning_rate(resumed, &o));
	train(resumed, &o, M);
	ok(cnn_step_count(resumed) == K + M, "step %ld after resuming", cnn_step_count(resumed));
	ok(same_blob(straight, resumed, 0), "%d thread(s): resumed raw weights bit-identical to never stopping",
	   threads);
	ok(same_blob(straight, resumed, 1), "%d thread(s): resumed averaged weights bit-identical to never stopping",
	   threads);
	cnn_free(straight);
	cnn_free(resumed);
}

/* decode the saved file by hand, per cnnmodel(5), and compare */
static void test_layout(void)
{
	cnn *a = small_net(0x0123456789abcdefULL);
	char *names[NCL] = {"x", "yy", "zzz"};
	cnn_set_class_names(a, names, NCL, err);
	cnn_set_prep(a, "p=1", err);
	cnn_set_train_settings(a, "s=22", err);
	cnn__set_step(a, 0x100000002L);
	ok(cnn_save(a, path("layout.bin"), err) == 0, "save for the layout check");
	size_t n;
	unsigned char *b = slurp(path("layout.bin"), &n);
	static const unsigned char mg[8] = {0x89, 'C', 'N', 'N', 0x0d, 0x0a, 0x1a, 0x0a};
	ok(memcmp(b, mg, 8) == 0, "bytes 0-7: magic 89 43 4e 4e 0d 0a 1a 0a");
	ok(le32(b + 8) == 4, "bytes 8-11: version %u", le32(b + 8));
	ok(le64(b + 12) == n, "bytes 12-19: file length %llu (file has %zu)", (unsigned long long)le64(b + 12), n);
	ok(le32(b + 20) == C && le32(b + 24) == H && le32(b + 28) == W, "bytes 20-31: shape %ux%ux%u",
	   le32(b + 20), le32(b + 24), le32(b + 28));
	ok(le32(b + 32) == NCL, "bytes 32-35: class count %u", le32(b + 32));
	ok(b[36] == 0xef && b[43] == 0x01 && le64(b + 36) == 0x0123456789abcdefULL,
	   "bytes 36-43: seed, least significant byte first");
	ok(le64(b + 44) == 0x100000002ULL, "bytes 44-51: step, 64 bits");
	layout l = find_layout(b);
	size_t sl = le32(b + l.spec);
	ok(sl == strlen(cnn_spec(a)) && memcmp(b + l.spec + 4, cnn_spec(a), sl) == 0,
	   "spec: length %zu then the text, no NUL", sl);
	ok(le32(b + l.prep) == 3 && memcmp(b + l.prep + 4, "p=1", 3) == 0, "prep: length 3, \"p=1\"");
	ok(le32(b + l.settings) == 4 && memcmp(b + l.settings + 4, "s=22", 4) == 0,
	   "training settings: length 4, \"s=22\"");
	ok(le32(b + l.names) == NCL && le32(b + l.names + 4) == 1 && b[l.names + 8] == 'x' &&
	   le32(b + l.names + 9) == 2 && memcmp(b + l.names + 13, "yy", 2) == 0,
	   "class names: count, then length and bytes each");
	ok(le32(b + l.opt) == 0 && le64(b + l.nstate) == 0, "optimiser 0 (plain SGD) with no state");
	long np;
	float *raw = cnn__params(a, 0, &np), *ema = cnn__params(a, 1, &np);
	ok(le64(b + l.nparams) == (uint64_t)np, "parameter count %llu", (unsigned long long)le64(b + l.nparams));
	/* a float's bits, assembled from four little-endian bytes */
	int wok = 1;
	for (long i = 0; i < np; i++) {
		uint32_t u = le32(b + l.raw + 4 * i), v = le32(b + l.ema + 4 * i), ur, ue;
		memcpy(&ur, &raw[i], 4);
		memcpy(&ue, &ema[i], 4);
		wok &= u == ur && v == ue;
	}
	ok(wok, "raw then averaged weights, float32 little-endian");
	long ns;
	float *st = cnn__state(a, 0, &ns), *se = cnn__state(a, 1, &ns);
	/* bn on 4 channels: running mean (0) and variance (1) of each */
	ok(ns == 8 && le64(b + l.nst) == (uint64_t)ns, "state count %llu", (unsigned long long)le64(b + l.nst));
	wok = 1;
	for (long i = 0; i < ns; i++) {
		uint32_t u = le32(b + l.st + 4 * i), v = le32(b + l.st_ema + 4 * i), ur, ue;
		memcpy(&ur, &st[i], 4);
		memcpy(&ue, &se[i], 4);
		wok &= u == ur && v == ue && st[i] == (i < 4 ? 0 : 1);
	}
	ok(wok, "raw then averaged state, float32 little-endian: means 0, variances 1");
	ok(l.crc + 4 == n, "CRC is the last 4 bytes");
	ok(le32(b + l.crc) == (uint32_t)crc32(0, b, (uInt)l.crc), "CRC-32 (zlib) of all bytes before it");
	free(b);
	cnn_free(a);
}

/* a saved file (version 3) with empty training settings made version 2
 * by taking the settings string out; *n shrinks by its 4 bytes */
static void drop_settings(unsigned char *v, size_t *n)
{
	layout l = find_layout(v);
	memmove(v + l.settings, v + l.settings + 4, *n - l.settings - 4);
	*n -= 4;
	set32(v + 8, 2);
	set64(v + 12, *n);
	fix_crc(v, *n);
}

/* a version 2 file (no training settings) still loads, with none */
static void test_version2(void)
{
	cnn *a = small_net(11);
	size_t n;
	ok(cnn_save(a, path("v2.bin"), err) == 0, "save a model without training settings");
	unsigned char *v = slurp(path("v2.bin"), &n);
	layout l = find_layout(v);
	ok(le32(v + l.settings) == 0, "its settings string is empty");
	drop_settings(v, &n);
	cnn *a2 = load_bytes(v, n);
	ok(a2 && same_blob(a, a2, 0) && same_blob(a, a2, 1) && !*cnn_train_settings(a2),
	   "a version 2 file loads, with no training settings: %s", a2 ? "" : err);
	cnn_free(a2);
	cnn_free(a);
	free(v);
}

/* a version 1 file (made from a version 2 one by taking out the state
 * count, which is 0 without batch norm) still loads; one whose spec needs
 * state is refused */
static void test_version1(void)
{
	cnn *a = cnn_new(SPEC1, C, H, W, NCL, 9, err), *b = small_net(9);
	size_t n;
	ok(a && cnn_save(a, path("v1.bin"), err) == 0 && cnn_save(b, path("v1bn.bin"), err) == 0,
	   "save models to turn into version 1");
	unsigned char *v = slurp(path("v1.bin"), &n);
	drop_settings(v, &n);
	layout l = find_layout(v);
	ok(le64(v + l.nst) == 0 && l.crc == l.nst + 8, "no batch norm: a state count of 0 and no state");
	memmove(v + l.nst, v + l.nst + 8, 4);
	set32(v + 8, 1);
	set64(v + 12, n - 8);
	fix_crc(v, n - 8);
	cnn *a1 = load_bytes(v, n - 8);
	ok(a1 && same_blob(a, a1, 0) && same_blob(a, a1, 1) && same_predictions(a, a1, 1),
	   "a version 1 file loads, the same network: %s", a1 ? "" : err);
	free(v);
	v = slurp(path("v1bn.bin"), &n);
	drop_settings(v, &n);
	l = find_layout(v);
	memmove(v + l.nst, v + l.crc, 4);
	set32(v + 8, 1);
	set64(v + 12, l.nst + 4);
	fix_crc(v, l.nst + 4);
	refused(v, l.nst + 4, "a version 1 file cannot hold the state", "a version 1 file of a net with bn");
	free(v);
	cnn_free(a);
	cnn_free(a1);
	cnn_free(b);
}

static uint32_t f32bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

/* the velocities of a and b, bit for bit, and both of one kind */
static int same_velocity(cnn *a, cnn *b)
{
	long n;
	int ka, kb;
	float *va = cnn__velocity(a, &ka), *vb = cnn__velocity(b, &kb);
	cnn__params(a, 0, &n);
	return va && vb && ka == kb && memcmp(va, vb, sizeof *va * (size_t)n) == 0;
}

/* the same with everything beyond the tutorial: momentum (classical or
 * Nesterov's), the decoupled decay, label smoothing and the cosine
 * schedule; train 2k steps, or k, save, load, and k more */
static void test_resume_momentum(int threads, int nesterov)
{
	cnn_train_opts o;
	cnn_train_defaults(&o);
	o.batch = BATCH;
	o.momentum = 0.9f;
	o.nesterov = nesterov;
	o.decoupled_decay = 0.01f;
	o.smoothing = 0.1f;
	o.schedule = CNN_SCHED_COSINE;
	o.steps = 12;
	o.warmup = 0.25f;
	enum { K = 6 };
	uint32_t seed_data = rng;
	const char *how = nesterov ? "Nesterov's momentum" : "momentum";

	cnn *straight = small_net(4);
	train(straight, &o, 2 * K);

	rng = seed_data;
	cnn *first = small_net(4);
	train(first, &o, K);
	ok(cnn_save(first, path("momentum.bin"), err) == 0, "save after %d steps with %s", K, how);
	cnn *resumed = cnn_load(path("momentum.bin"), err);
	ok(resumed && same_velocity(first, resumed), "%s: the velocity loads as it was saved, and its kind",
	   how);
	cnn_free(first);
	if (!resumed)
		return;
	train(resumed, &o, K);
	ok(same_blob(straight, resumed, 0) && same_blob(straight, resumed, 1) &&
	   same_velocity(straight, resumed),
	   "%d thread(s), %s: %d steps = %d, save, load, %d: raw and averaged weights and velocity bit-identical",
	   threads, how, 2 * K, K, K);
	cnn_free(straight);
	cnn_free(resumed);
}

/* the optimiser fields and the velocity of a network trained with
 * momentum, decoded by hand; absurd ones refused */
static void test_layout_momentum(void)
{
	cnn_train_opts o;
	cnn_train_defaults(&o);
	o.batch = 3;
	o.momentum = 0.875f;
	cnn *a = small_net(1);
	float x[3 * C * H * W], loss;
	int y[3];
	batch(x, y, 3);
	for (int nesterov = 0; nesterov < 2; nesterov++) {
		o.nesterov = nesterov;
		int r = cnn_train_step(a, &o, x, y, 3, &loss, err);
		ok(r == 0, "a step with momentum%s%s", r ? ": " : "", r ? err : "");
		ok(cnn_save(a, path("layout2.bin"), err) == 0, "save it");
		size_t n;
		unsigned char *b = slurp(path("layout2.bin"), &n);
		layout l = find_layout(b);
		long np;
		cnn__params(a, 0, &np);
		ok(le32(b + 8) == 4 && le32(b + l.opt) == (uint32_t)(1 + nesterov) &&
		   le64(b + l.nstate) == (uint64_t)np, "version 4, optimiser %d (%s), %ld state values",
		   1 + nesterov, nesterov ? "Nesterov" : "momentum", np);
		float *v = cnn__velocity(a, NULL);
		int vok = v != NULL;
		for (long i = 0; vok && i < np; i++)
			vok &= le32(b + l.vel + 4 * i) == f32bits(v[i]);
		ok(vok, "the velocity after the averaged weights, float32 little-endian");
		ok(l.nst == l.vel + 4 * np && l.crc + 4 == n, "then batch norm's state and the CRC");
		if (!nesterov) {
			free(b);
			continue;
		}
		/* absurd optimiser fields under a good CRC */
		unsigned char *c = malloc(n);
		struct {
			size_t at;
			int bits;
			uint64_t v;
			const char *want, *what;
		} cases[] = {
			{l.opt, 32, 0, "unsupported optimiser 0 with", "optimiser 0 with state"},
			{l.opt, 32, 3, "unsupported optimiser 3", "optimiser 3"},
			{l.nstate, 64, (uint64_t)np - 1, "state values for", "a velocity short of one"},
			{l.nstate, 64, 1ULL << 62, "state values for", "a velocity of 2^62"},
			{8, 32, 3, "version 3 knows only plain SGD", "a velocity in a version 3 file"},
		};
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			memcpy(c, b, n);
			if (cases[i].bits == 32)
				set32(c + cases[i].at, (uint32_t)cases[i].v);
			else
				set64(c + cases[i].at, cases[i].v);
			fix_crc(c, n);
			refused(c, n, cases[i].want, cases[i].what);
		}
		memcpy(c, b, n);
		set32(c + l.vel + 8, 0x7fc00000u);
		fix_crc(c, n);
		refused(c, n, "optimiser state (velocity): value 2", "a NaN in the velocity");
		free(c);
		free(b);
	}
	/* a step without momentum drops the velocity: optimiser 0 again */
	o.momentum = 0;
	cnn_train_step(a, &o, x, y, 3, &loss, err);
	ok(cnn_save(a, path("layout3.bin"), err) == 0, "save after a step without momentum");
	size_t n;
	unsigned char *b = slurp(path("layout3.bin"), &n);
	layout l = find_layout(b);
	ok(le32(b + l.opt) == 0 && le64(b + l.nstate) == 0, "optimiser 0 with no state");
	free(b);
	cnn_free(a);
}

/* a version 3 file as facetrain wrote it before version 4, written here
 * field by field as cnnmodel(5) gives version 3, loads: weights, state,
 * step, strings, no velocity; saved again (as version 4) and loaded, it
 * is the same */
static void test_version3_by_hand(void)
{
	cnn *a = small_net(21);
	const char *spec = cnn_spec(a), *prep = "stored=40 crop=32 std=1 margin=1.25";
	const char *set = "lr=0.1 decay=0.1 decay_steps=35 batch=64 wd=0.004 ema=0.9999 seed=1";
	long np, ns;
	float *raw = cnn__params(a, 0, &np), *ema = cnn__params(a, 1, &np);
	float *st = cnn__state(a, 0, &ns), *ste = cnn__state(a, 1, &ns);
	for (long i = 0; i < ns; i++)	/* state that is not the new net's */
		st[i] = 0.5f + i, ste[i] = 0.25f + i;
	size_t n = 20 + 16 + 16 + 4 + strlen(spec) + 4 + strlen(prep) + 4 + strlen(set) + 4 + 5 * NCL +
		   4 + 8 + 8 + 8 * np + 8 + 8 * ns + 4;
	unsigned char *b = calloc(1, n), *p = b;
	static const unsigned char mg[8] = {0x89, 'C', 'N', 'N', 0x0d, 0x0a, 0x1a, 0x0a};
	memcpy(p, mg, 8), p += 8;
	set32(p, 3), p += 4;
	set64(p, n), p += 8;
	set32(p, C), set32(p + 4, H), set32(p + 8, W), set32(p + 12, NCL), p += 16;
	set64(p, 21), set64(p + 8, 700), p += 16;
	set32(p, (uint32_t)strlen(spec)), memcpy(p + 4, spec, strlen(spec)), p += 4 + strlen(spec);
	set32(p, (uint32_t)strlen(prep)), memcpy(p + 4, prep, strlen(prep)), p += 4 + strlen(prep);
	set32(p, (uint32_t)strlen(set)), memcpy(p + 4, set, strlen(set)), p += 4 + strlen(set);
	set32(p, NCL), p += 4;
	for (int i = 0; i < NCL; i++)
		set32(p, 1), p[4] = (unsigned char)('a' + i), p += 5;
	set32(p, 0), set64(p + 4, 0), set64(p + 12, (uint64_t)np), p += 20;
	for (long i = 0; i < np; i++)
		set32(p + 4 * i, f32bits(raw[i])), set32(p + 4 * (np + i), f32bits(ema[i]));
	p += 8 * np;
	set64(p, (uint64_t)ns), p += 8;
	for (long i = 0; i < ns; i++)
		set32(p + 4 * i, f32bits(st[i])), set32(p + 4 * (ns + i), f32bits(ste[i]));
	p += 8 * ns;
	ok((size_t)(p + 4 - b) == n, "version 3 file by hand: %zu bytes", n);
	fix_crc(b, n);
	cnn *v3 = load_bytes(b, n);
	ok(v3 && same_blob(a, v3, 0) && same_blob(a, v3, 1) && cnn_step_count(v3) == 700 &&
	   !strcmp(cnn_prep(v3), prep) && !strcmp(cnn_train_settings(v3), set) &&
	   !strcmp(cnn_class_name(v3, 2), "c") && !cnn__velocity(v3, NULL),
	   "a version 3 file loads: %s", v3 ? "weights, state, step, strings, names, no velocity" : err);
	if (v3) {
		char *again;
		size_t na = 0;
		FILE *f = open_memstream(&again, &na);
		ok(f && cnn_fsave(v3, f, err) == 0 && fclose(f) == 0, "save it again");
		cnn *v4 = load_bytes((unsigned char *)again, na);
		ok(v4 && le32((unsigned char *)again + 8) == 4 && same_blob(v3, v4, 0) &&
		   same_blob(v3, v4, 1) && cnn_step_count(v4) == 700 &&
		   !strcmp(cnn_train_settings(v4), set) && !cnn__velocity(v4, NULL),
		   "saved again it is a version 4 file of the same network");
		cnn_free(v4);
		free(again);
	}
	free(b);
	cnn_free(v3);
	cnn_free(a);
}

static void test_corrupt(void)
{
	cnn *a = small_net(5);
	char *names[NCL] = {"a", "b", "c"};
	cnn_set_class_names(a, names, NCL, err);
	ok(cnn_save(a, path("good.bin"), err) == 0, "save a model to corrupt");
	size_t n;
	unsigned char *good = slurp(path("good.bin"), &n), *b = malloc(n);
	layout l = find_layout(good);

	/* truncated at every length */
	int all = 1, k_bad = -1;	/* -1: none missed */
	for (size_t k = 0; k < n; k++) {
		cnn *net = load_bytes(good, k);
		const char *want = k == 0 ? "empty" : "truncated";
		if (net || !strstr(err, want)) {
			all = 0;
			k_bad = (int)k;
		}
		cnn_free(net);
	}
	ok(all, "every truncation (0 to %zu bytes) is refused as empty or truncated (first miss: %d)",
	   n - 1, k_bad);
	cnn *empty = cnn_load(path("none.bin"), err);
	ok(!empty && strstr(err, "none.bin"), "missing file: %s", err);
	FILE *e = fopen(path("empty.bin"), "wb");
	fclose(e);
	empty = cnn_load(path("empty.bin"), err);
	ok(!empty && strstr(err, "empty.bin") && strstr(err, "empty file"), "empty file: %s", err);

	/* every byte flipped: past the header it is a CRC mismatch */
	all = 1, k_bad = -1;
	for (size_t k = 0; k < n; k++) {
		memcpy(b, good, n);
		b[k] ^= 0x5a;
		cnn *net = load_bytes(b, n);
		const char *want = k < 8 ? "bad magic" : k < 12 ? "version" : k < 20 ? "" : "CRC mismatch";
		if (net || !strstr(err, want)) {
			all = 0;
			k_bad = (int)k;
		}
		cnn_free(net);
	}
	ok(all, "every flipped byte is refused, past byte 20 as a CRC mismatch (first miss: %d)", k_bad);

	memcpy(b, good, n);
	memcpy(b, "P6\n32 32", 8);
	refused(b, n, "bad magic 50 36 0a", "a PPM header");
	memcpy(b, good, n);
	set32(b + 8, 5);
	fix_crc(b, n);
	refused(b, n, "unsupported format version 5", "version 5");
	set32(b + 8, 0);
	fix_crc(b, n);
	refused(b, n, "unsupported format version 0", "version 0");
	memcpy(b, good, n);
	set64(b + l.nst, 7);
	fix_crc(b, n);
	refused(b, n, "state count 7 does not match the spec's 8", "a state count that is not the spec's");
	memcpy(b, good, n);
	set64(b + 12, 1ULL << 50);
	refused(b, n, "absurd file length", "length 2^50");
	memcpy(b, good, n);
	set64(b + 12, 40);
	refused(b, n, "absurd file length 40", "length 40");
	memcpy(b, good, n);
	set64(b + 12, 1ULL << 36);
	refused(b, n, "truncated", "length 64 GiB (not allocated, the file ends first)");

	/* absurd fields under a good CRC */
	struct {
		size_t at;
		int bits;
		uint64_t v;
		const char *want, *what;
	} cases[] = {
		{20, 32, 0, "absurd input shape 0x8x8", "0 channels"},
		{24, 32, 1u << 30, "absurd input shape", "height 2^30"},
		{28, 32, 70000, "absurd input shape", "width 70000"},
		{32, 32, 0, "absurd class count 0", "0 classes"},
		{32, 32, 0xffffffffu, "absurd class count 4294967295", "2^32-1 classes"},
		{32, 32, 4, "3 class names for 4 classes", "names not matching the class count"},
		{44, 64, 1ULL << 63, "absurd training step", "step 2^63"},
		{52, 32, 0xffffffffu, "network spec", "spec length 2^32-1"},
		{52, 32, 5000, "network spec", "spec length past the end"},
		{l.prep, 32, 1u << 20, "preprocessing string", "prep length 2^20"},
		{l.settings, 32, 1u << 20, "training settings", "settings length 2^20"},
		{l.names, 32, 1, "1 class names for 3 classes", "one name for three classes"},
		{l.names + 4, 32, 1u << 20, "class name", "name length 2^20"},
		{l.opt, 32, 1, "unsupported optimiser 1", "optimiser 1"},
		{l.nstate, 64, 3, "unsupported optimiser 0 with 3", "optimiser state for SGD"},
		{l.nparams, 64, 1ULL << 62, "parameter count", "parameter count 2^62"},
		{l.nparams, 64, 0, "parameter count 0", "parameter count 0"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(b, good, n);
		if (cases[i].bits == 32)
			set32(b + cases[i].at, (uint32_t)cases[i].v);
		else
			set64(b + cases[i].at, cases[i].v);
		fix_crc(b, n);
		refused(b, n, cases[i].want, cases[i].what);
	}

	/* a NUL inside the spec; a spec the core rejects; one that builds a
	 * different number of parameters (same length: "fc 6" -> "fc 7") */
	char *fc = NULL;
	memcpy(b, good, n);
	b[l.spec + 5] = 0;
	fix_crc(b, n);
	refused(b, n, "NUL", "NUL in the spec");
	memcpy(b, good, n);
	memcpy(b + l.spec + 4, "zzzz", 4);
	fix_crc(b, n);
	refused(b, n, "cannot rebuild the network", "a spec the core rejects");
	memcpy(b, good, n);
	for (size_t i = l.spec + 4; i + 4 < l.prep; i++)
		if (memcmp(b + i, "fc 6", 4) == 0)
			fc = (char *)b + i;
	ok(fc != NULL, "spec holds \"fc 6\"");
	if (fc) {
		fc[3] = '7';
		fix_crc(b, n);
		refused(b, n, "does not match the spec", "a spec with more parameters");
	}

	/* non-finite weights */
	float bad[] = {NAN, INFINITY, -INFINITY};
	size_t at[] = {l.raw, l.ema + 4 * 3, l.nst - 4};
	for (int i = 0; i < 3; i++) {
		uint32_t u;
		memcpy(&u, &bad[i], 4);
		memcpy(b, good, n);
		set32(b + at[i], u);
		fix_crc(b, n);
		refused(b, n, i == 0 ? "raw weights" : "averaged weights", i == 0 ? "a NaN raw weight" : "an infinite averaged weight");
		memcpy(b, good, n);
		set32(b + (i ? l.crc - 4 : l.st), u);
		fix_crc(b, n);
		refused(b, n, i ? "averaged state" : "raw state", i ? "a non-finite averaged state value" : "a NaN raw state value");
	}
	free(good);
	free(b);
	cnn_free(a);
}

static void test_failed_saves(void)
{
	cnn *a = small_net(9);
	ok(cnn_save(a, "/nonexistent-dir/x/model.bin", err) == -1 && strstr(err, "/nonexistent-dir/x/model.bin"),
	   "save into a missing directory fails: %s", err);
	ok(cnn_save(a, path("good.bin/model.bin"), err) == -1, "save under a regular file fails: %s", err);

	/* root writes anywhere, so a read-only directory only stops others */
	mkdir(path("ro"), 0555);
	if (geteuid() == 0)
		ok(1, "save into a read-only directory fails # SKIP running as root");
	else
		ok(cnn_save(a, path("ro/model.bin"), err) == -1 && strstr(err, "Permission denied"),
		   "save into a read-only directory fails: %s", err);

	FILE *f = fopen("/dev/full", "wb");
	ok(f && cnn_fsave(a, f, err) == -1 && strstr(err, "write failed"), "fsave to /dev/full fails: %s", err);
	if (f)
		fclose(f);

	/* a full disk, as a file size limit: the old file stays, no temp file */
	cnn *old = small_net(10);
	ok(cnn_save(old, path("keep.bin"), err) == 0, "save a model to overwrite");
	struct rlimit lim, small = {2000, 0};
	getrlimit(RLIMIT_FSIZE, &lim);
	small.rlim_max = lim.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &small);
	int rc = cnn_save(a, path("keep.bin"), err);
	setrlimit(RLIMIT_FSIZE, &lim);
	ok(rc == -1 && strstr(err, "keep.bin"), "save past a 2000-byte file size limit fails: %s", err);
	ok(no_temp_files(), "no temporary file left behind");
	cnn *kept = cnn_load(path("keep.bin"), err);
	ok(kept && same_blob(kept, old, 0), "the old file is untouched");

	/* a written file gets the mode open() would give it */
	mode_t um = umask(022);
	ok(cnn_save(a, path("mode.bin"), err) == 0, "save with umask 022");
	struct stat st = {0};
	stat(path("mode.bin"), &st);
	ok((st.st_mode & 0777) == 0644, "mode %o", (unsigned)(st.st_mode & 0777));
	umask(um);
	cnn_free(a);
	cnn_free(old);
	cnn_free(kept);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_round_trip();
	cnn_set_threads(1);
	test_resume(1);
	cnn_set_threads(2);
	test_resume(2);
	for (int nesterov = 0; nesterov < 2; nesterov++) {
		cnn_set_threads(1);
		test_resume_momentum(1, nesterov);
		cnn_set_threads(2);
		test_resume_momentum(2, nesterov);
	}
	cnn_set_threads(1);
	test_layout();
	test_layout_momentum();
	test_corrupt();
	test_version1();
	test_version2();
	test_version3_by_hand();
	test_failed_saves();
	remove_tree(dir);
	return done_testing();
}

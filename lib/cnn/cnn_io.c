/* cnn_io.c — the model file (cnnmodel(5)): save and load a network with its
 * class names, preprocessing and training settings, raw and averaged
 * weights, optimiser state (the velocity of momentum), raw and averaged
 * state (batch norm's running statistics) and training step.  Version 2
 * is version 1 with the state after the weights, version 3 is version 2
 * with the training settings after the preprocessing string, version 4
 * is version 3 with optimisers that have state (momentum, Nesterov's
 * momentum: one velocity a parameter, in the slot version 1 kept for
 * it); all four load.
 *
 * The whole file is built in memory and written at once; a reader takes
 * the whole file in (its length is in the header, and the buffer only
 * grows as bytes actually arrive), checks the CRC-32, then decodes and
 * checks every field.  So a flipped byte is reported as a CRC mismatch
 * rather than as whatever nonsense it turned a field into, and a
 * well-formed CRC does not stop the field checks.  Every number is
 * little-endian, written byte by byte. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cnn_impl.h"
#include "le.h"
#include "outfile.h"

static const unsigned char magic[8] = {0x89, 'C', 'N', 'N', '\r', '\n', 0x1a, '\n'};

enum {
	VERSION = 4,
	HEADLEN = 20,          /* magic, version, file length */
	OPT_SGD = 0,           /* plain SGD: the step count is its whole state */
	OPT_MOMENTUM = 1,      /* SGD with momentum: one velocity a parameter */
	OPT_NESTEROV = 2,      /* the same with Nesterov's momentum (version 4) */
	MAX_DIM = 65536,       /* c, h, w each */
	MAX_CLASS = 1 << 20,
	MAX_SPEC = 65536,      /* spec and prep text, bytes */
	MAX_NAME = 4096,       /* one class name, bytes */
};
#define MAX_PIXELS (1L << 28)     /* c*h*w, floats */
#define MAX_FILE (1ULL << 40)    /* bytes */

static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, CNN_ERRLEN, fmt, ap);
	va_end(ap);
}

/* ---- encoding ---- */

typedef struct {
	unsigned char *p;
	size_t n, cap;
} buf;

static void put_u32(buf *b, uint32_t v)
{
	le32_put(b->p + b->n, v);
	b->n += 4;
}

static void put_u64(buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_str(buf *b, const char *s)
{
	size_t len = strlen(s);
	put_u32(b, (uint32_t)len);
	memcpy(b->p + b->n, s, len);
	b->n += len;
}

static void put_floats(buf *b, const float *x, long n)
{
	for (long i = 0; i < n; i++) {
		uint32_t u;
		memcpy(&u, &x[i], 4);
		put_u32(b, u);
	}
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

int cnn_fsave(const cnn *net, FILE *f, char *err)
{
	/* the accessors take a non-const net to hand out writable blobs;
	 * here they are only read */
	cnn *mut = (cnn *)net;
	long np, np_ema, ns, ns_ema;
	const float *raw = cnn__params(mut, 0, &np);
	const float *ema = cnn__params(mut, 1, &np_ema);
	const float *st = cnn__state(mut, 0, &ns);
	const float *st_ema = cnn__state(mut, 1, &ns_ema);
	int c, h, w, ncl = cnn_nclass(net);
	const char *spec = nz(cnn_spec(net)), *prep = nz(cnn_prep(net));
	const char *settings = nz(cnn_train_settings(net));
	int nnames = cnn_class_name(net, 0) ? ncl : 0, nesterov;
	long step = cnn_step_count(net);
	const float *vel = cnn__velocity(net, &nesterov);
	long nvel = vel ? np : 0;

	cnn_input_shape(net, &c, &h, &w);
	if (np != np_ema || np != cnn_nparams(net) || step < 0 ||
	    ns != ns_ema) {
		seterr(err, "inconsistent network: %ld raw and %ld averaged weights, %ld parameters, step %ld",
		       np, np_ema, cnn_nparams(net), step);
		return -1;
	}
	if (strlen(spec) > MAX_SPEC || strlen(prep) > MAX_SPEC || strlen(settings) > MAX_SPEC) {
		seterr(err, "spec (%zu bytes), preprocessing (%zu) or training settings (%zu) longer than %d bytes",
		       strlen(spec), strlen(prep), strlen(settings), MAX_SPEC);
		return -1;
	}
	size_t len = HEADLEN + 4 * 4 + 8 + 8 + 4 + strlen(spec) + 4 + strlen(prep) +
		     4 + strlen(settings) + 4;
	for (int i = 0; i < nnames; i++) {
		size_t nl = strlen(nz(cnn_class_name(net, i)));
		if (nl > MAX_NAME) {
			seterr(err, "class name %d is %zu bytes long, the most is %d", i, nl, MAX_NAME);
			return -1;
		}
		len += 4 + nl;
	}
	len += 4 + 8 + 8 + 2 * 4 * (size_t)np + 4 * (size_t)nvel + 8 + 2 * 4 * (size_t)ns + 4;

	buf b = {malloc(len), 0, len};
	if (!b.p) {
		seterr(err, "out of memory for a %zu-byte model file", len);
		return -1;
	}
	memcpy(b.p, magic, 8);
	b.n = 8;
	put_u32(&b, VERSION);
	put_u64(&b, len);
	put_u32(&b, (uint32_t)c);
	put_u32(&b, (uint32_t)h);
	put_u32(&b, (uint32_t)w);
	put_u32(&b, (uint32_t)ncl);
	put_u64(&b, cnn__seed(net));
	put_u64(&b, (uint64_t)step);
	put_str(&b, spec);
	put_str(&b, prep);
	put_str(&b, settings);
	put_u32(&b, (uint32_t)nnames);
	for (int i = 0; i < nnames; i++)
		put_str(&b, nz(cnn_class_name(net, i)));
	put_u32(&b, !vel ? OPT_SGD : nesterov ? OPT_NESTEROV : OPT_MOMENTUM);
	put_u64(&b, (uint64_t)nvel);    /* optimiser state, floats */
	put_u64(&b, (uint64_t)np);
	put_floats(&b, raw, np);
	put_floats(&b, ema, np);
	put_floats(&b, vel, nvel);
	put_u64(&b, (uint64_t)ns);
	put_floats(&b, st, ns);
	put_floats(&b, st_ema, ns);
	put_u32(&b, (uint32_t)crc32_z(0L, b.p, b.n));

	int rc = 0;
	if (fwrite(b.p, 1, b.n, f) != b.n || fflush(f) != 0 || ferror(f)) {
		seterr(err, "write failed: %s", strerror(errno));
		rc = -1;
	}
	free(b.p);
	return rc;
}

int cnn_save(const cnn *net, const char *path, char *err)
{
	char why[FK_OUT_ERRLEN];
	fk_outfile o;

	if (fk_out_open(&o, path, why) != 0) {
		seterr(err, "%s", why);
		return -1;
	}
	if (cnn_fsave(net, o.f, why) != 0) {
		seterr(err, "%s: %s", path, why);
		fk_out_abort(&o);
		return -1;
	}
	if (fk_out_commit(&o, why) != 0) {
		seterr(err, "%s", why);
		return -1;
	}
	return 0;
}

/* ---- decoding ---- */

typedef struct {
	const unsigned char *p;
	size_t n, at;
	char *err;
} rd;

/* 0 if n more bytes are there, else -1 with "truncated" naming the field */
static int need(rd *r, size_t n, const char *what)
{
	if (n > r->n - r->at) {
		seterr(r->err, "%s at byte %zu needs %zu bytes but only %zu are left",
		       what, r->at, n, r->n - r->at);
		return -1;
	}
	return 0;
}

static uint64_t u64at(const unsigned char *p)
{
	return (uint64_t)le32_get(p) | (uint64_t)le32_get(p + 4) << 32;
}

static int get_u32(rd *r, uint32_t *v, const char *what)
{
	if (need(r, 4, what))
		return -1;
	*v = le32_get(r->p + r->at);
	r->at += 4;
	return 0;
}

static int get_u64(rd *r, uint64_t *v, const char *what)
{
	if (need(r, 8, what))
		return -1;
	*v = u64at(r->p + r->at);
	r->at += 8;
	return 0;
}

/* a length-prefixed string of at most max bytes, without NULs; *s points
 * into a fresh NUL-terminated copy */
static int get_str(rd *r, char **s, size_t max, const char *what)
{
	uint32_t len;
	if (get_u32(r, &len, what))
		return -1;
	if (len > max) {
		seterr(r->err, "%s at byte %zu is %lu bytes long, the most is %zu",
		       what, r->at - 4, (unsigned long)len, max);
		return -1;
	}
	if (need(r, len, what))
		return -1;
	if (memchr(r->p + r->at, 0, len)) {
		seterr(r->err, "%s at byte %zu contains a NUL byte", what, r->at);
		return -1;
	}
	if (!(*s = malloc(len + 1))) {
		seterr(r->err, "out of memory for %s", what);
		return -1;
	}
	memcpy(*s, r->p + r->at, len);
	(*s)[len] = 0;
	r->at += len;
	return 0;
}

/* n floats into x, each checked to be finite */
static int get_floats(rd *r, float *x, long n, const char *what)
{
	if (need(r, 4 * (size_t)n, what))
		return -1;
	for (long i = 0; i < n; i++) {
		uint32_t u = le32_get(r->p + r->at + 4 * (size_t)i);
		memcpy(&x[i], &u, 4);
		if (!isfinite(x[i])) {
			seterr(r->err, "%s: value %ld of %ld is %g", what, i, n, x[i]);
			return -1;
		}
	}
	r->at += 4 * (size_t)n;
	return 0;
}

/* read exactly n bytes of f into a buffer that grows only as data
 * arrives, so a corrupt length cannot make us allocate what is not there */
static unsigned char *slurp(FILE *f, const unsigned char *head, size_t n,
			    char *err)
{
	size_t cap = 1 << 16, got = HEADLEN;
	unsigned char *p = malloc(cap);
	if (!p) {
		seterr(err, "out of memory");
		return NULL;
	}
	memcpy(p, head, HEADLEN);
	while (got < n) {
		if (got == cap) {
			size_t nc = cap * 2 < n ? cap * 2 : n;
			unsigned char *q = realloc(p, nc);
			if (!q) {
				seterr(err, "out of memory for a %zu-byte model file", n);
				free(p);
				return NULL;
			}
			p = q;
			cap = nc;
		}
		size_t want = (cap < n ? cap : n) - got;
		size_t k = fread(p + got, 1, want, f);
		got += k;
		if (k < want) {
			if (ferror(f))
				seterr(err, "read failed at byte %zu: %s", got, strerror(errno));
			else
				seterr(err, "truncated: the file ends at byte %zu of the %zu its header declares",
				       got, n);
			free(p);
			return NULL;
		}
	}
	return p;
}

typedef struct {
	uint32_t version, c, h, w, nclass, nnames, opt;
	uint64_t seed, step, nstate, nparams;
	char *spec, *prep, *settings, **names;
} header;

static void header_free(header *hd)
{
	free(hd->spec);
	free(hd->prep);
	free(hd->settings);
	if (hd->names)
		for (uint32_t i = 0; i < hd->nnames; i++)
			free(hd->names[i]);
	free(hd->names);
}

/* everything before the weights, each field checked */
static int get_header(rd *r, header *hd)
{
	if (get_u32(r, &hd->c, "channel count") || get_u32(r, &hd->h, "input height") ||
	    get_u32(r, &hd->w, "input width") || get_u32(r, &hd->nclass, "class count") ||
	    get_u64(r, &hd->seed, "seed") || get_u64(r, &hd->step, "training step"))
		return -1;
	if (hd->c < 1 || hd->c > MAX_DIM || hd->h < 1 || hd->h > MAX_DIM ||
	    hd->w < 1 || hd->w > MAX_DIM || (uint64_t)hd->c * hd->h * hd->w > MAX_PIXELS) {
		seterr(r->err, "absurd input shape %lux%lux%lu (channels x height x width)",
		       (unsigned long)hd->c, (unsigned long)hd->h, (unsigned long)hd->w);
		return -1;
	}
	if (hd->nclass < 1 || hd->nclass > MAX_CLASS) {
		seterr(r->err, "absurd class count %lu (1 to %d)", (unsigned long)hd->nclass, MAX_CLASS);
		return -1;
	}
	if (hd->step > LONG_MAX) {
		seterr(r->err, "absurd training step %llu", (unsigned long long)hd->step);
		return -1;
	}
	if (get_str(r, &hd->spec, MAX_SPEC, "network spec") ||
	    get_str(r, &hd->prep, MAX_SPEC, "preprocessing string") ||
	    (hd->version >= 3 && get_str(r, &hd->settings, MAX_SPEC, "training settings")) ||
	    get_u32(r, &hd->nnames, "class name count"))
		return -1;
	if (hd->nnames != 0 && hd->nnames != hd->nclass) {
		seterr(r->err, "%lu class names for %lu classes (must be 0 or equal)",
		       (unsigned long)hd->nnames, (unsigned long)hd->nclass);
		return -1;
	}
	if (hd->nnames && !(hd->names = calloc(hd->nnames, sizeof *hd->names))) {
		seterr(r->err, "out of memory for %lu class names", (unsigned long)hd->nnames);
		return -1;
	}
	for (uint32_t i = 0; i < hd->nnames; i++)
		if (get_str(r, &hd->names[i], MAX_NAME, "class name"))
			return -1;
	if (get_u32(r, &hd->opt, "optimiser") || get_u64(r, &hd->nstate, "optimiser state size") ||
	    get_u64(r, &hd->nparams, "parameter count"))
		return -1;
	if (hd->version < 4 && (hd->opt != OPT_SGD || hd->nstate != 0)) {
		seterr(r->err, "unsupported optimiser %lu with %llu state values (version %lu knows only plain SGD, 0, with none)",
		       (unsigned long)hd->opt, (unsigned long long)hd->nstate, (unsigned long)hd->version);
		return -1;
	}
	if (!(hd->opt == OPT_SGD && hd->nstate == 0) &&
	    !((hd->opt == OPT_MOMENTUM || hd->opt == OPT_NESTEROV) && hd->nstate == hd->nparams)) {
		seterr(r->err, "unsupported optimiser %lu with %llu state values for %llu parameters (plain SGD, 0, has none; momentum, 1, and Nesterov's, 2, one a parameter)",
		       (unsigned long)hd->opt, (unsigned long long)hd->nstate,
		       (unsigned long long)hd->nparams);
		return -1;
	}
	/* the rest is exactly two weight blobs, the optimiser state, from
	 * version 2 the state's count and its two blobs, and the CRC */
	size_t left = r->n - r->at, more = hd->version >= 2 ? 8 : 0;
	uint64_t per = hd->nstate ? 12 : 8;
	if (left < 4 + more || hd->nparams > (left - 4 - more) / per ||
	    (hd->version < 2 && 8 * hd->nparams + 4 != left)) {
		seterr(r->err, "parameter count %llu does not fit the %zu bytes left in the file",
		       (unsigned long long)hd->nparams, left);
		return -1;
	}
	return 0;
}

cnn *cnn_fload(FILE *f, char *err)
{
	unsigned char head[HEADLEN];
	size_t k = fread(head, 1, HEADLEN, f);
	if (k < HEADLEN) {
		if (ferror(f))
			seterr(err, "read failed: %s", strerror(errno));
		else if (k == 0)
			seterr(err, "empty file, not a cnnmodel");
		else
			seterr(err, "truncated: %zu bytes, shorter than the %d-byte header", k, HEADLEN);
		return NULL;
	}
	if (memcmp(head, magic, 8) != 0) {
		seterr(err, "bad magic %02x %02x %02x %02x %02x %02x %02x %02x, not a cnnmodel (89 43 4e 4e 0d 0a 1a 0a)",
		       head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7]);
		return NULL;
	}
	uint32_t version = le32_get(head + 8);
	if (version < 1 || version > VERSION) {
		seterr(err, "unsupported format version %lu (this libcnn reads versions 1 to %d)",
		       (unsigned long)version, VERSION);
		return NULL;
	}
	uint64_t len = u64at(head + 12);
	/* the smallest file: header, fixed fields, no strings, no weights, CRC */
	if (len < HEADLEN + 16 + 16 + 12 + 20 + 4 || len > MAX_FILE || len > SIZE_MAX) {
		seterr(err, "absurd file length %llu in the header", (unsigned long long)len);
		return NULL;
	}
	unsigned char *p = slurp(f, head, (size_t)len, err);
	if (!p)
		return NULL;
	uint32_t stored = le32_get(p + len - 4);
	uint32_t crc = (uint32_t)crc32_z(0L, p, (size_t)len - 4);
	if (stored != crc) {
		seterr(err, "CRC mismatch: stored %08lx, computed %08lx (corrupt file)",
		       (unsigned long)stored, (unsigned long)crc);
		free(p);
		return NULL;
	}

	rd r = {p, (size_t)len, HEADLEN, err};
	header hd = {0};
	hd.version = version;
	cnn *net = NULL;
	if (get_header(&r, &hd))
		goto fail;
	char why[CNN_ERRLEN];
	/* the spec's count first: the file's count is bounded by its length,
	 * the spec's is not, and building the network allocates it */
	long np = cnn__spec_nparams(hd.spec, (int)hd.c, (int)hd.h, (int)hd.w,
				    (int)hd.nclass, why);
	if (np < 0) {
		seterr(err, "cannot rebuild the network: %s", why);
		goto fail;
	}
	if (np != (long)hd.nparams) {
		seterr(err, "parameter count %llu does not match the spec \"%s\" for %lux%lux%lu inputs (%ld)",
		       (unsigned long long)hd.nparams, hd.spec, (unsigned long)hd.c,
		       (unsigned long)hd.h, (unsigned long)hd.w, np);
		goto fail;
	}
	net = cnn_new(hd.spec, (int)hd.c, (int)hd.h, (int)hd.w, (int)hd.nclass, hd.seed, why);
	if (!net) {
		seterr(err, "cannot rebuild the network: %s", why);
		goto fail;
	}
	long n;
	float *raw = cnn__params(net, 0, &n), *ema = cnn__params(net, 1, &n);
	if (get_floats(&r, raw, n, "raw weights") || get_floats(&r, ema, n, "averaged weights"))
		goto fail;
	if (hd.nstate) {
		float *vel = cnn__set_velocity(net, hd.opt == OPT_NESTEROV);
		if (!vel) {
			seterr(err, "out of memory for the optimiser state");
			goto fail;
		}
		if (get_floats(&r, vel, n, "optimiser state (velocity)"))
			goto fail;
	}
	float *st = cnn__state(net, 0, &n), *st_ema = cnn__state(net, 1, &n);
	if (version >= 2) {
		uint64_t ns;
		if (get_u64(&r, &ns, "state count"))
			goto fail;
		if (ns != (uint64_t)n || 8 * ns + 4 != r.n - r.at) {
			seterr(err, "state count %llu does not match the spec's %ld or the %zu bytes left in the file",
			       (unsigned long long)ns, n, r.n - r.at);
			goto fail;
		}
		if (get_floats(&r, st, n, "raw state") || get_floats(&r, st_ema, n, "averaged state"))
			goto fail;
	} else if (n) {
		seterr(err, "a version 1 file cannot hold the state (running statistics) the spec \"%s\" needs",
		       hd.spec);
		goto fail;
	}
	cnn__set_step(net, (long)hd.step);
	if (hd.nnames && cnn_set_class_names(net, hd.names, (int)hd.nnames, why) != 0) {
		seterr(err, "class names: %s", why);
		goto fail;
	}
	if (hd.prep[0] && cnn_set_prep(net, hd.prep, why) != 0) {
		seterr(err, "preprocessing string: %s", why);
		goto fail;
	}
	if (hd.settings && hd.settings[0] &&
	    cnn_set_train_settings(net, hd.settings, why) != 0) {
		seterr(err, "training settings: %s", why);
		goto fail;
	}
	header_free(&hd);
	free(p);
	return net;
fail:
	cnn_free(net);
	header_free(&hd);
	free(p);
	return NULL;
}

cnn *cnn_load(const char *path, char *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		seterr(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char why[CNN_ERRLEN];
	cnn *net = cnn_fload(f, why);
	if (net && getc(f) != EOF) {
		snprintf(why, sizeof why, "trailing data after the model");
		cnn_free(net);
		net = NULL;
	}
	fclose(f);
	if (!net)
		seterr(err, "%s: %s", path, why);
	return net;
}

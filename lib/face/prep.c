/* prep.c — training distortions and per-image standardisation, after the
 * TensorFlow CIFAR-10 tutorial's cifar10_input.py. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "prep.h"

void fk_prep_defaults(fk_prep *p, int side)
{
	p->stored = p->crop = side;
	p->std = 1;
	p->flip = 1;
	p->bright = 63;
	p->con_lo = 0.2f;
	p->con_hi = 1.8f;
	p->margin = FK_PREP_MARGIN;
}

int fk_prep_check(const fk_prep *p, char *err)
{
	if (p->stored < 1 || p->stored > 4096) {
		snprintf(err, FK_ERRLEN, "stored size %d is outside 1..4096", p->stored);
		return -1;
	}
	if (p->crop < 1 || p->crop > p->stored) {
		snprintf(err, FK_ERRLEN, "crop size %d is outside 1..%d (the stored size)",
			 p->crop, p->stored);
		return -1;
	}
	if (!(p->bright >= 0 && p->bright <= 255)) {
		snprintf(err, FK_ERRLEN, "brightness delta %g is outside 0..255", p->bright);
		return -1;
	}
	if (!(p->con_lo > 0 && p->con_lo <= p->con_hi && p->con_hi <= 100)) {
		snprintf(err, FK_ERRLEN,
			 "contrast range %g,%g is not 0 < low <= high <= 100",
			 p->con_lo, p->con_hi);
		return -1;
	}
	if (!(p->margin > 0 && p->margin <= 1000)) {
		snprintf(err, FK_ERRLEN, "crop margin %g is outside 0..1000", p->margin);
		return -1;
	}
	return 0;
}

void fk_prep_format(const fk_prep *p, char *buf)
{
	snprintf(buf, FK_PREP_LEN,
		 "stored=%d crop=%d std=%d flip=%d bright=%g contrast=%g,%g margin=%g",
		 p->stored, p->crop, p->std, p->flip, p->bright, p->con_lo,
		 p->con_hi, p->margin);
}

static int parse_int(const char *v, int *out)
{
	char *end;
	long x = strtol(v, &end, 10);

	if (end == v || *end || x < 0 || x > 1000000)
		return -1;
	*out = (int)x;
	return 0;
}

static int parse_float(const char *v, float *out, char stop)
{
	char *end;
	double x = strtod(v, &end);

	if (end == v || *end != stop || !isfinite(x))
		return -1;
	*out = (float)x;
	return 0;
}

int fk_prep_parse(fk_prep *p, const char *text, char *err)
{
	char buf[FK_PREP_LEN], *save = NULL;

	fk_prep_defaults(p, 32);
	if (!text || strlen(text) >= sizeof buf) {
		snprintf(err, FK_ERRLEN, "preprocessing settings missing or too long");
		return -1;
	}
	strcpy(buf, text);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char *v = strchr(t, '=');
		int bad;
		if (!v) {
			snprintf(err, FK_ERRLEN, "preprocessing setting \"%s\" is not key=value", t);
			return -1;
		}
		*v++ = '\0';
		if (!strcmp(t, "stored"))
			bad = parse_int(v, &p->stored);
		else if (!strcmp(t, "crop"))
			bad = parse_int(v, &p->crop);
		else if (!strcmp(t, "std"))
			bad = parse_int(v, &p->std) || p->std > 1;
		else if (!strcmp(t, "flip"))
			bad = parse_int(v, &p->flip) || p->flip > 1;
		else if (!strcmp(t, "bright"))
			bad = parse_float(v, &p->bright, '\0');
		else if (!strcmp(t, "margin"))
			bad = parse_float(v, &p->margin, '\0');
		else if (!strcmp(t, "contrast")) {
			char *c = strchr(v, ',');
			bad = !c || parse_float(v, &p->con_lo, ',') ||
			      parse_float(c + 1, &p->con_hi, '\0');
		} else {
			snprintf(err, FK_ERRLEN, "unknown preprocessing setting \"%s\"", t);
			return -1;
		}
		if (bad) {
			snprintf(err, FK_ERRLEN, "bad value \"%s\" for preprocessing setting %s",
				 v, t);
			return -1;
		}
	}
	return fk_prep_check(p, err);
}

/* (x - mean) / max(stddev, 1/sqrt(n)) over all n values, or x/255 */
static void standardise(const fk_prep *p, float *x, size_t n)
{
	double sum = 0, sq = 0, mean, sd;

	if (!p->std) {
		for (size_t i = 0; i < n; i++)
			x[i] /= 255;
		return;
	}
	for (size_t i = 0; i < n; i++)
		sum += x[i];
	mean = sum / n;
	for (size_t i = 0; i < n; i++)
		sq += (x[i] - mean) * (x[i] - mean);
	sd = sqrt(sq / n);
	if (sd < 1 / sqrt((double)n))
		sd = 1 / sqrt((double)n);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)((x[i] - mean) / sd);
}

/* the crop x crop window at (ox, oy) of a side x side image, mirrored if
 * flip, plus delta */
static void cut(const unsigned char *planes, int side, int crop, int ox,
		int oy, int flip, float delta, float *out)
{
	for (int c = 0; c < 3; c++)
		for (int y = 0; y < crop; y++) {
			const unsigned char *row = planes +
				((size_t)c * side + oy + y) * side + ox;
			float *o = out + ((size_t)c * crop + y) * crop;
			for (int x = 0; x < crop; x++)
				o[x] = row[flip ? crop - 1 - x : x] + delta;
		}
}

void fk_prep_eval(const fk_prep *p, const unsigned char *planes, int side,
		  float *out)
{
	int o = (side - p->crop) / 2;

	cut(planes, side, p->crop, o, o, 0, 0, out);
	standardise(p, out, 3 * (size_t)p->crop * p->crop);
}

void fk_prep_mirror(const fk_prep *p, float *x)
{
	int n = p->crop;

	for (long r = 0; r < 3L * n; r++)
		for (int i = 0, j = n - 1; i < j; i++, j--) {
			float t = x[r * n + i];
			x[r * n + i] = x[r * n + j];
			x[r * n + j] = t;
		}
}

void fk_prep_train(const fk_prep *p, const unsigned char *planes,
		   uint64_t seed, long step, long index, float *out)
{
	fk_rng r;
	size_t np = (size_t)p->crop * p->crop;
	int ox, oy, flip;
	float delta, f;

	fk_rng_init(&r, seed, (uint64_t)step, (uint64_t)index);
	ox = (int)fk_rng_below(&r, (uint64_t)(p->stored - p->crop + 1));
	oy = (int)fk_rng_below(&r, (uint64_t)(p->stored - p->crop + 1));
	flip = p->flip && (fk_rng_next(&r) >> 63);
	delta = (float)((2 * fk_rng_unit(&r) - 1) * p->bright);
	f = (float)(p->con_lo + fk_rng_unit(&r) * (p->con_hi - p->con_lo));
	cut(planes, p->stored, p->crop, ox, oy, flip, delta, out);
	if (f != 1)
		for (int c = 0; c < 3; c++) {
			float *x = out + c * np;
			double m = 0;
			for (size_t i = 0; i < np; i++)
				m += x[i];
			m /= np;
			for (size_t i = 0; i < np; i++)
				x[i] = (float)((x[i] - m) * f + m);
		}
	standardise(p, out, 3 * np);
}

/* splitmix64's output function: a bijective mix of 64 bits */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void fk_rng_init(fk_rng *r, uint64_t a, uint64_t b, uint64_t c)
{
	r->s = mix(mix(mix(a + 0x9e3779b97f4a7c15ULL) ^ b) ^ (c + 1));
}

uint64_t fk_rng_next(fk_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix(r->s);
}

uint64_t fk_rng_below(fk_rng *r, uint64_t n)
{
	/* reject the top sliver so every value is equally likely */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;

	do
		x = fk_rng_next(r);
	while (x >= lim);
	return x % n;
}

double fk_rng_unit(fk_rng *r)
{
	return (fk_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

void fk_rng_shuffle(fk_rng *r, long *v, long n)
{
	for (long i = 0; i < n; i++)
		v[i] = i;
	for (long i = n - 1; i > 0; i--) {
		long j = (long)fk_rng_below(r, (uint64_t)i + 1);
		long t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

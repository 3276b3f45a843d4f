/* cnn_util.c — small helpers the layer files share: TensorFlow SAME
 * padding, spec argument parsing, ReLU and random numbers. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_layer.h"

void cnn__same(int in, int k, int stride, int *out, int *pad_before)
{
	int o = (in + stride - 1) / stride;
	int pad = (o - 1) * stride + k - in;

	*out = o;
	*pad_before = pad > 0 ? pad / 2 : 0;
}

void *cnn__cfg(cnn_layer *l, size_t size, char *err)
{
	if (!(l->cfg = calloc(1, size)))
		snprintf(err, CNN_ERRLEN_LAYER, "out of memory");
	return l->cfg;
}

int cnn__int_arg(const char *s, long lo, long hi, long *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

int cnn__float_opt(const char *s, const char *key, float *v)
{
	size_t n = strlen(key);
	char *end;
	double x;

	if (strncmp(s, key, n) || s[n] != '=')
		return 0;
	errno = 0;
	x = strtod(s + n + 1, &end);
	if (errno || end == s + n + 1 || *end || !isfinite(x) || x < 0 ||
	    x > 1e6)
		return -1;
	*v = (float)x;
	return 1;
}

void cnn__relu(float *y, long n)
{
	BLOCKS(i, n, y[i] = y[i] < 0 ? 0 : y[i]);	/* NaN passes */
}

void cnn__relu_back(const float *restrict y, float *restrict dy, long n)
{
	BLOCKS(i, n, dy[i] = y[i] > 0 ? dy[i] : 0);
}

/* --- random numbers: splitmix64 seeds xoshiro256** (Blackman, Vigna) */

static unsigned long long splitmix64(unsigned long long *x)
{
	unsigned long long z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void cnn__rng_seed(cnn_rng *r, unsigned long long seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static unsigned long long rotl(unsigned long long x, int k)
{
	return (x << k) | (x >> (64 - k));
}

unsigned long long cnn__rng_next(cnn_rng *r)
{
	unsigned long long *s = r->s;
	unsigned long long res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* uniform in (0, 1): 53 random bits, never 0 */
static double uniform(cnn_rng *r)
{
	return ((cnn__rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

float cnn__rng_truncnorm(cnn_rng *r, float std)
{
	double z;

	do	/* Box-Muller, one value per pair: simple and exact enough */
		z = sqrt(-2 * log(uniform(r))) * cos(2 * M_PI * uniform(r));
	while (fabs(z) > 2);
	return (float)(z * std);
}

int cnn__weight_opt(cnn_layer *l, const char *word)
{
	int r;

	if ((r = cnn__float_opt(word, "std", &l->std)))
		return l->std_given = r;
	if ((r = cnn__float_opt(word, "bias", &l->bias)))
		return l->bias_given = r;
	return 0;
}

void cnn__print_weight_opts(const cnn_layer *l, char *buf, size_t size)
{
	size_t n = strlen(buf);

	if (l->std_given && n < size)
		n += snprintf(buf + n, size - n, " std=%.9g", l->std);
	if (l->bias_given && n < size)
		snprintf(buf + n, size - n, " bias=%.9g", l->bias);
}

int cnn__relu_opt(const char *word, int *relu)
{
	float v;
	int r = cnn__float_opt(word, "relu", &v);

	if (r > 0 && v != 0 && v != 1)
		return -1;
	if (r > 0)
		*relu = v != 0;
	return r;
}

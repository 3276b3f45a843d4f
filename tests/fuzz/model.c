/* model.c — fuzz cnn_fload, the model file reader (cnnmodel(5)).  Each
 * input is read twice: as it is, which tries the magic, version, length
 * and CRC checks, and repaired (the file length at offset 12 and the
 * CRC-32 at the end set to fit), so that mutated fields get past the CRC
 * and are decoded.  A model that loads must save, and load and save back
 * into the very same bytes.  Its preprocessing string is then read as the
 * programs read it (fk_prep_parse): settings that parse must check, print
 * and parse back the same, and prepare a stored image for the network. */
#include "cnn.h"
#include "le.h"
#include "image.h"
#include "prep.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* n bytes of p through cnn_fload; NULL when refused */
static cnn *load(const unsigned char *p, size_t n)
{
	char err[CNN_ERRLEN];
	FILE *f;
	cnn *net;

	if (!n || !(f = fmemopen((void *)p, n, "r")))
		return NULL;
	net = cnn_fload(f, err);
	fclose(f);
	return net;
}

/* net saved into *p (malloc'd), its length returned */
static size_t save(const cnn *net, char **p)
{
	char err[CNN_ERRLEN];
	size_t n = 0;
	FILE *f = open_memstream(p, &n);

	if (!f || cnn_fsave(net, f, err) || fclose(f))
		abort();
	return n;
}

static void round_trip(cnn *net)
{
	char *a, *b;
	size_t na, nb;
	cnn *again;

	na = save(net, &a);
	if (!(again = load((unsigned char *)a, na)))
		abort(); /* a saved model must load */
	nb = save(again, &b);
	if (na != nb || memcmp(a, b, na))
		abort();
	cnn_free(again);
	free(a);
	free(b);
}

static void prep(const cnn *net)
{
	char err[FK_ERRLEN], text[FK_PREP_LEN], again[FK_PREP_LEN];
	static unsigned char planes[3 * 64 * 64];
	static float out[3 * 64 * 64];
	fk_prep p, q;

	if (fk_prep_parse(&p, cnn_prep(net), err))
		return;
	fk_prep_format(&p, text);
	if (fk_prep_check(&p, err) || fk_prep_parse(&q, text, err))
		abort();
	fk_prep_format(&q, again);
	if (strcmp(text, again) || p.crop > p.stored)
		abort();
	if (p.stored <= 64) {
		fk_prep_eval(&p, planes, p.stored, out);
		fk_prep_train(&p, planes, 1, 2, 3, out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *fixed;
	cnn *net;

	if ((net = load(data, size))) {
		round_trip(net);
		prep(net);
		cnn_free(net);
	}
	if (size < 24 || !(fixed = malloc(size)))
		return 0;
	memcpy(fixed, data, size);
	le32_put(fixed + 12, (uint32_t)size);
	le32_put(fixed + 16, (uint32_t)((uint64_t)size >> 32));
	le32_put(fixed + size - 4, (uint32_t)crc32(0L, fixed, (uInt)size - 4));
	if ((net = load(fixed, size))) {
		round_trip(net);
		prep(net);
		cnn_free(net);
	}
	free(fixed);
	return 0;
}

/* cascade.c — fuzz fk_cascade_fload on OpenCV's XML cascades.  A cascade
 * that loads must pack (fkcascade(5)), and the packed form must load and
 * pack again into the very same bytes. */
#include "cascade.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* c packed into *p (malloc'd), its length returned */
static size_t pack(const fk_cascade *c, char **p)
{
	char err[FK_ERRLEN];
	size_t n = 0;
	FILE *f = open_memstream(p, &n);

	if (!f || fk_cascade_write(c, f, err) || fclose(f))
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[FK_ERRLEN], *a, *b;
	size_t na, nb;
	fk_cascade *c, *again;
	FILE *f;

	if (!size || !(f = fmemopen((void *)data, size, "r")))
		return 0;
	c = fk_cascade_fload(f, "fuzz", err);
	fclose(f);
	if (!c)
		return 0;
	na = pack(c, &a);
	if (!(f = fmemopen(a, na, "r")) || !(again = fk_cascade_fload(f, "packed", err)))
		abort(); /* a packed cascade must load */
	fclose(f);
	nb = pack(again, &b);
	if (na != nb || memcmp(a, b, na))
		abort();
	fk_cascade_free(again);
	fk_cascade_free(c);
	free(a);
	free(b);
	return 0;
}

/* fkc.c — fuzz the packed cascade reader (fkcascade(5)) through
 * fk_cascade_fload.  Each input is read twice: as it is, and repaired
 * (the packed magic at the start, the file length at offset 12 and the
 * CRC-32 at the end set to fit) so that mutated counts and fields get
 * past the CRC and are decoded.  A cascade that loads must pack back into
 * exactly the bytes it was read from. */
#include "cascade.h"
#include "le.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

static const char magic[] = "\x89" "FKC\r\n\x1a\n";

static void load(const unsigned char *p, size_t n)
{
	char err[FK_ERRLEN], *back = NULL;
	size_t nback = 0;
	fk_cascade *c;
	FILE *f;

	if (!n || !(f = fmemopen((void *)p, n, "r")))
		return;
	c = fk_cascade_fload(f, "fuzz", err);
	fclose(f);
	if (!c)
		return;
	if (!(f = open_memstream(&back, &nback)) || fk_cascade_write(c, f, err) || fclose(f))
		abort();
	/* XML that loads packs into something else; a packed file into itself */
	if (n >= 8 && !memcmp(p, magic, 8) && (nback != n || memcmp(back, p, n)))
		abort();
	fk_cascade_free(c);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *fixed;

	load(data, size);
	if (size < 20 || !(fixed = malloc(size)))
		return 0;
	memcpy(fixed, data, size);
	memcpy(fixed, magic, 8);
	le32_put(fixed + 12, (uint32_t)size);
	le32_put(fixed + size - 4, (uint32_t)crc32(0L, fixed, (uInt)size - 4));
	load(fixed, size);
	free(fixed);
	return 0;
}

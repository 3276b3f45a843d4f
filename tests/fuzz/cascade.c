/* cascade.c — fuzz fk_cascade_fload on OpenCV's XML cascades.  A cascade
 * that loads must pack (fkcascade(5)), and the packed form must load and
 * pack again into the very same bytes; and it searches a small picture,
 * so that the detector's arithmetic runs under clang's sanitizers (the
 * seeds are OpenCV's real cascades). */
#include "cascade.h"
#include "detect.h"

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

/* c searches a 48x40 picture of gradients and edges, one thread, every
 * window (no grouping) */
static void search(const fk_cascade *c)
{
	enum { W = 48, H = 40 };
	static unsigned char grey[W * H];
	char err[FK_ERRLEN];
	fk_detect_opts o;
	fk_rect *r = NULL;
	int x, y, n = 0;

	for (y = 0; y < H; y++)
		for (x = 0; x < W; x++)
			grey[y * W + x] = (unsigned char)((x * 7 + y * 3) ^ (x > 20 ? 0x80 : 0));
	fk_detect_defaults(&o);
	o.threads = 1;
	o.min_neighbors = -1;
	if (fk_detect(c, grey, W, H, &o, &r, &n, err) == 0)
		for (x = 0; x < n; x++)
			if (r[x].x < 0 || r[x].y < 0 || r[x].x + r[x].w > W || r[x].y + r[x].h > H)
				abort(); /* a window outside the picture */
	free(r);
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
	search(c);
	fk_cascade_free(again);
	fk_cascade_free(c);
	free(a);
	free(b);
	return 0;
}

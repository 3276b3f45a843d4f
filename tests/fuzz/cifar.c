/* cifar.c — fuzz the CIFAR record readers.  The first byte picks the
 * record side (1 to 8), the rest is a record stream, read both ways the
 * programs read records: streamed by fk_cifar_read (cifarunpack) and
 * mapped by fk_records_open from a file (facetrain, faceeval; here a
 * memfd).  Both must see the same records, each of which unpacks into an
 * image and packs back into the same bytes. */
#define _GNU_SOURCE
#include "cifar.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char rec[1 + 3 * 8 * 8], back[sizeof rec], px[3 * 8 * 8];
	fk_image im = { 0, 0, px };
	fk_records r;
	char err[FK_ERRLEN], path[64], *paths[2];
	long count = 0, i, idx;
	int side, nclass, fd, got = 0;
	FILE *f;

	if (size < 1)
		return 0;
	side = 1 + data[0] % 8;
	nclass = data[0] % 11;
	data++, size--;
	if (size) { /* fmemopen wants a byte */
		if (!(f = fmemopen((void *)data, size, "r")))
			return 0;
		while ((got = fk_cifar_read(f, side, rec, err)) == 1)
			count++;
		fclose(f);
	}

	fd = memfd_create("records", 0);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	paths[0] = paths[1] = path;
	if (fk_records_open(&r, paths, 2, side, err) == 0) {
		if (got != 0 || r.count != 2 * count)
			abort(); /* the map took what the stream refused */
		for (i = 0; i < r.count; i++) {
			const unsigned char *p = fk_record(&r, i);
			int label = fk_cifar_unpack(p, side, &im);
			fk_cifar_pack(&im, label, back);
			if (memcmp(back, p, fk_cifar_recsize(side)) || fk_record_where(&r, i, &idx) != r.file[i >= count].path
			    || idx != i % (count ? count : 1))
				abort();
		}
		for (i = 0; i < r.count && fk_record(&r, i)[0] < nclass; i++)
			;
		if (fk_records_bad_label(&r, nclass) != (i < r.count ? i : -1))
			abort();
		fk_records_close(&r);
	} else if (got == 0 && size % fk_cifar_recsize(side) == 0) {
		abort(); /* the stream took what the map refused */
	}
	close(fd);
	return 0;
}

/* cifar.c — fuzz the CIFAR record readers.  The first byte picks the
 * record side (1 to 8), the rest is a record stream, read both ways the
 * programs read records: streamed by fk_cifar_read (cifarunpack) and
 * read by index from files opened by fk_records_open (facetrain,
 * faceeval; here a memfd, twice).  Both must see the same records, each of
 * which unpacks into an image and packs back into the same bytes.  Then
 * the file is cut short under the open set, as a file being rewritten
 * is: the records still whole must read as before, the others must be
 * errors. */
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
	long count = 0, i, idx, keep;
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
		size_t n = fk_cifar_recsize(side);
		for (i = 0; i < r.count; i++) {
			int label;
			if (fk_record_read(&r, i, rec, err) < 0)
				abort();
			label = fk_cifar_unpack(rec, side, &im);
			fk_cifar_pack(&im, label, back);
			if (memcmp(back, rec, n) || memcmp(rec, data + i % count * n, n) ||
			    fk_record_where(&r, i, &idx) != r.file[i >= count].path ||
			    idx != i % (count ? count : 1))
				abort();
		}
		for (i = 0; i < r.count && fk_record_label(&r, i, err) < nclass; i++)
			;
		if (fk_records_bad_label(&r, nclass, err) != (i < r.count ? i : -1))
			abort();
		/* cut short under the open set: the first keep records stay whole */
		keep = count ? (long)(size / 2 / n) : 0;
		if (ftruncate(fd, (off_t)(size / 2)) < 0)
			abort();
		for (i = 0; i < r.count; i++) {
			int ok = fk_record_read(&r, i, rec, err) == 0;
			if (ok != (i % count < keep) ||
			    (ok && memcmp(rec, data + i % count * n, n)) ||
			    (!ok && !strstr(err, "cut short")))
				abort();
		}
		/* a record cut in the middle keeps its label; one cut before
		 * its label has none, and the label check must say so */
		if ((long)((size / 2 + n - 1) / n) < count &&
		    fk_records_bad_label(&r, nclass, err) == -1)
			abort();
		fk_records_close(&r);
	} else if (got == 0 && size % fk_cifar_recsize(side) == 0) {
		abort(); /* the stream took what the map refused */
	}
	close(fd);
	return 0;
}

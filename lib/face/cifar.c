/* cifar.c — CIFAR-10 style records: pack, unpack, stream them, and read
 * them by index from files. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cifar.h"

size_t fk_cifar_recsize(int n)
{
	return 1 + 3 * (size_t)n * (size_t)n;
}

void fk_cifar_pack(const fk_image *im, int label, unsigned char *rec)
{
	size_t np = (size_t)im->w * im->h;

	rec[0] = (unsigned char)label;
	for (size_t i = 0; i < np; i++)
		for (int c = 0; c < 3; c++)
			rec[1 + c * np + i] = im->px[3 * i + c];
}

int fk_cifar_unpack(const unsigned char *rec, int n, fk_image *im)
{
	size_t np = (size_t)n * n;

	im->w = im->h = n;
	for (size_t i = 0; i < np; i++)
		for (int c = 0; c < 3; c++)
			im->px[3 * i + c] = rec[1 + c * np + i];
	return rec[0];
}

int fk_cifar_read(FILE *f, int n, unsigned char *rec, char *err)
{
	size_t want = fk_cifar_recsize(n);
	size_t got = fread(rec, 1, want, f);

	if (got == want)
		return 1;
	if (ferror(f)) {
		snprintf(err, FK_ERRLEN, "read error: %s", strerror(errno));
		return -1;
	}
	if (got == 0)
		return 0;
	snprintf(err, FK_ERRLEN,
		 "short final record (%zu of %zu bytes): not a whole number of %dx%d records",
		 got, want, n, n);
	return -1;
}

static int open_one(struct fk_recfile *rf, const char *path, size_t recsize,
		    int side, char *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, FK_ERRLEN, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, FK_ERRLEN, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size % recsize != 0) {
		snprintf(err, FK_ERRLEN,
			 "%s: %lld bytes is not a whole number of %dx%d records (%zu bytes each)",
			 path, (long long)st.st_size, side, side, recsize);
		close(fd);
		return -1;
	}
	rf->len = (size_t)st.st_size;
	rf->fd = fd;
	return 0;
}

int fk_records_open(fk_records *r, char *const *paths, int npath, int side,
		    char *err)
{
	memset(r, 0, sizeof *r);
	if (side < 1 || side > FK_CIFAR_MAXSIDE) {
		snprintf(err, FK_ERRLEN, "record side %d is outside 1..%d", side,
			 FK_CIFAR_MAXSIDE);
		return -1;
	}
	r->side = side;
	r->recsize = fk_cifar_recsize(side);
	r->file = calloc(npath > 0 ? npath : 1, sizeof *r->file);
	if (!r->file) {
		snprintf(err, FK_ERRLEN, "out of memory");
		return -1;
	}
	for (int i = 0; i < npath; i++) {
		struct fk_recfile *rf = &r->file[i];
		rf->fd = -1;
		if (open_one(rf, paths[i], r->recsize, side, err) < 0) {
			fk_records_close(r);
			return -1;
		}
		rf->path = strdup(paths[i]);
		rf->first = r->count;
		r->nfile++;
		r->count += (long)(rf->len / r->recsize);
		if (!rf->path) {
			snprintf(err, FK_ERRLEN, "out of memory");
			fk_records_close(r);
			return -1;
		}
	}
	return 0;
}

void fk_records_close(fk_records *r)
{
	for (int i = 0; i < r->nfile; i++) {
		if (r->file[i].fd >= 0)
			close(r->file[i].fd);
		free(r->file[i].path);
	}
	free(r->file);
	memset(r, 0, sizeof *r);
}

/* the file holding record i: the last one whose first record is <= i
 * (an empty file shares its first index with the next, so is never it) */
static const struct fk_recfile *file_of(const fk_records *r, long i)
{
	int lo = 0, hi = r->nfile - 1;

	while (lo < hi) {
		int mid = (lo + hi + 1) / 2;
		if (r->file[mid].first <= i)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &r->file[lo];
}

/* n bytes at offset off of record i, read into buf */
static int read_at(const fk_records *r, long i, size_t off, size_t n,
		   unsigned char *buf, char *err)
{
	const struct fk_recfile *rf = file_of(r, i);
	off_t at = (off_t)((size_t)(i - rf->first) * r->recsize + off);
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(rf->fd, buf + got, n - got, at + (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, FK_ERRLEN, "%s: record %ld: read error: %s", rf->path,
				 i - rf->first, strerror(errno));
			return -1;
		}
		if (k == 0) {
			snprintf(err, FK_ERRLEN,
				 "%s: record %ld is gone: the file was cut short after it was opened (it had %zu bytes)",
				 rf->path, i - rf->first, rf->len);
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

int fk_record_read(const fk_records *r, long i, unsigned char *rec, char *err)
{
	return read_at(r, i, 0, r->recsize, rec, err);
}

int fk_record_label(const fk_records *r, long i, char *err)
{
	unsigned char label;

	return read_at(r, i, 0, 1, &label, err) < 0 ? -1 : label;
}

const char *fk_record_where(const fk_records *r, long i, long *index)
{
	const struct fk_recfile *rf = file_of(r, i);

	*index = i - rf->first;
	return rf->path;
}

long fk_records_bad_label(const fk_records *r, int nclass, char *err)
{
	for (long i = 0; i < r->count; i++) {
		int label = fk_record_label(r, i, err);
		if (label < 0)
			return -2;
		if (label >= nclass)
			return i;
	}
	return -1;
}

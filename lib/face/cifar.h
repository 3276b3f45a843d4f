/* cifar.h — CIFAR-10 style records of any square size N: one label byte,
 * then the N*N red, N*N green and N*N blue bytes, each plane row by row
 * (cifar(5)).  Record files are read a record at a time with pread(2),
 * so a file of a million records is never copied into memory, and one cut
 * short while in use is an error, not a SIGBUS as from a mapping.  Library
 * code: errors return -1 with a message in the caller's err[FK_ERRLEN]. */
#ifndef FK_CIFAR_H
#define FK_CIFAR_H

#include <stddef.h>
#include <stdio.h>

#include "image.h"

#define FK_CIFAR_MAXSIDE 4096

/* bytes in one record of side n */
size_t fk_cifar_recsize(int n);

/* image (interleaved RGB, im->w == im->h == n) -> record */
void fk_cifar_pack(const fk_image *im, int label, unsigned char *rec);
/* record of side n -> image (im->px must hold 3*n*n bytes); returns the label */
int fk_cifar_unpack(const unsigned char *rec, int n, fk_image *im);

/* Read the next record of side n from a stream: 1 with rec filled, 0 at a
 * clean end, -1 on a read error or a short final record. */
int fk_cifar_read(FILE *f, int n, unsigned char *rec, char *err);

/* one or more record files, open for reading and seen as one array */
typedef struct {
	int side;
	size_t recsize;
	long count;            /* records in all files */
	int nfile;
	struct fk_recfile {
		char *path;
		int fd;
		size_t len;    /* bytes when opened */
		long first;    /* index of its first record in the set */
	} *file;
} fk_records;

/* Open the files; each must hold a whole number of side x side records.
 * An empty file adds no records.  On error *r is left empty. */
int fk_records_open(fk_records *r, char *const *paths, int npath, int side,
		    char *err);
void fk_records_close(fk_records *r);
/* record i of the set (0 <= i < count) into rec (recsize bytes): 0, or -1
 * if it cannot be read (its file was cut short since it was opened) */
int fk_record_read(const fk_records *r, long i, unsigned char *rec, char *err);
/* the label of record i, or -1 as above */
int fk_record_label(const fk_records *r, long i, char *err);
/* the first record whose label is nclass or more, -1 if none is, or -2 if
 * a record cannot be read */
long fk_records_bad_label(const fk_records *r, int nclass, char *err);
/* where record i comes from: its file name and its index in that file */
const char *fk_record_where(const fk_records *r, long i, long *index);

#endif

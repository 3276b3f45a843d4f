/* model.h — a face model made by facetrain, as the programs use it: load it
 * (its network, class names and the preprocessing it was trained with),
 * name one face image of any size, tally labelled records, and check that
 * records and labels files agree with the model's classes.  A model keeps
 * its work buffers: one thread at a time calls it (load one per thread to
 * classify in several at once).  Library code: it never prints and never
 * exits; a failing call returns -1 (or NULL) and leaves a message in the
 * caller's err[FK_ERRLEN]. */
#ifndef FK_MODEL_H
#define FK_MODEL_H

#include "cifar.h"
#include "cnn.h"
#include "image.h"
#include "prep.h"

typedef struct fk_model fk_model;

/* the model file path, its preprocessing settings checked against its
 * input shape and every class named; NULL with err naming the file */
fk_model *fk_model_load(const char *path, char *err);
void fk_model_free(fk_model *m);

int fk_model_nclass(const fk_model *m);
const char *fk_model_label(const fk_model *m, int i);
/* the crop margin its records were cut with (1.25 for a model that does
 * not say), the side they were stored at, and its input side */
double fk_model_margin(const fk_model *m);
int fk_model_side(const fk_model *m);
int fk_model_input(const fk_model *m);
const fk_prep *fk_model_prep(const fk_model *m);
/* the network itself, for what the calls here do not cover */
cnn *fk_model_net(fk_model *m);
/* with on, the calls below classify each face twice, as it is and its
 * network input mirrored left-right, and average the two probabilities
 * (test-time flip averaging, twice the time); off when loaded */
void fk_model_set_mirror(fk_model *m, int on);

/* The margin to cut a face at around a box facefind found so that, brought
 * to the input side whole, it shows what the network saw in training: the
 * records' margin times input/stored (their centre crop), times 1.2, as
 * LFW's annotated boxes, which the shipped models' records were cut
 * around, are about 1.2 times as wide as facefind's (1.19 measured,
 * bench/README.md).  1.25 * 1.2 * 32/40 = 1.2 for the shipped model. */
double fk_model_find_margin(const fk_model *m);

/* Class probabilities prob[nclass] of one face image of any size, with the
 * averaged weights: one of the input side is used whole, any other (or one
 * not square) is first scaled to the input side as ppmscale32 scales
 * (fk_scale_square, centre-cropped to a square).  0 or -1. */
int fk_model_classify(fk_model *m, const fk_image *face, float *prob,
		      char *err);
/* the same for a face of the stored side, as a record holds it: its
 * centre is cut to the input side, as in training; -1 for another size */
int fk_model_classify_stored(fk_model *m, const fk_image *face, float *prob,
			     char *err);

/* order[0..n) = the classes by probability, best first (ties by index) */
void fk_rank_classes(const float *prob, int n, int *order);

/* confusion[true * nclass + predicted] += over every record of r, with the
 * averaged weights (ema) or the raw ones; the records must have the
 * model's stored side and labels below nclass.  0 or -1 (also for a
 * record file cut short since it was opened). */
int fk_model_tally(fk_model *m, const fk_records *r, int ema, long *confusion,
		   char *err);
/* the same for a bare network and its settings (facetrain's test set),
 * with mirror as fk_model_set_mirror's */
int fk_tally(cnn *net, const fk_prep *p, const fk_records *r, int ema, int mirror,
	     long *confusion, char *err);

/* 0 if every record's label names one of nclass classes, else -1 naming
 * the first record that does not (its file and its index there), or the
 * record that could not be read */
int fk_records_check_labels(const fk_records *r, int nclass, char *err);

/* A labels file (class names, one a line: line i names label i): every
 * name one word of at most FK_LABEL_MAX bytes, no name twice, at most 256.
 * NULL with err naming the file and line; *n gets the count. */
#define FK_LABEL_MAX 255
char **fk_labels_read(const char *path, int *n, char *err);
void fk_labels_free(char **names, int n);

/* 0 if the n names of a labels file (named path) are the model's first n
 * class names in order (records of a task may leave the model's last
 * classes out), else -1 naming the first line that differs */
int fk_model_check_labels(const fk_model *m, char *const *names, int n,
			  const char *path, char *err);

/* The note mkdataset leaves beside its records, dataset.txt, one line
 * "stored=SIDE margin=MARGIN": the side they are stored at and the margin
 * their faces were cut with.  0, or -1 naming the file and the bad value. */
int fk_dataset_read(const char *path, int *stored, float *margin, char *err);

#endif

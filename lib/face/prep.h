/* prep.h — how images become network input: the TensorFlow CIFAR-10
 * tutorial's distortions for training (random crop, horizontal flip,
 * brightness, contrast) and, for training and evaluation alike, per-image
 * standardisation (x - mean) / max(stddev, 1/sqrt(values)).  Evaluation
 * takes the centre crop.  The settings travel in the model as a short text
 * (cnn_set_prep), e.g. "stored=40 crop=32 std=1 flip=1 bright=63
 * contrast=0.2,1.8 margin=1.25", so no one has to remember them; margin is
 * the facecrop margin the stored faces were cut with (1.25, mkdataset's
 * default, when the text does not say).
 *
 * Images come in as planes (R, G, B, each row by row: a CIFAR record after
 * its label byte) and go out as float planes of side crop.  Randomness is a
 * pure function of (seed, step, index), so a resumed training run sees the
 * very batches and distortions an uninterrupted one would. */
#ifndef FK_PREP_H
#define FK_PREP_H

#include <stddef.h>
#include <stdint.h>

#define FK_PREP_LEN 128

typedef struct {
	int stored;             /* side of the stored images */
	int crop;               /* side of the network's input, <= stored */
	int std;                /* 1: per-image standardisation, 0: x/255 */
	int flip;               /* training: random left-right flip */
	float bright;           /* training: add a delta from [-bright, bright] */
	float con_lo, con_hi;   /* training: contrast factor from [lo, hi] */
	float margin;           /* the faces' crop margin around their boxes */
} fk_prep;

#define FK_PREP_MARGIN 1.25f

/* the tutorial's settings for side x side images, no crop */
void fk_prep_defaults(fk_prep *p, int side);
/* check the settings; -1 with a message naming the bad one */
int fk_prep_check(const fk_prep *p, char *err);

/* settings <-> text (buf of FK_PREP_LEN); parsing checks every value */
void fk_prep_format(const fk_prep *p, char *buf);
int fk_prep_parse(fk_prep *p, const char *text, char *err);

/* Evaluation: centre crop of a side x side image (side >= p->crop), then
 * standardisation; out gets 3*crop*crop floats. */
void fk_prep_eval(const fk_prep *p, const unsigned char *planes, int side,
		  float *out);
/* the network input x (3 planes of crop x crop, as fk_prep_eval makes
 * it) mirrored left-right in place: a standardised image mirrored is the
 * mirrored image standardised */
void fk_prep_mirror(const fk_prep *p, float *x);
/* Training: random crop of a stored-size image, flip, brightness, contrast,
 * standardisation, drawn from (seed, step, index). */
void fk_prep_train(const fk_prep *p, const unsigned char *planes,
		   uint64_t seed, long step, long index, float *out);

/* the generator behind it, for shuffles: a 64-bit state from three keys */
typedef struct {
	uint64_t s;
} fk_rng;
void fk_rng_init(fk_rng *r, uint64_t a, uint64_t b, uint64_t c);
uint64_t fk_rng_next(fk_rng *r);
/* uniform in [0, n) */
uint64_t fk_rng_below(fk_rng *r, uint64_t n);
/* uniform in [0, 1) */
double fk_rng_unit(fk_rng *r);
/* a permutation of 0..n-1 drawn from r (Fisher-Yates) */
void fk_rng_shuffle(fk_rng *r, long *v, long n);

#endif

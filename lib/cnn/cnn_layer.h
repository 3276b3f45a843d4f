/* cnn_layer.h — the layer interface inside libcnn.
 *
 * Every layer kind lives in its own file (cnn_conv.c, cnn_pool.c, ...) and
 * exports one cnn_kind with the same verbs; cnn.c keeps the table of kinds.
 * A new kind is one new file, its extern below and one entry in that
 * table (the list of kinds in messages is made from the table).
 *
 * Tensors are float32 NCHW.  A layer sees n images at a time: x holds n
 * inputs of c*h*w floats, y n outputs of oc*oh*ow floats.  Its parameters
 * are a slice of the network's parameter blob: nw weights, then nb biases. */
#ifndef CNN_LAYER_H
#define CNN_LAYER_H

#include <stddef.h>

#include "pool.h"
#ifdef __SSE__
#include <xmmintrin.h>
#endif

/* room for a layer's own error message (cnn.c adds the part) */
#define CNN_ERRLEN_LAYER 160

typedef struct cnn_layer cnn_layer;

struct cnn_layer {
	const struct cnn_kind *kind;
	void *cfg;            /* the kind's own settings, from parse; free()d */
	int c, h, w;          /* input shape (set before make) */
	int oc, oh, ow;       /* output shape (set by make) */
	int first;            /* set before make: no layer with weights before it */
	int last;             /* set before make: the final layer (logits) */
	int nclass;           /* set before make: the network's class count */
	long nw, nb;          /* weight and bias counts (set by make) */
	long off;             /* offset of the weights in the blob */
	float std, bias;      /* initial weights N(0,std) truncated at 2 std; biases */
	int std_given, bias_given;  /* std=, bias= in the spec (else make's default) */
	int decay;            /* weights take the L2 weight decay */
	int decoupled;        /* weights take the decoupled weight decay
				 (set by the kinds whose weights are
				 weights: conv, fc, add's projection; never
				 bn's gamma, never on biases) */
	long ws;              /* scratch floats a call needs (per thread) */
	long aux;             /* floats kept from forward to backward per image */
	int inner;            /* threads forward may use within a call, each
				 with its own ws (set by cnn.c per call) */
	/* set by cnn.c before each call */
	int train;            /* training: batch statistics, dropout */
	unsigned long long rseed;  /* random numbers of this layer at this
				      step (dropout), from the network's seed */
	/* state that is saved but not trained (batch norm's running
	 * statistics): ns floats at soff in the network's state blob (set by
	 * make: ns; by cnn.c: soff) */
	long ns, soff;
	const float *state;   /* the state to infer with (set per call) */
	float momentum;       /* after a training step the state moves this
				 far towards the batch's values (set by make) */
	long bs;              /* floats of batch statistics a training
				 forward leaves in bstat for backward, the
				 first ns of them the values the state
				 follows (set by make) */
	float *bstat;         /* bs floats (set by cnn.c) */
	/* blocks (res ... add): the index of the other end, and for the
	 * closing layer the shape of the opening one's output (set by cnn.c
	 * before make) */
	int link, lc, lh, lw;
	const float *skip;    /* add: the block's input, whole batch */
	float *dskip;         /* res and add: dL/d(block input) along the
				 skip path, whole batch */
};

typedef struct cnn_kind {
	const char *name;
	/* read the spec words after the name (argv[0..argc-1]) into l->cfg;
	 * -1 with a message naming the usage on error */
	int (*parse)(cnn_layer *l, int argc, char **argv, char *err);
	/* shape inference from l->c,h,w: set the output shape, nw, nb, std,
	 * bias, decay, decoupled, ws, aux; -1 if the input shape does not fit */
	int (*make)(cnn_layer *l, char *err);
	/* the normalised spec part, e.g. "conv 5 64" */
	void (*print)(const cnn_layer *l, char *buf, size_t size);
	/* y = f(x) for n images; p = this layer's parameters (weights then
	 * biases); aux gets n*l->aux floats for backward (may be NULL when
	 * no backward follows); ws has l->ws floats for each of l->inner
	 * threads (at least one) the layer may split its work over with
	 * fk_pool_run; backward runs on one thread with l->ws floats */
	void (*forward)(const cnn_layer *l, const float *p, const float *x,
			float *y, float *aux, float *ws, int n);
	/* given dy = dL/dy (may be overwritten), add dL/dp to dp and, unless
	 * dx is NULL, store dL/dx in dx */
	void (*backward)(const cnn_layer *l, const float *p, const float *x,
			 const float *y, const float *aux, float *dy,
			 float *dx, float *dp, float *ws, int n);
	/* optional, NULL = the default: weights N(0, std) truncated at 2
	 * std, biases l->bias, no state */
	void (*init)(const cnn_layer *l, float *p, float *state);
	/* 1: forward and backward see the whole batch at once (n images,
	 * l->inner threads for both, each with l->ws floats), so they may
	 * reduce over it; the part of dp they add to is the one the whole
	 * batch's gradient is summed into.  Results must not depend on
	 * l->inner. */
	int batch;
	/* 1: opens a block (res), -1: closes the innermost open one (add) */
	int bracket;
} cnn_kind;

extern const cnn_kind cnn_kind_conv, cnn_kind_pool, cnn_kind_lrn,
	cnn_kind_fc, cnn_kind_bn, cnn_kind_gap, cnn_kind_dropout, cnn_kind_res,
	cnn_kind_add;

/* shared helpers */
/* l->cfg = size zeroed bytes; NULL with err set if out of memory */
void *cnn__cfg(cnn_layer *l, size_t size, char *err);
/* TensorFlow SAME padding: output size and padding before */
void cnn__same(int in, int k, int stride, int *out, int *pad_before);
/* parse a whole number in [lo, hi]; -1 if s is not one */
int cnn__int_arg(const char *s, long lo, long hi, long *v);
/* parse "key=value" with value a positive finite float; 0 if s is not
 * that key, 1 if read, -1 if malformed */
int cnn__float_opt(const char *s, const char *key, float *v);
/* the spec options every layer with weights takes: std=X bias=X;
 * 1 if word was one (and read), 0 if not, -1 if malformed */
int cnn__weight_opt(cnn_layer *l, const char *word);
/* the option relu=0|1 into *relu: 1 if word was it, 0 if not, -1 if
 * malformed */
int cnn__relu_opt(const char *word, int *relu);
/* append " std=X bias=X" for the options given to buf (of size size) */
void cnn__print_weight_opts(const cnn_layer *l, char *buf, size_t size);
/* for (i = 0; i < n; i++) body;  in blocks of 8 with a fixed inner count,
 * which the compiler turns into vector code at -O2 (given restrict
 * pointers: it will not test for overlap), then a scalar tail */
#define BLOCKS(i, n, body) do { \
	long n_ = (n), i_; \
	for (i_ = 0; i_ + 8 <= n_; i_ += 8) \
		for (int j_ = 0; j_ < 8; j_++) { \
			long i = i_ + j_; \
			body; \
		} \
	for (long i = i_; i < n_; i++) \
		body; \
} while (0)

/* d[i] = 0, d[i] = s[i] and d[i] += s[i] for short runs (im2col's rows
 * are 16 floats in conv2): 4 at a time, where a call to memset or memcpy
 * would cost more than the work.  The compiler turns even these loops
 * into such calls; the empty asm (a compiler barrier) stops it. */
#if defined(__GNUC__)
#define CNN_KEEP_LOOP() __asm__ volatile("" ::: "memory")
#else
#define CNN_KEEP_LOOP()
#endif
static inline void cnn__zero(float *d, long n)
{
	long i = 0;
#ifdef __SSE__
	for (; i + 4 <= n; i += 4) {
		_mm_storeu_ps(d + i, _mm_setzero_ps());
		CNN_KEEP_LOOP();
	}
#endif
	for (; i < n; i++) {
		d[i] = 0;
		CNN_KEEP_LOOP();
	}
}

static inline void cnn__copy(float *restrict d, const float *restrict s,
			     long n)
{
	long i = 0;
#ifdef __SSE__
	for (; i + 4 <= n; i += 4) {
		_mm_storeu_ps(d + i, _mm_loadu_ps(s + i));
		CNN_KEEP_LOOP();
	}
#endif
	for (; i < n; i++) {
		d[i] = s[i];
		CNN_KEEP_LOOP();
	}
}

static inline void cnn__add(float *restrict d, const float *restrict s,
			    long n)
{
	long i = 0;
#ifdef __SSE__
	for (; i + 4 <= n; i += 4)
		_mm_storeu_ps(d + i, _mm_add_ps(_mm_loadu_ps(d + i),
						_mm_loadu_ps(s + i)));
#endif
	for (; i < n; i++)
		d[i] += s[i];
}

/* y = relu(y) in place / dy *= (y > 0) */
void cnn__relu(float *y, long n);
void cnn__relu_back(const float *restrict y, float *restrict dy, long n);

/* deterministic random numbers (xoshiro256** seeded by splitmix64) */
typedef struct { unsigned long long s[4]; } cnn_rng;
void cnn__rng_seed(cnn_rng *r, unsigned long long seed);
unsigned long long cnn__rng_next(cnn_rng *r);
/* normal with mean 0 and deviation std, redrawn until within 2 std */
float cnn__rng_truncnorm(cnn_rng *r, float std);

#endif

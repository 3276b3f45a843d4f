/* cnn.h — libcnn: small convolutional networks on OpenBLAS.
 *
 * A network is built from a text spec and an input shape, trained with
 * mini-batch SGD, and saved with its class names and preprocessing settings
 * in one checked, little-endian model file (cnnmodel(5)).  Tensors are
 * float32 NCHW.  Library code: it never prints and never exits; a failing
 * call returns -1 (or NULL) and leaves a message in the caller's
 * err[CNN_ERRLEN].  See libcnn(3). */
#ifndef CNN_H
#define CNN_H

#include <stdint.h>
#include <stdio.h>

#define CNN_ERRLEN 256

/* the TensorFlow CIFAR-10 tutorial network; "fc N" is the class count */
#define CNN_TUTORIAL_SPEC \
	"conv 5 64; pool 3 2; lrn; conv 5 64; lrn; pool 3 2; fc 384; fc 192; fc N"

typedef struct cnn cnn;

/* learning-rate schedules */
enum {
	CNN_SCHED_STEP,       /* the tutorial's staircase: lr * lr_decay^floor(step/decay_steps) */
	CNN_SCHED_COSINE,     /* a linear warm-up over warmup*steps steps
				 (rounded), then a half cosine from lr down
				 to 0 at step steps */
};

/* training settings: kept apart from the network, the values below are the
 * tutorial's and cnn_train_defaults() fills them in */
typedef struct {
	int batch;            /* 128 */
	float lr;             /* initial (cosine: peak) learning rate, 0.1 */
	float lr_decay;       /* staircase factor, 0.1 */
	long decay_steps;     /* staircase period in steps, 0 = no decay */
	float weight_decay;   /* L2 factor on the fc layers but the last, 0.004 */
	float ema_decay;      /* moving-average decay, 0.9999 */
	/* beyond the tutorial */
	int schedule;         /* CNN_SCHED_STEP */
	long steps;           /* cosine: the run's length in steps, 0 */
	float warmup;         /* cosine: share of the steps warming up, 0.05 */
	float momentum;       /* 0: plain SGD; else v = momentum v + g */
	int nesterov;         /* with momentum: step along g + momentum v, 0 */
	float decoupled_decay;  /* w -= lr * decoupled_decay * w on the conv
				   and fc weights, not on biases (AdamW's
				   decoupled decay), 0 */
	float smoothing;      /* label smoothing: the target is 1 - smoothing
				 on the label plus smoothing/classes on every
				 class, 0 */
} cnn_train_opts;

void cnn_train_defaults(cnn_train_opts *o);

/* Build a network for c x h x w inputs and nclass classes from spec (NULL =
 * CNN_TUTORIAL_SPEC), weights drawn from seed.  Errors name the bad part. */
cnn *cnn_new(const char *spec, int c, int h, int w, int nclass,
	     uint64_t seed, char *err);
void cnn_free(cnn *net);

/* what the model knows about itself */
int cnn_nclass(const cnn *net);
void cnn_input_shape(const cnn *net, int *c, int *h, int *w);
const char *cnn_spec(const cnn *net);          /* normalised spec text */
long cnn_step_count(const cnn *net);           /* training steps taken */
long cnn_nparams(const cnn *net);

/* class names (copied); NULL until set */
int cnn_set_class_names(cnn *net, char *const *names, int n, char *err);
const char *cnn_class_name(const cnn *net, int i);

/* the preprocessing settings, an opaque string the library stores and
 * returns unchanged (facetrain writes e.g. "stored=40 crop=32 std=1") */
int cnn_set_prep(cnn *net, const char *prep, char *err);
const char *cnn_prep(const cnn *net);

/* the training settings, another opaque string stored and returned
 * unchanged: key=value words, so that a resumed run can be checked
 * against them (facetrain writes e.g. "lr=0.1 schedule=cosine steps=5000
 * ... momentum=0.9 nesterov=1 ... seed=1", facetrain(1) lists its keys);
 * "" until set */
int cnn_set_train_settings(cnn *net, const char *text, char *err);
const char *cnn_train_settings(const cnn *net);

/* One SGD step on n images x (n*c*h*w floats) with labels y[n] in
 * [0, nclass).  Updates the weights (and, with momentum, their velocity,
 * which the model file keeps; a step without momentum drops it) and their
 * moving average, advances the step count; *loss gets the batch's mean
 * cross-entropy (against the smoothed targets) plus the L2 weight decay
 * term.  -1 on bad arguments or settings, a cosine schedule already at
 * its end, or a non-finite loss (the weights are then unchanged). */
int cnn_train_step(cnn *net, const cnn_train_opts *o, const float *x,
		   const int *y, int n, float *loss, char *err);

/* learning rate at the current step, per o->schedule (0 once a cosine
 * schedule has run its steps) */
float cnn_learning_rate(const cnn *net, const cnn_train_opts *o);

/* class probabilities prob[n*nclass] for n images, with the averaged
 * weights (ema != 0) or the raw ones */
int cnn_predict(cnn *net, const float *x, int n, int ema, float *prob,
		char *err);

/* the class scores before the softmax, logits[n*nclass] */
int cnn_forward(cnn *net, const float *x, int n, int ema, float *logits,
		char *err);

/* the layers: count, kind name ("conv", "pool", "lrn", "fc"), output
 * shape and parameter count of layer i (0-based) */
int cnn_nlayers(const cnn *net);
const char *cnn_layer_kind(const cnn *net, int i);
int cnn_layer_shape(const cnn *net, int i, int *c, int *h, int *w);
long cnn_layer_nparams(const cnn *net, int i);

/* threads libcnn splits its work over (default 1): a batch into one part
 * per thread, a lone image inside its layers; OpenBLAS is kept to one
 * thread.  Same seed and thread count: the same weights, bit for bit.
 * The workers are shared: a call that finds them busy with another
 * thread's runs its parts in turn, so several threads may each use their
 * own network at once.  Set the count before such threads start. */
void cnn_set_threads(int n);

/* model files: cnn_save writes a temporary file beside the model and
 * renames it over it, so a file appears whole or not at all; a symbolic
 * link is followed and its target replaced, a device or FIFO written in
 * place, and "-" is standard output.  The FILE* forms never close f. */
int cnn_save(const cnn *net, const char *path, char *err);
cnn *cnn_load(const char *path, char *err);
int cnn_fsave(const cnn *net, FILE *f, char *err);
cnn *cnn_fload(FILE *f, char *err);

#endif

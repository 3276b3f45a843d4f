/* cnn_impl.h — what libcnn's own files share and its users never see.
 * The model file code (cnn_io.c) reaches the network only through these,
 * so the network's layout can change without touching the file format. */
#ifndef CNN_IMPL_H
#define CNN_IMPL_H

#include "cnn.h"

/* the contiguous parameter blob: raw weights (ema == 0) or their moving
 * average (ema != 0); *n gets its length in floats.  The order is the
 * layers' order, each layer's weights then its biases. */
float *cnn__params(cnn *net, int ema, long *n);

/* the state that is saved but not trained (batch norm's running
 * statistics), raw (ema == 0) or its moving average; *n gets its length
 * in floats (0 for a network without such layers).  The order is the
 * layers' order. */
float *cnn__state(cnn *net, int ema, long *n);

/* the seed the network was built with (kept so a loaded network can be
 * rebuilt before its weights are read in) */
uint64_t cnn__seed(const cnn *net);

/* the parameter count of spec for that input and class count, found
 * without allocating the parameters (-1 with err on a bad spec), so a
 * model file's claim can be checked before anything is allocated */
long cnn__spec_nparams(const char *spec, int c, int h, int w, int nclass,
		       char *err);
void cnn__set_step(cnn *net, long step);

/* the loss (mean cross-entropy plus wd * sum(w^2)/2 over the weights
 * that take decay) and its gradient for a batch, without a step: the
 * gradient blob, or NULL with err set (bad batch, non-finite loss) */
float *cnn__grad(cnn *net, float wd, const float *x, const int *y, int n,
		 double *loss, char *err);
/* the same against targets smoothed by smooth (cnn_train_opts.smoothing) */
float *cnn__grad_smooth(cnn *net, float wd, float smooth, const float *x,
			const int *y, int n, double *loss, char *err);

/* the optimiser's state: the velocity blob (momentum), as long as the
 * parameter blob and in its order, NULL if the last step had no
 * momentum; *nesterov (if nesterov is not NULL) says whether it was
 * Nesterov's.  cnn__set_velocity makes it (zeroed, if there was none)
 * for a model file's to be read into; NULL if out of memory. */
float *cnn__velocity(const cnn *net, int *nesterov);
float *cnn__set_velocity(cnn *net, int nesterov);

#endif

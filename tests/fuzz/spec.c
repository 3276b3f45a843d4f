/* spec.c — fuzz cnn_new's network spec.  The input is a first line
 * "C H W CLASSES" (the input shape and class count) and the spec after
 * it.  A spec that builds must describe itself consistently: its
 * normalised text builds the same network again, the layer shapes chain
 * and end in one score per class, and the layers' parameters add up.  A
 * small network then runs forward and takes one training step, so that
 * the shapes the parser accepted are the ones the layers can compute. */
#include "cnn.h"
#include "cnn_impl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_PARAMS = 1 << 18, MAX_RUN_PARAMS = 1 << 16, MAX_RUN_SIZE = 1 << 14 };

static void check(cnn *net, int c, int h, int w, int nclass)
{
	char err[CNN_ERRLEN];
	long sum = 0, size = (long)c * h * w;
	int i, lc, lh, lw;
	cnn *again;

	if (cnn_nlayers(net) < 1 || cnn_nclass(net) != nclass)
		abort();
	for (i = 0; i < cnn_nlayers(net); i++) {
		if (cnn_layer_shape(net, i, &lc, &lh, &lw) || lc < 1 || lh < 1 || lw < 1
		    || cnn_layer_nparams(net, i) < 0)
			abort();
		sum += cnn_layer_nparams(net, i);
		size += (long)lc * lh * lw;
	}
	if (sum != cnn_nparams(net) || lc != nclass || lh != 1 || lw != 1)
		abort();
	if (!(again = cnn_new(cnn_spec(net), c, h, w, nclass, 1, err)) ||
	    strcmp(cnn_spec(again), cnn_spec(net)) || cnn_nparams(again) != cnn_nparams(net))
		abort();
	cnn_free(again);
	if (cnn_nparams(net) <= MAX_RUN_PARAMS && size <= MAX_RUN_SIZE) {
		cnn_train_opts o;
		float x[2 * MAX_RUN_SIZE], prob[2 * 1024], loss;
		int y[2] = { 0, nclass - 1 };
		long k;

		if (nclass > 1024)
			return;
		for (k = 0; k < 2L * c * h * w; k++)
			x[k] = (float)((k * 37) % 17) / 8.f - 1.f;
		if (cnn_predict(net, x, 2, 1, prob, err))
			abort();
		for (k = 0; k < 2L * nclass; k++)
			if (!(prob[k] >= 0 && prob[k] <= 1))
				abort();
		cnn_train_defaults(&o);
		o.batch = 2;
		cnn_train_step(net, &o, x, y, 2, &loss, err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *spec, err[CNN_ERRLEN];
	int c = 3, h = 8, w = 8, nclass = 4, n = 0;
	cnn *net;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	spec = text;
	if (sscanf(text, "%d %d %d %d%n", &c, &h, &w, &nclass, &n) == 4 && n > 0)
		spec += n;
	if (cnn__spec_nparams(spec, c, h, w, nclass, err) <= MAX_PARAMS
	    && (net = cnn_new(spec, c, h, w, nclass, 1, err))) {
		check(net, c, h, w, nclass);
		cnn_free(net);
	}
	free(text);
	return 0;
}

/* hand_model — a model whose every output is known by hand, for the
 * faceeval and faceclassify tests.
 *
 * Network "fc N" on 3x1x1 input, classes red, green, blue, preprocessing
 * "stored=1 crop=1 std=0" (x = byte/255).  Weights: class k's row is 10 at
 * channel k and 0 elsewhere, biases 0, in both the raw and the averaged
 * weights, so the logits of a pixel (R, G, B) are 10*(R, G, B)/255 and the
 * class is its strongest channel.  The raw weights' red weight is -10 instead:
 * with -r (raw) no pixel is called red, and ties go to the lower class.
 *
 *   hand_model FILE [SETTINGS]  writes the model to FILE, with the
 *                               training settings string SETTINGS (as
 *                               an older facetrain wrote it)
 *   hand_model                  checks the model through libcnn (TAP) */
#include <math.h>
#include <string.h>

#include "cnn.h"
#include "cnn_impl.h"
#include "tap.h"

static cnn *build(char *err)
{
	static char *names[] = {"red", "green", "blue"};
	cnn *net = cnn_new("fc N", 3, 1, 1, 3, 1, err);
	long n, ne;
	float *p, *e;

	if (!net)
		return NULL;
	p = cnn__params(net, 0, &n);
	e = cnn__params(net, 1, &ne);
	if (n != 3 * 3 + 3 || ne != n) {
		snprintf(err, CNN_ERRLEN, "fc 3 on 3 inputs has %ld parameters, not 12", n);
		cnn_free(net);
		return NULL;
	}
	memset(p, 0, n * sizeof *p);
	memset(e, 0, n * sizeof *e);
	for (int k = 0; k < 3; k++)
		e[k * 3 + k] = p[k * 3 + k] = 10; /* rows out x in, then biases */
	p[0] = -10;
	if (cnn_set_class_names(net, names, 3, err) < 0 ||
	    cnn_set_prep(net, "stored=1 crop=1 std=0", err) < 0) {
		cnn_free(net);
		return NULL;
	}
	return net;
}

int main(int argc, char **argv)
{
	char err[CNN_ERRLEN];
	cnn *net = build(err);
	float x[3] = {1, 0, 0}, prob[3];

	if (argc > 1) {
		if (!net || (argc > 2 && cnn_set_train_settings(net, argv[2], err) < 0) ||
		    cnn_save(net, argv[1], err) < 0) {
			fprintf(stderr, "hand_model: %s\n", err);
			return 1;
		}
		cnn_free(net);
		return 0;
	}
	if (!ok(net != NULL, "the hand-made model builds: %s", net ? "" : err))
		return done_testing();
	/* a pure red pixel: logits (10, 0, 0), p(red) = e^10 / (e^10 + 2) */
	ok(cnn_predict(net, x, 1, 1, prob, err) == 0 &&
	   close_to(prob[0], exp(10) / (exp(10) + 2), 1e-5) &&
	   close_to(prob[1], 1 / (exp(10) + 2), 1e-5),
	   "averaged weights: red pixel is red with p = e^10/(e^10+2)");
	ok(cnn_predict(net, x, 1, 0, prob, err) == 0 &&
	   close_to(prob[0], exp(-10) / (exp(-10) + 2), 1e-5),
	   "raw weights: a red pixel's red logit is -10");
	cnn_free(net);
	return done_testing();
}

/* cnn.c — the network: spec parsing, shape inference, the parameter
 * blobs, forward and backward over the layers, the loss, the SGD step
 * with its moving average, and the threads.
 *
 * All parameters live in one contiguous blob (p), their gradients in
 * another (g), their moving average in a third (ema) and, once momentum
 * is used, their velocity in a fourth (v), each in layer order, a layer's
 * weights then its biases.  State that is saved but not trained (batch
 * norm's running statistics) lives in a blob of its own (st) with its
 * moving average (st_ema).
 *
 * A batch is cut into CHUNKS contiguous chunks (fewer if it has fewer
 * images), whatever the thread count; the layers run one after the
 * other, the threads sharing a layer's chunks, each chunk with its own
 * gradient buffer, and the chunks' gradients are summed in chunk order.
 * A batch kind (batch norm, dropout, the ends of a residual block) sees
 * the whole batch at once instead, with the threads inside.  So the same
 * seed gives the same bits for every thread count (up to CHUNKS threads
 * share the per-image layers).  OpenBLAS is held to one thread: our own
 * threads split the work more finely than it would.  A lone image is
 * split inside its convolutions instead (bands of output rows). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnn_impl.h"
#include "cnn_layer.h"

/* the layer kinds: a new kind is one file, its extern in cnn_layer.h and
 * one entry here */
static const cnn_kind *const kinds[] = {
	&cnn_kind_conv, &cnn_kind_pool, &cnn_kind_lrn, &cnn_kind_fc,
	&cnn_kind_bn, &cnn_kind_gap, &cnn_kind_dropout, &cnn_kind_res,
	&cnn_kind_add,
};

#define MAXPARTS 256	/* spec parts */
#define CHUNKS 8	/* a batch's chunks */
#define MAXWORDS 16	/* words in a part */
#define MAXSIZE (1L << 26)	/* floats in one image's activations */
#define BLOCK 256	/* images per forward pass in cnn_predict */
#define BLANKS " \t\r\n"	/* between a spec's words */

struct cnn {
	char *spec;
	int c, h, w, nclass;
	uint64_t seed;
	long step;
	int nl;
	cnn_layer *l;
	long np, ns, nbs;
	float *p, *g, *ema;
	float *st, *st_ema;	/* state (ns), its moving average */
	float *bst;		/* the layers' batch statistics (nbs) */
	float *v;		/* velocity, NULL unless the last step had momentum */
	int nesterov;		/* ... and it was Nesterov's */
	char **names;
	char *prep, *settings;
	/* work buffers, for up to cap images in up to nparts chunks */
	int cap, nparts, nws;
	float **act, **aux;	/* per layer: output, kept state */
	float **dskip;		/* per layer opening a block: the skip
				   path's gradient */
	float *d[2];		/* gradients of activations, ping-pong,
				   maxsize per image */
	float *ws;		/* scratch, maxws for each of nws threads */
	float *gpart;		/* gradients of chunks 1.. (chunk 0 uses g) */
	double *lpart;		/* loss of each chunk */
	long maxsize, maxws;
};

static int blas_threads;	/* what OpenBLAS was last told */

static void set_blas_threads(int n)
{
	if (n != blas_threads) {
		openblas_set_num_threads(n);
		blas_threads = n;
	}
}

void cnn_set_threads(int n)
{
	fk_pool_set_threads(n);
}

void cnn_train_defaults(cnn_train_opts *o)
{
	o->batch = 128;
	o->lr = 0.1f;
	o->lr_decay = 0.1f;
	o->decay_steps = 0;
	o->weight_decay = 0.004f;
	o->ema_decay = 0.9999f;
	o->schedule = CNN_SCHED_STEP;
	o->steps = 0;
	o->warmup = 0.05f;
	o->momentum = 0;
	o->nesterov = 0;
	o->decoupled_decay = 0;
	o->smoothing = 0;
}

/* --- building a network from its spec */

static const cnn_kind *find_kind(const char *name)
{
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	return NULL;
}

/* split s at c into at most max pieces, in place; the count or -1 */
static int split(char *s, const char *sep, char **out, int max)
{
	int n = 0;

	for (char *t = strtok(s, sep); t; t = strtok(NULL, sep)) {
		if (n == max)
			return -1;
		out[n++] = t;
	}
	return n;
}

static void trim(char **s)
{
	size_t n;

	*s += strspn(*s, BLANKS);
	n = strlen(*s);
	while (n && strchr(BLANKS, (*s)[n - 1]))
		(*s)[--n] = 0;
}

/* pair each layer that closes a block with the innermost open one */
static int link_blocks(cnn *net, char **parts, char *err)
{
	int open[MAXPARTS], depth = 0;

	for (int i = 0; i < net->nl; i++) {
		cnn_layer *l = &net->l[i];
		if (l->kind->bracket > 0)
			open[depth++] = i;
		if (l->kind->bracket >= 0)
			continue;
		if (!depth) {
			snprintf(err, CNN_ERRLEN, "spec part %d '%s': no "
				 "block (res) open to close", i + 1, parts[i]);
			return -1;
		}
		l->link = open[--depth];
		net->l[l->link].link = i;
	}
	if (depth) {
		snprintf(err, CNN_ERRLEN, "spec part %d '%s': block never "
			 "closed (add)", open[depth - 1] + 1,
			 parts[open[depth - 1]]);
		return -1;
	}
	return 0;
}

/* parse spec into net->l; -1 with the bad part named */
static int parse_spec(cnn *net, const char *spec, char *err)
{
	char *text = strdup(spec), *parts[MAXPARTS];
	char msg[CNN_ERRLEN_LAYER], what[64];
	int np = 0, i;
	const char *s = spec;

	if (!text) {
		snprintf(err, CNN_ERRLEN, "out of memory");
		return -1;
	}
	/* count parts ourselves: strtok would skip empty ones */
	for (np = 1; *s; s++)
		np += *s == ';';
	if (np > MAXPARTS) {
		snprintf(err, CNN_ERRLEN, "spec has %d parts, at most %d",
			 np, MAXPARTS);
		goto fail;
	}
	for (i = 0, s = text; i < np; i++) {
		char *end = strchr(s, ';');
		if (end)
			*end = 0;
		parts[i] = (char *)s;
		trim(&parts[i]);
		s = end ? end + 1 : s + strlen(s);
	}
	net->l = calloc(np, sizeof *net->l);
	if (!net->l) {
		snprintf(err, CNN_ERRLEN, "out of memory");
		goto fail;
	}
	for (i = 0; i < np; i++) {
		char *words[MAXWORDS + 1], copy[256];
		cnn_layer *l = &net->l[i];
		int nw;
		snprintf(what, sizeof what, "%s", parts[i]);
		snprintf(copy, sizeof copy, "%s", parts[i]);
		if (strlen(parts[i]) >= sizeof copy) {
			snprintf(err, CNN_ERRLEN, "spec part %d is too long",
				 i + 1);
			goto fail;
		}
		nw = split(copy, BLANKS, words, MAXWORDS + 1);
		if (nw == 0) {
			snprintf(err, CNN_ERRLEN, "spec part %d is empty",
				 i + 1);
			goto fail;
		}
		if (nw < 0 || nw > MAXWORDS) {
			snprintf(err, CNN_ERRLEN, "spec part %d '%s': too many "
				 "words", i + 1, what);
			goto fail;
		}
		l->kind = find_kind(words[0]);
		if (!l->kind) {
			char known[96] = "";
			for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++)
				snprintf(known + strlen(known), sizeof known - strlen(known),
					 "%s%s", k ? ", " : "", kinds[k]->name);
			snprintf(err, CNN_ERRLEN, "spec part %d '%s': unknown "
				 "layer kind '%.32s' (%s)",
				 i + 1, what, words[0], known);
			goto fail;
		}
		net->nl = i + 1;
		l->nclass = net->nclass;
		if (l->kind->parse(l, nw - 1, words + 1, msg)) {
			snprintf(err, CNN_ERRLEN, "spec part %d '%s': %s",
				 i + 1, what, msg);
			goto fail;
		}
	}
	if (link_blocks(net, parts, err))
		goto fail;
	if (net->l[np - 1].kind != &cnn_kind_fc) {
		snprintf(err, CNN_ERRLEN, "spec part %d '%s': the last part "
			 "must be fc N (the class scores)", np, parts[np - 1]);
		goto fail;
	}
	free(text);
	return 0;
fail:
	free(text);
	return -1;
}

/* shapes from layer to layer, parameter offsets, the normalised spec */
static int make_layers(cnn *net, char *err)
{
	char msg[CNN_ERRLEN_LAYER], part[256];
	int c = net->c, h = net->h, w = net->w, first = 1;
	size_t len = 0, cap = 64;

	net->spec = malloc(cap);
	if (!net->spec)
		goto oom;
	net->spec[0] = 0;
	for (int i = 0; i < net->nl; i++) {
		cnn_layer *l = &net->l[i];
		long size;
		l->c = c, l->h = h, l->w = w;
		l->first = first;
		l->last = i == net->nl - 1;
		if (l->kind->bracket < 0) {
			const cnn_layer *o = &net->l[l->link];
			l->lc = o->oc, l->lh = o->oh, l->lw = o->ow;
		}
		l->kind->print(l, part, sizeof part);
		if (l->kind->make(l, msg)) {
			snprintf(err, CNN_ERRLEN, "spec part %d '%s': %s",
				 i + 1, part, msg);
			return -1;
		}
		size = (long)l->oc * l->oh * l->ow;
		if (size > MAXSIZE || l->nw > MAXSIZE * 4L ||
		    l->ws > MAXSIZE * 4L) {
			snprintf(err, CNN_ERRLEN, "spec part %d '%s': %dx%dx%d "
				 "is too big", i + 1, part, l->oc, l->oh,
				 l->ow);
			return -1;
		}
		l->off = net->np;
		net->np += l->nw + l->nb;
		l->soff = net->ns;
		net->ns += l->ns;
		net->nbs += l->bs;
		if (l->nw)
			first = 0;
		c = l->oc, h = l->oh, w = l->ow;
		if (len + strlen(part) + 3 > cap) {
			char *t = realloc(net->spec, cap = 2 * (len + strlen(part) + 3));
			if (!t)
				goto oom;
			net->spec = t;
		}
		len += sprintf(net->spec + len, "%s%s", i ? "; " : "", part);
		if (size > net->maxsize)
			net->maxsize = size;
		if (l->ws > net->maxws)
			net->maxws = l->ws;
	}
	return 0;
oom:
	snprintf(err, CNN_ERRLEN, "out of memory");
	return -1;
}

static void init_params(cnn *net)
{
	cnn_rng r;

	cnn__rng_seed(&r, net->seed);
	for (int i = 0; i < net->nl; i++) {
		cnn_layer *l = &net->l[i];
		float *p = net->p + l->off;
		if (l->kind->init) {
			l->kind->init(l, p, net->st + l->soff);
			continue;
		}
		for (long j = 0; j < l->nw; j++)
			p[j] = cnn__rng_truncnorm(&r, l->std);
		for (long j = 0; j < l->nb; j++)
			p[l->nw + j] = l->bias;
	}
	memcpy(net->ema, net->p, net->np * sizeof *net->p);
	memcpy(net->st_ema, net->st, net->ns * sizeof *net->st);
}

/* the network of spec for that input, its layers laid out and counted,
 * without its parameters */
static cnn *build(const char *spec, int c, int h, int w, int nclass,
		  uint64_t seed, char *err)
{
	cnn *net;

	if (c < 1 || h < 1 || w < 1 || c > 4096 || h > 65536 || w > 65536 ||
	    (long)c * h * w > MAXSIZE) {
		snprintf(err, CNN_ERRLEN, "input shape %dx%dx%d out of range",
			 c, h, w);
		return NULL;
	}
	if (nclass < 1 || nclass > 1 << 20) {
		snprintf(err, CNN_ERRLEN, "class count %d out of range",
			 nclass);
		return NULL;
	}
	if (!spec)
		spec = CNN_TUTORIAL_SPEC;
	net = calloc(1, sizeof *net);
	if (!net) {
		snprintf(err, CNN_ERRLEN, "out of memory");
		return NULL;
	}
	net->c = c, net->h = h, net->w = w, net->nclass = nclass;
	net->seed = seed;
	if (parse_spec(net, spec, err) || make_layers(net, err)) {
		cnn_free(net);
		return NULL;
	}
	return net;
}

long cnn__spec_nparams(const char *spec, int c, int h, int w, int nclass,
		       char *err)
{
	cnn *net = build(spec, c, h, w, nclass, 0, err);
	long n = net ? net->np : -1;

	cnn_free(net);
	return n;
}

cnn *cnn_new(const char *spec, int c, int h, int w, int nclass,
	     uint64_t seed, char *err)
{
	cnn *net = build(spec, c, h, w, nclass, seed, err);

	if (!net)
		return NULL;
	net->p = malloc(net->np * sizeof *net->p);
	net->g = malloc(net->np * sizeof *net->g);
	net->ema = malloc(net->np * sizeof *net->ema);
	net->st = malloc(net->ns * sizeof *net->st + 1);
	net->st_ema = malloc(net->ns * sizeof *net->st + 1);
	net->bst = calloc(net->nbs + 1, sizeof *net->bst);
	if (!net->p || !net->g || !net->ema || !net->st || !net->st_ema ||
	    !net->bst) {
		snprintf(err, CNN_ERRLEN, "out of memory for %ld parameters",
			 net->np);
		cnn_free(net);
		return NULL;
	}
	for (long i = 0, o = 0; i < net->nl; o += net->l[i++].bs)
		net->l[i].bstat = net->bst + o;
	init_params(net);
	return net;
}

static void free_buffers(cnn *net)
{
	for (int i = 0; i < net->nl; i++) {
		if (net->act)
			free(net->act[i]);
		if (net->aux)
			free(net->aux[i]);
		if (net->dskip)
			free(net->dskip[i]);
	}
	free(net->act), free(net->aux), free(net->dskip);
	net->dskip = NULL;
	free(net->d[0]), free(net->d[1]);
	free(net->ws), free(net->gpart), free(net->lpart);
	net->act = net->aux = NULL;
	net->d[0] = net->d[1] = net->ws = net->gpart = NULL;
	net->lpart = NULL;
	net->cap = net->nparts = net->nws = 0;
}

void cnn_free(cnn *net)
{
	if (!net)
		return;
	free_buffers(net);
	for (int i = 0; i < net->nl; i++)
		free(net->l[i].cfg);
	free(net->l);
	for (int i = 0; net->names && i < net->nclass; i++)
		free(net->names[i]);
	free(net->names);
	free(net->prep), free(net->settings), free(net->spec);
	free(net->p), free(net->g), free(net->ema), free(net->v);
	free(net->st), free(net->st_ema), free(net->bst);
	free(net);
}

/* room for n images in parts parts */
static int ensure(cnn *net, int n, int parts, char *err)
{
	int nws = parts > fk_pool_threads() ? parts : fk_pool_threads();

	if (n <= net->cap && parts <= net->nparts && nws <= net->nws)
		return 0;
	if (nws < net->nws)
		nws = net->nws;
	if (n < net->cap)
		n = net->cap;
	if (parts < net->nparts)
		parts = net->nparts;
	free_buffers(net);
	net->act = calloc(net->nl, sizeof *net->act);
	net->aux = calloc(net->nl, sizeof *net->aux);
	net->dskip = calloc(net->nl, sizeof *net->dskip);
	if (!net->act || !net->aux || !net->dskip)
		goto oom;
	for (int i = 0; i < net->nl; i++) {
		cnn_layer *l = &net->l[i];
		net->act[i] = malloc((size_t)n * l->oc * l->oh * l->ow *
				     sizeof(float));
		net->aux[i] = malloc((size_t)n * l->aux * sizeof(float) + 1);
		if (!net->act[i] || !net->aux[i])
			goto oom;
		if (l->kind->bracket > 0 &&
		    !(net->dskip[i] = malloc((size_t)n * l->oc * l->oh *
					     l->ow * sizeof(float))))
			goto oom;
	}
	for (int k = 0; k < 2; k++)
		if (!(net->d[k] = malloc((size_t)n * net->maxsize *
					 sizeof(float))))
			goto oom;
	net->ws = malloc((size_t)nws * net->maxws * sizeof(float) + 1);
	net->gpart = malloc((size_t)(parts - 1) * net->np * sizeof(float) + 1);
	net->lpart = malloc(parts * sizeof *net->lpart);
	if (!net->ws || !net->gpart || !net->lpart)
		goto oom;
	net->cap = n, net->nparts = parts, net->nws = nws;
	return 0;
oom:
	free_buffers(net);
	snprintf(err, CNN_ERRLEN, "out of memory for a batch of %d", n);
	return -1;
}

/* --- forward and backward over a batch */

typedef struct {
	cnn *net;
	const float *p;		/* parameters: p or ema */
	const float *x;
	const int *y;		/* labels, NULL = forward only */
	int n, chunks, layer;
	float *dy, *dx;		/* backward: the layer's gradients */
	float smooth;		/* label smoothing */
} job;

static long in_size(const cnn_layer *l)
{
	return (long)l->c * l->h * l->w;
}

static long out_size(const cnn_layer *l)
{
	return (long)l->oc * l->oh * l->ow;
}

/* mean cross-entropy's share for images lo..lo+m-1 of n against the
 * targets q = (1 - e) onehot(y) + e/k, and its gradient d = (softmax(z) -
 * q) / n; with e = 0, the plain one-hot loss to the bit */
static double softmax_xent(const float *z, const int *y, int m, int n,
			   int k, float e, float *d)
{
	double loss = 0;

	for (int i = 0; i < m; i++, z += k, d += k) {
		float max = z[0];
		double sum = 0, all = 0;
		for (int j = 1; j < k; j++)
			max = z[j] > max ? z[j] : max;
		for (int j = 0; j < k; j++)
			sum += exp((double)z[j] - max);
		loss += log(sum) - ((double)z[y[i]] - max);
		for (int j = 0; j < k; j++)
			d[j] = (float)(exp((double)z[j] - max) / sum / n);
		d[y[i]] -= 1.0f / n;
		if (e == 0)
			continue;
		/* -sum q log p = (1 - e)(-log p_y) + e/k sum_j (-log p_j) */
		for (int j = 0; j < k; j++)
			all += log(sum) - ((double)z[j] - max);
		loss += e * (all / k - (log(sum) - ((double)z[y[i]] - max)));
		for (int j = 0; j < k; j++)
			d[j] -= e / k / n;
		d[y[i]] += e / n;
	}
	return loss;
}

/* the layer's input for the whole batch */
static const float *input(const job *jb, int i)
{
	return i ? jb->net->act[i - 1] : jb->x;
}

/* images lo..hi-1 of chunk k */
static void chunk(const job *jb, int k, int *lo, int *m)
{
	*lo = (long)jb->n * k / jb->chunks;
	*m = (long)jb->n * (k + 1) / jb->chunks - *lo;
}

/* layer jb->layer of a per-image kind on the chunks of thread part */
static void forward_part(void *arg, int part, int nparts)
{
	const job *jb = arg;
	cnn *net = jb->net;
	int i = jb->layer, lo, m;
	const cnn_layer *l = &net->l[i];

	for (int k = jb->chunks * part / nparts;
	     k < jb->chunks * (part + 1) / nparts; k++) {
		chunk(jb, k, &lo, &m);
		/* no backward follows: nothing to keep */
		l->kind->forward(l, jb->p + l->off, input(jb, i) + lo *
				 in_size(l), net->act[i] + lo * out_size(l),
				 jb->y ? net->aux[i] + lo * l->aux : NULL,
				 net->ws + part * net->maxws, m);
	}
}

/* the loss of the chunks of thread part, the gradient of the logits,
 * and the chunks' parameter gradients cleared */
static void loss_part(void *arg, int part, int nparts)
{
	const job *jb = arg;
	cnn *net = jb->net;
	int lo, m;

	for (int k = jb->chunks * part / nparts;
	     k < jb->chunks * (part + 1) / nparts; k++) {
		chunk(jb, k, &lo, &m);
		memset(k ? net->gpart + (k - 1) * net->np : net->g, 0,
		       net->np * sizeof *net->g);
		net->lpart[k] = softmax_xent(net->act[net->nl - 1] + (long)lo *
					     net->nclass, jb->y + lo, m, jb->n,
					     net->nclass, jb->smooth,
					     net->d[0] + (long)lo * net->nclass);
	}
}

static void backward_part(void *arg, int part, int nparts)
{
	const job *jb = arg;
	cnn *net = jb->net;
	int i = jb->layer, lo, m;
	const cnn_layer *l = &net->l[i];

	for (int k = jb->chunks * part / nparts;
	     k < jb->chunks * (part + 1) / nparts; k++) {
		float *dp = k ? net->gpart + (k - 1) * net->np : net->g;
		chunk(jb, k, &lo, &m);
		l->kind->backward(l, jb->p + l->off, input(jb, i) + lo *
				  in_size(l), net->act[i] + lo * out_size(l),
				  net->aux[i] + lo * l->aux,
				  jb->dy + lo * out_size(l),
				  i ? jb->dx + lo * in_size(l) : NULL,
				  dp + l->off, net->ws + part * net->maxws, m);
	}
}

/* the chunks of n images: a count that depends on n alone */
static int plan(cnn *net, int n)
{
	set_blas_threads(1);
	return n < CHUNKS ? n : CHUNKS;
}

/* the random numbers of layer i at this step */
static unsigned long long layer_seed(const cnn *net, int i)
{
	return net->seed ^ (net->step + 1) * 0x9e3779b97f4a7c15ULL ^
	       (i + 1ULL) * 0xd1b54a32d192ed03ULL;
}

/* run n images (n <= cap) through the network in chunks chunks, layer
 * after layer; with labels y, in training mode, then back: the loss of
 * each chunk in lpart, the gradient of each in g and gpart */
static void run(cnn *net, int ema, const float *x, const int *y, int n,
		int chunks, float smooth)
{
	int t = fk_pool_threads(), tc = chunks < t ? chunks : t;
	job jb = {net, ema ? net->ema : net->p, x, y, n, chunks, 0, NULL,
		  NULL, smooth};
	int k = 0;

	for (int i = 0; i < net->nl; i++) {
		cnn_layer *l = &net->l[i];
		l->train = y != NULL;
		l->rseed = layer_seed(net, i);
		l->state = (ema ? net->st_ema : net->st) + l->soff;
		if (l->kind->bracket < 0)
			l->skip = net->act[l->link];
		l->dskip = net->dskip[l->kind->bracket < 0 ? l->link : i];
		l->inner = l->kind->batch || chunks == 1 ? t : 1;
		jb.layer = i;
		if (l->kind->batch)
			l->kind->forward(l, jb.p + l->off, input(&jb, i),
					 net->act[i], y ? net->aux[i] : NULL,
					 net->ws, n);
		else
			fk_pool_run(tc, forward_part, &jb);
	}
	if (!y)
		return;
	fk_pool_run(tc, loss_part, &jb);
	for (int i = net->nl - 1; i >= 0; i--, k ^= 1) {
		cnn_layer *l = &net->l[i];
		jb.layer = i;
		jb.dy = net->d[k], jb.dx = net->d[k ^ 1];
		if (l->kind->batch)
			l->kind->backward(l, jb.p + l->off, input(&jb, i),
					  net->act[i], net->aux[i], jb.dy,
					  i ? jb.dx : NULL, net->g + l->off,
					  net->ws, n);
		else
			fk_pool_run(tc, backward_part, &jb);
	}
}

/* --- gradient reduction, weight decay and the update, over index ranges */

typedef struct {
	cnn *net;
	int parts;
	float wd, lr, ema;
	float mu, dd;	/* momentum (0: none), decoupled decay */
	int nesterov;
	double *l2;	/* per range: sum of decayed w^2 */
} sweep;

/* call fn on the pieces of [lo, hi) that are one layer's weights (with
 * the layer) or one layer's biases (with NULL) */
static void ranges(const cnn *net, long lo, long hi,
		   void (*fn)(const sweep *, long, long, const cnn_layer *,
			      double *),
		   const sweep *s, double *acc)
{
	for (int i = 0; i < net->nl; i++) {
		const cnn_layer *l = &net->l[i];
		long a = l->off, b = l->off + l->nw, c = b + l->nb;
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (a < b)
			fn(s, a, b, l, acc);
		a = l->off + l->nw > lo ? l->off + l->nw : lo;
		c = c < hi ? c : hi;
		if (a < c)
			fn(s, a, c, NULL, acc);
	}
}

static void reduce_range(const sweep *s, long a, long b, const cnn_layer *l,
			 double *l2)
{
	cnn *net = s->net;
	float *g = net->g, *w = net->p, wd = l && l->decay ? s->wd : 0;

	for (int t = 1; t < s->parts; t++) {
		const float *gp = net->gpart + (t - 1) * net->np;
		for (long j = a; j < b; j++)
			g[j] += gp[j];
	}
	if (wd == 0)
		return;
	for (long j = a; j < b; j++) {
		g[j] += wd * w[j];
		*l2 += (double)wd * w[j] * w[j];
	}
}

static void reduce_part(void *arg, int part, int nparts)
{
	sweep *s = arg;
	long np = s->net->np;

	s->l2[part] = 0;
	ranges(s->net, np * part / nparts, np * (part + 1) / nparts,
	       reduce_range, s, &s->l2[part]);
}

/* the step u: g, or with momentum v = mu v + g and u = v (classical) or
 * g + mu v (Nesterov), plus the decoupled decay d w on weights that take
 * it; w -= lr u; then the average.  Without momentum and decoupled decay
 * this is the tutorial's w -= lr g, to the bit. */
static void update_range(const sweep *s, long a, long b, const cnn_layer *l,
			 double *unused)
{
	cnn *net = s->net;
	float *w = net->p, *g = net->g, *e = net->ema;
	float *v = s->mu != 0 ? net->v : NULL, mu = s->mu;
	float d = l && l->decoupled ? s->dd : 0;

	for (long j = a; j < b; j++) {
		float u = g[j];
		if (v) {
			v[j] = mu * v[j] + u;
			u = s->nesterov ? u + mu * v[j] : v[j];
		}
		if (d != 0)
			u += d * w[j];
		w[j] -= s->lr * u;
		e[j] -= (1 - s->ema) * (e[j] - w[j]);
	}
}

static void update_part(void *arg, int part, int nparts)
{
	sweep *s = arg;
	long np = s->net->np;

	ranges(s->net, np * part / nparts, np * (part + 1) / nparts,
	       update_range, s, NULL);
}

/* the state after a step: towards the batch's statistics, and its average
 * towards it as the weights' average does */
static void follow_batch(cnn *net, float ema)
{
	for (int i = 0; i < net->nl; i++) {
		const cnn_layer *l = &net->l[i];
		float *st = net->st + l->soff, *e = net->st_ema + l->soff;
		for (long j = 0; j < l->ns; j++) {
			st[j] += l->momentum * (l->bstat[j] - st[j]);
			e[j] -= (1 - ema) * (e[j] - st[j]);
		}
	}
}

static int check_batch(const cnn *net, const float *x, const int *y, int n,
		       char *err)
{
	if (n < 1 || !x || !y) {
		snprintf(err, CNN_ERRLEN, "empty batch (%d images)", n);
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (y[i] < 0 || y[i] >= net->nclass) {
			snprintf(err, CNN_ERRLEN, "label %d of image %d is not "
				 "in 0-%d", y[i], i, net->nclass - 1);
			return -1;
		}
	return 0;
}

float *cnn__grad(cnn *net, float wd, const float *x, const int *y, int n,
		 double *loss, char *err)
{
	return cnn__grad_smooth(net, wd, 0, x, y, n, loss, err);
}

float *cnn__grad_smooth(cnn *net, float wd, float smooth, const float *x,
			const int *y, int n, double *loss, char *err)
{
	int parts = plan(net, n), t = fk_pool_threads();
	double l2s[FK_POOL_MAX], sum = 0, l2 = 0;
	sweep s = {net, parts, wd, 0, 0, 0, 0, 0, l2s};

	if (check_batch(net, x, y, n, err) || ensure(net, n, parts, err))
		return NULL;
	run(net, 0, x, y, n, parts, smooth);
	fk_pool_run(t, reduce_part, &s);
	for (int i = 0; i < parts; i++)
		sum += net->lpart[i];
	for (int i = 0; i < t; i++)
		l2 += l2s[i];
	*loss = sum / n + l2 / 2;
	if (!isfinite(*loss)) {
		snprintf(err, CNN_ERRLEN, "the loss is not finite (%g): the "
			 "learning rate may be too high", *loss);
		return NULL;
	}
	return net->g;
}

float cnn_learning_rate(const cnn *net, const cnn_train_opts *o)
{
	long t = net->step, warm;

	if (o->schedule == CNN_SCHED_COSINE) {
		if (t >= o->steps)
			return 0;
		warm = (long)((double)o->warmup * o->steps + 0.5);
		if (t < warm)
			return (float)((double)o->lr * (t + 1) / warm);
		return (float)(o->lr * 0.5 * (1 + cos(M_PI * (t - warm) /
						       (o->steps - warm))));
	}
	if (o->decay_steps <= 0)
		return o->lr;
	return o->lr * powf(o->lr_decay, (float)(net->step / o->decay_steps));
}

static int check_opts(const cnn_train_opts *o, char *err)
{
	if (!(o->lr >= 0 && isfinite(o->lr) && o->lr_decay >= 0 &&
	      isfinite(o->lr_decay) && o->weight_decay >= 0 &&
	      isfinite(o->weight_decay) && o->ema_decay >= 0 &&
	      o->ema_decay <= 1)) {
		snprintf(err, CNN_ERRLEN, "bad training settings (lr %g, "
			 "decay %g, weight decay %g, average %g)", o->lr,
			 o->lr_decay, o->weight_decay, o->ema_decay);
		return -1;
	}
	if (o->batch < 1) {
		snprintf(err, CNN_ERRLEN, "bad batch size %d", o->batch);
		return -1;
	}
	if (!(o->momentum >= 0 && o->momentum < 1) ||
	    !(o->decoupled_decay >= 0 && isfinite(o->decoupled_decay)) ||
	    !(o->smoothing >= 0 && o->smoothing <= 1) ||
	    (o->nesterov != 0 && o->nesterov != 1)) {
		snprintf(err, CNN_ERRLEN, "bad training settings (momentum %g "
			 "in [0, 1), nesterov %d, decoupled decay %g, label "
			 "smoothing %g in [0, 1])", o->momentum, o->nesterov,
			 o->decoupled_decay, o->smoothing);
		return -1;
	}
	if (o->schedule == CNN_SCHED_COSINE) {
		if (o->steps < 1 || !(o->warmup >= 0 && o->warmup < 1)) {
			snprintf(err, CNN_ERRLEN, "bad cosine schedule (%ld "
				 "steps, warm-up %g in [0, 1))", o->steps,
				 o->warmup);
			return -1;
		}
	} else if (o->schedule != CNN_SCHED_STEP) {
		snprintf(err, CNN_ERRLEN, "unknown schedule %d", o->schedule);
		return -1;
	}
	return 0;
}

int cnn_train_step(cnn *net, const cnn_train_opts *o, const float *x,
		   const int *y, int n, float *loss, char *err)
{
	sweep s = {net, 0, 0, cnn_learning_rate(net, o), 0, o->momentum,
		   o->decoupled_decay, o->nesterov, NULL};
	double l, k;

	if (check_opts(o, err))
		return -1;
	if (o->schedule == CNN_SCHED_COSINE && net->step >= o->steps) {
		snprintf(err, CNN_ERRLEN, "the cosine schedule of %ld steps "
			 "has ended (step %ld)", o->steps, net->step);
		return -1;
	}
	if (o->momentum != 0 && !net->v &&
	    !(net->v = calloc(net->np, sizeof *net->v))) {
		snprintf(err, CNN_ERRLEN, "out of memory for the velocity of "
			 "%ld parameters", net->np);
		return -1;
	}
	if (!cnn__grad_smooth(net, o->weight_decay, o->smoothing, x, y, n, &l,
			      err))
		return -1;
	/* the average of the updated weights, with TensorFlow's warm-up
	 * min(decay, (1 + step)/(10 + step)) at the step count after this
	 * step (the tutorial's train() runs the average beside
	 * apply_gradients, which advances global_step; in the versions that
	 * order them the average follows the update) */
	k = (1.0 + net->step + 1) / (10.0 + net->step + 1);
	s.ema = k < o->ema_decay ? k : o->ema_decay;
	fk_pool_run(fk_pool_threads(), update_part, &s);
	follow_batch(net, s.ema);
	net->step++;
	net->nesterov = o->nesterov;
	if (o->momentum == 0) {	/* the velocity is the last step's */
		free(net->v);
		net->v = NULL;
	}
	if (loss)
		*loss = l;
	return 0;
}

int cnn_forward(cnn *net, const float *x, int n, int ema, float *logits,
		char *err)
{
	long in = (long)net->c * net->h * net->w;

	if (n < 0 || (n && (!x || !logits))) {
		snprintf(err, CNN_ERRLEN, "bad image count %d", n);
		return -1;
	}
	for (int i = 0; i < n; i += BLOCK) {
		int m = n - i < BLOCK ? n - i : BLOCK, parts = plan(net, m);
		if (ensure(net, m, parts, err))
			return -1;
		run(net, ema, x + i * in, NULL, m, parts, 0);
		memcpy(logits + (long)i * net->nclass, net->act[net->nl - 1],
		       (size_t)m * net->nclass * sizeof *logits);
	}
	return 0;
}

int cnn_predict(cnn *net, const float *x, int n, int ema, float *prob,
		char *err)
{
	int k = net->nclass;

	if (cnn_forward(net, x, n, ema, prob, err))
		return -1;
	for (long i = 0; i < n; i++) {
		float *z = prob + i * k, max = z[0];
		double sum = 0;
		for (int j = 1; j < k; j++)
			max = z[j] > max ? z[j] : max;
		for (int j = 0; j < k; j++)
			sum += exp((double)z[j] - max);
		for (int j = 0; j < k; j++)
			z[j] = (float)(exp((double)z[j] - max) / sum);
	}
	return 0;
}

/* --- what the model knows about itself */

int cnn_nclass(const cnn *net)
{
	return net->nclass;
}

void cnn_input_shape(const cnn *net, int *c, int *h, int *w)
{
	*c = net->c, *h = net->h, *w = net->w;
}

const char *cnn_spec(const cnn *net)
{
	return net->spec;
}

long cnn_step_count(const cnn *net)
{
	return net->step;
}

long cnn_nparams(const cnn *net)
{
	return net->np;
}

int cnn_nlayers(const cnn *net)
{
	return net->nl;
}

const char *cnn_layer_kind(const cnn *net, int i)
{
	return i >= 0 && i < net->nl ? net->l[i].kind->name : NULL;
}

int cnn_layer_shape(const cnn *net, int i, int *c, int *h, int *w)
{
	if (i < 0 || i >= net->nl)
		return -1;
	*c = net->l[i].oc, *h = net->l[i].oh, *w = net->l[i].ow;
	return 0;
}

long cnn_layer_nparams(const cnn *net, int i)
{
	return i >= 0 && i < net->nl ? net->l[i].nw + net->l[i].nb : -1;
}

int cnn_set_class_names(cnn *net, char *const *names, int n, char *err)
{
	char **copy;

	if (n != net->nclass || !names) {
		snprintf(err, CNN_ERRLEN, "%d class names for %d classes",
			 names ? n : 0, net->nclass);
		return -1;
	}
	copy = calloc(n, sizeof *copy);
	if (!copy)
		goto oom;
	for (int i = 0; i < n; i++) {
		if (!names[i] || !*names[i] || strchr(names[i], '\n')) {
			snprintf(err, CNN_ERRLEN, "class name %d is empty or "
				 "holds a newline", i);
			goto fail;
		}
		if (!(copy[i] = strdup(names[i])))
			goto oom;
	}
	for (int i = 0; net->names && i < n; i++)
		free(net->names[i]);
	free(net->names);
	net->names = copy;
	return 0;
oom:
	snprintf(err, CNN_ERRLEN, "out of memory");
fail:
	for (int i = 0; copy && i < n; i++)
		free(copy[i]);
	free(copy);
	return -1;
}

const char *cnn_class_name(const cnn *net, int i)
{
	return net->names && i >= 0 && i < net->nclass ? net->names[i] : NULL;
}

/* *slot = a copy of text ("" for NULL) */
static int set_text(char **slot, const char *text, char *err)
{
	char *copy = strdup(text ? text : "");

	if (!copy) {
		snprintf(err, CNN_ERRLEN, "out of memory");
		return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int cnn_set_prep(cnn *net, const char *prep, char *err)
{
	return set_text(&net->prep, prep, err);
}

const char *cnn_prep(const cnn *net)
{
	return net->prep ? net->prep : "";
}

int cnn_set_train_settings(cnn *net, const char *text, char *err)
{
	return set_text(&net->settings, text, err);
}

const char *cnn_train_settings(const cnn *net)
{
	return net->settings ? net->settings : "";
}

/* --- cnn_impl.h */

float *cnn__params(cnn *net, int ema, long *n)
{
	*n = net->np;
	return ema ? net->ema : net->p;
}

float *cnn__state(cnn *net, int ema, long *n)
{
	*n = net->ns;
	return ema ? net->st_ema : net->st;
}

uint64_t cnn__seed(const cnn *net)
{
	return net->seed;
}

void cnn__set_step(cnn *net, long step)
{
	net->step = step;
}

float *cnn__velocity(const cnn *net, int *nesterov)
{
	if (nesterov)
		*nesterov = net->v && net->nesterov;
	return net->v;
}

float *cnn__set_velocity(cnn *net, int nesterov)
{
	if (!net->v)
		net->v = calloc(net->np, sizeof *net->v);
	net->nesterov = nesterov;
	return net->v;
}

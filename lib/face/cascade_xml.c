/* cascade_xml.c — read a cascade in OpenCV's XML (see cascade.h)
 * through libxml2.
 * The XML layout is opencv_traincascade's: <opencv_storage><cascade> with
 * stageType, featureType, height, width, featureParams/maxCatCount, stages
 * (each with stageThreshold and weakClassifiers, each of those with
 * internalNodes "left right feature threshold" or, for LBP, "left right
 * feature subset[8]", and leafValues) and features (rects "x y w h weight"
 * and tilted for HAAR, rect "x y w h" for LBP).  Here the XML reader
 * checks the syntax (elements, number counts, integers); what the numbers
 * mean is checked by fk_cascade_check (cascade_check.c). */
#include "cascade_impl.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>
#include <pthread.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* ---- the XML reader ----
 * libxml2 is loaded when the first XML cascade is read, not linked: with
 * the ICU and C++ libraries it pulls in, it costs every process some 2 ms
 * of start-up, as much as finding the faces of a small photo with a
 * packed cascade. */
static struct {
	__typeof__(xmlReadMemory) *readMemory;
	__typeof__(xmlSetGenericErrorFunc) *setGenericErrorFunc;
	__typeof__(xmlGetLastError) *getLastError;
	__typeof__(xmlDocGetRootElement) *docGetRootElement;
	__typeof__(xmlFreeDoc) *freeDoc;
	__typeof__(xmlGetLineNo) *getLineNo;
	__typeof__(xmlNodeGetContent) *nodeGetContent;
	__typeof__(xmlGetProp) *getProp;
	xmlFreeFunc *free;
	char why[160]; /* empty when all is there */
} X;
static pthread_once_t x_once = PTHREAD_ONCE_INIT;

static void load_libxml2(void)
{
	static const char *const names[] = { "xmlReadMemory", "xmlSetGenericErrorFunc", "xmlGetLastError",
		"xmlDocGetRootElement", "xmlFreeDoc", "xmlGetLineNo", "xmlNodeGetContent", "xmlGetProp",
		"xmlFree" };
	void *h = dlopen("libxml2.so.2", RTLD_NOW | RTLD_LOCAL), *f[9];
	size_t i;

	if (!h) {
		snprintf(X.why, sizeof X.why, "cannot load libxml2 to read XML: %s", dlerror());
		return;
	}
	for (i = 0; i < 9; i++)
		if (!(f[i] = dlsym(h, names[i]))) {
			snprintf(X.why, sizeof X.why, "libxml2 has no %s", names[i]);
			return;
		}
	/* a data pointer to a function pointer: POSIX guarantees dlsym's */
	memcpy(&X.readMemory, &f[0], sizeof f[0]);
	memcpy(&X.setGenericErrorFunc, &f[1], sizeof f[0]);
	memcpy(&X.getLastError, &f[2], sizeof f[0]);
	memcpy(&X.docGetRootElement, &f[3], sizeof f[0]);
	memcpy(&X.freeDoc, &f[4], sizeof f[0]);
	memcpy(&X.getLineNo, &f[5], sizeof f[0]);
	memcpy(&X.nodeGetContent, &f[6], sizeof f[0]);
	memcpy(&X.getProp, &f[7], sizeof f[0]);
	X.free = f[8]; /* xmlFree is a variable holding the function */
}

struct loader {
	const char *path;
	char *err;
	/* the lines of the stages, trees (their <internalNodes>) and
	 * features, for fk_cascade_check's faults */
	long *stage_line, *tree_line, *feat_line;
};

/* "PATH:LINE: message" (LINE left out when node is NULL); returns -1 */
static int fail(struct loader *L, xmlNode *node, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (node)
		snprintf(L->err, FK_ERRLEN, "%s:%ld: %s", L->path, X.getLineNo(node), msg);
	else
		snprintf(L->err, FK_ERRLEN, "%s: %s", L->path, msg);
	return -1;
}

static int is_elem(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && (!name || !strcmp((const char *)n->name, name));
}

static xmlNode *child(xmlNode *parent, const char *name)
{
	xmlNode *n;

	for (n = parent->children; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

static int count_elems(xmlNode *parent)
{
	xmlNode *n;
	int k = 0;

	for (n = parent->children; n; n = n->next)
		k += is_elem(n, NULL);
	return k;
}

/* the element named name under parent, or an error naming what lacks it */
static xmlNode *need(struct loader *L, xmlNode *parent, const char *name, const char *what)
{
	xmlNode *n = child(parent, name);

	if (!n)
		fail(L, parent, "%s has no <%s>", what, name);
	return n;
}

/* Parse the numbers in node's text into (*v)[0..*k), growing *v (of *cap
 * doubles).  -1 on a bad number or when out of memory. */
static int numbers(struct loader *L, xmlNode *node, double **v, int *cap, int *k)
{
	/* an element holding one text node is read in place */
	int whole = node->children && node->children->type == XML_TEXT_NODE && !node->children->next;
	xmlChar *text = whole ? node->children->content : X.nodeGetContent(node);
	char *s = (char *)text, *end;
	int n = 0, rc = 0;

	if (!text)
		return whole ? (*k = 0) : fail(L, node, "out of memory");
	for (;;) {
		double d;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (!*s)
			break;
		errno = 0;
		d = strtod(s, &end);
		if (end == s || errno == ERANGE || !isfinite(d)) {
			size_t len = strcspn(s, " \t\r\n");
			rc = fail(L, node, "<%s>: \"%.*s\" is not a finite number", node->name,
				  (int)(len < 20 ? len : 20), s);
			break;
		}
		if (n == *cap) {
			int nc = *cap ? 2 * *cap : 16;
			double *nv = realloc(*v, nc * sizeof *nv);
			if (!nv) {
				rc = fail(L, NULL, "out of memory");
				break;
			}
			*v = nv;
			*cap = nc;
		}
		(*v)[n++] = d;
		s = end;
	}
	if (!whole)
		(*X.free)(text);
	*k = n;
	return rc;
}

/* the numbers of node, which must be exactly want of them */
static int fixed_numbers(struct loader *L, xmlNode *node, double *out, int want)
{
	double *v = NULL;
	int cap = 0, k, rc;

	rc = numbers(L, node, &v, &cap, &k);
	if (!rc && k != want)
		rc = fail(L, node, "<%s> has %d number%s, not %d", node->name, k, k == 1 ? "" : "s", want);
	if (!rc)
		memcpy(out, v, want * sizeof *v);
	free(v);
	return rc;
}

/* v as an int, when it is one */
static int as_int(double v, int *out)
{
	if (!(v >= INT_MIN && v <= INT_MAX) || v != (int)v)
		return 0;
	*out = (int)v;
	return 1;
}

/* v as a float; beyond a float's range an infinity, which the checks refuse */
static float as_float(double v)
{
	return fabs(v) <= FLT_MAX ? (float)v : v > 0 ? INFINITY : -INFINITY;
}

/* the integers of v[0..n) into out, or an error naming the first that is not one */
static int ints(struct loader *L, xmlNode *node, const double *v, int n, int *out, const char *what, int i)
{
	for (int k = 0; k < n; k++)
		if (!as_int(v[k], &out[k]))
			return fail(L, node, "%s %d: \"%g\" is not an integer", what, i, v[k]);
	return 0;
}

/* one integer in lo..hi from the text of parent's element name */
static int int_field(struct loader *L, xmlNode *parent, const char *name,
		     long lo, long hi, const char *what, int *out)
{
	xmlNode *n = need(L, parent, name, what);
	double v;

	if (!n || fixed_numbers(L, n, &v, 1))
		return -1;
	if (!as_int(v, out) || v < lo || v > hi)
		return fail(L, n, "<%s> should be one integer in %ld..%ld", name, lo, hi);
	return 0;
}

static int text_is(xmlNode *n, const char *want)
{
	xmlChar *t = X.nodeGetContent(n);
	char *s = (char *)t;
	size_t len;
	int eq;

	if (!t)
		return 0;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	len = strcspn(s, " \n\t\r");
	eq = len == strlen(want) && !strncmp(s, want, len) && !s[len + strspn(s + len, " \n\t\r")];
	(*X.free)(t);
	return eq;
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	void *q;

	if (need <= *cap)
		return p;
	*cap = need > 2 * *cap ? need : 2 * *cap;
	q = realloc(p, *cap * size);
	if (!q)
		free(p);
	return q;
}

/* one weak classifier: its nodes (internalNodes in v[0..nn)) and leaves */
static int load_tree(struct loader *L, fk_cascade *c, xmlNode *in, const double *v, int nn,
		     size_t *cap_nodes, size_t *cap_sub)
{
	int node_len = 3 + (c->ncat > 0 ? c->subset_size : 1), j, q;
	struct fk_tree *T = &c->trees[c->ntrees];

	if (nn == 0 || nn % node_len)
		return fail(L, in, "<internalNodes> has %d numbers, not a multiple of %d", nn, node_len);
	T->node = c->nnodes;
	T->nnodes = nn / node_len;
	T->leaf = c->nleaves;
	c->nodes = grow(c->nodes, cap_nodes, (size_t)c->nnodes + T->nnodes, sizeof *c->nodes);
	if (c->ncat > 0)
		c->subsets = grow(c->subsets, cap_sub, ((size_t)c->nnodes + T->nnodes) * c->subset_size,
				  sizeof *c->subsets);
	if (!c->nodes || (c->ncat > 0 && !c->subsets))
		return fail(L, NULL, "out of memory");
	for (j = 0; j < T->nnodes; j++) {
		const double *p = v + j * node_len;
		struct fk_node *N = &c->nodes[c->nnodes + j];
		int lrf[3];
		if (ints(L, in, p, 3, lrf, "node", j))
			return -1;
		N->left = lrf[0];
		N->right = lrf[1];
		N->feat = lrf[2];
		N->thr = 0;
		if (c->ncat == 0) {
			N->thr = as_float(p[3]);
			continue;
		}
		for (q = 0; q < c->subset_size; q++) {
			double s = p[3 + q];
			if (!(s >= INT_MIN && s <= UINT32_MAX) || s != (double)(long)s)
				return fail(L, in, "node %d: subset word \"%g\" is not a 32-bit integer", j, s);
			c->subsets[((size_t)c->nnodes + j) * c->subset_size + q] = (int)(unsigned)(long)s;
		}
	}
	c->nnodes += T->nnodes;
	c->ntrees++;
	return 0;
}

/* the stages and their trees */
static int load_stages(struct loader *L, fk_cascade *c, xmlNode *stages)
{
	size_t cap_trees = 0, cap_lines = 0, cap_nodes = 0, cap_leaves = 0, cap_sub = 0;
	double *v = NULL;
	int vcap = 0, si = 0, rc = -1;
	xmlNode *st;

	c->nstages = count_elems(stages);
	if (c->nstages == 0)
		return fail(L, stages, "<stages> is empty");
	c->stages = calloc(c->nstages, sizeof *c->stages);
	L->stage_line = malloc(c->nstages * sizeof *L->stage_line);
	if (!c->stages || !L->stage_line)
		return fail(L, NULL, "out of memory");
	for (st = stages->children; st; st = st->next) {
		struct fk_stage *S = &c->stages[si];
		xmlNode *weak, *w, *thr;
		double t;

		if (!is_elem(st, NULL))
			continue;
		L->stage_line[si] = X.getLineNo(st);
		if (!(thr = need(L, st, "stageThreshold", "stage")) || fixed_numbers(L, thr, &t, 1))
			goto out;
		S->thr = as_float(t) - 1e-5f;
		if (!(weak = need(L, st, "weakClassifiers", "stage")))
			goto out;
		S->first = c->ntrees;
		S->ntrees = count_elems(weak);
		for (w = weak->children; w; w = w->next) {
			xmlNode *in, *lv;
			int nn, nl, j;

			if (!is_elem(w, NULL))
				continue;
			if (!(in = need(L, w, "internalNodes", "weak classifier"))
			    || !(lv = need(L, w, "leafValues", "weak classifier")))
				goto out;
			c->trees = grow(c->trees, &cap_trees, (size_t)c->ntrees + 1, sizeof *c->trees);
			L->tree_line = grow(L->tree_line, &cap_lines, (size_t)c->ntrees + 1, sizeof *L->tree_line);
			if (!c->trees || !L->tree_line)
				{ fail(L, NULL, "out of memory"); goto out; }
			L->tree_line[c->ntrees] = X.getLineNo(in);
			if (numbers(L, in, &v, &vcap, &nn) || load_tree(L, c, in, v, nn, &cap_nodes, &cap_sub))
				goto out;
			nn = c->trees[c->ntrees - 1].nnodes;
			if (numbers(L, lv, &v, &vcap, &nl))
				goto out;
			if (nl != nn + 1)
				{ fail(L, lv, "<leafValues> has %d numbers for a tree of %d nodes (want %d)",
				       nl, nn, nn + 1); goto out; }
			c->leaves = grow(c->leaves, &cap_leaves, (size_t)c->nleaves + nl, sizeof *c->leaves);
			if (!c->leaves)
				{ fail(L, NULL, "out of memory"); goto out; }
			for (j = 0; j < nl; j++)
				c->leaves[c->nleaves + j] = as_float(v[j]);
			c->nleaves += nl;
		}
		si++;
	}
	rc = 0;
out:
	free(v);
	return rc;
}

static int load_features(struct loader *L, fk_cascade *c, xmlNode *feats)
{
	xmlNode *f;
	int fi = 0;

	c->nfeat = count_elems(feats);
	c->feat = calloc(c->nfeat ? c->nfeat : 1, sizeof *c->feat);
	L->feat_line = malloc((c->nfeat ? c->nfeat : 1) * sizeof *L->feat_line);
	if (!c->feat || !L->feat_line)
		return fail(L, NULL, "out of memory");
	for (f = feats->children; f; f = f->next) {
		struct fk_feature *F = &c->feat[fi];
		double v[5];
		int xywh[4];

		if (!is_elem(f, NULL))
			continue;
		L->feat_line[fi] = X.getLineNo(f);
		if (c->type == FK_LBP) {
			xmlNode *r = need(L, f, "rect", "LBP feature");
			if (!r || fixed_numbers(L, r, v, 4) || ints(L, r, v, 4, xywh, "LBP feature", fi))
				return -1;
			F->r[0] = (struct fk_wrect){ xywh[0], xywh[1], xywh[2], xywh[3], 0 };
		} else {
			xmlNode *rects = need(L, f, "rects", "HAAR feature"), *r, *t;
			int ri = 0;
			if (!rects)
				return -1;
			if ((t = child(f, "tilted"))) {
				double tv;
				if (fixed_numbers(L, t, &tv, 1))
					return -1;
				F->tilted = tv != 0;
			}
			for (r = rects->children; r; r = r->next) {
				if (!is_elem(r, NULL))
					continue;
				if (ri == 3)
					return fail(L, r, "HAAR feature %d has more than 3 rectangles", fi);
				if (fixed_numbers(L, r, v, 5) || ints(L, r, v, 4, xywh, "HAAR feature", fi))
					return -1;
				F->r[ri++] = (struct fk_wrect){ xywh[0], xywh[1], xywh[2], xywh[3], as_float(v[4]) };
			}
			if (ri < 2)
				return fail(L, rects, "HAAR feature %d has %d rectangle%s, not 2 or 3",
					    fi, ri, ri == 1 ? "" : "s");
		}
		fi++;
	}
	return 0;
}

static int load_cascade(struct loader *L, fk_cascade *c, xmlNode *root)
{
	xmlNode *top, *n, *fp;
	struct fk_fault at;
	char msg[FK_ERRLEN];
	long line;

	if (!root || !is_elem(root, "opencv_storage"))
		return fail(L, root, "not an OpenCV storage file (the root element is not <opencv_storage>)");
	for (top = root->children; top && !is_elem(top, NULL); top = top->next)
		;
	if (!top)
		return fail(L, root, "<opencv_storage> holds nothing");
	if (!child(top, "stageType")) {
		xmlChar *type = X.getProp(top, (const xmlChar *)"type_id");
		int old = type && !strcmp((char *)type, "opencv-haar-classifier");
		(*X.free)(type);
		return fail(L, top, old ? "an old-style haartraining cascade: only opencv_traincascade's "
			    "format is read" : "<%s> is not a cascade (it has no <stageType>)", top->name);
	}
	n = child(top, "stageType");
	if (!text_is(n, "BOOST"))
		return fail(L, n, "stage type is not BOOST");
	n = need(L, top, "featureType", "cascade");
	if (!n)
		return -1;
	if (text_is(n, "HAAR"))
		c->type = FK_HAAR;
	else if (text_is(n, "LBP"))
		c->type = FK_LBP;
	else
		return fail(L, n, "feature type is neither HAAR nor LBP");
	if (int_field(L, top, "width", 1, FK_MAX_WINDOW, "cascade", &c->w)
	    || int_field(L, top, "height", 1, FK_MAX_WINDOW, "cascade", &c->h))
		return -1;
	if (!(fp = need(L, top, "featureParams", "cascade"))
	    || int_field(L, fp, "maxCatCount", 0, 1 << 16, "<featureParams>", &c->ncat))
		return -1;
	if ((c->type == FK_LBP) != (c->ncat > 0))
		return fail(L, fp, "maxCatCount %d does not suit %s features", c->ncat,
			    c->type == FK_LBP ? "LBP" : "HAAR");
	if (c->type == FK_LBP && c->ncat != 256)
		return fail(L, fp, "LBP features have 256 categories, not %d", c->ncat);
	c->subset_size = (c->ncat + 31) / 32;
	if (!(n = need(L, top, "stages", "cascade")) || load_stages(L, c, n))
		return -1;
	if (!(n = need(L, top, "features", "cascade")) || load_features(L, c, n))
		return -1;
	if (!fk_cascade_check(c, &at, msg))
		return 0;
	line = at.in == FK_IN_STAGE ? L->stage_line[at.index] : at.in == FK_IN_TREE ? L->tree_line[at.index]
		: at.in == FK_IN_FEATURE ? L->feat_line[at.index] : X.getLineNo(top);
	snprintf(L->err, FK_ERRLEN, "%s:%ld: %.200s", L->path, line, msg);
	return -1;
}

static void silent(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* The line of a DOCTYPE in the prolog of b (ASCII or UTF-8), or 0: after
 * an optional byte-order mark, white space, the XML declaration, comments
 * and processing instructions, the next markup is the DOCTYPE or the root
 * element. */
static long doctype_line(const unsigned char *b, size_t n)
{
	const unsigned char *p = b, *e = b + n;
	long line = 1;

	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	for (;;) {
		const char *end;
		size_t len;
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			line += *p++ == '\n';
		if (e - p >= 9 && !memcmp(p, "<!DOCTYPE", 9))
			return line;
		if (e - p >= 4 && !memcmp(p, "<!--", 4))
			end = "-->";
		else if (e - p >= 2 && !memcmp(p, "<?", 2))
			end = "?>";
		else
			return 0;
		len = strlen(end);
		for (p += 2; e - p >= (ptrdiff_t)len && memcmp(p, end, len); p++)
			line += *p == '\n';
		if (e - p < (ptrdiff_t)len)
			return 0;
		p += len;
	}
}

fk_cascade *fk_cascade_xml(const unsigned char *b, size_t n, const char *path, char *err)
{
	struct loader L = { path, err, NULL, NULL, NULL };
	fk_cascade *c;
	xmlDoc *doc;
	long line;

	/* A cascade has no business with a DTD: the entities one declares
	 * expand, nested, to gigabytes from a few kilobytes of file.  A
	 * DOCTYPE is refused before libxml2 reads it; in an encoding the
	 * scan cannot read, libxml2's own guard against entity amplification
	 * (which XML_PARSE_HUGE would turn off, with its limits of 256
	 * levels of elements and 10 MB of text in one node) bounds the parse,
	 * and the document's DTD is refused after it. */
	if ((line = doctype_line(b, n)) > 0) {
		snprintf(err, FK_ERRLEN, "%s:%ld: a DOCTYPE has no place in a cascade (entities are refused)",
			 path, line);
		return NULL;
	}
	pthread_once(&x_once, load_libxml2);
	if (X.why[0]) {
		snprintf(err, FK_ERRLEN, "%s: %s", path, X.why);
		return NULL;
	}
	/* libxml2 reports nothing itself: its last error becomes the message */
	X.setGenericErrorFunc(NULL, silent);
	doc = X.readMemory((const char *)b, (int)n, path, NULL, XML_PARSE_NOERROR | XML_PARSE_NOWARNING
			    | XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_COMPACT);
	X.setGenericErrorFunc(NULL, NULL);
	if (doc && (doc->intSubset || doc->extSubset)) {
		X.freeDoc(doc);
		snprintf(err, FK_ERRLEN, "%s: a DOCTYPE has no place in a cascade (entities are refused)", path);
		return NULL;
	}
	if (!doc) {
		const xmlError *e = X.getLastError();
		char msg[160] = "unreadable";
		line = e ? e->line : 0;
		if (e && e->message) {
			snprintf(msg, sizeof msg, "%s", e->message);
			msg[strcspn(msg, "\n")] = 0;
		}
		if (line > 0)
			snprintf(err, FK_ERRLEN, "%s:%ld: not well-formed XML: %s", path, line, msg);
		else
			snprintf(err, FK_ERRLEN, "%s: not well-formed XML: %s", path, msg);
		return NULL;
	}
	c = calloc(1, sizeof *c);
	if (!c)
		snprintf(err, FK_ERRLEN, "out of memory");
	else if (load_cascade(&L, c, X.docGetRootElement(doc))) {
		fk_cascade_free(c);
		c = NULL;
	}
	free(L.stage_line);
	free(L.tree_line);
	free(L.feat_line);
	X.freeDoc(doc);
	return c;
}

/* cascade.c — load OpenCV's cascade XML through libxml2 (see cascade.h).
 * The layout is opencv_traincascade's: <opencv_storage><cascade> with
 * stageType, featureType, height, width, featureParams/maxCatCount, stages
 * (each with stageThreshold and weakClassifiers, each of those with
 * internalNodes "left right feature threshold" or, for LBP, "left right
 * feature subset[8]", and leafValues) and features (rects "x y w h weight"
 * and tilted for HAAR, rect "x y w h" for LBP). */
#include "cascade_impl.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

struct loader {
	const char *path;
	char *err;
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
		snprintf(L->err, FK_ERRLEN, "%s:%ld: %s", L->path, xmlGetLineNo(node), msg);
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
	xmlChar *text = whole ? node->children->content : xmlNodeGetContent(node);
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
		xmlFree(text);
	*k = n;
	return rc;
}

/* a rectangle's four numbers are each within a window's reach, so the
 * int sums that check it against the window cannot overflow */
static int coords_sane(const double *v, const struct fk_cascade *c)
{
	double lim = c->w + c->h;

	for (int i = 0; i < 4; i++)
		if (!(v[i] >= -lim && v[i] <= lim))
			return 0;
	return 1;
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

/* one integer in lo..hi from the text of parent's element name */
static int int_field(struct loader *L, xmlNode *parent, const char *name,
		     long lo, long hi, const char *what, int *out)
{
	xmlNode *n = need(L, parent, name, what);
	double v;

	if (!n || fixed_numbers(L, n, &v, 1))
		return -1;
	if (v != (long)v || v < lo || v > hi)
		return fail(L, n, "<%s> should be one integer in %ld..%ld", name, lo, hi);
	*out = (int)v;
	return 0;
}

static int text_is(xmlNode *n, const char *want)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s = (char *)t;
	size_t len;
	int eq;

	if (!t)
		return 0;
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	len = strcspn(s, " \n\t\r");
	eq = len == strlen(want) && !strncmp(s, want, len) && !s[len + strspn(s + len, " \n\t\r")];
	xmlFree(t);
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

/* the stages and their trees; features are counted afterwards */
static int load_stages(struct loader *L, fk_cascade *c, xmlNode *stages)
{
	size_t cap_trees = 0, cap_nodes = 0, cap_leaves = 0, cap_sub = 0;
	int node_len = 3 + (c->ncat > 0 ? c->subset_size : 1);
	double *v = NULL;
	int vcap = 0, si = 0, rc = -1;
	xmlNode *st;

	c->nstages = count_elems(stages);
	if (c->nstages == 0)
		return fail(L, stages, "<stages> is empty");
	c->stages = calloc(c->nstages, sizeof *c->stages);
	if (!c->stages)
		return fail(L, NULL, "out of memory");
	for (st = stages->children; st; st = st->next) {
		struct fk_stage *S = &c->stages[si];
		xmlNode *weak, *w, *thr;
		double t;

		if (!is_elem(st, NULL))
			continue;
		if (!(thr = need(L, st, "stageThreshold", "stage")) || fixed_numbers(L, thr, &t, 1))
			goto out;
		S->thr = (float)t - 1e-5f;
		if (!(weak = need(L, st, "weakClassifiers", "stage")))
			goto out;
		S->first = c->ntrees;
		S->ntrees = count_elems(weak);
		if (S->ntrees == 0)
			{ fail(L, weak, "stage %d has no weak classifiers", si); goto out; }
		for (w = weak->children; w; w = w->next) {
			xmlNode *in, *lv;
			struct fk_tree *T;
			int nn, nl, j;

			if (!is_elem(w, NULL))
				continue;
			if (!(in = need(L, w, "internalNodes", "weak classifier"))
			    || !(lv = need(L, w, "leafValues", "weak classifier")))
				goto out;
			if (numbers(L, in, &v, &vcap, &nn))
				goto out;
			if (nn == 0 || nn % node_len)
				{ fail(L, in, "<internalNodes> has %d numbers, not a multiple of %d", nn, node_len); goto out; }
			c->trees = grow(c->trees, &cap_trees, c->ntrees + 1, sizeof *c->trees);
			c->nodes = grow(c->nodes, &cap_nodes, c->nnodes + nn / node_len, sizeof *c->nodes);
			if (c->ncat > 0)
				c->subsets = grow(c->subsets, &cap_sub, (size_t)(c->nnodes + nn / node_len) * c->subset_size,
						  sizeof *c->subsets);
			if (!c->trees || !c->nodes || (c->ncat > 0 && !c->subsets))
				{ fail(L, NULL, "out of memory"); goto out; }
			T = &c->trees[c->ntrees++];
			T->node = c->nnodes;
			T->nnodes = nn / node_len;
			T->leaf = c->nleaves;
			if (T->nnodes > c->max_nodes)
				c->max_nodes = T->nnodes;
			for (j = 0; j < T->nnodes; j++) {
				const double *p = v + j * node_len;
				struct fk_node *N = &c->nodes[c->nnodes + j];
				int q;
				/* a child is a later node of this tree or a leaf of it */
				for (q = 0; q < 3; q++)
					if (p[q] != (int)p[q])
						{ fail(L, in, "node %d: \"%g\" is not an integer", j, p[q]); goto out; }
				N->left = (int)p[0];
				N->right = (int)p[1];
				N->feat = (int)p[2];
				if ((N->left > 0 && (N->left <= j || N->left >= T->nnodes)) || N->left < -T->nnodes
				    || (N->right > 0 && (N->right <= j || N->right >= T->nnodes)) || N->right < -T->nnodes)
					{ fail(L, in, "node %d: children %d %d are not later nodes or leaves of the tree",
					       j, N->left, N->right); goto out; }
				if (N->feat < 0)
					{ fail(L, in, "node %d: feature %d is negative", j, N->feat); goto out; }
				if (c->ncat > 0) {
					N->thr = 0;
					for (q = 0; q < c->subset_size; q++) {
						double s = p[3 + q];
						if (s != (double)(long)s || s < INT_MIN || s > UINT32_MAX)
							{ fail(L, in, "node %d: subset word \"%g\" is not a 32-bit integer", j, s); goto out; }
						c->subsets[(size_t)(c->nnodes + j) * c->subset_size + q] =
							(int)(unsigned)(long)s;
					}
				} else
					N->thr = (float)p[3];
			}
			c->nnodes += T->nnodes;
			if (numbers(L, lv, &v, &vcap, &nl))
				goto out;
			if (nl != T->nnodes + 1)
				{ fail(L, lv, "<leafValues> has %d numbers for a tree of %d nodes (want %d)",
				       nl, T->nnodes, T->nnodes + 1); goto out; }
			c->leaves = grow(c->leaves, &cap_leaves, c->nleaves + nl, sizeof *c->leaves);
			if (!c->leaves)
				{ fail(L, NULL, "out of memory"); goto out; }
			for (j = 0; j < nl; j++)
				c->leaves[c->nleaves + j] = (float)v[j];
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
	int fi = 0, i;

	c->nfeat = count_elems(feats);
	c->feat = calloc(c->nfeat ? c->nfeat : 1, sizeof *c->feat);
	if (!c->feat)
		return fail(L, NULL, "out of memory");
	for (f = feats->children; f; f = f->next) {
		struct fk_feature *F = &c->feat[fi];
		double v[6];

		if (!is_elem(f, NULL))
			continue;
		if (c->type == FK_LBP) {
			xmlNode *r = need(L, f, "rect", "LBP feature");
			struct fk_wrect *R = &F->r[0];
			if (!r || fixed_numbers(L, r, v, 4))
				return -1;
			if (!coords_sane(v, c))
				return fail(L, r, "LBP feature %d: rect %g %g %g %g does not fit the %dx%d window",
					    fi, v[0], v[1], v[2], v[3], c->w, c->h);
			R->x = (int)v[0], R->y = (int)v[1], R->w = (int)v[2], R->h = (int)v[3];
			if (R->x != v[0] || R->y != v[1] || R->w != v[2] || R->h != v[3] || R->x < 0
			    || R->y < 0 || R->w < 1 || R->h < 1 || R->x + 3 * R->w > c->w || R->y + 3 * R->h > c->h)
				return fail(L, r, "LBP feature %d: rect %g %g %g %g does not fit the %dx%d window",
					    fi, v[0], v[1], v[2], v[3], c->w, c->h);
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
				c->tilted |= F->tilted;
			}
			for (r = rects->children; r; r = r->next) {
				struct fk_wrect *R;
				int ok;
				if (!is_elem(r, NULL))
					continue;
				if (ri == 3)
					return fail(L, r, "HAAR feature %d has more than 3 rectangles", fi);
				if (fixed_numbers(L, r, v, 5))
					return -1;
				if (!coords_sane(v, c))
					return fail(L, r, "HAAR feature %d: rectangle %g %g %g %g does not fit the %dx%d window",
						    fi, v[0], v[1], v[2], v[3], c->w, c->h);
				R = &F->r[ri++];
				R->x = (int)v[0], R->y = (int)v[1], R->w = (int)v[2], R->h = (int)v[3];
				R->weight = (float)v[4];
				ok = R->x == v[0] && R->y == v[1] && R->w == v[2] && R->h == v[3]
					&& R->w >= 0 && R->h >= 0;
				if (ok && !F->tilted)
					ok = R->x >= 0 && R->y >= 0 && R->x + R->w <= c->w && R->y + R->h <= c->h;
				else if (ok) /* corners (x,y) (x-h,y+h) (x+w,y+w) (x+w-h,y+w+h) */
					ok = R->x - R->h >= 0 && R->y >= 0 && R->x + R->w <= c->w
						&& R->y + R->w + R->h <= c->h;
				if (!ok)
					return fail(L, r, "HAAR feature %d: %srectangle %g %g %g %g does not fit the %dx%d window",
						    fi, F->tilted ? "tilted " : "", v[0], v[1], v[2], v[3], c->w, c->h);
			}
			if (ri < 2)
				return fail(L, rects, "HAAR feature %d has %d rectangle%s, not 2 or 3",
					    fi, ri, ri == 1 ? "" : "s");
		}
		fi++;
	}
	for (i = 0; i < c->nnodes; i++)
		if (c->nodes[i].feat >= c->nfeat)
			return fail(L, feats, "a tree uses feature %d of %d", c->nodes[i].feat, c->nfeat);
	return 0;
}

static int load_cascade(struct loader *L, fk_cascade *c, xmlNode *root)
{
	xmlNode *top, *n, *fp;

	if (!root || !is_elem(root, "opencv_storage"))
		return fail(L, root, "not an OpenCV storage file (the root element is not <opencv_storage>)");
	for (top = root->children; top && !is_elem(top, NULL); top = top->next)
		;
	if (!top)
		return fail(L, root, "<opencv_storage> holds nothing");
	if (!child(top, "stageType")) {
		xmlChar *type = xmlGetProp(top, (const xmlChar *)"type_id");
		int old = type && !strcmp((char *)type, "opencv-haar-classifier");
		xmlFree(type);
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
	if (int_field(L, top, "width", 1, 10000, "cascade", &c->w)
	    || int_field(L, top, "height", 1, 10000, "cascade", &c->h))
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
	if (c->type == FK_HAAR && (c->w < 3 || c->h < 3))
		return fail(L, top, "a %dx%d window is too small", c->w, c->h);
	if (!(n = need(L, top, "stages", "cascade")) || load_stages(L, c, n))
		return -1;
	if (!(n = need(L, top, "features", "cascade")) || load_features(L, c, n))
		return -1;
	return 0;
}

static void silent(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

fk_cascade *fk_cascade_load(const char *path, char *err)
{
	struct loader L = { path, err };
	fk_cascade *c;
	xmlDoc *doc;
	FILE *f;
	int empty;

	/* the usual reasons first, in the usual words */
	if (!(f = fopen(path, "rb"))) {
		snprintf(err, FK_ERRLEN, "%s: %s", path, strerror(errno));
		return NULL;
	}
	empty = getc(f) == EOF;
	if (empty && ferror(f)) { /* e.g. a folder */
		snprintf(err, FK_ERRLEN, "%s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (empty) {
		snprintf(err, FK_ERRLEN, "%s: the cascade file is empty", path);
		return NULL;
	}
	/* libxml2 reports nothing itself: its last error becomes the message */
	xmlSetGenericErrorFunc(NULL, silent);
	doc = xmlReadFile(path, NULL, XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NONET
			  | XML_PARSE_HUGE | XML_PARSE_NOBLANKS | XML_PARSE_COMPACT);
	xmlSetGenericErrorFunc(NULL, NULL);
	if (!doc) {
		const xmlError *e = xmlGetLastError();
		char msg[160] = "unreadable";
		long line = e ? e->line : 0;
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
	else if (load_cascade(&L, c, xmlDocGetRootElement(doc))) {
		fk_cascade_free(c);
		c = NULL;
	}
	xmlFreeDoc(doc);
	return c;
}

void fk_cascade_free(fk_cascade *c)
{
	if (!c)
		return;
	free(c->stages);
	free(c->trees);
	free(c->nodes);
	free(c->leaves);
	free(c->subsets);
	free(c->feat);
	free(c);
}

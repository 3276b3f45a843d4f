/* detect.c — run a cascade over an image pyramid and group the hits, the
 * way OpenCV 4's CascadeClassifier::detectMultiScale does (see cascade.h).
 *
 * The pyramid shrinks the image, not the window: for each scale s = f^k
 * (f the scale factor) whose window round(W*s) x round(H*s) fits, the grey
 * image is resized to round(w/s) x round(h/s) with the bit-exact bilinear
 * filter (grey.h), and the W x H window steps over it 2 pixels at a time (1 from
 * s >= 2), skipping one more step after a window fails the first stage.
 * A window passes when every stage's sum of tree outputs reaches the
 * stage threshold; HAAR feature values are divided by the window's
 * standard deviation (times its area) over the inner (W-2) x (H-2)
 * rectangle.  Scales are shared out among threads, biggest first, each
 * thread taking the next when done with one.  With SSE2, HAAR windows
 * side by side go four at a time (each lane doing what the one-window
 * code does, so the answers are the same to the bit). */
#include "detect.h"
#include "cascade_impl.h"
#include "grey.h"
#include "pool.h"

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void fk_detect_defaults(fk_detect_opts *o)
{
	o->scale = 1.1;
	o->min_neighbors = 3;
	o->min_w = o->min_h = o->max_w = o->max_h = 0;
	o->threads = 0;
	o->plain = 0;
}

/* ---- integral images ----
 * (w+1) x (h+1) arrays of 32-bit sums, rows st apart (the same stride at
 * every scale, as in OpenCV), that wrap like OpenCV's CV_32S ones:
 * differences over a window are exact however big the image.  The tilted
 * one holds at (X, Y) the sum over the triangle y < Y, |x - X + 1| <= Y-1-y
 * (pixels beyond the image count 0), built row by row from two running
 * sums of row prefixes, one along each diagonal. */
static void integrals(const unsigned char *g, int w, int h, size_t st, uint32_t *sum, uint32_t *sq,
		      uint32_t *tilt, uint32_t *scratch)
{
	int x, y;

	memset(sum, 0, (w + 1) * sizeof *sum);
	memset(sq, 0, (w + 1) * sizeof *sq);
	for (y = 0; y < h; y++) {
		const unsigned char *p = g + (size_t)y * w;
		/* the row above through its own pointer: s[x + 1 - st] would
		 * wrap the unsigned index below 0 */
		const uint32_t *su = sum + (size_t)y * st, *qu = sq + (size_t)y * st;
		uint32_t *s = sum + (y + 1) * st, *q = sq + (y + 1) * st;
		uint32_t rs = 0, rq = 0;
		s[0] = q[0] = 0;
		for (x = 0; x < w; x++) {
			rs += p[x];
			rq += (uint32_t)p[x] * p[x];
			s[x + 1] = su[x + 1] + rs;
			q[x + 1] = qu[x + 1] + rq;
		}
	}
	if (tilt) {
		/* scratch: A and B, (w+h) each, and the row prefix, w+1 */
		uint32_t *A = scratch, *B = scratch + w + h, *P = scratch + 2 * (w + h);
		int n = w + h, X;
		memset(A, 0, 2 * (size_t)n * sizeof *A);
		memset(tilt, 0, (w + 1) * sizeof *tilt);
		for (y = 0; y < h; y++) {
			const unsigned char *p = g + (size_t)y * w;
			uint32_t *t = tilt + (y + 1) * st;
			int k;
			P[0] = 0;
			for (x = 0; x < w; x++)
				P[x + 1] = P[x] + p[x];
			for (k = 0; k < n; k++) {
				int xa = k - y, xb = k - h + y;  /* A: c - y, B: d + y with d = k - h */
				A[k] += P[xa < 0 ? 0 : xa > w ? w : xa];
				B[k] += P[xb < 0 ? 0 : xb > w ? w : xb];
			}
			for (X = 0; X <= w; X++)
				t[X] = A[X + y] - B[X - 1 - y + h];
		}
	}
}

/* ---- the cascade over the pyramid ----
 * The tree nodes, in file order, each carry its feature's offsets into
 * the integral images, so that a window's walk through the cascade reads
 * memory in sequence.  As every scale's integral images have the same
 * stride, the offsets are worked out once a call, before the threads
 * start, and shared by them. */
struct enode {
	union {
		int ofs[3][4]; /* HAAR: the rectangles' corners */
		struct {
			const int *grid;   /* LBP: the feature's 4x4 grid of offsets */
			const int *subset; /* and the node's category subset */
		} lbp;
	} u;
	float w[3];
	float thr;
	int left, right;
	float leaf[2]; /* the values of the left and right children that are leaves */
};

struct worker {
	fk_rect *hits;
	int n, cap, failed;
};

struct job {
	const fk_cascade *c;
	const unsigned char *grey;
	int w, h;
	const float *scales;
	int nscales;
	atomic_int next;     /* the next scale to take */
	atomic_int failed;
	int sw, sh;          /* the biggest scale's image, which sets ... */
	size_t st, plane;    /* ... the integral images' stride and size */
	int nofs[4];         /* the variance rectangle's offsets */
	const struct enode *E;
	int simd;            /* four windows at once (HAAR trees of SIMD_NODES nodes at most) */
	int half;            /* then the offsets for split columns (see point) */
	int nofs2[4];
	const struct enode *E2;
	struct worker *W;    /* one a part */
};

static inline int rect_sum(const uint32_t *p, const int *o)
{
	return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* OpenCV's arithmetic: float weights times integer sums, in float */
static inline float haar_value(const uint32_t *p, const struct enode *f, float vnf)
{
	float v = f->w[0] * (float)rect_sum(p, f->u.ofs[0]) + f->w[1] * (float)rect_sum(p, f->u.ofs[1]);
	if (f->w[2] != 0.0f)
		v += f->w[2] * (float)rect_sum(p, f->u.ofs[2]);
	return v * vnf;
}

static inline int lbp_code(const uint32_t *p, const int *o)
{
	/* o: the 4x4 grid of integral points of the 3x3 cells, row by row */
	int cv = (int32_t)(p[o[5]] - p[o[6]] - p[o[9]] + p[o[10]]);
#define CELL(a, b, c, d) ((int32_t)(p[o[a]] - p[o[b]] - p[o[c]] + p[o[d]]) >= cv)
	return (CELL(0, 1, 4, 5) << 7) | (CELL(1, 2, 5, 6) << 6) | (CELL(2, 3, 6, 7) << 5)
		| (CELL(6, 7, 10, 11) << 4) | (CELL(10, 11, 14, 15) << 3) | (CELL(9, 10, 13, 14) << 2)
		| (CELL(8, 9, 12, 13) << 1) | CELL(4, 5, 8, 9);
#undef CELL
}

/* the sum of the trees of stage S for the window at p; haar is a constant
 * in each caller, so that the compiler makes two loops of this */
static inline double stage_sum(const fk_cascade *c, const struct fk_stage *S, const uint32_t *p,
			       const struct enode *E, float vnf, int haar)
{
	const struct fk_tree *T = &c->trees[S->first], *end = T + S->ntrees;
	double sum = 0;

	for (; T < end; T++) {
		const struct enode *N = E + T->node;
		for (;;) {
			int left, next;
			if (haar)
				left = haar_value(p, N, vnf) < N->thr;
			else {
				int code = lbp_code(p, N->u.lbp.grid);
				left = ((unsigned)N->u.lbp.subset[code >> 5] & (1u << (code & 31))) != 0;
			}
			next = left ? N->left : N->right;
			if (next <= 0) {
				sum += N->leaf[!left];
				break;
			}
			N = E + T->node + next;
		}
	}
	return sum;
}

/* the factor a HAAR feature's value at window p is multiplied by, 1 over
 * the window's standard deviation times its area (from the sums at p and
 * the squares at q over the inner rectangle, whose corners are pofs and
 * qofs away); 0 when the window is flat (or all but flat), which passes
 * no stage */
static inline float norm_factor(const uint32_t *p, const int *pofs, const uint32_t *q, const int *qofs,
				double area)
{
	int vs = rect_sum(p, pofs);
	uint32_t vq = q[qofs[0]] - q[qofs[1]] - q[qofs[2]] + q[qofs[3]];
	double nf = area * vq - (double)vs * vs;
	float vnf;

	if (!(nf > 0))
		return 0;
	vnf = (float)(1. / sqrt(nf));
	return area * vnf < 1e-1 ? vnf : 0;
}

/* one window at p (its top-left in the sum image): 1 when every stage
 * passes, -k when stage k fails (0: the first), -1 when the window is flat */
static int run_window(const fk_cascade *c, const uint32_t *p, const uint32_t *q,
		      const int *nofs, double area, const struct enode *E)
{
	int si;

	if (c->type == FK_HAAR) {
		float vnf = norm_factor(p, nofs, q, nofs, area);
		if (vnf == 0)
			return -1;
		for (si = 0; si < c->nstages; si++)
			if (stage_sum(c, &c->stages[si], p, E, vnf, 1) < c->stages[si].thr)
				return -si;
	} else
		for (si = 0; si < c->nstages; si++)
			if (stage_sum(c, &c->stages[si], p, E, 1.0f, 0) < c->stages[si].thr)
				return -si;
	return 1;
}

#ifdef __SSE2__
/* ---- four HAAR windows at once ----
 * Four windows side by side, one step apart, in the four lanes of SSE
 * registers (their values four in a row: at step 2 the integral images'
 * columns are split, see point), with the very operations of the one-window code
 * in each lane (float features, double stage sums), so that each lane's
 * answer is run_window's.  A tree's nodes are all evaluated and the leaf
 * each lane reaches is picked from the last node back to the root; this
 * is for cascades of trees of up to SIMD_NODES nodes (Debian's alt2 has
 * 2, the stump cascades 1).  The lanes run until all have failed a stage. */
#define SIMD_NODES 3

static inline __m128 rect_sum4(const uint32_t *p, const int *o)
{
#define AT4(k) _mm_loadu_si128((const __m128i *)(p + o[k]))
	return _mm_cvtepi32_ps(_mm_add_epi32(_mm_sub_epi32(_mm_sub_epi32(AT4(0), AT4(1)), AT4(2)), AT4(3)));
#undef AT4
}

static inline __m128 haar_value4(const uint32_t *p, const struct enode *f, __m128 vnf)
{
	__m128 v = _mm_add_ps(_mm_mul_ps(_mm_set1_ps(f->w[0]), rect_sum4(p, f->u.ofs[0])),
			      _mm_mul_ps(_mm_set1_ps(f->w[1]), rect_sum4(p, f->u.ofs[1])));

	if (f->w[2] != 0.0f)
		v = _mm_add_ps(v, _mm_mul_ps(_mm_set1_ps(f->w[2]), rect_sum4(p, f->u.ofs[2])));
	return _mm_mul_ps(v, vnf);
}

/* the leaf values the four windows reach in the tree of nodes N[0..nn),
 * picked from the last node back to the root (inlined for each nn) */
static inline __attribute__((always_inline)) __m128
tree_nodes4(const struct enode *N, int nn, const uint32_t *p, __m128 vnf)
{
	__m128 val[SIMD_NODES] = { _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps() }, m, l, r;
	int j;

	if (nn == 1) { /* a stump */
		m = _mm_cmplt_ps(haar_value4(p, N, vnf), _mm_set1_ps(N->thr));
		return _mm_or_ps(_mm_and_ps(m, _mm_set1_ps(N->leaf[0])), _mm_andnot_ps(m, _mm_set1_ps(N->leaf[1])));
	}
	for (j = nn - 1; j >= 0; j--) {
		const struct enode *e = N + j;
		m = _mm_cmplt_ps(haar_value4(p, e, vnf), _mm_set1_ps(e->thr));
		l = e->left <= 0 ? _mm_set1_ps(e->leaf[0]) : val[e->left];
		r = e->right <= 0 ? _mm_set1_ps(e->leaf[1]) : val[e->right];
		val[j] = _mm_or_ps(_mm_and_ps(m, l), _mm_andnot_ps(m, r));
	}
	return val[0];
}

static inline __m128 tree_value4(const struct enode *N, int nn, const uint32_t *p, __m128 vnf)
{
	return nn == 1 ? tree_nodes4(N, 1, p, vnf) : nn == 2 ? tree_nodes4(N, 2, p, vnf)
		: tree_nodes4(N, SIMD_NODES, p, vnf);
}

/* run_window's answers for the first k (1..4) of the four windows at
 * p .. p+3 (pofs: the inner rectangle's corners from there), whose
 * squares are at q, q+qd, .. (qofs: the corners; the squares are never
 * split) */
static void run_windows4(const fk_cascade *c, const uint32_t *p, const int *pofs, const uint32_t *q,
			 const int *qofs, int qd, int k, double area, const struct enode *E, int *res)
{
	float vn[4] = { 0, 0, 0, 0 };
	int alive = 0, i, si, t;
	__m128 vnf;

	for (i = 0; i < 4; i++) {
		res[i] = -1;
		if (i < k && (vn[i] = norm_factor(p + i, pofs, q + i * qd, qofs, area)) != 0) {
			res[i] = 1;
			alive |= 1 << i;
		}
	}
	vnf = _mm_loadu_ps(vn);
	for (si = 0; si < c->nstages && alive; si++) {
		const struct fk_stage *S = &c->stages[si];
		if (!(alive & (alive - 1))) { /* one window left: on its own */
			i = __builtin_ctz(alive);
			for (; si < c->nstages; si++)
				if (stage_sum(c, &c->stages[si], p + i, E, vn[i], 1) < c->stages[si].thr) {
					res[i] = -si;
					break;
				}
			return;
		}
		__m128d lo = _mm_setzero_pd(), hi = _mm_setzero_pd(), th = _mm_set1_pd(S->thr);
		int fail;
		for (t = S->first; t < S->first + S->ntrees; t++) {
			__m128 v = tree_value4(E + c->trees[t].node, c->trees[t].nnodes, p, vnf);
			lo = _mm_add_pd(lo, _mm_cvtps_pd(v));
			hi = _mm_add_pd(hi, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
		}
		fail = (_mm_movemask_pd(_mm_cmplt_pd(lo, th)) | _mm_movemask_pd(_mm_cmplt_pd(hi, th)) << 2) & alive;
		for (i = 0; i < 4; i++)
			if (fail >> i & 1)
				res[i] = -si;
		alive &= ~fail;
	}
}
#endif

/* Where the point dx, dy from a window's top-left is in integral images
 * st apart: dy * st + dx, or, with half > 0, in rows split into their
 * even columns, then (from half on) their odd ones, for windows at even
 * x, so that four windows 2 apart read four values in a row */
struct layout {
	size_t st;
	int half;
};

static int point(const struct layout *l, int dx, int dy)
{
	return (int)l->st * dy + (!l->half ? dx : dx & 1 ? l->half + dx / 2 : dx / 2);
}

static void rect_offsets(int *o, int x, int y, int w, int h, const struct layout *l, int base)
{
	o[0] = base + point(l, x, y);
	o[1] = base + point(l, x + w, y);
	o[2] = base + point(l, x, y + h);
	o[3] = base + point(l, x + w, y + h);
}

static void tilted_offsets(int *o, int x, int y, int w, int h, const struct layout *l, int base)
{
	o[0] = base + point(l, x, y);
	o[1] = base + point(l, x - h, y + h);
	o[2] = base + point(l, x + w, y + w);
	o[3] = base + point(l, x + w - h, y + w + h);
}

/* the nodes of c with their offsets in layout l (the tilted integral
 * image one plane after the upright one), and the LBP grids L they
 * point to */
static void place_nodes(const fk_cascade *c, const struct layout *l, size_t plane, struct enode *E,
			int (*L)[16])
{
	int i, t, k;

	for (i = 0; c->type == FK_LBP && i < c->nfeat; i++) {
		const struct fk_wrect *r = &c->feat[i].r[0];
		for (k = 0; k < 16; k++)
			L[i][k] = point(l, r->x + (k % 4) * r->w, r->y + (k / 4) * r->h);
	}
	for (t = 0; t < c->ntrees; t++) {
		const struct fk_tree *T = &c->trees[t];
		for (i = T->node; i < T->node + T->nnodes; i++) {
			const struct fk_node *N = &c->nodes[i];
			const struct fk_feature *f = &c->feat[N->feat];
			struct enode *e = &E[i];
			e->thr = N->thr;
			e->left = N->left;
			e->right = N->right;
			e->leaf[0] = N->left <= 0 ? c->leaves[T->leaf - N->left] : 0;
			e->leaf[1] = N->right <= 0 ? c->leaves[T->leaf - N->right] : 0;
			if (c->type == FK_LBP) {
				e->u.lbp.grid = L[N->feat];
				e->u.lbp.subset = c->subsets + (size_t)i * c->subset_size;
				continue;
			}
			for (k = 0; k < 3; k++) {
				const struct fk_wrect *r = &f->r[k];
				e->w[k] = r->weight;
				if (f->tilted)
					tilted_offsets(e->u.ofs[k], r->x, r->y, r->w, r->h, l, (int)plane);
				else
					rect_offsets(e->u.ofs[k], r->x, r->y, r->w, r->h, l, 0);
			}
		}
	}
}

#ifdef __SSE2__
/* rows 0..h of a plane into the split layout of half (see point) */
static void split_columns(uint32_t *plane, int w, int h, size_t st, int half, uint32_t *tmp)
{
	int x, y;

	for (y = 0; y <= h; y++) {
		uint32_t *r = plane + (size_t)y * st;
		for (x = 0; x <= w; x += 2)
			tmp[x / 2] = r[x];
		for (x = 1; x <= w; x += 2)
			tmp[half + x / 2] = r[x];
		memcpy(r, tmp, st * sizeof *r);
	}
}
#endif

static int add_hit(struct worker *W, int x, int y, int w, int h)
{
	if (W->n == W->cap) {
		int nc = W->cap ? 2 * W->cap : 64;
		fk_rect *r = realloc(W->hits, nc * sizeof *r);
		if (!r)
			return -1;
		W->hits = r;
		W->cap = nc;
	}
	W->hits[W->n++] = (fk_rect){ x, y, w, h, 0 };
	return 0;
}

/* resize, integrate and scan one scale */
static int scan_scale(const struct job *J, struct worker *W, float sc, fk_resizer *rs,
		      unsigned char *img, uint32_t *buf, uint32_t *scratch, uint32_t *tmp)
{
	const fk_cascade *c = J->c;
	int sw = (int)lrintf((float)J->w / sc), sh = (int)lrintf((float)J->h / sc);
	size_t st = J->st;
	int ystep = sc >= 2 ? 1 : 2, x, y;
	int ww = (int)lrintf((float)c->w * sc), wh = (int)lrintf((float)c->h * sc);
	int xend = sw + 1 - c->w, yend = sh + 1 - c->h;
	uint32_t *sum = buf, *tilt = buf + J->plane, *sq = buf + (c->tilted ? 2 : 1) * J->plane;
	double area = (double)(c->w - 2) * (c->h - 2);

	if (sw == J->w && sh == J->h)
		memcpy(img, J->grey, (size_t)sw * sh);
	else
		fk_resize_with(rs, J->grey, J->w, J->h, img, sw, sh);
	integrals(img, sw, sh, st, sum, sq, c->tilted ? tilt : NULL, scratch);
#ifdef __SSE2__
	if (J->simd) {
		/* four windows ystep apart are four values in a row: at step 2
		 * once the planes are split (see point); the squares, read for
		 * each window alone, are not */
		const struct enode *E = ystep == 1 ? J->E : J->E2;
		const int *nofs = ystep == 1 ? J->nofs : J->nofs2;
		if (ystep == 2) {
			split_columns(sum, sw, sh, st, J->half, tmp);
			if (c->tilted)
				split_columns(tilt, sw, sh, st, J->half, tmp);
		}
		for (y = 0; y < yend; y += ystep) {
			/* a window after one that fails the first stage is not tried */
			int skip = 0, res[4], i, k;
			for (x = 0; x < xend; x += 4 * ystep) {
				size_t at = (size_t)y * st + x;
				k = (xend - x + ystep - 1) / ystep;
				run_windows4(c, sum + at - (ystep == 2 ? x / 2 : 0), nofs, sq + at, J->nofs, ystep,
					     k < 4 ? k : 4, area, E, res);
				for (i = 0; i < 4 && i < k; i++) {
					if (skip) {
						skip = 0;
						continue;
					}
					if (res[i] > 0 && add_hit(W, (int)lrintf((float)(x + i * ystep) * sc),
								  (int)lrintf((float)y * sc), ww, wh))
						return -1;
					skip = res[i] == 0;
				}
			}
		}
		return 0;
	}
#endif
	for (y = 0; y < yend; y += ystep)
		for (x = 0; x < xend; x += ystep) {
			size_t at = (size_t)y * st + x;
			int r = run_window(c, sum + at, sq + at, J->nofs, area, J->E);
			if (r > 0 && add_hit(W, (int)lrintf((float)x * sc), (int)lrintf((float)y * sc), ww, wh))
				return -1;
			if (r == 0)
				x += ystep;
		}
	return 0;
}

/* part i of the job: take scales, biggest first, until none is left */
static void work(void *arg, int i, int n)
{
	struct job *J = arg;
	struct worker *W = &J->W[i];
	const fk_cascade *c = J->c;
	unsigned char *img = malloc((size_t)J->sw * J->sh);
	/* the four-window loads may read 8 values past the last window's */
	uint32_t *buf = malloc(((c->tilted ? 3 : 2) * J->plane + 16) * sizeof *buf);
	uint32_t *scratch = c->tilted ? malloc((3 * (size_t)(J->sw + J->sh) + 1) * sizeof *scratch) : NULL;
	uint32_t *tmp = calloc(J->st, sizeof *tmp);
	fk_resizer rs;

	(void)n;
	if (fk_resizer_init(&rs, J->sw, J->sh) || !img || !buf || !tmp || (c->tilted && !scratch))
		W->failed = 1;
	while (!W->failed && !atomic_load(&J->failed)) {
		int k = atomic_fetch_add(&J->next, 1);
		if (k >= J->nscales)
			break;
		if (scan_scale(J, W, J->scales[k], &rs, img, buf, scratch, tmp))
			W->failed = 1;
	}
	if (W->failed)
		atomic_store(&J->failed, 1);
	fk_resizer_free(&rs);
	free(img);
	free(buf);
	free(scratch);
	free(tmp);
}

static int by_scale_y_x(const void *a, const void *b)
{
	const fk_rect *r = a, *s = b;
	if (r->w != s->w)
		return r->w < s->w ? -1 : 1;
	if (r->y != s->y)
		return r->y < s->y ? -1 : 1;
	return (r->x > s->x) - (r->x < s->x);
}

int fk_detect(const fk_cascade *c, const unsigned char *grey, int w, int h,
	      const fk_detect_opts *o, fk_rect **out, int *n, char *err)
{
	int maxw = o->max_w, maxh = o->max_h, ns = 0, i, t;
	int nt = o->threads ? o->threads : fk_pool_threads();
	float *scales = NULL;
	struct worker *W = NULL;
	struct enode *E = NULL;
	int (*L)[16] = NULL;
	struct layout lay;
	struct job J;
	double f;

	*out = NULL;
	*n = 0;
	if (!(o->scale > 1) || !isfinite(o->scale)) {
		snprintf(err, FK_ERRLEN, "scale factor %g is not above 1", o->scale);
		return -1;
	}
	if (nt < 1 || nt > FK_POOL_MAX) {
		snprintf(err, FK_ERRLEN, "%d threads is not in 1..%d", nt, FK_POOL_MAX);
		return -1;
	}
	if (maxw == 0 || maxh == 0)
		maxw = w, maxh = h;
	if (w < c->w || h < c->h)
		return 0;
	/* the scales whose window fits the image and the size limits */
	for (f = 1;; f *= o->scale) {
		float s = (float)f;
		int ww, wh;
		if (lrint(c->w * f) > w || lrint(c->h * f) > h)
			break;
		ww = (int)lrintf((float)c->w * s);
		wh = (int)lrintf((float)c->h * s);
		if (ww > maxw || wh > maxh)
			break;
		if (ww < o->min_w || wh < o->min_h)
			continue;
		if (ns % 64 == 0) {
			float *p = realloc(scales, (ns + 64) * sizeof *p);
			if (!p)
				goto oom;
			scales = p;
		}
		scales[ns++] = s;
	}
	if (ns == 0) {
		free(scales);
		return 0;
	}
	memset(&J, 0, sizeof J);
	J.c = c, J.grey = grey, J.w = w, J.h = h, J.scales = scales, J.nscales = ns;
	atomic_init(&J.next, 0);
	atomic_init(&J.failed, 0);
	J.sw = (int)lrintf((float)w / scales[0]);
	J.sh = (int)lrintf((float)h / scales[0]);
	J.st = (size_t)J.sw + 1;
	J.plane = J.st * (J.sh + 1);
	if (J.plane > INT_MAX / 3) {	/* the nodes' offsets are ints */
		snprintf(err, FK_ERRLEN, "a %dx%d image is too big to search (at most %d pixels)",
			 w, h, INT_MAX / 3);
		free(scales);
		return -1;
	}
	if (nt > ns)
		nt = ns;
	W = calloc(nt, sizeof *W);
	E = malloc(2 * c->nnodes * sizeof *E);
	L = malloc(c->nfeat * sizeof *L);
	if (!W || !E || !L)
		goto oom;
	lay = (struct layout){ J.st, 0 };
	rect_offsets(J.nofs, 1, 1, c->w - 2, c->h - 2, &lay, 0);
	place_nodes(c, &lay, J.plane, E, L);
	J.E = E;
	J.W = W;
#ifdef __SSE2__
	J.simd = c->type == FK_HAAR && !o->plain;
	for (t = 0; t < c->ntrees; t++)
		J.simd &= c->trees[t].nnodes <= SIMD_NODES;
	if (J.simd) {
		lay.half = J.half = (int)(J.st + 1) / 2;
		rect_offsets(J.nofs2, 1, 1, c->w - 2, c->h - 2, &lay, 0);
		place_nodes(c, &lay, J.plane, E + c->nnodes, L);
		J.E2 = E + c->nnodes;
	}
#endif
	/* part 0 runs on this thread, the others on libcnn's pool of threads,
	 * which stay from one call to the next */
	fk_pool_run(nt, work, &J);
	/* gather */
	{
		int total = 0, k = 0;
		fk_rect *all;
		for (t = 0; t < nt; t++)
			total += W[t].n;
		all = malloc((total ? total : 1) * sizeof *all);
		if (!all || atomic_load(&J.failed)) {
			free(all);
			for (t = 0; t < nt; t++)
				free(W[t].hits);
			goto oom;
		}
		for (t = 0; t < nt; t++) {
			if (W[t].n)
				memcpy(all + k, W[t].hits, W[t].n * sizeof *all);
			k += W[t].n;
			free(W[t].hits);
		}
		if (o->min_neighbors < 0) {
			qsort(all, total, sizeof *all, by_scale_y_x);
			*n = total;
		} else if ((*n = fk_group_rects(all, total, o->min_neighbors, 0.2)) < 0) {
			free(all);
			*n = 0;
			goto oom;
		}
		/* OpenCV clips what it returns to the image */
		for (i = k = 0; i < *n; i++) {
			fk_rect r = all[i];
			int x1 = r.x + r.w < w ? r.x + r.w : w, y1 = r.y + r.h < h ? r.y + r.h : h;
			r.x = r.x > 0 ? r.x : 0;
			r.y = r.y > 0 ? r.y : 0;
			r.w = x1 - r.x;
			r.h = y1 - r.y;
			if (r.w > 0 && r.h > 0)
				all[k++] = r;
		}
		*n = k;
		*out = all;
	}
	free(W);
	free(E);
	free(L);
	free(scales);
	return 0;
oom:
	free(W);
	free(E);
	free(L);
	free(scales);
	snprintf(err, FK_ERRLEN, "out of memory detecting in a %dx%d image", w, h);
	return -1;
}

double fk_detect_bytes_per_pixel(const fk_cascade *c, const fk_detect_opts *o)
{
	int nt = o->threads ? o->threads : fk_pool_threads();

	if (nt < 1)
		nt = 1;
	if (nt > FK_POOL_MAX)
		nt = FK_POOL_MAX;

	/* work(): img, one byte a pixel, and buf, the planes of uint32 sums
	 * (of pixels and of squares, and tilted ones) */
	return nt * (1.0 + (c->tilted ? 3 : 2) * sizeof(uint32_t));
}

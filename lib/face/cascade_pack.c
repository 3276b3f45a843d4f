/* cascade_pack.c — the packed cascade (fkcascade(5)): a loaded cascade as
 * little-endian fields with a CRC-32, written by fk_cascade_write and read
 * back by fk_cascade_unpack without any parsing of text.  The reader
 * trusts nothing: magic, version, length and CRC first, then counts that
 * must give exactly the file's length, then fk_cascade_check, as for XML. */
#include "cascade_impl.h"
#include "le.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

enum {
	VERSION = 1,
	HEAD = 44,          /* magic to the feature count */
	MAGIC_LEN = sizeof FK_FKC_MAGIC - 1,
	HAAR_NODE = 16,     /* left, right, feature, threshold */
	LBP_NODE = 12 + 32, /* left, right, feature, 8 subset words */
	HAAR_FEAT = 4 + 3 * 20,
	LBP_FEAT = 16,
};

/* the length a file with these counts has */
static uint64_t packed_len(int type, uint64_t S, uint64_t T, uint64_t N, uint64_t F)
{
	return HEAD + 8 * S + 4 * T + N * (type == FK_LBP ? LBP_NODE : HAAR_NODE) + 4 * (N + T)
		+ F * (type == FK_LBP ? LBP_FEAT : HAAR_FEAT) + 4;
}

/* ---- writing ---- */
static void put_u32(unsigned char **p, uint32_t v)
{
	le32_put(*p, v);
	*p += 4;
}

static void put_f32(unsigned char **p, float f)
{
	uint32_t v;

	memcpy(&v, &f, 4);
	put_u32(p, v);
}

int fk_cascade_write(const fk_cascade *c, FILE *f, char *err)
{
	uint64_t len = packed_len(c->type, c->nstages, c->ntrees, c->nnodes, c->nfeat);
	unsigned char *b = malloc(len), *p = b;
	int s, t, j, k;

	if (!b) {
		snprintf(err, FK_ERRLEN, "out of memory packing a cascade of %d nodes", c->nnodes);
		return -1;
	}
	memcpy(p, FK_FKC_MAGIC, MAGIC_LEN);
	p += MAGIC_LEN;
	put_u32(&p, VERSION);
	put_u32(&p, (uint32_t)len);
	put_u32(&p, (uint32_t)c->type);
	put_u32(&p, (uint32_t)c->w);
	put_u32(&p, (uint32_t)c->h);
	put_u32(&p, (uint32_t)c->nstages);
	put_u32(&p, (uint32_t)c->ntrees);
	put_u32(&p, (uint32_t)c->nnodes);
	put_u32(&p, (uint32_t)c->nfeat);
	for (s = 0; s < c->nstages; s++) {
		put_u32(&p, (uint32_t)c->stages[s].ntrees);
		put_f32(&p, c->stages[s].thr);
	}
	for (t = 0; t < c->ntrees; t++) {
		const struct fk_tree *T = &c->trees[t];
		put_u32(&p, (uint32_t)T->nnodes);
		for (j = T->node; j < T->node + T->nnodes; j++) {
			const struct fk_node *N = &c->nodes[j];
			put_u32(&p, (uint32_t)N->left);
			put_u32(&p, (uint32_t)N->right);
			put_u32(&p, (uint32_t)N->feat);
			if (c->type == FK_LBP)
				for (k = 0; k < 8; k++)
					put_u32(&p, (uint32_t)c->subsets[(size_t)j * 8 + k]);
			else
				put_f32(&p, N->thr);
		}
		for (j = 0; j <= T->nnodes; j++)
			put_f32(&p, c->leaves[T->leaf + j]);
	}
	for (j = 0; j < c->nfeat; j++) {
		const struct fk_feature *F = &c->feat[j];
		if (c->type == FK_HAAR)
			put_u32(&p, (uint32_t)F->tilted);
		for (k = 0; k < (c->type == FK_HAAR ? 3 : 1); k++) {
			put_u32(&p, (uint32_t)F->r[k].x);
			put_u32(&p, (uint32_t)F->r[k].y);
			put_u32(&p, (uint32_t)F->r[k].w);
			put_u32(&p, (uint32_t)F->r[k].h);
			if (c->type == FK_HAAR)
				put_f32(&p, F->r[k].weight);
		}
	}
	put_u32(&p, (uint32_t)crc32_z(0L, b, (size_t)(p - b)));
	k = fwrite(b, 1, len, f) == len ? 0 : -1;
	if (k)
		snprintf(err, FK_ERRLEN, "%s", strerror(errno));
	free(b);
	return k;
}

/* ---- reading ---- */
static uint32_t get_u32(const unsigned char **p)
{
	*p += 4;
	return le32_get(*p - 4);
}

/* a two's complement i32 */
static int get_i32(const unsigned char **p)
{
	uint32_t v = get_u32(p);

	return v <= INT32_MAX ? (int)v : -(int)(~v) - 1;
}

static float get_f32(const unsigned char **p)
{
	uint32_t v = get_u32(p);
	float f;

	memcpy(&f, &v, 4);
	return f;
}

static fk_cascade *refuse(fk_cascade *c, char *err, const char *name, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(err, FK_ERRLEN, "%s: %s", name, msg);
	fk_cascade_free(c);
	return NULL;
}

fk_cascade *fk_cascade_unpack(const unsigned char *b, size_t n, const char *name, char *err)
{
	const unsigned char *p = b + MAGIC_LEN;
	static const char *const field[6] = { "window width", "window height", "stage count",
		"tree count", "node count", "feature count" };
	uint32_t version, len, type, crc, want, u[6];
	uint64_t need;
	fk_cascade *c;
	struct fk_fault at;
	char msg[FK_ERRLEN];
	int s, t, j, k, sum;

	if (n < HEAD)
		return refuse(NULL, err, name, "truncated: %zu bytes, shorter than the %d-byte header", n, HEAD);
	if (memcmp(b, FK_FKC_MAGIC, MAGIC_LEN))
		return refuse(NULL, err, name, "not a packed cascade (no fkcascade magic)");
	version = get_u32(&p);
	len = get_u32(&p);
	if (version != VERSION)
		return refuse(NULL, err, name, "packed cascade version %lu, not %d", (unsigned long)version,
			      VERSION);
	if (n < len)
		return refuse(NULL, err, name, "truncated: the file ends at byte %zu of the %lu its header "
			      "declares", n, (unsigned long)len);
	if (n > len)
		return refuse(NULL, err, name, "%zu byte%s after the %lu its header declares",
			      n - len, n - len == 1 ? "" : "s", (unsigned long)len);
	crc = (uint32_t)crc32_z(0L, b, n - 4);
	p = b + n - 4;
	if ((want = get_u32(&p)) != crc)
		return refuse(NULL, err, name, "CRC mismatch: stored %08lx, computed %08lx (a damaged file)",
			      (unsigned long)want, (unsigned long)crc);
	p = b + MAGIC_LEN + 8;
	type = get_u32(&p);
	for (k = 0; k < 6; k++)
		u[k] = get_u32(&p);
	if (type > FK_LBP)
		return refuse(NULL, err, name, "feature type %lu is neither 0 (HAAR) nor 1 (LBP)",
			      (unsigned long)type);
	for (k = 0; k < 6; k++)
		if (u[k] > INT32_MAX)
			return refuse(NULL, err, name, "%s %lu is over 2^31", field[k], (unsigned long)u[k]);
	need = packed_len((int)type, u[2], u[3], u[4], u[5]);
	if (need != len)
		return refuse(NULL, err, name, "%lu stages, %lu trees, %lu nodes and %lu features take %llu "
			      "bytes, not the file's %lu", (unsigned long)u[2], (unsigned long)u[3],
			      (unsigned long)u[4], (unsigned long)u[5], (unsigned long long)need,
			      (unsigned long)len);
	if (!(c = calloc(1, sizeof *c)))
		return refuse(NULL, err, name, "out of memory");
	c->type = (int)type;
	c->w = (int)u[0];
	c->h = (int)u[1];
	c->ncat = type == FK_LBP ? 256 : 0;
	c->nstages = (int)u[2];
	c->ntrees = (int)u[3];
	c->nnodes = (int)u[4];
	c->nleaves = c->nnodes + c->ntrees;
	c->nfeat = (int)u[5];
	c->stages = calloc(c->nstages + 1, sizeof *c->stages);
	c->trees = calloc(c->ntrees + 1, sizeof *c->trees);
	c->nodes = calloc(c->nnodes + 1, sizeof *c->nodes);
	c->leaves = calloc(c->nleaves + 1, sizeof *c->leaves);
	c->subsets = type == FK_LBP ? calloc((size_t)c->nnodes * 8 + 1, sizeof *c->subsets) : NULL;
	c->feat = calloc(c->nfeat + 1, sizeof *c->feat);
	if (!c->stages || !c->trees || !c->nodes || !c->leaves || !c->feat || (type == FK_LBP && !c->subsets))
		return refuse(c, err, name, "out of memory");
	for (s = sum = 0; s < c->nstages; s++) {
		struct fk_stage *S = &c->stages[s];
		S->first = sum;
		S->ntrees = get_i32(&p);
		S->thr = get_f32(&p);
		if (S->ntrees < 0 || S->ntrees > c->ntrees - sum)
			return refuse(c, err, name, "stage %d: %d trees, more than the %d the header declares",
				      s, S->ntrees, c->ntrees);
		sum += S->ntrees;
	}
	for (t = sum = 0; t < c->ntrees; t++) {
		struct fk_tree *T = &c->trees[t];
		T->node = sum;
		T->leaf = sum + t;
		T->nnodes = get_i32(&p);
		if (T->nnodes < 0 || T->nnodes > c->nnodes - sum)
			return refuse(c, err, name, "tree %d: %d nodes, more than the %d the header declares",
				      t, T->nnodes, c->nnodes);
		for (j = sum; j < sum + T->nnodes; j++) {
			struct fk_node *N = &c->nodes[j];
			N->left = get_i32(&p);
			N->right = get_i32(&p);
			N->feat = get_i32(&p);
			if (type == FK_LBP)
				for (k = 0; k < 8; k++)
					c->subsets[(size_t)j * 8 + k] = get_i32(&p);
			else
				N->thr = get_f32(&p);
		}
		for (j = 0; j <= T->nnodes; j++)
			c->leaves[T->leaf + j] = get_f32(&p);
		sum += T->nnodes;
	}
	for (j = 0; j < c->nfeat; j++) {
		struct fk_feature *F = &c->feat[j];
		if (type == FK_HAAR)
			F->tilted = get_i32(&p);
		for (k = 0; k < (type == FK_HAAR ? 3 : 1); k++) {
			F->r[k].x = get_i32(&p);
			F->r[k].y = get_i32(&p);
			F->r[k].w = get_i32(&p);
			F->r[k].h = get_i32(&p);
			if (type == FK_HAAR)
				F->r[k].weight = get_f32(&p);
		}
	}
	if (fk_cascade_check(c, &at, msg))
		return refuse(c, err, name, "%s", msg);
	return c;
}

/* cascade_check.c — what a loaded cascade must be, whichever file it came
 * from (cascade_impl.h), and freeing it.  The readers, cascade_xml.c and
 * cascade_pack.c, build a cascade and call these; nothing here calls them. */
#include "cascade_impl.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int fault(struct fk_fault *at, int in, int index, char *msg, const char *fmt, ...)
{
	va_list ap;

	at->in = in;
	at->index = index;
	va_start(ap, fmt);
	vsnprintf(msg, FK_ERRLEN, fmt, ap);
	va_end(ap);
	return -1;
}

/* a rectangle's numbers are each within a window's reach, so that the
 * sums that place it in the window cannot overflow */
static int in_reach(const fk_cascade *c, const struct fk_wrect *R)
{
	int lim = c->w + c->h;

	return R->x >= -lim && R->x <= lim && R->y >= -lim && R->y <= lim
		&& R->w >= -lim && R->w <= lim && R->h >= -lim && R->h <= lim;
}

/* a HAAR rectangle, upright or turned 45 degrees, lies in the window */
static int rect_fits(const fk_cascade *c, const struct fk_wrect *R, int tilted)
{
	if (!in_reach(c, R) || R->w < 0 || R->h < 0)
		return 0;
	if (!tilted)
		return R->x >= 0 && R->y >= 0 && R->x + R->w <= c->w && R->y + R->h <= c->h;
	/* corners (x,y) (x-h,y+h) (x+w,y+w) (x+w-h,y+w+h) */
	return R->x - R->h >= 0 && R->y >= 0 && R->x + R->w <= c->w && R->y + R->w + R->h <= c->h;
}

/* an LBP feature's 3x3 grid of w x h cells from x, y lies in the window */
static int grid_fits(const fk_cascade *c, const struct fk_wrect *R)
{
	return in_reach(c, R) && R->x >= 0 && R->y >= 0 && R->w >= 1 && R->h >= 1
		&& R->x + 3 * R->w <= c->w && R->y + 3 * R->h <= c->h;
}

static int check_trees(fk_cascade *c, struct fk_fault *at, char *msg)
{
	int t, j, nodes = 0, leaves = 0;

	for (t = 0; t < c->ntrees; t++) {
		const struct fk_tree *T = &c->trees[t];
		if (T->node != nodes || T->leaf != leaves || T->nnodes < 1
		    || T->nnodes > c->nnodes - nodes || T->nnodes + 1 > c->nleaves - leaves)
			return fault(at, FK_IN_TREE, t, msg, "tree %d: %d nodes at node %d, leaf %d do not follow "
				     "the trees before it within %d nodes and %d leaves",
				     t, T->nnodes, T->node, T->leaf, c->nnodes, c->nleaves);
		for (j = 0; j < T->nnodes; j++) {
			const struct fk_node *N = &c->nodes[nodes + j];
			/* a child is a later node of this tree or a leaf of it */
			if ((N->left > 0 && (N->left <= j || N->left >= T->nnodes)) || N->left < -T->nnodes
			    || (N->right > 0 && (N->right <= j || N->right >= T->nnodes)) || N->right < -T->nnodes)
				return fault(at, FK_IN_TREE, t, msg, "tree %d, node %d: children %d %d are not "
					     "later nodes or leaves of the tree", t, j, N->left, N->right);
			if (N->feat < 0 || N->feat >= c->nfeat)
				return fault(at, FK_IN_TREE, t, msg, "tree %d, node %d uses feature %d, not one of the %d",
					     t, j, N->feat, c->nfeat);
			if (!isfinite(N->thr))
				return fault(at, FK_IN_TREE, t, msg, "tree %d, node %d: threshold %g is not finite",
					     t, j, N->thr);
		}
		for (j = 0; j <= T->nnodes; j++)
			if (!isfinite(c->leaves[leaves + j]))
				return fault(at, FK_IN_TREE, t, msg, "tree %d: leaf value %g is not finite",
					     t, c->leaves[leaves + j]);
		nodes += T->nnodes;
		leaves += T->nnodes + 1;
	}
	if (nodes != c->nnodes || leaves != c->nleaves)
		return fault(at, FK_IN_CASCADE, 0, msg, "the trees hold %d nodes and %d leaves, not %d and %d",
			     nodes, leaves, c->nnodes, c->nleaves);
	return 0;
}

int fk_cascade_check(fk_cascade *c, struct fk_fault *at, char *msg)
{
	const char *kind = c->type == FK_LBP ? "LBP" : "HAAR";
	int s, i, k, trees = 0;

	if (c->type != FK_HAAR && c->type != FK_LBP)
		return fault(at, FK_IN_CASCADE, 0, msg, "feature type %d is neither HAAR nor LBP", c->type);
	if (c->w < 1 || c->w > FK_MAX_WINDOW || c->h < 1 || c->h > FK_MAX_WINDOW)
		return fault(at, FK_IN_CASCADE, 0, msg, "a %dx%d window is not within 1x1..%dx%d",
			     c->w, c->h, FK_MAX_WINDOW, FK_MAX_WINDOW);
	if (c->type == FK_HAAR && (c->w < 3 || c->h < 3))
		return fault(at, FK_IN_CASCADE, 0, msg, "a %dx%d window is too small", c->w, c->h);
	if (c->ncat != (c->type == FK_LBP ? 256 : 0))
		return fault(at, FK_IN_CASCADE, 0, msg, "%d categories do not suit %s features "
			     "(LBP has 256, HAAR 0)", c->ncat, kind);
	c->subset_size = (c->ncat + 31) / 32;
	if (c->nstages < 1)
		return fault(at, FK_IN_CASCADE, 0, msg, "the cascade has no stages");
	for (s = 0; s < c->nstages; s++) {
		const struct fk_stage *S = &c->stages[s];
		if (S->ntrees < 1)
			return fault(at, FK_IN_STAGE, s, msg, "stage %d has no weak classifiers", s);
		if (S->first != trees || S->ntrees > c->ntrees - trees)
			return fault(at, FK_IN_STAGE, s, msg, "stage %d: trees %d.. (%d of them) do not follow the "
				     "stages before it within %d trees", s, S->first, S->ntrees, c->ntrees);
		if (!isfinite(S->thr))
			return fault(at, FK_IN_STAGE, s, msg, "stage %d: threshold %g is not finite", s, S->thr);
		trees += S->ntrees;
	}
	if (trees != c->ntrees)
		return fault(at, FK_IN_CASCADE, 0, msg, "the stages hold %d trees, not %d", trees, c->ntrees);
	if (check_trees(c, at, msg))
		return -1;
	c->tilted = 0;
	for (i = 0; i < c->nfeat; i++) {
		const struct fk_feature *F = &c->feat[i];
		const struct fk_wrect *R = F->r;
		if (F->tilted != 0 && (F->tilted != 1 || c->type == FK_LBP))
			return fault(at, FK_IN_FEATURE, i, msg, "%s feature %d: tilted is %d", kind, i, F->tilted);
		if (c->type == FK_LBP && !grid_fits(c, R))
			return fault(at, FK_IN_FEATURE, i, msg, "LBP feature %d: rect %d %d %d %d does not fit "
				     "the %dx%d window", i, R->x, R->y, R->w, R->h, c->w, c->h);
		for (k = 0; k < 3 && c->type == FK_HAAR; k++)
			if (!rect_fits(c, &R[k], F->tilted))
				return fault(at, FK_IN_FEATURE, i, msg, "HAAR feature %d: %srectangle %d %d %d %d "
					     "does not fit the %dx%d window", i, F->tilted ? "tilted " : "",
					     R[k].x, R[k].y, R[k].w, R[k].h, c->w, c->h);
		for (k = 0; k < 3 && c->type == FK_HAAR; k++)
			if (!isfinite(R[k].weight))
				return fault(at, FK_IN_FEATURE, i, msg, "HAAR feature %d: weight %g is not finite",
					     i, R[k].weight);
		c->tilted |= F->tilted;
	}
	return 0;
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

/* cascade_impl.h — the loaded form of a cascade, shared by cascade.c
 * (loading) and detect.c (evaluation).  Not installed. */
#ifndef FK_CASCADE_IMPL_H
#define FK_CASCADE_IMPL_H

#include "cascade.h"

enum { FK_HAAR, FK_LBP };

struct fk_wrect {
	int x, y, w, h;
	float weight;
};

/* a HAAR feature: up to 3 weighted rectangles (weight 0 = unused), upright
 * or turned 45 degrees; an LBP feature: the 3x3 grid of cells of size
 * r[0].w x r[0].h from r[0].x, r[0].y */
struct fk_feature {
	struct fk_wrect r[3];
	int tilted;
};

/* a tree node: go left when the feature value is below thr (HAAR) or its
 * LBP code is in the node's category subset; a child <= 0 is leaf -child */
struct fk_node {
	int left, right, feat;
	float thr;
};

struct fk_stage {
	int first, ntrees; /* trees[first .. first+ntrees) */
	float thr;         /* the file's threshold less 1e-5, as OpenCV */
};

struct fk_tree {
	int node, nnodes, leaf; /* nodes[node..], leaves[leaf..] */
};

struct fk_cascade {
	int type, w, h;
	int ncat, subset_size; /* LBP: 256 categories in 8 ints a node */
	int max_nodes;         /* 1 when every tree is a stump */
	int tilted;            /* some feature is tilted */
	int nstages, ntrees, nnodes, nleaves, nfeat;
	struct fk_stage *stages;
	struct fk_tree *trees;
	struct fk_node *nodes;
	float *leaves;
	int *subsets; /* nnodes * subset_size, LBP only */
	struct fk_feature *feat;
};

#endif

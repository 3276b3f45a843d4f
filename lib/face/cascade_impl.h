/* cascade_impl.h — the loaded form of a cascade, shared by its readers
 * (cascade.c, cascade_xml.c, cascade_pack.c, cascade_check.c) and
 * detect.c (evaluation).  Not installed. */
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
	int tilted;            /* some feature is tilted */
	int nstages, ntrees, nnodes, nleaves, nfeat;
	struct fk_stage *stages;
	struct fk_tree *trees;
	struct fk_node *nodes;
	float *leaves;
	int *subsets; /* nnodes * subset_size, LBP only */
	struct fk_feature *feat;
};

/* the largest window side a cascade may have */
#define FK_MAX_WINDOW 10000

/* what fk_cascade_check found wrong: the cascade as a whole, or stage,
 * tree or feature number index (so that the XML reader can name its line) */
enum { FK_IN_CASCADE, FK_IN_STAGE, FK_IN_TREE, FK_IN_FEATURE };
struct fk_fault {
	int in, index;
};

/* The checks both file formats share: everything fk_detect relies on.
 * Window size and feature type; the stages, trees, nodes and leaves in
 * order, each within the counts; every child a later node or a leaf of
 * its tree; every feature index in range; every rectangle inside the
 * window; every number finite.  Sets the derived fields (subset_size,
 * tilted).  0, or -1 with *at and a message (no file name) in
 * msg[FK_ERRLEN]. */
int fk_cascade_check(fk_cascade *c, struct fk_fault *at, char *msg);

/* the readers of a whole file in memory (name for messages), NULL with
 * err on any fault: OpenCV's XML (cascade_xml.c), and the packed form
 * (fkcascade(5), cascade_pack.c) with its magic */
fk_cascade *fk_cascade_xml(const unsigned char *b, size_t n, const char *name, char *err);
#define FK_FKC_MAGIC "\x89" "FKC\r\n\x1a\n"
fk_cascade *fk_cascade_unpack(const unsigned char *b, size_t n, const char *name, char *err);

#endif

/* group.c — OpenCV's groupRectangles (see detect.h): windows that found
 * the same face become one rectangle. */
#include "detect.h"

#include <math.h>
#include <stdlib.h>

static int by_y_x(const void *a, const void *b)
{
	const fk_rect *r = a, *s = b;
	if (r->y != s->y)
		return r->y < s->y ? -1 : 1;
	if (r->x != s->x)
		return r->x < s->x ? -1 : 1;
	return (r->w > s->w) - (r->w < s->w);
}

static int root_of(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

static int similar(const fk_rect *a, const fk_rect *b, double eps)
{
	double d = eps * ((a->w < b->w ? a->w : b->w) + (a->h < b->h ? a->h : b->h)) * 0.5;
	return abs(a->x - b->x) <= d && abs(a->y - b->y) <= d
		&& abs(a->x + a->w - b->x - b->w) <= d && abs(a->y + a->h - b->y - b->h) <= d;
}

int fk_group_rects(fk_rect *r, int n, int min_neighbors, double eps)
{
	int *parent, *cls, i, j, nc = 0, kept = 0;
	fk_rect *avg;
	long long *acc;

	if (n == 0)
		return 0;
	if (min_neighbors <= 0) {
		qsort(r, n, sizeof *r, by_y_x);
		return n;
	}
	parent = malloc(2 * n * sizeof *parent);
	avg = malloc(n * sizeof *avg);
	acc = calloc(4 * (size_t)n, sizeof *acc);
	if (!parent || !avg || !acc) {
		free(parent);
		free(avg);
		free(acc);
		return -1;
	}
	cls = parent + n;
	for (i = 0; i < n; i++)
		parent[i] = i;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (similar(&r[i], &r[j], eps)) {
				int a = root_of(parent, i), b = root_of(parent, j);
				if (a != b)
					parent[b] = a;
			}
	for (i = 0; i < n; i++)
		cls[i] = -1;
	for (i = 0; i < n; i++) {
		int k = root_of(parent, i);
		if (cls[k] < 0) {
			cls[k] = nc;
			avg[nc].n = 0;
			nc++;
		}
		k = cls[k];
		acc[4 * k] += r[i].x;
		acc[4 * k + 1] += r[i].y;
		acc[4 * k + 2] += r[i].w;
		acc[4 * k + 3] += r[i].h;
		avg[k].n++;
	}
	/* the class average as OpenCV takes it: int sums times a float 1/n */
	for (i = 0; i < nc; i++) {
		float s = 1.f / avg[i].n;
		avg[i].x = (int)lrintf((float)(int)acc[4 * i] * s);
		avg[i].y = (int)lrintf((float)(int)acc[4 * i + 1] * s);
		avg[i].w = (int)lrintf((float)(int)acc[4 * i + 2] * s);
		avg[i].h = (int)lrintf((float)(int)acc[4 * i + 3] * s);
	}
	for (i = 0; i < nc; i++) {
		const fk_rect *a = &avg[i];
		if (a->n <= min_neighbors)
			continue;
		/* drop a class lying inside a bigger one that has more windows */
		for (j = 0; j < nc; j++) {
			const fk_rect *b = &avg[j];
			int dx, dy;
			if (j == i || b->n <= min_neighbors)
				continue;
			dx = (int)lrint(b->w * eps);
			dy = (int)lrint(b->h * eps);
			if (a->x >= b->x - dx && a->y >= b->y - dy && a->x + a->w <= b->x + b->w + dx
			    && a->y + a->h <= b->y + b->h + dy && (b->n > (a->n > 3 ? a->n : 3) || a->n < 3))
				break;
		}
		if (j == nc)
			r[kept++] = *a;
	}
	free(parent);
	free(avg);
	free(acc);
	qsort(r, kept, sizeof *r, by_y_x);
	return kept;
}

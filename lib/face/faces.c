/* faces.c — faces at any roll: a sweep of turned copies of the photo, an
 * eye check, and one face kept per place (see faces.h) */
#include "faces.h"
#include "grey.h"
#include "pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fk_find_defaults(fk_find_opts *o)
{
	fk_detect_defaults(&o->det);
	o->sweep = 0;
	o->amin = -48;
	o->amax = 48;
	o->astep = 6;
	o->eyes = NULL;
	o->eyes_note = 0;
}

double fk_find_bytes_per_pixel(const fk_cascade *face, const fk_find_opts *o)
{
	double det = fk_detect_bytes_per_pixel(face, &o->det);

	return o->sweep ? 1 + 2.25 * (1 + det) : 1 + det;
}

long long fk_find_max_pixels(const fk_cascade *face, const fk_find_opts *o,
			     long long memory)
{
	double b = 3 + fk_find_bytes_per_pixel(face, o);

	return (long long)((double)memory / (b > FK_READ_BYTES_PER_PIXEL ? b : FK_READ_BYTES_PER_PIXEL));
}

static double deg2rad(double d)
{
	return d * M_PI / 180;
}

/* rows j = i, i+n, i+2n, ... of a turned image (see fk_turn_grey) */
struct turn {
	const unsigned char *g;
	int w, h, tw, th;
	double co, si;
	unsigned char *t;
};

static void turn_rows(void *arg, int part, int parts)
{
	const struct turn *T = arg;
	double co = T->co, si = T->si;
	int i, j, w = T->w, h = T->h;

	for (j = part; j < T->th; j += parts) {
		double v = j + 0.5 - T->th / 2.0;
		for (i = 0; i < T->tw; i++) {
			double u = i + 0.5 - T->tw / 2.0;
			double sx = w / 2.0 + u * co - v * si - 0.5, sy = h / 2.0 + u * si + v * co - 0.5;
			double x0 = floor(sx), y0 = floor(sy), fx = sx - x0, fy = sy - y0, acc = 0;
			int dx, dy;
			for (dy = 0; dy < 2; dy++)
				for (dx = 0; dx < 2; dx++) {
					double x = x0 + dx, y = y0 + dy;
					if (x >= 0 && x < w && y >= 0 && y < h)
						acc += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy)
							* T->g[(size_t)y * w + (size_t)x];
				}
			T->t[(size_t)j * (size_t)T->tw + i] = (unsigned char)(acc + 0.5);
		}
	}
}

int fk_turn_grey(const unsigned char *g, int w, int h, double angle, int threads,
		 unsigned char **out, int *ow, int *oh, char *err)
{
	double co = cos(deg2rad(angle)), si = sin(deg2rad(angle));
	double tw = ceil(fabs(w * co) + fabs(h * si) - 1e-6), th = ceil(fabs(w * si) + fabs(h * co) - 1e-6);
	struct turn T;

	if (tw < 1)
		tw = 1;
	if (th < 1)
		th = 1;
	if (tw * th > 4.0 * w * h + 16 || !(T.t = malloc((size_t)tw * (size_t)th))) {
		snprintf(err, FK_ERRLEN, "out of memory turning a %dx%d image", w, h);
		return -1;
	}
	T.g = g, T.w = w, T.h = h, T.tw = (int)tw, T.th = (int)th, T.co = co, T.si = si;
	/* on libcnn's kept threads, as the detection that follows */
	fk_pool_run(threads, turn_rows, &T);
	*out = T.t;
	*ow = T.tw;
	*oh = T.th;
	return 0;
}

/* Look for two eyes in the upper part of face f of grey image g, enlarged
 * so that the face is at least 160 pixels wide.  1 with *phi the angle of
 * the line from the eye on the left to the other one, 0 when there are not
 * two, -1 on error. */
static int eye_line(const fk_cascade *eyes, const unsigned char *g, int gw, int gh,
		    const fk_rect *f, int min_neighbors, double *phi, char *err)
{
	int x0 = f->x, y0 = f->y, rw = f->w, rh = (int)(f->h * 0.6), sw, sh, ne, i, j, y;
	int best = -1, bi = 0, bj = 0;
	unsigned char *sub, *up;
	fk_detect_opts d;
	fk_rect *e;
	double k;

	if (x0 < 0 || y0 < 0 || x0 + rw > gw || y0 + rh > gh || rw < 1 || rh < 1)
		return 0;
	k = rw < 160 ? 160.0 / rw : 1;
	sw = (int)lrint(rw * k);
	sh = (int)lrint(rh * k);
	sub = malloc((size_t)rw * rh);
	up = malloc((size_t)sw * sh);
	if (!sub || !up) {
		free(sub);
		free(up);
		snprintf(err, FK_ERRLEN, "out of memory");
		return -1;
	}
	for (y = 0; y < rh; y++)
		memcpy(sub + (size_t)y * rw, g + (size_t)(y0 + y) * gw + x0, rw);
	fk_resize_grey(sub, rw, rh, up, sw, sh);
	fk_detect_defaults(&d);
	d.min_neighbors = min_neighbors;
	d.max_w = d.max_h = sw / 2;
	d.threads = 1;
	i = fk_detect(eyes, up, sw, sh, &d, &e, &ne, err);
	free(sub);
	free(up);
	if (i)
		return -1;
	/* the strongest pair side by side, both centred in the upper half */
	for (i = 0; i < ne; i++)
		for (j = 0; j < ne; j++) {
			double ax = e[i].x + e[i].w / 2.0, ay = e[i].y + e[i].h / 2.0;
			double bx = e[j].x + e[j].w / 2.0, by = e[j].y + e[j].h / 2.0;
			double gap = bx - ax, half = f->h * k / 2;
			if (gap <= 0.5 * (e[i].w > e[j].w ? e[i].w : e[j].w) || fabs(by - ay) >= gap
			    || ay >= half || by >= half || e[i].n + e[j].n <= best)
				continue;
			best = e[i].n + e[j].n;
			bi = i;
			bj = j;
		}
	if (best >= 0)
		*phi = atan2((e[bj].y + e[bj].h / 2.0) - (e[bi].y + e[bi].h / 2.0),
			     (e[bj].x + e[bj].w / 2.0) - (e[bi].x + e[bi].w / 2.0)) * 180 / M_PI;
	free(e);
	return best >= 0;
}

static int by_strength(const void *a, const void *b)
{
	const fk_face *f = a, *g = b;
	if (f->n != g->n)
		return f->n > g->n ? -1 : 1;
	return (fabs(f->angle) > fabs(g->angle)) - (fabs(f->angle) < fabs(g->angle));
}

static int by_top_left(const void *a, const void *b)
{
	const fk_face *f = a, *g = b;
	double fy = f->cy - f->h / 2, gy = g->cy - g->h / 2, fx = f->cx - f->w / 2, gx = g->cx - g->w / 2;
	if (fy != gy)
		return fy < gy ? -1 : 1;
	return (fx > gx) - (fx < gx);
}

/* keep the strongest of faces whose centres are closer than half the
 * bigger one's width; returns the new count */
static int one_per_place(fk_face *f, int n)
{
	int i, j, k = 0;

	if (n == 0)
		return 0;
	qsort(f, n, sizeof *f, by_strength);
	for (i = 0; i < n; i++) {
		for (j = 0; j < k; j++) {
			double s = f[i].w > f[j].w ? f[i].w : f[j].w;
			if (hypot(f[i].cx - f[j].cx, f[i].cy - f[j].cy) < 0.5 * s)
				break;
		}
		if (j == k)
			f[k++] = f[i];
	}
	return k;
}

int fk_find_faces(const fk_cascade *face, const fk_image *im, const fk_find_opts *o,
		  fk_face **out, int *n, char *err)
{
	unsigned char *grey = malloc((size_t)im->w * im->h + 1);
	fk_face *all = NULL;
	int na = 0, cap = 0, steps = 1, s, rc = -1;

	*out = NULL;
	*n = 0;
	if (!grey) {
		snprintf(err, FK_ERRLEN, "out of memory");
		return -1;
	}
	if (o->sweep) {
		if (!(o->astep > 0) || !(o->amin <= o->amax) || (o->amax - o->amin) / o->astep > FK_MAX_ANGLES - 1) {
			snprintf(err, FK_ERRLEN, "bad angle sweep %g:%g:%g", o->amin, o->amax, o->astep);
			free(grey);
			return -1;
		}
		steps = (int)floor((o->amax - o->amin) / o->astep + 1e-9) + 1;
	}
	fk_grey(im, grey);
	for (s = 0; s < steps; s++) {
		double a = o->sweep ? o->amin + s * o->astep : 0, co, si;
		unsigned char *g = grey;
		int gw = im->w, gh = im->h, nr, i;
		fk_rect *r;

		if (fabs(a) < 1e-9)
			a = 0;
		if (a != 0 && fk_turn_grey(grey, im->w, im->h, a, o->det.threads ?
					   o->det.threads : fk_pool_threads(), &g, &gw, &gh, err))
			goto out;
		if (fk_detect(face, g, gw, gh, &o->det, &r, &nr, err)) {
			if (g != grey)
				free(g);
			goto out;
		}
		co = cos(deg2rad(a));
		si = sin(deg2rad(a));
		for (i = 0; i < nr; i++) {
			double u = r[i].x + r[i].w / 2.0, v = r[i].y + r[i].h / 2.0, phi = 0;
			fk_face *f;
			int e = 0;
			if (o->eyes) {
				e = eye_line(o->eyes, g, gw, gh, &r[i], o->det.min_neighbors, &phi, err);
				if (e < 0) {
					free(r);
					if (g != grey)
						free(g);
					goto out;
				}
				if (e == 0 && !o->eyes_note)
					continue;
			}
			if (na == cap) {
				fk_face *p = realloc(all, (cap = cap ? 2 * cap : 16) * sizeof *p);
				if (!p) {
					snprintf(err, FK_ERRLEN, "out of memory");
					free(r);
					if (g != grey)
						free(g);
					goto out;
				}
				all = p;
			}
			f = &all[na++];
			if (a != 0) { /* back from the turned frame to the photo */
				u -= gw / 2.0;
				v -= gh / 2.0;
				f->cx = im->w / 2.0 + u * co - v * si;
				f->cy = im->h / 2.0 + u * si + v * co;
			} else {
				f->cx = u;
				f->cy = v;
			}
			f->w = r[i].w;
			f->h = r[i].h;
			f->angle = a + phi;
			f->n = r[i].n;
			f->eyes = e;
		}
		free(r);
		if (g != grey)
			free(g);
	}
	if (o->sweep)
		na = one_per_place(all, na);
	if (na)
		qsort(all, na, sizeof *all, by_top_left);
	*out = all;
	*n = na;
	all = NULL;
	rc = 0;
out:
	free(all);
	free(grey);
	return rc;
}

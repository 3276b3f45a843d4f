/* boxes.c — parse and check face boxes (see boxes.h) */
#include "boxes.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const field[] = { "x", "y", "w", "h", "angle" };

/* one field of a line as a finite number; -1 with a message otherwise */
static int number(const char *s, int k, const char *where, double *v, char *err)
{
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || *end != '\0') {
		snprintf(err, FK_ERRLEN, "%s: %s is not a number: \"%s\"", where, field[k], s);
		return -1;
	}
	if (!isfinite(*v) || errno == ERANGE) {
		snprintf(err, FK_ERRLEN, "%s: %s is not a finite number: \"%s\"", where,
			 field[k], s);
		return -1;
	}
	if (k >= 2 && k <= 3 && *v <= 0) {
		snprintf(err, FK_ERRLEN, "%s: %s must be positive: \"%s\"", where, field[k], s);
		return -1;
	}
	return 0;
}

/* parse one line (already stripped of its comment) into b; 1 for a box,
 * 0 for a blank line, -1 on error */
static int parse_line(char *s, const char *where, fk_box *b, char *err)
{
	char *tok[6], *save = NULL, *t;
	double v[5] = { 0, 0, 0, 0, 0 };
	int n = 0, k;

	for (t = strtok_r(s, " \t\r\n\v\f", &save); t; t = strtok_r(NULL, " \t\r\n\v\f", &save)) {
		if (n == 6)
			break;
		tok[n++] = t;
	}
	if (n == 0)
		return 0;
	if (n < 4 || n > 5) {
		snprintf(err, FK_ERRLEN, "%s: %s%d columns, want \"x y w h [angle]\"", where,
			 n > 5 ? "more than " : "", n > 5 ? 5 : n);
		return -1;
	}
	for (k = 0; k < n; k++)
		if (number(tok[k], k, where, &v[k], err))
			return -1;
	b->x = v[0];
	b->y = v[1];
	b->w = v[2];
	b->h = v[3];
	b->angle = v[4];
	return 1;
}

/* the N of a line "# image N" (blanks allowed around the words), else 0 */
static long image_line(const char *s)
{
	char *end;
	long n;

	s += strspn(s, " \t");
	if (*s++ != '#')
		return 0;
	s += strspn(s, " \t");
	if (strncmp(s, "image", 5) != 0 || !strchr(" \t", s[5]))
		return 0;
	s += 5 + strspn(s + 5, " \t");
	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || n < 1 || end[strspn(end, " \t\r\n")] != '\0')
		return 0;
	return n;
}

int fk_read_boxes(FILE *f, const char *name, fk_box **boxes, int *n, int *nimages,
		  char *err)
{
	char *line = NULL, *hash, where[FK_ERRLEN / 2];
	size_t cap = 0;
	fk_box *v = NULL, b;
	int nv = 0, capv = 0, r, image = 1, opened = 0;
	long lineno = 0, k;

	while (getline(&line, &cap, f) != -1) {
		lineno++;
		snprintf(where, sizeof where, "%s:%ld", name, lineno);
		if ((k = image_line(line))) {
			if (k != image + 1 && !(k == 1 && nv == 0 && !opened)) {
				snprintf(err, FK_ERRLEN, "%s: \"# image %ld\" after the block of image %d"
					 " (want \"# image %d\")", where, k, image, image + 1);
				goto fail;
			}
			image = (int)k;
			opened = 1;
			continue;
		}
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		r = parse_line(line, where, &b, err);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;
		if (nv == capv) {
			fk_box *nb = realloc(v, sizeof *v * (capv = capv ? 2 * capv : 16));
			if (!nb) {
				snprintf(err, FK_ERRLEN, "%s: out of memory", where);
				goto fail;
			}
			v = nb;
		}
		b.line = lineno;
		b.image = image;
		v[nv++] = b;
	}
	if (ferror(f)) {
		snprintf(err, FK_ERRLEN, "%s: read error: %s", name, strerror(errno));
		goto fail;
	}
	free(line);
	*boxes = v;
	*n = nv;
	*nimages = image;
	return 0;
fail:
	free(line);
	free(v);
	return -1;
}

int fk_box_inside(const fk_box *b, int w, int h, char *err)
{
	if (b->x >= w || b->x + b->w <= 0) {
		snprintf(err, FK_ERRLEN, "box at line %ld (x=%g w=%g) lies wholly outside the %dx%d image",
			 b->line, b->x, b->w, w, h);
		return -1;
	}
	if (b->y >= h || b->y + b->h <= 0) {
		snprintf(err, FK_ERRLEN, "box at line %ld (y=%g h=%g) lies wholly outside the %dx%d image",
			 b->line, b->y, b->h, w, h);
		return -1;
	}
	return 0;
}

/* faces.h — find faces in a photo with a cascade (cascade.h): upright only,
 * or swept over a range of roll angles, optionally confirmed by two eyes.
 * Library code: errors return -1 with a message in err[FK_ERRLEN]. */
#ifndef FK_FACES_H
#define FK_FACES_H

#include "detect.h"
#include "image.h"

/* a face: a w x h box centred at (cx, cy) in the photo, turned by angle
 * (its roll: degrees, positive clockwise as seen, the convention of
 * boxes.h and facecrop), how many raw windows made it, and whether the
 * eye check (when asked for) found two eyes */
typedef struct {
	double cx, cy, w, h, angle;
	int n, eyes;
} fk_face;

typedef struct {
	fk_detect_opts det;
	int sweep;                  /* try the angles amin, amin+astep, .. amax */
	double amin, amax, astep;   /* at most FK_MAX_ANGLES of them */
	const fk_cascade *eyes;     /* non-NULL: keep faces with two eyes, whose line gives the roll */
	int eyes_note;              /* with eyes: keep the faces without two eyes too, as
				     * evidence (their eyes field 0, their roll unchanged) */
} fk_find_opts;

/* the most angles a sweep tries: every tenth of a degree of a turn */
#define FK_MAX_ANGLES 3601

/* det defaults, no sweep (-48..48 by 6 when turned on), no eye check */
void fk_find_defaults(fk_find_opts *o);

/* Find the faces in im.  Without a sweep the boxes are exactly
 * fk_detect's.  With one, the photo is turned about its centre by each
 * angle, faces found upright there are mapped back, and a face found at
 * several angles is kept once, at the angle where most windows found it.
 * *out (malloc'd, *n faces, sorted by top then left edge) is the caller's
 * to free.  0 or -1. */
int fk_find_faces(const fk_cascade *face, const fk_image *im, const fk_find_opts *o,
		  fk_face **out, int *n, char *err);

/* The most memory fk_find_faces takes with options o, in bytes per pixel
 * of the photo (the photo itself not counted): its grey copy and the
 * detection's planes; with a sweep, a turned copy as well, searched in its
 * turn, counted at 2.25 times the photo's pixels (the most that a photo at
 * most twice as long as high takes when turned). */
double fk_find_bytes_per_pixel(const fk_cascade *face, const fk_find_opts *o);

/* The most pixels a photo may have for reading it (fk_read_image) and
 * searching it with options o to take at most memory bytes, at what a
 * pixel costs: the photo's 3 bytes and fk_find_bytes_per_pixel, or
 * reading's FK_READ_BYTES_PER_PIXEL if more.  The default pixel limit of
 * the programs that find faces. */
long long fk_find_max_pixels(const fk_cascade *face, const fk_find_opts *o,
			     long long memory);

/* Turn a grey w x h image by angle degrees about its centre into the
 * *ow x *oh image that holds all of it (malloc'd into *out; black beyond
 * the photo), on threads threads: out(u, v) samples the photo at centre +
 * R(angle) (u, v), so a face with roll angle stands upright in it.  0 or
 * -1. */
int fk_turn_grey(const unsigned char *g, int w, int h, double angle, int threads,
		 unsigned char **out, int *ow, int *oh, char *err);

#endif

/* crop.h — cut a face out of a photo: a square about the box's centre,
 * side round(max(w,h)*margin), turned by -angle so the face stands upright,
 * sampled bilinearly.  Library code: errors return -1 with a message. */
#ifndef FK_CROP_H
#define FK_CROP_H

#include "boxes.h"
#include "image.h"

typedef struct {
	double cx, cy; /* centre in the photo, pixels */
	int side;      /* output is side x side */
	double angle;  /* degrees, positive clockwise as seen */
} fk_crop;

/* the longest side a crop may have, whatever the pixel limit */
#define FK_MAX_SIDE (1 << 20)

/* The crop for box b enlarged by margin about its centre; -1 when its
 * side^2 is over max_pixels or its side over FK_MAX_SIDE. */
int fk_crop_geometry(const fk_box *b, double margin, long long max_pixels,
		     fk_crop *c, char *err);

/* Sample crop c of src into out.  Points beyond the photo repeat its edge
 * pixels, or are black when black is non-zero.  0 or -1 (out of memory). */
int fk_crop_image(const fk_image *src, const fk_crop *c, int black,
		  fk_image *out, char *err);

#endif

/* cascade.h — Viola-Jones object detection with OpenCV's trained cascades.
 *
 * fk_cascade_load reads a cascade in OpenCV's XML format (opencv_traincascade,
 * <cascade><stageType>BOOST</stageType>, HAAR features with stumps or trees,
 * upright or tilted, and LBP features), e.g. Debian's opencv-data files,
 * or the same packed by fk_cascade_write, which loads in microseconds.
 * detect.h runs a loaded cascade over an image.
 * Library code: it never prints and never exits; a failing call returns -1
 * (or NULL) and leaves a message in the caller's err[FK_ERRLEN]. */
#ifndef FK_CASCADE_H
#define FK_CASCADE_H

#include "image.h"

typedef struct fk_cascade fk_cascade;

/* Load a cascade file, OpenCV's XML or facekit's packed form
 * (fkcascade(5)), told apart by the first bytes.  NULL with a message
 * naming the file and what is wrong in it (missing, empty, not XML, not a
 * cascade, bad numbers, a damaged packed file). */
fk_cascade *fk_cascade_load(const char *path, char *err);
/* the same from an open stream, read to its end; name is for messages */
fk_cascade *fk_cascade_fload(FILE *f, const char *name, char *err);
void fk_cascade_free(fk_cascade *c);

/* Write c in the packed form (fkcascade(5)) to f.  0, or -1 with err
 * when writing fails (f is not closed or flushed). */
int fk_cascade_write(const fk_cascade *c, FILE *f, char *err);

#endif

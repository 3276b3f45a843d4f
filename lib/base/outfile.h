/* outfile.h — writing an output file the way every facekit program does.
 *
 * "-" is standard output.  A regular file, or a name that does not exist
 * yet, is written to a temporary file beside it, NAME.PID.K.tmp, which
 * fk_out_commit renames over it once whole: the file appears whole or not
 * at all, and keeps its permission bits.  A symbolic link is followed (to
 * its last link, even a dangling one) and its target replaced that way, so
 * the link stays a link.  A device, FIFO or socket is written in place and
 * never replaced.  Library code: a failing call returns -1 with a message
 * naming the file in the caller's err[FK_OUT_ERRLEN]. */
#ifndef FK_OUTFILE_H
#define FK_OUTFILE_H

#include <stdio.h>

#define FK_OUT_ERRLEN 256

typedef struct {
	FILE *f;            /* write here */
	const char *name;   /* as given, for messages; kept by the caller */
	char *path;         /* the file written: links followed */
	char *tmp;          /* the temporary file, or NULL when in place */
} fk_outfile;

/* open name for writing: f is stdout, the target written in place, or a
 * new temporary file beside the target */
int fk_out_open(fk_outfile *o, const char *name, char *err);
/* finish: flush, and for a temporary file fsync and rename it over the
 * target; closes f unless it is stdout.  On failure the temporary file is
 * removed and the target left as it was. */
int fk_out_commit(fk_outfile *o, char *err);
/* give up: close f (unless stdout) and remove the temporary file */
void fk_out_abort(fk_outfile *o);

/* the file name finally stands for, symbolic links followed: a malloc'd
 * string, or NULL with a message (a loop of links, out of memory) */
char *fk_out_target(const char *name, char *err);

/* Remove the temporary files NAME.PID.K.tmp beside name's target that a
 * process now gone left behind (kill -9 in the middle of a write); those
 * of live processes stay.  The number removed. */
int fk_out_sweep(const char *name);

/* Take the lock of a file that one process at a time may write: an
 * exclusive flock(2) on TARGET.lock beside name's target, holding the
 * holder's process id.  Its descriptor, or -1 with a message naming the
 * process that holds it.  fk_out_unlock removes the lock file and lets go. */
int fk_out_lock(const char *name, char *err);
void fk_out_unlock(int fd, const char *name);

#endif

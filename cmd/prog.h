/* prog.h — what the facekit programs share around main: messages as
 * "prog: what is wrong", usage errors (exit 2), checked option values, and
 * a checked close of standard output.  Header-only: each program is one
 * file, and library code never prints or exits. */
#ifndef FK_PROG_H
#define FK_PROG_H

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unistd.h>

#include "image.h"
#include "pool.h"

static const char *fk_progname = "facekit";

/* opencv-data's cascades, and the two facekit uses by default */
#define FK_CASCADES "/usr/share/opencv4/haarcascades/"
#define FK_FACE "haarcascade_frontalface_alt2"
#define FK_EYES "haarcascade_eye"

/* facekit's packed copy of opencv-data's cascade name: name.fkc in
 * ../share/facekit from the running program's folder (build/bin, or
 * PREFIX/bin once installed), else opencv-data's name.xml; path has room
 * for PATH_MAX + 64 bytes */
static inline const char *fk_default_cascade(const char *name, char *path)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0 && (exe[n] = 0, slash = strrchr(exe, '/'))) {
		*slash = 0;
		snprintf(path, PATH_MAX + 64, "%s/../share/facekit/%s.fkc", exe, name);
		if (access(path, R_OK) == 0)
			return realpath(path, exe) ? strcpy(path, exe) : path;
	}
	snprintf(path, PATH_MAX + 64, FK_CASCADES "%s.xml", name);
	return path;
}

/* Default pixel limits keep a program within FK_MEMORY bytes on the
 * biggest image it takes, by what a pixel really costs it; -p raises them.
 * Reading costs the most in every program but facefind and facecollect,
 * whose search costs more (fk_find_max_pixels). */
#define FK_MEMORY (1LL << 30)
#define FK_MAX_PIXELS_DEFAULT (FK_MEMORY / FK_READ_BYTES_PER_PIXEL)
_Static_assert(FK_MAX_PIXELS_DEFAULT == 119304647, "the usages and man pages say 119304647");

static inline void fk_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", fk_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define fk_die(...) (fk_warn(__VA_ARGS__), exit(1))

static inline void fk_usage(const char *usage)
{
	fputs(usage, stderr);
	exit(2);
}

/* an integer option value in lo..hi, or a usage error naming it */
static inline long fk_int_arg(const char *name, const char *s, long lo,
			      long hi, const char *usage)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi) {
		fk_warn("%s: \"%s\" is not an integer in %ld..%ld", name, s, lo, hi);
		fk_usage(usage);
	}
	return v;
}

/* a finite number in lo..hi, or a usage error naming it */
static inline double fk_num_arg(const char *name, const char *s, double lo,
				double hi, const char *usage)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
		fk_warn("%s: \"%s\" is not a number in %g..%g", name, s, lo, hi);
		fk_usage(usage);
	}
	return v;
}

static inline void *fk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fk_die("out of memory (%zu bytes)", n);
	return p;
}

/* -T's default: every online CPU (at most FK_POOL_MAX) */
static inline int fk_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > FK_POOL_MAX ? FK_POOL_MAX : (int)n;
}

/* open an input file, "-" being standard input */
static inline FILE *fk_open_in(const char *path)
{
	FILE *f;

	if (!strcmp(path, "-"))
		return stdin;
	f = fopen(path, "rb");
	if (!f)
		fk_die("%s: %s", path, strerror(errno));
	return f;
}

/* s as a JSON string */
static inline void fk_json_string(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			putc(c, f);
	}
	putc('"', f);
}

/* the next image of the stream f (named in), of at most max_pixels: 1, 0
 * at its end, or -1 after reporting a broken image by its index */
static inline int fk_next_image(FILE *f, const char *in, long idx, long long max_pixels,
				fk_image *im)
{
	char err[FK_ERRLEN];
	int r = fk_read_image(f, im, max_pixels, err);

	if (r < 0)
		fk_warn("%s: image %ld: %s", in, idx, err);
	return r;
}

/* flush and close standard output; the exit status, 1 if that failed */
static inline int fk_close_out(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		fk_warn("write error on standard output: %s", strerror(errno));
		return 1;
	}
	return status;
}

/* -h: the usage on standard output, then exit 0, or 1 when it could not be
 * written (-h > /dev/full), as after any failed write */
_Noreturn static inline void fk_help(const char *usage)
{
	fputs(usage, stdout);
	exit(fk_close_out(0));
}

#endif

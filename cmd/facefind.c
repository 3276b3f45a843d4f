/* facefind — find the faces in a photo with an OpenCV cascade and print one
 * "x y w h [angle]" line per face.  See facefind(1). */
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cascade.h"
#include "faces.h"
#include "image.h"
#include "outfile.h"
#include "prog.h"

static const char usage[] =
	"usage: facefind [-eqr] [-c CASCADE] [-E CASCADE] [-s SCALE] [-n MINNEIGH]\n"
	"                [-m MINSIZE] [-M MAXSIZE] [-A MIN:MAX:STEP] [-p MAXPIXELS]\n"
	"                [-T N] [--biggest] [--center] [-o OUT] [IMAGE]\n"
	"  print \"x y w h\" for each face of IMAGE (JPEG, PNG or netpbm, default\n"
	"  stdin; for a stream of images, those of image 2 on after \"# image N\")\n"
	"  -c CASCADE    face cascade, OpenCV's XML or packed by cascadepack (default\n"
	"                " FK_FACE " packed in ../share/facekit beside\n"
	"                the program, else " FK_CASCADES FK_FACE ".xml)\n"
	"  -s SCALE      pyramid scale factor, > 1 (default 1.1)\n"
	"  -n MINNEIGH   keep groups of more than MINNEIGH windows (default 3)\n"
	"  -m MINSIZE    smallest face side tried, pixels (default: the cascade's)\n"
	"  -M MAXSIZE    largest face side tried, pixels (default: the image's)\n"
	"  -r            also try turned faces, and print their roll angle\n"
	"  -A MIN:MAX:STEP  the angles -r tries, degrees (default -48:48:6)\n"
	"  -e            keep faces with two eyes in their upper half; the eye line\n"
	"                gives the roll angle, printed as a fifth column\n"
	"  -E CASCADE    eye cascade (default " FK_EYES ", the same way)\n"
	"  -q            print nothing; exit 0 when there is a face, 2 when there is none\n"
	"  --biggest     keep only the biggest face\n"
	"  --center      print the centre \"x y\" of each face instead of its box\n"
	"  -o OUT        write the photo with the faces outlined (PNG if OUT ends in\n"
	"                .png, PPM otherwise; - is standard output, with -q)\n"
	"  -p MAXPIXELS  refuse bigger images (default: as many as facefind can\n"
	"                search in 1 GiB with these options, printed below)\n"
	"  -T N          threads (default: every online CPU)\n";

struct opts {
	fk_find_opts find;
	const char *cascade, *eyes, *out, *image;
	int quiet, biggest, center, help;
	long long max_pixels; /* 0: the default, known once the cascade is */
};

static void parse_sweep(const char *s, fk_find_opts *f)
{
	char *e1, *e2, *e3;

	f->amin = strtod(s, &e1);
	if (e1 != s && *e1 == ':') {
		f->amax = strtod(e1 + 1, &e2);
		if (e2 != e1 + 1 && *e2 == ':') {
			f->astep = strtod(e2 + 1, &e3);
			if (e3 != e2 + 1 && !*e3 && fabs(f->amin) <= 180 && fabs(f->amax) <= 180
			    && f->amin <= f->amax && f->astep > 0 && f->astep <= 360) {
				if ((f->amax - f->amin) / f->astep <= FK_MAX_ANGLES - 1)
					return;
				fk_warn("-A: \"%s\" tries more than %d angles", s, FK_MAX_ANGLES);
				fk_usage(usage);
			}
		}
	}
	fk_warn("-A: \"%s\" is not MIN:MAX:STEP with -180 <= MIN <= MAX <= 180 and STEP > 0", s);
	fk_usage(usage);
}

/* -h: the usage, the default cascades and pixel limits for these options */
_Noreturn static void help(const struct opts *o, const char *def_face, const char *def_eyes)
{
	fk_find_opts upright = o->find, turned = o->find;
	char err[FK_ERRLEN];
	fk_cascade *c;

	printf("%s  default cascades here: -c %s\n                          -E %s\n",
	       usage, def_face, def_eyes);
	upright.sweep = 0;
	turned.sweep = 1;
	if ((c = fk_cascade_load(o->cascade, err))) {
		printf("  default MAXPIXELS here: %lld (%lld with -r)\n",
		       fk_find_max_pixels(c, &upright, FK_MEMORY),
		       fk_find_max_pixels(c, &turned, FK_MEMORY));
		fk_cascade_free(c);
	}
	exit(fk_close_out(0));
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static char face_path[PATH_MAX + 64], eye_path[PATH_MAX + 64];
	const char *def_face, *def_eyes;
	static const struct option longs[] = {
		{ "biggest", no_argument, NULL, 'B' },
		{ "center", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, eyes = 0;

	memset(o, 0, sizeof *o);
	fk_find_defaults(&o->find);
	o->cascade = def_face = fk_default_cascade(FK_FACE, face_path);
	o->eyes = def_eyes = fk_default_cascade(FK_EYES, eye_path);
	fk_pool_set_threads(fk_online_cpus());
	while ((c = getopt_long(argc, argv, "A:c:eE:hm:M:n:o:p:qrs:T:", longs, NULL)) != -1)
		switch (c) {
		case 'A': parse_sweep(optarg, &o->find); o->find.sweep = 1; break;
		case 'B': o->biggest = 1; break;
		case 'c': o->cascade = optarg; break;
		case 'C': o->center = 1; break;
		case 'e': eyes = 1; break;
		case 'E': o->eyes = optarg; break;
		case 'h': o->help = 1; break;
		case 'm': o->find.det.min_w = o->find.det.min_h = (int)fk_int_arg("-m", optarg, 0, INT_MAX, usage); break;
		case 'M': o->find.det.max_w = o->find.det.max_h = (int)fk_int_arg("-M", optarg, 1, INT_MAX, usage); break;
		case 'n': o->find.det.min_neighbors = (int)fk_int_arg("-n", optarg, 0, INT_MAX, usage); break;
		case 'o': o->out = optarg; break;
		case 'T': fk_pool_set_threads((int)fk_int_arg("-T", optarg, 1, FK_POOL_MAX, usage)); break;
		case 'p': o->max_pixels = fk_int_arg("-p", optarg, 1, LONG_MAX, usage); break;
		case 'q': o->quiet = 1; break;
		case 'r': o->find.sweep = 1; break;
		case 's': o->find.det.scale = fk_num_arg("-s", optarg, 1.0001, 100, usage); break;
		default: fk_usage(usage);
		}
	if (argc - optind > 1)
		fk_usage(usage);
	if (o->out && !strcmp(o->out, "-") && !o->quiet) {
		fk_warn("-o -: standard output carries the boxes; add -q to have it carry the photo");
		fk_usage(usage);
	}
	o->image = argc - optind == 1 ? argv[optind] : "-";
	if (!eyes)
		o->eyes = NULL;
	if (o->help)
		help(o, def_face, def_eyes);
}

/* ---- the outlined photo ---- */
static void plot(fk_image *im, double x, double y, int t)
{
	long cx = lrint(x), cy = lrint(y), i, j;

	for (j = cy - t / 2; j <= cy + (t - 1) / 2; j++)
		for (i = cx - t / 2; i <= cx + (t - 1) / 2; i++)
			if (i >= 0 && i < im->w && j >= 0 && j < im->h) {
				unsigned char *p = im->px + 3 * ((size_t)j * im->w + i);
				p[0] = 255, p[1] = 0, p[2] = 0;
			}
}

static void outline(fk_image *im, const fk_face *f)
{
	double co = cos(f->angle * M_PI / 180), si = sin(f->angle * M_PI / 180);
	double cu[5] = { -1, 1, 1, -1, -1 }, cv[5] = { -1, -1, 1, 1, -1 };
	int t = f->w >= 100 ? 3 : 2, k;

	for (k = 0; k < 4; k++) {
		double u0 = cu[k] * f->w / 2, v0 = cv[k] * f->h / 2, u1 = cu[k + 1] * f->w / 2, v1 = cv[k + 1] * f->h / 2;
		double len = hypot(u1 - u0, v1 - v0), s;
		for (s = 0; s <= len; s += 0.5) {
			double u = u0 + (u1 - u0) * s / len, v = v0 + (v1 - v0) * s / len;
			plot(im, f->cx + u * co - v * si, f->cy + u * si + v * co, t);
		}
	}
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcasecmp(s + n - m, tail);
}

/* The outlined photos go to OUT (fk_out_open: a temporary file renamed
 * over it, a device written in place, "-" standard output), through
 * pnmtopng for a .png name. */
struct outfile {
	fk_outfile o;
	FILE *f;   /* the PPM stream: o.f, or the pipe to pnmtopng */
	pid_t pid; /* pnmtopng, or -1 */
};

static void out_open(struct outfile *w, const char *name)
{
	char err[FK_OUT_ERRLEN];

	w->pid = -1;
	if (fk_out_open(&w->o, name, err) != 0)
		fk_die("%s", err);
	w->f = w->o.f;
	if (ends_with(name, ".png")) {
		int p[2];
		fflush(w->o.f);
		if (pipe(p) || (w->pid = fork()) < 0) {
			fk_out_abort(&w->o);
			fk_die("cannot run pnmtopng: %s", strerror(errno));
		}
		if (w->pid == 0) {
			dup2(p[0], 0);
			dup2(fileno(w->o.f), 1);
			close(p[0]);
			close(p[1]);
			execlp("pnmtopng", "pnmtopng", (char *)NULL);
			fprintf(stderr, "facefind: cannot run pnmtopng: %s\n", strerror(errno));
			_exit(127);
		}
		close(p[0]);
		/* a pnmtopng that dies makes our writes fail, not kill us,
		 * so out_close can remove the temporary file */
		signal(SIGPIPE, SIG_IGN);
		if (!(w->f = fdopen(p[1], "wb"))) {
			fk_out_abort(&w->o);
			fk_die("%s: %s", name, strerror(errno));
		}
	}
}

/* finish the file; ok = 0 (or a failure here) removes it and exits 1 */
static void out_close(struct outfile *w, int ok)
{
	char err[FK_OUT_ERRLEN];
	int status;

	if (w->pid > 0 && fclose(w->f) != 0 && ok) {
		fk_warn("%s: %s", w->o.name, strerror(errno));
		ok = 0;
	}
	if (w->pid > 0 && (waitpid(w->pid, &status, 0) < 0 || !WIFEXITED(status)
			   || WEXITSTATUS(status) != 0)) {
		if (ok)
			fk_warn("%s: pnmtopng failed", w->o.name);
		ok = 0;
	}
	if (ok && fk_out_commit(&w->o, err) != 0) {
		fk_warn("%s", err);
		ok = 0;
	}
	if (!ok) {
		fk_out_abort(&w->o);
		exit(1);
	}
}

/* "%.10g" of v rounded to places decimals, never "-0" */
static void num(double v, double places, const char *sep)
{
	double r = round(v * places) / places;
	printf("%.10g%s", r == 0 ? 0 : r, sep);
}

static void print_faces(const struct opts *o, const fk_face *f, int n)
{
	int i, angle = o->find.sweep || o->eyes;

	for (i = 0; i < n; i++) {
		if (o->center) {
			num(f[i].cx, 10, " ");
			num(f[i].cy, 10, angle ? " " : "\n");
		} else {
			num(f[i].cx - f[i].w / 2, 10, " ");
			num(f[i].cy - f[i].h / 2, 10, " ");
			num(f[i].w, 10, " ");
			num(f[i].h, 10, angle ? " " : "\n");
		}
		if (angle)
			num(f[i].angle, 100, "\n");
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	fk_cascade *face, *eyes = NULL;
	fk_image im = { 0 };
	struct outfile out = { 0 };
	char err[FK_ERRLEN];
	int r, k, nim = 0, found = 0;
	FILE *f;

	fk_progname = "facefind";
	parse_args(argc, argv, &o);
	if (!(face = fk_cascade_load(o.cascade, err)))
		fk_die("%s", err);
	if (o.eyes && !(eyes = fk_cascade_load(o.eyes, err)))
		fk_die("%s", err);
	o.find.eyes = eyes;
	if (!o.max_pixels)
		o.max_pixels = fk_find_max_pixels(face, &o.find, FK_MEMORY);
	f = fk_open_in(o.image);
	if (o.out)
		out_open(&out, o.out);
	while ((r = fk_read_image(f, &im, o.max_pixels, err)) == 1) {
		fk_face *faces;
		int n;
		if (fk_find_faces(face, &im, &o.find, &faces, &n, err)) {
			fk_warn("%s: %s", o.image, err);
			r = -2;
			break;
		}
		if (o.biggest && n > 1) {
			int b = 0;
			for (k = 1; k < n; k++)
				if (faces[k].w * faces[k].h > faces[b].w * faces[b].h)
					b = k;
			faces[0] = faces[b];
			n = 1;
		}
		found += n;
		nim++;
		if (!o.quiet) {
			if (nim > 1)
				printf("# image %d\n", nim);
			print_faces(&o, faces, n);
		}
		if (o.out) {
			for (k = 0; k < n; k++)
				outline(&im, &faces[k]);
			if (fk_write_ppm(out.f, &im, err)) {
				fk_warn("%s: %s", o.out, err);
				r = -2;
			}
		}
		free(faces);
		if (r == -2)
			break;
	}
	if (r == -1)
		fk_warn("%s: %s", o.image, err);
	else if (r == 0 && nim == 0) {
		fk_warn("%s: no image", o.image);
		r = -1;
	}
	if (o.out)
		out_close(&out, r == 0);
	if (r != 0)
		exit(1);
	if (f != stdin)
		fclose(f);
	fk_image_free(&im);
	fk_cascade_free(face);
	fk_cascade_free(eyes);
	return fk_close_out(o.quiet && found == 0 ? 2 : 0);
}

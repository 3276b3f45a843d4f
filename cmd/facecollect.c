/* facecollect — find every face in a set of photos and keep each as an
 * upright face image in a faces folder, sorted by the person folder the
 * photo came from when that is certain, with a manifest line per face.
 * See facecollect(1). */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "crop.h"
#include "faces.h"
#include "image.h"
#include "pool.h"
#include "prog.h"
#include "scale.h"

static const char usage[] =
	"usage: facecollect [-er] [-o FACES] [-s SIDE] [-m MARGIN] [-n MINNEIGH]\n"
	"                   [-p MAXPIXELS] [-T THREADS] PHOTO-OR-FOLDER...\n"
	"  write every face found in the photos (JPEG, PNG or netpbm; folders are\n"
	"  searched) as an upright SIDE x SIDE PNG into FACES/PERSON/ when the photo\n"
	"  lies in a folder PERSON of a FOLDER given and shows exactly one face,\n"
	"  else into FACES/unsorted/; one line per face, and per photo without\n"
	"  one, in FACES/manifest.txt.  Photos in the manifest are not read again.\n"
	"  -o FACES      the faces folder (default faces)\n"
	"  -s SIDE       side of the face images, pixels (default 96)\n"
	"  -m MARGIN     enlarge each face box by MARGIN about its centre (default 1.25)\n"
	"  -e            keep only faces with two eyes (default: keep all, note the eyes)\n"
	"  -r            also find turned faces (facefind -r)\n"
	"  -n MINNEIGH   keep groups of more than MINNEIGH windows (default 3)\n"
	"  -p MAXPIXELS  skip bigger photos (default: as many as it can search in\n"
	"                1 GiB, as facefind -h prints for -T and -r)\n"
	"  -T THREADS    threads (default: the online CPUs)\n";

/* the folders of FACES that hold no person's faces */
#define UNSORTED "unsorted"

struct opts {
	const fk_cascade *cascade;
	const char *faces;
	int side, eyes_only, side_given, margin_given;
	double margin;
	long long max_pixels; /* 0: the default, known once the cascade is */
	fk_find_opts find;
};

/* a photo to read, and the person its folder names (NULL: none) */
struct photo {
	char *path, *person;
};

static struct {
	struct photo *p;
	size_t n, cap;
} photos;

/* the manifest: photos done, face names taken */
static struct {
	char **photo, **face;
	size_t nphoto, nface, capphoto, capface;
} seen;

static struct {
	long photos, faces, sorted, unsorted, none, skipped, done;
} count;

static void parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof *o);
	o->faces = "faces";
	o->side = 96;
	o->margin = 1.25;
	fk_find_defaults(&o->find);
	o->find.det.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	while ((c = getopt(argc, argv, "ehm:n:o:p:rs:T:")) != -1)
		switch (c) {
		case 'e': o->eyes_only = 1; break;
		case 'h': fputs(usage, stdout); exit(fk_close_out(0));
		case 'm': o->margin = fk_num_arg("-m", optarg, 0.1, 10, usage); o->margin_given = 1; break;
		case 'n': o->find.det.min_neighbors = (int)fk_int_arg("-n", optarg, 0, INT_MAX, usage); break;
		case 'o': o->faces = optarg; break;
		case 'p': o->max_pixels = fk_int_arg("-p", optarg, 1, LONG_MAX, usage); break;
		case 'r': o->find.sweep = 1; break;
		case 's': o->side = (int)fk_int_arg("-s", optarg, 8, 4096, usage); o->side_given = 1; break;
		case 'T': o->find.det.threads = (int)fk_int_arg("-T", optarg, 1, FK_POOL_MAX, usage); break;
		default: fk_usage(usage);
		}
	if (o->find.det.threads < 1)
		o->find.det.threads = 1;
	if (o->find.det.threads > FK_POOL_MAX)
		o->find.det.threads = FK_POOL_MAX;
	if (argc - optind < 1) {
		fk_warn("no photo or folder given");
		fk_usage(usage);
	}
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(fk_xmalloc(n), s, n);
}

static void push(char ***v, size_t *n, size_t *cap, char *s)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		if (!(*v = realloc(*v, *cap * sizeof **v)))
			fk_die("out of memory");
	}
	(*v)[(*n)++] = s;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has(char **v, size_t n, const char *s)
{
	return n && bsearch(&s, v, n, sizeof *v, by_string) != NULL;
}

/* put s into the sorted v, in its place */
static void insert(char ***v, size_t *n, size_t *cap, char *s)
{
	size_t lo = 0, hi = *n;

	push(v, n, cap, s);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp((*v)[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(*v + lo + 1, *v + lo, (*n - 1 - lo) * sizeof **v);
	(*v)[lo] = s;
}

/* ---- the manifest: "FACE<TAB>PHOTO<TAB>x y w h angle<TAB>N<TAB>EYES",
 * after a line naming the format and one "# margin=M side=S" ---- */
#define MANIFEST_HEAD "# facecollect manifest 1: face, photo, box \"x y w h angle\", neighbours, eyes\n"

/* the next tab-separated field of *s, NUL-terminated in place */
static char *field(char **s)
{
	char *f = *s, *t;

	if (!f)
		return NULL;
	if ((t = strchr(f, '\t'))) {
		*t = 0;
		*s = t + 1;
	} else
		*s = NULL;
	return f;
}

/* a faces folder holds faces of one margin and side: those of its
 * manifest, taken when not given, refused when given otherwise */
static void agree(struct opts *o, const char *path, long no, const char *line)
{
	double m;
	int side;

	if (sscanf(line, "# margin=%lf side=%d", &m, &side) != 2)
		fk_die("%s:%ld: not \"# margin=M side=S\": \"%.60s\"", path, no, line);
	if ((o->margin_given && fabs(m - o->margin) > 1e-9) || (o->side_given && side != o->side))
		fk_die("%s: its faces are cut with margin %g at side %d, not -m %g -s %d: "
		       "give those, or another faces folder", path, m, side, o->margin, o->side);
	o->margin = m;
	o->side = side;
}

static void read_manifest(const char *path, struct opts *o)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *s, *face, *photo;
	size_t cap = 0;
	ssize_t len;
	long no = 0;

	if (!f) {
		if (errno != ENOENT)
			fk_die("%s: %s", path, strerror(errno));
		return;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		no++;
		if (line[len - 1] != '\n')	/* a line cut short: not counted */
			break;
		line[len - 1] = 0;
		if (!strncmp(line, "# margin=", 9))
			agree(o, path, no, line);
		if (line[0] == '#' || !line[0])
			continue;
		s = line;
		face = field(&s);
		photo = field(&s);
		if (!photo || !*photo)
			fk_die("%s:%ld: not \"FACE<TAB>PHOTO<TAB>...\": \"%.60s\"", path, no, line);
		if (strcmp(face, "-")) {
			const char *base = strrchr(face, '/');
			push(&seen.face, &seen.nface, &seen.capface, xstrdup(base ? base + 1 : face));
		}
		if (!seen.nphoto || strcmp(seen.photo[seen.nphoto - 1], photo))
			push(&seen.photo, &seen.nphoto, &seen.capphoto, xstrdup(photo));
	}
	if (ferror(f))
		fk_die("%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	if (seen.nphoto)	/* qsort wants an array, even of none */
		qsort(seen.photo, seen.nphoto, sizeof *seen.photo, by_string);
	if (seen.nface)
		qsort(seen.face, seen.nface, sizeof *seen.face, by_string);
}

/* ---- the photos to read ---- */
static void add_photo(const char *path, const char *person)
{
	char *real = realpath(path, NULL);

	if (!real)
		fk_die("%s: %s", path, strerror(errno));
	if (photos.n == photos.cap) {
		photos.cap = photos.cap ? 2 * photos.cap : 256;
		if (!(photos.p = realloc(photos.p, photos.cap * sizeof *photos.p)))
			fk_die("out of memory");
	}
	photos.p[photos.n].path = real;
	photos.p[photos.n].person = person ? xstrdup(person) : NULL;
	photos.n++;
}

/* by path, and a photo with a person before the same without */
static int by_path(const void *a, const void *b)
{
	const struct photo *p = a, *q = b;
	int c = strcmp(p->path, q->path);

	return c ? c : (q->person != NULL) - (p->person != NULL);
}

/* Every regular file below dir (hidden ones and the faces folder left
 * out); person is the folder below the top one, NULL at the top. */
static void walk(const char *dir, const char *person, int depth, const struct stat *faces)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0, i;

	if (!d) {
		fk_warn("%s: %s", dir, strerror(errno));
		count.skipped++;
		return;
	}
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			push(&names, &n, &cap, xstrdup(e->d_name));
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_string);
	for (i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = fk_xmalloc(len);
		struct stat sb;

		snprintf(path, len, "%s/%s", dir, names[i]);
		if (stat(path, &sb)) {
			fk_warn("%s: %s", path, strerror(errno));
			count.skipped++;
		} else if (S_ISDIR(sb.st_mode)) {
			if (!(sb.st_dev == faces->st_dev && sb.st_ino == faces->st_ino) && depth < 32)
				walk(path, depth == 0 ? names[i] : person, depth + 1, faces);
		} else if (S_ISREG(sb.st_mode))
			add_photo(path, person);
		free(path);
		free(names[i]);
	}
	free(names);
}

/* ---- one photo ---- */
/* a face file name for the stem of photo path and face k, taken by no
 * other photo: "STEM-K.png", else "STEM~2-K.png", ... */
static char *face_name(const char *path, int k, int *tag)
{
	const char *base = strrchr(path, '/'), *dot;
	char *name;
	size_t len;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	name = fk_xmalloc(len + 48);
	for (;; ++*tag) {
		if (*tag > 1)
			snprintf(name, len + 48, "%.*s~%d-%d.png", (int)len, base, *tag, k);
		else
			snprintf(name, len + 48, "%.*s-%d.png", (int)len, base, k);
		if (!has(seen.face, seen.nface, name))
			return name;
	}
}

/* write im as FOLDER/NAME.png through a temporary file; 0 or -1 */
static int write_face(const char *folder, const char *name, const fk_image *im)
{
	size_t len = strlen(folder) + strlen(name) + 32;
	char *path = fk_xmalloc(len), *tmp = fk_xmalloc(len), err[FK_ERRLEN];
	FILE *f;
	int fd, rc = -1;

	snprintf(path, len, "%s/%s", folder, name);
	snprintf(tmp, len, "%s/.%s.%ld.tmp", folder, name, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 || !(f = fdopen(fd, "wb"))) {
		fk_warn("%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
	} else {
		int w = fk_write_png(f, im, err);
		if (fclose(f) && !w)
			snprintf(err, FK_ERRLEN, "%s", strerror(errno)), w = -1;
		if (w)
			fk_warn("%s: %s", path, err);
		else if (rename(tmp, path))
			fk_warn("%s: %s", path, strerror(errno));
		else
			rc = 0;
	}
	if (rc)
		unlink(tmp);
	free(path);
	free(tmp);
	return rc;
}

static void make_folder(const char *path)
{
	if (mkdir(path, 0777) && errno != EEXIST)
		fk_die("%s: %s", path, strerror(errno));
}

/* append text to the manifest in one write, or put the file back as it was */
static void append(int fd, const char *manifest, const char *text, size_t n)
{
	off_t at = lseek(fd, 0, SEEK_END);
	ssize_t w = write(fd, text, n);

	if (w != (ssize_t)n) {
		int e = w < 0 ? errno : ENOSPC;
		if (at >= 0 && ftruncate(fd, at)) {}
		fk_die("%s: %s", manifest, strerror(e));
	}
}

/* v rounded to 1/places, never -0 */
static double round10(double v, double places)
{
	double r = round(v * places) / places;
	return r == 0 ? 0 : r;
}

/* Find, cut and write the faces of photo p, then its manifest lines. */
static void collect(const struct opts *o, const struct photo *p, int mfd, const char *manifest)
{
	char err[FK_ERRLEN], *text = NULL, *dest = NULL;
	fk_image im = { 0 }, crop = { 0 }, face = { 0 };
	fk_face *faces = NULL;
	size_t tlen = 0;
	FILE *t, *f;
	int n = 0, k, r, tag = 1, sorted;

	if (strpbrk(p->path, "\t\n")) {
		fk_warn("%s: skipped: the name holds a tab or a newline", p->path);
		count.skipped++;
		return;
	}
	if (!(f = fopen(p->path, "rb"))) {
		fk_warn("%s: skipped: %s", p->path, strerror(errno));
		count.skipped++;
		return;
	}
	r = fk_read_image(f, &im, o->max_pixels, err);
	fclose(f);
	if (r <= 0) {
		fk_warn("%s: skipped: %s", p->path, r ? err : "empty file");
		count.skipped++;
		fk_image_free(&im);
		return;
	}
	if (fk_find_faces(o->cascade, &im, &o->find, &faces, &n, err) < 0)
		fk_die("%s: %s", p->path, err);
	count.photos++;
	sorted = p->person && n == 1;
	if (sorted) {
		size_t len = strlen(o->faces) + strlen(p->person) + 2;
		dest = fk_xmalloc(len);
		snprintf(dest, len, "%s/%s", o->faces, p->person);
		make_folder(dest);
	} else {
		size_t len = strlen(o->faces) + sizeof UNSORTED + 1;
		dest = fk_xmalloc(len);
		snprintf(dest, len, "%s/%s", o->faces, UNSORTED);
	}
	if (!(t = open_memstream(&text, &tlen)))
		fk_die("out of memory");
	for (k = 0; k < n; k++) {
		const fk_face *fc = &faces[k];
		/* the box as facefind prints it, so that the manifest's line
		 * cuts the same face again (facecrop -m MARGIN) */
		fk_box b = { .x = round10(fc->cx - fc->w / 2, 10), .y = round10(fc->cy - fc->h / 2, 10),
			     .w = round10(fc->w, 10), .h = round10(fc->h, 10),
			     .angle = round10(fc->angle, 100) };
		fk_crop c;
		char *name;

		if (fk_crop_geometry(&b, o->margin, o->max_pixels, &c, err) ||
		    fk_crop_image(&im, &c, 0, &crop, err) ||
		    fk_scale_square(&crop, o->side, 0, &face, err))
			fk_die("%s: face %d: %s", p->path, k + 1, err);
		name = face_name(p->path, k + 1, &tag);
		if (write_face(dest, name, &face))
			exit(1);
		insert(&seen.face, &seen.nface, &seen.capface, xstrdup(name));
		fprintf(t, "%s/%s\t%s\t%.10g %.10g %.10g %.10g %.10g\t%d\t%d\n",
			sorted ? p->person : UNSORTED, name, p->path, b.x, b.y, b.w, b.h,
			b.angle, fc->n, fc->eyes);
		free(name);
	}
	if (n == 0)
		fprintf(t, "-\t%s\t-\t-\t-\n", p->path);
	if (fclose(t))
		fk_die("out of memory");
	append(mfd, manifest, text, tlen);
	count.faces += n;
	if (sorted)
		count.sorted += n;
	else
		count.unsorted += n;
	count.none += n == 0;
	free(text);
	free(dest);
	free(faces);
	fk_image_free(&im);
	fk_image_free(&crop);
	fk_image_free(&face);
}

int main(int argc, char **argv)
{
	static char face_path[PATH_MAX + 64], eye_path[PATH_MAX + 64];
	struct opts o;
	fk_cascade *face, *eyes;
	char err[FK_ERRLEN], *manifest, *unsorted;
	struct stat fsb;
	size_t len, i;
	int mfd;

	fk_progname = "facecollect";
	parse_args(argc, argv, &o);
	fk_pool_set_threads(o.find.det.threads);
	if (!(face = fk_cascade_load(fk_default_cascade(FK_FACE, face_path), err)) ||
	    !(eyes = fk_cascade_load(fk_default_cascade(FK_EYES, eye_path), err)))
		fk_die("%s", err);
	o.cascade = face;
	o.find.eyes = eyes;
	o.find.eyes_note = !o.eyes_only;
	if (!o.max_pixels)
		o.max_pixels = fk_find_max_pixels(face, &o.find, FK_MEMORY);

	make_folder(o.faces);
	len = strlen(o.faces) + 32;
	manifest = fk_xmalloc(len);
	unsorted = fk_xmalloc(len);
	snprintf(manifest, len, "%s/manifest.txt", o.faces);
	snprintf(unsorted, len, "%s/%s", o.faces, UNSORTED);
	make_folder(unsorted);
	if (stat(o.faces, &fsb))
		fk_die("%s: %s", o.faces, strerror(errno));
	if ((mfd = open(manifest, O_RDWR | O_CREAT | O_APPEND, 0666)) < 0)
		fk_die("%s: %s", manifest, strerror(errno));
	if (flock(mfd, LOCK_EX | LOCK_NB))
		fk_die("%s: another facecollect is writing to %s", manifest, o.faces);
	read_manifest(manifest, &o);
	if (lseek(mfd, 0, SEEK_END) == 0) {
		char head[sizeof MANIFEST_HEAD + 64];
		int n = snprintf(head, sizeof head, "%s# margin=%.10g side=%d\n", MANIFEST_HEAD,
				 o.margin, o.side);
		append(mfd, manifest, head, (size_t)n);
	}

	for (int a = optind; a < argc; a++) {
		struct stat sb;
		if (stat(argv[a], &sb)) {
			fk_warn("%s: %s", argv[a], strerror(errno));
			count.skipped++;
		} else if (S_ISDIR(sb.st_mode))
			walk(argv[a], NULL, 0, &fsb);
		else
			add_photo(argv[a], NULL);
	}
	if (photos.n)
		qsort(photos.p, photos.n, sizeof *photos.p, by_path);
	for (i = 0; i < photos.n; i++) {
		if (i > 0 && !strcmp(photos.p[i].path, photos.p[i - 1].path))
			;	/* given twice: the first, with its person if any, stands */
		else if (has(seen.photo, seen.nphoto, photos.p[i].path))
			count.done++;
		else
			collect(&o, &photos.p[i], mfd, manifest);
	}
	for (i = 0; i < photos.n; i++) {
		free(photos.p[i].path);
		free(photos.p[i].person);
	}
	if (close(mfd))
		fk_die("%s: %s", manifest, strerror(errno));
	fprintf(stderr, "facecollect: %s: %ld photos read: %ld faces, %ld to person folders, "
		"%ld unsorted; %ld photos without a face; %ld done before; %ld skipped\n",
		o.faces, count.photos, count.faces, count.sorted, count.unsorted, count.none,
		count.done, count.skipped);
	fk_cascade_free(face);
	fk_cascade_free(eyes);
	for (i = 0; i < seen.nphoto; i++)
		free(seen.photo[i]);
	for (i = 0; i < seen.nface; i++)
		free(seen.face[i]);
	free(seen.photo);
	free(seen.face);
	free(photos.p);
	free(manifest);
	free(unsorted);
	return fk_close_out(count.skipped ? 1 : 0);
}

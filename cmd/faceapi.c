/* faceapi — facekit's web API, a CGI program: POST /api/faces names the
 * faces of a photo, GET /api/labels lists the model's names, and the web
 * server's own errors come back as JSON.  See faceapi(1), facekit-api(7). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cascade.h"
#include "crop.h"
#include "faces.h"
#include "httpreq.h"
#include "image.h"
#include "model.h"
#include "prog.h"

static const char usage[] =
	"usage: faceapi [-h]\n"
	"  facekit's web API as a CGI program, run by a web server (faceserve sets\n"
	"  up lighttpd): POST /api/faces with a photo answers its faces and names as\n"
	"  JSON, GET /api/labels the model's names; see facekit-api(7).  Settings come\n"
	"  from the environment:\n"
	"  FACEKIT_MODEL      the model (required)\n"
	"  FACEKIT_CASCADE    face cascade (default: facefind's)\n"
	"  FACEKIT_EYES       eye cascade for eyes=1 (default: facefind's)\n"
	"  FACEKIT_MAX_BYTES  largest body taken (default 10485760)\n"
	"  FACEKIT_MAX_PIXELS largest photo taken, pixels (default 40000000)\n"
	"  FACEKIT_RUN        folder of the slot files slot.0 ..; without it there\n"
	"                     is no limit on pipelines at once\n"
	"  FACEKIT_JOBS       pipelines at once, slot files used (default: CPUs)\n"
	"  FACEKIT_WAIT       milliseconds a request waits for a slot (default 2000)\n"
	"  FACEKIT_FACES      the faces folder of /api/sort (none without it)\n";


/* the request, as the web server hands it over */
typedef struct {
	const char *method, *path, *query, *ctype, *length;
	long long max_bytes, max_pixels;
	double t0;
} request;

/* the answer's body is built here, so that a failure half-way becomes a
 * clean error answer */
static char *body;
static size_t body_len;
static FILE *out;

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

/* send the answer: status, extra header lines, the body built in out */
static int send_answer(int status, const char *headers)
{
	fflush(out);
	printf("Status: %d %s\r\n%sContent-Type: application/json\r\n"
	       "Cache-Control: no-store\r\n\r\n", status, reason(status), headers);
	fwrite(body, 1, body_len, stdout);
	fclose(out);
	free(body);
	return fk_close_out(0);
}

/* an error answer: {"error": message, "status": status} */
static int fail(int status, const char *headers, const char *fmt, ...)
{
	char msg[2 * FK_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fclose(out);
	free(body);
	out = open_memstream(&body, &body_len);
	if (!out)
		return 1;
	fputs("{\"error\":", out);
	fk_json_string(out, msg);
	fprintf(out, ",\"status\":%d}\n", status);
	return send_answer(status, headers);
}

/* an environment setting in lo..hi, else def; -1 for a bad one */
static long long env_num(const char *name, long long def, long long lo, long long hi)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno || v < lo || v > hi ? -1 : v;
}

/* the cascade named by the environment variable env, else facefind's
 * default, into path[PATH_MAX + 64] */
static const char *cascade_path(const char *env, const char *name, char *path)
{
	const char *s = getenv(env);

	return s && *s ? s : fk_default_cascade(name, path);
}

static fk_model *load_model(char *err)
{
	const char *path = getenv("FACEKIT_MODEL");
	char e[FK_ERRLEN];
	fk_model *m;

	if (!path || !*path) {
		snprintf(err, FK_ERRLEN, "the server names no model (FACEKIT_MODEL)");
		return NULL;
	}
	if (!(m = fk_model_load(path, e)))
		snprintf(err, FK_ERRLEN, "%s", e);
	return m;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int labels(const request *rq)
{
	char err[FK_ERRLEN];
	fk_model *m;

	if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD"))
		return fail(405, "Allow: GET, HEAD\r\n", "%s /api/labels: only GET is answered",
			    rq->method);
	if (!(m = load_model(err)))
		return fail(500, "", "%s", err);
	fputs("{\"labels\":[", out);
	for (int i = 0; i < fk_model_nclass(m); i++) {
		if (i)
			putc(',', out);
		fk_json_string(out, fk_model_label(m, i));
	}
	fputs("],\"model\":", out);
	fk_json_string(out, base_name(getenv("FACEKIT_MODEL")));
	fprintf(out, ",\"margin\":%.10g,\"side\":%d}\n", fk_model_find_margin(m), fk_model_side(m));
	fk_model_free(m);
	return send_answer(200, "");
}

/* ---- POST /api/faces ---- */

typedef struct {
	fk_find_opts find;
	int k, eyes;
} settings;

/* the query's parameters over the defaults; -1 with a message for an
 * unknown name or a bad value */
static int parse_query(const char *q, settings *s, char *err)
{
	char name[32], val[64], e[FK_ERRLEN], *end;
	int r;

	fk_find_defaults(&s->find);
	s->k = 3;
	s->eyes = 0;
	while ((r = fk_query_next(&q, name, sizeof name, val, sizeof val, e)) > 0) {
		double v = strtod(val, &end);
		struct { const char *name; double lo, hi; } p[] = {
			{ "k", 1, 1000 }, { "scale", 1.0001, 100 }, { "neighbors", 0, 1000 },
			{ "min_size", 0, 1e5 }, { "max_size", 1, 1e5 }, { "eyes", 0, 1 },
			{ "rotate", 0, 1 },
		};
		int i, n = (int)(sizeof p / sizeof p[0]);
		for (i = 0; i < n && strcmp(name, p[i].name); i++)
			;
		if (i == n) {
			snprintf(err, FK_ERRLEN, "unknown parameter \"%s\" (k, scale, neighbors, "
				 "min_size, max_size, eyes, rotate)", name);
			return -1;
		}
		if (end == val || *end || !isfinite(v) || v < p[i].lo || v > p[i].hi
		    || (i != 1 && v != floor(v))) {
			snprintf(err, FK_ERRLEN, "%s=\"%s\" is not %s in %g..%g", name, val,
				 i == 1 ? "a number" : "an integer", p[i].lo, p[i].hi);
			return -1;
		}
		switch (i) {
		case 0: s->k = (int)v; break;
		case 1: s->find.det.scale = v; break;
		case 2: s->find.det.min_neighbors = (int)v; break;
		case 3: s->find.det.min_w = s->find.det.min_h = (int)v; break;
		case 4: s->find.det.max_w = s->find.det.max_h = (int)v; break;
		case 5: s->eyes = (int)v; break;
		case 6: s->find.sweep = (int)v; break;
		}
	}
	if (r < 0)
		snprintf(err, FK_ERRLEN, "%s", e);
	return r;
}

/* the photo's media type is one facekit reads: 1; one it does not: 0 */
static int readable_type(const char *t)
{
	static const char *const ok[] = {
		"image/jpeg", "image/png", "image/x-portable-anymap", "image/x-portable-bitmap",
		"image/x-portable-graymap", "image/x-portable-pixmap", "image/x-portable-arbitrarymap",
		"application/octet-stream",
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!strcmp(t, ok[i]))
			return 1;
	return 0;
}

/* what the first bytes say: 1 a format fk_read_image reads, 0 another
 * image format (named in *what), -1 nothing known */
static int sniff(const unsigned char *p, size_t n, const char **what)
{
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return 1;
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return 1;
	if (n >= 2 && p[0] == 'P' && p[1] >= '1' && p[1] <= '7')
		return 1;
	*what = n >= 4 && !memcmp(p, "GIF8", 4) ? "GIF"
		: n >= 2 && !memcmp(p, "BM", 2) ? "BMP"
		: n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4) ? "WebP"
		: n >= 4 && (!memcmp(p, "II*\0", 4) || !memcmp(p, "MM\0*", 4)) ? "TIFF"
		: n >= 12 && !memcmp(p + 4, "ftyp", 4) ? "HEIF or AVIF"
		: NULL;
	return *what ? 0 : -1;
}

/* wait up to FACEKIT_WAIT ms for one of FACEKIT_JOBS slots: the locked
 * slot file's descriptor (closing it frees the slot), -2 when there is no
 * limit, -1 when all stay busy, -3 with err when the slots are broken */
static int take_slot(char *err)
{
	const char *dir = getenv("FACEKIT_RUN");
	long long jobs = env_num("FACEKIT_JOBS", sysconf(_SC_NPROCESSORS_ONLN), 1, 4096);
	long long wait = env_num("FACEKIT_WAIT", 2000, 0, 3600000);
	double until = now_ms() + (double)wait;
	char path[PATH_MAX];

	if (!dir || !*dir)
		return -2;
	if (jobs < 0 || wait < 0) {
		snprintf(err, FK_ERRLEN, "FACEKIT_JOBS or FACEKIT_WAIT is not a count");
		return -3;
	}
	for (;;) {
		for (long long i = 0; i < jobs; i++) {
			int fd;
			snprintf(path, sizeof path, "%s/slot.%lld", dir, i);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
				snprintf(err, FK_ERRLEN, "slot file %.160s: %s", path, strerror(errno));
				return -3;
			}
			if (flock(fd, LOCK_EX | LOCK_NB) == 0)
				return fd;
			close(fd);
		}
		if (now_ms() >= until)
			return -1;
		usleep(10000);
	}
}

/* "%.10g" of v rounded to 1/places, never "-0": the numbers facefind prints */
static double rounded(double v, double places)
{
	double r = round(v * places) / places;
	return r == 0 ? 0 : r;
}

/* find, crop and name the faces of im into out's JSON; 0, or -1 with err */
static int name_faces(const settings *s, const fk_image *im, fk_model *m, long long max_pixels,
		      char *err)
{
	char fpath[PATH_MAX + 64], epath[PATH_MAX + 64];
	fk_cascade *face = NULL, *eyes = NULL;
	int nclass = fk_model_nclass(m), k = s->k < nclass ? s->k : nclass, n = 0, i, r = -1;
	float *prob = fk_xmalloc(nclass * sizeof *prob);
	int *order = fk_xmalloc(nclass * sizeof *order);
	fk_image crop = { 0 };
	fk_face *faces = NULL;
	fk_find_opts find = s->find;

	if (!(face = fk_cascade_load(cascade_path("FACEKIT_CASCADE", FK_FACE, fpath), err)))
		goto done;
	if (s->eyes && !(eyes = fk_cascade_load(cascade_path("FACEKIT_EYES", FK_EYES, epath), err)))
		goto done;
	find.eyes = eyes;
	if (fk_find_faces(face, im, &find, &faces, &n, err) < 0)
		goto done;
	fprintf(out, "{\"image\":{\"width\":%d,\"height\":%d},\"faces\":[", im->w, im->h);
	for (i = 0; i < n; i++) {
		/* the box as facefind prints it, cropped as facecrop would */
		fk_box b = { .x = rounded(faces[i].cx - faces[i].w / 2, 10),
			     .y = rounded(faces[i].cy - faces[i].h / 2, 10),
			     .w = rounded(faces[i].w, 10), .h = rounded(faces[i].h, 10),
			     .angle = rounded(faces[i].angle, 100), .image = 1 };
		fk_crop c;
		if (fk_crop_geometry(&b, fk_model_find_margin(m), max_pixels, &c, err) < 0
		    || fk_crop_image(im, &c, 0, &crop, err) < 0
		    || fk_model_classify(m, &crop, prob, err) < 0)
			goto done;
		fk_rank_classes(prob, nclass, order);
		fprintf(out, "%s{\"box\":{\"x\":%.10g,\"y\":%.10g,\"w\":%.10g,\"h\":%.10g},"
			"\"angle\":%.10g,\"predictions\":[", i ? "," : "", b.x, b.y, b.w, b.h, b.angle);
		for (int j = 0; j < k; j++) {
			fputs(j ? ",{\"label\":" : "{\"label\":", out);
			fk_json_string(out, fk_model_label(m, order[j]));
			fprintf(out, ",\"probability\":%.6f}", prob[order[j]]);
		}
		fputs("]}", out);
	}
	r = 0;
done:
	free(faces);
	free(prob);
	free(order);
	fk_image_free(&crop);
	fk_cascade_free(face);
	fk_cascade_free(eyes);
	return r;
}

static int faces(const request *rq)
{
	char type[128], boundary[128], pctype[FK_ERRLEN], err[FK_ERRLEN];
	const unsigned char *photo;
	const char *what = NULL;
	unsigned char *data;
	size_t n, got;
	long long len;
	settings s;
	fk_image im = { 0 };
	fk_model *m;
	char *end;
	int slot, r;
	FILE *f;

	if (strcmp(rq->method, "POST"))
		return fail(405, "Allow: POST\r\n", "%s /api/faces: send the photo with POST",
			    rq->method);
	if (!rq->length || !*rq->length)
		return fail(411, "", "POST /api/faces needs a Content-Length");
	errno = 0;
	len = strtoll(rq->length, &end, 10);
	if (*end || errno || len < 0)
		return fail(400, "", "Content-Length \"%.32s\" is not a length", rq->length);
	if (len > rq->max_bytes)
		return fail(413, "", "the body has %lld bytes, over the limit of %lld", len,
			    rq->max_bytes);
	if (parse_query(rq->query, &s, err) < 0)
		return fail(400, "", "%s", err);
	if (!rq->ctype || !*rq->ctype)
		strcpy(type, "application/octet-stream");
	else if (fk_http_media_type(rq->ctype, type, sizeof type, err) < 0)
		return fail(400, "", "Content-Type: %s", err);
	if (strcmp(type, "multipart/form-data") && !readable_type(type))
		return fail(415, "", "Content-Type %s is not a photo type facekit reads "
			    "(JPEG, PNG, netpbm, or multipart/form-data)", type);
	if (len == 0)
		return fail(400, "", "the body is empty: send a photo");
	data = fk_xmalloc((size_t)len);
	got = fread(data, 1, (size_t)len, stdin);
	if (got != (size_t)len) {
		free(data);
		return fail(400, "", "the body ended after %zu of %lld bytes", got, len);
	}
	photo = data;
	n = got;
	if (!strcmp(type, "multipart/form-data")) {
		if ((r = fk_http_param(rq->ctype, "boundary", boundary, sizeof boundary, err)) <= 0) {
			free(data);
			return fail(400, "", "Content-Type: %s", r ? err : "multipart/form-data without a boundary");
		}
		r = fk_multipart_field(data, got, boundary, "file", &photo, &n, pctype, err);
		if (r <= 0) {
			free(data);
			return fail(400, "", "%s", r ? err : "the form has no field \"file\"");
		}
	}
	if (n == 0 || (r = sniff(photo, n, &what)) < 0) {
		free(data);
		return fail(400, "", n ? "the body is not a photo (not JPEG, PNG or netpbm)"
			    : "the photo is empty");
	}
	if (r == 0) {
		free(data);
		return fail(415, "", "a %s photo: facekit reads JPEG, PNG and netpbm", what);
	}
	if ((slot = take_slot(err)) == -1) {
		free(data);
		return fail(503, "Retry-After: 1\r\n", "busy: every pipeline is taken; "
			    "try again in a second");
	}
	if (slot == -3 || !(m = load_model(err))) {
		free(data);
		return fail(500, "", "%s", err);
	}
	f = fmemopen((void *)photo, n, "rb");
	r = f ? fk_read_image(f, &im, rq->max_pixels, err) : -1;
	if (!f)
		snprintf(err, sizeof err, "%s", strerror(errno));
	if (f)
		fclose(f);
	free(data);
	if (r <= 0) {
		fk_model_free(m);
		return fail(400, "", "the photo cannot be read: %s", r ? err : "no image");
	}
	r = name_faces(&s, &im, m, rq->max_pixels, err);
	fk_image_free(&im);
	if (r < 0) {
		fk_model_free(m);
		return fail(500, "", "%s", err);
	}
	fputs("],\"model\":", out);
	fk_json_string(out, base_name(getenv("FACEKIT_MODEL")));
	fprintf(out, ",\"elapsed_ms\":%.1f}\n", now_ms() - rq->t0);
	fk_model_free(m);
	if (slot >= 0)
		close(slot);
	return send_answer(200, "");
}

/* ---- the sorting page: /api/sort, /api/sort/face, /api/sort/move ---- */

/* a face file's name relative to the faces folder: "unsorted/NAME" or
 * "suggested/PERSON/NAME", each part a plain name; 0 or -1 with err */
static int face_path(const char *rel, char *err)
{
	char part[256], e[FK_ERRLEN];
	const char *s = rel;
	int n = 0, sub;

	if (!strncmp(s, "unsorted/", 9))
		sub = 0;
	else if (!strncmp(s, "suggested/", 10))
		sub = 1;
	else {
		snprintf(err, FK_ERRLEN, "\"%.64s\" is not in unsorted/ or suggested/", rel);
		return -1;
	}
	for (s = strchr(s, '/') + 1;; n++) {
		const char *slash = strchr(s, '/');
		size_t len = slash ? (size_t)(slash - s) : strlen(s);
		if (len >= sizeof part) {
			snprintf(err, FK_ERRLEN, "\"%.64s\": a name is too long", rel);
			return -1;
		}
		memcpy(part, s, len);
		part[len] = 0;
		if (fk_plain_name(part, e) < 0) {
			snprintf(err, FK_ERRLEN, "\"%.64s\": %.150s", rel, e);
			return -1;
		}
		if (!slash)
			break;
		s = slash + 1;
	}
	if (n != sub) {
		snprintf(err, FK_ERRLEN, "\"%.64s\" is not unsorted/FACE or suggested/PERSON/FACE", rel);
		return -1;
	}
	return 0;
}

/* the folders on the way from dir to its face file rel are folders, not
 * links (which could lead out of the faces folder): 0, or -1 */
static int no_links(const char *dir, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(path, sizeof path, "%s/%.*s", dir, (int)(s - rel), rel);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			return -1;
	}
	return 0;
}

/* the faces folder of the server, or NULL after a 404 answer */
static const char *faces_dir(void)
{
	const char *d = getenv("FACEKIT_FACES");
	return d && *d ? d : NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the names of folder dir's plain entries of the kind wanted (folders, or
 * regular files: links are neither), sorted; *n of them; NULL when dir
 * cannot be read (none) */
static char **entries(const char *dir, int folders, int *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, err[FK_ERRLEN];
	int cap = 0;

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		struct stat st;
		if (fk_plain_name(e->d_name, err) < 0 || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW)
		    || !(folders ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			v = realloc(v, cap * sizeof *v);
			if (!v)
				fk_die("out of memory");
		}
		v[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (v)
		qsort(v, *n, sizeof *v, by_name);
	return v;
}

static void free_entries(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* the photo a face came from, by the faces folder's manifest (tab-separated:
 * face file, photo path, ...): its file name, or "" */
static void photo_of(FILE *manifest, const char *face, char *photo, size_t len)
{
	char line[8192];
	const char *base = strrchr(face, '/') + 1;

	photo[0] = 0;
	if (!manifest)
		return;
	rewind(manifest);
	while (fgets(line, sizeof line, manifest)) {
		char *tab = strchr(line, '\t'), *p, *end;
		const char *fbase;
		if (line[0] == '#' || !tab)
			continue;
		*tab = 0;
		/* a face moved since: its file name is kept */
		fbase = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;
		if (strcmp(fbase, base))
			continue;
		p = tab + 1;
		end = strchr(p, '\t');
		if (end)
			*end = 0;
		p[strcspn(p, "\n")] = 0;
		snprintf(photo, len, "%s", strrchr(p, '/') ? strrchr(p, '/') + 1 : p);
		return;
	}
}

static void list_face(FILE *manifest, const char *rel, const char *suggested, int *first)
{
	char photo[512];

	photo_of(manifest, rel, photo, sizeof photo);
	fputs(*first ? "{\"file\":" : ",{\"file\":", out);
	*first = 0;
	fk_json_string(out, rel);
	fputs(",\"photo\":", out);
	fk_json_string(out, photo);
	fputs(",\"suggested\":", out);
	if (suggested)
		fk_json_string(out, suggested);
	else
		fputs("null", out);
	putc('}', out);
}

/* GET /api/sort: the people (person folders, "other" and "nonface"
 * always), and the unsorted and suggested faces with their photos */
static int sort_list(const char *dir)
{
	char path[PATH_MAX], rel[PATH_MAX];
	int np, nu, ns, first = 1, other = 0, nonface = 0;
	char **people, **faces, **sugg;
	FILE *manifest;

	snprintf(path, sizeof path, "%s/manifest.txt", dir);
	manifest = fopen(path, "r");
	people = entries(dir, 1, &np);
	fputs("{\"people\":[", out);
	for (int i = 0; i < np; i++) {
		if (!strcmp(people[i], "unsorted") || !strcmp(people[i], "suggested"))
			continue;
		other |= !strcmp(people[i], "other");
		nonface |= !strcmp(people[i], "nonface");
		if (!first)
			putc(',', out);
		first = 0;
		fk_json_string(out, people[i]);
	}
	if (!other)
		fputs(first ? "\"other\"" : ",\"other\"", out), first = 0;
	if (!nonface)
		fputs(first ? "\"nonface\"" : ",\"nonface\"", out);
	fputs("],\"faces\":[", out);
	first = 1;
	snprintf(path, sizeof path, "%s/unsorted", dir);
	faces = entries(path, 0, &nu);
	for (int i = 0; i < nu; i++) {
		snprintf(rel, sizeof rel, "unsorted/%s", faces[i]);
		list_face(manifest, rel, NULL, &first);
	}
	free_entries(faces, nu);
	snprintf(path, sizeof path, "%s/suggested", dir);
	sugg = entries(path, 1, &ns);
	for (int j = 0; j < ns; j++) {
		snprintf(path, sizeof path, "%s/suggested/%s", dir, sugg[j]);
		faces = entries(path, 0, &nu);
		for (int i = 0; i < nu; i++) {
			snprintf(rel, sizeof rel, "suggested/%s/%s", sugg[j], faces[i]);
			list_face(manifest, rel, sugg[j], &first);
		}
		free_entries(faces, nu);
	}
	free_entries(sugg, ns);
	free_entries(people, np);
	if (manifest)
		fclose(manifest);
	fputs("]}\n", out);
	return send_answer(200, "");
}

/* GET /api/sort/face?file=REL: the face image itself */
static int sort_face(const char *dir, const char *rel)
{
	char path[PATH_MAX], err[FK_ERRLEN], buf[65536];
	struct stat st;
	size_t n;
	FILE *f;
	int fd;

	if (face_path(rel, err) < 0)
		return fail(400, "", "%s", err);
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	fd = no_links(dir, rel) ? -1 : open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return fail(404, "", "no face %s", rel);
	}
	f = fdopen(fd, "rb");
	fclose(out);
	free(body);
	printf("Status: 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\n"
	       "Cache-Control: no-store\r\n\r\n",
	       strlen(rel) > 4 && !strcmp(rel + strlen(rel) - 4, ".png") ? "image/png"
	       : "application/octet-stream", (long long)st.st_size);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return fk_close_out(0);
}

/* POST /api/sort/move?file=REL&to=PERSON: the face into faces/PERSON/
 * (made when new), never over another file */
static int sort_move(const char *dir, const char *rel, const char *to)
{
	char from[PATH_MAX], dest[PATH_MAX], err[FK_ERRLEN];
	const char *base = strrchr(rel, '/');
	struct stat st;

	if (face_path(rel, err) < 0)
		return fail(400, "", "%s", err);
	if (!strcmp(to, "unsorted") || !strcmp(to, "suggested"))
		snprintf(err, FK_ERRLEN, "the collector's folder, not a person's");
	if (fk_plain_name(to, err) < 0 || !strcmp(to, "unsorted") || !strcmp(to, "suggested"))
		return fail(400, "", "to=\"%.64s\": %s", to, err);
	snprintf(from, sizeof from, "%s/%s", dir, rel);
	if (no_links(dir, rel) || lstat(from, &st) || !S_ISREG(st.st_mode))
		return fail(404, "", "no face %s", rel);
	snprintf(dest, sizeof dest, "%s/%s", dir, to);
	if (mkdir(dest, 0777) && errno != EEXIST)
		return fail(500, "", "%s: %s", to, strerror(errno));
	if (lstat(dest, &st) || !S_ISDIR(st.st_mode))
		return fail(400, "", "%s is not a folder", to);
	snprintf(dest, sizeof dest, "%s/%s%s", dir, to, base);
	/* link, then unlink: a face of the same name there is never replaced */
	if (link(from, dest)) {
		if (errno == EEXIST)
			return fail(409, "", "%s%s exists already", to, base);
		return fail(500, "", "%s: %s", rel, strerror(errno));
	}
	if (unlink(from))
		return fail(500, "", "%s: %s", rel, strerror(errno));
	fputs("{\"file\":", out);
	fk_json_string(out, rel);
	fputs(",\"to\":", out);
	snprintf(dest, sizeof dest, "%s%s", to, base);
	fk_json_string(out, dest);
	fputs("}\n", out);
	return send_answer(200, "");
}

static int sort(const request *rq, const char *what)
{
	char name[16], val[1024], err[FK_ERRLEN], file[1024] = "", to[1024] = "";
	const char *dir = faces_dir(), *q = rq->query;
	int r, post = !strcmp(what, "/move");

	if (!dir)
		return fail(404, "", "this server sorts no faces folder (faceserve -f FACES)");
	if (strcmp(rq->method, post ? "POST" : "GET"))
		return fail(405, post ? "Allow: POST\r\n" : "Allow: GET\r\n", "%s /api/sort%s: use %s",
			    rq->method, what, post ? "POST" : "GET");
	while ((r = fk_query_next(&q, name, sizeof name, val, sizeof val, err)) > 0) {
		if (!strcmp(name, "file"))
			strcpy(file, val);
		else if (!strcmp(name, "to") && post)
			strcpy(to, val);
		else
			return fail(400, "", "unknown parameter \"%s\"", name);
	}
	if (r < 0)
		return fail(400, "", "%s", err);
	if (!*what)
		return sort_list(dir);
	if (!*file)
		return fail(400, "", "no file= given");
	if (!post)
		return sort_face(dir, file);
	if (!*to)
		return fail(400, "", "no to= given");
	return sort_move(dir, file, to);
}

int main(int argc, char **argv)
{
	request rq = { 0 };
	const char *redirect;
	int ch;

	fk_progname = "faceapi";
	rq.t0 = now_ms();
	while ((ch = getopt(argc, argv, "h")) != -1) {
		if (ch == 'h')
			fk_help(usage);
		fk_usage(usage);
	}
	if (optind != argc)
		fk_usage(usage);
	rq.method = getenv("REQUEST_METHOD");
	if (!rq.method) {
		fk_warn("REQUEST_METHOD is not set: run me as a CGI program");
		fk_usage(usage);
	}
	rq.path = getenv("PATH_INFO");
	rq.query = getenv("QUERY_STRING");
	rq.ctype = getenv("CONTENT_TYPE");
	rq.length = getenv("CONTENT_LENGTH");
	if (!rq.path)
		rq.path = "";
	if (!rq.query)
		rq.query = "";
	if (!(out = open_memstream(&body, &body_len)))
		fk_die("out of memory");
	rq.max_bytes = env_num("FACEKIT_MAX_BYTES", 10 << 20, 0, LLONG_MAX);
	rq.max_pixels = env_num("FACEKIT_MAX_PIXELS", 40000000, 1, FK_MAX_PIXELS_DEFAULT);
	if (rq.max_bytes < 0 || rq.max_pixels < 0)
		return fail(500, "", "FACEKIT_MAX_BYTES or FACEKIT_MAX_PIXELS is not a count in range");
	/* the server's own errors (server.error-handler): the same, as JSON */
	redirect = getenv("REDIRECT_STATUS");
	if (redirect && strcmp(redirect, "200")) {
		int st = atoi(redirect);
		if (st < 400 || st > 599)
			st = 500;
		return fail(st, "", "%s", st == 413 ? "the body is over the server's limit"
			    : st == 411 ? "the request needs a Content-Length" : reason(st));
	}
	if (!strcmp(rq.path, "/faces"))
		return faces(&rq);
	if (!strcmp(rq.path, "/labels"))
		return labels(&rq);
	if (!strcmp(rq.path, "/sort") || !strcmp(rq.path, "/sort/face") || !strcmp(rq.path, "/sort/move"))
		return sort(&rq, rq.path + 5);
	return fail(404, "", "no such API: %s (there are /api/faces, /api/labels and /api/sort)",
		    rq.path);
}

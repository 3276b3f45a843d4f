/* facetrain — train a network on CIFAR-10 style records, resumably. */
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cifar.h"
#include "cnn.h"
#include "model.h"
#include "outfile.h"
#include "prep.h"
#include "prog.h"

static const char usage[] =
	"usage: facetrain -o MODEL [-l LABELS] [options] RECORDS...\n"
	"  Train a network on CIFAR-10 records; MODEL is a checkpoint, and running\n"
	"  the same command again resumes from it.\n"
	"  -o MODEL    the model file to write (and resume from)\n"
	"  -l LABELS   class names, one a line: line i names label byte i (default:\n"
	"              labels.txt beside the first RECORDS file)\n"
	"  -n STEPS    train until the model has taken STEPS steps (5000)\n"
	"  -N SPEC     network spec (the TensorFlow CIFAR-10 tutorial's)\n"
	"  -s SIDE     side of the stored images (default: dataset.txt's beside the\n"
	"              first RECORDS file, else 32, else the one side the files fit)\n"
	"  -c CROP     side of the network's input, cut from the stored image\n"
	"              (SIDE, at most 32)\n"
	"  -m MARGIN   the crop margin the faces were cut with, recorded in the model\n"
	"              (default: dataset.txt's, else 1.25)\n"
	"  -F          no random left-right flips\n"
	"  -B DELTA    random brightness in [-DELTA, DELTA] (63; 0 turns it off)\n"
	"  -C LO,HI    random contrast factor in [LO, HI] (0.2,1.8; 1,1 turns it off)\n"
	"  -Z          no per-image standardisation (scale to 0..1 instead)\n"
	"  -b BATCH    images per step (128)\n"
	"  -r RATE     peak learning rate (0.1), reached after a warm-up and\n"
	"              brought down to 0 at step STEPS along a half cosine\n"
	"  -u SHARE    share of the STEPS spent warming up, linearly (0.05)\n"
	"  -e EPOCHS   the tutorial's staircase instead: the rate times FACTOR\n"
	"              every EPOCHS epochs (0: a constant rate)\n"
	"  -d FACTOR   the staircase's factor (0.1)\n"
	"  -M MOMENTUM SGD with momentum (0: plain SGD, the default)\n"
	"  -V MOMENTUM SGD with Nesterov's momentum\n"
	"  -w DECAY    L2 weight decay on the fully connected layers (0.004)\n"
	"  -W DECAY    decoupled weight decay on the weights, not biases or bn (0)\n"
	"  -y SMOOTH   label smoothing (0)\n"
	"  -a DECAY    moving-average decay of the weights (0.9999)\n"
	"  -S SEED     seed of the weights, the shuffles and the distortions (1)\n"
	"  -f          resume even if the training settings (-b -r -u -e -d -M -V\n"
	"              -w -W -y -a -S, and -n with the cosine) differ from MODEL's\n"
	"  -T THREADS  threads (default: every online CPU)\n"
	"  -t TEST     records whose accuracy is measured every -i steps\n"
	"  -i N        report (and log, and test) every N steps (100)\n"
	"  -k N        checkpoint every N steps (1000), and always at the end\n"
	"  -L LOG      append step, loss, rate, seconds, test accuracy to LOG (TSV;\n"
	"              - is standard output)\n"
	"  -h          this help\n";

typedef struct {
	const char *model, *labels, *spec, *test, *log;
	long steps, interval, ckpt;
	uint64_t seed;
	int force;
	double epochs;     /* -e, or -1: the cosine schedule */
	int d_given, u_given;
	fk_prep prep;
	cnn_train_opts opt;
} options;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* the model's lock, let go (and its file removed) however we exit */
static const char *locked_model;
static int lock_fd = -1;

static void unlock_model(void)
{
	if (lock_fd >= 0)
		fk_out_unlock(lock_fd, locked_model);
	lock_fd = -1;
}

static void lock_model(const char *model)
{
	char err[FK_OUT_ERRLEN];
	int n;

	if ((lock_fd = fk_out_lock(model, err)) < 0)
		fk_die("%s", err);
	locked_model = model;
	atexit(unlock_model);
	/* holding the lock, no one else writes the model: what a killed
	 * run's checkpoint left is ours to remove */
	if ((n = fk_out_sweep(model)) > 0)
		fk_warn("%s: removed %d temporary file%s left by a killed run", model, n,
			n == 1 ? "" : "s");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* class names from a file, one a line, each named once; warns of a class
 * that no record has */
static char **read_labels(const char *path, const fk_records *recs, int *n)
{
	char err[FK_ERRLEN], **names = fk_labels_read(path, n, err);
	long count[256] = {0};

	if (!names)
		fk_die("%s", err);
	if (*n < 2)
		fk_die("%s: %d class name%s; at least 2 are needed", path, *n,
		       *n == 1 ? "" : "s");
	if (fk_records_check_labels(recs, *n, err) < 0)
		fk_die("%s (%s names %d classes)", err, path, *n);
	for (long i = 0; i < recs->count; i++) {
		int label = fk_record_label(recs, i, err);
		if (label < 0)
			fk_die("%s", err);
		count[label]++;
	}
	for (int k = 0; k < *n; k++)
		if (!count[k])
			fk_warn("%s:%d: class %d (\"%s\") has no records to train on", path,
				k + 1, k, names[k]);
	return names;
}

static int same_names(const cnn *net, char **names, int n)
{
	if (cnn_nclass(net) != n)
		return 0;
	for (int i = 0; i < n; i++)
		if (!cnn_class_name(net, i) || strcmp(cnn_class_name(net, i), names[i]))
			return 0;
	return 1;
}

/* the checkpoint's settings are these (read as a model reads them: one
 * from before margins were recorded was cut at 1.25) */
static int same_prep(const cnn *net, const char *prep)
{
	char err[FK_ERRLEN], text[FK_PREP_LEN];
	fk_prep p;

	if (fk_prep_parse(&p, cnn_prep(net), err) < 0)
		return 0;
	fk_prep_format(&p, text);
	return !strcmp(text, prep);
}

static void save(const cnn *net, const char *path)
{
	char err[CNN_ERRLEN];

	if (cnn_save(net, path, err) < 0)
		fk_die("checkpoint not written: %s", err);
}

/* The settings a resumed run must share with the model's, as key=value
 * words the model keeps (cnn_set_train_settings); the thread count and
 * the step count are not among them.  Each key's option, for messages. */
static const struct {
	const char *key, *option;
} setting_option[] = {
	{"lr", "-r"}, {"schedule", "-e"}, {"steps", "-n, with the cosine schedule"},
	{"warmup", "-u"}, {"decay", "-d"},
	{"decay_steps", "-e, with -b and the record count"},
	{"batch", "-b"}, {"momentum", "-M, -V"}, {"nesterov", "-V"}, {"wd", "-w"},
	{"dwd", "-W"}, {"smoothing", "-y"}, {"ema", "-a"}, {"seed", "-S"},
};

/* the keys a facetrain that recorded settings before them did not write,
 * and the value it always used */
static const struct {
	const char *key, *value;
} setting_before[] = {
	{"schedule", "step"}, {"steps", "0"}, {"warmup", "0.05"}, {"momentum", "0"},
	{"nesterov", "0"}, {"dwd", "0"}, {"smoothing", "0"},
};

static void format_settings(const options *o, char *buf, size_t n)
{
	const cnn_train_opts *t = &o->opt;

	snprintf(buf, n, "lr=%.7g schedule=%s steps=%ld warmup=%.7g decay=%.7g decay_steps=%ld "
		 "batch=%d momentum=%.7g nesterov=%d wd=%.7g dwd=%.7g smoothing=%.7g ema=%.7g seed=%llu",
		 t->lr, t->schedule == CNN_SCHED_COSINE ? "cosine" : "step", t->steps, t->warmup,
		 t->lr_decay, t->decay_steps, t->batch, t->momentum, t->nesterov, t->weight_decay,
		 t->decoupled_decay, t->smoothing, t->ema_decay, (unsigned long long)o->seed);
}

/* the value of key in key=value words, copied to val (of n bytes); 0 if
 * the key is not there */
static int setting(const char *text, const char *key, char *val, size_t n)
{
	size_t k = strlen(key);

	for (const char *w = text; *w; w += strcspn(w, " "), w += strspn(w, " ")) {
		size_t len = strcspn(w, " ");
		if (len > k && !strncmp(w, key, k) && w[k] == '=') {
			snprintf(val, n, "%.*s", (int)(len - k - 1), w + k + 1);
			return 1;
		}
	}
	return 0;
}

/* "; key=a, not b (option)" appended to diff (of n bytes) at *at */
static void add_diff(char *diff, size_t n, size_t *at, const char *key, const char *a,
		     const char *b)
{
	const char *opt = "";

	for (size_t i = 0; i < sizeof setting_option / sizeof setting_option[0]; i++)
		if (!strcmp(key, setting_option[i].key))
			opt = setting_option[i].option;
	*at += (size_t)snprintf(diff + *at, *at < n ? n - *at : 0, "%s%s=%s, not %s%s%s%s",
				*at ? "; " : "", key, a, b, *opt ? " (" : "", opt, *opt ? ")" : "");
}

/* what differs between the model's settings and this run's, as
 * "lr=0.1, not 0.05 (-r); ..." in diff, or "" if nothing does.  A key
 * the model lacks that an older facetrain did not write has the value
 * that facetrain always used; a model without settings (from before they
 * were recorded) is not compared; a key this facetrain does not know is a
 * difference. */
static void settings_diff(const char *old, const char *now, char *diff, size_t n)
{
	char a[64], b[64], key[64];
	size_t at = 0;

	diff[0] = 0;
	for (const char *w = old; *w && at < n; w += strcspn(w, " "), w += strspn(w, " ")) {
		size_t klen = strcspn(w, "= ");
		snprintf(key, sizeof key, "%.*s", (int)klen, w);
		if (w[klen] != '=' || !setting(old, key, a, sizeof a))
			continue;
		if (!setting(now, key, b, sizeof b))
			snprintf(b, sizeof b, "unknown to this facetrain");
		else if (!strcmp(a, b))
			continue;
		add_diff(diff, n, &at, key, a, b);
	}
	for (size_t i = 0; *old && i < sizeof setting_before / sizeof setting_before[0] && at < n;
	     i++) {
		const char *k = setting_before[i].key;
		if (!setting(old, k, a, sizeof a) && setting(now, k, b, sizeof b) &&
		    strcmp(setting_before[i].value, b))
			add_diff(diff, n, &at, k, setting_before[i].value, b);
	}
}

/* the network to train: the checkpoint if there is one, else a new one */
static cnn *start(const options *o, char **names, int nclass)
{
	char err[CNN_ERRLEN], prep[FK_PREP_LEN], settings[512], diff[1024];
	struct stat st;
	int crop = o->prep.crop;
	cnn *fresh, *net;
	fk_outfile probe;

	fk_prep_format(&o->prep, prep);
	format_settings(o, settings, sizeof settings);
	fresh = cnn_new(o->spec, 3, crop, crop, nclass, o->seed, err);
	if (!fresh) {
		fk_warn("-N: %s", err);
		fk_usage(usage);
	}
	if (stat(o->model, &st) != 0) {
		if (cnn_set_class_names(fresh, names, nclass, err) < 0 ||
		    cnn_set_prep(fresh, prep, err) < 0 ||
		    cnn_set_train_settings(fresh, settings, err) < 0)
			fk_die("%s", err);
		/* a first checkpoint: MODEL is writable, and always loadable */
		save(fresh, o->model);
		return fresh;
	}
	if (!S_ISREG(st.st_mode))
		fk_die("%s: not a regular file (facetrain reads its model back to resume)",
		       o->model);
	net = cnn_load(o->model, err);
	if (!net)
		fk_die("cannot resume: %s (remove it to start afresh)", err);
	if (strcmp(cnn_spec(net), cnn_spec(fresh)))
		fk_die("%s: cannot resume: its network is \"%s\", not \"%s\"", o->model,
		       cnn_spec(net), cnn_spec(fresh));
	if (!same_names(net, names, nclass))
		fk_die("%s: cannot resume: its class names differ from %s", o->model,
		       o->labels);
	if (!same_prep(net, prep))
		fk_die("%s: cannot resume: it was trained with \"%s\", not \"%s\"",
		       o->model, cnn_prep(net) ? cnn_prep(net) : "", prep);
	/* with nothing left to train the settings do not matter */
	if (cnn_step_count(net) >= o->steps)
		diff[0] = 0;
	else
		settings_diff(cnn_train_settings(net), settings, diff, sizeof diff);
	if (*diff && !o->force)
		fk_die("%s: cannot resume: it was trained with %s; -f resumes anyway", o->model,
		       diff);
	if (*diff)
		fk_warn("%s: resuming with other settings (-f): it was trained with %s", o->model,
			diff);
	if (cnn_set_train_settings(net, settings, err) < 0)
		fk_die("%s", err);
	/* the checkpoints to come can be written: found now, not after the run */
	if (fk_out_open(&probe, o->model, err) < 0)
		fk_die("cannot resume: %s", err);
	fk_out_abort(&probe);
	cnn_free(fresh);
	return net;
}

/* share of the records r the network's averaged weights get right, or
 * -1 with a message in err (a record file cut short) */
static double accuracy(cnn *net, const fk_prep *p, const fk_records *r, char *err)
{
	int nclass = cnn_nclass(net);
	long *confusion = calloc((size_t)nclass * nclass, sizeof *confusion), right = 0;

	if (!confusion)
		fk_die("out of memory");
	if (fk_tally(net, p, r, 1, 0, confusion, err) < 0) {
		free(confusion);
		return -1;
	}
	for (int k = 0; k < nclass; k++)
		right += confusion[k * nclass + k];
	free(confusion);
	return (double)right / r->count;
}

static void fmt_time(double s, char *buf, size_t n)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

/* the batch of a step: records in the order of (seed, epoch) shuffles,
 * distortions drawn from (seed, step, index), so that a resumed run sees
 * the very batches of an uninterrupted one; -1 with a message in err if a
 * record cannot be read */
static int fill_batch(const options *o, const fk_records *recs, long step,
		      long *perm, long *epoch, unsigned char *rec, float *x, int *y,
		      char *err)
{
	size_t in = 3 * (size_t)o->prep.crop * o->prep.crop;

	for (int j = 0; j < o->opt.batch; j++) {
		long k = step * o->opt.batch + j;
		if (k / recs->count != *epoch) {
			fk_rng r;
			*epoch = k / recs->count;
			fk_rng_init(&r, o->seed, (uint64_t)*epoch, UINT64_MAX);
			fk_rng_shuffle(&r, perm, recs->count);
		}
		if (fk_record_read(recs, perm[k % recs->count], rec, err) < 0)
			return -1;
		y[j] = rec[0];
		fk_prep_train(&o->prep, rec + 1, o->seed, step, j, x + j * in);
	}
	return 0;
}

/* the progress line: rewritten in place on a terminal, kept every -i steps */
typedef struct {
	int tty, open;     /* stderr is a terminal; a line is left unfinished */
	double shown;      /* when the line was last written */
} meter;

static void show(meter *m, double t, int keep, const char *fmt, ...)
{
	va_list ap;

	if (!keep && (!m->tty || t - m->shown < 0.2))
		return;
	if (m->tty)
		fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (keep)
		fputc('\n', stderr);
	m->open = m->tty && !keep;
	m->shown = t;
}

/* end an unfinished progress line before a message */
static void end_line(meter *m)
{
	if (m->open)
		fputc('\n', stderr);
	m->open = 0;
}

/* stop training on a failure that is not the network's: with a checkpoint */
static void stop_saved(const cnn *net, const options *o, meter *m, const char *why)
{
	save(net, o->model);
	end_line(m);
	fk_die("%s; checkpoint saved to %s at step %ld", why, o->model, cnn_step_count(net));
}

static void train(cnn *net, const options *o, const fk_records *recs,
		  const fk_records *test, FILE *log)
{
	int batch = o->opt.batch;
	float *x = fk_xmalloc(batch * 3 * (size_t)o->prep.crop * o->prep.crop * sizeof *x);
	int *y = fk_xmalloc(batch * sizeof *y);
	long *perm = fk_xmalloc(recs->count * sizeof *perm), epoch = -1;
	unsigned char *rec = fk_xmalloc(recs->recsize);
	long step0 = cnn_step_count(net), saved = step0, nsum = 0;
	double t0 = now(), lsum = 0;
	meter m = {isatty(2), 0, 0};
	char err[CNN_ERRLEN], why[CNN_ERRLEN + 64], eta[32], acc[32] = "";

	while (cnn_step_count(net) < o->steps && !stop_signal) {
		long step = cnn_step_count(net), done = step + 1;
		int keep = done % o->interval == 0 || done == o->steps;
		float loss = 0, lr = cnn_learning_rate(net, &o->opt);	/* this step's */
		double t, rate, accv = 0;
		if (fill_batch(o, recs, step, perm, &epoch, rec, x, y, err) < 0)
			stop_saved(net, o, &m, err);
		if (cnn_train_step(net, &o->opt, x, y, batch, &loss, err) < 0) {
			end_line(&m);
			fk_die("step %ld: %s; %s keeps the last good checkpoint (step %ld)",
			       done, err, o->model, saved);
		}
		lsum += loss;
		nsum++;
		t = now() - t0;
		rate = (double)(done - step0) * batch / (t > 0 ? t : 1e-9);
		fmt_time((o->steps - done) * (double)batch / rate, eta, sizeof eta);
		if (done % o->ckpt == 0 && done < o->steps) {
			save(net, o->model);
			saved = done;
		}
		if (keep && test) {
			if ((accv = accuracy(net, &o->prep, test, err)) < 0)
				stop_saved(net, o, &m, err);
			snprintf(acc, sizeof acc, " test %.4f", accv);
		}
		show(&m, t, keep, "step %ld/%ld loss %.4f lr %.4g %.0f img/s ETA %s%s",
		     done, o->steps, lsum / nsum, lr, rate, eta, keep ? acc : "");
		if (keep && log) {
			fprintf(log, "%ld\t%.6g\t%.6g\t%.3f", done, lsum / nsum, lr, t);
			if (test)
				fprintf(log, "\t%.6f", accv);
			if (fputc('\n', log) == EOF || fflush(log) != 0) {
				snprintf(why, sizeof why, "%s: write error: %s", o->log,
					 strerror(errno));
				stop_saved(net, o, &m, why);
			}
		}
		if (keep)
			lsum = nsum = 0;
	}
	save(net, o->model);
	end_line(&m);
	if (stop_signal)
		fk_warn("%s at step %ld: checkpoint saved to %s; run the same command to resume",
			stop_signal == SIGINT ? "interrupted" :
			stop_signal == SIGHUP ? "hung up" : "terminated",
			cnn_step_count(net), o->model);
	free(x);
	free(y);
	free(perm);
	free(rec);
}

/* the -L log, opened for appending (written in place: a link, device or
 * FIFO stays what it is), with a header if it is new; "-" is standard
 * output, a new stream */
static FILE *open_log(const options *o)
{
	FILE *log;

	if (!o->log)
		return NULL;
	if (!strcmp(o->log, "-"))
		log = stdout;
	else if (!(log = fopen(o->log, "a")))
		fk_die("%s: %s", o->log, strerror(errno));
	if (log == stdout || (fseek(log, 0, SEEK_END) == 0 && ftell(log) == 0))
		fprintf(log, "# step\tloss\tlr\tseconds%s\n", o->test ? "\taccuracy" : "");
	return log;
}

static void parse_contrast(fk_prep *p, const char *s)
{
	char *end;

	p->con_lo = strtof(s, &end);
	if (*end != ',' || end == s)
		goto bad;
	p->con_hi = strtof(end + 1, &end);
	if (*end || end[-1] == ',')
		goto bad;
	return;
bad:
	fk_warn("-C: \"%s\" is not LO,HI", s);
	fk_usage(usage);
}

/* name (labels.txt, dataset.txt) in the folder of the records file path,
 * or NULL if it is not there */
static char *beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path + 1) : 0;
	char *p = fk_xmalloc(dir + strlen(name) + 1);

	sprintf(p, "%.*s%s", dir, path, name);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* does every file hold a whole number of side x side records? */
static int fits(char *const *paths, int n, int side)
{
	struct stat st;

	for (int i = 0; i < n; i++)
		if (stat(paths[i], &st) != 0 ||
		    (size_t)st.st_size % fk_cifar_recsize(side) != 0)
			return 0;
	return 1;
}

/* the record sides from 2 up that every file fits, as " 40x40 (-s 40)"...
 * in buf, and how many there are */
static int fitting_sides(char *const *paths, int n, char *buf, size_t size)
{
	int count = 0;
	size_t used = 0;

	buf[0] = '\0';
	for (int side = 2; side <= FK_CIFAR_MAXSIDE; side++)
		if (fits(paths, n, side) && ++count <= 3 && used < size)
			used += snprintf(buf + used, size - used, "%s%dx%d (-s %d)",
					 count > 1 ? ", " : "", side, side, side);
	return count;
}

/* the records' side and margin when -s and -m do not say: mkdataset's
 * note beside them, else side 32 if the files fit it, else the one side
 * they fit (and the margin stays 1.25) */
static int records_side(char *const *paths, int n, options *o, int side,
			int margin_given)
{
	char err[FK_ERRLEN], sides[128], *note = beside(paths[0], "dataset.txt");
	float margin;
	int stored;

	if (note) {
		if (fk_dataset_read(note, &stored, &margin, err) < 0)
			fk_die("%s", err);
		if (!margin_given)
			o->prep.margin = margin;
		free(note);
		return side ? side : stored;
	}
	if (side)
		return side;
	if (fits(paths, n, 32))
		return 32;
	if (fitting_sides(paths, n, sides, sizeof sides) == 1) {
		side = atoi(sides);
		fk_warn("%s: taking %dx%d records, the one size that fits (-s to say)",
			paths[0], side, side);
		return side;
	}
	return 32;
}

/* open records of side, or die saying which sides they would fit */
static void open_records(fk_records *r, char *const *paths, int n, int side)
{
	char err[FK_ERRLEN], sides[128];

	if (fk_records_open(r, paths, n, side, err) == 0)
		return;
	if (fitting_sides(paths, n, sides, sizeof sides) > 0)
		fk_die("%s; the size fits %s, plus -c 32 to train on 32x32 crops", err, sides);
	fk_die("%s", err);
}

int main(int argc, char **argv)
{
	options o = {.steps = 5000, .interval = 100, .ckpt = 1000, .seed = 1,
		     .epochs = -1};
	int ch, crop = 0, side = 0, margin = 0, nclass;
	char err[FK_ERRLEN], **names, *found = NULL;
	fk_records recs, test;
	struct sigaction sa;
	FILE *log = NULL;
	cnn *net;

	fk_progname = "facetrain";
	fk_pool_set_threads(fk_online_cpus());
	cnn_train_defaults(&o.opt);
	fk_prep_defaults(&o.prep, 32);
	while ((ch = getopt(argc, argv, "o:l:n:N:s:c:m:FB:C:Zb:r:u:d:e:M:V:w:W:y:a:S:fT:t:i:k:L:h")) != -1) {
		switch (ch) {
		case 'o': o.model = optarg; break;
		case 'l': o.labels = optarg; break;
		case 'n': o.steps = fk_int_arg("-n", optarg, 1, 1L << 40, usage); break;
		case 'N': o.spec = optarg; break;
		case 's': side = (int)fk_int_arg("-s", optarg, 1, FK_CIFAR_MAXSIDE, usage); break;
		case 'c': crop = (int)fk_int_arg("-c", optarg, 1, FK_CIFAR_MAXSIDE, usage); break;
		case 'm': o.prep.margin = (float)fk_num_arg("-m", optarg, 1e-3, 1e3, usage); margin = 1; break;
		case 'F': o.prep.flip = 0; break;
		case 'B': o.prep.bright = (float)fk_num_arg("-B", optarg, 0, 255, usage); break;
		case 'C': parse_contrast(&o.prep, optarg); break;
		case 'Z': o.prep.std = 0; break;
		case 'b': o.opt.batch = (int)fk_int_arg("-b", optarg, 1, 1 << 16, usage); break;
		case 'r': o.opt.lr = (float)fk_num_arg("-r", optarg, 0, 1e30, usage); break;
		case 'u': o.opt.warmup = (float)fk_num_arg("-u", optarg, 0, 0.99, usage); o.u_given = 1; break;
		case 'd': o.opt.lr_decay = (float)fk_num_arg("-d", optarg, 0, 1, usage); o.d_given = 1; break;
		case 'e': o.epochs = fk_num_arg("-e", optarg, 0, 1e9, usage); break;
		case 'M':
		case 'V':
			o.opt.momentum = (float)fk_num_arg(ch == 'M' ? "-M" : "-V", optarg, 0, 0.999, usage);
			o.opt.nesterov = ch == 'V';
			break;
		case 'w': o.opt.weight_decay = (float)fk_num_arg("-w", optarg, 0, 1e6, usage); break;
		case 'W': o.opt.decoupled_decay = (float)fk_num_arg("-W", optarg, 0, 1e6, usage); break;
		case 'y': o.opt.smoothing = (float)fk_num_arg("-y", optarg, 0, 1, usage); break;
		case 'a': o.opt.ema_decay = (float)fk_num_arg("-a", optarg, 0, 1, usage); break;
		case 'S': o.seed = (uint64_t)fk_int_arg("-S", optarg, 0, 0x7fffffffffffffffL, usage); break;
		case 'f': o.force = 1; break;
		case 'T': fk_pool_set_threads((int)fk_int_arg("-T", optarg, 1, FK_POOL_MAX, usage)); break;
		case 't': o.test = optarg; break;
		case 'i': o.interval = fk_int_arg("-i", optarg, 1, 1L << 40, usage); break;
		case 'k': o.ckpt = fk_int_arg("-k", optarg, 1, 1L << 40, usage); break;
		case 'L': o.log = optarg; break;
		case 'h': fk_help(usage);
		default: fk_usage(usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (!o.model || argc < 1) {
		fk_warn("%s", !o.model ? "-o MODEL is required" : "no RECORDS file given");
		fk_usage(usage);
	}
	if (!strcmp(o.model, "-")) {
		fk_warn("-o -: the model is read back to resume and rewritten at each checkpoint; name a file");
		fk_usage(usage);
	}
	if (!o.labels && !(o.labels = found = beside(argv[0], "labels.txt"))) {
		fk_warn("-l LABELS is required: there is no labels.txt beside %s", argv[0]);
		fk_usage(usage);
	}
	if (o.d_given && o.epochs < 0) {
		fk_warn("-d FACTOR is the staircase's factor: give -e EPOCHS too");
		fk_usage(usage);
	}
	if (o.u_given && o.epochs >= 0) {
		fk_warn("-u SHARE is the cosine schedule's warm-up, which -e EPOCHS replaces");
		fk_usage(usage);
	}
	o.prep.stored = records_side(argv, argc, &o, side, margin);
	o.prep.crop = crop ? crop : o.prep.stored < 32 ? o.prep.stored : 32;
	if (fk_prep_check(&o.prep, err) < 0) {
		fk_warn("%s", err);
		fk_usage(usage);
	}
	open_records(&recs, argv, argc, o.prep.stored);
	if (recs.count == 0)
		fk_die("%s: no records to train on", argv[0]);
	names = read_labels(o.labels, &recs, &nclass);
	if (o.test) {
		open_records(&test, (char **)&o.test, 1, o.prep.stored);
		if (test.count == 0)
			fk_die("%s: no test records", o.test);
		if (fk_records_check_labels(&test, nclass, err) < 0)
			fk_die("%s (%s names %d classes)", err, o.labels, nclass);
	}
	if (o.epochs >= 0) {
		/* the tutorial's staircase, its period in epochs */
		o.opt.decay_steps = (long)(o.epochs * recs.count / o.opt.batch);
		if (o.epochs > 0 && o.opt.decay_steps < 1)
			o.opt.decay_steps = 1;
	} else {
		o.opt.schedule = CNN_SCHED_COSINE;
		o.opt.steps = o.steps;
	}
	/* a signal stops training at the end of a step, with a checkpoint;
	 * a reader of our messages that goes away does not stop it */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	lock_model(o.model);
	net = start(&o, names, nclass);
	if (cnn_step_count(net) >= o.steps) {
		fk_warn("%s has taken %ld steps already (-n %ld): nothing to do", o.model,
			cnn_step_count(net), o.steps);
	} else {
		if (cnn_step_count(net) > 0)
			fk_warn("resuming %s at step %ld", o.model, cnn_step_count(net));
		if (o.opt.batch > recs.count)
			fk_warn("the batch of %d is larger than the %ld records: each step sees some twice (-b %ld sees each once)",
				o.opt.batch, recs.count, recs.count);
		log = open_log(&o);
		train(net, &o, &recs, o.test ? &test : NULL, log);
		if (log && (ferror(log) | fclose(log)))
			fk_die("%s: write error: %s", o.log, strerror(errno));
	}
	cnn_free(net);
	fk_records_close(&recs);
	if (o.test)
		fk_records_close(&test);
	fk_labels_free(names, nclass);
	free(found);
	return stop_signal ? 128 + stop_signal : 0;
}

/* outfile.c — output files: "-", temporary file and rename, links
 * followed, devices and FIFOs written in place; stale temporary files
 * swept; one writer at a time by a lock file.  See outfile.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, FK_OUT_ERRLEN, fmt, ap);
	va_end(ap);
}

static char *join(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	char *s = malloc(alen + blen + 1);

	if (s) {
		memcpy(s, a, alen);
		memcpy(s + alen, b, blen + 1);
	}
	return s;
}

char *fk_out_target(const char *name, char *err)
{
	char *cur = strdup(name);

	/* as many links as the kernel follows (MAXSYMLINKS) */
	for (int hops = 0; cur && hops < 40; hops++) {
		struct stat st;
		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			return cur;
		size_t cap = (size_t)st.st_size + 2;
		char *to = malloc(cap), *next;
		ssize_t n = to ? readlink(cur, to, cap) : -1;
		if (n < 0 || (size_t)n >= cap) {
			/* gone or changed under us: write to the name itself */
			free(to);
			return cur;
		}
		to[n] = 0;
		const char *slash = strrchr(cur, '/');
		if (to[0] == '/' || !slash)
			next = strdup(to);
		else
			next = join(cur, (size_t)(slash - cur) + 1, to);
		free(to);
		free(cur);
		cur = next;
	}
	if (cur)
		seterr(err, "%s: too many levels of symbolic links", name);
	else
		seterr(err, "%s: out of memory", name);
	free(cur);
	return NULL;
}

/* a new file path.PID.K.tmp for the first free K: its descriptor, or -1 */
static int create_beside(const char *path, char **tmp)
{
	size_t size = strlen(path) + 48;
	int fd = -1;

	if (!(*tmp = malloc(size)))
		return -1;
	for (int k = 0; k < 1000 && fd < 0; k++) {
		snprintf(*tmp, size, "%s.%ld.%d.tmp", path, (long)getpid(), k);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		free(*tmp);
		*tmp = NULL;
	}
	return fd;
}

int fk_out_open(fk_outfile *o, const char *name, char *err)
{
	struct stat st;
	int fd, exists;

	memset(o, 0, sizeof *o);
	o->name = name;
	if (!strcmp(name, "-")) {
		o->f = stdout;
		return 0;
	}
	if (!(o->path = fk_out_target(name, err)))
		return -1;
	exists = stat(o->path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode)) {
		seterr(err, "%s: is a folder", name);
		goto fail;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		/* a device, FIFO or socket: written in place, never replaced */
		fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			seterr(err, "%s: %s", name, strerror(errno));
			goto fail;
		}
	} else {
		fd = create_beside(o->path, &o->tmp);
		if (fd < 0) {
			seterr(err, "%s: cannot create a temporary file beside it: %s",
			       name, strerror(errno));
			goto fail;
		}
		/* a replaced file keeps its permission bits */
		if (exists)
			fchmod(fd, st.st_mode & 07777);
	}
	if (!(o->f = fdopen(fd, "wb"))) {
		seterr(err, "%s: %s", name, strerror(errno));
		close(fd);
		goto fail;
	}
	return 0;
fail:
	fk_out_abort(o);
	return -1;
}

int fk_out_commit(fk_outfile *o, char *err)
{
	const char *why = NULL;
	int e = 0;

	if (o->f == stdout) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			seterr(err, "write error on standard output: %s", strerror(errno));
			return -1;
		}
		o->f = NULL;
		return 0;
	}
	if (fflush(o->f) != 0 || ferror(o->f))
		why = "write error", e = errno;
	else if (o->tmp && fsync(fileno(o->f)) != 0)
		why = "fsync failed", e = errno;
	if (fclose(o->f) != 0 && !why)
		why = "close failed", e = errno;
	o->f = NULL;
	if (!why && o->tmp && rename(o->tmp, o->path) != 0)
		why = "cannot rename the temporary file over it", e = errno;
	if (why) {
		seterr(err, "%s: %s: %s", o->name, why, strerror(e));
		fk_out_abort(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	fk_out_abort(o);
	return 0;
}

void fk_out_abort(fk_outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

/* the process id of a temporary file name base.PID.K.tmp, or 0 */
static long tmp_pid(const char *entry, const char *base, size_t blen)
{
	const char *s = entry + blen;
	char *end;
	long pid;

	if (strncmp(entry, base, blen) || *s != '.' || !(s[1] >= '0' && s[1] <= '9'))
		return 0;
	pid = strtol(s + 1, &end, 10);
	if (*end != '.' || !(end[1] >= '0' && end[1] <= '9'))
		return 0;
	strtol(end + 1, &end, 10);
	return strcmp(end, ".tmp") ? 0 : pid;
}

int fk_out_sweep(const char *name)
{
	char err[FK_OUT_ERRLEN], *path = fk_out_target(name, err), *slash;
	const char *base, *dir;
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (!path)
		return 0;
	slash = strrchr(path, '/');
	if (slash == path)
		dir = "/", base = path + 1;
	else if (slash)
		*slash = 0, dir = path, base = slash + 1;
	else
		dir = ".", base = path;
	if ((d = opendir(dir))) {
		size_t blen = strlen(base);
		while ((e = readdir(d))) {
			long pid = tmp_pid(e->d_name, base, blen);
			if (pid > 0 && pid <= INT_MAX && pid != (long)getpid() &&
			    kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
			    unlinkat(dirfd(d), e->d_name, 0) == 0)
				n++;
		}
		closedir(d);
	}
	free(path);
	return n;
}

static char *lock_path(const char *name, char *err)
{
	char *path = fk_out_target(name, err), *lock;

	if (!path)
		return NULL;
	lock = join(path, strlen(path), ".lock");
	if (!lock)
		seterr(err, "%s: out of memory", name);
	free(path);
	return lock;
}

int fk_out_lock(const char *name, char *err)
{
	char *lock = lock_path(name, err);
	struct stat a, b;
	int fd = -1;

	if (!lock)
		return -1;
	/* a lock file its holder removed while we opened it is no lock: the
	 * one held must be the one the name leads to */
	for (int tries = 0; tries < 100; tries++) {
		fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0) {
			seterr(err, "%s: cannot create the lock file %s: %s", name, lock,
			       strerror(errno));
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int e = errno;
			char held[24] = "";
			ssize_t n = pread(fd, held, sizeof held - 1, 0);
			held[n > 0 ? n : 0] = 0;
			held[strcspn(held, "\n")] = 0;
			if (e == EWOULDBLOCK)
				seterr(err, "%s: another process%s%s%s is writing it (it holds %s)",
				       name, held[0] ? " (pid " : "", held, held[0] ? ")" : "", lock);
			else
				seterr(err, "%s: cannot lock %s: %s", name, lock, strerror(e));
			close(fd);
			fd = -1;
			break;
		}
		if (fstat(fd, &a) == 0 && stat(lock, &b) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino) {
			char pid[24];
			int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
			if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
				seterr(err, "%s: cannot write the lock file %s: %s", name, lock,
				       strerror(errno));
				close(fd);
				fd = -1;
			}
			break;
		}
		close(fd);
		fd = -1;
		seterr(err, "%s: the lock file %s keeps changing", name, lock);
	}
	free(lock);
	return fd;
}

void fk_out_unlock(int fd, const char *name)
{
	char err[FK_OUT_ERRLEN], *lock = lock_path(name, err);

	if (lock)
		unlink(lock);
	free(lock);
	close(fd);
}

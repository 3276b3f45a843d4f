/* Unit tests of lib/base/outfile: a new file appears whole on commit and
 * never before; a replaced file keeps its mode; links are followed and
 * stay links; devices are written in place; abort leaves the target as
 * it was; the sweep removes only dead processes' temporary files; the
 * lock admits one holder. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "tap.h"

static char dir[] = "/tmp/outfile-XXXXXX", err[FK_OUT_ERRLEN];

static char *path(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static int has(const char *file, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(file, "rb");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	return f && !strcmp(buf, text);
}

/* files in dir whose name ends in .tmp */
static int tmp_count(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		n += len > 4 && !strcmp(e->d_name + len - 4, ".tmp");
	}
	if (d)
		closedir(d);
	return n;
}

static int write_all(const char *name, const char *text)
{
	fk_outfile o;
	if (fk_out_open(&o, name, err) != 0)
		return -1;
	fputs(text, o.f);
	return fk_out_commit(&o, err);
}

static void test_regular(void)
{
	fk_outfile o;
	struct stat st;

	ok(fk_out_open(&o, path("new"), err) == 0 && o.tmp, "a new file is written to a temporary file");
	fputs("one", o.f);
	fflush(o.f);
	ok(access(path("new"), F_OK) != 0 && tmp_count() == 1, "nothing under its name before the commit");
	ok(fk_out_commit(&o, err) == 0 && has(path("new"), "one") && tmp_count() == 0,
	   "after the commit the whole file, and no temporary file");
	chmod(path("new"), 0640);
	ok(write_all(path("new"), "two") == 0 && has(path("new"), "two"), "an existing file is replaced");
	if (stat(path("new"), &st) != 0)
		st.st_mode = 0;
	ok((st.st_mode & 07777) == 0640, "and keeps its mode 0640 (%o)", st.st_mode & 07777);
	ok(fk_out_open(&o, path("new"), err) == 0, "open again");
	fputs("three", o.f);
	fk_out_abort(&o);
	ok(has(path("new"), "two") && tmp_count() == 0, "abort leaves the old file and no temporary file");
	ok(fk_out_open(&o, dir, err) != 0 && strstr(err, "is a folder"), "a folder is refused: %s", err);
}

static void test_links(void)
{
	struct stat st;
	char to[64];
	ssize_t n;

	mkdir(path("sub"), 0777);
	write_all(path("target"), "old");
	symlink("target", path("link"));
	ok(write_all(path("link"), "new") == 0 && has(path("target"), "new"), "a link's target is replaced");
	ok(lstat(path("link"), &st) == 0 && S_ISLNK(st.st_mode), "the link stays a link");
	n = readlink(path("link"), to, sizeof to - 1);
	ok(n == 6 && !memcmp(to, "target", 6), "pointing where it did");
	/* relative to the link's own folder, through a second link */
	symlink("../link", path("sub/link2"));
	ok(write_all(path("sub/link2"), "twice") == 0 && has(path("target"), "twice") &&
	   lstat(path("sub/link2"), &st) == 0 && S_ISLNK(st.st_mode),
	   "a relative link to a link: the last target is written, both links stay");
	symlink("born", path("dangling"));
	ok(write_all(path("dangling"), "x") == 0 && has(path("born"), "x") &&
	   lstat(path("dangling"), &st) == 0 && S_ISLNK(st.st_mode),
	   "a dangling link: its target is created, the link stays");
	symlink("loop", path("loop"));
	ok(write_all(path("loop"), "x") != 0 && strstr(err, "too many levels"), "a loop of links: %s", err);
}

static void test_devices(void)
{
	fk_outfile o;
	struct stat st;

	symlink("/dev/null", path("null"));
	ok(fk_out_open(&o, path("null"), err) == 0 && !o.tmp, "a link to /dev/null is written in place");
	fputs("gone", o.f);
	ok(fk_out_commit(&o, err) == 0 && lstat(path("null"), &st) == 0 && S_ISLNK(st.st_mode) &&
	   stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "the link and the device stay");
	if (access("/dev/full", W_OK) == 0) {
		ok(fk_out_open(&o, "/dev/full", err) == 0 && !o.tmp, "/dev/full is opened in place");
		fputs("x", o.f);
		ok(fk_out_commit(&o, err) != 0 && strstr(err, "/dev/full: write error"),
		   "writing to it fails: %s", err);
		ok(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode), "and it is still a device");
	}
	ok(fk_out_open(&o, "-", err) == 0 && o.f == stdout && !o.tmp && fk_out_commit(&o, err) == 0,
	   "\"-\" is standard output");
	ok(tmp_count() == 0, "no temporary file left");
}

static void test_sweep_and_lock(void)
{
	char mine[64], dead[64];
	int fd, fd2;

	snprintf(mine, sizeof mine, "m.bin.%ld.0.tmp", (long)getpid());
	/* no process has an id above /proc/sys/kernel/pid_max's ceiling 2^22 */
	snprintf(dead, sizeof dead, "m.bin.%ld.3.tmp", 999999999L);
	write_all(path("m.bin"), "model");
	const char *keep[] = {mine, "m.bin.1.0.tmp", "m.bin.x.0.tmp", "n.bin.999999999.0.tmp"};
	for (int i = 0; i < 4; i++)
		fclose(fopen(path(keep[i]), "w"));
	fclose(fopen(path(dead), "w"));
	ok(fk_out_sweep(path("m.bin")) == 1 && access(path(dead), F_OK) != 0,
	   "the sweep removes a dead process's temporary file");
	int kept = 1;
	for (int i = 0; i < 4; i++)
		kept &= access(path(keep[i]), F_OK) == 0;
	ok(kept, "and not ours, a live one's (pid 1), nor other names");
	for (int i = 0; i < 4; i++)
		unlink(path(keep[i]));

	fd = fk_out_lock(path("m.bin"), err);
	ok(fd >= 0 && access(path("m.bin.lock"), F_OK) == 0, "the lock: m.bin.lock beside the model");
	fd2 = fk_out_lock(path("m.bin"), err);
	char want[64];
	snprintf(want, sizeof want, "another process (pid %ld) is writing it", (long)getpid());
	ok(fd2 < 0 && strstr(err, want), "a second lock is refused: %s", err);
	fk_out_unlock(fd, path("m.bin"));
	ok(access(path("m.bin.lock"), F_OK) != 0, "unlocking removes the lock file");
	fd = fk_out_lock(path("m.bin"), err);
	ok(fd >= 0, "and the lock can be taken again");
	fk_out_unlock(fd, path("m.bin"));
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_regular();
	test_links();
	test_devices();
	test_sweep_and_lock();
	remove_tree(dir);
	return done_testing();
}

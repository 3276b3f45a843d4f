/* cascade.c — load a cascade (see cascade.h): read the file and hand it
 * to the reader of its format, told by its first bytes: the packed form
 * (cascade_pack.c) or OpenCV's XML (cascade_xml.c).  Both check what they
 * build the same way (cascade_check.c). */
#include "cascade_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

/* the biggest cascade file read: OpenCV's biggest are a few megabytes */
#define MAX_FILE (256u << 20)

fk_cascade *fk_cascade_fload(FILE *f, const char *name, char *err)
{
	unsigned char *b = NULL;
	size_t n = 0, cap = 0, got;
	struct stat sb;
	fk_cascade *c;

	do {
		if (n == cap) {
			unsigned char *nb;
			/* a file's size, 1 more to see its end; else doubling */
			cap = cap ? 2 * cap : !fstat(fileno(f), &sb) && S_ISREG(sb.st_mode)
				&& sb.st_size < MAX_FILE ? (size_t)sb.st_size + 1 : 1 << 16;
			if (cap > MAX_FILE + 1)
				cap = MAX_FILE + 1;
			if (n == cap) {
				free(b);
				snprintf(err, FK_ERRLEN, "%s: more than %u MiB, too big for a cascade",
					 name, MAX_FILE >> 20);
				return NULL;
			}
			if (!(nb = realloc(b, cap))) {
				free(b);
				snprintf(err, FK_ERRLEN, "%s: out of memory", name);
				return NULL;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f)) { /* e.g. a folder */
		snprintf(err, FK_ERRLEN, "%s: %s", name, strerror(errno));
		c = NULL;
	} else if (n == 0) {
		snprintf(err, FK_ERRLEN, "%s: the cascade file is empty", name);
		c = NULL;
	} else if (n >= sizeof FK_FKC_MAGIC - 1 && !memcmp(b, FK_FKC_MAGIC, sizeof FK_FKC_MAGIC - 1))
		c = fk_cascade_unpack(b, n, name, err);
	else
		c = fk_cascade_xml(b, n, name, err);
	free(b);
	return c;
}

fk_cascade *fk_cascade_load(const char *path, char *err)
{
	fk_cascade *c;
	FILE *f = fopen(path, "rb");

	if (!f) {
		snprintf(err, FK_ERRLEN, "%s: %s", path, strerror(errno));
		return NULL;
	}
	c = fk_cascade_fload(f, path, err);
	fclose(f);
	return c;
}

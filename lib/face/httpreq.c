/* httpreq.c — Content-Type headers, query strings and multipart/form-data
 * bodies, parsed in place from untrusted bytes.  See httpreq.h. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpreq.h"

/* RFC 9110's token characters */
static int is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	       || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int fk_http_media_type(const char *header, char *type, size_t len, char *err)
{
	const char *s = skip_ows(header);
	size_t n = 0;
	int slash = 0, sub = 0;

	for (; is_tchar((unsigned char)*s) || (*s == '/' && !slash); s++) {
		if (*s == '/')
			slash = 1;
		else if (slash)
			sub = 1;
		if (n + 1 >= len) {
			snprintf(err, FK_ERRLEN, "media type too long (over %zu bytes)", len - 1);
			return -1;
		}
		type[n++] = (char)lower((unsigned char)*s);
	}
	type[n] = 0;
	s = skip_ows(s);
	if (!slash || !sub || type[0] == '/' || (*s && *s != ';')) {
		snprintf(err, FK_ERRLEN, "\"%.64s\" is not a media type", header);
		return -1;
	}
	return 0;
}

/* the value at s, a token or a quoted string, unquoted into val[len] (when
 * val is not NULL); the end of it, or NULL when malformed or too long */
static const char *param_value(const char *s, char *val, size_t len, int *toolong)
{
	size_t n = 0;

	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (!*s)
				return NULL;
			if (*s == '\\' && !*++s)
				return NULL;
			if ((unsigned char)*s < 0x20 && *s != '\t')
				return NULL;
			if (val && n + 1 >= len) {
				*toolong = 1;
				return NULL;
			}
			if (val)
				val[n++] = *s;
		}
		s++;
	} else {
		const char *start = s;
		for (; is_tchar((unsigned char)*s); s++) {
			if (val && n + 1 >= len) {
				*toolong = 1;
				return NULL;
			}
			if (val)
				val[n++] = *s;
		}
		if (s == start)
			return NULL;
	}
	if (val)
		val[n] = 0;
	return s;
}

int fk_http_param(const char *header, const char *name, char *val, size_t len,
		  char *err)
{
	const char *s = strchr(header, ';');
	size_t nlen = strlen(name);
	int found = 0, toolong = 0;

	while (s && *s) {
		const char *key;
		int match;
		s = skip_ows(s);
		if (!*s)
			break;
		if (*s++ != ';')
			goto bad;
		s = skip_ows(s);
		if (!*s || *s == ';')	/* an empty parameter */
			continue;
		for (key = s; is_tchar((unsigned char)*s); s++)
			;
		if (s == key || *s != '=')
			goto bad;
		match = !found && (size_t)(s - key) == nlen && !strncasecmp(key, name, nlen);
		s = param_value(s + 1, match ? val : NULL, len, &toolong);
		if (!s)
			goto bad;
		found |= match;
	}
	return found;
bad:
	if (toolong)
		snprintf(err, FK_ERRLEN, "parameter %s is over %zu bytes", name, len - 1);
	else
		snprintf(err, FK_ERRLEN, "malformed parameters in \"%.64s\"", header);
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* %-decode from *q up to one of the stop bytes (or the end) into out[len] */
static int decode(const char **q, const char *stop, char *out, size_t len, char *err)
{
	const char *s = *q;
	size_t n = 0;

	for (; *s && !strchr(stop, *s); s++) {
		int c = (unsigned char)*s;
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int hi = hexval((unsigned char)s[1]), lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);
			if (lo < 0) {
				snprintf(err, FK_ERRLEN, "bad %%-escape \"%.3s\" in the query", s);
				return -1;
			}
			c = hi * 16 + lo;
			if (!c) {
				snprintf(err, FK_ERRLEN, "%%00 in the query");
				return -1;
			}
			s += 2;
		}
		if (n + 1 >= len) {
			snprintf(err, FK_ERRLEN, "query part \"%.32s...\" is over %zu bytes", *q, len - 1);
			return -1;
		}
		out[n++] = (char)c;
	}
	out[n] = 0;
	*q = s;
	return 0;
}

int fk_query_next(const char **q, char *name, size_t nlen, char *val, size_t vlen,
		  char *err)
{
	while (**q == '&')
		(*q)++;
	if (!**q)
		return 0;
	if (decode(q, "&=", name, nlen, err) < 0)
		return -1;
	val[0] = 0;
	if (**q == '=') {
		(*q)++;
		if (decode(q, "&", val, vlen, err) < 0)
			return -1;
	}
	return 1;
}

/* the next delimiter "\r\n--boundary" (or "--boundary" at the very start)
 * at or after from that is followed by "--" or by blanks and CRLF: its
 * offset, or -1 when there is none */
static long find_delim(const unsigned char *b, size_t len, size_t from, const char *boundary,
		       size_t blen)
{
	for (size_t i = from; i + blen + 2 <= len; i++) {
		size_t at, j;
		if (i == 0 && b[0] == '-')
			at = 0;
		else if (b[i] == '\r' && i + blen + 4 <= len && b[i + 1] == '\n')
			at = i + 2;
		else
			continue;
		if (b[at] != '-' || b[at + 1] != '-' || memcmp(b + at + 2, boundary, blen))
			continue;
		j = at + 2 + blen;
		if (j + 2 <= len && b[j] == '-' && b[j + 1] == '-')
			return (long)i;
		while (j < len && (b[j] == ' ' || b[j] == '\t'))
			j++;
		if (j + 2 <= len && b[j] == '\r' && b[j + 1] == '\n')
			return (long)i;
	}
	return -1;
}

/* one header line b[0..n) of a part: note its disposition name and type */
static int part_header(const unsigned char *b, size_t n, char *name, int *has_name,
		       char *ctype, char *err)
{
	char line[1024], *colon, *v;
	char kind[64];

	if (n >= sizeof line) {
		snprintf(err, FK_ERRLEN, "a part's header line is over %zu bytes", sizeof line - 1);
		return -1;
	}
	memcpy(line, b, n);
	line[n] = 0;
	if (strlen(line) != n || !(colon = strchr(line, ':')) || colon == line) {
		snprintf(err, FK_ERRLEN, "bad part header \"%.64s\"", line);
		return -1;
	}
	*colon = 0;
	v = (char *)skip_ows(colon + 1);
	if (!strcasecmp(line, "content-type")) {
		if (strlen(v) >= FK_ERRLEN) {
			snprintf(err, FK_ERRLEN, "a part's Content-Type is over %d bytes", FK_ERRLEN - 1);
			return -1;
		}
		strcpy(ctype, v);
	} else if (!strcasecmp(line, "content-disposition")) {
		size_t k = 0;
		while (is_tchar((unsigned char)v[k]) && k + 1 < sizeof kind) {
			kind[k] = (char)lower((unsigned char)v[k]);
			k++;
		}
		kind[k] = 0;
		if (strcmp(kind, "form-data"))
			return 0;
		*has_name = fk_http_param(v, "name", name, 256, err);
		if (*has_name < 0)
			return -1;
	}
	return 0;
}

int fk_multipart_field(const unsigned char *body, size_t len, const char *boundary,
		       const char *field, const unsigned char **data, size_t *dlen,
		       char *ctype, char *err)
{
	size_t blen = strlen(boundary), pos;
	long d;

	if (blen < 1 || blen > 70) {
		snprintf(err, FK_ERRLEN, "the multipart boundary has %zu bytes, not 1 to 70", blen);
		return -1;
	}
	if ((d = find_delim(body, len, 0, boundary, blen)) < 0) {
		snprintf(err, FK_ERRLEN, "the body has no multipart boundary \"%.70s\"", boundary);
		return -1;
	}
	for (;;) {
		char name[256] = "";
		int has_name = 0;
		size_t start;
		long next;

		pos = (size_t)d + (d == 0 && body[0] == '-' ? 0 : 2) + 2 + blen;
		if (body[pos] == '-')	/* the close delimiter: find_delim saw "--" */
			return 0;
		while (body[pos] != '\r')
			pos++;
		pos += 2;
		ctype[0] = 0;
		for (;;) {	/* the part's header lines, up to an empty one */
			size_t e = pos;
			while (e + 1 < len && !(body[e] == '\r' && body[e + 1] == '\n'))
				e++;
			if (e + 1 >= len) {
				snprintf(err, FK_ERRLEN, "a part's headers do not end");
				return -1;
			}
			if (e == pos)
				break;
			if (part_header(body + pos, e - pos, name, &has_name, ctype, err) < 0)
				return -1;
			pos = e + 2;
		}
		start = pos + 2;
		next = find_delim(body, len, start, boundary, blen);
		if (next < 0) {
			snprintf(err, FK_ERRLEN, "a part does not end with the boundary");
			return -1;
		}
		if (has_name == 1 && !strcmp(name, field)) {
			*data = body + start;
			*dlen = (size_t)next - start;
			return 1;
		}
		d = next;
	}
}

int fk_plain_name(const char *s, char *err)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255) {
		snprintf(err, FK_ERRLEN, "a name has %zu bytes, not 1 to 255", n);
		return -1;
	}
	if (s[0] == '.') {
		snprintf(err, FK_ERRLEN, "\"%.64s\" starts with a dot", s);
		return -1;
	}
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, FK_ERRLEN, "\"%.64s\" holds a slash or a control character", s);
			return -1;
		}
	return 0;
}

/* httpreq.h — the parts of an HTTP request that a CGI program must parse
 * itself: the media type and parameters of a Content-Type header, the
 * name=value pairs of a query string, the file field of a
 * multipart/form-data body (RFC 7578), and names a client may give for
 * a file or folder.  Every call takes untrusted bytes of any length,
 * never reads past them, never allocates and never prints (it is fuzzed:
 * tests/fuzz).  Errors return -1 with a message in err[FK_ERRLEN]. */
#ifndef FK_HTTPREQ_H
#define FK_HTTPREQ_H

#include <stddef.h>

#include "image.h"

/* The media type of a Content-Type header, lower-cased, without its
 * parameters ("Image/JPEG; q=1" gives "image/jpeg"), into type[len].
 * 0, or -1 when it is not "type/subtype" or does not fit. */
int fk_http_media_type(const char *header, char *type, size_t len, char *err);

/* The parameter name (case-insensitive) of a header value made of
 * "; name=value" parts after its first item, e.g. the boundary of a
 * Content-Type or the name of a Content-Disposition, unquoted into
 * val[len].  1 when found, 0 when absent, -1 when the header's
 * parameters are malformed or the value does not fit. */
int fk_http_param(const char *header, const char *name, char *val, size_t len,
		  char *err);

/* One name=value pair of a query string ("a=1&b=%2F+x"): from *q, the
 * pair is %-decoded ('+' is a space) into name[nlen] and val[vlen] (a
 * missing "=value" gives ""), and *q moves past it.  1 for a pair, 0 at
 * the end, -1 for a bad %-escape, a decoded NUL, or a part that does not
 * fit.  Empty pairs ("a=1&&b=2") are skipped. */
int fk_query_next(const char **q, char *name, size_t nlen, char *val, size_t vlen,
		  char *err);

/* The part of a multipart/form-data body (body[len], the Content-Type's
 * boundary) whose Content-Disposition names field: *data and *dlen are
 * set to its content inside body, and its own Content-Type (or "" when it
 * has none) goes to ctype[FK_ERRLEN].  1 when found, 0 when the body
 * holds no such field, -1 when the body is not well-formed multipart. */
int fk_multipart_field(const unsigned char *body, size_t len, const char *boundary,
		       const char *field, const unsigned char **data, size_t *dlen,
		       char *ctype, char *err);

/* 0 when s is a plain name of a file or folder: 1 to 255 bytes, not
 * starting with '.', no '/', '\\' or control character; -1 otherwise. */
int fk_plain_name(const char *s, char *err);

#endif

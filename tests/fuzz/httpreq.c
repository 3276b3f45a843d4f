/* httpreq.c — fuzz the HTTP request parsers of faceapi: the input's first
 * line is a Content-Type header (its media type, its boundary; also read
 * as a query string and as a name), the rest a multipart/form-data body
 * searched for the field "file" with that boundary.  A media type must
 * come out lower-case with one slash, a field's content must lie inside
 * the body, and an accepted name must hold no slash and no leading dot. */
#include "httpreq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size, blen = nl ? size - hlen - 1 : 0;
	char *header = malloc(hlen + 1), type[64], bound[80], name[32], val[32];
	char ctype[FK_ERRLEN], err[FK_ERRLEN];
	const uint8_t *body = nl ? nl + 1 : data + size, *part;
	const char *q;
	size_t plen;

	if (!header)
		return 0;
	memcpy(header, data, hlen);
	header[hlen] = 0;
	if (fk_http_media_type(header, type, sizeof type, err) == 0) {
		char *slash = strchr(type, '/');
		if (!slash || slash == type || !slash[1] || strchr(slash + 1, '/'))
			abort();
		for (char *p = type; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
	}
	if (fk_http_param(header, "boundary", bound, sizeof bound, err) == 1
	    && fk_multipart_field(body, blen, bound, "file", &part, &plen, ctype, err) == 1
	    && (part < body || part + plen > body + blen || strlen(ctype) >= FK_ERRLEN))
		abort();
	q = header;
	while (fk_query_next(&q, name, sizeof name, val, sizeof val, err) == 1)
		if (q < header || q > header + strlen(header))
			abort();
	if (fk_plain_name(header, err) == 0 && (strchr(header, '/') || header[0] == '.'))
		abort();
	free(header);
	return 0;
}

/* httpreq.c — known answers for the HTTP request parsers: media types,
 * header parameters, query strings, multipart bodies and plain names. */
#include <string.h>

#include "httpreq.h"
#include "tap.h"

static void test_media_type(void)
{
	char t[32], err[FK_ERRLEN];

	ok(fk_http_media_type("Image/JPEG; q=1", t, sizeof t, err) == 0 && !strcmp(t, "image/jpeg"),
	   "the media type is lower-cased, its parameters dropped (\"%s\")", t);
	ok(fk_http_media_type(" multipart/form-data ;boundary=x", t, sizeof t, err) == 0
	   && !strcmp(t, "multipart/form-data"), "blanks around the type are skipped");
	ok(fk_http_media_type("image", t, sizeof t, err) < 0 && strstr(err, "\"image\""),
	   "a type without a subtype is refused, quoted (%s)", err);
	ok(fk_http_media_type("image/", t, sizeof t, err) < 0, "an empty subtype is refused");
	ok(fk_http_media_type("/jpeg", t, sizeof t, err) < 0, "an empty type is refused");
	ok(fk_http_media_type("image/jpeg x", t, sizeof t, err) < 0, "text after the type is refused");
	ok(fk_http_media_type("", t, sizeof t, err) < 0, "an empty header is refused");
	ok(fk_http_media_type("application/x-portable-anymap-too-long", t, 16, err) < 0
	   && strstr(err, "too long"), "a type that does not fit is refused (%s)", err);
}

static void test_param(void)
{
	char v[16], err[FK_ERRLEN];

	ok(fk_http_param("multipart/form-data; boundary=abc", "boundary", v, sizeof v, err) == 1
	   && !strcmp(v, "abc"), "a token parameter");
	ok(fk_http_param("form-data; NAME=\"a \\\"b\\\";c\"; filename=x", "name", v, sizeof v, err) == 1
	   && !strcmp(v, "a \"b\";c"), "a quoted parameter with escapes and a ';' (%s)", v);
	ok(fk_http_param("form-data; filename=\"name\"", "name", v, sizeof v, err) == 0,
	   "a parameter is not found inside another's value");
	ok(fk_http_param("image/jpeg", "boundary", v, sizeof v, err) == 0, "no parameters: absent");
	ok(fk_http_param("a/b; x=1;; y=2 ;", "y", v, sizeof v, err) == 1 && !strcmp(v, "2"),
	   "empty parameters and blanks are passed over");
	ok(fk_http_param("a/b; x=\"open", "x", v, sizeof v, err) < 0 && strstr(err, "malformed"),
	   "an unclosed quote is refused (%s)", err);
	ok(fk_http_param("a/b; x", "x", v, sizeof v, err) < 0, "a parameter without '=' is refused");
	ok(fk_http_param("a/b; x=1 y=2", "y", v, sizeof v, err) < 0, "a missing ';' is refused");
	ok(fk_http_param("a/b; x=", "x", v, sizeof v, err) < 0, "an empty token value is refused");
	ok(fk_http_param("a/b; x=0123456789abcdefg", "x", v, sizeof v, err) < 0
	   && strstr(err, "over 15 bytes"), "a value that does not fit is refused (%s)", err);
}

static void test_query(void)
{
	const char *q = "k=3&&name=a%2Fb+c&flag&=v&E=%41";
	char n[8], v[8], err[FK_ERRLEN];
	int r;

	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 1 && !strcmp(n, "k") && !strcmp(v, "3"),
	   "the first pair");
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 1 && !strcmp(n, "name")
	   && !strcmp(v, "a/b c"), "an empty pair is skipped; %%2F and '+' are decoded (\"%s\")", v);
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 1 && !strcmp(n, "flag") && !*v,
	   "a name without a value gets \"\"");
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 1 && !*n && !strcmp(v, "v"),
	   "an empty name is passed on for the caller to refuse");
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 1 && !strcmp(n, "E") && !strcmp(v, "A"),
	   "an upper-case escape");
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 0, "then the end");
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) == 0, "and the end again");
	q = "a=%4";
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) < 0 && strstr(err, "\"%4\""),
	   "a cut %%-escape is refused (%s)", err);
	q = "a=%g0";
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) < 0, "a bad hex digit is refused");
	q = "a=%00";
	ok(fk_query_next(&q, n, sizeof n, v, sizeof v, err) < 0, "%%00 is refused");
	q = "a=12345678";
	r = fk_query_next(&q, n, sizeof n, v, sizeof v, err);
	ok(r < 0 && strstr(err, "over 7 bytes"), "a value that does not fit is refused (%s)", err);
}

static int field(const char *body, const char *b, const char *name, char *out, char *ct,
		 char *err)
{
	const unsigned char *d;
	size_t n;
	int r = fk_multipart_field((const unsigned char *)body, strlen(body), b, name, &d, &n, ct, err);

	if (r == 1) {
		memcpy(out, d, n);
		out[n] = 0;
	}
	return r;
}

static void test_multipart(void)
{
	/* what curl -F k=3 -F file=@x.jpg sends, a preamble added */
	const char *body =
		"preamble\r\n--XyZ\r\n"
		"Content-Disposition: form-data; name=\"k\"\r\n\r\n3\r\n"
		"--XyZ  \r\n"
		"Content-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n"
		"Content-Type: image/jpeg\r\n\r\n"
		"\xff\xd8 a\r\n--XyZa not a boundary\r\n--XyZ--\r\n";
	char out[64], ct[FK_ERRLEN], err[FK_ERRLEN];

	ok(field(body, "XyZ", "file", out, ct, err) == 1 && !strcmp(out, "\xff\xd8 a\r\n--XyZa not a boundary")
	   && !strcmp(ct, "image/jpeg"), "the file part, its type, a boundary-like line inside it");
	ok(field(body, "XyZ", "k", out, ct, err) == 1 && !strcmp(out, "3") && !*ct,
	   "another field, without a type");
	ok(field(body, "XyZ", "none", out, ct, err) == 0, "a missing field is absent");
	ok(field("--b\r\nContent-Disposition: form-data; name=f\r\n\r\n\r\n--b--", "b", "f",
		 out, ct, err) == 1 && !*out, "an empty part at the start of the body");
	ok(field(body, "Q", "file", out, ct, err) < 0 && strstr(err, "no multipart boundary"),
	   "a body without the boundary is refused (%s)", err);
	ok(field("--b\r\nContent-Disposition: form-data; name=f\r\n\r\ndata", "b", "f",
		 out, ct, err) < 0 && strstr(err, "does not end"), "an unterminated part is refused (%s)", err);
	ok(field("--b\r\nContent-Disposition: form-data; name=f\r\n", "b", "f", out, ct, err) < 0,
	   "unterminated headers are refused");
	ok(field("--b\r\nno colon\r\n\r\nx\r\n--b--", "b", "f", out, ct, err) < 0
	   && strstr(err, "bad part header"), "a header without a colon is refused (%s)", err);
	ok(field("--b\r\nContent-Disposition: form-data; name=\"f\r\n\r\nx\r\n--b--", "b", "f",
		 out, ct, err) < 0, "a broken disposition is refused");
	ok(field("--b--\r\n", "b", "f", out, ct, err) == 0, "a body of no parts has no field");
	ok(field("--b\r\n\r\n", "", "f", out, ct, err) < 0 && strstr(err, "0 bytes"),
	   "an empty boundary is refused (%s)", err);
}

static void test_plain_name(void)
{
	char err[FK_ERRLEN], longname[300];

	ok(fk_plain_name("Jo Smith", err) == 0, "a name with a space");
	ok(fk_plain_name("Zoë", err) == 0, "a name with a non-ASCII letter");
	ok(fk_plain_name("..", err) < 0 && strstr(err, "dot"), "\"..\" is refused (%s)", err);
	ok(fk_plain_name(".hidden", err) < 0, "a leading dot is refused");
	ok(fk_plain_name("a/b", err) < 0 && strstr(err, "slash"), "a slash is refused");
	ok(fk_plain_name("/etc", err) < 0, "an absolute path is refused");
	ok(fk_plain_name("a\\b", err) < 0, "a backslash is refused");
	ok(fk_plain_name("a\nb", err) < 0, "a newline is refused");
	ok(fk_plain_name("", err) < 0, "an empty name is refused");
	memset(longname, 'a', 256);
	longname[256] = 0;
	ok(fk_plain_name(longname, err) < 0 && strstr(err, "256 bytes"), "256 bytes are refused");
}

int main(void)
{
	test_media_type();
	test_param();
	test_query();
	test_multipart();
	test_plain_name();
	return done_testing();
}

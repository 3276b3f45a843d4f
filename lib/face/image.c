/* image.c — read JPEG (libjpeg-turbo), PNG (libpng) and netpbm (libnetpbm)
 * into 8-bit RGB, write raw PPM.  The three libraries report errors by
 * exiting or printing unless told otherwise: libjpeg and libpng through
 * error handlers that longjmp back here, libnetpbm through pm_setjmpbuf
 * with its messages captured, so nothing here prints or exits. */
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <netpbm/pam.h>
#include <png.h>

static void seterr(char *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, FK_ERRLEN, fmt, ap);
	va_end(ap);
}

int fk_image_alloc(fk_image *im, int w, int h, char *err)
{
	size_t need = (size_t)w * (size_t)h * 3;
	size_t have = im->px ? (size_t)im->w * (size_t)im->h * 3 : 0;
	if (need > have || !im->px) {
		unsigned char *p = malloc(need ? need : 1);
		if (!p) {
			seterr(err, "out of memory for a %dx%d image", w, h);
			return -1;
		}
		free(im->px);
		im->px = p;
	}
	im->w = w;
	im->h = h;
	return 0;
}

static int too_big(long long w, long long h, long long max_pixels, char *err)
{
	if (w * h > max_pixels) {
		seterr(err, "image of %lldx%lld pixels is over the limit of %lld pixels",
		       w, h, max_pixels);
		return 1;
	}
	return 0;
}

/* ---- JPEG ---------------------------------------------------------- */

struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
};

static void jpeg_fail(j_common_ptr c)
{
	longjmp(((struct jerr *)c->err)->jb, 1);
}

/* A warning is an error, except the three that lose no pixels: libjpeg
 * would carry on past damaged or missing data, filling the rest of the
 * picture with grey. */
static void jpeg_emit(j_common_ptr c, int level)
{
	if (level < 0) {
		int code = c->err->msg_code;
		if (code != JWRN_JFIF_MAJOR && code != JWRN_ADOBE_XFORM && code != JWRN_BOGUS_ICC)
			jpeg_fail(c);
		c->err->num_warnings++;
	}
}

/* libjpeg's stdio source reads ahead, past the end of the JPEG and into the
 * next image of the stream.  This one hands libjpeg the bytes of one JPEG
 * and no more: it follows the marker syntax (segments by their length,
 * entropy-coded data up to the next marker that is not a restart) and
 * stops after the EOI marker, leaving what follows in the FILE. */
enum { J_MARK, J_FF, J_LEN1, J_LEN2, J_SEG, J_ECS, J_ECS_FF, J_END };

struct jsrc {
	struct jpeg_source_mgr pub;
	FILE *f;
	int state, sos;
	unsigned len;
	JOCTET buf[4096];
};

/* the state after marker code c */
static int jmarker(struct jsrc *s, int c)
{
	if (c == 0xFF)
		return J_FF;
	if (c == 0xD9)
		return J_END;
	if (c == 0x00 || c == 0x01 || (c >= 0xD0 && c <= 0xD8))
		return J_MARK;	/* no length; a stray 00 is libjpeg's to report */
	s->sos = c == 0xDA;
	return J_LEN1;
}

/* the state after byte c */
static int jnext(struct jsrc *s, int c)
{
	switch (s->state) {
	case J_MARK: return c == 0xFF ? J_FF : J_MARK;
	case J_FF: return jmarker(s, c);
	case J_LEN1: s->len = (unsigned)c << 8; return J_LEN2;
	case J_LEN2:
		s->len |= (unsigned)c;
		if (s->len > 2) {
			s->len -= 2;
			return J_SEG;
		}
		return s->sos ? J_ECS : J_MARK;
	case J_SEG: return --s->len ? J_SEG : s->sos ? J_ECS : J_MARK;
	case J_ECS: return c == 0xFF ? J_ECS_FF : J_ECS;
	case J_ECS_FF:
		if (c == 0x00 || (c >= 0xD0 && c <= 0xD7))
			return J_ECS;
		return c == 0xFF ? J_ECS_FF : jmarker(s, c);
	}
	return J_END;
}

static void jsrc_init(j_decompress_ptr c)
{
	(void)c;
}

static boolean jsrc_fill(j_decompress_ptr c)
{
	struct jsrc *s = (struct jsrc *)c->src;
	size_t n = 0;
	int ch;

	while (n < sizeof s->buf && s->state != J_END && (ch = getc_unlocked(s->f)) != EOF) {
		s->buf[n++] = (JOCTET)ch;
		s->state = jnext(s, ch);
	}
	if (n == 0) {
		if (ferror(s->f))
			ERREXIT(c, JERR_FILE_READ);
		/* as libjpeg's own sources do: warn (an error here), then EOI */
		WARNMS(c, JWRN_JPEG_EOF);
		s->buf[0] = 0xFF;
		s->buf[1] = JPEG_EOI;
		n = 2;
	}
	s->pub.next_input_byte = s->buf;
	s->pub.bytes_in_buffer = n;
	return TRUE;
}

static void jsrc_skip(j_decompress_ptr c, long n)
{
	struct jpeg_source_mgr *src = c->src;

	if (n <= 0)
		return;
	while ((size_t)n > src->bytes_in_buffer) {
		n -= (long)src->bytes_in_buffer;
		src->fill_input_buffer(c);
	}
	src->next_input_byte += n;
	src->bytes_in_buffer -= (size_t)n;
}

static void jsrc_term(j_decompress_ptr c)
{
	(void)c;
}

static unsigned rd16(const unsigned char *p, int be)
{
	return be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static unsigned long rd32(const unsigned char *p, int be)
{
	return be ? (unsigned long)rd16(p, 1) << 16 | rd16(p + 2, 1)
		  : (unsigned long)rd16(p + 2, 0) << 16 | rd16(p, 0);
}

/* EXIF orientation (tag 0x0112 of IFD0 in the APP1 "Exif" marker), 1-8;
 * 1 (as stored) when absent or unreadable */
static int exif_orientation(j_decompress_ptr c)
{
	jpeg_saved_marker_ptr m;
	for (m = c->marker_list; m; m = m->next) {
		const unsigned char *t = m->data + 6;
		unsigned long len, ifd, n, i;
		int be;
		if (m->marker != JPEG_APP0 + 1 || m->data_length < 14 ||
		    memcmp(m->data, "Exif\0\0", 6) != 0)
			continue;
		len = m->data_length - 6;
		if (memcmp(t, "MM\0*", 4) == 0)
			be = 1;
		else if (memcmp(t, "II*\0", 4) == 0)
			be = 0;
		else
			continue;
		ifd = rd32(t + 4, be);
		if (ifd > len - 2)
			continue;
		n = rd16(t + ifd, be);
		for (i = 0; i < n && ifd + 2 + 12 * (i + 1) <= len; i++) {
			const unsigned char *e = t + ifd + 2 + 12 * i;
			if (rd16(e, be) == 0x0112 && rd16(e + 2, be) == 3) {
				unsigned o = rd16(e + 8, be);
				return o >= 1 && o <= 8 ? (int)o : 1;
			}
		}
	}
	return 1;
}

/* copy the stored w x h picture src into im as a person sees it */
static void orient(const unsigned char *src, int w, int h, int o, fk_image *im)
{
	int x, y;
	for (y = 0; y < im->h; y++)
		for (x = 0; x < im->w; x++) {
			int sx, sy;
			switch (o) {
			case 2: sx = w - 1 - x; sy = y; break;
			case 3: sx = w - 1 - x; sy = h - 1 - y; break;
			case 4: sx = x; sy = h - 1 - y; break;
			case 5: sx = y; sy = x; break;
			case 6: sx = y; sy = h - 1 - x; break;
			case 7: sx = w - 1 - y; sy = h - 1 - x; break;
			case 8: sx = w - 1 - y; sy = x; break;
			default: sx = x; sy = y; break;
			}
			memcpy(im->px + 3 * ((size_t)y * im->w + x),
			       src + 3 * ((size_t)sy * w + sx), 3);
		}
}

static int read_jpeg(FILE *f, fk_image *im, long long max_pixels, char *err)
{
	struct jpeg_decompress_struct c;
	struct jerr je;
	struct jsrc src;
	unsigned char *volatile tmp = NULL;
	unsigned char *dst;
	JSAMPROW row;
	int o, w, h;

	c.err = jpeg_std_error(&je.pub);
	je.pub.error_exit = jpeg_fail;
	je.pub.emit_message = jpeg_emit;
	if (setjmp(je.jb)) {
		char msg[JMSG_LENGTH_MAX];
		je.pub.format_message((j_common_ptr)&c, msg);
		seterr(err, "JPEG: %s", msg);
		jpeg_destroy_decompress(&c);
		free(tmp);
		return -1;
	}
	jpeg_create_decompress(&c);
	src.pub.init_source = jsrc_init;
	src.pub.fill_input_buffer = jsrc_fill;
	src.pub.skip_input_data = jsrc_skip;
	src.pub.resync_to_restart = jpeg_resync_to_restart;
	src.pub.term_source = jsrc_term;
	src.pub.bytes_in_buffer = 0;
	src.pub.next_input_byte = NULL;
	src.f = f;
	src.state = J_MARK;
	src.sos = 0;
	c.src = &src.pub;
	jpeg_save_markers(&c, JPEG_APP0 + 1, 0xffff);
	jpeg_read_header(&c, TRUE);
	w = (int)c.image_width;
	h = (int)c.image_height;
	if (too_big(w, h, max_pixels, err)) {
		jpeg_destroy_decompress(&c);
		return -1;
	}
	o = exif_orientation(&c);
	c.out_color_space = JCS_RGB;
	jpeg_start_decompress(&c);
	if (c.output_components != 3) {
		seterr(err, "JPEG: %d colour components, not 3", c.output_components);
		jpeg_destroy_decompress(&c);
		return -1;
	}
	if (o >= 5 ? fk_image_alloc(im, h, w, err) : fk_image_alloc(im, w, h, err)) {
		jpeg_destroy_decompress(&c);
		return -1;
	}
	dst = im->px;
	if (o != 1) {
		tmp = malloc((size_t)w * h * 3);
		if (!tmp) {
			seterr(err, "out of memory for a %dx%d image", w, h);
			jpeg_destroy_decompress(&c);
			return -1;
		}
		dst = tmp;
	}
	while (c.output_scanline < c.output_height) {
		row = dst + (size_t)c.output_scanline * w * 3;
		jpeg_read_scanlines(&c, &row, 1);
	}
	jpeg_finish_decompress(&c);
	jpeg_destroy_decompress(&c);
	if (tmp) {
		orient(tmp, w, h, o, im);
		free(tmp);
	}
	return 1;
}

/* ---- PNG ----------------------------------------------------------- */

struct perr {
	jmp_buf jb;
	char *err;
};

static void png_fail(png_structp p, png_const_charp msg)
{
	struct perr *e = png_get_error_ptr(p);
	seterr(e->err, "PNG: %s", msg);
	longjmp(e->jb, 1);
}

/* warnings lose no pixels: libpng makes an error of missing or damaged
 * image data (and of a bad CRC in a chunk that matters) */
static void png_quiet(png_structp p, png_const_charp msg)
{
	(void)p;
	(void)msg;
}

/* libpng's stdio reading, with a message that says what happened */
static void png_in(png_structp p, png_bytep buf, size_t n)
{
	FILE *f = png_get_io_ptr(p);

	if (fread(buf, 1, n, f) != n)
		png_error(p, ferror(f) ? "read error" : "Premature end of PNG file");
}

/* Any PNG becomes 8-bit RGB: palettes are looked up, grey is repeated,
 * 16-bit samples are rounded to 8 bits, and alpha (an alpha channel or a
 * tRNS colour) is dropped, the stored colours kept, as pngtopam and the
 * PAM reader below do.  libpng reads a chunk at a time and stops after
 * IEND, so the next image of the stream stays in f. */
static int read_png(FILE *f, fk_image *im, long long max_pixels, char *err)
{
	struct perr e;
	png_structp p;
	png_infop info = NULL;
	png_uint_32 w, h, y;
	int depth, type, passes, pass;

	e.err = err;
	p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &e, png_fail, png_quiet);
	if (!p || !(info = png_create_info_struct(p))) {
		seterr(err, "out of memory for a PNG reader");
		png_destroy_read_struct(&p, NULL, NULL);
		return -1;
	}
	if (setjmp(e.jb)) {
		png_destroy_read_struct(&p, &info, NULL);
		return -1;
	}
	png_set_read_fn(p, f, png_in);
	/* the pixel limit decides, not libpng's default of a million a side */
	png_set_user_limits(p, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
	/* and text, profiles, suggested palettes and the rest are skipped
	 * unread, not kept: Debian's libpng caps no chunk's size, so a
	 * 48-byte file whose sPLT chunk claimed 1.3 GB had it allocated and
	 * cleared (tRNS stays, which libpng reads into a fixed buffer) */
	png_set_keep_unknown_chunks(p, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
	png_read_info(p, info);
	png_get_IHDR(p, info, &w, &h, &depth, &type, NULL, NULL, NULL);
	if (too_big(w, h, max_pixels, err)) {
		png_destroy_read_struct(&p, &info, NULL);
		return -1;
	}
	png_set_scale_16(p);
	png_set_palette_to_rgb(p);
	png_set_expand_gray_1_2_4_to_8(p);
	png_set_gray_to_rgb(p);
	png_set_strip_alpha(p);
	passes = png_set_interlace_handling(p);
	png_read_update_info(p, info);
	if (png_get_rowbytes(p, info) != (size_t)w * 3)
		png_error(p, "rows are not 8-bit RGB after conversion");
	if (fk_image_alloc(im, (int)w, (int)h, err)) {
		png_destroy_read_struct(&p, &info, NULL);
		return -1;
	}
	for (pass = 0; pass < passes; pass++)
		for (y = 0; y < h; y++)
			png_read_row(p, im->px + (size_t)y * w * 3, NULL);
	png_read_end(p, NULL);
	png_destroy_read_struct(&p, &info, NULL);
	return 1;
}

/* ---- netpbm -------------------------------------------------------- */

static char pm_msg[FK_ERRLEN];

static void pm_keep(const char *msg)
{
	snprintf(pm_msg, sizeof pm_msg, "%s", msg);
}

static void pm_quiet(const char *msg)
{
	(void)msg;
}

static int read_pnm(FILE *f, fk_image *im, long long max_pixels, char *err)
{
	struct pam pam;
	tuple *volatile row = NULL;
	jmp_buf jb, *old;
	int x, y;

	pm_setusererrormsgfn(pm_keep);
	pm_setusermessagefn(pm_quiet);
	pm_msg[0] = '\0';
	pm_setjmpbufsave(&jb, &old);
	if (setjmp(jb)) {
		pm_setjmpbuf(old);
		seterr(err, "%s", pm_msg);
		if (row)
			pnm_freepamrow(row);
		return -1;
	}
	/* not PAM_STRUCT_SIZE, which takes a member of a null pointer */
	pnm_readpaminit(f, &pam, offsetof(struct pam, tuple_type) + sizeof pam.tuple_type);
	if (too_big(pam.width, pam.height, max_pixels, err))
		goto fail;
	if (pam.depth < 1 || pam.depth > 4) {
		seterr(err, "PAM depth %u: only 1-4 (grey, grey+alpha, RGB, RGBA) are read",
		       pam.depth);
		goto fail;
	}
	if (fk_image_alloc(im, pam.width, pam.height, err))
		goto fail;
	if (pam.format == RPPM_FORMAT && pam.maxval == 255) {
		/* raw 8-bit PPM, the pipeline's own: its raster is the image */
		size_t n = (size_t)pam.width * 3;
		for (y = 0; y < pam.height && fread(im->px + y * n, 1, n, f) == n; y++)
			;
		pm_setjmpbuf(old);
		if (y == pam.height)
			return 1;
		if (ferror(f))
			seterr(err, "read error: %s", strerror(errno));
		else /* in netpbm's words */
			seterr(err, "End of file encountered when trying to read a row from input file.");
		return -1;
	}
	row = pnm_allocpamrow(&pam);
	for (y = 0; y < pam.height; y++) {
		unsigned char *p = im->px + (size_t)y * pam.width * 3;
		pnm_readpamrow(&pam, row);
		for (x = 0; x < pam.width; x++, p += 3) {
			int k;
			for (k = 0; k < 3; k++) {
				sample s = row[x][pam.depth >= 3 ? k : 0];
				p[k] = pam.maxval == 255 ? (unsigned char)s :
				       (unsigned char)((s * 255 + pam.maxval / 2) / pam.maxval);
			}
		}
	}
	pnm_freepamrow(row);
	pm_setjmpbuf(old);
	return 1;
fail:
	if (row)
		pnm_freepamrow(row);
	pm_setjmpbuf(old);
	return -1;
}

int fk_read_image(FILE *f, fk_image *im, long long max_pixels, char *err)
{
	int c;
	do
		c = getc(f);
	while (c != EOF && isspace(c));
	if (c == EOF) {
		if (ferror(f)) {
			seterr(err, "read error");
			return -1;
		}
		return 0;
	}
	ungetc(c, f);
	if (c == 0xFF)
		return read_jpeg(f, im, max_pixels, err);
	if (c == 0x89)
		return read_png(f, im, max_pixels, err);
	if (c == 'P')
		return read_pnm(f, im, max_pixels, err);
	seterr(err, "not a JPEG, PNG or netpbm image (first byte 0x%02x)", c);
	return -1;
}

int fk_write_ppm(FILE *f, const fk_image *im, char *err)
{
	size_t n = (size_t)im->w * im->h * 3;
	if (fprintf(f, "P6\n%d %d\n255\n", im->w, im->h) < 0 ||
	    fwrite(im->px, 1, n, f) != n || ferror(f)) {
		seterr(err, "write error: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void fk_image_free(fk_image *im)
{
	free(im->px);
	im->px = NULL;
	im->w = im->h = 0;
}

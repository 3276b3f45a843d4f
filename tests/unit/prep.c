/* prep.c — known answers for the preprocessing and the record files. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cifar.h"
#include "prep.h"
#include "tap.h"

/* planes of a side x side image whose value at (c, y, x) is a known formula */
static void fill(unsigned char *p, int side)
{
	for (int c = 0; c < 3; c++)
		for (int y = 0; y < side; y++)
			for (int x = 0; x < side; x++)
				p[(c * side + y) * side + x] =
					(unsigned char)(c * 70 + y * 7 + x * 3);
}

static int test_standardise(void)
{
	/* a 2x2 image, crop 2: 12 values 0, 10, 20, ... 110 */
	unsigned char p[12];
	float out[12];
	fk_prep pr;
	double mean = 55, sd = 0, bad = 0;

	for (int i = 0; i < 12; i++) {
		p[i] = (unsigned char)(10 * i);
		sd += (10.0 * i - mean) * (10.0 * i - mean);
	}
	sd = sqrt(sd / 12); /* population stddev, by hand: 34.5205 */
	fk_prep_defaults(&pr, 2);
	fk_prep_eval(&pr, p, 2, out);
	for (int i = 0; i < 12; i++)
		bad += fabs(out[i] - (10 * i - mean) / sd);
	ok(bad < 1e-5, "standardisation is (x - mean) / stddev (off by %g)", bad);

	/* a flat image: stddev 0, so the divisor is 1/sqrt(12) and all is 0 */
	memset(p, 77, sizeof p);
	fk_prep_eval(&pr, p, 2, out);
	bad = 0;
	for (int i = 0; i < 12; i++)
		bad += fabs(out[i]);
	ok(bad == 0 && isfinite(out[0]), "a flat image standardises to zeros, not NaN");

	pr.std = 0;
	p[5] = 255;
	fk_prep_eval(&pr, p, 2, out);
	ok(out[5] == 1.0f && close_to(out[0], 77 / 255.0, 1e-6),
	   "std=0 scales to 0..1");
	return 0;
}

static int test_crop(void)
{
	enum { S = 10, C = 6 };
	unsigned char p[3 * S * S];
	float out[3 * C * C];
	fk_prep pr;
	int bad = 0;

	fill(p, S);
	fk_prep_defaults(&pr, S);
	pr.crop = C;
	pr.std = 0;
	fk_prep_eval(&pr, p, S, out);
	/* centre: offset (10-6)/2 = 2 */
	for (int c = 0; c < 3; c++)
		for (int y = 0; y < C; y++)
			for (int x = 0; x < C; x++)
				bad += fabs(out[(c * C + y) * C + x] * 255 -
					    (c * 70 + (y + 2) * 7 + (x + 2) * 3)) > 1e-3;
	ok(bad == 0, "evaluation takes the centre crop (%d wrong)", bad);

	/* a crop-size image is taken whole */
	fill(p, C);
	fk_prep_eval(&pr, p, C, out);
	ok(fabs(out[(2 * C + 5) * C + 4] * 255 - (140 + 35 + 12)) < 1e-3,
	   "an image of the crop size is used as it is");
	return 0;
}

/* with no brightness, contrast or std, a training crop is one of the
 * (S-C+1)^2 windows, maybe mirrored */
static int test_train_windows(void)
{
	enum { S = 8, C = 5 };
	unsigned char p[3 * S * S];
	float out[3 * C * C], again[3 * C * C];
	fk_prep pr;
	int seen[S - C + 1][S - C + 1][2] = {{{0}}}, all = 1, bad = 0;

	fill(p, S);
	fk_prep_defaults(&pr, S);
	pr.crop = C;
	pr.std = 0;
	pr.bright = 0;
	pr.con_lo = pr.con_hi = 1;
	for (long i = 0; i < 2000; i++) {
		int found = 0;
		fk_prep_train(&pr, p, 7, 3, i, out);
		for (int oy = 0; oy <= S - C && !found; oy++)
			for (int ox = 0; ox <= S - C && !found; ox++)
				for (int fl = 0; fl < 2 && !found; fl++) {
					int same = 1;
					for (int c = 0; c < 3 && same; c++)
						for (int y = 0; y < C && same; y++)
							for (int x = 0; x < C; x++) {
								int sx = fl ? ox + C - 1 - x : ox + x;
								float want = p[(c * S + oy + y) * S + sx] / 255.0f;
								if (out[(c * C + y) * C + x] != want) {
									same = 0;
									break;
								}
							}
					if (same)
						seen[oy][ox][fl] = found = 1;
				}
		bad += !found;
	}
	for (int oy = 0; oy <= S - C; oy++)
		for (int ox = 0; ox <= S - C; ox++)
			all &= seen[oy][ox][0] & seen[oy][ox][1];
	ok(bad == 0, "every training crop is a window of the image, maybe mirrored");
	ok(all, "all 16 windows, plain and mirrored, come up in 2000 draws");

	pr.flip = 0;
	for (long i = 0; i < 200; i++) {
		fk_prep_train(&pr, p, 7, 3, i, out);
		/* not mirrored: x increases to the right */
		bad += out[1] < out[0];
	}
	ok(bad == 0, "flip=0 never mirrors");

	fk_prep_train(&pr, p, 7, 3, 11, out);
	fk_prep_train(&pr, p, 7, 3, 11, again);
	ok(!memcmp(out, again, sizeof out), "(seed, step, index) fixes the draw");
	return 0;
}

static int test_brightness_contrast(void)
{
	enum { S = 6 };
	unsigned char p[3 * S * S];
	float out[3 * S * S], base[3 * S * S];
	fk_prep pr;
	double lo = 1e9, hi = -1e9;
	int bad = 0;

	fill(p, S);
	fk_prep_defaults(&pr, S);
	pr.std = 0;
	pr.flip = 0;
	pr.con_lo = pr.con_hi = 1;
	fk_prep_eval(&pr, p, S, base);
	for (long i = 0; i < 500; i++) {
		double d;
		fk_prep_train(&pr, p, 1, 1, i, out);
		d = (out[0] - base[0]) * 255;
		/* the same delta everywhere */
		for (int k = 1; k < 3 * S * S; k++)
			bad += fabs((out[k] - base[k]) * 255 - d) > 1e-3;
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	ok(bad == 0 && lo >= -63 && hi <= 63 && lo < -55 && hi > 55,
	   "brightness adds one delta in [-63, 63] (seen %.1f..%.1f)", lo, hi);

	/* contrast: per channel, (x - mean) * f + mean, f in [0.2, 1.8] */
	pr.bright = 0;
	pr.con_lo = 0.2f;
	pr.con_hi = 1.8f;
	lo = 1e9;
	hi = -1e9;
	bad = 0;
	for (long i = 0; i < 500; i++) {
		double f = 0;
		fk_prep_train(&pr, p, 1, 1, i, out);
		for (int c = 0; c < 3; c++) {
			double m = 0;
			for (int k = 0; k < S * S; k++)
				m += p[c * S * S + k];
			m /= S * S;
			/* channel 0 value 1 vs value 0 gives f */
			f = ((out[c * S * S + 1] - out[c * S * S]) * 255) / 3.0;
			for (int k = 0; k < S * S; k++)
				bad += fabs(out[c * S * S + k] * 255 -
					    ((p[c * S * S + k] - m) * f + m)) > 1e-2;
		}
		if (f < lo)
			lo = f;
		if (f > hi)
			hi = f;
	}
	ok(bad == 0 && lo >= 0.2 - 1e-4 && hi <= 1.8 + 1e-4 && lo < 0.3 && hi > 1.7,
	   "contrast is (x - channel mean) * f + mean, f in [0.2, 1.8] (seen %.3f..%.3f)",
	   lo, hi);
	return 0;
}

static int test_text(void)
{
	fk_prep a, b;
	char buf[FK_PREP_LEN], err[256];

	fk_prep_defaults(&a, 40);
	a.crop = 32;
	a.flip = 0;
	a.bright = 12.5f;
	a.margin = 1.5f;
	fk_prep_format(&a, buf);
	ok(fk_prep_parse(&b, buf, err) == 0 && !memcmp(&a, &b, sizeof a),
	   "settings survive text: %s", buf);
	ok(fk_prep_parse(&b, "stored=40 crop=32 std=1", err) == 0 && b.stored == 40 &&
	   b.crop == 32, "the short form parses");
	ok(strstr(buf, " margin=1.5") != NULL, "the crop margin is in the text: %s", buf);
	ok(fk_prep_parse(&b, "stored=40 crop=32 std=1", err) == 0 && b.margin == 1.25f,
	   "a model that does not say its margin was cut at 1.25 (%g)", b.margin);
	ok(fk_prep_parse(&b, "stored=40 margin=0", err) < 0 && strstr(err, "margin"),
	   "a margin of 0 is refused: %s", err);
	ok(fk_prep_parse(&b, "stored=30 crop=32", err) < 0 && strstr(err, "crop"),
	   "a crop larger than the stored size is refused: %s", err);
	ok(fk_prep_parse(&b, "stored=32 colour=1", err) < 0 && strstr(err, "colour"),
	   "an unknown key is refused: %s", err);
	ok(fk_prep_parse(&b, "stored=x", err) < 0 && strstr(err, "\"x\""),
	   "a bad value is refused: %s", err);
	ok(fk_prep_parse(&b, "contrast=2,1", err) < 0, "contrast low > high is refused");
	return 0;
}

static int test_shuffle(void)
{
	enum { N = 1000 };
	long v[N], w[N];
	int count[N] = {0}, bad = 0;
	fk_rng r;

	fk_rng_init(&r, 5, 0, 0);
	fk_rng_shuffle(&r, v, N);
	for (int i = 0; i < N; i++)
		count[v[i]]++;
	for (int i = 0; i < N; i++)
		bad += count[i] != 1;
	ok(bad == 0, "a shuffle is a permutation");
	fk_rng_init(&r, 5, 0, 0);
	fk_rng_shuffle(&r, w, N);
	ok(!memcmp(v, w, sizeof v), "the same keys give the same shuffle");
	fk_rng_init(&r, 5, 1, 0);
	fk_rng_shuffle(&r, w, N);
	ok(memcmp(v, w, sizeof v) != 0, "another epoch gives another shuffle");
	return 0;
}

static int test_records(void)
{
	char d[] = "/tmp/preptestXXXXXX", a[64], b[64], e[64], err[FK_ERRLEN];
	unsigned char px[3 * 2 * 2], rec[13], back[12];
	fk_image im = {2, 2, px}, im2 = {0, 0, back};
	fk_records r;
	FILE *f;
	long idx;
	int ok1 = 1;

	for (int i = 0; i < 12; i++)
		px[i] = (unsigned char)i; /* RGB RGB ...: R = 0,3,6,9 */
	fk_cifar_pack(&im, 9, rec);
	ok(rec[0] == 9 && rec[1] == 0 && rec[2] == 3 && rec[4] == 9 && rec[5] == 1 &&
	   rec[9] == 2 && rec[12] == 11, "a record is the label then R, G, B planes");
	ok(fk_cifar_unpack(rec, 2, &im2) == 9 && !memcmp(back, px, 12),
	   "unpack inverts pack");

	if (!mkdtemp(d))
		return ok(0, "mkdtemp");
	snprintf(a, sizeof a, "%s/a", d);
	snprintf(b, sizeof b, "%s/b", d);
	snprintf(e, sizeof e, "%s/e", d);
	f = fopen(a, "wb");
	for (int i = 0; i < 3; i++) {
		rec[0] = (unsigned char)i;
		fwrite(rec, 13, 1, f);
	}
	fclose(f);
	fclose(fopen(e, "wb"));
	f = fopen(b, "wb");
	for (int i = 0; i < 2; i++) {
		rec[0] = (unsigned char)(10 + i);
		fwrite(rec, 13, 1, f);
	}
	fclose(f);
	{
		char *paths[] = {a, e, b};
		ok1 = fk_records_open(&r, paths, 3, 2, err) == 0 && r.count == 5;
		ok(ok1, "three files (one empty) give 5 records");
		if (ok1) {
			int want[] = {0, 1, 2, 10, 11}, bad = 0;
			for (int i = 0; i < 5; i++)
				bad += fk_record_label(&r, i, err) != want[i];
			ok(bad == 0 && !strcmp(fk_record_where(&r, 4, &idx), b) &&
			   idx == 1, "record i is found in its file");
			unsigned char got[13];
			ok(fk_record_read(&r, 4, got, err) == 0 && got[0] == 11 &&
			   !memcmp(got + 1, rec + 1, 12), "record 4 read whole");
			/* cut short while open: an error, not a SIGBUS */
			ok(truncate(b, 13) == 0 && fk_record_read(&r, 4, got, err) < 0 &&
			   strstr(err, "record 1 is gone") &&
			   strstr(err, "cut short"), "a record cut off after opening: %s", err);
			ok(fk_record_read(&r, 3, got, err) == 0 && got[0] == 10,
			   "the records before the cut still read");
			ok(fk_records_bad_label(&r, 20, err) == -2, "the label check reports the cut");
			fk_records_close(&r);
			f = fopen(b, "wb");
			for (int i = 0; i < 2; i++) {
				rec[0] = (unsigned char)(10 + i);
				fwrite(rec, 13, 1, f);
			}
			fclose(f);
		}
		f = fopen(b, "ab");
		fputc(0, f);
		fclose(f);
		ok(fk_records_open(&r, paths, 3, 2, err) < 0 &&
		   strstr(err, "not a whole number"), "a ragged file is refused: %s", err);
		ok(fk_records_open(&r, paths, 1, 3, err) < 0,
		   "records of another size are refused: %s", err);
	}
	unlink(a);
	unlink(b);
	unlink(e);
	rmdir(d);
	return 0;
}

int main(void)
{
	test_standardise();
	test_crop();
	test_train_windows();
	test_brightness_contrast();
	test_text();
	test_shuffle();
	test_records();
	return done_testing();
}

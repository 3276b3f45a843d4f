/* tap.h — the smallest TAP producer, for the C unit tests.
 * ok(cond, fmt, ...) prints "ok N - ..." or "not ok N - ...";
 * done_testing() prints the plan and returns the exit status. */
#ifndef TAP_H
#define TAP_H
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		tap_failed++;
	return cond;
}

/* |a-b| <= tol*max(1,|a|,|b|): relative for large values, absolute near 0 */
static inline int close_to(double a, double b, double tol)
{
	double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
	if (m < 1)
		m = 1;
	return fabs(a - b) <= tol * m;
}

/* remove a test's scratch folder (made by mkdtemp) and all in it */
static inline void remove_tree(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
#endif

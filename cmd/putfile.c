/* putfile — standard input to a file, written the way every facekit
 * program writes its output (lib/base/outfile.h), so that the scripts
 * write theirs the same way.  See putfile(1). */
#include <signal.h>
#include <unistd.h>

#include "outfile.h"
#include "prog.h"

static const char usage[] =
	"usage: putfile OUT\n"
	"  Copy standard input to OUT the way facekit's programs write their files:\n"
	"  into a temporary file beside OUT's target (symbolic links followed) that\n"
	"  replaces it, keeping its permission bits, once the input has ended, so\n"
	"  that a failed read or write, SIGINT, SIGTERM or SIGHUP leave it as it was.\n"
	"  A device or FIFO is written in place; '-' is standard output.\n"
	"  -h  this help\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* standard input to o->f: 0, or 1 after saying why (quietly when a signal
 * stopped it) */
static int copy(fk_outfile *o)
{
	static char buf[1 << 16];
	ssize_t n;

	while (!stop_signal) {
		n = read(0, buf, sizeof buf);
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fk_warn("%s: cannot read standard input: %s", o->name, strerror(errno));
			return 1;
		}
		if (fwrite(buf, 1, (size_t)n, o->f) != (size_t)n) {
			if (stop_signal)
				break;
			if (o->f == stdout)
				fk_warn("write error on standard output: %s", strerror(errno));
			else
				fk_warn("%s: write error: %s", o->name, strerror(errno));
			return 1;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	char err[FK_OUT_ERRLEN];
	struct sigaction sa;
	fk_outfile o;
	int ch, status, in_place;

	fk_progname = "putfile";
	while ((ch = getopt(argc, argv, "h")) != -1) {
		if (ch == 'h')
			fk_help(usage);
		fk_usage(usage);
	}
	if (argc - optind != 1)
		fk_usage(usage);
	/* a signal stops the copy, which then removes its temporary file:
	 * no SA_RESTART, so that a read waiting for input returns */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (fk_out_open(&o, argv[optind], err) != 0)
		fk_die("%s", err);
	in_place = !o.tmp;
	status = copy(&o);
	if (status == 0 && fk_out_commit(&o, err) != 0) {
		if (!stop_signal)
			fk_warn("%s", err);
		status = 1;
	}
	if (status) {
		fk_out_abort(&o);
		if (stop_signal) {
			fk_warn("%s: %s%s", o.name,
				stop_signal == SIGINT ? "interrupted" :
				stop_signal == SIGHUP ? "hung up" : "terminated",
				in_place ? "" : "; left as it was");
			return 128 + stop_signal;
		}
	}
	return fk_close_out(status);
}

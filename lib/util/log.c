/*
 * NAME
 *	log - one line per event, never onto the policy connection
 * DESCRIPTION
 *	Four levels, as Postfix has them: msg_info() an event, msg_warn()
 *	something went wrong and we go on (a failed database update, a
 *	config error answered with DUNNO), msg_fatal() we cannot go on (exit
 *	1), msg_panic() our own bug (abort).  Each writes one line.  Under systemd (JOURNAL_STREAM names
 *	our stderr) lines carry sd-daemon priority prefixes and no program
 *	name, since the journal adds it.  Elsewhere they read
 *	"program: warning: text".  When stderr is the policy connection itself
 *	(inetd passes the socket as fds 0, 1 and 2) or is closed, lines go to
 *	syslog(3) instead, so a log line can never reach Postfix; its socket
 *	is connected at once (LOG_NDELAY), since a policy helper that has
 *	shut itself in may make no UNIX socket of its own.
 *
 *	Control characters are replaced by '?': request values are logged,
 *	and a hostile client must not be able to forge log lines.
 */
#define _GNU_SOURCE
#include "util/log.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static const char *log_prog = "tarpit";
static int log_journal;		/* stderr is the journal: use <N> prefixes */
static int log_syslog;		/* stderr unusable: use syslog(3) */
static struct stat log_err_st;		/* stderr's, as log_init() found it */

/* to_syslog - lines go to syslog(3) from now on; its socket is made at
 * once, before a helper shuts itself in */
static void to_syslog(void)
{
    log_syslog = 1;
    log_journal = 0;
    openlog(log_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_init - choose where lines go */
void log_init(const char *progname)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;

    log_prog = progname;
    memset(&log_err_st, 0, sizeof(log_err_st));
    if (fstat(STDERR_FILENO, &st) < 0) {
	to_syslog();
    } else if (js != 0) {
	unsigned long long dev, ino;

	if (sscanf(js, "%llu:%llu", &dev, &ino) == 2
	    && dev == (unsigned long long) st.st_dev
	    && ino == (unsigned long long) st.st_ino)
	    log_journal = 1;
    }
    if (!log_syslog)
	log_err_st = st;
}

/* log_avoid_fd - never write log lines to this descriptor (stderr is
 * the one log_init() looked at: a helper calls both as it starts) */
void log_avoid_fd(int fd)
{
    struct stat st;

    if (log_syslog)
	return;
    if (fd == STDERR_FILENO || (fstat(fd, &st) == 0 && st.st_dev == log_err_st.st_dev
				 && st.st_ino == log_err_st.st_ino))
	to_syslog();
}

/* plain - does fmt convert nothing but strings (%s, and %% itself)? */
static int plain(const char *fmt)
{
    for (const char *p = fmt; (p = strchr(p, '%')) != 0; p += 2)
	if (p[1] != 's' && p[1] != '%')
	    return 0;
    return 1;
}

/* format_plain - vsnprintf() for a plain() format, by hand: a helper's
 * line for each request is of this kind, and vsnprintf() cost more
 * instructions than the rest of a known network's request.  The length
 * the whole message has, as vsnprintf() returns it. */
static int format_plain(char *out, size_t cap, const char *fmt, va_list ap)
{
    size_t  n = 0;

    for (const char *p = fmt; *p; p++) {
	const char *s = p, *end;
	size_t  len;

	if (*p != '%') {
	    end = strchr(p, '%');
	    len = end ? (size_t) (end - p) : strlen(p);
	    p += len - 1;
	} else if (*++p == '%') {
	    len = 1;
	    s = p;
	} else {
	    if ((s = va_arg(ap, const char *)) == 0)
		s = "(null)";
	    len = strlen(s);
	}
	if (n < cap)
	    memcpy(out + n, s, n + len < cap ? len : cap - n);
	n += len;
    }
    out[n < cap ? n : cap - 1] = 0;
    return n > INT_MAX ? INT_MAX : (int) n;
}

/* vlog - format, sanitise and write one line */
static void vlog(int prio, const char *level, const char *fmt, va_list ap)
{
    char    line[1200];
    size_t  head = 0, len;
    int     saved = errno;
    int     n;

    /* The prefix by hand, the message formatted straight after it. */
    if (log_journal && !log_syslog) {
	line[0] = '<';			/* a syslog priority: one digit, 0-7 */
	line[1] = (char) ('0' + (prio & 7));
	line[2] = '>';
	head = 3;
    } else if (!log_syslog) {
	head = strnlen(log_prog, 40);
	memcpy(line, log_prog, head);
	memcpy(line + head, ": ", 2);
	head += 2;
    }
    if (level) {
	len = strlen(level);
	memcpy(line + head, level, len);
	memcpy(line + head + len, ": ", 2);
	head += len + 2;
    }
    n = plain(fmt) ? format_plain(line + head, 1024, fmt, ap)
	: vsnprintf(line + head, 1024, fmt, ap);
    if (n < 0)
	n = snprintf(line + head, 1024, "(unprintable log message)");
    len = head + (n < 1024 ? (size_t) n : 1023);
    for (char *p = line + head; p < line + len; p++)
	if ((unsigned char) *p < 0x20 || *p == 0x7f)
	    *p = '?';
    if (log_syslog) {
	syslog(prio, "%s", line);
    } else {
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0) {
	    /* Nowhere else to report it. */
	}
    }
    errno = saved;
}

/* msg_info - an event worth one line */
void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_INFO, 0, fmt, ap);
    va_end(ap);
}

/* msg_vwarn - msg_warn() with a va_list */
void msg_vwarn(const char *fmt, va_list ap)
{
    vlog(LOG_WARNING, "warning", fmt, ap);
}

/* msg_warn - something is wrong but we go on */
void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_WARNING, "warning", fmt, ap);
    va_end(ap);
}

/* msg_error - something an admin must fix: we go on as best we can */
void msg_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_ERR, "error", fmt, ap);
    va_end(ap);
}

/* msg_fatal - cannot go on: log and exit 1 */
void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_CRIT, "fatal", fmt, ap);
    va_end(ap);
    exit(1);
}

/* msg_panic - our own bug: log and abort */
void msg_panic(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(LOG_CRIT, "panic", fmt, ap);
    va_end(ap);
    abort();
}

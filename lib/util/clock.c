/*
 * NAME
 *	clock - the monotonic clock in milliseconds
 * DESCRIPTION
 *	monotonic_ms() reads CLOCK_MONOTONIC: timeouts and the lengths of
 *	waits and lock holds are measured on it.  clock_seconds() spells a
 *	duration for a log line.  clock_parse_when() reads a point in time
 *	as journalctl(1) takes one (import-log --since, --until).
 */
#define _GNU_SOURCE
#include "util/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* monotonic_ms - a clock that never jumps */
int64_t monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* clock_seconds - "12.345" from milliseconds, for log lines */
const char *clock_seconds(int64_t ms, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
    return buf;
}


/* A relative time's units, as systemd.time(7) spells them. */
static const struct {
    const char *name;
    int64_t seconds;
} when_units[] = {
    {"", 1}, {"s", 1}, {"sec", 1}, {"second", 1}, {"seconds", 1},
    {"m", 60}, {"min", 60}, {"minute", 60}, {"minutes", 60},
    {"h", 3600}, {"hr", 3600}, {"hour", 3600}, {"hours", 3600},
    {"d", 86400}, {"day", 86400}, {"days", 86400},
    {"w", 604800}, {"week", 604800}, {"weeks", 604800},
};

/* relative - "N unit" at s (spaces allowed between): the seconds, or -1 */
static int64_t relative(const char *s, const char **end)
{
    int64_t n = 0;
    const char *p = s, *u;
    size_t  ulen;

    if (*p < '0' || *p > '9')
	return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
	if (n > INT64_MAX / 10 / 604800)
	    return -1;
	n = n * 10 + (*p - '0');
    }
    while (*p == ' ')
	p++;
    for (u = p; *p >= 'a' && *p <= 'z'; p++)
	 /* the unit */ ;
    ulen = (size_t) (p - u);
    for (size_t i = 0; i < sizeof(when_units) / sizeof(when_units[0]); i++)
	if (strlen(when_units[i].name) == ulen && strncmp(u, when_units[i].name, ulen) == 0) {
	    *end = p;
	    return n * when_units[i].seconds;
	}
    return -1;
}

/* local_time - mktime() of fields, or -1 when they are out of range */
static int64_t local_time(struct tm *tm, int h, int m, int s)
{
    if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
	return -1;
    tm->tm_hour = h, tm->tm_min = m, tm->tm_sec = s, tm->tm_isdst = -1;
    return (int64_t) mktime(tm);
}

/* clock_parse_when - a point in time as journalctl(1) takes one for
 * --since and --until, in Unix seconds: "2026-11-22 06:30[:00]" (or with
 * a T), "2026-11-22" (midnight), "06:30[:00]" (today), "now", "today",
 * "yesterday", "tomorrow", "@1795000000", "-1h", "+30min", "2 days ago";
 * local time.  0, or -1 when it is none of these. */
int clock_parse_when(const char *s, int64_t now, int64_t *when)
{
    time_t  t = (time_t) now;
    struct tm tm;
    int     y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
    const char *end = 0;
    int64_t rel;

    if (localtime_r(&t, &tm) == 0)
	return -1;
    if (strcmp(s, "now") == 0)
	return *when = now, 0;
    if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0
	|| strcmp(s, "tomorrow") == 0) {
	tm.tm_mday += s[0] == 'y' ? -1 : s[0] == 't' && s[2] == 'm' ? 1 : 0;
	return (*when = local_time(&tm, 0, 0, 0)) == -1 ? -1 : 0;
    }
    if (s[0] == '@') {
	char   *e;
	long long v;

	errno = 0;
	v = strtoll(s + 1, &e, 10);
	if (e == s + 1 || *e || errno)
	    return -1;
	return *when = v, 0;
    }
    if (s[0] == '-' || s[0] == '+') {
	if ((rel = relative(s + 1, &end)) < 0 || *end)
	    return -1;
	return *when = s[0] == '-' ? now - rel : now + rel, 0;
    }
    if ((rel = relative(s, &end)) >= 0 && strcmp(end, " ago") == 0)
	return *when = now - rel, 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
	const char *rest = s + 10;

	if (*rest == ' ' || *rest == 'T') {
	    n = 0;
	    if ((sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) != 3 || rest[1 + n])
		&& (n = 0, sec = 0, sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &n) != 2
		    || rest[1 + n]))
		return -1;
	} else if (*rest)
	    return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
	    return -1;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	return (*when = local_time(&tm, h, mi, sec)) == -1 ? -1 : 0;
    }
    n = 0;
    if ((sscanf(s, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) == 3 && s[n] == 0)
	|| (n = 0, sec = 0, sscanf(s, "%2d:%2d%n", &h, &mi, &n) == 2 && s[n] == 0))
	return (*when = local_time(&tm, h, mi, sec)) == -1 ? -1 : 0;
    return -1;
}

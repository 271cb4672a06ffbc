/* clock_test - clock_parse_when() against journalctl's forms, in UTC */
#define _GNU_SOURCE
#include "util/clock.h"
#include "unit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

int main(void)
{
    /* 2026-11-22 15:04:05 UTC, a Sunday */
    const int64_t now = 1795359845;
    static const struct {
	const char *in;
	int64_t want;			/* -1: refused */
    } cases[] = {
	{"now", 1795359845},
	{"today", 1795305600},
	{"yesterday", 1795305600 - 86400},
	{"tomorrow", 1795305600 + 86400},
	{"@1700000000", 1700000000},
	{"2026-11-22", 1795305600},
	{"2026-11-22 06:30", 1795305600 + 6 * 3600 + 30 * 60},
	{"2026-11-22 06:30:15", 1795305600 + 6 * 3600 + 30 * 60 + 15},
	{"2026-11-22T06:30:15", 1795305600 + 6 * 3600 + 30 * 60 + 15},
	{"06:30", 1795305600 + 6 * 3600 + 30 * 60},
	{"23:59:59", 1795305600 + 86399},
	{"-1h", 1795359845 - 3600},
	{"-90", 1795359845 - 90},
	{"-30min", 1795359845 - 1800},
	{"+2d", 1795359845 + 2 * 86400},
	{"2 days ago", 1795359845 - 2 * 86400},
	{"5min ago", 1795359845 - 300},
	{"1w", -1},			/* relative needs a sign or "ago" */
	{"", -1},
	{"never", -1},
	{"@", -1},
	{"@12x", -1},
	{"-1 fortnight", -1},
	{"2026-13-01", -1},
	{"2026-11-22 25:00", -1},
	{"2026-11-22 06:30:00x", -1},
	{"2026-11-22x", -1},
	{"06:61", -1},
	{"6", -1},
    };

    if (setenv("TZ", "UTC", 1) != 0)
	return 2;
    tzset();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	int64_t got = -1;
	int     rc = clock_parse_when(cases[i].in, now, &got);

	if (cases[i].want < 0)
	    EXPECT(rc < 0, "\"%s\" is refused", cases[i].in);
	else
	    EXPECT(rc == 0 && got == cases[i].want, "\"%s\": %" PRId64 ", want %" PRId64,
		   cases[i].in, got, cases[i].want);
    }
    /* Local time: the same wall-clock time is an hour earlier in UTC+1. */
    int64_t utc = 0, cet = 0;

    clock_parse_when("2026-11-22 06:30", now, &utc);
    setenv("TZ", "CET-1", 1);
    tzset();
    EXPECT(clock_parse_when("2026-11-22 06:30", now, &cet) == 0 && utc - cet == 3600,
	   "local time: %" PRId64, utc - cet);
    return unit_done("clock");
}

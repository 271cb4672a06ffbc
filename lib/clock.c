/*
 * NAME
 *	clock - the monotonic clock in milliseconds
 * DESCRIPTION
 *	monotonic_ms() reads CLOCK_MONOTONIC: timeouts and the lengths of
 *	waits and lock holds are measured on it.  clock_seconds() spells a
 *	duration for a log line.
 */
#define _GNU_SOURCE
#include "clock.h"

#include <inttypes.h>
#include <stdio.h>
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


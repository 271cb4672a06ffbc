#ifndef TARPIT_CLOCK_H
#define TARPIT_CLOCK_H

/* clock - time for timeouts and durations: the monotonic clock, which
 * never jumps when the wall clock is set.  Records keep Unix seconds
 * (time(2)); this is for everything measured in milliseconds. */

#include <stddef.h>
#include <stdint.h>

int64_t monotonic_ms(void);
const char *clock_seconds(int64_t ms, char *buf, size_t len);
int     clock_parse_when(const char *, int64_t now, int64_t *when);

#endif

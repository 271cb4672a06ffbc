#ifndef TARPIT_TIMEDLOCK_H
#define TARPIT_TIMEDLOCK_H

/* timedlock - flock(2) that waits at most so long, leaving the process's
 * timers and signal handlers as it found them */

int     timedlock(int fd, int op, int timeout_ms);

#endif

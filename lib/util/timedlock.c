/*
 * NAME
 *	timedlock - flock(2) with a timeout
 * DESCRIPTION
 *	timedlock() takes op (LOCK_SH or LOCK_EX) on fd, waiting at most
 *	timeout_ms.  A free lock costs one flock(LOCK_NB).  Otherwise the
 *	calling thread waits in a blocking flock(), so that waiters queue in
 *	the kernel and the one woken is the one that goes on, and a timer
 *	of its own interrupts the wait: a POSIX timer (timer_create) on the
 *	monotonic clock that signals this thread alone with TIMEDLOCK_SIGNAL,
 *	a real-time signal, handled for the length of the wait and unblocked
 *	for it.  The process's interval timers (setitimer, alarm), SIGALRM
 *	and every handler and mask are left as they were found.  Another
 *	signal that interrupts the wait before the deadline does not end it;
 *	and since such a signal may come just before the timer, whose signal
 *	would then be spent between the look at the clock and the next
 *	flock(), the timer goes on firing every TIMEDLOCK_REPEAT_MS after
 *	the deadline until the wait has ended.
 *
 *	Why a signal at all: a blocking flock() returns only when the lock
 *	comes or a signal arrives.  Waiting without one was measured: polling
 *	with LOCK_NB made 16 writers a fifth slower and let 400 starve each
 *	other; a thread that waits in the kernel and hands the lock over
 *	made them a fifth slower too (the lock is held while the caller is
 *	being woken).
 * DIAGNOSTICS
 *	-1 with errno: ETIMEDOUT when the lock was not granted in time, else
 *	what flock(), sigaction() or timer_create() said.
 */
#define _GNU_SOURCE
#include "util/timedlock.h"
#include "util/clock.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define TIMEDLOCK_SIGNAL (SIGRTMIN + 7)
#define TIMEDLOCK_REPEAT_MS 10

/* interrupted - the handler: its only work is to make flock() return */
static void interrupted(int sig)
{
    (void) sig;
}

/* timedlock - op on fd within timeout_ms; 0, or -1 with errno */
int     timedlock(int fd, int op, int timeout_ms)
{
    struct sigaction sa, old_sa;
    struct sigevent ev;
    struct itimerspec its;
    sigset_t mask, old_mask;
    timer_t timer;
    int64_t deadline;
    int     rc, err;

    if (flock(fd, op | LOCK_NB) == 0)
	return 0;
    if (errno != EWOULDBLOCK)
	return -1;
    if (timeout_ms <= 0)
	return errno = ETIMEDOUT, -1;
    deadline = monotonic_ms() + timeout_ms;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = interrupted;	/* no SA_RESTART: flock gets EINTR */
    sigemptyset(&sa.sa_mask);
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = TIMEDLOCK_SIGNAL;
    ev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = timeout_ms / 1000;
    its.it_value.tv_nsec = (long) (timeout_ms % 1000) * 1000000L;
    its.it_interval.tv_nsec = TIMEDLOCK_REPEAT_MS * 1000000L;
    if (sigaction(TIMEDLOCK_SIGNAL, &sa, &old_sa) < 0)
	return -1;
    sigemptyset(&mask);
    sigaddset(&mask, TIMEDLOCK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &mask, &old_mask);
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) < 0) {
	err = errno;
	rc = -1;
    } else {
	if (timer_settime(timer, 0, &its, 0) < 0) {
	    err = errno;
	    rc = -1;
	} else {
	    while ((rc = flock(fd, op)) < 0 && errno == EINTR
		   && monotonic_ms() < deadline)
		continue;			/* another signal: wait on */
	    err = rc < 0 && errno == EINTR ? ETIMEDOUT : errno;
	}
	timer_delete(timer);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, 0);
    sigaction(TIMEDLOCK_SIGNAL, &old_sa, 0);
    if (rc < 0)
	errno = err;
    return rc;
}

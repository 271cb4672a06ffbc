/*
 * timedlock_test - flock() with a timeout: a free lock at once, a held one
 * refused by the deadline, another signal during the wait not ending it,
 * and the timer's signal spent just before the next flock() (another
 * signal came first) not leaving the wait blocked for good.
 *
 * This file defines flock(): timedlock.o's calls come here, so that a
 * test can interrupt a wait as a signal would, at a chosen moment.  The
 * real one is the system call.
 */
#define _GNU_SOURCE
#include "util/timedlock.h"
#include "util/clock.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the next blocking flock() does before the real one. */
static enum { PLAIN, INTERRUPT, LATE } next_wait = PLAIN;
static int late_ms;

int     flock(int fd, int op)
{
    if (!(op & LOCK_NB) && next_wait == INTERRUPT) {
	next_wait = LATE;		/* "another signal" ends this call ... */
	errno = EINTR;
	return -1;
    }
    if (!(op & LOCK_NB) && next_wait == LATE) {
	/* ... and the loop's next flock() starts after the deadline: the
	 * timer's signal came while it was not waiting. */
	struct timespec ts = {0, late_ms * 1000000L};

	next_wait = PLAIN;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
	    ;
    }
    return (int) syscall(SYS_flock, fd, op);
}

/* holder - a child holding the lock on path until killed; its pid */
static pid_t holder(const char *path)
{
    int     p[2];
    char    c;
    pid_t   pid;

    SETUP(pipe(p) == 0, "pipe");
    SETUP((pid = fork()) >= 0, "fork");
    if (pid == 0) {
	int     fd = open(path, O_RDWR);

	if (fd < 0 || syscall(SYS_flock, fd, LOCK_EX) < 0)
	    _exit(1);
	if (write(p[1], "x", 1) != 1)
	    _exit(1);
	pause();
	_exit(0);
    }
    close(p[1]);
    SETUP(read(p[0], &c, 1) == 1, "the holder has the lock");
    close(p[0]);
    return pid;
}

/* timed - timedlock() in a child that must be done within limit_ms (or
 * SIGALRM ends it): its errno, 0 for the lock, or -1 when it hung */
static int timed(const char *path, int timeout_ms, int limit_ms, int how, int64_t *took)
{
    int     status;
    int64_t t0 = monotonic_ms();
    pid_t   pid = fork();

    SETUP(pid >= 0, "fork");
    if (pid == 0) {
	int     fd = open(path, O_RDWR);

	next_wait = how;
	alarm((unsigned) (limit_ms + 999) / 1000);
	_exit(fd < 0 ? 100 : timedlock(fd, LOCK_EX, timeout_ms) == 0 ? 0 : errno);
    }
    SETUP(waitpid(pid, &status, 0) == pid, "waitpid");
    *took = monotonic_ms() - t0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void on_usr1(int sig)
{
    (void) sig;
}

int main(void)
{
    char    dir[] = "/tmp/timedlock_test.XXXXXX", path[64];
    int64_t took;
    pid_t   h;
    int     fd, status;

    SETUP(mkdtemp(dir) != 0, "mkdtemp");
    snprintf(path, sizeof(path), "%s/lock", dir);
    SETUP((fd = open(path, O_RDWR | O_CREAT, 0600)) >= 0, "open");
    close(fd);

    EXPECT(timed(path, 100, 2000, PLAIN, &took) == 0, "a free lock is taken");
    h = holder(path);
    EXPECT(timed(path, 100, 5000, PLAIN, &took) == ETIMEDOUT && took >= 100,
	   "a held lock: ETIMEDOUT after its 100 ms (%lld ms)", (long long) took);
    EXPECT(timed(path, 0, 2000, PLAIN, &took) == ETIMEDOUT, "a timeout of 0: at once");
    EXPECT(timed(path, 100, 5000, INTERRUPT, &took) == ETIMEDOUT && took >= 100,
	   "another signal during the wait does not end it early (%lld ms)",
	   (long long) took);
    late_ms = 150;
    EXPECT(timed(path, 50, 5000, INTERRUPT, &took) == ETIMEDOUT,
	   "the timer's signal spent before the next flock(): still ends "
	   "(got %s after %lld ms)", took >= 4000 ? "a hang" : "an answer", (long long) took);

    /* A real signal during the wait, with a handler that does not
     * restart: the wait goes on, and the lock comes when it is free. */
    signal(SIGUSR1, on_usr1);
    {
	pid_t   w = fork();

	SETUP(w >= 0, "fork");
	if (w == 0) {
	    struct sigaction sa = {.sa_handler = on_usr1};
	    int     wfd = open(path, O_RDWR);

	    sigaction(SIGUSR1, &sa, 0);
	    alarm(10);
	    _exit(wfd >= 0 && timedlock(wfd, LOCK_EX, 5000) == 0 ? 0 : 1);
	}
	usleep(100 * 1000);
	kill(w, SIGUSR1);
	usleep(100 * 1000);
	kill(h, SIGKILL);
	waitpid(h, &status, 0);
	EXPECT(waitpid(w, &status, 0) == w && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "a signal mid-wait, then the holder gone: the lock is taken");
    }
    unlink(path);
    rmdir(dir);
    return unit_done("timedlock");
}

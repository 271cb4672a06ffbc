/* listen_test - systemd's LISTEN_PID/LISTEN_FDS, read without libsystemd */
#define _GNU_SOURCE
#include "util/listen.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *pid;			/* "self": our pid; 0: unset */
    const char *fds;			/* 0: unset */
    int     want;
    int     err;			/* errno with -1 */
} cases[] = {
    {0, 0, 0, 0},			/* plain start: stdin/stdout */
    {0, "1", 0, 0},			/* no LISTEN_PID: not for us */
    {"1", "1", 0, 0},			/* for another process */
    {"self", "1", 1, 0},
    {"self", "0", 0, 0},
    {"self", 0, 0, 0},			/* for us, but no count: none */
    {"self", "x", -1, EINVAL},
    {"self", "1x", -1, EINVAL},
    {"self", "-1", -1, EINVAL},
    {"self", "", -1, EINVAL},
    {"12x", "1", -1, EINVAL},		/* garbage pid */
    {"self", "2", -1, EBADF},		/* fd 4 is not open */
};

static void set(const char *name, const char *value)
{
    char    pid[32];

    if (value == 0) {
	unsetenv(name);
	return;
    }
    if (strcmp(value, "self") == 0) {
	snprintf(pid, sizeof(pid), "%ld", (long) getpid());
	value = pid;
    }
    setenv(name, value, 1);
}

int main(void)
{
    /* fd 3 is a real descriptor, without close-on-exec; fd 4 is closed. */
    if (dup2(STDERR_FILENO, 3) != 3)
	return 2;
    (void) close(4);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	int     got;

	(void) fcntl(3, F_SETFD, 0);
	set("LISTEN_PID", cases[i].pid);
	set("LISTEN_FDS", cases[i].fds);
	setenv("LISTEN_FDNAMES", "connection", 1);
	errno = 0;			/* so that what it sets is its own */
	got = listen_fds();
	EXPECT(got == cases[i].want, "case %zu (%s, %s): got %d, want %d", i,
	       cases[i].pid ? cases[i].pid : "unset",
	       cases[i].fds ? cases[i].fds : "unset", got, cases[i].want);
	EXPECT(getenv("LISTEN_PID") == 0 && getenv("LISTEN_FDS") == 0
	       && getenv("LISTEN_FDNAMES") == 0, "case %zu: variables left", i);
	if (cases[i].want == 1)
	    EXPECT(fcntl(3, F_GETFD) & FD_CLOEXEC, "case %zu: fd 3 not close-on-exec", i);
	if (cases[i].want == -1)
	    EXPECT(errno == cases[i].err, "case %zu: errno %d, want %d", i, errno,
		   cases[i].err);
    }
    return unit_done("listen_test");
}

/*
 * NAME
 *	listen - the sockets systemd passed us (LISTEN_PID, LISTEN_FDS)
 * DESCRIPTION
 *	listen_fds() reads systemd's socket-passing protocol, as
 *	sd_listen_fds(3) documents it: when LISTEN_PID is our process id,
 *	LISTEN_FDS descriptors start at fd 3.  They are marked close-on-exec
 *	and both variables (and LISTEN_FDNAMES) are removed, so nothing we
 *	might start inherits them.
 *
 *	Why not libsystemd's sd_listen_fds(): linking libsystemd pulls in
 *	its own dependencies and their relocations, about 80 KiB of private
 *	memory in every helper, and a host runs a thousand helpers at once
 *	while they wait.  This is the only call we used.
 * DIAGNOSTICS
 *	The number of descriptors passed (0 when none are ours), or -1 with
 *	errno set when the variables are malformed or a descriptor is bad.
 */
#define _GNU_SOURCE
#include "util/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

/* env_number - the decimal value of an environment variable, or -1 */
static long env_number(const char *name)
{
    const char *s = getenv(name);
    char   *end;
    long    v;

    if (s == 0)
	return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != 0 || v < 0 || v > INT_MAX - LISTEN_FDS_START)
	return -2;
    return v;
}

/* listen_fds - the number of passed descriptors, 0 when none, -1 error */
int listen_fds(void)
{
    long    pid = env_number("LISTEN_PID");
    long    n = env_number("LISTEN_FDS");
    int     result = 0;

    int     saved;

    if (pid == -1 || (pid >= 0 && pid != (long) getpid()) || n == -1)
	goto done;				/* not for us, or none */
    if (pid < 0 || n < 0) {
	errno = EINVAL;
	result = -1;
	goto done;
    }
    for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++) {
	int     flags = fcntl(fd, F_GETFD);

	if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
	    result = -1;
	    goto done;
	}
    }
    result = (int) n;
done:
    saved = errno;
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    errno = saved;
    return result;
}

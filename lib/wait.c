/*
 * NAME
 *	wait - sleep for the tarpit, ending early when the waiter is gone
 * DESCRIPTION
 *	wait_watched() sleeps up to ms milliseconds in poll(2) on the policy
 *	connection.  When smtpd closes that connection (it gave up, timed out
 *	or exited), POLLRDHUP or POLLHUP ends the wait at once: nobody is left
 *	to answer.  No lock is held and no database is open while waiting.
 *
 *	Bytes from smtpd during a wait break the protocol (it sends the next
 *	request only after our reply); they are left unread for the next
 *	policy_read(), and from then on only a hang-up ends the wait early.
 */
#define _GNU_SOURCE
#include "wait.h"
#include "policy.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

/* peer_closed - is the readable descriptor at end of input? */
static int peer_closed(int fd)
{
    char    c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

    if (n == 0)
	return 1;
    if (n < 0 && errno == ENOTSOCK) {
	/* A pipe (inetd-style tests): readable means data or EOF; we cannot
	 * peek, so trust POLLHUP alone. */
	return 0;
    }
    if (n < 0 && (errno == ECONNRESET || errno == EPIPE))
	return 1;
    return 0;
}

/* wait_watched - sleep ms, or less when the policy peer goes away */
enum wait_result wait_watched(int policy_fd, int64_t ms, int64_t *waited_ms)
{
    int64_t start = monotonic_ms();
    int64_t deadline = start + ms;
    short   events = POLLIN | POLLRDHUP;

    for (;;) {
	int64_t now = monotonic_ms();
	int64_t left = deadline - now;

	if (left <= 0) {
	    *waited_ms = now - start;
	    return WAIT_DONE;
	}
	struct pollfd pfd = {.fd = policy_fd,.events = events};
	int     n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int) left);

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    /* Cannot watch: finish the wait blind rather than fail. */
	    events = 0;
	    continue;
	}
	if (n == 0)
	    continue;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
	    *waited_ms = monotonic_ms() - start;
	    return WAIT_POLICY_GONE;
	}
	if (pfd.revents & POLLIN) {
	    if (peer_closed(policy_fd)) {
		*waited_ms = monotonic_ms() - start;
		return WAIT_POLICY_GONE;
	    }
	    events = POLLRDHUP;		/* unexpected data: leave it be */
	}
    }
}

/*
 * NAME
 *	wait - sleep for the tarpit, ending early when the waiter is gone
 * DESCRIPTION
 *	wait_watched() sleeps up to ms milliseconds in poll(2) on the policy
 *	connection, which ends the wait at once when smtpd closes it
 *	(POLLRDHUP/POLLHUP: smtpd gave up, timed out or exited; nobody is left
 *	to answer).
 *
 *	With a client_watch it also looks at smtpd's connection to the SMTP
 *	client every WAIT_WATCH_INTERVAL_MS: a client that hung up ends the
 *	wait (WAIT_CLIENT_GONE), and one that sends bytes during the wait is
 *	an early talker: the wait ends (WAIT_EARLY_TALKER) when stop_on_talk,
 *	and is only noted otherwise.  When the watch fails the wait goes on
 *	unwatched.
 *
 *	No lock is held and no database is open while waiting.  Bytes from
 *	smtpd itself during a wait break the protocol (it sends the next
 *	request only after our reply); they are left for the next
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
    if (n < 0 && (errno == ECONNRESET || errno == EPIPE))
	return 1;
    return 0;				/* data, or a pipe: trust POLLHUP */
}

/* wait_watched - sleep ms, or less when a peer goes away */
void wait_watched(int policy_fd, int64_t ms, struct client_watch *w,
		          int stop_on_talk, struct wait_outcome *out)
{
    int64_t start = monotonic_ms();
    int64_t deadline = start + ms;
    int64_t next_look = start + WAIT_WATCH_INTERVAL_MS;
    short   events = POLLIN | POLLRDHUP;

    out->talked = 0;
    out->result = WAIT_DONE;
    for (;;) {
	int64_t now = monotonic_ms();
	int64_t left = deadline - now;

	if (w && now >= next_look) {
	    switch (watch_poll(w)) {
	    case WATCH_THERE:
		break;
	    case WATCH_GONE:
		out->result = WAIT_CLIENT_GONE;
		out->waited_ms = now - start;
		return;
	    case WATCH_TALKED:
		out->talked = 1;
		if (stop_on_talk) {
		    out->result = WAIT_EARLY_TALKER;
		    out->waited_ms = now - start;
		    return;
		}
		w = 0;			/* noted; the rest of the wait is plain */
		break;
	    case WATCH_ERROR:
		w = 0;
		break;
	    }
	    next_look = now + WAIT_WATCH_INTERVAL_MS;
	}
	if (left <= 0) {
	    out->waited_ms = now - start;
	    return;
	}
	if (w && next_look - now < left)
	    left = next_look - now;

	struct pollfd pfd = {.fd = policy_fd,.events = events};
	int     n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int) left);

	if (n < 0) {
	    if (errno != EINTR)
		events = 0;		/* cannot watch: finish the wait blind */
	    continue;
	}
	if (n == 0)
	    continue;
	if (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) {
	    out->result = WAIT_POLICY_GONE;
	    out->waited_ms = monotonic_ms() - start;
	    return;
	}
	if (pfd.revents & POLLIN) {
	    if (peer_closed(policy_fd)) {
		out->result = WAIT_POLICY_GONE;
		out->waited_ms = monotonic_ms() - start;
		return;
	    }
	    events = POLLRDHUP;		/* unexpected data: leave it be */
	}
    }
}

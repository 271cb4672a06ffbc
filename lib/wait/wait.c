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
 *	wait (WAIT_CLIENT_GONE), and one that sends more than one short line
 *	during the wait is an early talker: the wait ends (WAIT_EARLY_TALKER)
 *	when stop_on_talk, and is only noted otherwise.  One short line
 *	alone (QUIT CRLF: a client that gave up says goodbye, and may wait
 *	for the answer before it closes) is a goodbye: a hang-up, with
 *	goodbye set, once the client closes or WAIT_GOODBYE_MS passed
 *	without more bytes (GOODBYE_STAYED: it may still read the answer).  The
 *	same line might be DATA from a talker; the caller's answer to a
 *	goodbye still connected keeps that one out too.  When the watch fails
 *	the wait goes on unwatched.
 *
 *	No lock is held and no database is open while waiting.  Bytes from
 *	smtpd itself during a wait break the protocol (it sends the next
 *	request only after our reply); they are left for the next
 *	policy_read(), and from then on only a hang-up ends the wait early.
 */
#define _GNU_SOURCE
#include "wait/wait.h"
#include "util/clock.h"
#include "proto/policy.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/prctl.h>
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

/* next_tick - the next multiple of WAIT_WATCH_INTERVAL_MS on the monotonic
 * clock: every waiting helper on the host looks at the same moments, so
 * their wake-ups fall together into the same timer interrupts */
static int64_t next_tick(int64_t now)
{
    return (now / WAIT_WATCH_INTERVAL_MS + 1) * WAIT_WATCH_INTERVAL_MS;
}

/* end - the wait is over */
static void end(struct wait_outcome *out, enum wait_result result, int64_t start,
		        int64_t now)
{
    out->result = result;
    out->waited_ms = now - start;
}

/* wait_loop - the wait itself */
static void wait_loop(int policy_fd, int64_t start, int64_t deadline,
		              struct client_watch *w, int stop_on_talk,
		              struct wait_outcome *out)
{
    int64_t next_look = next_tick(start);
    int64_t line_at = -1;		/* when one short line was seen */
    short   events = POLLIN | POLLRDHUP;

    for (;;) {
	int64_t now = monotonic_ms();
	int64_t left = deadline - now;

	if (w && now >= next_look) {
	    switch (watch_poll(w)) {
	    case WATCH_THERE:
		break;
	    case WATCH_GONE:
		out->goodbye = line_at >= 0 ? GOODBYE_SAID : GOODBYE_NONE;
		end(out, WAIT_CLIENT_GONE, start, now);
		return;
	    case WATCH_LINE:
		if (line_at < 0)
		    line_at = now;
		else if (now - line_at >= WAIT_GOODBYE_MS) {
		    out->goodbye = GOODBYE_STAYED;
		    end(out, WAIT_CLIENT_GONE, start, now);
		    return;
		}
		break;
	    case WATCH_TALKED:
		out->talked = 1;
		if (stop_on_talk) {
		    end(out, WAIT_EARLY_TALKER, start, now);
		    return;
		}
		w = 0;			/* noted; the rest of the wait is plain */
		line_at = -1;
		break;
	    case WATCH_ERROR:
		w = 0;
		break;
	    }
	    next_look = next_tick(now);
	}
	if (left <= 0) {
	    if (line_at >= 0) {		/* a goodbye to the end */
		out->goodbye = GOODBYE_STAYED;
		end(out, WAIT_CLIENT_GONE, start, now);
		return;
	    }
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
	    end(out, WAIT_POLICY_GONE, start, monotonic_ms());
	    return;
	}
	if (pfd.revents & POLLIN) {
	    if (peer_closed(policy_fd)) {
		end(out, WAIT_POLICY_GONE, start, monotonic_ms());
		return;
	    }
	    events = POLLRDHUP;		/* unexpected data: leave it be */
	}
    }
}

/* wait_for_client - the tarpit's wait for one request: watching its SMTP
 * connection when watch is set and the connection can be found on this
 * host; 0 watched, -1 waited unwatched (why says why, when watch was set) */
int wait_for_client(int policy_fd, int64_t ms, const struct request *rq,
		            int watch, int stop_on_talk, struct wait_outcome *out,
		            char *why, size_t whylen)
{
    struct client_watch w;
    int     watching = watch && watch_start(&w, &rq->client, rq->client_port,
					    &rq->server, rq->server_port,
					    why, whylen) == 0;

    if (!watch)
	snprintf(why, whylen, "watch_client = no");
    wait_watched(policy_fd, ms, watching ? &w : 0, stop_on_talk, out);
    if (watching)
	watch_stop(&w);
    return watching ? 0 : -1;
}

/* wait_watched - sleep ms, or less when a peer goes away */
void wait_watched(int policy_fd, int64_t ms, struct client_watch *w,
		          int stop_on_talk, struct wait_outcome *out)
{
    int64_t start = monotonic_ms();
    int64_t deadline = start + ms;

    out->talked = 0;
    out->goodbye = GOODBYE_NONE;
    out->result = WAIT_DONE;
    /* A waiting helper wakes twice a second; let the kernel move each
     * wake-up by up to WAIT_TIMER_SLACK_MS so that those of many helpers
     * share timer interrupts.  Back to the default when the wait ends. */
    (void) prctl(PR_SET_TIMERSLACK, WAIT_TIMER_SLACK_MS * 1000000UL, 0, 0, 0);
    wait_loop(policy_fd, start, deadline, w, stop_on_talk, out);
    (void) prctl(PR_SET_TIMERSLACK, 0UL, 0, 0, 0);
}

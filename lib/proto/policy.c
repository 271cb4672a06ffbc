/*
 * NAME
 *	policy - read Postfix policy requests, write replies
 * DESCRIPTION
 *	policy_read() frames one request: "name=value" lines up to a blank
 *	line.  Lines may end in LF or CRLF.  The request is parsed in place in
 *	the connection's buffer and stays valid until the next call.
 *
 *	A request that can be framed but not used (a line without '=', an
 *	empty name, a NUL byte, more than POLICY_MAX_ATTRS attributes) is
 *	returned with ->bad set: the caller answers it, which keeps the
 *	connection in step with Postfix.  A request that cannot be framed
 *	(more than POLICY_MAX_REQUEST bytes without a blank line), one cut
 *	short by end of input, or one not complete within the time limit,
 *	is reported as such: the caller closes the connection.
 *
 *	policy_reply() writes "action=TEXT" and a blank line within a time
 *	limit, so a peer that never reads cannot hold us.
 */
#define _GNU_SOURCE
#include "proto/policy.h"
#include "util/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* How in_fd is read.  A request costs a system call or two of its
 * handful, so the read that waits is the one that reads: on a blocking
 * socket the kernel's own timeout (SO_RCVTIMEO) bounds it, where a poll()
 * before each read() was one call more. */
enum {
    IN_NEW,				/* nothing read yet */
    IN_TIMED,				/* a blocking read under SO_RCVTIMEO */
    IN_POLL,				/* a pipe, a file, a non-blocking socket */
};

/* The kernel's timeout is set again only when it is this far from the
 * time left: a wait may end up to this much after its deadline. */
#define RCV_SLACK_MS 1000

/* LOOK_AGAIN - fill() read nothing, for no fault: the loop looks again */
#define LOOK_AGAIN (-2)

/* policy_init - a connection on these descriptors */
void policy_init(struct policy_conn *c, int in_fd, int out_fd)
{
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->start = c->end = 0;
    c->not_socket = 0;
    c->in_mode = IN_NEW;
    c->rcv_timeout_ms = 0;
}

/* scan - record the attributes of the complete lines in buf[*from..len)
 * in q, leaving the buffer as it is: the offset just past the blank line
 * that ends the request, or 0 with *from at the partial line.  One pass:
 * each line is looked at once, however the request arrives. */
static size_t scan(const char *buf, size_t *from, size_t len, struct policy_req *q)
{
    const char *line = buf + *from, *end = buf + len, *nl;

    while ((nl = memchr(line, '\n', (size_t) (end - line))) != 0) {
	size_t  n = (size_t) (nl - line);
	const char *eq;

	if (n > 0 && nl[-1] == '\r')
	    n--;
	if (n == 0)			/* the blank line */
	    return (size_t) (nl + 1 - buf);
	if (q->bad == 0) {
	    if ((eq = memchr(line, '=', n)) == 0)
		q->bad = "line without '='";
	    else if (eq == line)
		q->bad = "attribute with an empty name";
	    else if (q->nattr >= POLICY_MAX_ATTRS)
		q->bad = "too many attributes";
	    else {
		q->attr[q->nattr].name = line;
		q->attr[q->nattr].value = eq + 1;
		q->nattr++;
	    }
	}
	line = nl + 1;
    }
    *from = (size_t) (line - buf);
    return 0;
}

/* terminate - end the recorded names and values of the request in
 * buf[0..len) with NULs, in place.  The attributes are consecutive lines
 * (recording stops at the first bad one), so each value ends where the
 * next name begins; only the last one's end is looked for. */
static void terminate(char *buf, size_t len, struct policy_req *q)
{
    if (memchr(buf, 0, len) != 0) {
	q->bad = "NUL byte in request";
	q->nattr = 0;
	return;
    }
    for (size_t i = 0; i < q->nattr; i++) {
	char   *eq = buf + (q->attr[i].value - buf) - 1;
	char   *nl = i + 1 < q->nattr ? buf + (q->attr[i + 1].name - buf) - 1
	    : memchr(eq, '\n', len - (size_t) (eq - buf));

	*eq = 0;
	if (nl[-1] == '\r')
	    nl--;
	*nl = 0;
    }
    if (q->bad == 0 && q->nattr == 0)
	q->bad = "empty request";
}

/* fill - one read into the buffer, waiting at most about left ms: what
 * read() returned (-1 with errno), or LOOK_AGAIN */
static ssize_t fill(struct policy_conn *c, int64_t left)
{
    char   *at = c->buf + c->end;
    size_t  room = POLICY_MAX_REQUEST - c->end;
    ssize_t got;

    if (c->in_mode == IN_NEW) {
	/* Postfix writes its first request as it connects, before the
	 * helper has started: it is there to be taken, without a wait. */
	if ((got = recv(c->in_fd, at, room, MSG_DONTWAIT)) >= 0) {
	    c->in_mode = IN_TIMED;
	    return got;
	}
	if (errno == EINTR)
	    return LOOK_AGAIN;
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTSOCK)
	    return -1;
	c->in_mode = errno == ENOTSOCK ? IN_POLL : IN_TIMED;
    }
    if (c->in_mode == IN_TIMED) {
	if (c->rcv_timeout_ms == 0 || c->rcv_timeout_ms > left + RCV_SLACK_MS
	    || c->rcv_timeout_ms < left - RCV_SLACK_MS) {
	    struct timeval tv = {.tv_sec = (time_t) (left / 1000),
	    .tv_usec = (suseconds_t) (left % 1000 * 1000)};

	    if (setsockopt(c->in_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0)
		c->rcv_timeout_ms = left;
	    else
		c->in_mode = IN_POLL;
	}
    }
    if (c->in_mode == IN_TIMED) {
	int64_t began = monotonic_ms();

	if ((got = read(c->in_fd, at, room)) >= 0)
	    return got;
	if (errno == EINTR)
	    return LOOK_AGAIN;
	if (errno != EAGAIN && errno != EWOULDBLOCK)
	    return -1;
	/* The timeout, or a socket that does not block at all: the
	 * latter is polled from now on. */
	if (c->rcv_timeout_ms >= 100 && monotonic_ms() - began < c->rcv_timeout_ms / 2)
	    c->in_mode = IN_POLL;
	else
	    return LOOK_AGAIN;
    }

    struct pollfd pfd = {.fd = c->in_fd,.events = POLLIN};
    int     n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int) left);

    if (n < 0)
	return errno == EINTR ? LOOK_AGAIN : -1;
    if (n == 0)
	return LOOK_AGAIN;
    if ((got = read(c->in_fd, at, room)) < 0 && (errno == EINTR || errno == EAGAIN))
	return LOOK_AGAIN;
    return got;
}

/* policy_read - the next request, within timeout_ms */
enum policy_status policy_read(struct policy_conn *c, struct policy_req *q,
			               int64_t timeout_ms)
{
    int64_t deadline = monotonic_ms() + timeout_ms;
    size_t  scanned = 0;
    size_t  end;

    q->nattr = 0;
    q->bad = 0;

    /* Compact: the previous request is no longer referenced. */
    if (c->start > 0) {
	memmove(c->buf, c->buf + c->start, c->end - c->start);
	c->end -= c->start;
	c->start = 0;
    }
    for (;;) {
	if ((end = scan(c->buf, &scanned, c->end, q)) != 0) {
	    terminate(c->buf, end, q);
	    c->start = end;
	    return POLICY_OK;
	}
	if (c->end >= POLICY_MAX_REQUEST)
	    return POLICY_TOO_BIG;

	int64_t left = deadline - monotonic_ms();

	if (left <= 0)
	    return POLICY_TIMEOUT;
	ssize_t got = fill(c, left);

	if (got == LOOK_AGAIN)
	    continue;			/* the deadline check decides */
	if (got < 0)
	    return errno == ECONNRESET ? (c->end ? POLICY_TRUNCATED : POLICY_EOF)
		: POLICY_IO_ERROR;
	if (got == 0)
	    return c->end ? POLICY_TRUNCATED : POLICY_EOF;
	c->end += (size_t) got;
    }
}

/* policy_get - an attribute's value, or 0 when absent */
const char *policy_get(const struct policy_req *q, const char *name)
{
    for (size_t i = 0; i < q->nattr; i++)
	if (q->attr[i].name[0] == name[0] && strcmp(q->attr[i].name, name) == 0)
	    return q->attr[i].value;
    return 0;
}

/* policy_reply - "action=TEXT\n\n", all of it, within timeout_ms */
int policy_reply(struct policy_conn *c, const char *action, int64_t timeout_ms)
{
    char    out[1024];
    int64_t deadline = monotonic_ms() + timeout_ms;
    size_t  alen = strlen(action), len = alen + sizeof("action=\n\n") - 1;
    size_t  done = 0;

    if (len >= sizeof(out))
	return -1;
    memcpy(out, "action=", 7);
    memcpy(out + 7, action, alen);
    memcpy(out + 7 + alen, "\n\n", 2);
    /* A socket almost always has room: try at once, without a poll(). */
    if (!c->not_socket) {
	ssize_t put = send(c->out_fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (put >= 0)
	    done = (size_t) put;
	else if (errno == ENOTSOCK)
	    c->not_socket = 1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
	    return -1;
    }
    while (done < len) {
	struct pollfd pfd = {.fd = c->out_fd,.events = POLLOUT};
	int64_t left = deadline - monotonic_ms();

	if (left <= 0)
	    return -1;
	int     n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int) left);

	if (n < 0 && errno != EINTR)
	    return -1;
	if (n <= 0)
	    continue;
	ssize_t put = write(c->out_fd, out + done, len - done);

	if (put < 0) {
	    if (errno == EINTR || errno == EAGAIN)
		continue;
	    return -1;
	}
	done += (size_t) put;
    }
    return 0;
}

/* policy_status_text - for log lines */
const char *policy_status_text(enum policy_status s)
{
    switch (s) {
    case POLICY_OK:
	return "ok";
    case POLICY_EOF:
	return "end of input";
    case POLICY_TRUNCATED:
	return "end of input inside a request";
    case POLICY_TIMEOUT:
	return "no complete request within idle_timeout";
    case POLICY_TOO_BIG:
	return "request larger than 32768 bytes";
    case POLICY_IO_ERROR:
	return "read error";
    }
    return "?";
}

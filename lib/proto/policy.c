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
#include <time.h>
#include <unistd.h>

/* policy_init - a connection on these descriptors */
void policy_init(struct policy_conn *c, int in_fd, int out_fd)
{
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->start = c->end = 0;
    c->not_socket = 0;
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
	struct pollfd pfd = {.fd = c->in_fd,.events = POLLIN};

	if (left <= 0)
	    return POLICY_TIMEOUT;
	int     n = poll(&pfd, 1, left > 1000000 ? 1000000 : (int) left);

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    return POLICY_IO_ERROR;
	}
	if (n == 0)
	    continue;			/* the deadline check decides */
	ssize_t got = read(c->in_fd, c->buf + c->end, POLICY_MAX_REQUEST - c->end);

	if (got < 0) {
	    if (errno == EINTR || errno == EAGAIN)
		continue;
	    return errno == ECONNRESET ? (c->end ? POLICY_TRUNCATED : POLICY_EOF)
		: POLICY_IO_ERROR;
	}
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

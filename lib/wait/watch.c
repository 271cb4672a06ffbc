/*
 * NAME
 *	watch - is the SMTP client still there?
 * DESCRIPTION
 *	A policy request names smtpd's connection to the SMTP client
 *	(client_address, client_port, server_address, server_port; Postfix
 *	3.2 and later).  On the same host, NETLINK_SOCK_DIAG answers an exact
 *	4-tuple lookup (SOCK_DIAG_BY_FAMILY without NLM_F_DUMP) with that
 *	socket's TCP state, receive queue and inode, in about a microsecond,
 *	without privileges.
 *
 *	watch_start() finds the socket and remembers its inode and receive
 *	queue.  watch_poll() looks again:
 *	  - CLOSE_WAIT or a later closing state: the client sent FIN;
 *	  - no socket, or a socket with another inode: smtpd's socket is gone,
 *	    or an RST removed it.  Careful: the kernel's lookup falls back to
 *	    the listening socket when the connection is gone, which is why the
 *	    inode, not just the answer, is compared;
 *	  - more bytes queued than at the start: the client talked during the
 *	    wait.  (At RCPT a legal pipelining client has sent its whole batch
 *	    before smtpd asked us; what smtpd already read into its own buffer
 *	    is out of sight.)  Up to WATCH_LINE_BYTES more is one short line
 *	    (WATCH_LINE), which may be a client's goodbye (QUIT) as well as
 *	    talk (DATA): the bytes themselves are in smtpd's socket, out of
 *	    reach, so the caller tells them apart by what follows.
 *
 *	The caller gives the connection's ends as addr.c parsed them (an
 *	IPv4-mapped address already as IPv4).  An IPv4 client of a
 *	dual-stack (AF_INET6) listener is looked up as its IPv4-mapped
 *	address too.
 * DIAGNOSTICS
 *	watch_start() returns -1 with a reason when the connection cannot be
 *	found (another host, XCLIENT, the proxy protocol, another network
 *	namespace, no netlink): the caller then waits without watching.
 */
#define _GNU_SOURCE
#include "wait/watch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_ESTABLISHED_ 1
#define TCP_LISTEN_ 10

struct lookup {
    int     found;
    uint8_t state;
    uint32_t rqueue, inode;
};

/* lookup - one exact SOCK_DIAG query; 0 with l filled in, or -1 */
static int lookup(struct client_watch *w, int family,
		          const unsigned char *local, const unsigned char *remote,
		          struct lookup *l)
{
    struct {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
    } msg;
    struct sockaddr_nl nladdr = {.nl_family = AF_NETLINK};
    /* An exact query without extensions is answered by one message of
     * some 100 bytes (or an error quoting the request): 512 bytes are
     * room enough (a longer reply is an error, never "no such socket"),
     * and this frame is the deepest a waiting helper's stack goes. */
    union {
	char    buf[512];
	struct nlmsghdr align;
    } reply;
    ssize_t n;
    int     alen = family == AF_INET ? 4 : 16;

    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST;
    msg.nlh.nlmsg_seq = 1;
    msg.req.sdiag_family = (uint8_t) family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0U;
    msg.req.id.idiag_sport = htons(w->local_port);
    msg.req.id.idiag_dport = htons(w->remote_port);
    memcpy(msg.req.id.idiag_src, local, (size_t) alen);
    memcpy(msg.req.id.idiag_dst, remote, (size_t) alen);
    msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

    l->found = 0;
    if (sendto(w->nl_fd, &msg, sizeof(msg), 0, (struct sockaddr *) &nladdr,
	       sizeof(nladdr)) < 0)
	return -1;
    /* The kernel answers inside sendto(): the reply is normally there
     * already, so ask for it at once and poll only when it is not. */
    while ((n = recv(w->nl_fd, reply.buf, sizeof(reply.buf), MSG_DONTWAIT | MSG_TRUNC)) < 0) {
	struct pollfd pfd = {.fd = w->nl_fd,.events = POLLIN};

	if (errno == EINTR)
	    continue;
	if ((errno != EAGAIN && errno != EWOULDBLOCK) || poll(&pfd, 1, 1000) <= 0)
	    return -1;
    }
    if (n > (ssize_t) sizeof(reply.buf)) {
	errno = EMSGSIZE;		/* MSG_TRUNC: the datagram's real length */
	return -1;
    }
    for (struct nlmsghdr *h = &reply.align; NLMSG_OK(h, (size_t) n);
	 h = NLMSG_NEXT(h, n)) {
	if (h->nlmsg_type == NLMSG_ERROR) {
	    struct nlmsgerr *e = NLMSG_DATA(h);

	    /* ENOENT: no such socket; that is an answer, not a failure. */
	    return e->error == -ENOENT ? 0 : -1;
	}
	if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
	    struct inet_diag_msg *m = NLMSG_DATA(h);

	    l->found = 1;
	    l->state = m->idiag_state;
	    l->rqueue = m->idiag_rqueue;
	    l->inode = m->idiag_inode;
	    return 0;
	}
	if (h->nlmsg_type == NLMSG_DONE)
	    return 0;
    }
    return 0;
}

/* look - the connection as smtpd's socket, in its family or mapped */
static int look(struct client_watch *w, struct lookup *l)
{
    return lookup(w, w->family, w->local, w->remote, l);
}

/* watch_start - find smtpd's socket; 0 watching, -1 (why) not possible */
int watch_start(struct client_watch *w, const struct tp_addr *client,
		        int client_port, const struct tp_addr *server,
		        int server_port, char *why, size_t whylen)
{
    struct lookup l;

    memset(w, 0, sizeof(*w));
    w->nl_fd = -1;
    if (client_port < 0 || server_port < 0 || client->family == 0
	|| client->family != server->family) {
	snprintf(why, whylen, "the request does not name the SMTP connection "
		 "(client/server address and port; Postfix 3.2 or later)");
	return -1;
    }
    memcpy(w->remote, client->bytes, sizeof(w->remote));
    memcpy(w->local, server->bytes, sizeof(w->local));
    w->family = client->family;
    w->local_port = (uint16_t) server_port;
    w->remote_port = (uint16_t) client_port;
    w->nl_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (w->nl_fd < 0) {
	snprintf(why, whylen, "no NETLINK_SOCK_DIAG socket: %s", strerror(errno));
	return -1;
    }
    if (look(w, &l) < 0) {
	snprintf(why, whylen, "SOCK_DIAG lookup failed: %s", strerror(errno));
	watch_stop(w);
	return -1;
    }
    if ((!l.found || l.state == TCP_LISTEN_) && w->family == AF_INET) {
	/* A dual-stack listener: the same connection as AF_INET6, mapped. */
	unsigned char ml[16], mr[16];
	struct lookup l6;

	addr_v4mapped(server, ml);
	addr_v4mapped(client, mr);
	if (lookup(w, AF_INET6, ml, mr, &l6) == 0 && l6.found
	    && l6.state != TCP_LISTEN_) {
	    w->family = AF_INET6;
	    memcpy(w->local, ml, 16);
	    memcpy(w->remote, mr, 16);
	    l = l6;
	}
    }
    if (!l.found || l.state == TCP_LISTEN_) {
	snprintf(why, whylen, "no such connection on this host "
		 "(another host or network namespace, XCLIENT or the proxy protocol?)");
	watch_stop(w);
	return -1;
    }
    /* Already closing: the first watch_poll() will say so. */
    w->inode = l.inode;
    w->rqueue = l.rqueue;
    return 0;
}

/* watch_poll - look once more */
enum watch_state watch_poll(struct client_watch *w)
{
    struct lookup l;

    if (w->nl_fd < 0 || look(w, &l) < 0)
	return WATCH_ERROR;
    if (!l.found || l.inode != w->inode || l.state == TCP_LISTEN_)
	return WATCH_GONE;
    if (l.state != TCP_ESTABLISHED_)
	return WATCH_GONE;		/* CLOSE_WAIT: FIN from the client */
    if (l.rqueue > w->rqueue + WATCH_LINE_BYTES)
	return WATCH_TALKED;
    if (l.rqueue > w->rqueue)
	return WATCH_LINE;
    return WATCH_THERE;
}

/* watch_stop - close the netlink socket */
void watch_stop(struct client_watch *w)
{
    if (w->nl_fd >= 0)
	close(w->nl_fd);
    w->nl_fd = -1;
}

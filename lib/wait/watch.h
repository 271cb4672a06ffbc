#ifndef TARPIT_WATCH_H
#define TARPIT_WATCH_H

/*
 * watch - see smtpd's TCP connection to the SMTP client from outside, via
 * NETLINK_SOCK_DIAG: has the client hung up, has it sent anything?
 */

#include "util/addr.h"

#include <stddef.h>
#include <stdint.h>

struct client_watch {
    int     nl_fd;			/* kept for the whole wait */
    int     family;			/* of smtpd's socket */
    unsigned char local[16], remote[16];	/* smtpd's end, the client's */
    uint16_t local_port, remote_port;	/* host order */
    uint32_t inode;			/* smtpd's socket, from the first look */
    uint32_t rqueue;			/* receive queue at the first look */
};

/* One short line: QUIT and CRLF, a client's goodbye, is this long. */
#define WATCH_LINE_BYTES 6

enum watch_state {
    WATCH_THERE,			/* established, nothing new */
    WATCH_GONE,				/* hung up (FIN or RST), or closed */
    WATCH_LINE,				/* one short line arrived: a goodbye? */
    WATCH_TALKED,			/* more arrived during the wait */
    WATCH_ERROR,			/* cannot look any more */
};

int     watch_start(struct client_watch *, const struct tp_addr *client,
		            int client_port, const struct tp_addr *server,
		            int server_port, char *why, size_t whylen);
enum watch_state watch_poll(struct client_watch *);
void    watch_stop(struct client_watch *);

#endif

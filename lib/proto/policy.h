#ifndef TARPIT_POLICY_H
#define TARPIT_POLICY_H

/*
 * policy - the Postfix policy delegation protocol, server side.
 * request: (name "=" value "\n")* "\n"; reply: "action=" text "\n" "\n".
 */

#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_REQUEST 32768	/* bytes, blank line included */
#define POLICY_MAX_ATTRS 128	/* Postfix 3.7 sends 28; each costs a
				 * waiting helper 16 bytes of stack */

struct policy_attr {
    const char *name;
    const char *value;
};

struct policy_req {
    size_t  nattr;
    struct policy_attr attr[POLICY_MAX_ATTRS];
    const char *bad;			/* why the request is unusable, or 0 */
};

struct policy_conn {
    int     in_fd, out_fd;
    size_t  start, end;			/* unread bytes are buf[start..end) */
    int     not_socket;			/* out_fd is a pipe or file: poll first */
    int     in_mode;			/* how in_fd is read (policy.c) */
    int64_t rcv_timeout_ms;		/* SO_RCVTIMEO set on in_fd, or 0 */
    char    buf[POLICY_MAX_REQUEST + 1];
};

enum policy_status {
    POLICY_OK,				/* a framed request (maybe ->bad) */
    POLICY_EOF,				/* clean end between requests */
    POLICY_TRUNCATED,			/* end of input inside a request */
    POLICY_TIMEOUT,			/* no complete request in time */
    POLICY_TOO_BIG,			/* cannot be framed: over the limit */
    POLICY_IO_ERROR,
};

void    policy_init(struct policy_conn *, int in_fd, int out_fd);
enum policy_status policy_read(struct policy_conn *, struct policy_req *,
			               int64_t timeout_ms);
const char *policy_get(const struct policy_req *, const char *name);
int     policy_reply(struct policy_conn *, const char *action, int64_t timeout_ms);
const char *policy_status_text(enum policy_status);

#endif

#ifndef TARPIT_REQUEST_H
#define TARPIT_REQUEST_H

/*
 * request - a policy request read once: the attributes the tarpit acts
 * on, addresses parsed and ports as numbers.  The raw attribute list stays
 * at hand for rules, which may name any attribute.
 */

#include "util/addr.h"
#include "proto/policy.h"

#define REQUEST_SESSION_MAX 512

struct request {
    const struct policy_req *attrs;	/* every attribute, as sent */
    const char *client_address;		/* as sent, for log lines; "(none)" */
    struct tp_addr client;		/* parsed: family 0 when unusable */
    int     client_port;		/* -1 when absent or malformed */
    struct tp_addr server;		/* smtpd's end: family 0 when unusable */
    int     server_port;
    const char *sasl_username;		/* "" when not authenticated */
    const char *sender, *recipient;	/* "" when empty or absent */
    const char *client_name;		/* verified name; "unknown" or "" if none */
    const char *policy_context;		/* "" when none */
    int     stress;			/* Postfix says stress=yes */
    const char *session;		/* the SMTP session, or 0 when unknown */
    char    session_buf[REQUEST_SESSION_MAX];
};

void    request_read(struct request *, const struct policy_req *);

#endif

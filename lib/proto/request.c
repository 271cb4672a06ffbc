/*
 * NAME
 *	request - a policy request read once
 * DESCRIPTION
 *	request_read() looks at the attribute list once and keeps what the
 *	tarpit acts on: the client and server ends of the SMTP connection
 *	(parsed by addr.c; a malformed one is left unparsed, family 0), the
 *	client's verified name, the SASL user, sender, recipient,
 *	policy_context and stress.
 *
 *	The session is the SMTP connection as Postfix names it: client
 *	address and port, server address and port, as sent (Postfix 2.5 and
 *	later send client_port); before that, the "instance" attribute.  No
 *	session when neither is there, or the text does not fit.
 */
#define _GNU_SOURCE
#include "proto/request.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* join - the words separated by spaces into buf, or 0 when too long
 * (on every request: by hand, not snprintf) */
static const char *join(char *buf, size_t len, const char *const *word, int n)
{
    size_t  at = 0;

    for (int i = 0; i < n; i++) {
	size_t  wlen = strlen(word[i]);

	if (at + wlen + 1 >= len)
	    return 0;
	memcpy(buf + at, word[i], wlen);
	at += wlen;
	buf[at++] = i + 1 < n ? ' ' : 0;
    }
    return n > 0 ? buf : 0;
}

/* or_empty - the value, or "" for an absent attribute */
static const char *or_empty(const char *v)
{
    return v ? v : "";
}

/* request_read - the typed view of one request */
void request_read(struct request *rq, const struct policy_req *q)
{
    const char *ca = 0, *cp = 0, *sa = 0, *sp = 0, *inst = 0, *stress = 0;
    const char *sasl = 0, *sender = 0, *rcpt = 0, *ctx = 0, *name = 0;

    memset(rq, 0, offsetof(struct request, session_buf));
    rq->attrs = q;
    /* One pass; the first of duplicates counts, as in policy_get().  By
     * length, then a compare the compiler inlines: a request has some 28
     * attributes, and this runs on every one of them. */
#define FIRST(var) do { if ((var) == 0) (var) = v; } while (0)
#define IS(lit) (memcmp(n, lit, sizeof(lit) - 1) == 0)
    for (size_t i = 0; i < q->nattr; i++) {
	const char *n = q->attr[i].name, *v = q->attr[i].value;

	switch (strlen(n)) {
	case 14:
	    if (IS("client_address"))
		FIRST(ca);
	    else if (IS("server_address"))
		FIRST(sa);
	    else if (IS("policy_context"))
		FIRST(ctx);
	    break;
	case 11:
	    if (IS("client_port"))
		FIRST(cp);
	    else if (IS("client_name"))
		FIRST(name);
	    else if (IS("server_port"))
		FIRST(sp);
	    break;
	case 13:
	    if (IS("sasl_username"))
		FIRST(sasl);
	    break;
	case 9:
	    if (IS("recipient"))
		FIRST(rcpt);
	    break;
	case 8:
	    if (IS("instance"))
		FIRST(inst);
	    break;
	case 6:
	    if (IS("sender"))
		FIRST(sender);
	    else if (IS("stress"))
		FIRST(stress);
	    break;
	}
    }
#undef IS
#undef FIRST
    rq->sasl_username = or_empty(sasl);
    rq->sender = or_empty(sender);
    rq->recipient = or_empty(rcpt);
    rq->client_name = or_empty(name);
    rq->policy_context = or_empty(ctx);
    rq->client_address = ca ? ca : "(none)";
    if (ca == 0 || addr_parse(ca, &rq->client) < 0)
	rq->client.family = 0;
    if (sa == 0 || addr_parse(sa, &rq->server) < 0)
	rq->server.family = 0;
    rq->client_port = addr_parse_port(cp);
    rq->server_port = addr_parse_port(sp);
    rq->stress = stress && strcasecmp(stress, "yes") == 0;
    if (ca && cp && *cp) {
	const char *w[] = {ca, cp, or_empty(sa), or_empty(sp)};

	rq->session = join(rq->session_buf, sizeof(rq->session_buf), w, 4);
    } else if (inst && *inst) {			/* before Postfix 2.5 */
	const char *w[] = {"instance", inst};

	rq->session = join(rq->session_buf, sizeof(rq->session_buf), w, 2);
    }
}

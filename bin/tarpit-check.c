/*
 * NAME
 *	tarpit-check - make clients from new networks wait
 * SYNOPSIS
 *	tarpit-check [-c config_file]
 * DESCRIPTION
 *	Postfix asks at RCPT (check_policy_service in
 *	smtpd_recipient_restrictions).  A network that has not yet escaped
 *	`threshold` times is made to wait `sleep` before the answer DUNNO.
 *	The attempt is recorded before the wait (tarpits) and its completion
 *	after it (pending): only a completed wait can become an escape when
 *	tarpit-store sees the delivery at end of data.  So a wait that smtpd
 *	abandoned (its policy timeout is shorter than `sleep`) earns nothing.
 *	One SMTP session waits once: later requests of the session this
 *	process waited for are answered at once.
 *
 *	The wait holds no lock and no open database, and ends at once when
 *	smtpd closes the policy connection: then nobody is left to answer and
 *	the process exits.
 *
 *	Any fault of ours (database, config) answers DUNNO without a wait: a
 *	bug here must never delay or bounce mail.
 */
#include "addr.h"
#include "decide.h"
#include "helper.h"
#include "log.h"
#include "wait.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SESSION_MAX 512

/* The session this process last waited for. */
static char waited_session[SESSION_MAX];

/* session_id - client and server ends of the SMTP connection, or 0 */
static const char *session_id(const struct policy_req *q, char *buf, size_t len)
{
    const char *ca = policy_get(q, "client_address");
    const char *cp = policy_get(q, "client_port");
    const char *sa = policy_get(q, "server_address");
    const char *sp = policy_get(q, "server_port");
    const char *inst = policy_get(q, "instance");
    int     n;

    if (ca && cp && *cp)
	n = snprintf(buf, len, "%s %s %s %s", ca, cp, sa ? sa : "", sp ? sp : "");
    else if (inst && *inst)
	n = snprintf(buf, len, "instance %s", inst);	/* before Postfix 2.5 */
    else
	return 0;
    return n > 0 && (size_t) n < len ? buf : 0;
}

struct begin_ctx {
    int64_t now;
    int64_t sleep_ms;
};

/* begin_wait - under the exclusive lock: count the attempt */
static enum db_change begin_wait(struct tp_record *r, int found, void *ctx)
{
    struct begin_ctx *b = ctx;

    if (!found)
	r->first_seen = b->now;
    r->last_seen = b->now;
    r->last_tarpit = b->now;
    r->last_wait_ms = b->sleep_ms;
    r->tarpits++;
    return DB_WRITE;
}

struct end_ctx {
    int64_t waited_ms;
    int     completed;
};

/* end_wait - under the exclusive lock: how the wait ended */
static enum db_change end_wait(struct tp_record *r, int found, void *ctx)
{
    struct end_ctx *e = ctx;

    if (!found)
	return DB_KEEP;			/* deleted meanwhile: leave it so */
    if (e->completed)
	r->pending++;
    r->last_wait_ms = e->waited_ms;
    return DB_WRITE;
}

/* refresh - under the exclusive lock: a known network was seen */
static enum db_change refresh(struct tp_record *r, int found, void *ctx)
{
    if (!found)
	return DB_KEEP;
    r->last_seen = *(int64_t *) ctx;
    return DB_WRITE;
}

/* check - one RCPT-stage request */
static enum helper_next check(struct helper *h, const struct policy_req *q,
			              char *action, size_t len)
{
    char    key[ADDR_KEY_MAX];
    char    session[SESSION_MAX];
    const char *client = policy_get(q, "client_address");
    const char *sid = session_id(q, session, sizeof(session));
    struct tp_record r;
    struct decision d;
    int64_t now = (int64_t) time(0);
    int64_t waited_ms;
    int     found;

    snprintf(action, len, "DUNNO");
    if (helper_client_key(h, q, key, sizeof(key)) == 0)
	return HELPER_REPLY;
    if (sid && strcmp(sid, waited_session) == 0) {
	msg_info("client=%s network=%s: DUNNO (this session already waited)",
		 client, key);
	return HELPER_REPLY;
    }
    if ((found = db_get(h->db, key, &r)) < 0) {
	msg_error("client=%s network=%s: %s: DUNNO", client, key,
		  db_error(h->db));
	return HELPER_REPLY;
    }
    d = decide(&h->conf, &r, found, now);
    if (d.verdict == VERDICT_DUNNO) {
	if (record_is_stale(&h->conf, &r, now)
	    && db_update(h->db, key, refresh, &now) < 0)
	    msg_warn("network=%s: %s", key, db_error(h->db));
	msg_info("client=%s network=%s: DUNNO (%s)", client, key, d.reason);
	return HELPER_REPLY;
    }

    struct begin_ctx b = {now, d.sleep_ms};

    if (db_update(h->db, key, begin_wait, &b) < 0) {
	msg_error("client=%s network=%s: %s: DUNNO without a wait",
		  client, key, db_error(h->db));
	return HELPER_REPLY;
    }
    enum wait_result w = wait_watched(h->conn.in_fd, d.sleep_ms, &waited_ms);
    struct end_ctx e = {waited_ms, w == WAIT_DONE};

    if (db_update(h->db, key, end_wait, &e) < 0)
	msg_warn("network=%s: %s: the end of the wait is not recorded",
		 key, db_error(h->db));
    if (w == WAIT_POLICY_GONE) {
	msg_info("client=%s network=%s: smtpd closed the policy connection "
		 "after %" PRId64 ".%03" PRId64 "s of the wait", client, key,
		 waited_ms / 1000, waited_ms % 1000);
	return HELPER_CLOSE;
    }
    if (sid)
	snprintf(waited_session, sizeof(waited_session), "%s", sid);
    msg_info("client=%s network=%s: DUNNO after a wait of %" PRId64 ".%03"
	     PRId64 "s (%s)", client, key, waited_ms / 1000, waited_ms % 1000,
	     d.reason);
    return HELPER_REPLY;
}

int main(int argc, char **argv)
{
    return helper_main(argc, argv, "tarpit-check", check);
}

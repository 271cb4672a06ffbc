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
#include "slots.h"
#include "wait.h"
#include "watch.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SESSION_MAX 512

/* The session this process last made wait, and what it was answered. */
static char waited_session[SESSION_MAX];
static char session_action[CONF_ACTION_MAX];

/* What this process has logged once already. */
static int watch_noted;
static char unknown_context[64];

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

/* session_id - client and server ends of the SMTP connection, or 0 */
static const char *session_id(const struct policy_req *q, char *buf, size_t len)
{
    const char *ca = policy_get(q, "client_address");
    const char *cp = policy_get(q, "client_port");
    const char *sa = policy_get(q, "server_address");
    const char *sp = policy_get(q, "server_port");
    const char *inst = policy_get(q, "instance");

    if (ca && cp && *cp) {
	const char *w[] = {ca, cp, sa ? sa : "", sp ? sp : ""};

	return join(buf, len, w, 4);
    }
    if (inst && *inst) {			/* before Postfix 2.5 */
	const char *w[] = {"instance", inst};

	return join(buf, len, w, 2);
    }
    return 0;
}

struct begin_ctx {
    const struct tp_conf *conf;
    int64_t now;
    int64_t sleep_ms;
};

/* settle - old pending waits become dropouts, maybe a block; counted */
static void settle(const struct tp_conf *c, struct db_txn *t, int64_t now)
{
    int64_t dropped = record_settle(&t->rec, now);

    if (dropped) {
	t->stats.dropouts += dropped;
	t->stats_changed = 1;
    }
    if (block_after_failures(c, &t->rec, now)) {
	t->stats.blocks++;
	t->stats_changed = 1;
    }
}

/* begin_wait - under the exclusive lock: count the attempt */
static enum db_change begin_wait(struct db_txn *t, void *ctx)
{
    struct begin_ctx *b = ctx;
    struct tp_record *r = &t->rec;

    if (!t->found)
	r->first_seen = b->now;
    r->last_seen = b->now;
    r->last_tarpit = b->now;
    r->last_wait_ms = b->sleep_ms;
    r->tarpits++;
    settle(b->conf, t, b->now);
    t->stats.tarpits++;
    t->stats_changed = 1;
    return DB_WRITE;
}

struct end_ctx {
    const struct tp_conf *conf;
    int64_t now;
    const struct wait_outcome *w;
};

/* end_wait - under the exclusive lock: how the wait ended */
static enum db_change end_wait(struct db_txn *t, void *ctx)
{
    struct end_ctx *e = ctx;
    struct tp_record *r = &t->rec;

    if (!t->found)
	return DB_KEEP;			/* deleted meanwhile: leave it so */
    r->last_wait_ms = e->w->waited_ms;
    if (e->w->talked) {
	r->early_talkers++;
	t->stats.early_talkers++;
	t->stats_changed = 1;
    }
    switch (e->w->result) {
    case WAIT_DONE:
	settle(e->conf, t, e->now);
	r->pending++;
	r->last_completed = e->now;
	break;
    case WAIT_CLIENT_GONE:
	r->hangups++;
	r->failures++;
	stats_add_hangup(&t->stats, e->w->waited_ms);
	t->stats_changed = 1;
	settle(e->conf, t, e->now);
	break;
    case WAIT_EARLY_TALKER:
	r->failures++;
	settle(e->conf, t, e->now);
	break;
    case WAIT_POLICY_GONE:
	break;
    }
    return DB_WRITE;
}

struct zero_ctx {
    struct begin_ctx b;
    struct end_ctx e;
};

/* zero_wait - under the exclusive lock: a wait of 0 s begins and ends
 * at once, so one write records both */
static enum db_change zero_wait(struct db_txn *t, void *ctx)
{
    struct zero_ctx *z = ctx;

    (void) begin_wait(t, &z->b);
    t->found = 1;
    return end_wait(t, &z->e);
}

/* refresh - under the exclusive lock: a known network was seen */
static enum db_change refresh(struct db_txn *t, void *ctx)
{
    if (!t->found)
	return DB_KEEP;
    t->rec.last_seen = *(int64_t *) ctx;
    return DB_WRITE;
}

/* start_watch - watch the SMTP client if we can; 0 when not */
static struct client_watch *start_watch(const struct tp_conf *p,
				                const struct policy_req *q,
				                struct client_watch *w)
{
    char    why[256];

    if (!p->watch_client)
	return 0;
    if (watch_start(w, policy_get(q, "client_address"),
		    policy_get(q, "client_port"), policy_get(q, "server_address"),
		    policy_get(q, "server_port"), why, sizeof(why)) < 0) {
	if (!watch_noted++)
	    msg_info("cannot watch the SMTP client, waiting without: %s", why);
	return 0;
    }
    return w;
}

/* profile - the settings for this request's policy_context */
static const struct tp_conf *profile(struct helper *h, const struct policy_req *q)
{
    const char *ctx = policy_get(q, "policy_context");
    const struct tp_conf *p;

    if (ctx == 0 || *ctx == 0)
	return &h->conf;
    if ((p = conf_profile(&h->conf, ctx)) != 0)
	return p;
    if (strncmp(unknown_context, ctx, sizeof(unknown_context) - 1) != 0) {
	snprintf(unknown_context, sizeof(unknown_context), "%s", ctx);
	msg_warn("policy_context=%s has no [%s] profile: using the global "
		 "settings", ctx, ctx);
    }
    return &h->conf;
}

static void count_refused(struct tp_stats *s, void *ctx)
{
    (void) ctx;
    s->waits_refused++;
}

/* take_slot - one of max_waiting; its descriptor, or -1 (logged) */
static int take_slot(struct helper *h, const char *client, const char *key)
{
    char    path[CONF_PATH_MAX + 8], why[300];
    int     fd;

    snprintf(path, sizeof(path), "%s.slots", h->conf.database);
    fd = slots_acquire(path, (int) h->conf.max_waiting, why, sizeof(why));
    if (fd == -1) {
	msg_warn("client=%s network=%s: DUNNO without a wait: max_waiting=%d "
		 "waits are running", client, key, (int) h->conf.max_waiting);
	if (db_update_stats(h->db, count_refused, 0) < 0)
	    msg_warn("%s", db_error(h->db));
    } else if (fd < 0) {
	msg_error("client=%s network=%s: %s: DUNNO without a wait", client, key, why);
	fd = -1;
    }
    return fd;
}

struct grey_ctx {
    const struct tp_conf *conf;
    int64_t now;
    enum grey_result result;
    int64_t retries;
};

/* grey_attempt - under the exclusive lock: one attempt of a tuple */
static enum db_change grey_attempt(struct db_txn *t, void *ctx)
{
    struct grey_ctx *g = ctx;

    g->result = grey_step(g->conf, &t->rec, t->found, g->now);
    g->retries = t->rec.tarpits;
    if (g->result == GREY_PASS)
	return DB_DELETE;
    t->stats.greylisted++;
    t->stats_changed = 1;
    return DB_WRITE;
}

/* grey_clear - under the exclusive lock: passed greylisting, start over */
static enum db_change grey_clear(struct db_txn *t, void *ctx)
{
    (void) ctx;
    if (!t->found)
	return DB_KEEP;
    t->rec.failures = 0;
    return DB_WRITE;
}

/* greylist - a network that failed before: 1 answered (deferred), 0 it
 * passed and goes on to the tarpit */
static int greylist(struct helper *h, const struct tp_conf *p,
		            const struct policy_req *q, const char *client,
		            const char *key, char *action, size_t len)
{
    char    gkey[1024], *c;
    const char *sender = policy_get(q, "sender");
    const char *rcpt = policy_get(q, "recipient");
    struct grey_ctx g = {p, (int64_t) time(0), GREY_DEFER, 0};

    snprintf(gkey, sizeof(gkey), GREY_PREFIX "%s %s %s", key,
	     sender && *sender ? sender : "<>", rcpt && *rcpt ? rcpt : "<>");
    for (c = gkey; *c; c++)
	*c = (char) tolower((unsigned char) *c);
    if (db_update(h->db, gkey, grey_attempt, &g) < 0) {
	msg_error("client=%s network=%s: %s: DUNNO", client, key, db_error(h->db));
	return 1;
    }
    if (g.result == GREY_DEFER) {
	snprintf(action, len, "%s", p->greylist_action);
	msg_info("client=%s network=%s: greylisted (%lld of %lld retries): %s",
		 client, key, (long long) g.retries, (long long) p->greylist_retries,
		 action);
	return 1;
    }
    if (db_update(h->db, key, grey_clear, 0) < 0)
	msg_warn("network=%s: %s", key, db_error(h->db));
    msg_info("client=%s network=%s: passed greylisting after %lld retries: "
	     "tarpit again", client, key, (long long) g.retries);
    return 0;
}

/* seconds - "12.345" from milliseconds, for log lines */
static const char *seconds(int64_t ms, char *buf, size_t len)
{
    snprintf(buf, len, "%" PRId64 ".%03" PRId64, ms / 1000, ms % 1000);
    return buf;
}

/* check - one RCPT-stage request */
static enum helper_next check(struct helper *h, const struct policy_req *q,
			              char *action, size_t len)
{
    char    key[ADDR_KEY_MAX];
    char    session[SESSION_MAX];
    char    secs[32];
    const char *client = policy_get(q, "client_address");
    const char *sid = session_id(q, session, sizeof(session));
    struct tp_record r;
    struct decision d;
    struct client_watch watch, *w;
    struct wait_outcome out;
    int64_t now = (int64_t) time(0);
    int     found, slot;
    const struct tp_conf *p = profile(h, q);

    memcpy(action, "DUNNO", sizeof("DUNNO"));	/* len is never that short */
    if (helper_client_key(h, q, key, sizeof(key)) == 0)
	return HELPER_REPLY;
    if (sid && strcmp(sid, waited_session) == 0) {
	snprintf(action, len, "%s", session_action);
	if (p->log_passes)
	    msg_info("client=%s network=%s: %s (this session already waited)",
		     client, key, action);
	return HELPER_REPLY;
    }
    if ((found = db_get(h->db, key, &r)) < 0) {
	msg_error("client=%s network=%s: %s: DUNNO", client, key,
		  db_error(h->db));
	return HELPER_REPLY;
    }
    d = decide(p, q, &r, found, now);
    if (p->dry_run) {
	msg_info("client=%s network=%s: dry run: would %s%s%s (%s%s%s%s%s)",
		 client, key, d.verdict == VERDICT_TARPIT ? "wait " :
		 d.verdict == VERDICT_BLOCK ? "answer " :
		 d.verdict == VERDICT_GREYLIST ? "greylist" : "answer DUNNO",
		 d.verdict == VERDICT_TARPIT ? seconds(d.sleep_ms, secs, sizeof(secs)) :
		 d.verdict == VERDICT_BLOCK ? p->block_action : "",
		 d.verdict == VERDICT_TARPIT ? "s" : "", d.reason,
		 p->name[0] ? ", profile " : "", p->name,
		 d.rule ? ", rule: " : "", d.rule ? d.rule->text : "");
	return HELPER_REPLY;
    }
    if (d.verdict == VERDICT_BLOCK) {
	snprintf(action, len, "%s", p->block_action);
	msg_info("client=%s network=%s: %s (%s)", client, key, action, d.reason);
	return HELPER_REPLY;
    }
    if (d.verdict == VERDICT_GREYLIST) {
	if (greylist(h, p, q, client, key, action, len))
	    return HELPER_REPLY;
	d.verdict = VERDICT_TARPIT;
    }
    if (d.verdict == VERDICT_DUNNO) {
	if (record_is_stale(&h->conf, &r, now)
	    && db_update(h->db, key, refresh, &now) < 0)
	    msg_warn("network=%s: %s", key, db_error(h->db));
	if (p->log_passes)
	    msg_info("client=%s network=%s: DUNNO (%s)", client, key, d.reason);
	return HELPER_REPLY;
    }
    if (d.sleep_ms == 0) {
	static const struct wait_outcome none = {WAIT_DONE, 0, 0};
	struct zero_ctx z = {{p, now, 0}, {p, now, &none}};

	if (db_update(h->db, key, zero_wait, &z) < 0)
	    msg_error("client=%s network=%s: %s: DUNNO", client, key, db_error(h->db));
	else
	    msg_info("client=%s network=%s: DUNNO after a wait of 0s (%s)",
		     client, key, d.reason);
	if (sid) {
	    snprintf(waited_session, sizeof(waited_session), "%s", sid);
	    snprintf(session_action, sizeof(session_action), "DUNNO");
	}
	return HELPER_REPLY;
    }
    if ((slot = take_slot(h, client, key)) < 0)
	return HELPER_REPLY;
    db_release(h->db);			/* no file or cache held while waiting */

    struct begin_ctx b = {p, now, d.sleep_ms};

    if (db_update(h->db, key, begin_wait, &b) < 0) {
	msg_error("client=%s network=%s: %s: DUNNO without a wait",
		  client, key, db_error(h->db));
	slots_release(slot);
	return HELPER_REPLY;
    }
    w = start_watch(p, q, &watch);
    wait_watched(h->conn.in_fd, d.sleep_ms, w,
		 strcmp(p->early_talker_action, "ignore") != 0, &out);
    if (w)
	watch_stop(w);
    slots_release(slot);

    struct end_ctx e = {p, (int64_t) time(0), &out};

    if (db_update(h->db, key, end_wait, &e) < 0)
	msg_warn("network=%s: %s: the end of the wait is not recorded",
		 key, db_error(h->db));
    seconds(out.waited_ms, secs, sizeof(secs));
    switch (out.result) {
    case WAIT_POLICY_GONE:
	msg_info("client=%s network=%s: smtpd closed the policy connection "
		 "after %ss of the wait", client, key, secs);
	return HELPER_CLOSE;
    case WAIT_CLIENT_GONE:
	msg_info("client=%s network=%s: hang-up after %ss of the wait",
		 client, key, secs);
	return HELPER_REPLY;		/* DUNNO: smtpd will find it gone */
    case WAIT_EARLY_TALKER:
	snprintf(action, len, "%s", p->early_talker_action);
	msg_info("client=%s network=%s: early talker after %ss of the wait: %s",
		 client, key, secs, action);
	break;
    case WAIT_DONE:
	msg_info("client=%s network=%s: DUNNO after a wait of %ss (%s%s)",
		 client, key, secs, d.reason, out.talked ? ", early talker" : "");
	break;
    }
    if (sid) {
	snprintf(waited_session, sizeof(waited_session), "%s", sid);
	snprintf(session_action, sizeof(session_action), "%s", action);
    }
    return HELPER_REPLY;
}

int main(int argc, char **argv)
{
    return helper_main(argc, argv, "tarpit-check", check);
}

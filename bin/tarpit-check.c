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
#include "util/clock.h"
#include "tarpit/decide.h"
#include "tarpit/helper.h"
#include "tarpit/ledger.h"
#include "util/log.h"
#include "wait/slots.h"
#include "wait/wait.h"

#include <stdio.h>
#include <malloc.h>
#include <string.h>
#include <time.h>

/* The answer to a client that said one short line during the wait and
 * stayed: it gave up on us (QUIT), or talked (DATA); either way no
 * recipient now, and nothing lost. */
#define GOODBYE_ACTION "DEFER_IF_PERMIT Please try again later"

/* remember_session - this session has waited and was answered action */
static void remember_session(struct helper *h, const struct request *rq,
			             const char *action)
{
    if (rq->session) {
	snprintf(h->waited_session, sizeof(h->waited_session), "%s", rq->session);
	snprintf(h->session_action, sizeof(h->session_action), "%s", action);
    }
}

/* log_dry_run - what the decision would have done */
static void log_dry_run(const struct tp_conf *p, const char *client,
			        const char *key, const struct decision *d)
{
    char    secs[32];

    msg_info("client=%s network=%s: dry run: would %s%s%s (%s%s%s%s%s)",
	     client, key, d->verdict == VERDICT_TARPIT ? "wait " :
	     d->verdict == VERDICT_BLOCK ? "answer " :
	     d->verdict == VERDICT_GREYLIST ? "greylist" : "answer DUNNO",
	     d->verdict == VERDICT_TARPIT ? clock_seconds(d->sleep_ms, secs, sizeof(secs)) :
	     d->verdict == VERDICT_BLOCK ? p->block_action : "",
	     d->verdict == VERDICT_TARPIT ? "s" : "", d->reason,
	     p->name[0] ? ", profile " : "", p->name,
	     d->rule ? ", rule: " : "", d->rule ? d->rule->text : "");
}

/* greylist - a network that failed before: deferred until its tuple has
 * retried as greylisting asks, then rescued: answered without a wait */
static enum helper_next greylist(struct helper *h, const struct tp_conf *p,
			                 const struct request *rq, const char *key,
			                 const struct tp_record *r, char *action, size_t len)
{
    const char *client = rq->client_address;
    char    gkey[LEDGER_KEY_MAX];
    struct ledger l = {.event = LEDGER_GREY_ATTEMPT,.conf = p,.now = (int64_t) time(0)};

    l.grey_room = ledger_grey_room(p, r, l.now);

    if (ledger_grey_key(key, rq->sender, rq->recipient, gkey, sizeof(gkey)) == 0) {
	msg_warn("client=%s network=%s: no greylist key fits: DUNNO", client, key);
	return HELPER_REPLY;
    }
    if (db_update(h->db, gkey, ledger_apply, &l) < 0) {
	helper_db_warn(h, "client=%s network=%s: %s: DUNNO", client, key, db_error(h->db));
	return HELPER_REPLY;
    }
    if (l.made) {
	struct ledger m = {.event = LEDGER_GREY_MADE,.conf = p,.now = l.now};

	if (db_update(h->db, key, ledger_apply, &m) < 0)
	    helper_db_warn(h, "network=%s: %s: its greylist entry is not counted",
			   key, db_error(h->db));
    }
    if (l.grey == GREY_DEFER) {
	snprintf(action, len, "%s", p->greylist_action);
	msg_info("client=%s network=%s: greylisted (retry %lld; %lld pass, the "
		 "last greylist_delay after the first): %s", client, key,
		 (long long) l.retries, (long long) p->greylist_retries, action);
	return HELPER_REPLY;
    }
    l.event = LEDGER_GREY_PASSED;
    if (db_update(h->db, key, ledger_apply, &l) < 0)
	helper_db_warn(h, "network=%s: %s: the rescue is not recorded", key,
		       db_error(h->db));
    else
	msg_info("client=%s network=%s: passed greylisting after %lld retries: "
		 "DUNNO without a wait (a delivery now escapes it)", client, key,
		 (long long) l.retries);
    remember_session(h, rq, action);
    return HELPER_REPLY;
}

/* tarpit - record the attempt, wait, record how it ended, answer; a
 * session that sat out its wait (or one of 0 s) is remembered */
static enum helper_next tarpit(struct helper *h, const struct tp_conf *p,
			               const struct request *rq, const char *key,
			               const struct decision *d, char *action, size_t len)
{
    const char *client = rq->client_address;
    struct ledger l = {.event = LEDGER_WAIT_BEGUN,.conf = p,
	.now = (int64_t) time(0),.sleep_ms = d->sleep_ms};
    char    secs[32], why[256];
    int     slot;

    if (d->sleep_ms == 0) {
	l.event = LEDGER_WAIT_ZERO;
	if (db_update(h->db, key, ledger_apply, &l) < 0) {
	    helper_db_warn(h, "client=%s network=%s: %s: DUNNO", client, key, db_error(h->db));
	} else {
	    msg_info("client=%s network=%s: DUNNO after a wait of 0s (%s)",
		     client, key, d->reason);
	    helper_count_spread(h, p);
	}
	remember_session(h, rq, action);
	return HELPER_REPLY;
    }
    if ((slot = helper_take_slot(h, client, key)) < 0)
	return HELPER_REPLY;
    db_release(h->db);			/* no file or cache held while waiting */
    if (db_update(h->db, key, ledger_apply, &l) < 0) {
	helper_db_warn(h, "client=%s network=%s: %s: DUNNO without a wait",
		  client, key, db_error(h->db));
	slots_release(slot);
	return HELPER_REPLY;
    }
    helper_count_spread(h, p);
    db_release(h->db);			/* nor a server connection */
    malloc_trim(0);			/* what they freed goes back, too */
    if (wait_for_client(h->conn.in_fd, d->sleep_ms, rq, (int) p->watch_client,
			strcmp(p->early_talker_action, "ignore") != 0, &l.wait,
			why, sizeof(why)) < 0 && p->watch_client && !h->watch_noted++)
	msg_info("cannot watch the SMTP client, waiting without: %s", why);
    slots_release(slot);
    l.event = LEDGER_WAIT_ENDED;
    l.now = (int64_t) time(0);
    if (db_update(h->db, key, ledger_apply, &l) < 0)
	helper_db_warn(h, "network=%s: %s: the end of the wait is not recorded",
		 key, db_error(h->db));
    clock_seconds(l.wait.waited_ms, secs, sizeof(secs));
    switch (l.wait.result) {
    case WAIT_POLICY_GONE:
	msg_info("client=%s network=%s: smtpd closed the policy connection "
		 "after %ss of the wait", client, key, secs);
	return HELPER_CLOSE;
    case WAIT_CLIENT_GONE:
	if (l.wait.goodbye == 2) {
	    /* One short line and still there: QUIT, or DATA from a talker;
	     * a temporary refusal keeps the one out and loses nothing. */
	    snprintf(action, len, "%s", GOODBYE_ACTION);
	    msg_info("client=%s network=%s: hang-up after %ss of the wait "
		     "(said goodbye, still connected): %s", client, key, secs, action);
	    break;
	}
	msg_info("client=%s network=%s: hang-up after %ss of the wait%s",
		 client, key, secs, l.wait.goodbye ? " (said goodbye)" : "");
	return HELPER_REPLY;		/* DUNNO: smtpd will find it gone */
    case WAIT_EARLY_TALKER:
	snprintf(action, len, "%s", p->early_talker_action);
	msg_info("client=%s network=%s: early talker after %ss of the wait: %s",
		 client, key, secs, action);
	break;
    case WAIT_DONE:
	msg_info("client=%s network=%s: DUNNO after a wait of %ss (%s%s)",
		 client, key, secs, d->reason, l.wait.talked ? ", early talker" : "");
	break;
    }
    remember_session(h, rq, action);
    return HELPER_REPLY;
}

/* check - one RCPT-stage request: decide, then act on the decision */
static enum helper_next check(struct helper *h, const struct request *rq,
			              char *action, size_t len)
{
    char    key[LEDGER_NET_KEY_MAX];
    const char *client = rq->client_address;
    const struct tp_conf *p = helper_profile(h, rq);
    struct tp_record r;
    struct decision d;
    int64_t now = (int64_t) time(0);
    int     found;

    memcpy(action, "DUNNO", sizeof("DUNNO"));	/* len is never that short */
    if (rq->session && strcmp(rq->session, h->waited_session) == 0) {
	snprintf(action, len, "%s", h->session_action);
	if (p->log_passes && helper_client_key(h, p, rq, key, sizeof(key)))
	    msg_info("client=%s network=%s: %s (this session already waited)",
		     client, key, action);
	return HELPER_REPLY;
    }
    if ((found = helper_lookup(h, p, rq, key, sizeof(key), &r)) < 0) {
	if (found == -1)
	    helper_db_warn(h, "client=%s network=%s: %s: DUNNO", client, key,
			   db_error(h->db));
	return HELPER_REPLY;
    }
    d = decide(p, rq, &r, found, now);
    if (p->dry_run) {
	log_dry_run(p, client, key, &d);
	return HELPER_REPLY;
    }
    switch (d.verdict) {
    case VERDICT_BLOCK:
	snprintf(action, len, "%s", p->block_action);
	msg_info("client=%s network=%s: %s (%s)", client, key, action, d.reason);
	return HELPER_REPLY;
    case VERDICT_DUNNO:{
	    struct ledger l = {.event = LEDGER_REFRESH,.conf = p,.now = now};

	    if (ledger_preview(&l, &r, found) != DB_KEEP
		&& db_update(h->db, key, ledger_apply, &l) < 0)
		helper_db_warn(h, "network=%s: %s", key, db_error(h->db));
	    if (p->log_passes)
		msg_info("client=%s network=%s: DUNNO (%s)", client, key, d.reason);
	    return HELPER_REPLY;
	}
    case VERDICT_GREYLIST:
	return greylist(h, p, rq, key, &r, action, len);
    case VERDICT_TARPIT:
	break;
    }
    return tarpit(h, p, rq, key, &d, action, len);
}

int main(int argc, char **argv)
{
    return helper_main(argc, argv, "tarpit-check", HELPER_WATCHES, check);
}

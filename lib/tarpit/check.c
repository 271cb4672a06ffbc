/*
 * NAME
 *	check - one RCPT-stage request: decide, then act on the decision
 * DESCRIPTION
 *	check_request() is tarpit-check's work for one request (helper_main()
 *	runs it): decide() on the network's record, decide_domain() on the
 *	client's verified domain's where that may change the verdict, then
 *	the verdict acted on: an answer at once (DUNNO, block_action), a
 *	greylist attempt, or a wait, with the ledger's events around it.
 *
 *	A wait records the attempt before it (tarpits) and how it ended
 *	after it (pending, a hang-up, an early talker), holding no lock, no
 *	open database and no server connection meanwhile; the helper's wait
 *	function (wait_for_client(), or a test's) does the waiting.  One SMTP
 *	session waits once: later requests of the session this process made
 *	wait get the same answer.  When smtpd closes the policy connection
 *	during a wait, nobody is left to answer: HELPER_CLOSE.
 *
 *	Any fault of ours (database, config) answers DUNNO without a wait: a
 *	bug here must never delay or bounce mail.
 */
#define _GNU_SOURCE
#include "tarpit/check.h"
#include "tarpit/decide.h"
#include "tarpit/ledger.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/regdomain.h"
#include "wait/slots.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The answer to a client that said one short line during the wait and
 * stayed: it gave up on us (QUIT), or talked (DATA); either way no
 * recipient now, and nothing lost. */
#define GOODBYE_ACTION "DEFER_IF_PERMIT Please try again later"

/* One request's client, and the keys of its records.  Small: it is on
 * the stack of every waiting helper. */
struct client {
    const char *address;
    char    key[LEDGER_NET_KEY_MAX];	/* its network's record */
    char    dkey[REGDOMAIN_MAX + 16];	/* its domain's ("@domain D"), or "" */
    const char *domain;			/* ... D, or "" */
};

/* What the log lines name a client by: "client=A network=N [domain=D]". */
#define WHO "client=%s network=%s%s%s"
#define WHO_OF(cl) (cl)->address, (cl)->key, *(cl)->domain ? " domain=" : "", (cl)->domain

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
static void log_dry_run(const struct tp_conf *p, const struct client *cl,
			        const struct decision *d)
{
    char    secs[32];

    msg_info(WHO ": dry run: would %s%s%s (%s%s%s%s%s)", WHO_OF(cl),
	     d->verdict == VERDICT_TARPIT ? "wait " :
	     d->verdict == VERDICT_BLOCK ? "answer " :
	     d->verdict == VERDICT_GREYLIST ? "greylist" : "answer DUNNO",
	     d->verdict == VERDICT_TARPIT ? clock_seconds(d->sleep_ms, secs, sizeof(secs)) :
	     d->verdict == VERDICT_BLOCK ? p->block_action : "",
	     d->verdict == VERDICT_TARPIT ? "s" : "", d->reason,
	     p->name[0] ? ", profile " : "", p->name,
	     d->rule ? ", rule: " : "", d->rule ? d->rule->text : "");
}

/* greylist - a network (or a domain) that failed before: deferred until
 * its tuple has retried as greylisting asks, then rescued: answered
 * without a wait.  A domain's tuple is its own, its entries are counted
 * in its record, and the rescue is the asking network's */
static enum helper_next greylist(struct helper *h, const struct tp_conf *p,
			                 const struct request *rq, const struct client *cl,
			                 const struct decision *d, const struct tp_record *r,
			                 int found, char *action, size_t len)
{
    const char *owner = d->by_domain ? cl->dkey : cl->key;
    char    gkey[LEDGER_KEY_MAX];
    struct ledger l = {.event = LEDGER_GREY_ATTEMPT,.conf = p,.now = (int64_t) time(0)};

    l.grey_room = !found || ledger_grey_room(p, r, l.now);
    if (ledger_grey_key(d->by_domain ? cl->domain : cl->key, rq->sender, rq->recipient,
			gkey, sizeof(gkey)) == 0) {
	msg_warn(WHO ": no greylist key fits: DUNNO", WHO_OF(cl));
	return HELPER_REPLY;
    }
    if (db_update(h->db, gkey, ledger_apply, &l) < 0) {
	helper_db_warn(h, WHO ": %s: DUNNO", WHO_OF(cl), db_error(h->db));
	return HELPER_REPLY;
    }
    if (l.made) {
	struct ledger m = {.event = LEDGER_GREY_MADE,.conf = p,.now = l.now};

	if (db_update(h->db, owner, ledger_apply, &m) < 0)
	    helper_db_warn(h, WHO ": %s: its greylist entry is not counted", WHO_OF(cl),
			   db_error(h->db));
    }
    if (l.grey == GREY_DEFER) {
	snprintf(action, len, "%s", p->greylist_action);
	msg_info(WHO ": greylisted%s (retry %lld; %lld pass, the last "
		 "greylist_delay after the first): %s", WHO_OF(cl),
		 d->by_domain ? " by domain" : "", (long long) l.retries,
		 (long long) p->greylist_retries, action);
	return HELPER_REPLY;
    }
    l.event = LEDGER_GREY_PASSED;
    l.create = d->by_domain;
    if (db_update(h->db, cl->key, ledger_apply, &l) < 0)
	helper_db_warn(h, WHO ": %s: the rescue is not recorded", WHO_OF(cl),
		       db_error(h->db));
    else
	msg_info(WHO ": passed greylisting after %lld retries: "
		 "DUNNO without a wait (a delivery now escapes it)", WHO_OF(cl),
		 (long long) l.retries);
    remember_session(h, rq, action);
    return HELPER_REPLY;
}

/* count_for_domain - how a wait of a client with a domain ended, in the
 * domain's record too */
static void count_for_domain(struct helper *h, const struct client *cl,
			             const struct ledger *wait)
{
    struct ledger l = *wait;

    if (*cl->domain == 0 || wait->wait.result == WAIT_POLICY_GONE)
	return;
    l.event = LEDGER_DOMAIN_WAIT;
    if (db_update(h->db, cl->dkey, ledger_apply, &l) < 0)
	helper_db_warn(h, WHO ": %s: the wait is not counted for the domain", WHO_OF(cl),
		       db_error(h->db));
}

/* tarpit - record the attempt, wait, record how it ended, answer; a
 * session that sat out its wait (or one of 0 s) is remembered */
static enum helper_next tarpit(struct helper *h, const struct tp_conf *p,
			               const struct request *rq, const struct client *cl,
			               const struct decision *d, char *action, size_t len)
{
    struct ledger l = {.event = LEDGER_WAIT_BEGUN,.conf = p,
	.now = (int64_t) time(0),.sleep_ms = d->sleep_ms};
    char    secs[32], why[256];
    int     slot;

    if (d->sleep_ms == 0) {
	l.event = LEDGER_WAIT_ZERO;
	if (db_update(h->db, cl->key, ledger_apply, &l) < 0) {
	    helper_db_warn(h, WHO ": %s: DUNNO", WHO_OF(cl), db_error(h->db));
	} else {
	    msg_info(WHO ": DUNNO after a wait of 0s (%s)", WHO_OF(cl), d->reason);
	}
	remember_session(h, rq, action);
	return HELPER_REPLY;
    }
    if ((slot = helper_take_slot(h, cl->address, cl->key)) < 0)
	return HELPER_REPLY;
    db_release(h->db);			/* no file or cache held while waiting */
    if (db_update(h->db, cl->key, ledger_apply, &l) < 0) {
	helper_db_warn(h, WHO ": %s: DUNNO without a wait", WHO_OF(cl), db_error(h->db));
	slots_release(slot);
	return HELPER_REPLY;
    }
    db_release(h->db);			/* nor a server connection */
    mem_release();			/* what they freed goes back, too */
    if (h->wait(h->conn.in_fd, d->sleep_ms, rq, (int) p->watch_client,
		strcmp(p->early_talker_action, "ignore") != 0, &l.wait,
		why, sizeof(why)) < 0 && p->watch_client && !h->watch_noted++)
	msg_info("cannot watch the SMTP client, waiting without: %s", why);
    slots_release(slot);
    l.event = LEDGER_WAIT_ENDED;
    l.now = (int64_t) time(0);
    if (db_update(h->db, cl->key, ledger_apply, &l) < 0)
	helper_db_warn(h, WHO ": %s: the end of the wait is not recorded", WHO_OF(cl),
		       db_error(h->db));
    count_for_domain(h, cl, &l);
    clock_seconds(l.wait.waited_ms, secs, sizeof(secs));
    switch (l.wait.result) {
    case WAIT_POLICY_GONE:
	msg_info(WHO ": smtpd closed the policy connection after %ss of the wait",
		 WHO_OF(cl), secs);
	return HELPER_CLOSE;
    case WAIT_CLIENT_GONE:
	if (l.wait.goodbye == GOODBYE_STAYED) {
	    /* One short line and still there: QUIT, or DATA from a talker;
	     * a temporary refusal keeps the one out and loses nothing. */
	    snprintf(action, len, "%s", GOODBYE_ACTION);
	    msg_info(WHO ": hang-up after %ss of the wait (said goodbye, still "
		     "connected): %s", WHO_OF(cl), secs, action);
	    break;
	}
	msg_info(WHO ": hang-up after %ss of the wait%s", WHO_OF(cl), secs,
		 l.wait.goodbye == GOODBYE_SAID ? " (said goodbye)" : "");
	return HELPER_REPLY;		/* DUNNO: smtpd will find it gone */
    case WAIT_EARLY_TALKER:
	snprintf(action, len, "%s", p->early_talker_action);
	msg_info(WHO ": early talker after %ss of the wait: %s", WHO_OF(cl), secs, action);
	break;
    case WAIT_DONE:
	msg_info(WHO ": DUNNO after a wait of %ss (%s%s)", WHO_OF(cl), secs, d->reason,
		 l.wait.talked ? ", early talker" : "");
	remember_session(h, rq, action);	/* the session's later RCPTs: DUNNO */
	if (p->wait_header)
	    snprintf(action, len, "PREPEND X-Tarpit: waited %ss before RCPT (%s)",
		     secs, d->reason);
	return HELPER_REPLY;
    }
    remember_session(h, rq, action);
    return HELPER_REPLY;
}

/* by_domain - a verdict to wait or greylist, looked at again with the
 * record of the client's domain, when it has one that may share.  A wait
 * of 0 s answers DUNNO at once whatever the domain says: no lookup then
 * (its libpsl child costs some 200 us) */
static void by_domain(struct helper *h, const struct tp_conf *p,
		              const struct request *rq, struct client *cl,
		              struct decision *d, struct tp_record *dr, int *dfound)
{
    const size_t plen = sizeof(KEY_DOMAIN) - 1;
    char   *domain = cl->dkey + plen;

    *dfound = 0;
    if (!(d->verdict == VERDICT_TARPIT && d->sleep_ms > 0) && d->verdict != VERDICT_GREYLIST)
	return;
    if (helper_domain(h, p, rq, domain, sizeof(cl->dkey) - plen) <= 0)
	return;
    memcpy(cl->dkey, KEY_DOMAIN, plen);
    cl->domain = domain;
    if ((*dfound = db_get(h->db, cl->dkey, dr)) < 0) {
	helper_db_warn(h, WHO ": %s: judged by its network alone", WHO_OF(cl),
		       db_error(h->db));
	cl->domain = "";
	*dfound = 0;
	return;
    }
    decide_domain(p, d, dr, *dfound);
}

/* check_request - one RCPT-stage request: decide, then act on the decision */
enum helper_next check_request(struct helper *h, const struct request *rq,
			               char *action, size_t len)
{
    struct client cl;			/* not zeroed whole: it runs per request */
    const struct tp_conf *p = helper_profile(h, rq);
    struct tp_record r, dr;
    struct decision d;
    int64_t now = (int64_t) time(0);
    int     found, dfound;

    cl.address = rq->client_address;
    cl.domain = "";
    cl.key[0] = cl.dkey[0] = 0;
    memcpy(action, "DUNNO", sizeof("DUNNO"));	/* len is never that short */
    if (rq->session && strcmp(rq->session, h->waited_session) == 0) {
	snprintf(action, len, "%s", h->session_action);
	if (p->log_passes && helper_client_key(h, p, rq, cl.key, sizeof(cl.key)))
	    msg_info("client=%s network=%s: %s (this session already waited)",
		     cl.address, cl.key, action);
	return HELPER_REPLY;
    }
    if ((found = helper_lookup(h, p, rq, cl.key, sizeof(cl.key), &r)) >= 0 && !p->dry_run)
	found = helper_take_spread(h, p, cl.key, sizeof(cl.key), &r, found);
    if (found < 0) {
	if (found == LOOKUP_DB_ERROR)
	    helper_db_warn(h, "client=%s network=%s: %s: DUNNO", cl.address, cl.key,
			   db_error(h->db));
	return HELPER_REPLY;
    }
    d = decide(p, rq, &r, found, now);
    by_domain(h, p, rq, &cl, &d, &dr, &dfound);
    if (p->dry_run) {
	log_dry_run(p, &cl, &d);
	return HELPER_REPLY;
    }
    switch (d.verdict) {
    case VERDICT_BLOCK:
	snprintf(action, len, "%s", p->block_action);
	msg_info(WHO ": %s (%s)", WHO_OF(&cl), action, d.reason);
	return HELPER_REPLY;
    case VERDICT_DUNNO:{
	    struct ledger l = {.event = LEDGER_REFRESH,.conf = p,.now = now};
	    const char *k = *cl.domain ? cl.dkey : cl.key;

	    if (ledger_preview(&l, *cl.domain ? &dr : &r, *cl.domain ? dfound : found)
		!= DB_KEEP && db_update(h->db, k, ledger_apply, &l) < 0)
		helper_db_warn(h, WHO ": %s", WHO_OF(&cl), db_error(h->db));
	    if (p->log_passes)
		msg_info(WHO ": DUNNO (%s)", WHO_OF(&cl), d.reason);
	    return HELPER_REPLY;
	}
    case VERDICT_GREYLIST:
	return d.by_domain ? greylist(h, p, rq, &cl, &d, &dr, dfound, action, len)
	    : greylist(h, p, rq, &cl, &d, &r, found, action, len);
    case VERDICT_TARPIT:
	break;
    }
    return tarpit(h, p, rq, &cl, &d, action, len);
}

/*
 * NAME
 *	decide - the tarpit's decision, from config and record alone
 * DESCRIPTION
 *	decide() looks at the request, the network's record (if any) and the
 *	settings of the request's profile at time now and says whether to
 *	wait.  It does no I/O: the caller fetches the record and writes what
 *	follows, so every case can be tested as a row of a table.  The first
 *	matching rule (the profile's own, then the global ones) says skip,
 *	block or how long to sleep.  Then, first match wins:
 *
 *	0. the recipient is one of exempt_recipients (postmaster@ and abuse@
 *	   of any domain by default, as RFC 5321 4.5.1 asks): DUNNO, no
 *	   record;
 *	1. a rule says skip: DUNNO, no record;
 *	2. skip_authenticated and a sasl_username: DUNNO, no record;
 *	3. a rule says block: block_action;
 *	4. an admin allowed the network (until a time, or for ever): DUNNO;
 *	5. the network is blocked (until a time, or for ever): block_action;
 *	6. the network escaped `threshold` times: DUNNO;
 *	7. Postfix says stress=yes and stress_sleep is 0: DUNNO, no record;
 *	8. greylist mode and the network failed the tarpit since it last
 *	   escaped: greylist until its tuple retries as greylisting asks,
 *	   then DUNNO without a wait (the rescue; see ledger.c);
 *	9. otherwise: tarpit for the rule's sleep, else `sleep`; under stress
 *	   for at most stress_sleep.
 *
 *	What a greylist attempt or a failed wait then does to the records is
 *	the ledger's business (ledger.c).
 *
 *	decide_domain() takes a verdict of 8 or 9 further when the client's
 *	verified name belongs to a domain that may share (domain_may_share;
 *	the caller found the domain, regdomain.c, and its record): a domain
 *	that vouches (domain_vouches: one of its networks escaped, and its
 *	clients' failures do not outnumber its networks that did) lets the
 *	client pass without a wait, from any network; otherwise greylisting
 *	is by the domain's tuple (domain, sender, recipient), so that a pool
 *	that retries from another network is rescued as a single host is, and
 *	a client of a domain whose clients failed before is greylisted as its
 *	own network would be.
 *
 *	Allowing a network clears its block and blocking clears its
 *	allowance, so 4 and 5 never disagree.
 *
 *	record_state() names what a record says of its network, for the
 *	admin's listings.
 *
 *	record_is_stale() says whether a known network's last_seen is older
 *	than `refresh`, so that the common path stays read-only.
 */
#define _GNU_SOURCE
#include "tarpit/decide.h"
#include "util/addr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* active_until - is an until-time (0 never, -1 for ever) still running? */
int active_until(int64_t until, int64_t now)
{
    return until == -1 || until > now;
}

/* decide - the verdict for one request */
struct decision decide(const struct tp_conf *c, const struct request *rq,
		               const struct tp_record *r, int found, int64_t now)
{
    struct decision d = {VERDICT_DUNNO, 0, "", 0, 0};

    if (recipient_exempt(c, rq->recipient)) {
	d.reason = "exempt recipient";
	return d;
    }
    d.rule = rule_match(c, rq);
    if (d.rule && d.rule->action == RULE_SKIP) {
	d.reason = "rule: skip";
	return d;
    }
    if (c->skip_authenticated && *rq->sasl_username) {
	d.reason = "authenticated";
	return d;
    }
    if (d.rule && d.rule->action == RULE_BLOCK) {
	d.verdict = VERDICT_BLOCK;
	d.reason = "rule: block";
	return d;
    }
    if (found && active_until(r->allow_until, now)) {
	d.reason = "allowed";
	return d;
    }
    if (found && active_until(r->block_until, now)) {
	d.verdict = VERDICT_BLOCK;
	d.reason = "blocked";
	return d;
    }
    if (found && r->escapes >= c->threshold) {
	d.reason = "escaped";
	return d;
    }
    d.sleep_ms = d.rule && d.rule->action == RULE_SLEEP ? d.rule->sleep_ms
	: c->sleep_ms;
    if (rq->stress && c->stress_sleep_ms < d.sleep_ms) {
	d.sleep_ms = c->stress_sleep_ms;
	if (d.sleep_ms == 0) {
	    d.reason = "stress";
	    return d;
	}
    }
    if (c->greylist && found && r->recent_failures > 0) {
	d.verdict = VERDICT_GREYLIST;
	d.reason = "failed the tarpit before";
	return d;
    }
    d.verdict = VERDICT_TARPIT;
    d.reason = found ? "not yet escaped" : "new network";
    return d;
}

/* decide_domain - a tarpit or greylist verdict, given the record of the
 * client's domain: pass when the domain vouches, greylist by its tuple
 * when the client or its domain failed before */
void    decide_domain(const struct tp_conf *c, struct decision *d,
		              const struct tp_record *dom, int found)
{
    if (d->verdict != VERDICT_TARPIT && d->verdict != VERDICT_GREYLIST)
	return;
    if (domain_vouches(c, dom, found)) {
	d->verdict = VERDICT_DUNNO;
	d->sleep_ms = 0;
	d->reason = "its domain escaped";
	return;
    }
    if (!c->greylist)
	return;
    if (d->verdict == VERDICT_TARPIT && found && dom->recent_failures > 0) {
	d->verdict = VERDICT_GREYLIST;
	d->reason = "its domain's clients failed the tarpit before";
    }
    d->by_domain = d->verdict == VERDICT_GREYLIST;
}

/* domain_vouches - has one of a domain's networks escaped, with no more
 * failures of its clients than networks that escaped? */
int     domain_vouches(const struct tp_conf *c, const struct tp_record *r, int found)
{
    (void) c;
    return found && r->escapes >= 1 && r->recent_failures <= r->escapes;
}

/* in_list - is word (wlen bytes), or word2 (w2len bytes; 0 for none),
 * one of the list's words (separated by spaces, tabs or commas), any
 * case?  One pass, no library call until a length matches: it runs on
 * every request */
static int in_list(const char *list, const char *word, size_t wlen,
		           const char *word2, size_t w2len)
{
    const char *p = list, *start;

    for (;;) {
	while (*p == ' ' || *p == '\t' || *p == ',')
	    p++;
	if (*p == 0)
	    return 0;
	for (start = p; *p && *p != ' ' && *p != '\t' && *p != ','; p++)
	    ;
	if (((size_t) (p - start) == wlen && strncasecmp(start, word, wlen) == 0)
	    || (word2 && (size_t) (p - start) == w2len && strncasecmp(start, word2, w2len) == 0))
	    return 1;
    }
}

/* domain_may_share - may the traffic of this profile be shared by this
 * domain?  Not in a profile that keeps records of its own, not with
 * share_domains = no, not for a domain in never_share */
int     domain_may_share(const struct tp_conf *c, const char *domain)
{
    if (!c->share_domains || (c->name[0] && !c->share_escapes))
	return 0;
    return !in_list(c->never_share, domain, strlen(domain), 0, 0);
}

/* recipient_exempt - is the recipient one of exempt_recipients?  A word
 * with "@" is a whole address, one without a local part in any domain */
int     recipient_exempt(const struct tp_conf *c, const char *rcpt)
{
    const char *at;
    size_t  len;

    if (*rcpt == 0 || c->exempt_recipients[0] == 0)
	return 0;
    len = strlen(rcpt);
    at = memrchr(rcpt, '@', len);
    return in_list(c->exempt_recipients, rcpt, len, rcpt, at ? (size_t) (at - rcpt) : len);
}

const char *const record_state_name[] = {
    [STATE_ALLOWED] = "allowed",[STATE_BLOCKED] = "blocked",
    [STATE_ESCAPED] = "escaped",[STATE_TARPITTED] = "tarpitted",
};

/* record_state - allowed, blocked, escaped or tarpitted, in decide()'s
 * order: an allowance beats a block, a block beats an escape */
enum record_state record_state(const struct tp_conf *c, const struct tp_record *r,
			               int64_t now)
{
    if (active_until(r->allow_until, now))
	return STATE_ALLOWED;
    if (active_until(r->block_until, now))
	return STATE_BLOCKED;
    if (r->escapes >= c->threshold)
	return STATE_ESCAPED;
    return STATE_TARPITTED;
}

/* record_is_stale - does last_seen want refreshing? */
int record_is_stale(const struct tp_conf *c, const struct tp_record *r,
		            int64_t now)
{
    return (now - r->last_seen) * 1000 >= c->refresh_ms;
}

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
 *	1. a rule says skip: DUNNO, no record;
 *	2. skip_authenticated and a sasl_username: DUNNO, no record;
 *	3. a rule says block: block_action;
 *	4. an admin allowed the network (until a time, or for ever): DUNNO;
 *	5. the network is blocked (until a time, or for ever): block_action;
 *	6. the network escaped `threshold` times: DUNNO;
 *	7. Postfix says stress=yes and stress_sleep is 0: DUNNO, no record;
 *	8. greylist mode and the network failed the tarpit since it last
 *	   escaped: greylist (see grey_step), then tarpit;
 *	9. otherwise: tarpit for the rule's sleep, else `sleep`; under stress
 *	   for at most stress_sleep.
 *
 *	grey_step() advances one greylist entry (network, sender, recipient):
 *	a retry counts when it comes greylist_delay after the last counted
 *	one; greylist_retries of them within greylist_window pass.
 *
 *	block_after_failures() blocks a network that failed the tarpit
 *	block_after times without ever escaping, for block_for.
 *
 *	Allowing a network clears its block and blocking clears its
 *	allowance, so 1 and 2 never disagree.
 *
 *	record_is_stale() says whether a known network's last_seen is older
 *	than `refresh`, so that the common path stays read-only.
 */
#define _GNU_SOURCE
#include "decide.h"
#include "addr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* active_until - is an until-time (0 never, -1 for ever) still running? */
int active_until(int64_t until, int64_t now)
{
    return until == -1 || until > now;
}

/* matches - does one rule's pattern match the request? */
static int matches(const struct tp_rule *rule, const struct policy_req *q)
{
    const char *v = policy_get(q, rule->attr);
    struct tp_addr a;

    if (v == 0)
	return 0;
    switch (rule->kind) {
    case PAT_ANY:
	return *v != 0;
    case PAT_LITERAL:
	return strcasecmp(v, rule->literal) == 0;
    case PAT_REGEX:
	return regexec(&rule->re, v, 0, 0, 0) == 0;
    case PAT_CIDR:
	if (addr_parse(v, &a) < 0 || a.family != rule->family)
	    return 0;
	addr_mask(&a, rule->prefix);
	return memcmp(a.bytes, rule->net, a.family == AF_INET ? 4 : 16) == 0;
    }
    return 0;
}

/* rule_match - the first matching rule: the profile's, then the global */
const struct tp_rule *rule_match(const struct tp_conf *c, const struct policy_req *q)
{
    for (const struct tp_conf *level = c; level; level = level->parent)
	for (size_t i = 0; i < level->nrules; i++)
	    if (matches(level->rules + i, q))
		return level->rules + i;
    return 0;
}

/* decide - the verdict for one request */
struct decision decide(const struct tp_conf *c, const struct policy_req *q,
		               const struct tp_record *r, int found, int64_t now)
{
    struct decision d = {VERDICT_DUNNO, 0, "", 0};
    const char *sasl = policy_get(q, "sasl_username");
    const char *stress = policy_get(q, "stress");

    d.rule = rule_match(c, q);
    if (d.rule && d.rule->action == RULE_SKIP) {
	d.reason = "rule: skip";
	return d;
    }
    if (c->skip_authenticated && sasl && *sasl) {
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
    if (stress && strcasecmp(stress, "yes") == 0
	&& c->stress_sleep_ms < d.sleep_ms) {
	d.sleep_ms = c->stress_sleep_ms;
	if (d.sleep_ms == 0) {
	    d.reason = "stress";
	    return d;
	}
    }
    if (c->greylist && found && r->failures > 0) {
	d.verdict = VERDICT_GREYLIST;
	d.reason = "failed the tarpit before";
	return d;
    }
    d.verdict = VERDICT_TARPIT;
    d.reason = found ? "not yet escaped" : "new network";
    return d;
}

/* grey_step - one attempt of a greylisted tuple; the entry is updated */
enum grey_result grey_step(const struct tp_conf *c, struct tp_record *g,
			           int found, int64_t now)
{
    if (!found || now - g->first_seen > c->greylist_window_ms / 1000) {
	memset(g, 0, sizeof(*g));
	g->first_seen = g->last_seen = g->last_tarpit = now;
	return GREY_DEFER;
    }
    g->last_seen = now;
    if ((now - g->last_tarpit) * 1000 >= c->greylist_delay_ms) {
	g->tarpits++;
	g->last_tarpit = now;
    }
    return g->tarpits >= c->greylist_retries ? GREY_PASS : GREY_DEFER;
}

/* block_after_failures - block a hopeless network; 1 when it did */
int block_after_failures(const struct tp_conf *c, struct tp_record *r, int64_t now)
{
    if (c->block_after == 0 || r->escapes > 0
	|| record_failed(r) < c->block_after || active_until(r->block_until, now)
	|| active_until(r->allow_until, now))
	return 0;
    r->block_until = now + c->block_for_ms / 1000;
    snprintf(r->comment, sizeof(r->comment), "blocked after %lld failed waits",
	     (long long) record_failed(r));
    return 1;
}

/* record_is_stale - does last_seen want refreshing? */
int record_is_stale(const struct tp_conf *c, const struct tp_record *r,
		            int64_t now)
{
    return (now - r->last_seen) * 1000 >= c->refresh_ms;
}

/*
 * NAME
 *	decide - the tarpit's decision, from config and record alone
 * DESCRIPTION
 *	decide() looks at the network's record (if any) and the config at
 *	time now and says whether to wait.  It does no I/O: the caller fetches
 *	the record and writes what follows, so every case can be tested as a
 *	row of a table.  In order, first match wins:
 *
 *	1. an admin allowed the network (until a time, or for ever): DUNNO;
 *	2. the network is blocked (until a time, or for ever): block_action;
 *	3. the network escaped `threshold` times: DUNNO;
 *	4. otherwise: tarpit for `sleep`.
 *
 *	Allowing a network clears its block and blocking clears its
 *	allowance, so 1 and 2 never disagree.
 *
 *	record_is_stale() says whether a known network's last_seen is older
 *	than `refresh`, so that the common path stays read-only.
 */
#include "decide.h"

/* active_until - is an until-time (0 never, -1 for ever) still running? */
int active_until(int64_t until, int64_t now)
{
    return until == -1 || until > now;
}

/* decide - the verdict for one request */
struct decision decide(const struct tp_conf *c, const struct tp_record *r,
		               int found, int64_t now)
{
    struct decision d = {VERDICT_DUNNO, 0, ""};

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
    d.verdict = VERDICT_TARPIT;
    d.sleep_ms = c->sleep_ms;
    d.reason = found ? "not yet escaped" : "new network";
    return d;
}

/* record_is_stale - does last_seen want refreshing? */
int record_is_stale(const struct tp_conf *c, const struct tp_record *r,
		            int64_t now)
{
    return (now - r->last_seen) * 1000 >= c->refresh_ms;
}

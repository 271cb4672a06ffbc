#ifndef TARPIT_DECIDE_H
#define TARPIT_DECIDE_H

/* decide - what tarpit-check does with a request: a pure function */

#include "tarpit/conf.h"
#include "proto/request.h"
#include "store/record.h"

enum verdict {
    VERDICT_DUNNO,			/* answer at once, change nothing */
    VERDICT_TARPIT,			/* record the attempt, wait, answer */
    VERDICT_BLOCK,			/* answer block_action at once */
    VERDICT_GREYLIST,			/* failed before: greylist, then rescue */
};

struct decision {
    enum verdict verdict;
    int64_t sleep_ms;
    const char *reason;			/* a word or two for the log */
    const struct tp_rule *rule;		/* the rule that matched, or 0 */
    int     by_domain;			/* GREYLIST: its tuple is the domain's */
};

/* What a record says of its network, most binding first. */
enum record_state { STATE_ALLOWED, STATE_BLOCKED, STATE_ESCAPED, STATE_TARPITTED };

extern const char *const record_state_name[];

struct decision decide(const struct tp_conf *profile, const struct request *,
		               const struct tp_record *, int found, int64_t now);
void    decide_domain(const struct tp_conf *, struct decision *,
			          const struct tp_record *domain, int found);
int     domain_may_share(const struct tp_conf *, const char *domain);
int     domain_vouches(const struct tp_conf *, const struct tp_record *, int found);
int     recipient_exempt(const struct tp_conf *, const char *recipient);
int     active_until(int64_t until, int64_t now);
enum record_state record_state(const struct tp_conf *, const struct tp_record *,
			               int64_t now);
int     record_is_stale(const struct tp_conf *, const struct tp_record *,
			        int64_t now);

#endif

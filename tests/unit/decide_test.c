/* decide_test - the decision table: record and config in, verdict out */
#include "decide.h"
#include "unit.h"

#include <string.h>

#define NOW 1800000000LL

static const struct {
    const char *name;
    int     found;
    int64_t escapes, allow_until, threshold, sleep_ms, block_until;
    enum verdict verdict;
    int64_t want_sleep;
    const char *reason;
} cases[] = {
    {"new network waits", 0, 0, 0, 1, 65000, VERDICT_TARPIT, 65000, "new network"},
    {"known, not escaped, waits", 1, 0, 0, 1, 65000, VERDICT_TARPIT, 65000, "not yet escaped"},
    {"escaped once, threshold 1", 1, 1, 0, 1, 65000, VERDICT_DUNNO, 0, "escaped"},
    {"escaped once, threshold 2", 1, 1, 0, 2, 65000, VERDICT_TARPIT, 65000, "not yet escaped"},
    {"escaped twice, threshold 2", 1, 2, 0, 2, 65000, VERDICT_DUNNO, 0, "escaped"},
    {"allowed for ever", 1, 0, -1, 1, 65000, VERDICT_DUNNO, 0, "allowed"},
    {"allowed until later", 1, 0, NOW + 1, 1, 65000, VERDICT_DUNNO, 0, "allowed"},
    {"allowance expired", 1, 0, NOW, 1, 65000, VERDICT_TARPIT, 65000, "not yet escaped"},
    {"sleep 0 still records", 0, 0, 0, 1, 0, VERDICT_TARPIT, 0, "new network"},
    {"blocked for ever", 1, 0, 0, 1, 65000, VERDICT_BLOCK, 0, "blocked", -1},
    {"blocked until later, even if escaped", 1, 5, 0, 1, 65000, VERDICT_BLOCK, 0, "blocked", NOW + 60},
    {"block expired", 1, 1, 0, 1, 65000, VERDICT_DUNNO, 0, "escaped", NOW - 1},
    {"allowed beats blocked", 1, 0, -1, 1, 65000, VERDICT_DUNNO, 0, "allowed", -1},
};

int main(void)
{
    struct tp_conf c;
    struct tp_record r;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	conf_defaults(&c);
	c.threshold = cases[i].threshold;
	c.sleep_ms = cases[i].sleep_ms;
	memset(&r, 0, sizeof(r));
	r.escapes = cases[i].escapes;
	r.allow_until = cases[i].allow_until;
	r.block_until = cases[i].block_until;
	struct decision d = decide(&c, &r, cases[i].found, NOW);

	EXPECT(d.verdict == cases[i].verdict && d.sleep_ms == cases[i].want_sleep
	       && strcmp(d.reason, cases[i].reason) == 0,
	       "%s: verdict %d sleep %lld reason %s", cases[i].name,
	       d.verdict, (long long) d.sleep_ms, d.reason);
    }
    conf_defaults(&c);
    memset(&r, 0, sizeof(r));
    r.last_seen = NOW - 3599;
    EXPECT(!record_is_stale(&c, &r, NOW), "seen within the hour");
    r.last_seen = NOW - 3600;
    EXPECT(record_is_stale(&c, &r, NOW), "seen an hour ago");
    return unit_done("decide");
}

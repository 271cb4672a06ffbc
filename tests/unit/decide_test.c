/*
 * decide_test - the decision table: config + request + record in,
 * verdict out.  The config is real tarpit.conf text, so profiles and
 * every kind of rule pattern go through the parser too.
 */
#define _GNU_SOURCE
#include "tarpit/decide.h"
#include "unit.h"
#include "unit_conf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1800000000LL

static const char config_a[] =
"sleep = 10s\n"
"rule = client_name /\\.example\\.com$/i skip\n"
"rule = client_address 198.51.100.0/24 block\n"
"rule = client_address 2001:db8::/32 skip\n"
"rule = sender spammer@example.net sleep 30s\n"
"rule = ccert_fingerprint * skip\n"
"\n"
"[submission]\n"
"sleep = 5s\n"
"skip_authenticated = no\n"
"rule = client_name /\\.jp$/i sleep 1s\n";

static const char config_g[] =
"sleep = 10s\n"
"greylist = yes\n"
"greylist_delay = 300s\n"
"greylist_retries = 2\n"
"greylist_window = 1d\n"
"block_after = 3\n"
"block_for = 7d\n";

static const char config_n[] =
"sleep = 10s\n"
"greylist = no\n";

static const char config_b[] =
"sleep = 10s\n"
"stress_sleep = 2s\n"
"rule = client_name /slow/ sleep 20s\n";

enum rec { NONE, FRESH, ESCAPED, ALLOWED, BLOCKED, FAILED };

static const struct {
    const char *name;
    const char *config;
    const char *context;		/* policy_context, or 0 */
    const char *attrs;			/* "name=value;..." */
    enum rec rec;
    enum verdict verdict;
    int64_t sleep_ms;
    const char *reason;
} cases[] = {
    {"new network: global sleep", config_a, 0, "client_address=192.0.2.1", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"known, not escaped", config_a, 0, "client_address=192.0.2.1", FRESH, VERDICT_TARPIT, 10000, "not yet escaped"},
    {"escaped", config_a, 0, "client_address=192.0.2.1", ESCAPED, VERDICT_DUNNO, 0, "escaped"},
    {"allowed", config_a, 0, "client_address=192.0.2.1", ALLOWED, VERDICT_DUNNO, 0, "allowed"},
    {"blocked record", config_a, 0, "client_address=192.0.2.1", BLOCKED, VERDICT_BLOCK, 0, "blocked"},
    {"regex, case-insensitive: skip", config_a, 0, "client_address=192.0.2.1;client_name=MX1.Example.COM", NONE, VERDICT_DUNNO, 0, "rule: skip"},
    {"regex anchored: no match", config_a, 0, "client_address=192.0.2.1;client_name=example.com.evil.net", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"IPv4 CIDR: block", config_a, 0, "client_address=198.51.100.77", NONE, VERDICT_BLOCK, 0, "rule: block"},
    {"IPv4 CIDR: block beats an escape", config_a, 0, "client_address=198.51.100.77", ESCAPED, VERDICT_BLOCK, 0, "rule: block"},
    {"IPv4 CIDR: outside", config_a, 0, "client_address=198.51.101.1", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"IPv6 CIDR: skip", config_a, 0, "client_address=2001:db8:1::5", NONE, VERDICT_DUNNO, 0, "rule: skip"},
    {"literal, any case: sleep 30s", config_a, 0, "client_address=192.0.2.1;sender=SPAMMER@example.net", NONE, VERDICT_TARPIT, 30000, "new network"},
    {"'*' with a value: skip", config_a, 0, "client_address=192.0.2.1;ccert_fingerprint=AB:CD", NONE, VERDICT_DUNNO, 0, "rule: skip"},
    {"'*' with an empty value: no match", config_a, 0, "client_address=192.0.2.1;ccert_fingerprint=", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"first match wins (skip before block)", config_a, 0, "client_address=198.51.100.1;client_name=a.example.com", NONE, VERDICT_DUNNO, 0, "rule: skip"},
    {"skip_authenticated (global default yes)", config_a, 0, "client_address=192.0.2.1;sasl_username=bob", NONE, VERDICT_DUNNO, 0, "authenticated"},
    {"empty sasl_username is not authenticated", config_a, 0, "client_address=192.0.2.1;sasl_username=", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"submission: .jp waits 1s", config_a, "submission", "client_address=192.0.2.1;sasl_username=bob;client_name=host.example.jp", NONE, VERDICT_TARPIT, 1000, "new network"},
    {"submission: others wait 5s", config_a, "submission", "client_address=192.0.2.1;sasl_username=bob;client_name=host.example.org", NONE, VERDICT_TARPIT, 5000, "new network"},
    {"submission: global rules apply after its own", config_a, "submission", "client_address=192.0.2.1;client_name=x.example.com", NONE, VERDICT_DUNNO, 0, "rule: skip"},
    {"submission: its own rules first", config_a, "submission", "client_address=198.51.100.1;client_name=x.example.jp", NONE, VERDICT_TARPIT, 1000, "new network"},
    {"stress, stress_sleep 0: no wait", config_a, 0, "client_address=192.0.2.1;stress=yes", NONE, VERDICT_DUNNO, 0, "stress"},
    {"stress=no is no stress", config_a, 0, "client_address=192.0.2.1;stress=no", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"stress_sleep 2s caps sleep", config_b, 0, "client_address=192.0.2.1;stress=yes", NONE, VERDICT_TARPIT, 2000, "new network"},
    {"stress_sleep 2s caps a rule's sleep", config_b, 0, "client_address=192.0.2.1;stress=yes;client_name=slow.example", NONE, VERDICT_TARPIT, 2000, "new network"},
    {"rule sleep without stress", config_b, 0, "client_address=192.0.2.1;client_name=slow.example", NONE, VERDICT_TARPIT, 20000, "new network"},
    {"greylist on by default: a network that failed", config_a, 0, "client_address=192.0.2.1", FAILED, VERDICT_GREYLIST, 10000, "failed the tarpit before"},
    {"greylist: a network that failed", config_g, 0, "client_address=192.0.2.1", FAILED, VERDICT_GREYLIST, 10000, "failed the tarpit before"},
    {"greylist: a new network is tarpitted", config_g, 0, "client_address=192.0.2.1", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"greylist off: a failed network is tarpitted", config_n, 0, "client_address=192.0.2.1", FAILED, VERDICT_TARPIT, 10000, "not yet escaped"},
};

/* request - a policy_req from "name=value;..." (kept in buf) */
static void request(const char *attrs, char *buf, size_t len, struct policy_req *q)
{
    char   *save = 0, *tok;

    snprintf(buf, len, "%s", attrs);
    memset(q, 0, sizeof(*q));
    for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(0, ";", &save)) {
	char   *eq = strchr(tok, '=');

	*eq = 0;
	q->attr[q->nattr].name = tok;
	q->attr[q->nattr++].value = eq + 1;
    }
}

int main(void)
{
    struct tp_conf a, b, g, n;
    char    buf[1024];

    unit_conf(config_a, &a);
    unit_conf(config_b, &b);
    unit_conf(config_g, &g);
    unit_conf(config_n, &n);
    EXPECT(a.nrules == 5 && a.nprofiles == 1 && a.profiles[0].nrules == 1,
	   "parsed %zu rules, %zu profiles", a.nrules, a.nprofiles);
    EXPECT(conf_profile(&a, "submission") != 0, "known profile");
    EXPECT(conf_profile(&a, "nope") == 0, "unknown profile");
    EXPECT(conf_profile(&a, "submission")->threshold == a.threshold
	   && conf_profile(&a, "submission")->skip_authenticated == 0,
	   "a profile copies the global settings and overrides its own");

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	const struct tp_conf *c = cases[i].config == config_a ? &a
	    : cases[i].config == config_g ? &g : cases[i].config == config_n ? &n : &b;
	struct policy_req q;
	struct tp_record r;
	int     found = cases[i].rec != NONE;

	if (cases[i].context)
	    c = conf_profile(c, cases[i].context);
	request(cases[i].attrs, buf, sizeof(buf), &q);
	memset(&r, 0, sizeof(r));
	r.escapes = cases[i].rec == ESCAPED;
	r.allow_until = cases[i].rec == ALLOWED ? -1 : 0;
	r.block_until = cases[i].rec == BLOCKED ? NOW + 60 : 0;
	r.recent_failures = r.hangups = cases[i].rec == FAILED;
	struct request rq;

	request_read(&rq, &q);
	struct decision d = decide(c, &rq, &r, found, NOW);

	EXPECT(d.verdict == cases[i].verdict && d.sleep_ms == cases[i].sleep_ms
	       && strcmp(d.reason, cases[i].reason) == 0,
	       "%s: verdict %d sleep %lld reason \"%s\"", cases[i].name,
	       d.verdict, (long long) d.sleep_ms, d.reason);
    }

    /* Until-times: 0 never, -1 for ever, else until that second. */
    EXPECT(!active_until(0, NOW) && active_until(-1, NOW)
	   && active_until(NOW + 1, NOW) && !active_until(NOW, NOW), "active_until");
    struct tp_record r;

    memset(&r, 0, sizeof(r));
    r.last_seen = NOW - 3599;
    EXPECT(!record_is_stale(&a, &r, NOW), "seen within the hour");
    r.last_seen = NOW - 3600;
    EXPECT(record_is_stale(&a, &r, NOW), "seen an hour ago");
    conf_free(&a);
    conf_free(&b);
    conf_free(&g);
    conf_free(&n);
    return unit_done("decide");
}

/*
 * decide_test - the decision table: config + request + record in,
 * verdict out.  The config is real tarpit.conf text, so profiles and
 * every kind of rule pattern go through the parser too.
 */
#define _GNU_SOURCE
#include "tarpit/decide.h"
#include "unit.h"
#include "unit_conf.h"
#include "unit_req.h"

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
"greylist = no\n"
"exempt_recipients = hostmaster@example.org\n"
"never_share = Hoster.example, other.example\n";

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
    {"postmaster@ of a new network: no wait", config_a, 0, "client_address=192.0.2.1;recipient=postmaster@example.net", NONE, VERDICT_DUNNO, 0, "exempt recipient"},
    {"Abuse@ of a blocked network: not refused", config_a, 0, "client_address=192.0.2.1;recipient=Abuse@example.net", BLOCKED, VERDICT_DUNNO, 0, "exempt recipient"},
    {"abuse@ beats a block rule", config_a, 0, "client_address=198.51.100.77;recipient=abuse@example.net", NONE, VERDICT_DUNNO, 0, "exempt recipient"},
    {"postmaster without a domain", config_a, 0, "client_address=192.0.2.1;recipient=postmaster", NONE, VERDICT_DUNNO, 0, "exempt recipient"},
    {"postmasters@ is not postmaster@", config_a, 0, "client_address=192.0.2.1;recipient=postmasters@example.net", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"exempt_recipients set otherwise: postmaster@ waits", config_n, 0, "client_address=192.0.2.1;recipient=postmaster@example.net", NONE, VERDICT_TARPIT, 10000, "new network"},
    {"exempt_recipients: a whole address", config_n, 0, "client_address=192.0.2.1;recipient=Hostmaster@Example.org", NONE, VERDICT_DUNNO, 0, "exempt recipient"},
    {"exempt_recipients: that address only", config_n, 0, "client_address=192.0.2.1;recipient=hostmaster@example.net", NONE, VERDICT_TARPIT, 10000, "new network"},
};

/* The verified domain's record, as decide_domain() is given it. */
enum dom { D_NONE, D_VOUCHES, D_FAILED, D_OUTNUMBERED };

static const struct {
    const char *name;
    const char *config;
    enum rec rec;			/* the network's */
    enum dom dom;
    enum verdict verdict;
    int     by_domain;
    const char *reason;
} domain_cases[] = {
    {"a new network of a domain that vouches: no wait", config_g, NONE, D_VOUCHES, VERDICT_DUNNO, 0, "its domain escaped"},
    {"a failed network of a domain that vouches: no wait", config_g, FAILED, D_VOUCHES, VERDICT_DUNNO, 0, "its domain escaped"},
    {"a new network of a new domain: tarpitted", config_g, NONE, D_NONE, VERDICT_TARPIT, 0, "new network"},
    {"a new network of a domain that failed: greylisted by the domain", config_g, NONE, D_FAILED, VERDICT_GREYLIST, 1, "its domain's clients failed the tarpit before"},
    {"a failed network of a new domain: greylisted by the domain", config_g, FAILED, D_NONE, VERDICT_GREYLIST, 1, "failed the tarpit before"},
    {"failures outnumber escapes: no sharing, greylisted", config_g, NONE, D_OUTNUMBERED, VERDICT_GREYLIST, 1, "its domain's clients failed the tarpit before"},
    {"failures outnumber escapes, greylist off: tarpitted", config_n, NONE, D_OUTNUMBERED, VERDICT_TARPIT, 0, "new network"},
    {"greylist off, a domain that failed: tarpitted", config_n, NONE, D_FAILED, VERDICT_TARPIT, 0, "new network"},
    {"greylist off, a domain that vouches: no wait", config_n, NONE, D_VOUCHES, VERDICT_DUNNO, 0, "its domain escaped"},
    {"an escaped network stays as it was", config_g, ESCAPED, D_OUTNUMBERED, VERDICT_DUNNO, 0, "escaped"},
    {"a blocked network stays blocked", config_g, BLOCKED, D_VOUCHES, VERDICT_BLOCK, 0, "blocked"},
};

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
	unit_request(cases[i].attrs, buf, sizeof(buf), &q);
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

    for (size_t i = 0; i < sizeof(domain_cases) / sizeof(domain_cases[0]); i++) {
	const struct tp_conf *c = domain_cases[i].config == config_g ? &g : &n;
	struct policy_req q;
	struct tp_record r, dr;
	struct request rq;
	enum dom dom = domain_cases[i].dom;

	unit_request("client_address=192.0.2.1;client_name=mx.example.com", buf, sizeof(buf), &q);
	request_read(&rq, &q);
	memset(&r, 0, sizeof(r));
	r.escapes = domain_cases[i].rec == ESCAPED;
	r.block_until = domain_cases[i].rec == BLOCKED ? NOW + 60 : 0;
	r.recent_failures = r.hangups = domain_cases[i].rec == FAILED;
	memset(&dr, 0, sizeof(dr));
	dr.escapes = dom == D_VOUCHES ? 3 : dom == D_OUTNUMBERED ? 1 : 0;
	dr.recent_failures = dom == D_VOUCHES ? 3 : dom == D_OUTNUMBERED ? 2 : dom == D_FAILED;
	struct decision d = decide(c, &rq, &r, domain_cases[i].rec != NONE, NOW);

	decide_domain(c, &d, &dr, dom != D_NONE);
	EXPECT(d.verdict == domain_cases[i].verdict && d.by_domain == domain_cases[i].by_domain
	       && strcmp(d.reason, domain_cases[i].reason) == 0
	       && (d.verdict == VERDICT_TARPIT || d.verdict == VERDICT_GREYLIST || d.sleep_ms == 0),
	       "%s: verdict %d by_domain %d reason \"%s\"", domain_cases[i].name,
	       d.verdict, d.by_domain, d.reason);
    }
    EXPECT(domain_may_share(&a, "example.com") && domain_may_share(&n, "example.com"),
	   "the global settings share by domain");
    EXPECT(!domain_may_share(&n, "hoster.example") && !domain_may_share(&n, "other.example")
	   && domain_may_share(&n, "hoster.example.net"), "never_share: those domains only");
    EXPECT(!domain_may_share(conf_profile(&a, "submission"), "example.com"),
	   "a profile with records of its own shares nothing by domain");

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

/*
 * ledger_test - what each event does to a network's record: a table of
 * event + record before -> the store's change, the record after and the
 * host-wide counters.  Records are written as "field=value" text over
 * the record's own field names; "now-60" is a time a minute ago.  The
 * after column lists only what changes.
 */
#define _GNU_SOURCE
#include "tarpit/ledger.h"
#include "unit.h"
#include "unit_conf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1800000000LL
#define H 3600
#define DAY 86400

static const char config[] =
"sleep = 10s\n"
"threshold = 1\n"
"refresh = 1h\n"
"max_age = 30d\n"
"block_after = 3\n"
"block_for = 7d\n"
"greylist_delay = 300s\n"
"greylist_retries = 2\n"
"greylist_window = 1d\n"
"greylist_entries = 20\n";

static const char no_block[] = "sleep = 10s\n";

#define DONE(ms) {WAIT_DONE, ms, 0, 0}
#define GONE(ms) {WAIT_CLIENT_GONE, ms, 0, 0}
#define TALK(ms) {WAIT_EARLY_TALKER, ms, 1, 0}
#define SMTPD(ms) {WAIT_POLICY_GONE, ms, 0, 0}
#define NOWAIT {WAIT_DONE, 0, 0, 0}

static const struct {
    const char *name;
    const char *config;
    enum ledger_event event;
    struct wait_outcome wait;		/* WAIT_ENDED */
    int64_t arg;			/* WAIT_BEGUN: sleep_ms; ALLOW/BLOCK: until */
    const char *before;			/* 0: no record */
    enum db_change change;
    const char *after;			/* the fields that change */
    const char *comment;		/* after, or 0 for unchanged */
    const char *stats;			/* the counters that moved */
} cases[] = {
    /* A wait begun. */
    {"begun: a new network", config, LEDGER_WAIT_BEGUN, NOWAIT, 10000, 0, DB_WRITE,
     "first_seen=now last_seen=now last_tarpit=now last_wait_ms=10000 tarpits=1", 0, "tarpits=1"},
    {"begun: a known network", config, LEDGER_WAIT_BEGUN, NOWAIT, 10000,
     "first_seen=now-100 last_seen=now-100 tarpits=1", DB_WRITE,
     "last_seen=now last_tarpit=now last_wait_ms=10000 tarpits=2", 0, "tarpits=1"},
    {"begun: an old wait without delivery is a dropout first", config, LEDGER_WAIT_BEGUN, NOWAIT, 10000,
     "tarpits=1 pending=1 last_completed=now-3600", DB_WRITE,
     "tarpits=2 pending=0 dropouts=1 recent_failures=1 last_seen=now last_tarpit=now last_wait_ms=10000", 0,
     "tarpits=1 dropouts=1"},
    {"begun: a recent wait stays pending", config, LEDGER_WAIT_BEGUN, NOWAIT, 10000,
     "tarpits=1 pending=1 last_completed=now-3599", DB_WRITE,
     "tarpits=2 last_seen=now last_tarpit=now last_wait_ms=10000", 0, "tarpits=1"},
    {"begun: the third failure blocks (block_after 3)", config, LEDGER_WAIT_BEGUN, NOWAIT, 10000,
     "tarpits=3 hangups=2 pending=1 last_completed=now-7200", DB_WRITE,
     "tarpits=4 pending=0 dropouts=1 recent_failures=1 last_seen=now last_tarpit=now last_wait_ms=10000 "
     "block_until=now+604800", "blocked after 3 failed waits", "tarpits=1 dropouts=1 blocks=1"},
    /* A wait ended. */
    {"ended: done, now pending", config, LEDGER_WAIT_ENDED, DONE(10003), 0,
     "tarpits=1 last_wait_ms=10000", DB_WRITE,
     "pending=1 last_completed=now last_wait_ms=10003 learned=1", 0, ""},
    {"ended: hang-up after 35 s", config, LEDGER_WAIT_ENDED, GONE(35000), 0,
     "tarpits=1", DB_WRITE, "hangups=1 recent_failures=1 last_wait_ms=35000 hangup_ms=35000", 0, "hangups=1 hist3=1 hangup_ms=35000"},
    {"ended: the third hang-up blocks", config, LEDGER_WAIT_ENDED, GONE(2000), 0,
     "tarpits=3 hangups=2 recent_failures=2", DB_WRITE,
     "hangups=3 recent_failures=3 last_wait_ms=2000 hangup_ms=2000 block_until=now+604800",
     "blocked after 3 failed waits", "hangups=1 hist0=1 blocks=1 hangup_ms=2000"},
    {"ended: the third hang-up, block_after 0: no block", no_block, LEDGER_WAIT_ENDED, GONE(2000), 0,
     "tarpits=3 hangups=2 recent_failures=2", DB_WRITE, "hangups=3 recent_failures=3 last_wait_ms=2000 hangup_ms=2000", 0,
     "hangups=1 hist0=1 hangup_ms=2000"},
    {"ended: hang-ups of an escaped network never block", config, LEDGER_WAIT_ENDED, GONE(2000), 0,
     "tarpits=9 escapes=1 hangups=5", DB_WRITE, "hangups=6 recent_failures=1 last_wait_ms=2000 hangup_ms=2000", 0,
     "hangups=1 hist0=1 hangup_ms=2000"},
    {"ended: an allowed network is not blocked", config, LEDGER_WAIT_ENDED, GONE(2000), 0,
     "tarpits=3 hangups=2 allow_until=-1", DB_WRITE, "hangups=3 recent_failures=1 last_wait_ms=2000 hangup_ms=2000", 0,
     "hangups=1 hist0=1 hangup_ms=2000"},
    {"ended: a hang-up after 5 min lands in the last bucket", config, LEDGER_WAIT_ENDED, GONE(400000), 0,
     "tarpits=1", DB_WRITE, "hangups=1 recent_failures=1 last_wait_ms=400000 hangup_ms=400000", 0, "hangups=1 hist30=1 hangup_ms=400000"},
    {"ended: early talker", config, LEDGER_WAIT_ENDED, TALK(1500), 0,
     "tarpits=1", DB_WRITE, "early_talkers=1 recent_failures=1 last_wait_ms=1500", 0, "early_talkers=1"},
    {"ended: talked, but early_talker_action=ignore let it wait on", config, LEDGER_WAIT_ENDED,
     {WAIT_DONE, 10000, 1, 0}, 0, "tarpits=1", DB_WRITE,
     "early_talkers=1 pending=1 last_completed=now last_wait_ms=10000 learned=1", 0, "early_talkers=1"},
    {"ended: smtpd gave up: only the time", config, LEDGER_WAIT_ENDED, SMTPD(4000), 0,
     "tarpits=1", DB_WRITE, "last_wait_ms=4000", 0, ""},
    {"ended: the record was deleted meanwhile", config, LEDGER_WAIT_ENDED, DONE(10000), 0,
     0, DB_KEEP, "", 0, ""},
    {"a wait of 0 s: begun and ended in one", config, LEDGER_WAIT_ZERO, NOWAIT, 0, 0, DB_WRITE,
     "first_seen=now last_seen=now last_tarpit=now tarpits=1 pending=1 last_completed=now learned=1", 0,
     "tarpits=1"},
    /* An escape. */
    {"escape: a pending wait escapes", config, LEDGER_ESCAPE, NOWAIT, 0,
     "tarpits=2 pending=1 recent_failures=1 hangups=1 last_completed=now-60 last_seen=now-70", DB_WRITE,
     "pending=0 escapes=1 recent_failures=0 last_seen=now", 0, "escapes=1"},
    {"escape: nothing pending, fresh: read-only", config, LEDGER_ESCAPE, NOWAIT, 0,
     "escapes=1 last_seen=now-60", DB_KEEP, "", 0, ""},
    {"escape: nothing pending, stale: last_seen", config, LEDGER_ESCAPE, NOWAIT, 0,
     "escapes=1 last_seen=now-3600", DB_WRITE, "last_seen=now", 0, ""},
    {"escape: a wait an hour old is a dropout, not an escape", config, LEDGER_ESCAPE, NOWAIT, 0,
     "tarpits=1 pending=1 last_completed=now-3600 last_seen=now-3600", DB_WRITE,
     "pending=0 dropouts=1 recent_failures=1 last_seen=now", 0, "dropouts=1"},
    {"escape: settles like a wait: the third failure blocks", config, LEDGER_ESCAPE, NOWAIT, 0,
     "tarpits=3 hangups=2 recent_failures=2 pending=1 last_completed=now-4000 last_seen=now-10", DB_WRITE,
     "pending=0 dropouts=1 recent_failures=3 block_until=now+604800",
     "blocked after 3 failed waits", "dropouts=1 blocks=1"},
    {"escape: no record: nothing", config, LEDGER_ESCAPE, NOWAIT, 0, 0, DB_KEEP, "", 0, ""},
    /* A refresh. */
    {"refresh: stale", config, LEDGER_REFRESH, NOWAIT, 0, "escapes=1 last_seen=now-3600",
     DB_WRITE, "last_seen=now", 0, ""},
    {"refresh: fresh: read-only", config, LEDGER_REFRESH, NOWAIT, 0, "escapes=1 last_seen=now-3599",
     DB_KEEP, "", 0, ""},
    {"refresh: no record", config, LEDGER_REFRESH, NOWAIT, 0, 0, DB_KEEP, "", 0, ""},
    {"greylist passed: rescued, a pending pass for its delivery", config, LEDGER_GREY_PASSED,
     NOWAIT, 0, "tarpits=1 hangups=1 recent_failures=1 last_seen=now-600", DB_WRITE,
     "recent_failures=0 pending=1 last_completed=now last_seen=now learned=2", 0, ""},
    {"greylist passed: no record (deleted meanwhile): nothing", config, LEDGER_GREY_PASSED,
     NOWAIT, 0, 0, DB_KEEP, "", 0, ""},
    {"escape after a rescue: the delivery escapes it, retried", config, LEDGER_ESCAPE, NOWAIT, 0,
     "tarpits=1 hangups=1 pending=1 last_completed=now-60 learned=2", DB_WRITE,
     "pending=0 escapes=1 last_seen=now", 0, "escapes=1"},
    {"a rescue never blocks (block_after 3, three failures before)", config, LEDGER_GREY_PASSED,
     NOWAIT, 0, "tarpits=3 hangups=2 early_talkers=1 recent_failures=3", DB_WRITE,
     "recent_failures=0 pending=1 last_completed=now last_seen=now learned=2", 0, ""},
    /* An admin's marks. */
    {"allow for ever: a new record", config, LEDGER_ALLOW, NOWAIT, -1, 0, DB_WRITE,
     "first_seen=now last_seen=now allow_until=-1", 0, ""},
    {"allow clears a block", config, LEDGER_ALLOW, NOWAIT, NOW + DAY, "block_until=-1",
     DB_WRITE, "block_until=0 allow_until=now+86400", 0, ""},
    {"block clears an allowance", config, LEDGER_BLOCK, NOWAIT, -1, "allow_until=-1",
     DB_WRITE, "allow_until=0 block_until=-1", 0, ""},
    {"unblock: the block and its comment", config, LEDGER_UNBLOCK, NOWAIT, 0,
     "block_until=-1 hangups=3", DB_WRITE, "block_until=0", "", ""},
    {"unblock: no record", config, LEDGER_UNBLOCK, NOWAIT, 0, 0, DB_KEEP, "", 0, ""},
    {"unblock: not blocked: read-only", config, LEDGER_UNBLOCK, NOWAIT, 0, "allow_until=-1",
     DB_KEEP, "", 0, ""},
    /* Expiry (cutoff: max_age 30 d). */
    {"expire: untouched for 31 days", config, LEDGER_EXPIRE, NOWAIT, 0,
     "escapes=1 last_seen=now-2678400", DB_DELETE, "", 0, ""},
    {"expire: seen 29 days ago", config, LEDGER_EXPIRE, NOWAIT, 0,
     "escapes=1 last_seen=now-2505600", DB_KEEP, "", 0, ""},
    {"expire: an old record held by its block", config, LEDGER_EXPIRE, NOWAIT, 0,
     "last_seen=now-2678400 block_until=-1", DB_KEEP, "", 0, ""},
    {"expire: a block that ran out is cleared", config, LEDGER_EXPIRE, NOWAIT, 0,
     "last_seen=now-60 block_until=now-1", DB_WRITE, "block_until=0", 0, ""},
    {"expire: an old record whose block ran out goes", config, LEDGER_EXPIRE, NOWAIT, 0,
     "last_seen=now-2678400 block_until=now-1", DB_DELETE, "", 0, ""},
    /* The mail log. */
    {"learn: delivered: escaped at once", config, LEDGER_LEARN_ESCAPE, NOWAIT, 0, 0, DB_WRITE,
     "first_seen=now last_seen=now escapes=1 learned=3", 0, ""},
    {"learn: a correspondent: escaped at once", config, LEDGER_LEARN_CORRESPONDENT, NOWAIT, 0,
     "tarpits=1 hangups=1 recent_failures=1 last_seen=now-60", DB_WRITE,
     "escapes=1 recent_failures=0 last_seen=now learned=4", 0, ""},
    {"learn: a correspondent already escaped: read-only", config, LEDGER_LEARN_CORRESPONDENT,
     NOWAIT, 0, "escapes=1 learned=1", DB_KEEP, "", 0, ""},
    {"learn: delivered, already escaped", config, LEDGER_LEARN_ESCAPE, NOWAIT, 0, "escapes=3",
     DB_KEEP, "", 0, ""},
    {"learn: an offender is blocked", config, LEDGER_LEARN_OFFENDER, NOWAIT, 0, 0, DB_WRITE,
     "first_seen=now last_seen=now block_until=now+604800", "offender in the mail log", ""},
    {"learn: an offender that delivered is not", config, LEDGER_LEARN_OFFENDER, NOWAIT, 0,
     "escapes=1", DB_KEEP, "", 0, ""},
    {"learn: an allowed offender is not", config, LEDGER_LEARN_OFFENDER, NOWAIT, 0,
     "allow_until=-1", DB_KEEP, "", 0, ""},
    /* A verified domain's record: its clients' waits, its networks' escapes. */
    {"domain: a client's first wait, hung up", config, LEDGER_DOMAIN_WAIT, GONE(20000), 0, 0,
     DB_WRITE, "first_seen=now last_seen=now tarpits=1 hangups=1 hangup_ms=20000 "
     "recent_failures=1 last_wait_ms=20000", 0, ""},
    {"domain: a wait sat out is no failure", config, LEDGER_DOMAIN_WAIT, NOWAIT, 0,
     "tarpits=1 hangups=1 recent_failures=1", DB_WRITE, "last_seen=now tarpits=2", 0, ""},
    {"domain: an early talker is a failure", config, LEDGER_DOMAIN_WAIT, TALK(1500), 0,
     "tarpits=1", DB_WRITE, "last_seen=now tarpits=2 early_talkers=1 recent_failures=1 "
     "last_wait_ms=1500", 0, ""},
    {"domain: an escape of one of its networks, failures kept", config, LEDGER_DOMAIN_ESCAPE,
     NOWAIT, 0, "tarpits=2 hangups=1 recent_failures=1", DB_WRITE,
     "last_seen=now escapes=1", 0, ""},
    {"domain: its first escape makes the record", config, LEDGER_DOMAIN_ESCAPE, NOWAIT, 0, 0,
     DB_WRITE, "first_seen=now last_seen=now escapes=1", 0, ""},
};

/* parse - "field=value ..." over r (records) or s (counters, "histN") */
static void parse(const char *text, struct tp_record *r, struct tp_stats *s)
{
    char    buf[512], *save = 0, *tok;

    snprintf(buf, sizeof(buf), "%s", text ? text : "");
    for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(0, " ", &save)) {
	char   *eq = strchr(tok, '=');
	int64_t v;
	int     known = 0;

	if (eq == 0)
	    abort();
	*eq++ = 0;
	v = strncmp(eq, "now", 3) == 0 ? NOW + atoll(eq + 3) : atoll(eq);
	for (size_t i = 0; r && i < record_nfields; i++)
	    if (strcmp(tok, record_field_table[i].name) == 0)
		*RECORD_FIELD(r, record_field_table + i) = v, known = 1;
	for (size_t i = 0; s && i < stats_nfields; i++)
	    if (strcmp(tok, stats_field_table[i].name) == 0)
		*RECORD_FIELD(s, stats_field_table + i) = v, known = 1;
	if (s && strncmp(tok, "hist", 4) == 0)
	    s->hangup_hist[atoi(tok + 4)] = v, known = 1;
	if (!known) {
	    fprintf(stderr, "ledger_test: unknown field %s\n", tok);
	    abort();
	}
    }
}

/* grey - one attempt of a greylist entry at NOW + at */
static enum db_change grey(const struct tp_conf *c, struct db_txn *t, int64_t at,
			           struct ledger *l)
{
    memset(l, 0, sizeof(*l));
    l->event = LEDGER_GREY_ATTEMPT;
    l->conf = c;
    l->now = NOW + at;
    l->grey_room = 1;
    return ledger_apply(t, l);
}

int main(void)
{
    struct tp_conf c, nb;

    unit_conf(config, &c);
    unit_conf(no_block, &nb);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	struct db_txn t;
	struct tp_record want;
	struct tp_stats want_stats;
	struct ledger l = {.event = cases[i].event,.conf = cases[i].config == config
	    ? &c : &nb,.now = NOW,.wait = cases[i].wait,.sleep_ms = cases[i].arg,
	.until = cases[i].arg,.cutoff = NOW - 30 * DAY};
	enum db_change got, preview;

	memset(&t, 0, sizeof(t));
	t.found = cases[i].before != 0;
	parse(cases[i].before, &t.rec, 0);
	if (cases[i].event == LEDGER_UNBLOCK)
	    snprintf(t.rec.comment, sizeof(t.rec.comment), "blocked after 3 failed waits");
	want = t.rec;
	parse(cases[i].after, &want, 0);
	if (cases[i].comment)
	    snprintf(want.comment, sizeof(want.comment), "%s", cases[i].comment);
	memset(&want_stats, 0, sizeof(want_stats));
	parse(cases[i].stats, 0, &want_stats);

	preview = ledger_preview(&l, &t.rec, t.found);
	got = ledger_apply(&t, &l);
	EXPECT(got == cases[i].change, "%s: change %d, want %d", cases[i].name,
	       got, cases[i].change);
	EXPECT(preview == got, "%s: the preview says %d, the event did %d",
	       cases[i].name, preview, got);
	if (got != DB_DELETE && got == cases[i].change) {
	    for (size_t f = 0; f < record_nfields; f++) {
		const struct record_field *rf = record_field_table + f;

		EXPECT(*RECORD_FIELD(&t.rec, rf) == *RECORD_FIELD(&want, rf),
		       "%s: %s = %lld, want %lld", cases[i].name, rf->name,
		       (long long) *RECORD_FIELD(&t.rec, rf),
		       (long long) *RECORD_FIELD(&want, rf));
	    }
	    EXPECT(strcmp(t.rec.comment, want.comment) == 0, "%s: comment \"%s\", "
		   "want \"%s\"", cases[i].name, t.rec.comment, want.comment);
	}
	EXPECT(memcmp(&t.stats, &want_stats, sizeof(want_stats)) == 0
	       && t.stats_changed == (cases[i].stats[0] != 0),
	       "%s: the host-wide counters (changed %d)", cases[i].name, t.stats_changed);
    }

    /* Greylisting, one tuple over time, as taRgrey counts: every try is a
     * retry; greylist_retries (2) of them pass, the last at least
     * greylist_delay (300 s) after the first; the entry then goes. */
    static const struct {
	int64_t at;
	enum db_change change;
	enum grey_result want;
	int64_t retries;
    } steps[] = {
	{0, DB_WRITE, GREY_DEFER, 1},	/* first try: the entry is made */
	{5, DB_WRITE, GREY_DEFER, 2},	/* enough tries, too soon */
	{299, DB_WRITE, GREY_DEFER, 3},	/* still too soon */
	{300, DB_DELETE, GREY_PASS, 4},	/* the first try after the delay */
    }, once[] = {
	{0, DB_WRITE, GREY_DEFER, 1},	/* a bot that retries once */
	{3600, DB_WRITE, GREY_DEFER, 1},	/* ... another tuple's try */
    }, twice[] = {
	{0, DB_WRITE, GREY_DEFER, 1},
	{900, DB_DELETE, GREY_PASS, 2},	/* a mail server's second retry */
    };
    struct db_txn t;
    struct ledger l;
    struct grey_entry g;
    char    buf[64];

    memset(&t, 0, sizeof(t));
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
	enum db_change got = grey(&c, &t, steps[i].at, &l);

	grey_from_record(&t.rec, &g);
	EXPECT(got == steps[i].change && l.grey == steps[i].want
	       && l.retries == steps[i].retries && g.retries == steps[i].retries,
	       "greylist at +%llds: change %d, %d with %lld retries", (long long) steps[i].at,
	       got, l.grey, (long long) l.retries);
	EXPECT(g.first_seen == NOW && g.last_attempt == NOW + steps[i].at,
	       "greylist at +%llds: first_seen and last_attempt", (long long) steps[i].at);
	t.found = 1;
    }
    EXPECT(t.stats.greylisted == 3, "greylisted counted per deferral: %lld",
	   (long long) t.stats.greylisted);
    for (size_t i = 0; i < 2; i++) {
	/* Two tuples: a bot's one retry each never passes. */
	memset(&t, 0, sizeof(t));
	EXPECT(grey(&c, &t, once[i].at, &l) == once[i].change && l.grey == once[i].want
	       && l.retries == once[i].retries, "a tuple tried once (+%llds) is deferred",
	       (long long) once[i].at);
    }
    memset(&t, 0, sizeof(t));
    for (size_t i = 0; i < 2; i++) {
	EXPECT(grey(&c, &t, twice[i].at, &l) == twice[i].change && l.grey == twice[i].want
	       && l.retries == twice[i].retries, "a tuple's retry at +%llds: %d",
	       (long long) twice[i].at, l.grey);
	t.found = 1;
    }
    memset(&t, 0, sizeof(t));
    grey(&c, &t, 0, &l);
    t.found = 1;
    grey(&c, &t, DAY + 1, &l);
    grey_from_record(&t.rec, &g);
    EXPECT(l.grey == GREY_DEFER && g.retries == 1 && g.first_seen == NOW + DAY + 1,
	   "past greylist_window: starts over");

    /* A /48 counts its /64s up to ipv6_aggregate, and says where it is. */
    memset(&t, 0, sizeof(t));
    int64_t aggregate = c.ipv6_aggregate;

    c.ipv6_aggregate = 2;
    for (int i = 1; i <= 3; i++) {
	enum db_change ch;

	l = (struct ledger) {.event = LEDGER_SPREAD,.conf = &c,.now = NOW};
	ch = ledger_apply(&t, &l);
	t.found = 1;
	EXPECT(i <= 2 ? ch == DB_WRITE && !l.spread_full && l.spread == i
	       : ch == DB_KEEP && l.spread_full && l.spread == 2,
	       "/64 %d of a /48 with ipv6_aggregate 2: change %d, full %d, count %lld",
	       i, (int) ch, l.spread_full, (long long) l.spread);
    }
    EXPECT(t.rec.spread == 2, "the count stops at the bound (%lld)", (long long) t.rec.spread);
    c.ipv6_aggregate = aggregate;

    /* A network makes at most greylist_entries (20) entries a window. */
    memset(&t, 0, sizeof(t));
    l = (struct ledger) {.event = LEDGER_GREY_ATTEMPT,.conf = &c,.now = NOW,.grey_room = 0};
    EXPECT(ledger_apply(&t, &l) == DB_KEEP && l.grey == GREY_DEFER && !l.made,
	   "no room: a new tuple is deferred, and no entry made");
    grey(&c, &t, 0, &l);
    EXPECT(l.made, "with room: the entry is made, and said so");
    t.found = 1;
    l = (struct ledger) {.event = LEDGER_GREY_ATTEMPT,.conf = &c,.now = NOW + 400,.grey_room = 0};
    EXPECT(ledger_apply(&t, &l) == DB_DELETE && l.grey == GREY_PASS && !l.made,
	   "no room: a tuple that has its entry still counts its retries");
    memset(&t, 0, sizeof(t));
    t.found = 1;
    for (int i = 0; i < 20; i++) {
	EXPECT(ledger_grey_room(&c, &t.rec, NOW + i), "room for entry %d", i + 1);
	l = (struct ledger) {.event = LEDGER_GREY_MADE,.conf = &c,.now = NOW + i};
	ledger_apply(&t, &l);
    }
    EXPECT(t.rec.grey_made == 20 && t.rec.grey_since == NOW && !ledger_grey_room(&c, &t.rec, NOW + 60),
	   "20 entries in the window: no room for a 21st (%lld)", (long long) t.rec.grey_made);
    EXPECT(ledger_grey_room(&c, &t.rec, NOW + DAY + 1), "a window later: room again");
    l = (struct ledger) {.event = LEDGER_GREY_MADE,.conf = &c,.now = NOW + DAY + 1};
    ledger_apply(&t, &l);
    EXPECT(t.rec.grey_made == 1 && t.rec.grey_since == NOW + DAY + 1, "... counted afresh");

    /* A pool's new network rescued by its domain's tuple: the record is made. */
    memset(&t, 0, sizeof(t));
    l = (struct ledger) {.event = LEDGER_GREY_PASSED,.conf = &c,.now = NOW,.create = 1};
    EXPECT(ledger_apply(&t, &l) == DB_WRITE && t.rec.first_seen == NOW && t.rec.pending == 1
	   && t.rec.learned == LEARNED_RETRIED,
	   "rescued by its domain: a new network gets a pending pass");
    EXPECT(ledger_domain_key("outlook.com", buf, sizeof(buf)) != 0
	   && strcmp(buf, "@domain outlook.com") == 0
	   && strcmp(ledger_key_domain(buf), "outlook.com") == 0
	   && ledger_key_domain("192.0.2.0/24") == 0
	   && ledger_domain_key("outlook.com", buf, 12) == 0, "a domain's key: %s", buf);

    /* A greylist entry is stored in a record's places: the one mapping. */
    struct grey_entry in = {1, 2, 3, 4}, out;
    struct tp_record r;

    grey_to_record(&in, &r);
    grey_from_record(&r, &out);
    EXPECT(memcmp(&in, &out, sizeof(in)) == 0 && r.first_seen == 1 && r.last_seen == 2
	   && r.tarpits == 3 && r.last_tarpit == 4, "grey entry <-> record places");

    /* Keys. */
    char    key[LEDGER_KEY_MAX], big[2000];

    EXPECT(ledger_grey_key("192.0.2.0/24", "A@Example.ORG", "", key, sizeof(key)) != 0
	   && strcmp(key, "@grey 192.0.2.0/24 a@example.org <>") == 0, "grey key: %s", key);
    EXPECT(ledger_is_grey_key(key) && !ledger_is_grey_key("192.0.2.0/24")
	   && !ledger_is_grey_key(KEY_STATS), "grey keys are told apart");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    char    key2[LEDGER_KEY_MAX];

    EXPECT(ledger_grey_key("192.0.2.0/24", big, "b", key, sizeof(key)) != 0
	   && strncmp(key, "@grey 192.0.2.0/24 #", 20) == 0 && strlen(key) == 20 + 32,
	   "a tuple too long for a key is a hash: %s", key);
    EXPECT(ledger_grey_key("192.0.2.0/24", big, "c", key2, sizeof(key2)) != 0
	   && strcmp(key, key2) != 0, "... of sender and recipient both");
    big[5] = 'A';
    EXPECT(ledger_grey_key("192.0.2.0/24", big, "b", key2, sizeof(key2)) != 0
	   && strcmp(key, key2) == 0, "... in lower case, as the short keys");
    EXPECT(ledger_is_grey_key(key), "... and still a greylist entry's key");

    /* A profile's records are its own, unless it shares the global ones. */
    struct tp_conf pc;
    char    nk[LEDGER_NET_KEY_MAX];

    unit_conf("sleep = 1s\n[submission]\nsleep = 5s\n[partner]\nshare_escapes = yes\n", &pc);
    EXPECT(strcmp(ledger_traffic_key(&pc, "192.0.2.0/24", nk, sizeof(nk)), "192.0.2.0/24") == 0,
	   "global settings: the network's own key");
    EXPECT(strcmp(ledger_traffic_key(conf_profile(&pc, "submission"), "192.0.2.0/24", nk,
				     sizeof(nk)), "[submission]192.0.2.0/24") == 0,
	   "a profile: its own key, %s", nk);
    EXPECT(strcmp(ledger_traffic_key(conf_profile(&pc, "partner"), "192.0.2.0/24", nk,
				     sizeof(nk)), "192.0.2.0/24") == 0, "share_escapes: the network's");
    EXPECT(ledger_traffic_key(conf_profile(&pc, "submission"), "192.0.2.0/24", nk, 10) == 0,
	   "a key too long for the buffer is refused, not cut");
    EXPECT(ledger_traffic_key(conf_profile(&pc, "submission"), "192.0.2.0/24", nk, 25) != 0
	   && strcmp(nk, "[submission]192.0.2.0/24") == 0
	   && ledger_traffic_key(conf_profile(&pc, "submission"), "192.0.2.0/24", nk, 24) == 0
	   && ledger_traffic_key(&pc, "192.0.2.0/24", nk, 13) != 0
	   && ledger_traffic_key(&pc, "192.0.2.0/24", nk, 12) == 0,
	   "a key and its NUL fit exactly, one byte less is refused");
    EXPECT(strcmp(ledger_key_network("[submission]2001:db8::/64"), "2001:db8::/64") == 0
	   && strcmp(ledger_key_network("192.0.2.0/24"), "192.0.2.0/24") == 0
	   && ledger_key_network("[]192.0.2.0/24") == 0 && ledger_key_network("[a b]1.2.3.0/24") == 0
	   && ledger_key_network("[open192.0.2.0/24") == 0, "ledger_key_network");
    conf_free(&pc);

    struct tp_record own, glob;
    int     found = 0;

    memset(&own, 0, sizeof(own));
    memset(&glob, 0, sizeof(glob));
    glob.escapes = 5;
    ledger_take_marks(&own, &found, &glob, 1);
    EXPECT(!found && own.escapes == 0, "the network's escapes are not the profile's");
    glob.block_until = -1;
    snprintf(glob.comment, sizeof(glob.comment), "ticket 1");
    ledger_take_marks(&own, &found, &glob, 1);
    EXPECT(found && own.block_until == -1 && own.escapes == 0
	   && strcmp(own.comment, "ticket 1") == 0, "the admin's block holds in the profile");

    /* max_waiting refused a wait: counted. */
    struct tp_stats st;

    memset(&st, 0, sizeof(st));
    ledger_count_refused(&st, 0);
    EXPECT(st.waits_refused == 1, "refused waits counted");
    conf_free(&c);
    conf_free(&nb);
    return unit_done("ledger");
}

/*
 * NAME
 *	ledger - what each event does to a network's record
 * DESCRIPTION
 *	ledger_apply() is the one db_update_fn of the programs: given an
 *	event (struct ledger) and, under the exclusive lock, the key's record
 *	and the host-wide counters, it changes them as the event says and
 *	tells the store whether to write, delete or keep.  ledger_preview()
 *	runs the same rule on a copy, writing nothing: what a dry run would
 *	do, or whether a read-only path needs a write at all.
 *
 *	The events of a network's traffic (a wait begun or ended, an escape)
 *	settle the record around their own change: first, waits completed
 *	long ago (PENDING_MAX_AGE) without a delivery become dropouts; then
 *	the event; last, a network that has failed block_after times and
 *	never escaped is blocked for block_for.  tarpit-check and
 *	tarpit-store settle the same way.
 *
 *	A wait:
 *	  begun      tarpits and last_tarpit; first_seen for a new network;
 *	  ended      done: pending (a delivery may now escape it);
 *	             client hung up: hangups, recent_failures, the histogram;
 *	             client talked: early_talkers, and recent_failures when the wait
 *	             ended for it; smtpd gone: only last_wait_ms.
 *	  of 0 s     begun and ended (done) in one write.
 *	An escape turns one pending wait into escapes, and forgives its
 *	recent_failures (those greylisting reads).  block_after reads another
 *	count: every failure of the network's life, hangups + early_talkers +
 *	dropouts (ledger_total_failures), which nothing forgives.
 *	A refresh moves last_seen of a known network once it is `refresh` old.
 *
 *	Greylist entries (ledger_grey_key: network, sender, recipient), as
 *	taRgrey counts them: every try of the tuple after its network failed
 *	the tarpit is a retry, the first one making the entry.  The tuple
 *	passes at the try that has made greylist_retries of them, the last
 *	at least greylist_delay after the first, within greylist_window;
 *	the entry is then removed.  A network makes at most greylist_entries
 *	entries in a greylist_window (counted in its record): a tuple more is
 *	deferred without one.  A network that passes is rescued: it is
 *	answered at once, without a wait, its recent_failures are cleared and it
 *	has a pending pass as if it had sat out a wait, so that its delivery
 *	escapes it (tarpit-store) and it never goes round again.
 *
 *	An IPv6 /48 counts its /64s that were given records of their own
 *	(spread): once ipv6_aggregate of them have, the helpers keep its new
 *	/64s under the /48's record (helper.c), so that one /48 cannot grow
 *	the database without end, nor dodge block_after by rotating /64s.
 *	A /64 takes its place in the count (LEDGER_SPREAD) before its record
 *	is made, in the /48's own transaction, and none is taken past
 *	ipv6_aggregate: helpers at once cannot make more.
 *
 *	A domain (ledger_domain_key: "@domain outlook.com", the registrable
 *	domain of clients' verified names) has a record of its own, of what
 *	its clients did: each wait of one of its clients (tarpits, and how it
 *	ended: hangups and the time they waited, early_talkers, counted as
 *	recent_failures) and each of its networks that escaped (escapes).
 *	Its failures are never forgiven: a domain whose failures outnumber
 *	its escapes shares nothing (decide.c).
 *
 *	A profile's traffic is its own (ledger_traffic_key): a network that
 *	escaped on the submission port has not escaped on port 25.  Its
 *	records are kept under "[NAME]NETWORK", unless the profile says
 *	share_escapes; an admin's allow and block of the network itself hold
 *	in every profile (ledger_take_marks).
 *
 *	Allowing clears a block and blocking clears an allowance.  Expiry
 *	removes records untouched since the cutoff unless an allow or block
 *	still holds them, clears allow and block marks that have run out,
 *	and removes greylist entries older than greylist_window.  The mail log (import-log) can say a network delivered (escaped
 *	at once) or offended (blocked, unless it ever delivered or is
 *	allowed).  A log's delivery escapes a network only when the admin
 *	seeds from a log of the time before the tarpit (import-log --seed);
 *	the hosts our own Postfix delivered mail to are correspondents and
 *	escape at once.  The record's `learned` says which pass it holds.
 */
#define _GNU_SOURCE
#include "tarpit/ledger.h"
#include "tarpit/decide.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>


/* ledger_total_failures - how often the network ever failed the tarpit:
 * hung up, talked over it, or waited and never delivered (block_after) */
int64_t ledger_total_failures(const struct tp_record *r)
{
    return r->hangups + r->early_talkers + r->dropouts;
}

/* age - waits completed long ago without a delivery become dropouts */
static void age(struct db_txn *t, const struct ledger *l)
{
    struct tp_record *r = &t->rec;
    int64_t n = r->pending;

    if (n <= 0 || l->now - r->last_completed < PENDING_MAX_AGE)
	return;
    r->dropouts += n;
    r->recent_failures += n;
    r->pending = 0;
    t->stats.dropouts += n;
    t->stats_changed = 1;
}

/* judge - block a network that failed block_after times, never escaped */
static void judge(struct db_txn *t, const struct ledger *l)
{
    const struct tp_conf *c = l->conf;
    struct tp_record *r = &t->rec;

    if (c->block_after == 0 || r->escapes > 0
	|| ledger_total_failures(r) < c->block_after
	|| active_until(r->block_until, l->now)
	|| active_until(r->allow_until, l->now))
	return;
    r->block_until = l->now + c->block_for_ms / 1000;
    snprintf(r->comment, sizeof(r->comment), "blocked after %lld failed waits",
	     (long long) ledger_total_failures(r));
    t->stats.blocks++;
    t->stats_changed = 1;
}

/* wait_begun - count the attempt */
static void wait_begun(struct db_txn *t, const struct ledger *l, int64_t sleep_ms)
{
    struct tp_record *r = &t->rec;

    if (!t->found)
	r->first_seen = l->now;
    r->last_seen = l->now;
    r->last_tarpit = l->now;
    r->last_wait_ms = sleep_ms;
    r->tarpits++;
    t->stats.tarpits++;
    t->stats_changed = 1;
}

/* wait_ended - how the wait ended */
static void wait_ended(struct db_txn *t, const struct ledger *l,
		               const struct wait_outcome *w)
{
    struct tp_record *r = &t->rec;

    r->last_wait_ms = w->waited_ms;
    if (w->talked) {
	r->early_talkers++;
	t->stats.early_talkers++;
	t->stats_changed = 1;
    }
    switch (w->result) {
    case WAIT_DONE:
	r->pending++;
	r->last_completed = l->now;
	r->learned = LEARNED_WAITED;
	break;
    case WAIT_CLIENT_GONE:
	r->hangups++;
	r->recent_failures++;
	r->hangup_ms += w->waited_ms;
	stats_add_hangup(&t->stats, w->waited_ms);
	t->stats_changed = 1;
	break;
    case WAIT_EARLY_TALKER:
	r->recent_failures++;
	break;
    case WAIT_POLICY_GONE:
	break;
    }
}

/* traffic - a network's own traffic, settled around the event */
static enum db_change traffic(struct db_txn *t, struct ledger *l)
{
    static const struct wait_outcome zero = {WAIT_DONE, 0, 0, 0};
    struct tp_record *r = &t->rec;
    enum db_change change = DB_WRITE;
    int     before = t->stats_changed;
    struct tp_record old = *r;

    if (!t->found && l->event != LEDGER_WAIT_BEGUN && l->event != LEDGER_WAIT_ZERO)
	return DB_KEEP;			/* deleted meanwhile: leave it so */
    t->stats_changed = 0;
    age(t, l);
    switch (l->event) {
    case LEDGER_WAIT_BEGUN:
	wait_begun(t, l, l->sleep_ms);
	break;
    case LEDGER_WAIT_ENDED:
	wait_ended(t, l, &l->wait);
	break;
    case LEDGER_WAIT_ZERO:
	wait_begun(t, l, 0);
	wait_ended(t, l, &zero);
	break;
    case LEDGER_ESCAPE:
	if (r->pending > 0) {
	    r->pending--;
	    r->escapes++;
	    r->recent_failures = 0;
	    r->last_seen = l->now;
	    t->stats.escapes++;
	    t->stats_changed = 1;
	    l->escaped = 1;
	    l->escapes = r->escapes;
	} else if (record_is_stale(l->conf, r, l->now)) {
	    r->last_seen = l->now;
	}
	break;
    default:
	break;
    }
    judge(t, l);
    if (!t->stats_changed && memcmp(&old, r, sizeof(old)) == 0)
	change = DB_KEEP;		/* nothing to write: stay read-only */
    t->stats_changed |= before;
    return change;
}

/* grey_attempt - one try of a greylisted tuple: every try is a retry;
 * greylist_retries of them pass, the last greylist_delay after the first */
static enum db_change grey_attempt(struct db_txn *t, struct ledger *l)
{
    const struct tp_conf *c = l->conf;
    struct grey_entry g;

    grey_from_record(&t->rec, &g);
    l->made = 0;
    if (!t->found || l->now - g.first_seen > c->greylist_window_ms / 1000) {
	l->grey = GREY_DEFER;
	l->retries = 0;
	if (!l->grey_room)
	    return DB_KEEP;		/* its network made enough entries */
	l->made = 1;
	memset(&g, 0, sizeof(g));
	g.first_seen = l->now;
    }
    g.last_attempt = g.last_retry = l->now;
    g.retries++;
    l->retries = g.retries;
    grey_to_record(&g, &t->rec);
    if (g.retries >= c->greylist_retries
	&& (l->now - g.first_seen) * 1000 >= c->greylist_delay_ms) {
	l->grey = GREY_PASS;
	return DB_DELETE;
    }
    l->grey = GREY_DEFER;
    t->stats.greylisted++;
    t->stats_changed = 1;
    return DB_WRITE;
}

/* grey_passed - the network retried past greylisting: rescued, it is
 * answered without a wait and holds a pending pass for its delivery */
static enum db_change grey_passed(struct db_txn *t, struct ledger *l)
{
    struct tp_record *r = &t->rec;

    if (!t->found && !l->create)
	return DB_KEEP;			/* deleted meanwhile: leave it so */
    if (!t->found)
	r->first_seen = l->now;		/* a pool's new network, rescued */
    age(t, l);
    r->recent_failures = 0;
    r->pending++;
    r->last_completed = l->now;
    r->last_seen = l->now;
    r->learned = LEARNED_RETRIED;
    return DB_WRITE;
}

/* domain_wait - one of a domain's clients waited: how it ended */
static enum db_change domain_wait(struct db_txn *t, const struct ledger *l)
{
    struct tp_record *r = &t->rec;
    const struct wait_outcome *w = &l->wait;

    if (!t->found)
	r->first_seen = l->now;
    r->last_seen = l->now;
    r->tarpits++;
    r->last_wait_ms = w->waited_ms;
    if (w->talked || w->result == WAIT_EARLY_TALKER)
	r->early_talkers++;
    if (w->result == WAIT_CLIENT_GONE) {
	r->hangups++;
	r->hangup_ms += w->waited_ms;
    }
    if (w->result == WAIT_CLIENT_GONE || w->result == WAIT_EARLY_TALKER)
	r->recent_failures++;
    return DB_WRITE;
}

/* domain_escape - one of a domain's networks escaped */
static enum db_change domain_escape(struct db_txn *t, const struct ledger *l)
{
    struct tp_record *r = &t->rec;

    if (!t->found)
	r->first_seen = l->now;
    r->last_seen = l->now;
    r->escapes++;
    return DB_WRITE;
}

/* ledger_grey_room - may a network make one more greylist entry?  At
 * most greylist_entries in a greylist_window: a bot's many senders and
 * recipients (a hundred RCPTs a session) make no more */
int     ledger_grey_room(const struct tp_conf *c, const struct tp_record *r, int64_t now)
{
    return r->grey_made < c->greylist_entries
	|| now - r->grey_since > c->greylist_window_ms / 1000;
}

/* grey_made - count an entry its network made, in the window */
static enum db_change grey_made(struct db_txn *t, struct ledger *l)
{
    struct tp_record *r = &t->rec;

    if (!t->found)
	return DB_KEEP;
    if (l->now - r->grey_since > l->conf->greylist_window_ms / 1000) {
	r->grey_since = l->now;
	r->grey_made = 0;
    }
    r->grey_made++;
    return DB_WRITE;
}

/* mark - an admin's allow, block or unblock */
static enum db_change mark(struct db_txn *t, struct ledger *l)
{
    struct tp_record *r = &t->rec;

    if (l->event == LEDGER_UNBLOCK) {
	if (!t->found)
	    return DB_KEEP;
	if (!active_until(r->block_until, l->now))
	    return l->what = "not blocked", DB_KEEP;
	r->block_until = 0;
	r->comment[0] = 0;
	return DB_WRITE;
    }
    if (!t->found)
	r->first_seen = r->last_seen = l->now;
    if (l->event == LEDGER_ALLOW) {
	r->allow_until = l->until;
	r->block_until = 0;
    } else {
	r->block_until = l->until;
	r->allow_until = 0;
    }
    if (l->comment)
	snprintf(r->comment, sizeof(r->comment), "%s", l->comment);
    return DB_WRITE;
}

/* expire - drop a record untouched since the cutoff, or clear marks that
 * ran out; the walk that chose the key may be old news, so decide again */
static enum db_change expire(struct db_txn *t, struct ledger *l)
{
    struct tp_record *r = &t->rec;
    int     ran_out = (r->allow_until > 0 && r->allow_until <= l->now)
    || (r->block_until > 0 && r->block_until <= l->now);
    int     held = active_until(r->allow_until, l->now)
    || active_until(r->block_until, l->now);

    if (!t->found)
	return DB_KEEP;
    if (!held && r->last_seen < l->cutoff) {
	l->removed++;
	return DB_DELETE;
    }
    if (!ran_out)
	return DB_KEEP;
    if (r->allow_until > 0 && r->allow_until <= l->now)
	r->allow_until = 0;
    if (r->block_until > 0 && r->block_until <= l->now)
	r->block_until = 0;
    l->cleared++;
    return DB_WRITE;
}

/* grey_expire - drop a greylist entry whose window has passed: its
 * tuple would start over anyway */
static enum db_change grey_expire(struct db_txn *t, struct ledger *l)
{
    struct grey_entry g;

    if (!t->found)
	return DB_KEEP;
    grey_from_record(&t->rec, &g);
    if (l->now - g.first_seen <= l->conf->greylist_window_ms / 1000)
	return DB_KEEP;
    l->removed++;
    return DB_DELETE;
}

/* learn - what the mail log says: delivered (from a log of before the
 * tarpit), a correspondent of ours, or offended */
static enum db_change learn(struct db_txn *t, struct ledger *l)
{
    const struct tp_conf *c = l->conf;
    struct tp_record *r = &t->rec;

    if (!t->found)
	r->first_seen = r->last_seen = l->now;
    if (l->event != LEDGER_LEARN_OFFENDER) {
	if (r->escapes >= c->threshold)
	    return l->what = "already escaped", DB_KEEP;
	r->escapes = c->threshold;
	r->recent_failures = 0;
	r->last_seen = l->now;
	if (l->event == LEDGER_LEARN_CORRESPONDENT) {
	    r->learned = LEARNED_CORRESPONDENT;
	    return l->what = "escaped: a correspondent", DB_WRITE;
	}
	r->learned = LEARNED_SEEDED;
	return l->what = "escaped", DB_WRITE;
    }
    if (r->escapes > 0 || active_until(r->allow_until, l->now))
	return l->what = "not blocked: it delivered mail or is allowed", DB_KEEP;
    if (active_until(r->block_until, l->now))
	return l->what = "already blocked", DB_KEEP;
    r->block_until = l->now + c->block_for_ms / 1000;
    snprintf(r->comment, sizeof(r->comment), "offender in the mail log");
    return l->what = "blocked", DB_WRITE;
}

/* ledger_apply - db_update_fn: the event's rule on the key's record */
enum db_change ledger_apply(struct db_txn *t, void *ctx)
{
    struct ledger *l = ctx;

    l->found = t->found;
    switch (l->event) {
    case LEDGER_WAIT_BEGUN:
    case LEDGER_WAIT_ENDED:
    case LEDGER_WAIT_ZERO:
    case LEDGER_ESCAPE:
	return traffic(t, l);
    case LEDGER_REFRESH:
	if (!t->found || !record_is_stale(l->conf, &t->rec, l->now))
	    return DB_KEEP;
	t->rec.last_seen = l->now;
	return DB_WRITE;
    case LEDGER_GREY_ATTEMPT:
	return grey_attempt(t, l);
    case LEDGER_GREY_PASSED:
	return grey_passed(t, l);
    case LEDGER_GREY_MADE:
	return grey_made(t, l);
    case LEDGER_SPREAD:
	if (t->rec.spread >= l->conf->ipv6_aggregate) {
	    l->spread_full = 1;		/* taken, all of them, meanwhile */
	    l->spread = t->rec.spread;
	    return DB_KEEP;
	}
	if (!t->found)
	    t->rec.first_seen = l->now;
	t->rec.last_seen = l->now;
	l->spread = ++t->rec.spread;
	return DB_WRITE;
    case LEDGER_ALLOW:
    case LEDGER_BLOCK:
    case LEDGER_UNBLOCK:
	return mark(t, l);
    case LEDGER_EXPIRE:
	return expire(t, l);
    case LEDGER_GREY_EXPIRE:
	return grey_expire(t, l);
    case LEDGER_LEARN_ESCAPE:
    case LEDGER_LEARN_CORRESPONDENT:
    case LEDGER_LEARN_OFFENDER:
	return learn(t, l);
    case LEDGER_LOAD:
	t->rec = *l->record;
	return DB_WRITE;
    case LEDGER_DOMAIN_WAIT:
	return domain_wait(t, l);
    case LEDGER_DOMAIN_ESCAPE:
	return domain_escape(t, l);
    }
    return DB_KEEP;
}

/* ledger_preview - what ledger_apply would do to a copy of r; nothing is
 * written and the host-wide counters are not touched */
enum db_change ledger_preview(struct ledger *l, const struct tp_record *r,
			              int found)
{
    struct db_txn t;
    struct ledger copy = *l;
    enum db_change change;

    memset(&t, 0, sizeof(t));
    if (found)
	t.rec = *r;
    t.found = found;
    change = ledger_apply(&t, &copy);
    l->what = copy.what;
    return change;
}

/* ledger_count_refused - db_update_stats fn: a wait refused, max_waiting */
void ledger_count_refused(struct tp_stats *s, void *ctx)
{
    (void) ctx;
    s->waits_refused++;
}

/* fnv1a - a 64-bit FNV-1a hash of a text, from a given start */
static uint64_t fnv1a(const char *s, uint64_t h)
{
    for (; *s; s++) {
	h ^= (unsigned char) tolower((unsigned char) *s);
	h *= 0x100000001b3ULL;
    }
    return h;
}

/* ledger_grey_key - the key of a greylist entry, lower case: "@grey
 * NETWORK SENDER RECIPIENT", "<>" for an empty address.  Addresses too
 * long for a key are a hash of both instead ("@grey NETWORK #HEX"): a
 * long address is no reason to let a client pass.  0 only when even that
 * does not fit len */
const char *ledger_grey_key(const char *network, const char *sender,
			            const char *recipient, char *key, size_t len)
{
    const char *from = sender && *sender ? sender : "<>";
    const char *to = recipient && *recipient ? recipient : "<>";
    int     n = snprintf(key, len, KEY_GREY "%s %s %s", network, from, to);

    if (n < 0 || (size_t) n >= len) {
	uint64_t a = fnv1a(to, fnv1a(" ", fnv1a(from, 0xcbf29ce484222325ULL)));
	uint64_t b = fnv1a(to, fnv1a("\n", fnv1a(from, 0x84222325cbf29ce4ULL)));

	n = snprintf(key, len, KEY_GREY "%s #%016llx%016llx", network,
		     (unsigned long long) a, (unsigned long long) b);
	if (n < 0 || (size_t) n >= len)
	    return 0;
    }
    for (char *c = key; *c; c++)
	*c = (char) tolower((unsigned char) *c);
    return key;
}

/* ledger_is_grey_key - is this a greylist entry's key? */
int ledger_is_grey_key(const char *key)
{
    return strncmp(key, KEY_GREY, sizeof(KEY_GREY) - 1) == 0;
}

/* ledger_domain_key - the key of a domain's record: "@domain NAME";
 * 0 when too long */
const char *ledger_domain_key(const char *domain, char *key, size_t len)
{
    int     n = snprintf(key, len, KEY_DOMAIN "%s", domain);

    return n < 0 || (size_t) n >= len ? 0 : key;
}

/* ledger_key_domain - the domain of a domain's key, or 0 for another
 * key, or one whose domain is no lower-case host name (written behind
 * tarpit-admin's back: it is printed and dumped) */
const char *ledger_key_domain(const char *key)
{
    const char *d = key + sizeof(KEY_DOMAIN) - 1;
    size_t  n;

    if (strncmp(key, KEY_DOMAIN, sizeof(KEY_DOMAIN) - 1) != 0)
	return 0;
    n = strspn(d, "abcdefghijklmnopqrstuvwxyz0123456789.-_");
    return n > 0 && d[n] == 0 && n < 254 ? d : 0;
}

/* ledger_traffic_key - the key under which a profile's traffic for a
 * network is kept: "[NAME]NETWORK", or the network's own key for the
 * global settings and a profile with share_escapes; 0 when too long */
const char *ledger_traffic_key(const struct tp_conf *p, const char *network,
			               char *key, size_t len)
{
    size_t  own = p->name[0] && !p->share_escapes ? strlen(p->name) + 2 : 0;
    size_t  n = strlen(network);

    /* Copied, not printed: it runs for every request, and snprintf()
     * cost more than the rest of the key's making. */
    if (own + n >= len)
	return 0;
    if (own) {
	key[0] = KEY_PROFILE_OPEN;
	memcpy(key + 1, p->name, own - 2);
	key[own - 1] = KEY_PROFILE_CLOSE;
    }
    memcpy(key + own, network, n + 1);
    return key;
}

/* ledger_key_network - the network of a network's key, past a profile's
 * "[NAME]"; 0 when there is none of the right form */
const char *ledger_key_network(const char *key)
{
    size_t  n;

    if (key[0] != KEY_PROFILE_OPEN)
	return key;
    n = strspn(key + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");
    if (n == 0 || n >= CONF_NAME_MAX || key[n + 1] != KEY_PROFILE_CLOSE)
	return 0;
    return key + n + 2;
}

/* ledger_width_ok - is this a network of a width the helpers look up:
 * ipv4_prefix, ipv6_prefix, or the /48 that ipv6_aggregate makes of many
 * /64s?  Only such a network is exported to Postfix or loaded: a record
 * of 0.0.0.0/0 written behind the CLI's back would otherwise block all */
int     ledger_width_ok(const struct tp_conf *c, const struct tp_net *n)
{
    if (n->addr.family == AF_INET)
	return n->prefix == c->ipv4_prefix;
    return n->prefix == c->ipv6_prefix
	|| (c->ipv6_aggregate > 0 && c->ipv6_prefix > 48 && n->prefix == 48);
}

/* ledger_take_marks - a profile's own record with the admin's allow and
 * block of the network itself (the global record), which hold in every
 * profile */
void    ledger_take_marks(struct tp_record *r, int *found,
			          const struct tp_record *global, int gfound)
{
    if (!gfound || (global->allow_until == 0 && global->block_until == 0))
	return;
    if (!*found)
	memset(r, 0, sizeof(*r));
    *found = 1;
    r->allow_until = global->allow_until;
    r->block_until = global->block_until;
    memcpy(r->comment, global->comment, sizeof(r->comment));
}

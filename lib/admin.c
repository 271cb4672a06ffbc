/*
 * NAME
 *	admin - the commands of tarpit-admin
 * DESCRIPTION
 *	One function per command, each given its arguments after the command
 *	word and returning an exit status (see tarpit-admin(8)).  They write
 *	to a->out and a->err, so `tarpit-admin serve` runs the very same code
 *	for a client on its socket.  Output formats are documented and
 *	stable: scripts may rely on them.
 */
#define _GNU_SOURCE
#include "admin.h"
#include "addr.h"
#include "decide.h"
#include "ledger.h"
#include "record.h"
#include "slots.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXPIRE_BATCH 200		/* keys per exclusive lock: expire, load */

const char admin_usage_text[] =
"usage: tarpit-admin [-c config_file] [--json] command [argument ...]\n"
"commands:\n"
"  check address ...          the record of each address's network\n"
"  list                       every record, one a line\n"
"  del address|network ...    remove records\n"
"  allow address|network [--for duration] [--comment text]\n"
"  block address|network [--for duration] [--comment text]\n"
"  unblock address|network ...\n"
"  info                       database, record counts, settings\n"
"  stats                      totals and the hang-up histogram\n"
"  expire                     drop records older than max_age\n"
"  dump                       the whole database as text\n"
"  load [file]                records from a dump (stdin by default)\n"
"  doctor                     check the installation and Postfix\n"
"  export-map [--format cidr|access] [-o file]\n"
"                             the blocked networks as a Postfix table\n"
"  import-log [--offenders] [--dry-run] file ...\n"
"                             learn from Postfix mail logs\n"
"  recover                    check the database, rebuild it if damaged\n"
"  config [key ...]           the settings in effect\n"
"  serve                      the admin socket protocol on fd 3 or stdin\n";

/* admin_usage - the usage text on the error stream */
int admin_usage(struct admin *a)
{
    fputs(admin_usage_text, a->err);
    return ADMIN_USAGE;
}

/* format_time - ISO 8601 in UTC, or "-" for never */
static const char *format_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t  tt = (time_t) t;

    if (t == 0 || gmtime_r(&tt, &tm) == 0)
	return "-";
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* record_state - one word for a record, for list and info */
static const char *record_state(const struct admin *a, const struct tp_record *r,
				        int64_t now)
{
    if (active_until(r->allow_until, now))
	return "allowed";
    if (active_until(r->block_until, now))
	return "blocked";
    if (r->escapes >= a->conf.threshold)
	return "escaped";
    return "tarpitted";
}

/* json_string - a JSON string literal */
static void json_string(FILE *fp, const char *s)
{
    putc('"', fp);
    for (; *s; s++) {
	unsigned char c = (unsigned char) *s;

	if (c == '"' || c == '\\')
	    fprintf(fp, "\\%c", c);
	else if (c < 0x20 || c == 0x7f)
	    fprintf(fp, "\\u%04x", c);
	else
	    putc(c, fp);
    }
    putc('"', fp);
}

/* print_json - one record as one JSON object on one line */
static void print_json(struct admin *a, const char *key, const struct tp_record *r)
{
    fputs("{\"network\":", a->out);
    json_string(a->out, key);
    for (size_t i = 0; i < record_nfields; i++)
	fprintf(a->out, ",\"%s\":%" PRId64, record_field_table[i].name,
		*RECORD_FIELD(r, record_field_table + i));
    fputs(",\"comment\":", a->out);
    json_string(a->out, r->comment);
    fprintf(a->out, ",\"state\":\"%s\"}\n", record_state(a, r, (int64_t) time(0)));
}

/* print_text - one record as "name value" lines */
static void print_text(struct admin *a, const char *key, const struct tp_record *r)
{
    char    buf[40];

    fprintf(a->out, "%-15s%s\n", "network", key);
    fprintf(a->out, "%-15s%s\n", "state", record_state(a, r, (int64_t) time(0)));
    for (size_t i = 0; i < record_nfields; i++) {
	const struct record_field *f = record_field_table + i;
	int64_t v = *RECORD_FIELD(r, f);

	switch (f->kind) {
	case RK_COUNT:
	    fprintf(a->out, "%-15s%" PRId64 "\n", f->name, v);
	    break;
	case RK_MS:
	    fprintf(a->out, "%-15s%" PRId64 "\n", f->name, v);
	    break;
	case RK_UNTIL:
	    fprintf(a->out, "%-15s%s\n", f->name,
		    v == -1 ? "forever" : format_time(v, buf, sizeof(buf)));
	    break;
	case RK_TIME:
	    fprintf(a->out, "%-15s%s\n", f->name, format_time(v, buf, sizeof(buf)));
	    break;
	}
    }
    fprintf(a->out, "%-15s%s\n", "comment", r->comment[0] ? r->comment : "-");
}

/* arg_key - an address or network argument to its key; 0 or -1 (said) */
static int arg_key(struct admin *a, const char *arg, char *key, size_t len)
{
    if (addr_key_from_arg(arg, (int) a->conf.ipv4_prefix,
			  (int) a->conf.ipv6_prefix, key, len) < 0) {
	fprintf(a->err, "tarpit-admin: \"%s\" is not an IP address or network\n", arg);
	return -1;
    }
    return 0;
}

/* db_failed - report a database error */
static int db_failed(struct admin *a)
{
    fprintf(a->err, "tarpit-admin: %s\n", db_error(a->db));
    return ADMIN_DB;
}

/* no_record - say that an argument's network has no record */
static int no_record(struct admin *a, const char *arg, const char *key)
{
    fprintf(a->err, "tarpit-admin: %s: no record for %s\n", arg, key);
    return ADMIN_NOTFOUND;
}

/* cmd_check - print the record of each address's network */
static int cmd_check(struct admin *a, int argc, char **argv)
{
    int     status = ADMIN_OK;

    if (argc < 1)
	return admin_usage(a);
    for (int i = 0; i < argc; i++) {
	char    key[ADDR_KEY_MAX];
	struct tp_record r;
	int     found;

	if (arg_key(a, argv[i], key, sizeof(key)) < 0)
	    return ADMIN_USAGE;
	if ((found = db_get(a->db, key, &r)) < 0)
	    return db_failed(a);
	if (!found) {
	    status = no_record(a, argv[i], key);
	    continue;
	}
	if (a->json)
	    print_json(a, key, &r);
	else {
	    if (i > 0)
		putc('\n', a->out);
	    print_text(a, key, &r);
	}
    }
    return status;
}

/* cmd_del - remove the records of addresses or networks */
static int cmd_del(struct admin *a, int argc, char **argv)
{
    int     status = ADMIN_OK;

    if (argc < 1)
	return admin_usage(a);
    for (int i = 0; i < argc; i++) {
	char    key[ADDR_KEY_MAX];
	int     found;

	if (arg_key(a, argv[i], key, sizeof(key)) < 0)
	    return ADMIN_USAGE;
	if ((found = db_delete(a->db, key)) < 0)
	    return db_failed(a);
	if (found)
	    fprintf(a->out, "deleted %s\n", key);
	else
	    status = no_record(a, argv[i], key);
    }
    return status;
}

/* mark - allow/block ADDR [--for DURATION] [--comment TEXT]; unblock ADDR... */
static int mark(struct admin *a, int argc, char **argv, int what)
{
    struct ledger m = {.event = what == 'a' ? LEDGER_ALLOW : what == 'b'
	? LEDGER_BLOCK : LEDGER_UNBLOCK,.conf = &a->conf,.now = (int64_t) time(0),
    .until = -1};
    char   *target = 0;
    char    key[ADDR_KEY_MAX];
    int64_t ms;

    for (int i = 0; i < argc; i++) {
	if (what != 'u' && strcmp(argv[i], "--for") == 0 && i + 1 < argc) {
	    if (conf_parse_duration(argv[++i], &ms) < 0 || ms < 1000) {
		fprintf(a->err, "tarpit-admin: --for %s: not a duration of a "
			"second or more\n", argv[i]);
		return ADMIN_USAGE;
	    }
	    m.until = m.now + ms / 1000;
	} else if (what != 'u' && strcmp(argv[i], "--comment") == 0 && i + 1 < argc) {
	    m.comment = argv[++i];
	    if (strlen(m.comment) >= RECORD_COMMENT_MAX) {
		fprintf(a->err, "tarpit-admin: --comment: at most %d bytes\n",
			RECORD_COMMENT_MAX - 1);
		return ADMIN_USAGE;
	    }
	    for (const char *p = m.comment; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f) {
		    fprintf(a->err, "tarpit-admin: --comment: no control characters\n");
		    return ADMIN_USAGE;
		}
	} else if (argv[i][0] == '-' || (target && what != 'u')) {
	    return admin_usage(a);
	} else if (what == 'u') {
	    /* unblock takes several */
	    if (arg_key(a, argv[i], key, sizeof(key)) < 0)
		return ADMIN_USAGE;
	    if (db_update(a->db, key, ledger_apply, &m) < 0)
		return db_failed(a);
	    if (!m.found)
		return no_record(a, argv[i], key);
	    fprintf(a->out, "unblocked %s\n", key);
	    target = argv[i];
	} else {
	    target = argv[i];
	}
    }
    if (target == 0)
	return admin_usage(a);
    if (what == 'u')
	return ADMIN_OK;
    if (arg_key(a, target, key, sizeof(key)) < 0)
	return ADMIN_USAGE;
    if (db_update(a->db, key, ledger_apply, &m) < 0)
	return db_failed(a);

    char    buf[40];

    fprintf(a->out, "%s %s %s%s\n", what == 'a' ? "allowed" : "blocked", key,
	    m.until == -1 ? "forever" : "until ",
	    m.until == -1 ? "" : format_time(m.until, buf, sizeof(buf)));
    return ADMIN_OK;
}

static int cmd_allow(struct admin *a, int argc, char **argv)
{
    return mark(a, argc, argv, 'a');
}

static int cmd_block(struct admin *a, int argc, char **argv)
{
    return mark(a, argc, argv, 'b');
}

static int cmd_unblock(struct admin *a, int argc, char **argv)
{
    return mark(a, argc, argv, 'u');
}

struct entry {
    struct tp_addr net;
    int     prefix;
    char    key[1024];			/* a network, or a greylist entry */
    struct tp_record r;
};

struct collection {
    struct entry *v;
    size_t  n, cap;
    int     failed;
};

/* collect - db_walk callback: keep a copy of every record */
static int collect(const char *key, const struct tp_record *r, void *ctx)
{
    struct collection *c = ctx;
    struct entry *e;
    char    addr[ADDR_KEY_MAX];
    const char *slash = strchr(key, '/');

    if (c->n == c->cap) {
	size_t  cap = c->cap ? 2 * c->cap : 1024;
	struct entry *v = realloc(c->v, cap * sizeof(*v));

	if (v == 0) {
	    c->failed = 1;
	    return 1;
	}
	c->v = v;
	c->cap = cap;
    }
    e = c->v + c->n;
    memset(e, 0, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    snprintf(addr, sizeof(addr), "%.*s",
	     slash ? (int) (slash - key) : (int) strlen(key), key);
    if (addr_parse(addr, &e->net) < 0)
	e->net.family = 0;		/* foreign key: sorts first, by text */
    e->prefix = slash ? atoi(slash + 1) : 0;
    e->r = *r;
    c->n++;
    return 0;
}

/* by_network - IPv4 before IPv6, then by address, then by prefix */
static int by_network(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int     c;

    if (x->net.family != y->net.family)
	return x->net.family < y->net.family ? -1 : 1;
    if (x->net.family == 0)
	return strcmp(x->key, y->key);
    if ((c = memcmp(x->net.bytes, y->net.bytes, sizeof(x->net.bytes))) != 0)
	return c;
    return x->prefix - y->prefix;
}

/* collect_all - every record (with greylist entries when grey), sorted by
 * network; 0 or an exit status */
static int collect_all(struct admin *a, struct collection *c, int grey)
{
    memset(c, 0, sizeof(*c));
    if ((grey ? db_walk_all : db_walk) (a->db, collect, c) < 0) {
	free(c->v);
	return db_failed(a);
    }
    if (c->failed) {
	fprintf(a->err, "tarpit-admin: out of memory\n");
	free(c->v);
	return ADMIN_DB;
    }
    if (c->n)
	qsort(c->v, c->n, sizeof(*c->v), by_network);
    return 0;
}

/* cmd_list - every record, one a line, sorted by network */
static int cmd_list(struct admin *a, int argc, char **argv)
{
    struct collection c;
    int64_t now = (int64_t) time(0);
    int     rc;

    (void) argv;
    if (argc != 0)
	return admin_usage(a);
    if ((rc = collect_all(a, &c, 0)) != 0)
	return rc;
    for (size_t i = 0; i < c.n; i++) {
	const struct tp_record *r = &c.v[i].r;
	char    f[32], l[32];

	if (a->json)
	    print_json(a, c.v[i].key, r);
	else
	    fprintf(a->out, "%s %s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
		    " %" PRId64 " %s\n", c.v[i].key,
		    format_time(r->first_seen, f, sizeof(f)),
		    format_time(r->last_seen, l, sizeof(l)),
		    r->tarpits, r->escapes, r->pending, r->hangups,
		    r->early_talkers, record_state(a, r, now));
    }
    free(c.v);
    return ADMIN_OK;
}

/* cmd_info - where the database is, what it holds, what is set */
static int cmd_info(struct admin *a, int argc, char **argv)
{
    struct collection c;
    int64_t now = (int64_t) time(0);
    long    n_allowed = 0, n_blocked = 0, n_escaped = 0, n_tarpitted = 0;
    char    value[CONF_PATH_MAX];
    int     rc;

    (void) argv;
    if (argc != 0)
	return admin_usage(a);
    if ((rc = collect_all(a, &c, 0)) != 0)
	return rc;
    for (size_t i = 0; i < c.n; i++) {
	const char *st = record_state(a, &c.v[i].r, now);

	n_allowed += strcmp(st, "allowed") == 0;
	n_blocked += strcmp(st, "blocked") == 0;
	n_escaped += strcmp(st, "escaped") == 0;
	n_tarpitted += strcmp(st, "tarpitted") == 0;
    }
    char    slots[CONF_PATH_MAX + 8];
    int     waiting;

    snprintf(slots, sizeof(slots), "%s.slots", a->conf.database);
    waiting = slots_in_use(slots, (int) a->conf.max_waiting);
    if (a->json) {
	fputs("{\"config_file\":", a->out);
	json_string(a->out, a->conf_file);
	fputs(",\"database\":", a->out);
	json_string(a->out, a->conf.database);
	fprintf(a->out, ",\"database_bytes\":%lld,\"records\":%zu,\"escaped\":%ld,"
		"\"tarpitted\":%ld,\"allowed\":%ld,\"blocked\":%ld,"
		"\"waiting\":%d,\"max_waiting\":%" PRId64 ","
		"\"sleep_ms\":%" PRId64 ",\"threshold\":%" PRId64 "}\n",
		db_size(a->db), c.n, n_escaped, n_tarpitted, n_allowed,
		n_blocked, waiting, a->conf.max_waiting, a->conf.sleep_ms,
		a->conf.threshold);
    } else {
	fprintf(a->out, "config file         %s\n", a->conf_file);
	fprintf(a->out, "database file       %s (%lld bytes)\n", a->conf.database,
		db_size(a->db));
	fprintf(a->out, "records             %zu: %ld escaped, %ld tarpitted, "
		"%ld allowed, %ld blocked\n", c.n, n_escaped, n_tarpitted,
		n_allowed, n_blocked);
	fprintf(a->out, "waiting now         %d of max_waiting %" PRId64 "\n",
		waiting, a->conf.max_waiting);
	for (size_t i = 0; conf_key_name(i) != 0; i++)
	    if (conf_value(&a->conf, conf_key_name(i), value, sizeof(value)) == 0)
		fprintf(a->out, "%-20s%s\n", conf_key_name(i), value);
    }
    free(c.v);
    return ADMIN_OK;
}

/* cmd_stats - host-wide totals and the hang-up histogram */
static int cmd_stats(struct admin *a, int argc, char **argv)
{
    struct tp_stats st;
    int64_t cum = 0, most = 0;
    int     tty = a->out == stdout && isatty(STDOUT_FILENO);

    (void) argv;
    if (argc != 0)
	return admin_usage(a);
    if (db_get_stats(a->db, &st) < 0)
	return db_failed(a);
    if (a->json) {
	for (size_t i = 0; i < stats_nfields; i++)
	    fprintf(a->out, "%s\"%s\":%" PRId64, i ? "," : "{",
		    stats_field_table[i].name, *RECORD_FIELD(&st, stats_field_table + i));
	fputs(",\"hangup_histogram\":[", a->out);
	for (int i = 0; i < HIST_BUCKETS; i++) {
	    fprintf(a->out, "%s{\"from\":%d,\"to\":", i ? "," : "", i * HIST_BUCKET_S);
	    if (i == HIST_BUCKETS - 1)
		fputs("null", a->out);
	    else
		fprintf(a->out, "%d", (i + 1) * HIST_BUCKET_S);
	    fprintf(a->out, ",\"count\":%" PRId64 "}", st.hangup_hist[i]);
	}
	fputs("]}\n", a->out);
	return ADMIN_OK;
    }
    for (size_t i = 0; i < stats_nfields; i++)
	fprintf(a->out, "%-15s%" PRId64 "\n", stats_field_table[i].name,
		*RECORD_FIELD(&st, stats_field_table + i));
    putc('\n', a->out);
    fprintf(a->out, "hang-ups by time waited\n%-9s %8s %7s %7s\n", "waited",
	    "count", "share", "cumul.");
    for (int i = 0; i < HIST_BUCKETS; i++)
	if (st.hangup_hist[i] > most)
	    most = st.hangup_hist[i];
    for (int i = 0; i < HIST_BUCKETS; i++) {
	char    range[32];
	int64_t n = st.hangup_hist[i];
	double  share = st.hangups ? 100.0 * (double) n / (double) st.hangups : 0;

	cum += n;
	if (i == HIST_BUCKETS - 1)
	    snprintf(range, sizeof(range), "%ds+", i * HIST_BUCKET_S);
	else
	    snprintf(range, sizeof(range), "%d-%ds", i * HIST_BUCKET_S,
		     (i + 1) * HIST_BUCKET_S);
	fprintf(a->out, "%-9s %8" PRId64 " %6.1f%% %6.1f%%", range, n, share,
		st.hangups ? 100.0 * (double) cum / (double) st.hangups : 0.0);
	if (tty && most > 0) {
	    putc(' ', a->out);
	    for (int64_t b = 0; b < n * 40 / most; b++)
		putc('#', a->out);
	}
	putc('\n', a->out);
	if (cum == st.hangups && i >= 6)
	    break;			/* the empty tail says nothing */
    }
    return ADMIN_OK;
}

struct key_list {
    char  **v;
    size_t  n, cap;
    struct ledger *e;
    int     failed;
};

/* collect_expired - db_walk callback: the keys expire must look at */
static int collect_expired(const char *key, const struct tp_record *r, void *ctx)
{
    struct key_list *k = ctx;

    if (ledger_preview(k->e, r, 1) == DB_KEEP)
	return 0;
    if (k->n == k->cap) {
	size_t  cap = k->cap ? 2 * k->cap : 1024;
	char  **v = realloc(k->v, cap * sizeof(*v));

	if (v == 0)
	    return k->failed = 1;
	k->v = v;
	k->cap = cap;
    }
    if ((k->v[k->n] = strdup(key)) == 0)
	return k->failed = 1;
    k->n++;
    return 0;
}

/* cmd_expire - drop old records in batches, then give the space back */
static int cmd_expire(struct admin *a, int argc, char **argv)
{
    struct ledger e = {.event = LEDGER_EXPIRE,.conf = &a->conf};
    struct key_list k = {0, 0, 0, &e, 0};
    long long before = db_size(a->db), after;
    int     rc = ADMIN_OK;

    (void) argv;
    if (argc != 0)
	return admin_usage(a);
    e.now = (int64_t) time(0);
    e.cutoff = e.now - a->conf.max_age_ms / 1000;
    /* The hourly job repairs what it can: a damaged file would make every
     * helper answer DUNNO without a wait until someone noticed. */
    {
	long    records;
	struct db_recovery rv;

	if (db_check(a->db, &records) < 0) {
	    fprintf(a->err, "tarpit-admin: %s: recovering\n", db_error(a->db));
	    if (db_recover(a->db, &rv) < 0)
		return db_failed(a);
	    fprintf(a->err, "tarpit-admin: recovered %ld records, lost %ld; the "
		    "damaged file is kept as %s\n", rv.recovered, rv.failed, rv.backup);
	}
    }
    if (db_walk(a->db, collect_expired, &k) < 0)
	rc = db_failed(a);
    else if (k.failed) {
	fprintf(a->err, "tarpit-admin: out of memory\n");
	rc = ADMIN_DB;
    }
    /* Short exclusive holds, so that the helpers never wait long. */
    for (size_t i = 0; rc == ADMIN_OK && i < k.n; i += EXPIRE_BATCH) {
	size_t  n = k.n - i < EXPIRE_BATCH ? k.n - i : EXPIRE_BATCH;

	if (db_update_many(a->db, k.v + i, n, ledger_apply, &e) < 0)
	    rc = db_failed(a);
    }
    for (size_t i = 0; i < k.n; i++)
	free(k.v[i]);
    free(k.v);
    if (rc != ADMIN_OK)
	return rc;
    if (e.removed > 0 && db_reorganize(a->db) < 0)
	return db_failed(a);
    after = db_size(a->db);
    if (a->json)
	fprintf(a->out, "{\"removed\":%ld,\"cleared\":%ld,\"bytes_before\":%lld,"
		"\"bytes_after\":%lld,\"longest_lock_ms\":%" PRId64 "}\n",
		e.removed, e.cleared, before, after, db_longest_hold_ms(a->db));
    else
	fprintf(a->out, "expired %ld records untouched for %" PRId64 "s, "
		"cleared %ld ended allow/block marks; database %lld -> %lld "
		"bytes; longest exclusive lock %" PRId64 " ms\n",
		e.removed, a->conf.max_age_ms / 1000, e.cleared, before,
		after < 0 ? 0 : after, db_longest_hold_ms(a->db));
    return ADMIN_OK;
}

/* cmd_recover - check the file, and rebuild it from what is readable */
static int cmd_recover(struct admin *a, int argc, char **argv)
{
    struct db_recovery rv;
    long    records;

    (void) argv;
    if (argc != 0)
	return admin_usage(a);
    if (db_check(a->db, &records) == 0) {
	fprintf(a->out, "%s is sound: %ld records read; nothing to recover\n",
		a->conf.database, records);
	return ADMIN_OK;
    }
    fprintf(a->out, "damage: %s\n", db_error(a->db));
    if (db_recover(a->db, &rv) < 0)
	return db_failed(a);
    fprintf(a->out, "recovered %ld records; lost %ld records and %ld buckets; "
	    "the damaged file is kept as %s\n", rv.recovered, rv.failed,
	    rv.failed_buckets, rv.backup[0] ? rv.backup : "(no backup)");
    return ADMIN_OK;
}

/* cmd_config - the effective settings, "key = value", like postconf */
static int cmd_config(struct admin *a, int argc, char **argv)
{
    char    value[CONF_PATH_MAX];
    const char *name;

    if (argc == 0) {
	for (size_t i = 0; (name = conf_key_name(i)) != 0; i++)
	    if (conf_value(&a->conf, name, value, sizeof(value)) == 0)
		fprintf(a->out, "%s = %s\n", name, value);
	for (size_t r = 0; r < a->conf.nrules; r++)
	    fprintf(a->out, "rule = %s\n", a->conf.rules[r].text);
	for (size_t p = 0; p < a->conf.nprofiles; p++) {
	    const struct tp_conf *pc = a->conf.profiles + p;
	    char    global[CONF_PATH_MAX];

	    fprintf(a->out, "\n[%s]\n", pc->name);
	    for (size_t i = 0; (name = conf_key_name(i)) != 0; i++)
		if (conf_value(pc, name, value, sizeof(value)) == 0
		    && conf_value(&a->conf, name, global, sizeof(global)) == 0
		    && strcmp(value, global) != 0)
		    fprintf(a->out, "%s = %s\n", name, value);
	    for (size_t r = 0; r < pc->nrules; r++)
		fprintf(a->out, "rule = %s\n", pc->rules[r].text);
	}
	return ADMIN_OK;
    }
    for (int i = 0; i < argc; i++) {
	if (conf_value(&a->conf, argv[i], value, sizeof(value)) < 0) {
	    fprintf(a->err, "tarpit-admin: unknown key \"%s\"\n", argv[i]);
	    return ADMIN_USAGE;
	}
	if (argc == 1)
	    fprintf(a->out, "%s\n", value);
	else
	    fprintf(a->out, "%s = %s\n", argv[i], value);
    }
    return ADMIN_OK;
}

/* put_comment - percent-encode what would break a dump line */
static void put_comment(FILE *fp, const char *s)
{
    for (; *s; s++) {
	unsigned char c = (unsigned char) *s;

	if (c <= 0x20 || c == '%' || c >= 0x7f)
	    fprintf(fp, "%%%02X", c);
	else
	    putc(c, fp);
    }
}

/* cmd_dump - the whole database as text: see tarpit-admin(8) */
static int cmd_dump(struct admin *a, int argc, char **argv)
{
    struct collection c;
    struct tp_stats st;
    int     rc;

    (void) argv;
    if (argc != 0)
	return admin_usage(a);
    if (db_get_stats(a->db, &st) < 0)
	return db_failed(a);
    if ((rc = collect_all(a, &c, 1)) != 0)
	return rc;
    fprintf(a->out, "# tarpit dump %d\n", RECORD_VERSION);
    fputs("@stats", a->out);
    for (size_t i = 0; i < stats_nfields; i++)
	fprintf(a->out, " %s=%" PRId64, stats_field_table[i].name,
		*RECORD_FIELD(&st, stats_field_table + i));
    fputs(" hist=", a->out);
    for (int i = 0; i < HIST_BUCKETS; i++)
	fprintf(a->out, "%s%" PRId64, i ? "," : "", st.hangup_hist[i]);
    putc('\n', a->out);
    for (size_t i = 0; i < c.n; i++) {
	put_comment(a->out, c.v[i].key);
	for (size_t f = 0; f < record_nfields; f++)
	    fprintf(a->out, " %s=%" PRId64, record_field_table[f].name,
		    *RECORD_FIELD(&c.v[i].r, record_field_table + f));
	if (c.v[i].r.comment[0]) {
	    fputs(" comment=", a->out);
	    put_comment(a->out, c.v[i].r.comment);
	}
	putc('\n', a->out);
    }
    free(c.v);
    return fflush(a->out) == 0 ? ADMIN_OK : ADMIN_DB;
}

/* get_comment - undo put_comment; 0 or -1 */
static int get_comment(const char *in, char *out, size_t len)
{
    size_t  n = 0;

    for (; *in; in++) {
	unsigned int c = (unsigned char) *in;

	if (c == '%') {
	    if (!isxdigit((unsigned char) in[1]) || !isxdigit((unsigned char) in[2])
		|| sscanf(in + 1, "%2x", &c) != 1 || c == 0)
		return -1;
	    in += 2;
	}
	if (n + 1 >= len)
	    return -1;
	out[n++] = (char) c;
    }
    out[n] = 0;
    return 0;
}

struct load_item {
    char   *key;
    struct tp_record r;
};

struct load {
    struct load_item *v;
    char  **keys;
    size_t  n, cap, next;
    struct tp_stats stats;
    struct ledger event;		/* LEDGER_LOAD, the counters once */
};

/* parse_stats - "@stats name=value ..."; 0 or -1 with why */
static int parse_stats(char *line, struct tp_stats *st, const char **why)
{
    char   *tok, *save = 0;

    memset(st, 0, sizeof(*st));
    strtok_r(line, " ", &save);
    while ((tok = strtok_r(0, " ", &save)) != 0) {
	char   *eq = strchr(tok, '=');
	int     known = 0;

	if (eq == 0)
	    return *why = "expected name=value", -1;
	*eq++ = 0;
	for (size_t i = 0; i < stats_nfields; i++)
	    if (strcmp(tok, stats_field_table[i].name) == 0) {
		if (conf_parse_int(eq, RECORD_FIELD(st, stats_field_table + i)) < 0)
		    return *why = "not a number", -1;
		known = 1;
	    }
	if (strcmp(tok, "hist") == 0) {
	    char   *b, *bsave = 0;
	    int     i = 0;

	    for (b = strtok_r(eq, ",", &bsave); b; b = strtok_r(0, ",", &bsave)) {
		if (i >= HIST_BUCKETS || conf_parse_int(b, st->hangup_hist + i) < 0)
		    return *why = "bad histogram", -1;
		i++;
	    }
	    known = 1;
	}
	if (!known)
	    return *why = "unknown field", -1;
    }
    return 0;
}

/* parse_record - "NETWORK name=value ..." into an item; 0 or -1 with why */
static int parse_record(struct admin *a, char *line, struct load_item *it,
			        const char **why)
{
    char   *tok, *save = 0;
    char    key[ADDR_KEY_MAX];

    char    grey[1024];
    const char *name;

    memset(it, 0, sizeof(*it));
    tok = strtok_r(line, " ", &save);
    if (tok && strncmp(tok, "@grey%20", 8) == 0) {
	if (get_comment(tok, grey, sizeof(grey)) < 0)
	    return *why = "bad greylist entry", -1;
	name = grey;
    } else if (tok == 0 || addr_key_from_arg(tok, (int) a->conf.ipv4_prefix,
			  (int) a->conf.ipv6_prefix, key, sizeof(key)) < 0
	|| strchr(tok, '/') == 0 || strcmp(key, tok) != 0)
	return *why = "not a network in canonical form (like 192.0.2.0/24)", -1;
    else
	name = key;
    while ((tok = strtok_r(0, " ", &save)) != 0) {
	char   *eq = strchr(tok, '=');
	int     known = 0;

	if (eq == 0)
	    return *why = "expected name=value", -1;
	*eq++ = 0;
	if (strcmp(tok, "comment") == 0) {
	    if (get_comment(eq, it->r.comment, sizeof(it->r.comment)) < 0)
		return *why = "bad comment", -1;
	    continue;
	}
	for (size_t f = 0; f < record_nfields; f++)
	    if (strcmp(tok, record_field_table[f].name) == 0) {
		if (conf_parse_int(eq, RECORD_FIELD(&it->r, record_field_table + f)) < 0)
		    return *why = "not a number", -1;
		known = 1;
	    }
	if (!known)
	    return *why = "unknown field", -1;
    }
    if ((it->key = strdup(name)) == 0)
	return *why = "out of memory", -1;
    return 0;
}

/* load_one - under the exclusive lock: the next parsed record */
static enum db_change load_one(struct db_txn *t, void *ctx)
{
    struct load *l = ctx;

    l->event.record = &l->v[l->next++].r;
    return ledger_apply(t, &l->event);
}

static int by_key(const void *x, const void *y)
{
    return strcmp(*(char *const *) x, *(char *const *) y);
}

/* cmd_load - records from a dump; all checked before anything is written */
static int cmd_load(struct admin *a, int argc, char **argv)
{
    FILE   *fp = stdin;
    const char *name = "(stdin)";
    char   *line = 0;
    size_t  cap = 0;
    ssize_t got;
    long    lineno = 0;
    struct load l;
    int     rc = ADMIN_OK;

    memset(&l, 0, sizeof(l));
    l.event.event = LEDGER_LOAD;
    l.event.conf = &a->conf;
    if (argc > 1)
	return admin_usage(a);
    if (argc == 1 && strcmp(argv[0], "-") != 0) {
	name = argv[0];
	if ((fp = fopen(name, "r")) == 0) {
	    fprintf(a->err, "tarpit-admin: %s: %s\n", name, strerror(errno));
	    return ADMIN_USAGE;
	}
    }
    while (rc == ADMIN_OK && (got = getline(&line, &cap, fp)) >= 0) {
	const char *why = 0;

	lineno++;
	if (got > 0 && line[got - 1] == '\n')
	    line[--got] = 0;
	if (memchr(line, 0, (size_t) got) != 0)
	    why = "NUL byte";
	else if (line[0] == 0 || line[0] == '#')
	    continue;
	else if (strncmp(line, "@stats ", 7) == 0) {
	    if (parse_stats(line, &l.stats, &why) == 0)
		l.event.stats = &l.stats;
	} else {
	    if (l.n == l.cap) {
		size_t  ncap = l.cap ? 2 * l.cap : 1024;
		struct load_item *v = realloc(l.v, ncap * sizeof(*v));

		if (v == 0) {
		    why = "out of memory";
		    goto bad;
		}
		l.v = v;
		l.cap = ncap;
	    }
	    if (parse_record(a, line, l.v + l.n, &why) == 0)
		l.n++;
	}
bad:
	if (why) {
	    fprintf(a->err, "tarpit-admin: %s:%ld: %s; nothing loaded\n",
		    name, lineno, why);
	    rc = ADMIN_USAGE;
	}
    }
    free(line);
    if (fp != stdin)
	fclose(fp);
    if (rc == ADMIN_OK && (l.keys = calloc(l.n + 1, sizeof(*l.keys))) == 0)
	rc = ADMIN_DB;
    for (size_t i = 0; rc == ADMIN_OK && i < l.n; i++)
	l.keys[i] = l.v[i].key;
    if (rc == ADMIN_OK && l.n > 1) {
	char  **sorted = malloc(l.n * sizeof(*sorted));

	if (sorted == 0)
	    rc = ADMIN_DB;
	else {
	    memcpy(sorted, l.keys, l.n * sizeof(*sorted));
	    qsort(sorted, l.n, sizeof(*sorted), by_key);
	    for (size_t i = 1; i < l.n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0) {
		    fprintf(a->err, "tarpit-admin: %s: %s appears twice; "
			    "nothing loaded\n", name, sorted[i]);
		    rc = ADMIN_USAGE;
		    break;
		}
	    free(sorted);
	}
    }
    /* Everything parsed: now write, in batches of short exclusive holds. */
    for (size_t i = 0; rc == ADMIN_OK && i < l.n; i += EXPIRE_BATCH) {
	size_t  n = l.n - i < EXPIRE_BATCH ? l.n - i : EXPIRE_BATCH;

	if (db_update_many(a->db, l.keys + i, n, load_one, &l) < 0)
	    rc = db_failed(a);
    }
    if (rc == ADMIN_OK)
	fprintf(a->out, "loaded %zu records\n", l.n);
    for (size_t i = 0; i < l.n; i++)
	free(l.v[i].key);
    free(l.v);
    free(l.keys);
    return rc;
}

/* access_key - a network as an access(5) table key, or 0 when its length
 * cannot be written that way (not a multiple of 8 or 16 bits) */
static const char *access_key(const struct entry *e, char *buf, size_t len)
{
    size_t  n = 0;

    if (e->net.family == AF_INET && e->prefix % 8 == 0 && e->prefix > 0) {
	for (int i = 0; i < e->prefix / 8; i++)
	    n += (size_t) snprintf(buf + n, len - n, "%s%d", i ? "." : "", e->net.bytes[i]);
	return buf;
    }
    if (e->net.family == AF_INET6 && e->prefix % 16 == 0 && e->prefix > 0) {
	for (int i = 0; i < e->prefix / 16; i++)
	    n += (size_t) snprintf(buf + n, len - n, "%s%x", i ? ":" : "",
				   e->net.bytes[2 * i] << 8 | e->net.bytes[2 * i + 1]);
	return buf;
    }
    return 0;
}

/* cmd_export_map - the blocked networks as a Postfix table */
static int cmd_export_map(struct admin *a, int argc, char **argv)
{
    const char *format = "cidr", *out_path = 0;
    struct collection c;
    int64_t now = (int64_t) time(0);
    char    tmp[CONF_PATH_MAX + 32], buf[64];
    FILE   *fp = a->out;
    long    written = 0, skipped = 0;
    int     rc;

    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
	    format = argv[++i];
	else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
	    out_path = argv[++i];
	else
	    return admin_usage(a);
    }
    if (strcmp(format, "cidr") != 0 && strcmp(format, "access") != 0) {
	fprintf(a->err, "tarpit-admin: --format %s: cidr or access\n", format);
	return ADMIN_USAGE;
    }
    if ((rc = collect_all(a, &c, 0)) != 0)
	return rc;
    if (out_path) {
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out_path, (long) getpid());
	if ((fp = fopen(tmp, "w")) == 0) {
	    fprintf(a->err, "tarpit-admin: %s: %s\n", tmp, strerror(errno));
	    free(c.v);
	    return ADMIN_DB;
	}
    }
    fprintf(fp, "# Networks blocked by tarpit, for Postfix %s:%s.\n"
	    "# Written by tarpit-admin export-map; edits are overwritten.\n",
	    strcmp(format, "cidr") == 0 ? "cidr" : "hash",
	    out_path ? out_path : "FILE");
    for (size_t i = 0; i < c.n; i++) {
	const char *key = c.v[i].key;

	if (!active_until(c.v[i].r.block_until, now) || c.v[i].net.family == 0)
	    continue;
	if (strcmp(format, "access") == 0 && (key = access_key(c.v + i, buf, sizeof(buf))) == 0) {
	    skipped++;
	    continue;
	}
	fprintf(fp, "%s\t%s\n", key, a->conf.block_action);
	written++;
    }
    free(c.v);
    if (out_path) {
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0
	    || rename(tmp, out_path) != 0) {
	    fprintf(a->err, "tarpit-admin: %s: %s\n", out_path, strerror(errno));
	    unlink(tmp);
	    return ADMIN_DB;
	}
	fprintf(a->out, "wrote %ld blocked networks to %s\n", written, out_path);
    }
    if (skipped)
	fprintf(a->err, "tarpit-admin: %ld networks not on an 8-bit (IPv4) or "
		"16-bit (IPv6) boundary left out: use --format cidr\n", skipped);
    return ADMIN_OK;
}

static const struct command {
    const char *name;
    admin_fn *fn;
} commands[] = {
    {"check", cmd_check},
    {"del", cmd_del},
    {"list", cmd_list},
    {"allow", cmd_allow},
    {"block", cmd_block},
    {"unblock", cmd_unblock},
    {"info", cmd_info},
    {"stats", cmd_stats},
    {"expire", cmd_expire},
    {"dump", cmd_dump},
    {"load", cmd_load},
    {"doctor", admin_doctor},
    {"export-map", cmd_export_map},
    {"import-log", admin_import_log},
    {"config", cmd_config},
    {"recover", cmd_recover},
};

/* admin_split - a command line into words, in place; "double quotes"
 * group; the count, or -1 for too many words or an open quote */
int admin_split(char *line, char **argv, int max)
{
    int     argc = 0;
    char   *p = line, *w;

    for (;;) {
	while (*p == ' ' || *p == '\t')
	    p++;
	if (*p == 0)
	    return argc;
	if (argc == max)
	    return -1;
	if (*p == '"') {
	    w = ++p;
	    if ((p = strchr(p, '"')) == 0)
		return -1;
	} else {
	    w = p;
	    p += strcspn(p, " \t");
	}
	if (*p)
	    *p++ = 0;
	argv[argc++] = w;
    }
}

/* admin_command - the function for a command word, or 0 */
admin_fn *admin_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
	if (strcmp(name, commands[i].name) == 0)
	    return commands[i].fn;
    return 0;
}

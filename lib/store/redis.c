/*
 * NAME
 *	redis - the records on a Valkey or Redis server, shared by hosts
 * DESCRIPTION
 *	`database = redis://HOST:PORT/DB` (or valkey://, or
 *	redis+unix:///PATH?db=N) keeps the records on a server that several
 *	MX hosts share, so that a network that escaped through one is known
 *	to all.  db.c opens it when the database is such a URL and calls it
 *	through its table (redis_ops); the programs above do not know the
 *	difference.  redis_link.c makes the connection.  Named, as Postfix
 *	names its tables (dict_memcache.c, dict_lmdb.c), by what it talks
 *	to; one prefix, redis_, for both files.
 *
 *	Keys are database_prefix + the network key ("tarpit:192.0.2.0/24");
 *	values are the record codec of record.c, as in GDBM.  The host-wide
 *	counters are one hash, database_prefix + KEY_STATS, changed only by
 *	HINCRBY: hosts add to it and never read-modify-write it.
 *
 *	An update is optimistic: WATCH the key and GET it (one round trip),
 *	let the caller's function (the ledger) decide, then MULTI, SET with
 *	the TTL or DEL, EXEC (one round trip).  When another host changed the
 *	key meanwhile EXEC fails and the update runs again on the new record,
 *	after a random pause that grows with each try.  Once the record is
 *	committed, the counters it changed are HINCRBYs of their own (one
 *	more round trip, only when they changed).  A server script would
 *	save the first round trip, but the record rules are C (ledger.c), and
 *	a second copy of them in Lua is a second place for every rule.  Every
 *	transaction touches one key, so that the records could be spread
 *	over a Cluster's slots.
 *
 *	Expiry is the server's: every write sets the key's TTL to max_age,
 *	or to the end of an allow or block mark when that is later, and none
 *	for a mark for ever.
 *
 *	hiredis is opened with dlopen() the first time a shared database is
 *	used, so that a helper with a GDBM file maps none of it.  The
 *	connection is made on first use and dropped by redis_release() (before
 *	a wait: a waiting helper holds no connection), after any I/O error
 *	and on timeouts; database_timeout bounds the connect and every
 *	command.  Commands used: AUTH, SELECT, PING, GET, SET, DEL, WATCH,
 *	UNWATCH, MULTI, EXEC, HINCRBY, HGETALL, SCAN, MGET, INFO, all in
 *	Redis 6.2+ and Valkey 7.2+.
 */
#define _GNU_SOURCE
#include "store/redis_link.h"
#include "util/clock.h"
#include "util/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RETRIES 200			/* optimistic transactions in a row */
#define SCAN_COUNT "1000"

/* full_key - prefix + key */
static const char *full_key(const struct redis *r, const char *key, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", r->prefix, key);
    return buf;
}

/* decode - a GET reply into a record: 1 found, 0 not, -1 (said) */
static int decode(struct redis *r, const char *key, const redisReply *rep,
		          struct tp_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (rep->type == REDIS_REPLY_NIL)
	return 0;
    if (redis_reply_error(r, "GET", rep))
	return -1;
    if (rep->type != REDIS_REPLY_STRING
	|| record_decode((const unsigned char *) rep->str, rep->len, rec) < 0) {
	redis_set_error(r, "%s: not a record", key);
	return -1;
    }
    return 1;
}

/* redis_get - one record: 1 found, 0 not, -1 error; one round trip */
static int redis_get(struct tp_db *base, const char *key, struct tp_record *rec)
{
    struct redis *r = (struct redis *) base;
    char    k[KEY_BUF];
    const char *argv[2] = {"GET", full_key(r, key, k, sizeof(k))};
    redisReply *rep;
    int     rc;

    memset(rec, 0, sizeof(*rec));
    if (redis_connect(r) < 0 || (rep = redis_command(r, "GET", 2, argv, 0)) == 0)
	return -1;
    rc = decode(r, key, rep, rec);
    hiredis_api.free_reply(rep);
    return rc;
}

/* ttl_of - the seconds a record lives after this write, 0 for ever */
static int64_t ttl_of(const struct redis *r, const struct tp_record *rec, int64_t now)
{
    int64_t ttl = r->max_age_s;
    const int64_t until[2] = {rec->allow_until, rec->block_until};

    for (int i = 0; i < 2; i++) {
	if (until[i] == -1)
	    return 0;
	if (until[i] > now && until[i] - now > ttl)
	    ttl = until[i] - now;
    }
    return ttl;
}

/* The counters' hash fields: stats_field_table's names, then hist0 ..,
 * one for each counter */
#define NSTAT_FIELDS STATS_COUNTERS

static int64_t *stat_field(struct tp_stats *s, size_t i, char *name, size_t len)
{
    if (i < stats_nfields) {
	snprintf(name, len, "%s", stats_field_table[i].name);
	return RECORD_FIELD(s, stats_field_table + i);
    }
    i -= stats_nfields;
    if (i >= HIST_BUCKETS)
	return 0;
    snprintf(name, len, "hist%zu", i);
    return s->hangup_hist + i;
}

/* add_counters - the counters' increments, as one HINCRBY each that is
 * not 0, pipelined: the only way the counters ever change; 0 or -1 */
static int add_counters(struct redis *r, const struct tp_stats *add)
{
    char    sk[160], names[NSTAT_FIELDS][24], vals[NSTAT_FIELDS][24];
    int     argc[NSTAT_FIELDS], n = 0, rc = 0;
    const char **argv[NSTAT_FIELDS];
    const size_t *lens[NSTAT_FIELDS];
    const char *cmds[NSTAT_FIELDS][4];
    size_t  cmdlens[NSTAT_FIELDS][4];
    redisReply *rep[NSTAT_FIELDS];
    struct tp_stats copy = *add;

    full_key(r, KEY_STATS, sk, sizeof(sk));
    for (size_t i = 0; i < NSTAT_FIELDS; i++) {
	int64_t *v = stat_field(&copy, i, names[i], sizeof(names[i]));

	if (v == 0)
	    break;
	if (*v == 0)
	    continue;
	snprintf(vals[i], sizeof(vals[i]), "%" PRId64, *v);
	cmds[n][0] = "HINCRBY", cmds[n][1] = sk, cmds[n][2] = names[i];
	cmds[n][3] = vals[i];
	for (int k = 0; k < 4; k++)
	    cmdlens[n][k] = strlen(cmds[n][k]);
	argc[n] = 4, argv[n] = cmds[n], lens[n] = cmdlens[n], n++;
    }
    if (n == 0)
	return 0;
    if (redis_pipeline(r, "HINCRBY", n, argc, argv, lens, rep) < 0)
	return -1;
    for (int i = 0; i < n; i++) {
	if (rc == 0 && redis_reply_error(r, "HINCRBY", rep[i]))
	    rc = -1;
	hiredis_api.free_reply(rep[i]);
    }
    return rc;
}

/* update_once - one optimistic transaction: the change, or -1 (said), or
 * -2 when another client changed the key (try again) */
static int update_once(struct redis *r, const char *key, db_update_fn *fn, void *ctx,
		               int64_t now)
{
    char    k[KEY_BUF], ttl[32];
    unsigned char buf[RECORD_MAX_SIZE];
    size_t  blen = 0;
    const char *watch[2] = {"WATCH", full_key(r, key, k, sizeof(k))};
    const char *get[2] = {"GET", k};
    int     argc[3];
    const char **argv[3];
    const size_t *lens[3];
    const char *cmds[3][5];
    size_t  cmdlens[3][5];
    redisReply *rep[3];
    struct db_txn t;
    enum db_change change;
    int     n = 0, rc;

    memset(&t, 0, sizeof(t));
    t.key = key;
    argc[0] = 2, argv[0] = watch, lens[0] = 0;
    argc[1] = 2, argv[1] = get, lens[1] = 0;
    if (redis_pipeline(r, "WATCH and GET", 2, argc, argv, lens, rep) < 0)
	return -1;
    rc = redis_reply_error(r, "WATCH", rep[0]) ? -1 : (t.found = decode(r, key, rep[1], &t.rec));
    hiredis_api.free_reply(rep[0]);
    hiredis_api.free_reply(rep[1]);
    if (rc < 0)
	return -1;
    change = fn(&t, ctx);
    /* The record's own transaction: MULTI, SET with the TTL or DEL, EXEC;
     * only UNWATCH when the record stays as it is. */
#define QUEUE(...) do { \
	const char *a_[] = {__VA_ARGS__}; \
	argc[n] = (int) (sizeof(a_) / sizeof(a_[0])); \
	for (int i_ = 0; i_ < argc[n]; i_++) \
	    cmds[n][i_] = a_[i_], cmdlens[n][i_] = strlen(a_[i_]); \
	argv[n] = cmds[n], lens[n] = cmdlens[n], n++; \
    } while (0)
    if (change == DB_WRITE || (change == DB_DELETE && t.found)) {
	QUEUE("MULTI");
	if (change == DB_WRITE) {
	    int64_t secs = ttl_of(r, &t.rec, now);

	    if ((blen = record_encode(&t.rec, buf, sizeof(buf))) == 0) {
		redis_set_error(r, "%s: the record does not encode", key);
		return -1;
	    }
	    snprintf(ttl, sizeof(ttl), "%" PRId64, secs);
	    if (secs > 0)
		QUEUE("SET", k, "", "EX", ttl);
	    else
		QUEUE("SET", k, "");
	    cmds[n - 1][2] = (const char *) buf, cmdlens[n - 1][2] = blen;
	} else
	    QUEUE("DEL", k);
	QUEUE("EXEC");
    } else
	QUEUE("UNWATCH");
    if (redis_pipeline(r, "MULTI/EXEC", n, argc, argv, lens, rep) < 0)
	return -1;
    rc = (int) change;
    for (int i = 0; i < n; i++) {
	if (rc >= 0 && redis_reply_error(r, i == n - 1 && n > 1 ? "EXEC" : argv[i][0], rep[i]))
	    rc = -1;
	else if (i == n - 1 && n > 1 && rc >= 0 && rep[i]->type == REDIS_REPLY_NIL)
	    rc = -2;			/* the key changed: WATCH saw it */
	else if (i == n - 1 && rc >= 0 && rep[i]->type == REDIS_REPLY_ARRAY)
	    for (size_t e = 0; e < rep[i]->elements; e++)
		if (rc >= 0 && redis_reply_error(r, "EXEC", rep[i]->element[e]))
		    rc = -1;
	hiredis_api.free_reply(rep[i]);
    }
    if (rc < 0 || !t.stats_changed)
	return rc;
    /* The counters only once the record is committed, and outside its
     * transaction: every transaction touches one key (see above). */
    return add_counters(r, &t.stats) < 0 ? -1 : rc;
}

/* update - read, let fn change, write back, atomically against every
 * other host: the change, or -1.  When others win the race the update
 * backs off a random while, growing to 10 ms, and tries again, for up to
 * eight times database_timeout. */
static int update(struct redis *r, const char *key, db_update_fn *fn, void *ctx)
{
    int64_t now = (int64_t) time(0), start = monotonic_ms();
    static unsigned seed;
    int     rc = -2, tries = 0;

    if (strlen(key) + strlen(r->prefix) >= KEY_BUF) {
	redis_set_error(r, "%s: key too long", key);
	return -1;
    }
    if (seed == 0)
	seed = (unsigned) getpid() ^ (unsigned) start;
    for (;;) {
	if (redis_connect(r) < 0)
	    return -1;
	if ((rc = update_once(r, key, fn, ctx, now)) != -2)
	    return rc < 0 ? -1 : rc;
	if (++tries >= RETRIES || monotonic_ms() - start > 8 * r->timeout_ms)
	    break;
	{
	    long    cap = tries < 7 ? 150L << tries : 10000;	/* microseconds */
	    struct timespec ts = {0, (long) (rand_r(&seed) % cap) * 1000};

	    nanosleep(&ts, 0);
	}
    }
    redis_set_error(r, "%s: changed by others %d times in a row", key, tries);
    return -1;
}

/* redis_get_stats - the host-wide counters (all hosts'); 0 or -1 */
static int redis_get_stats(struct tp_db *base, struct tp_stats *s)
{
    struct redis *r = (struct redis *) base;
    char    sk[160], name[24];
    const char *argv[2] = {"HGETALL", full_key(r, KEY_STATS, sk, sizeof(sk))};
    redisReply *rep;

    memset(s, 0, sizeof(*s));
    if (redis_connect(r) < 0 || (rep = redis_command(r, "HGETALL", 2, argv, 0)) == 0)
	return -1;
    if (redis_reply_error(r, "HGETALL", rep) || rep->type != REDIS_REPLY_ARRAY) {
	if (rep->type != REDIS_REPLY_ERROR)
	    redis_set_error(r, "%s: not a hash", sk);
	hiredis_api.free_reply(rep);
	return -1;
    }
    for (size_t e = 0; e + 1 < rep->elements; e += 2) {
	const redisReply *f = rep->element[e], *v = rep->element[e + 1];

	for (size_t i = 0; i < NSTAT_FIELDS; i++) {
	    int64_t *p = stat_field(s, i, name, sizeof(name));

	    if (p == 0)
		break;
	    if (f->type == REDIS_REPLY_STRING && f->len == strlen(name)
		&& memcmp(f->str, name, f->len) == 0 && v->type == REDIS_REPLY_STRING)
		*p = strtoll(v->str, 0, 10);
	}
    }
    hiredis_api.free_reply(rep);
    return 0;
}

/* redis_update_stats - the increments fn makes (from zero) to the counters,
 * as HINCRBYs: never a read and a write back, which would lose other
 * hosts' increments in between; 0 or -1 */
static int redis_update_stats(struct tp_db *base, void (*fn) (struct tp_stats *, void *),
			               void *ctx)
{
    struct redis *r = (struct redis *) base;
    struct tp_stats add;

    memset(&add, 0, sizeof(add));
    fn(&add, ctx);
    if (redis_connect(r) < 0)
	return -1;
    return add_counters(r, &add);
}

/* redis_walk - SCAN the keys under the prefix, MGET each batch: fn for each
 * record (not the counters; '@' keys only with all); the count, or -1 */
static int redis_walk(struct tp_db *base, db_walk_fn *fn, void *ctx, int all)
{
    struct redis *r = (struct redis *) base;
    char    pattern[160], cursor[32] = "0";
    int     count = 0, stop = 0;
    size_t  plen = strlen(r->prefix);

    snprintf(pattern, sizeof(pattern), "%s*", r->prefix);
    if (redis_connect(r) < 0)
	return -1;
    do {
	const char *scan[6] = {"SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT};
	redisReply *rep = redis_command(r, "SCAN", 6, scan, 0), *keys, *vals;
	const char **mget;
	size_t  nk = 0;

	if (rep == 0)
	    return -1;
	if (redis_reply_error(r, "SCAN", rep) || rep->type != REDIS_REPLY_ARRAY
	    || rep->elements != 2 || rep->element[1]->type != REDIS_REPLY_ARRAY) {
	    hiredis_api.free_reply(rep);
	    return -1;
	}
	snprintf(cursor, sizeof(cursor), "%.*s", (int) rep->element[0]->len,
		 rep->element[0]->str);
	keys = rep->element[1];
	mget = xcalloc(keys->elements + 1, sizeof(*mget));
	mget[nk++] = "MGET";
	for (size_t i = 0; i < keys->elements; i++) {
	    const char *kk = keys->element[i]->str;

	    if (keys->element[i]->len < plen || strcmp(kk + plen, KEY_STATS) == 0
		|| (kk[plen] == KEY_RESERVED && !all) || strlen(kk) != keys->element[i]->len)
		continue;
	    mget[nk++] = kk;
	}
	if (nk > 1) {
	    if ((vals = redis_command(r, "MGET", (int) nk, mget, 0)) == 0) {
		free(mget);
		hiredis_api.free_reply(rep);
		return -1;
	    }
	    for (size_t i = 1; !stop && vals->type == REDIS_REPLY_ARRAY && i < nk
		 && i - 1 < vals->elements; i++) {
		struct tp_record rec;

		if (decode(r, mget[i], vals->element[i - 1], &rec) == 1) {
		    count++;
		    stop = fn(mget[i] + plen, &rec, ctx) != 0;
		}
	    }
	    hiredis_api.free_reply(vals);
	}
	free(mget);
	hiredis_api.free_reply(rep);
    } while (!stop && strcmp(cursor, "0") != 0);
    return count;
}

/* count_fn - one more record */
static int count_fn(const char *key, const struct tp_record *rec, void *ctx)
{
    (void) key;
    (void) rec;
    (*(long *) ctx)++;
    return 0;
}

/* redis_check - the records under the prefix, greylist entries
 * included: the server keeps them sound itself */
static int redis_check(struct tp_db *base, long *records)
{
    return redis_walk(base, count_fn, records, 1) < 0 ? -1 : 0;
}

/* info_field - "name:value" from an INFO reply, into buf */
static const char *info_field(const char *info, const char *name, char *buf, size_t len)
{
    const char *p = info;
    size_t  n = strlen(name);

    buf[0] = 0;
    while (p && *p) {
	if (strncmp(p, name, n) == 0 && p[n] == ':') {
	    snprintf(buf, len, "%.*s", (int) strcspn(p + n + 1, "\r\n"), p + n + 1);
	    return buf;
	}
	p = strchr(p, '\n');
	p = p ? p + 1 : 0;
    }
    return buf;
}

/* redis_about - the server's version and memory, and the keys under
 * the prefix; 0 or -1 */
static int redis_about(struct tp_db *base, struct db_about *about)
{
    struct redis *r = (struct redis *) base;
    const char *argv[1] = {"INFO"};
    char    version[64], memory[64], product[16] = "Redis";
    redisReply *rep;

    if (redis_connect(r) < 0 || (rep = redis_command(r, "INFO", 1, argv, 0)) == 0)
	return -1;
    if (redis_reply_error(r, "INFO", rep) || rep->type != REDIS_REPLY_STRING) {
	hiredis_api.free_reply(rep);
	return -1;
    }
    info_field(rep->str, "redis_version", version, sizeof(version));
    if (strstr(rep->str, "valkey_version:") != 0) {
	snprintf(product, sizeof(product), "Valkey");
	info_field(rep->str, "valkey_version", version, sizeof(version));
    }
    info_field(rep->str, "used_memory", memory, sizeof(memory));
    hiredis_api.free_reply(rep);
    snprintf(about->server, sizeof(about->server), "%s %s, used_memory %s bytes",
	     product, version, memory);
    about->keys = 0;
    return redis_check(base, &about->keys);
}

/* eviction - the server's maxmemory_policy, from INFO (which the
 * ACL of tarpit.conf(5) allows; CONFIG would show the password too); 0 or
 * -1 (said) */
static int eviction(struct redis *r, char *buf, size_t len)
{
    const char *argv[2] = {"INFO", "memory"};
    redisReply *rep;
    int     rc = -1;

    if (redis_connect(r) < 0 || (rep = redis_command(r, "INFO", 2, argv, 0)) == 0)
	return -1;
    if (!redis_reply_error(r, "INFO", rep) && rep->type == REDIS_REPLY_STRING) {
	if (*info_field(rep->str, "maxmemory_policy", buf, len))
	    rc = 0;
	else
	    redis_set_error(r, "INFO memory: no maxmemory_policy");
    }
    hiredis_api.free_reply(rep);
    return rc;
}

/* ping - connect, authenticate, PING; 0 or -1 */
static int ping(struct redis *r)
{
    const char *argv[1] = {"PING"};
    redisReply *rep;
    int     rc;

    if (redis_connect(r) < 0 || (rep = redis_command(r, "PING", 1, argv, 0)) == 0)
	return -1;
    rc = redis_reply_error(r, "PING", rep) ? -1 : 0;
    hiredis_api.free_reply(rep);
    return rc;
}

/* redis_update_many - each key's update, one after another */
static int redis_update_many(struct tp_db *base, char *const *keys, size_t n,
			              db_update_fn *fn, void *ctx)
{
    int     rc = 0;

    for (size_t i = 0; i < n && rc >= 0; i++)
	rc = update((struct redis *) base, keys[i], fn, ctx);
    return rc;
}

/* loopback_only - does host name this machine alone (every address it
 * resolves to a loopback one)? */
static int loopback_only(const char *host)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    int     all = 1;

    if (getaddrinfo(host, 0, &hints, &res) != 0)
	return 0;
    for (ai = res; ai; ai = ai->ai_next) {
	if (ai->ai_family == AF_INET) {
	    const struct sockaddr_in *in = (const void *) ai->ai_addr;

	    all &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (ai->ai_family == AF_INET6) {
	    const struct sockaddr_in6 *in6 = (const void *) ai->ai_addr;

	    all &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	} else {
	    all = 0;
	}
    }
    freeaddrinfo(res);
    return all;
}

/* redis_doctor - reached, credentials taken, and no eviction policy
 * that could drop our keys; and whether the link crosses a network in
 * clear (the hiredis of Debian 12, 0.14, has no TLS) */
static void redis_doctor(struct tp_db *base, db_finding_fn *say, void *ctx)
{
    struct redis *r = (struct redis *) base;
    char    policy[64], text[DB_PATH_MAX + 600];

    if (ping(r) < 0) {
	snprintf(text, sizeof(text), "the database server does not answer: %s",
		 base->error);
	say(ctx, "start the server, or fix database, database_password_file "
	    "and the ACL user in tarpit.conf", text);
	return;
    }
    snprintf(text, sizeof(text), "database server %s answers PING, credentials "
	     "accepted", r->url);
    say(ctx, 0, text);
    if (r->socket[0] == 0 && !loopback_only(r->host)) {
	snprintf(text, sizeof(text), "the link to %s crosses a network in clear: %s "
		 "and every record can be read on the way (hiredis here has no TLS)",
		 r->host, r->password_file[0] ? "the password (AUTH)" : "the commands");
	say(ctx, "reach the server through a tunnel (WireGuard, spiped or stunnel, "
	    "share/doc/SCALING.md) and name its local end in database", text);
    }
    if (eviction(r, policy, sizeof(policy)) < 0) {
	snprintf(text, sizeof(text), "the server's maxmemory-policy cannot be "
		 "read: %s", base->error);
	say(ctx, "give the ACL user +info, as tarpit.conf(5) shows", text);
    } else if (strncmp(policy, "allkeys-", 8) == 0) {
	snprintf(text, sizeof(text), "maxmemory-policy is %s: the server may "
		 "evict our keys, and escaped networks would silently wait again",
		 policy);
	say(ctx, "set maxmemory-policy to noeviction or volatile-ttl on the server",
	    text);
    } else {
	snprintf(text, sizeof(text), "maxmemory-policy %s keeps our keys", policy);
	say(ctx, 0, text);
    }
}

const struct db_ops redis_ops = {
    .kind = "server",
    .shared = 1,
    .free = redis_free,
    .get = redis_get,
    .release = redis_release,
    .update_many = redis_update_many,
    .update_stats = redis_update_stats,
    .get_stats = redis_get_stats,
    .walk = redis_walk,
    .check = redis_check,
    .about = redis_about,
    .doctor = redis_doctor,
    .tcp_port = redis_tcp_port,
    .resolves = redis_resolves,
};

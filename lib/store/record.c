/*
 * NAME
 *	record - the one codec for database records
 * DESCRIPTION
 *	On disk a record is: one byte of format version (1), one byte N
 *	giving the number of fields, then N fields of 8 bytes each, signed,
 *	most significant byte first.  The fields are those of struct
 *	tp_record in the order of the table below.  New fields are only ever
 *	appended: a reader takes the fields it knows and ignores the rest, and
 *	a field missing from an older record reads as 0.  So the format
 *	changes version only when a field changes meaning.  An admin's comment,
 *	when there is one, follows the fields: two bytes of length (most
 *	significant first), then that many bytes of text, without a NUL.
 *
 *	The host-wide counters (struct tp_stats) use the same layout, in the
 *	order of stats_disk[] (STATS_DISK): the five first totals, the
 *	hang-up histogram's buckets, then the counters added since.
 * DIAGNOSTICS
 *	record_decode() and stats_decode() return -1 for an unknown version
 *	or a length that does not match N.
 */
#define _GNU_SOURCE
#include "store/record.h"

#include <endian.h>
#include <string.h>

#define F(name, kind) {#name, offsetof(struct tp_record, name), kind}

/* The on-disk order: append only. */
const struct record_field record_field_table[] = {
    F(first_seen, RK_TIME), F(last_seen, RK_TIME), F(tarpits, RK_COUNT),
    F(escapes, RK_COUNT), F(pending, RK_COUNT), F(last_tarpit, RK_TIME),
    F(hangups, RK_COUNT), F(early_talkers, RK_COUNT), F(dropouts, RK_COUNT),
    F(last_wait_ms, RK_MS), F(allow_until, RK_UNTIL), F(block_until, RK_UNTIL),
    F(last_completed, RK_TIME), F(recent_failures, RK_COUNT), F(learned, RK_LEARNED),
    F(grey_made, RK_COUNT), F(grey_since, RK_TIME), F(spread, RK_COUNT),
    F(hangup_ms, RK_MS),
};

const char *const record_learned_name[] = {
    [LEARNED_NOTHING] = "-",[LEARNED_WAITED] = "waited",
    [LEARNED_RETRIED] = "retried",[LEARNED_SEEDED] = "seeded",
    [LEARNED_CORRESPONDENT] = "correspondent",
};

#define NFIELDS (sizeof(record_field_table) / sizeof(record_field_table[0]))

#define S(name) {#name, offsetof(struct tp_stats, name), RK_COUNT}

const struct record_field stats_field_table[] = {
    S(tarpits), S(escapes), S(hangups), S(early_talkers), S(dropouts),
    S(waits_refused), S(greylisted), S(blocks), S(hangup_ms),
};

const size_t stats_nfields = sizeof(stats_field_table) / sizeof(stats_field_table[0]);

_Static_assert(sizeof(stats_field_table) / sizeof(stats_field_table[0]) == STATS_NAMED,
	       "stats_field_table names every counter but the histogram's buckets");

const size_t record_nfields = NFIELDS;

#define G(name) {#name, offsetof(struct grey_entry, name), RK_TIME}

const struct record_field grey_field_table[] = {
    G(first_seen), G(last_attempt), {"retries", offsetof(struct grey_entry, retries), RK_COUNT},
    G(last_retry),
};

const size_t grey_nfields = sizeof(grey_field_table) / sizeof(grey_field_table[0]);
/* The host-wide counters on disk, in this order: append only.  Named one
 * by one, so that reordering struct tp_stats cannot change the format. */
#define ST(name, n) {offsetof(struct tp_stats, name), n}

#define STATS_DISK(X) X(tarpits, 1) X(escapes, 1) X(hangups, 1) X(early_talkers, 1) \
    X(dropouts, 1) X(hangup_hist, HIST_BUCKETS) X(waits_refused, 1) \
    X(greylisted, 1) X(blocks, 1) X(hangup_ms, 1)
#define ST_ENTRY(name, n) ST(name, n),
#define ST_COUNT(name, n) + (n)

static const struct {
    size_t  offset;
    size_t  n;				/* int64_t values from there */
} stats_disk[] = {STATS_DISK(ST_ENTRY)};

#define NSTATS STATS_COUNTERS
_Static_assert(0 STATS_DISK(ST_COUNT) == NSTATS,
	       "stats_disk[] holds every counter of struct tp_stats");

/* stats_values - the counters in their on-disk order, or back */
static void stats_values(struct tp_stats *s, int64_t *v, int to_values)
{
    size_t  at = 0;

    for (size_t i = 0; i < sizeof(stats_disk) / sizeof(stats_disk[0]); i++) {
	int64_t *field = (int64_t *) ((char *) s + stats_disk[i].offset);

	for (size_t j = 0; j < stats_disk[i].n; j++, at++)
	    if (to_values)
		v[at] = field[j];
	    else
		field[j] = v[at];
    }
}

/* encode_fields - version, count, then n big-endian 64-bit values */
static size_t encode_fields(const int64_t *v, size_t n, unsigned char *buf,
			            size_t len)
{
    size_t  need = 2 + 8 * n;

    if (len < need || n > 255)
	return 0;
    buf[0] = RECORD_VERSION;
    buf[1] = (unsigned char) n;
    for (size_t i = 0; i < n; i++) {
	uint64_t u = htobe64((uint64_t) v[i]);

	memcpy(buf + 2 + 8 * i, &u, sizeof(u));
    }
    return need;
}

/* decode_fields - up to n values; missing ones are 0; the size of the
 * fields part, or 0 when damaged */
static size_t decode_fields(const unsigned char *buf, size_t len, int64_t *v,
			            size_t n)
{
    size_t  have;

    memset(v, 0, n * sizeof(*v));
    if (len < 2 || buf[0] != RECORD_VERSION)
	return 0;
    have = buf[1];
    if (len < 2 + 8 * have)
	return 0;
    for (size_t i = 0; i < have && i < n; i++) {
	uint64_t u;

	memcpy(&u, buf + 2 + 8 * i, sizeof(u));
	v[i] = (int64_t) be64toh(u);
    }
    return 2 + 8 * have;
}

/* record_encode - bytes for the database; their count, or 0 */
size_t record_encode(const struct tp_record *r, unsigned char *buf, size_t len)
{
    int64_t v[NFIELDS];
    size_t  n, clen = strnlen(r->comment, sizeof(r->comment));

    for (size_t i = 0; i < NFIELDS; i++)
	memcpy(v + i, (const char *) r + record_field_table[i].offset, sizeof(v[i]));
    if ((n = encode_fields(v, NFIELDS, buf, len)) == 0)
	return 0;
    if (clen == 0 || clen >= sizeof(r->comment))
	return clen == 0 ? n : 0;
    if (len < n + 2 + clen)
	return 0;
    buf[n] = (unsigned char) (clen >> 8);
    buf[n + 1] = (unsigned char) clen;
    memcpy(buf + n + 2, r->comment, clen);
    return n + 2 + clen;
}

/* record_decode - a record from the database's bytes; 0 or -1 */
int record_decode(const unsigned char *buf, size_t len, struct tp_record *r)
{
    int64_t v[NFIELDS];
    size_t  n;

    memset(r, 0, sizeof(*r));
    if ((n = decode_fields(buf, len, v, NFIELDS)) == 0)
	return -1;
    if (len != n) {
	size_t  clen;

	if (len < n + 2)
	    return -1;
	clen = (size_t) buf[n] << 8 | buf[n + 1];
	if (len != n + 2 + clen || clen == 0 || clen >= sizeof(r->comment)
	    || memchr(buf + n + 2, 0, clen) != 0)
	    return -1;
	memcpy(r->comment, buf + n + 2, clen);
    }
    for (size_t i = 0; i < NFIELDS; i++)
	memcpy((char *) r + record_field_table[i].offset, v + i, sizeof(v[i]));
    return 0;
}

/* stats_encode - the host-wide counters for the database */
size_t stats_encode(const struct tp_stats *s, unsigned char *buf, size_t len)
{
    int64_t v[NSTATS];
    struct tp_stats copy = *s;

    stats_values(&copy, v, 1);
    return encode_fields(v, NSTATS, buf, len);
}

/* stats_decode - the host-wide counters from the database; 0 or -1 */
int stats_decode(const unsigned char *buf, size_t len, struct tp_stats *s)
{
    int64_t v[NSTATS];

    memset(s, 0, sizeof(*s));
    if (decode_fields(buf, len, v, NSTATS) != len)
	return -1;
    stats_values(s, v, 0);
    return 0;
}

/* record_comment_ok - may this be an admin's comment?  No control
 * characters: a comment is printed on terminals and in log lines, where
 * one could forge a line or an escape sequence.  0, or -1 */
int     record_comment_ok(const char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || *s == 0x7f)
	    return -1;
    return 0;
}

/* record_learned_word - the word for a `learned` value; "?" for one this
 * version does not know (a dump may say anything) */
const char *record_learned_word(int64_t v)
{
    return v >= 0 && v <= LEARNED_MAX ? record_learned_name[v] : "?";
}

/* The counters are int64_t, every one: stats_add() adds them as an array,
 * and a field of another type would break it at compile time here. */
_Static_assert(sizeof(struct tp_stats) == sizeof(int64_t) * NSTATS,
	       "struct tp_stats holds NSTATS int64_t counters and nothing else");

/* stats_add - add the increments in add to the counters in s */
void    stats_add(struct tp_stats *s, const struct tp_stats *add)
{
    int64_t *to = (int64_t *) s;
    const int64_t *from = (const int64_t *) add;

    for (size_t i = 0; i < NSTATS; i++)
	to[i] += from[i];
}

/* stats_add_hangup - count a hang-up in its 10-second bucket, and the
 * time waited in the total */
void stats_add_hangup(struct tp_stats *s, int64_t waited_ms)
{
    int64_t b = waited_ms / 1000 / HIST_BUCKET_S;

    if (b < 0)
	b = 0;
    if (b >= HIST_BUCKETS)
	b = HIST_BUCKETS - 1;
    s->hangups++;
    s->hangup_hist[b]++;
    if (waited_ms > 0)
	s->hangup_ms += waited_ms;
}

/* grey_from_record - a greylist entry from the record it is stored as */
void grey_from_record(const struct tp_record *r, struct grey_entry *g)
{
    g->first_seen = r->first_seen;
    g->last_attempt = r->last_seen;
    g->retries = r->tarpits;
    g->last_retry = r->last_tarpit;
}

/* grey_to_record - a greylist entry as the record it is stored as */
void grey_to_record(const struct grey_entry *g, struct tp_record *r)
{
    memset(r, 0, sizeof(*r));
    r->first_seen = g->first_seen;
    r->last_seen = g->last_attempt;
    r->tarpits = g->retries;
    r->last_tarpit = g->last_retry;
}

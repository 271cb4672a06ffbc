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
 *	changes version only when a field changes meaning.
 * DIAGNOSTICS
 *	The host-wide counters (struct tp_stats) use the same layout: their
 *	five totals, then the hang-up histogram buckets.
 *
 *	record_decode() and stats_decode() return -1 for an unknown version
 *	or a length that does not match N.
 */
#include "record.h"

#include <string.h>

#define F(name) offsetof(struct tp_record, name)

static const size_t record_fields[] = {
    F(first_seen), F(last_seen), F(tarpits), F(escapes), F(pending),
    F(last_tarpit), F(hangups), F(early_talkers), F(dropouts),
    F(last_wait_ms), F(allow_until), F(block_until), F(last_completed),
};

#define NFIELDS (sizeof(record_fields) / sizeof(record_fields[0]))
#define NSTATS (sizeof(struct tp_stats) / sizeof(int64_t))

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
	uint64_t u = (uint64_t) v[i];

	for (int b = 0; b < 8; b++)
	    buf[2 + 8 * i + b] = (unsigned char) (u >> (56 - 8 * b));
    }
    return need;
}

/* decode_fields - up to n values; missing ones are 0; 0 or -1 */
static int decode_fields(const unsigned char *buf, size_t len, int64_t *v,
			         size_t n)
{
    size_t  have;

    memset(v, 0, n * sizeof(*v));
    if (len < 2 || buf[0] != RECORD_VERSION)
	return -1;
    have = buf[1];
    if (len != 2 + 8 * have)
	return -1;
    for (size_t i = 0; i < have && i < n; i++) {
	uint64_t u = 0;

	for (int b = 0; b < 8; b++)
	    u = (u << 8) | buf[2 + 8 * i + b];
	v[i] = (int64_t) u;
    }
    return 0;
}

/* record_encode - bytes for the database; their count, or 0 */
size_t record_encode(const struct tp_record *r, unsigned char *buf, size_t len)
{
    int64_t v[NFIELDS];

    for (size_t i = 0; i < NFIELDS; i++)
	memcpy(v + i, (const char *) r + record_fields[i], sizeof(v[i]));
    return encode_fields(v, NFIELDS, buf, len);
}

/* record_decode - a record from the database's bytes; 0 or -1 */
int record_decode(const unsigned char *buf, size_t len, struct tp_record *r)
{
    int64_t v[NFIELDS];

    memset(r, 0, sizeof(*r));
    if (decode_fields(buf, len, v, NFIELDS) < 0)
	return -1;
    for (size_t i = 0; i < NFIELDS; i++)
	memcpy((char *) r + record_fields[i], v + i, sizeof(v[i]));
    return 0;
}

/* stats_encode - the host-wide counters for the database */
size_t stats_encode(const struct tp_stats *s, unsigned char *buf, size_t len)
{
    int64_t v[NSTATS];

    memcpy(v, s, sizeof(v));
    return encode_fields(v, NSTATS, buf, len);
}

/* stats_decode - the host-wide counters from the database; 0 or -1 */
int stats_decode(const unsigned char *buf, size_t len, struct tp_stats *s)
{
    int64_t v[NSTATS];

    if (decode_fields(buf, len, v, NSTATS) < 0) {
	memset(s, 0, sizeof(*s));
	return -1;
    }
    memcpy(s, v, sizeof(v));
    return 0;
}

/* stats_add_hangup - count a hang-up in its 10-second bucket */
void stats_add_hangup(struct tp_stats *s, int64_t waited_ms)
{
    int64_t b = waited_ms / 1000 / HIST_BUCKET_S;

    if (b < 0)
	b = 0;
    if (b >= HIST_BUCKETS)
	b = HIST_BUCKETS - 1;
    s->hangups++;
    s->hangup_hist[b]++;
}

/* record_settle - old pending waits become dropouts; returns how many */
int64_t record_settle(struct tp_record *r, int64_t now)
{
    int64_t n = r->pending;

    if (n <= 0 || now - r->last_completed < PENDING_MAX_AGE)
	return 0;
    r->dropouts += n;
    r->pending = 0;
    return n;
}

/* record_test - the on-disk codec: round trip, golden bytes, damage */
#include "store/record.h"
#include "unit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    struct tp_record r, back;
    unsigned char buf[RECORD_MAX_SIZE];
    size_t  n;

    memset(&r, 0, sizeof(r));
    r.first_seen = 1700000000;
    r.last_seen = 0x7fffffffffffffffLL;
    r.tarpits = 3;
    r.escapes = 1;
    r.pending = 2;
    r.allow_until = -1;
    r.block_until = 4102444800LL;	/* past 2038: 64-bit times */
    n = record_encode(&r, buf, sizeof(buf));
    EXPECT(n == 2 + 8 * record_nfields, "encoded length %zu", n);
    EXPECT(buf[0] == 1 && buf[1] == record_nfields, "header %d %d", buf[0], buf[1]);
    /* first_seen 1700000000 = 0x6553f100, big-endian in bytes 2..9 */
    static const unsigned char first[8] = {0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00};

    EXPECT(memcmp(buf + 2, first, 8) == 0, "first_seen is big-endian");
    EXPECT(record_decode(buf, n, &back) == 0, "decode");
    EXPECT(memcmp(&r, &back, sizeof(r)) == 0, "round trip");

    /* An older record with fewer fields: the rest read as 0. */
    unsigned char old[2 + 8 * 3];

    memcpy(old, buf, sizeof(old));
    old[1] = 3;
    EXPECT(record_decode(old, sizeof(old), &back) == 0, "short record");
    EXPECT(back.first_seen == r.first_seen && back.tarpits == 3
	   && back.escapes == 0 && back.allow_until == 0, "missing fields are 0");

    /* A newer record with more fields: the known ones are read. */
    unsigned char newer[2 + 8 * 40];
    size_t  nn = 2 + 8 * (record_nfields + 2);

    memset(newer, 0xab, sizeof(newer));
    memcpy(newer, buf, n);
    newer[1] = (unsigned char) (record_nfields + 2);
    EXPECT(record_decode(newer, nn, &back) == 0, "longer record");
    EXPECT(memcmp(&r, &back, sizeof(r)) == 0, "known fields of a longer record");

    /* A comment follows the fields, and round-trips. */
    struct tp_record c = r;
    unsigned char cbuf[RECORD_MAX_SIZE];
    size_t  cn;

    snprintf(c.comment, sizeof(c.comment), "ticket #42: a partner's MX");
    cn = record_encode(&c, cbuf, sizeof(cbuf));
    EXPECT(cn == n + 2 + strlen(c.comment), "length with comment %zu", cn);
    EXPECT(record_decode(cbuf, cn, &back) == 0
	   && strcmp(back.comment, c.comment) == 0
	   && back.block_until == c.block_until, "comment round trip");
    EXPECT(record_decode(cbuf, cn - 1, &back) < 0, "comment cut short");
    cbuf[n + 2] = 0;
    EXPECT(record_decode(cbuf, cn, &back) < 0, "NUL in a comment");

    /* The counters share the layout. */
    struct tp_stats st, st2;

    memset(&st, 0, sizeof(st));
    st.tarpits = 5;
    st.hangup_hist[HIST_BUCKETS - 1] = 7;
    cn = stats_encode(&st, cbuf, sizeof(cbuf));
    EXPECT(cn > 0 && stats_decode(cbuf, cn, &st2) == 0
	   && memcmp(&st, &st2, sizeof(st)) == 0, "stats round trip");
    /* The on-disk places of the counters: the format, whatever the
     * order of the struct's members. */
    {
	static const struct {
	    const char *name;
	    size_t  place;
	} places[] = {
	    {"tarpits", 0}, {"escapes", 1}, {"hangups", 2}, {"early_talkers", 3},
	    {"dropouts", 4}, {"hist[0]", 5}, {"hist[30]", 35}, {"waits_refused", 36},
	    {"greylisted", 37}, {"blocks", 38}, {"hangup_ms", 39},
	};
	struct tp_stats p;
	unsigned char pb[RECORD_MAX_SIZE];
	size_t  pn;

	memset(&p, 0, sizeof(p));
	p.tarpits = 100, p.escapes = 101, p.hangups = 102, p.early_talkers = 103;
	p.dropouts = 104, p.hangup_hist[0] = 105, p.hangup_hist[30] = 135;
	p.waits_refused = 136, p.greylisted = 137, p.blocks = 138, p.hangup_ms = 139;
	pn = stats_encode(&p, pb, sizeof(pb));
	EXPECT(pn == 2 + 8 * 40 && pb[1] == 40, "40 counters on disk: %zu bytes", pn);
	for (size_t i = 0; pn && i < sizeof(places) / sizeof(places[0]); i++)
	    EXPECT(pb[2 + 8 * places[i].place + 7] == 100 + places[i].place,
		   "%s in place %zu", places[i].name, places[i].place);
    }
    stats_add_hangup(&st, 9999);
    stats_add_hangup(&st, 3999000);
    stats_add_hangup(&st, 10000);
    EXPECT(st.hangups == 3 && st.hangup_hist[0] == 1 && st.hangup_hist[1] == 1
	   && st.hangup_hist[HIST_BUCKETS - 1] == 8, "histogram buckets");
    EXPECT(st.hangup_ms == 9999 + 3999000 + 10000, "time waited: %" PRId64, st.hangup_ms);
    /* Counters written before hangup_ms existed read as 0 for it. */
    cbuf[1] = 39;
    EXPECT(stats_decode(cbuf, 2 + 8 * 39, &st2) == 0 && st2.hangup_ms == 0
	   && st2.tarpits == 5, "39 counters of old");

    /* Damage. */
    EXPECT(record_decode(buf, 0, &back) < 0, "empty");
    EXPECT(record_decode(buf, 1, &back) < 0, "one byte");
    EXPECT(record_decode(buf, n - 1, &back) < 0, "truncated");
    buf[0] = 2;
    EXPECT(record_decode(buf, n, &back) < 0, "unknown version");
    EXPECT(record_encode(&r, buf, 10) == 0, "short output buffer");
    return unit_done("record");
}

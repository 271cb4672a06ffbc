/*
 * dump_test - the text form of the database, line by line: what each kind
 * of line reads as, what is refused and why, and that what dump_record()
 * writes reads back as the same record.
 */
#define _GNU_SOURCE
#include "tarpit/dump.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *line;
    int     ok;
    enum dump_line kind;
    const char *key_or_why;
} lines[] = {
    {"", 1, DUMP_SKIP, 0},
    {"# tarpit dump 1", 1, DUMP_SKIP, 0},
    {"@stats tarpits=3 hist=1,2", 1, DUMP_STATS, 0},
    {"192.0.2.0/24 tarpits=1", 1, DUMP_RECORD, "192.0.2.0/24"},
    {"2001:db8::/64", 1, DUMP_RECORD, "2001:db8::/64"},
    {"@grey%20192.0.2.0/24%20a@b%20c@d retries=1", 1, DUMP_RECORD, "@grey 192.0.2.0/24 a@b c@d"},
    {"192.0.2.1/24 tarpits=1", 0, 0, "not a network in canonical form (like 192.0.2.0/24, or [submission]192.0.2.0/24)"},
    {"192.0.2.0 tarpits=1", 0, 0, "not a network in canonical form (like 192.0.2.0/24, or [submission]192.0.2.0/24)"},
    {"::ffff:192.0.2.0/120", 0, 0, "not a network in canonical form (like 192.0.2.0/24, or [submission]192.0.2.0/24)"},
    {"192.0.2.0/24 tarpits=x", 0, 0, "not a number"},
    {"192.0.2.0/24 tarpits", 0, 0, "expected name=value"},
    {"192.0.2.0/24 wings=2", 0, 0, "unknown field"},
    {"192.0.2.0/24 comment=%4", 0, 0, "bad comment"},
    {"192.0.2.0/24 comment=%00", 0, 0, "bad comment"},
    {"@stats hist=1,x", 0, 0, "bad histogram"},
    {"@stats wings=1", 0, 0, "unknown field"},
    {"@grey%2", 0, 0, "a key with a bad %XX"},
    {"@grey%20x%zz retries=1", 0, 0, "a key with a bad %XX"},
    {"@nothing x=1", 0, 0, "an unknown '@' key (@stats, @grey%20..., @domain%20...)"},
    {"@domain%20Bad_Name! escapes=1", 0, 0, "bad domain record (like @domain%20example.com)"},
    {"@domain%20example.com escapes=2", 1, DUMP_RECORD, "@domain example.com"},
    {"@grey%20x retries=y", 0, 0, "not a number"},
    {"@other 1", 0, 0, "an unknown '@' key (@stats, @grey%20..., @domain%20...)"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
	char    buf[512];
	struct dump_item it;
	const char *why = 0;
	int     ok;

	snprintf(buf, sizeof(buf), "%s", lines[i].line);
	ok = dump_parse(buf, &it, &why) == 0;
	EXPECT(ok == lines[i].ok, "\"%s\": %s", lines[i].line, why ? why : "taken");
	if (ok && lines[i].ok)
	    EXPECT(it.kind == lines[i].kind && (it.kind != DUMP_RECORD
		       || strcmp(it.key, lines[i].key_or_why) == 0),
		   "\"%s\": kind %d key %s", lines[i].line, it.kind, it.key);
	if (!ok && !lines[i].ok)
	    EXPECT(why && strcmp(why, lines[i].key_or_why) == 0, "\"%s\": why \"%s\"",
		   lines[i].line, why ? why : "");
    }

    /* What is written reads back the same: a record with a comment that
     * needs escaping, a greylist entry, the counters. */
    struct tp_record r, g;
    struct grey_entry ge = {1800000000, 1800000600, 2, 1800000300};
    struct tp_stats st;
    struct dump_item it;
    char   *text = 0, *line, *save = 0;
    size_t  len = 0;
    FILE   *fp = open_memstream(&text, &len);
    const char *why = 0;

    SETUP(fp != 0, "open_memstream");
    memset(&r, 0, sizeof(r));
    r.first_seen = 1800000000;
    r.escapes = 3;
    r.block_until = -1;
    snprintf(r.comment, sizeof(r.comment), "50%% off, caf\xc3\xa9");
    grey_to_record(&ge, &g);
    memset(&st, 0, sizeof(st));
    st.hangups = 7;
    st.hangup_hist[HIST_BUCKETS - 1] = 7;
    dump_record(fp, "198.51.100.0/24", &r);
    dump_record(fp, "@grey 198.51.100.0/24 a@b.example <>", &g);
    dump_stats(fp, &st);
    SETUP(fclose(fp) == 0, "fclose");

    line = strtok_r(text, "\n", &save);
    EXPECT(line && strstr(line, "comment=50%25%20off,%20caf%C3%A9") != 0, "escaped: %s", line ? line : "(none)");
    EXPECT(line && dump_parse(line, &it, &why) == 0 && strcmp(it.key, "198.51.100.0/24") == 0
	   && memcmp(&it.rec, &r, sizeof(r)) == 0, "record round trip");
    char    bad[] = "198.51.100.0/24 block_until=-1 comment=x%0Aforged%1B[2J";

    EXPECT(dump_parse(bad, &it, &why) == -1 && why
	   && strcmp(why, "a comment with a control character") == 0,
	   "a comment with a control character is refused, as --comment refuses it");
    line = strtok_r(0, "\n", &save);
    EXPECT(line && strncmp(line, "@grey%20198.51.100.0/24%20a@b.example%20<> first_seen=", 54) == 0
	   && strstr(line, " retries=2 ") != 0 && strstr(line, "tarpits") == 0,
	   "greylist entry with its own field names: %s", line ? line : "(none)");
    EXPECT(line && dump_parse(line, &it, &why) == 0
	   && strcmp(it.key, "@grey 198.51.100.0/24 a@b.example <>") == 0
	   && memcmp(&it.rec, &g, sizeof(g)) == 0, "greylist round trip");
    line = strtok_r(0, "\n", &save);
    EXPECT(line && dump_parse(line, &it, &why) == 0 && it.kind == DUMP_STATS
	   && memcmp(&it.stats, &st, sizeof(st)) == 0, "counters round trip");
    free(text);

    /* An older dump's greylist line, in a record's field names. */
    char    old[] = "@grey%20192.0.2.0/24%20a@b%20c@d first_seen=5 last_seen=9 tarpits=2 "
	"escapes=0 last_tarpit=8";
    struct grey_entry back;

    EXPECT(dump_parse(old, &it, &why) == 0, "older greylist line: %s", why ? why : "");
    grey_from_record(&it.rec, &back);
    EXPECT(back.first_seen == 5 && back.last_attempt == 9 && back.retries == 2
	   && back.last_retry == 8, "older names map to the entry's fields");
    return unit_done("dump");
}

/*
 * NAME
 *	dump - the text form of the database
 * DESCRIPTION
 *	A dump is a DUMP_HEADER line, then one line per key, words separated
 *	by one space:
 *
 *	  @stats NAME=N ... hist=N,N,...	the host-wide counters
 *	  NETWORK NAME=N ... [comment=TEXT]	a network's record
 *	  [PROFILE]NETWORK NAME=N ...		a profile's own record
 *	  @grey%20NETWORK%20SENDER%20RECIPIENT NAME=N ...
 *						a greylist entry
 *	  @grey%20DOMAIN%20SENDER%20RECIPIENT NAME=N ...
 *						a verified domain's one
 *	  @domain%20DOMAIN NAME=N ...		a verified domain's record
 *
 *	A network is written canonically (192.0.2.0/24).  The names are
 *	those of the record's, the counters' and the greylist entry's field
 *	tables (record.h), every field written, in table order.  A key or a
 *	comment has '%', spaces, control characters and bytes above 0x7e
 *	written as %XX.  Reading takes the fields in any order; a missing
 *	one is 0.  A greylist line may also carry the record field names
 *	that dumps wrote before entries had fields of their own (tarpits for
 *	retries, last_tarpit for last_retry, last_seen for last_attempt),
 *	and a network's line the name failures for recent_failures.
 *	Empty lines and lines starting with '#' are skipped.
 * DIAGNOSTICS
 *	dump_parse() returns -1 with a reason for a line it cannot take
 *	whole: an unknown field, a number that is not one, a key that is not
 *	a canonical network or a greylist entry, a bad %XX.
 */
#define _GNU_SOURCE
#include "tarpit/dump.h"
#include "util/addr.h"
#include "tarpit/conf.h"
#include "tarpit/ledger.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>

/* put_text - percent-encode what would break a dump line */
static void put_text(FILE *fp, const char *s)
{
    for (; *s; s++) {
	unsigned char c = (unsigned char) *s;

	if (c <= 0x20 || c == '%' || c >= 0x7f)
	    fprintf(fp, "%%%02X", c);
	else
	    putc(c, fp);
    }
}

/* get_text - undo put_text; 0 or -1 */
static int get_text(const char *in, char *out, size_t len)
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

/* put_fields - " name=value" for each field of a table */
static void put_fields(FILE *fp, const void *base, const struct record_field *t,
		               size_t n)
{
    for (size_t i = 0; i < n; i++)
	fprintf(fp, " %s=%" PRId64, t[i].name, *RECORD_FIELD(base, t + i));
}

/* dump_stats - the "@stats" line */
void    dump_stats(FILE *fp, const struct tp_stats *st)
{
    fputs(KEY_STATS, fp);
    put_fields(fp, st, stats_field_table, stats_nfields);
    fputs(" hist=", fp);
    for (int i = 0; i < HIST_BUCKETS; i++)
	fprintf(fp, "%s%" PRId64, i ? "," : "", st->hangup_hist[i]);
    putc('\n', fp);
}

/* key_ok - is this a key dump_parse() takes back: a network in
 * canonical form (a profile's too), a greylist entry, a domain's record?
 * A key written behind tarpit-admin's back may be anything */
static int key_ok(const char *key)
{
    const char *net;
    char    canonical[ADDR_KEY_MAX];

    if (key[0] == KEY_RESERVED)
	return ledger_is_grey_key(key) || ledger_key_domain(key) != 0;
    return (net = ledger_key_network(key)) != 0 && strchr(net, '/') != 0
	&& addr_key_from_arg(net, 32, 128, canonical, sizeof(canonical)) == 0
	&& strcmp(canonical, net) == 0;
}

/* dump_record - a network's line, or a greylist entry's; a key that is
 * none of tarpit's is a comment line, so that the dump loads back.  A
 * comment's control characters (written behind tarpit-admin's back:
 * allow and block refuse them) are '?', for the same reason */
void    dump_record(FILE *fp, const char *key, const struct tp_record *r)
{
    if (!key_ok(key)) {
	fputs("# left out, not a key of tarpit's: ", fp);
	put_text(fp, key);
	putc('\n', fp);
	return;
    }
    put_text(fp, key);
    if (ledger_is_grey_key(key)) {
	struct grey_entry g;

	grey_from_record(r, &g);
	put_fields(fp, &g, grey_field_table, grey_nfields);
    } else {
	put_fields(fp, r, record_field_table, record_nfields);
	if (r->comment[0]) {
	    char    safe[RECORD_COMMENT_MAX];

	    snprintf(safe, sizeof(safe), "%s", r->comment);
	    for (char *c = safe; *c; c++)
		if ((unsigned char) *c < 0x20 || *c == 0x7f)
		    *c = '?';
	    fputs(" comment=", fp);
	    put_text(fp, safe);
	}
    }
    putc('\n', fp);
}

/* set_field - name=value into a table's field; 1 set, 0 unknown name,
 * -1 not a number */
static int set_field(void *base, const struct record_field *t, size_t n,
		             const char *name, const char *value)
{
    for (size_t i = 0; i < n; i++)
	if (strcmp(name, t[i].name) == 0)
	    return conf_parse_int(value, RECORD_FIELD(base, t + i)) < 0 ? -1 : 1;
    return 0;
}

/* One name=value of a line: 1 taken, 0 unknown name, -1 bad value (why). */
typedef int field_fn(void *ctx, const char *name, char *value, const char **why);

/* each_field - the name=value words after a line's key, one by one */
static int each_field(char *save, field_fn *fn, void *ctx, const char **why)
{
    char   *tok;

    while ((tok = strtok_r(0, " ", &save)) != 0) {
	char   *eq = strchr(tok, '=');
	int     got;

	if (eq == 0)
	    return *why = "expected name=value", -1;
	*eq++ = 0;
	*why = "not a number";
	if ((got = fn(ctx, tok, eq, why)) <= 0)
	    return *why = got < 0 ? *why : "unknown field", -1;
    }
    *why = 0;
    return 0;
}

/* stats_field - "@stats": a counter, or the histogram */
static int stats_field(void *ctx, const char *name, char *value, const char **why)
{
    struct tp_stats *st = ctx;

    if (strcmp(name, "hist") == 0) {
	char   *b, *bsave = 0;
	int     i = 0;

	for (b = strtok_r(value, ",", &bsave); b; b = strtok_r(0, ",", &bsave)) {
	    if (i >= HIST_BUCKETS || conf_parse_int(b, st->hangup_hist + i) < 0)
		return *why = "bad histogram", -1;
	    i++;
	}
	return 1;
    }
    return set_field(st, stats_field_table, stats_nfields, name, value);
}

/* A greylist entry as read: its own fields, and older dumps' record names. */
struct grey_read {
    struct grey_entry g;
    int     set[4];			/* which of grey_field_table were given */
    struct tp_record legacy;
};

/* grey_field - a greylist entry's field, or a record name of old */
static int grey_field(void *ctx, const char *name, char *value, const char **why)
{
    struct grey_read *gr = ctx;

    (void) why;
    for (size_t i = 0; i < grey_nfields; i++)
	if (strcmp(name, grey_field_table[i].name) == 0) {
	    gr->set[i] = 1;
	    return set_field(&gr->g, grey_field_table + i, 1, name, value);
	}
    return set_field(&gr->legacy, record_field_table, record_nfields, name, value);
}

/* record_field - a network's field, or its comment */
static int record_field(void *ctx, const char *name, char *value, const char **why)
{
    struct tp_record *r = ctx;

    if (strcmp(name, "comment") == 0) {
	if (get_text(value, r->comment, sizeof(r->comment)) < 0)
	    return *why = "bad comment", -1;
	if (record_comment_ok(r->comment) < 0)
	    return *why = "a comment with a control character", -1;
	return 1;
    }
    if (strcmp(name, "failures") == 0)	/* its name in dumps before 2026-12 */
	name = "recent_failures";
    return set_field(r, record_field_table, record_nfields, name, value);
}

/* parse_grey - the words after a greylist entry's key */
static int parse_grey(char *save, struct tp_record *r, const char **why)
{
    struct grey_read gr;
    struct grey_entry old;

    memset(&gr, 0, sizeof(gr));
    if (each_field(save, grey_field, &gr, why) < 0)
	return -1;
    /* The record names of older dumps, then the entry's own over them. */
    grey_from_record(&gr.legacy, &old);
    for (size_t i = 0; i < grey_nfields; i++)
	if (!gr.set[i])
	    *RECORD_FIELD(&gr.g, grey_field_table + i) = *RECORD_FIELD(&old, grey_field_table + i);
    grey_to_record(&gr.g, r);
    return 0;
}

/* dump_parse - one line of a dump; 0 (with item->kind) or -1 with why.
 * The line is cut into words in place. */
int     dump_parse(char *line, struct dump_item *item, const char **why)
{
    char   *save = 0, *tok;
    const char *net;
    char    canonical[ADDR_KEY_MAX];

    item->kind = DUMP_SKIP;
    if (line[0] == 0 || line[0] == '#')
	return 0;
    tok = strtok_r(line, " ", &save);
    if (tok == 0)
	return *why = "a line of spaces", -1;
    if (tok[0] == KEY_RESERVED) {
	if (get_text(tok, item->key, sizeof(item->key)) < 0)
	    return *why = "a key with a bad %XX", -1;
	if (strcmp(item->key, KEY_STATS) == 0) {
	    item->kind = DUMP_STATS;
	    memset(&item->stats, 0, sizeof(item->stats));
	    return each_field(save, stats_field, &item->stats, why);
	}
	item->kind = DUMP_RECORD;
	if (ledger_is_grey_key(item->key))
	    return parse_grey(save, &item->rec, why);
	if (ledger_key_domain(item->key) == 0)
	    return *why = strncmp(item->key, KEY_DOMAIN, sizeof(KEY_DOMAIN) - 1) == 0
		? "bad domain record (like @domain%20example.com)"
		: "an unknown '@' key (@stats, @grey%20..., @domain%20...)", -1;
	memset(&item->rec, 0, sizeof(item->rec));
	return each_field(save, record_field, &item->rec, why);
    }
    item->kind = DUMP_RECORD;
    if ((net = ledger_key_network(tok)) == 0 || strchr(net, '/') == 0
	|| addr_key_from_arg(net, 32, 128, canonical, sizeof(canonical)) < 0
	|| strcmp(canonical, net) != 0)
	return *why = "not a network in canonical form (like 192.0.2.0/24, "
	    "or [submission]192.0.2.0/24)", -1;
    snprintf(item->key, sizeof(item->key), "%s", tok);
    memset(&item->rec, 0, sizeof(item->rec));
    return each_field(save, record_field, &item->rec, why);
}

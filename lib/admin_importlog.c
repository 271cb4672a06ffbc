/*
 * NAME
 *	admin_importlog - import-log: learn from Postfix mail logs
 * DESCRIPTION
 *	Reads Postfix mail logs, as syslog text ("... postfix/smtpd[1]: MSG")
 *	or as journal export text ("MESSAGE=MSG" lines), and:
 *
 *	- records as escaped every network that delivered mail: smtpd's
 *	  "QID: client=NAME[ADDR]" line names the client of a queue file,
 *	  and the queue manager's "QID: from=<...>, size=" line says the
 *	  message was accepted.  So an existing server starts without
 *	  tarpitting its regular correspondents;
 *	- with --offenders, blocks for block_for the networks with at least
 *	  offender_threshold lines matching an offence pattern: the config's
 *	  offender_pattern lines (their first group is the address), or by
 *	  default "does not resolve to address ADDR" and "[ADDR]: SASL ...
 *	  authentication failed".  A network that escaped or is allowed is
 *	  never blocked.
 *
 *	It prints what it did, or with --dry-run what it would do.
 */
#define _GNU_SOURCE
#include "admin.h"
#include "clock.h"
#include "dbfile.h"
#include "log.h"
#include "addr.h"
#include "ledger.h"
#include "record.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tally {
    char    key[ADDR_KEY_MAX];
    long    count;
};

struct queued {
    char    qid[32];
    char    key[ADDR_KEY_MAX];
    int     accepted;
};

struct import {
    struct admin *a;
    regex_t client_re, queued_re, offence_re[2];
    struct array queued;		/* struct queued */
    struct array offenders;		/* struct tally */
    int     offenders_wanted;		/* --offenders */
    long    lines;
};

/* tally_add - count one more for a network */
static void tally_add(struct array *t, const char *key)
{
    struct tally *v = t->v, *e;

    for (size_t i = 0; i < t->n; i++)
	if (strcmp(v[i].key, key) == 0) {
	    v[i].count++;
	    return;
	}
    e = array_add(t);
    snprintf(e->key, sizeof(e->key), "%s", key);
    e->count = 1;
}

/* network_of - the key of an address captured from a line, or 0 */
static const char *network_of(struct import *im, const char *msg,
			              const regmatch_t *m, char *key, size_t len)
{
    char    addr[64];
    struct tp_addr a;
    int     n = (int) (m->rm_eo - m->rm_so);

    if (m->rm_so < 0 || n <= 0 || n >= (int) sizeof(addr))
	return 0;
    snprintf(addr, sizeof(addr), "%.*s", n, msg + m->rm_so);
    if (addr_parse(addr, &a) < 0 || addr_network_key(&a,
	(int) im->a->conf.ipv4_prefix, (int) im->a->conf.ipv6_prefix, key, len) < 0)
	return 0;
    return key;
}

/* find_queued - the entry of a queue id, or 0 */
static struct queued *find_queued(struct import *im, const char *qid, size_t len)
{
    struct queued *q = im->queued.v;

    /* Newest first: a queue id is looked up soon after it appears. */
    for (size_t i = im->queued.n; i-- > 0;)
	if (strlen(q[i].qid) == len && memcmp(q[i].qid, qid, len) == 0)
	    return q + i;
    return 0;
}

/* one_message - what a Postfix log message tells */
static void one_message(void *ctx, const char *msg)
{
    struct import *im = ctx;
    regmatch_t m[3];
    char    key[ADDR_KEY_MAX];

    im->lines++;
    if (regexec(&im->client_re, msg, 3, m, 0) == 0) {
	if (network_of(im, msg, m + 2, key, sizeof(key)) == 0
	    || m[1].rm_eo - m[1].rm_so >= 32)
	    return;

	struct queued *e = array_add(&im->queued);

	snprintf(e->qid, sizeof(e->qid), "%.*s", (int) (m[1].rm_eo - m[1].rm_so),
		 msg + m[1].rm_so);
	snprintf(e->key, sizeof(e->key), "%s", key);
	return;
    }
    if (regexec(&im->queued_re, msg, 2, m, 0) == 0) {
	struct queued *e = find_queued(im, msg + m[1].rm_so,
				       (size_t) (m[1].rm_eo - m[1].rm_so));

	if (e)
	    e->accepted = 1;
	return;
    }
    if (!im->offenders_wanted)
	return;
    /* offender_pattern lines replace the two built-in patterns. */
    const struct tp_conf *c = &im->a->conf;
    size_t  n = c->n_offender_re ? c->n_offender_re : 2;

    for (size_t i = 0; i < n; i++) {
	const regex_t *re = c->n_offender_re ? c->offender_re + i : im->offence_re + i;

	if (regexec(re, msg, 2, m, 0) == 0
	    && network_of(im, msg, m + 1, key, sizeof(key))) {
	    tally_add(&im->offenders, key);
	    return;
	}
    }
}

/* one_line - a line of a log file: syslog text, or journal export text */
static void one_line(struct import *im, const char *line)
{
    const char *msg = line, *p;

    if (strncmp(line, "MESSAGE=", 8) == 0)
	msg = line + 8;
    else if ((p = strstr(line, "]: ")) != 0)
	msg = p + 3;
    one_message(im, msg);
}

/* would - what the ledger would do, read and previewed, nothing written */
static const char *would(struct admin *a, const char *key, struct ledger *l)
{
    struct tp_record r;
    int     found = db_get(a->db, key, &r);

    if (found < 0)
	return "cannot read the database";
    if (ledger_preview(l, &r, found) == DB_KEEP)
	return l->what;
    return l->event == LEDGER_LEARN_ESCAPE ? "would escape" : "would block";
}

/* read_files - each line of the files (operands; "-" is stdin) */
static int read_files(struct import *im, int argc, char **argv)
{
    char   *line = 0;
    size_t  cap = 0;
    int     rc = ADMIN_OK;

    for (int i = 0; i < argc && rc == ADMIN_OK; i++) {
	FILE   *fp;
	ssize_t n;

	if (strcmp(argv[i], "-") == 0)
	    fp = stdin;
	else if ((fp = fopen(argv[i], "r")) == 0) {
	    rc = admin_io_failed(im->a, argv[i]);
	    break;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
	    if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = 0;
	    one_line(im, line);
	}
	if (ferror(fp))
	    rc = admin_io_failed(im->a, argv[i]);
	if (fp != stdin)
	    fclose(fp);
    }
    free(line);
    return rc;
}

/* learn - what the messages told, into the database (or, dry, said):
 * an exit status */
static int learn(struct import *im, int dry, const char *source)
{
    struct admin *a = im->a;
    struct array escaped = ARRAY_OF(struct tally);
    int64_t now = (int64_t) time(0);
    int     rc = ADMIN_OK;

    for (size_t i = 0; i < im->queued.n; i++) {
	const struct queued *q = (struct queued *) im->queued.v + i;

	if (q->accepted)
	    tally_add(&escaped, q->key);
    }
    fprintf(a->out, "%ld %s: %zu networks delivered mail%s\n", im->lines, source,
	    escaped.n, im->offenders_wanted ? "" : " (offenders not looked for)");
    for (int pass = 0; pass < 2 && rc == ADMIN_OK; pass++) {
	struct array *ta = pass ? &im->offenders : &escaped;
	struct tally *t = ta->v;

	for (size_t i = 0; i < ta->n && rc == ADMIN_OK; i++) {
	    struct ledger ap = {.event = pass ? LEDGER_LEARN_OFFENDER
		: LEDGER_LEARN_ESCAPE,.conf = &a->conf,.now = now,.what = ""};

	    if (pass && t[i].count < a->conf.offender_threshold)
		continue;
	    if (dry)
		ap.what = would(a, t[i].key, &ap);
	    else if (db_update(a->db, t[i].key, ledger_apply, &ap) < 0) {
		rc = admin_db_failed(a);
		break;
	    }
	    fprintf(a->out, "%s %s (%ld %s)\n", t[i].key, ap.what, t[i].count,
		    pass ? "offending lines" : "messages");
	}
    }
    array_free(&escaped);
    return rc;
}

/* read_journal - the journal's Postfix messages since the last run (or
 * as the options say), learned, and then the new cursor saved: an exit
 * status */
static int read_journal(struct import *im, struct journal_read *jr, int from_start,
			        int dry)
{
    struct admin *a = im->a;
    char    path[DB_FILE_MAX];
    char   *saved = 0;
    int     rc;

    if (db_conf_file(&a->conf, DB_FILE_CURSOR, path, sizeof(path)) == 0) {
	fprintf(a->err, "tarpit-admin: %s: name too long for the journal cursor\n",
		a->conf.database);
	return ADMIN_CONFIG;
    }
    if (!from_start)
	jr->cursor = saved = admin_journal_cursor(path);
    rc = admin_journal_read(a, jr, one_message, im);
    if (rc == ADMIN_OK)
	rc = learn(im, dry, "journal entries");
    /* The cursor only after the records: a run cut short reads again. */
    if (rc == ADMIN_OK && !dry && jr->last)
	rc = admin_journal_save_cursor(a, path, jr->last);
    free(saved);
    free(jr->last);
    return rc;
}

/* when - --since or --until's value: 0, or a usage status (said) */
static int when(struct admin *a, const char *opt, const char *arg, int64_t *t)
{
    if (clock_parse_when(arg, (int64_t) time(0), t) == 0 && *t > 0)
	return 0;
    fprintf(a->err, "tarpit-admin: %s %s: not a time (as journalctl takes them: "
	    "\"2026-11-22 06:30\", \"yesterday\", \"-1h\", \"@UNIX\")\n", opt, arg);
    return ADMIN_USAGE;
}

/* admin_import_log - import-log [--offenders] [--dry-run] FILE...
 *	| ... --journal | --journal-file FILE... [--since T] [--until T]
 *	[--from-start] */
int admin_import_log(struct admin *a, int argc, char **argv)
{
    struct import im;
    struct journal_read jr = {0};
    int     dry = 0, journal = 0, from_start = 0, rc = ADMIN_OK, n = 0;
    char  **operands = xcalloc((size_t) argc + 1, sizeof(*operands));

    memset(&im, 0, sizeof(im));
    im.a = a;
    im.queued = (struct array) ARRAY_OF(struct queued);
    im.offenders = (struct array) ARRAY_OF(struct tally);
    for (int i = 0; i < argc && rc == ADMIN_OK; i++) {
	if (strcmp(argv[i], "--offenders") == 0)
	    im.offenders_wanted = 1;
	else if (strcmp(argv[i], "--dry-run") == 0)
	    dry = 1;
	else if (strcmp(argv[i], "--journal") == 0 && journal == 0)
	    journal = 1;
	else if (strcmp(argv[i], "--journal-file") == 0 && journal == 0)
	    journal = 2;
	else if (strcmp(argv[i], "--from-start") == 0)
	    from_start = 1;
	else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
	    rc = when(a, argv[i], argv[i + 1], &jr.since), i++;
	else if (strcmp(argv[i], "--until") == 0 && i + 1 < argc)
	    rc = when(a, argv[i], argv[i + 1], &jr.until), i++;
	else if (argv[i][0] == '-' && argv[i][1])
	    rc = admin_usage(a);
	else
	    operands[n++] = argv[i];
    }
    /* Files need names, the system journal none; the journal's options
     * are for a journal. */
    if (rc == ADMIN_OK && ((journal == 1) != (n == 0)
			   || (journal == 0 && (jr.since || jr.until || from_start))))
	rc = admin_usage(a);
    if (rc != ADMIN_OK) {
	free(operands);
	return rc;
    }
    if (regcomp(&im.client_re, "^([0-9A-Za-z]+): client=[^[ ]*\\[([0-9A-Fa-f.:]+)\\]",
		REG_EXTENDED) != 0
	|| regcomp(&im.queued_re, "^([0-9A-Za-z]+): from=<[^>]*>, size=", REG_EXTENDED) != 0
	|| regcomp(&im.offence_re[0], "does not resolve to address ([0-9A-Fa-f.:]+)",
		   REG_EXTENDED) != 0
	|| regcomp(&im.offence_re[1], "\\[([0-9A-Fa-f.:]+)\\]: SASL [A-Za-z0-9_-]+ "
		   "authentication failed", REG_EXTENDED) != 0) {
	msg_panic("cannot compile the built-in log patterns");
    }
    if (journal) {
	jr.files = journal == 2 ? operands : 0;
	rc = read_journal(&im, &jr, from_start, dry);
    } else if ((rc = read_files(&im, n, operands)) == ADMIN_OK)
	rc = learn(&im, dry, "lines");
    free(operands);
    array_free(&im.queued);
    array_free(&im.offenders);
    regfree(&im.client_re);
    regfree(&im.queued_re);
    regfree(&im.offence_re[0]);
    regfree(&im.offence_re[1]);
    return rc;
}

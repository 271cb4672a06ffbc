/*
 * NAME
 *	importlog - learn from Postfix mail logs (tarpit-admin import-log)
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

struct tallies {
    struct tally *v;
    size_t  n, cap;
};

struct queued {
    char    qid[32];
    char    key[ADDR_KEY_MAX];
    int     accepted;
};

struct import {
    struct admin *a;
    regex_t client_re, queued_re, offence_re[2];
    struct queued *q;
    size_t  nq, capq;
    struct tallies offenders;
    long    lines;
};

/* tally_add - count one more for a network */
static int tally_add(struct tallies *t, const char *key)
{
    for (size_t i = 0; i < t->n; i++)
	if (strcmp(t->v[i].key, key) == 0)
	    return (int) ++t->v[i].count;
    if (t->n == t->cap) {
	size_t  cap = t->cap ? 2 * t->cap : 64;
	struct tally *v = realloc(t->v, cap * sizeof(*v));

	if (v == 0)
	    return -1;
	t->v = v;
	t->cap = cap;
    }
    snprintf(t->v[t->n].key, sizeof(t->v[t->n].key), "%s", key);
    t->v[t->n++].count = 1;
    return 1;
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
    /* Newest first: a queue id is looked up soon after it appears. */
    for (size_t i = im->nq; i-- > 0;)
	if (strlen(im->q[i].qid) == len && memcmp(im->q[i].qid, qid, len) == 0)
	    return im->q + i;
    return 0;
}

/* one_line - what a log line tells; 0 or -1 (out of memory) */
static int one_line(struct import *im, const char *line, int offenders)
{
    const char *msg = line, *p;
    regmatch_t m[3];
    char    key[ADDR_KEY_MAX];

    if (strncmp(line, "MESSAGE=", 8) == 0)
	msg = line + 8;
    else if ((p = strstr(line, "]: ")) != 0)
	msg = p + 3;
    if (regexec(&im->client_re, msg, 3, m, 0) == 0) {
	if (network_of(im, msg, m + 2, key, sizeof(key)) == 0
	    || m[1].rm_eo - m[1].rm_so >= 32)
	    return 0;
	if (im->nq == im->capq) {
	    size_t  cap = im->capq ? 2 * im->capq : 1024;
	    struct queued *v = realloc(im->q, cap * sizeof(*v));

	    if (v == 0)
		return -1;
	    im->q = v;
	    im->capq = cap;
	}
	struct queued *e = im->q + im->nq++;

	snprintf(e->qid, sizeof(e->qid), "%.*s", (int) (m[1].rm_eo - m[1].rm_so),
		 msg + m[1].rm_so);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->accepted = 0;
	return 0;
    }
    if (regexec(&im->queued_re, msg, 2, m, 0) == 0) {
	struct queued *e = find_queued(im, msg + m[1].rm_so,
				       (size_t) (m[1].rm_eo - m[1].rm_so));

	if (e)
	    e->accepted = 1;
	return 0;
    }
    if (!offenders)
	return 0;
    /* offender_pattern lines replace the two built-in patterns. */
    const struct tp_conf *c = &im->a->conf;
    size_t  n = c->n_offender_re ? c->n_offender_re : 2;

    for (size_t i = 0; i < n; i++) {
	const regex_t *re = c->n_offender_re ? c->offender_re + i : im->offence_re + i;

	if (regexec(re, msg, 2, m, 0) == 0
	    && network_of(im, msg, m + 1, key, sizeof(key)))
	    return tally_add(&im->offenders, key) < 0 ? -1 : 0;
    }
    return 0;
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

/* admin_import_log - import-log [--offenders] [--dry-run] FILE... */
int admin_import_log(struct admin *a, int argc, char **argv)
{
    struct import im;
    int     offenders = 0, dry = 0, nfiles = 0, rc = ADMIN_OK;
    char   *line = 0;
    size_t  cap = 0;
    struct tallies escaped = {0, 0, 0};
    int64_t now = (int64_t) time(0);

    memset(&im, 0, sizeof(im));
    im.a = a;
    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--offenders") == 0)
	    offenders = 1;
	else if (strcmp(argv[i], "--dry-run") == 0)
	    dry = 1;
	else if (argv[i][0] == '-' && argv[i][1])
	    return admin_usage(a);
	else
	    nfiles++;
    }
    if (nfiles == 0)
	return admin_usage(a);
    if (regcomp(&im.client_re, "^([0-9A-Za-z]+): client=[^[ ]*\\[([0-9A-Fa-f.:]+)\\]",
		REG_EXTENDED) != 0
	|| regcomp(&im.queued_re, "^([0-9A-Za-z]+): from=<[^>]*>, size=", REG_EXTENDED) != 0
	|| regcomp(&im.offence_re[0], "does not resolve to address ([0-9A-Fa-f.:]+)",
		   REG_EXTENDED) != 0
	|| regcomp(&im.offence_re[1], "\\[([0-9A-Fa-f.:]+)\\]: SASL [A-Za-z0-9_-]+ "
		   "authentication failed", REG_EXTENDED) != 0) {
	fprintf(a->err, "tarpit-admin: cannot compile the log patterns\n");
	return ADMIN_DB;
    }
    for (int i = 0; i < argc && rc == ADMIN_OK; i++) {
	FILE   *fp;
	ssize_t n;

	if (argv[i][0] == '-' && argv[i][1])
	    continue;
	if (strcmp(argv[i], "-") == 0)
	    fp = stdin;
	else if ((fp = fopen(argv[i], "r")) == 0) {
	    fprintf(a->err, "tarpit-admin: %s: %s\n", argv[i], strerror(errno));
	    rc = ADMIN_USAGE;
	    break;
	}
	while ((n = getline(&line, &cap, fp)) >= 0) {
	    if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = 0;
	    im.lines++;
	    if (one_line(&im, line, offenders) < 0) {
		fprintf(a->err, "tarpit-admin: out of memory\n");
		rc = ADMIN_DB;
		break;
	    }
	}
	if (fp != stdin)
	    fclose(fp);
    }
    for (size_t i = 0; rc == ADMIN_OK && i < im.nq; i++)
	if (im.q[i].accepted && tally_add(&escaped, im.q[i].key) < 0)
	    rc = ADMIN_DB;
    fprintf(a->out, "%ld lines: %zu networks delivered mail%s\n", im.lines,
	    escaped.n, offenders ? "" : " (offenders not looked for)");
    for (int pass = 0; pass < 2 && rc == ADMIN_OK; pass++) {
	struct tallies *t = pass ? &im.offenders : &escaped;

	for (size_t i = 0; i < t->n && rc == ADMIN_OK; i++) {
	    struct ledger ap = {.event = pass ? LEDGER_LEARN_OFFENDER
		: LEDGER_LEARN_ESCAPE,.conf = &a->conf,.now = now,.what = ""};

	    if (pass && t->v[i].count < a->conf.offender_threshold)
		continue;
	    if (dry)
		ap.what = would(a, t->v[i].key, &ap);
	    else if (db_update(a->db, t->v[i].key, ledger_apply, &ap) < 0) {
		fprintf(a->err, "tarpit-admin: %s\n", db_error(a->db));
		rc = ADMIN_DB;
		break;
	    }
	    fprintf(a->out, "%s %s (%ld %s)\n", t->v[i].key, ap.what, t->v[i].count,
		    pass ? "offending lines" : "messages");
	}
    }
    free(line);
    free(im.q);
    free(im.offenders.v);
    free(escaped.v);
    regfree(&im.client_re);
    regfree(&im.queued_re);
    regfree(&im.offence_re[0]);
    regfree(&im.offence_re[1]);
    return rc;
}

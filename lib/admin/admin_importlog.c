/*
 * NAME
 *	admin_importlog - import-log: learn from Postfix mail logs
 * DESCRIPTION
 *	Reads Postfix mail logs, as syslog text ("... postfix/smtpd[1]: MSG")
 *	or as journal export text ("MESSAGE=MSG" lines), or the journal
 *	itself (admin_journal.c), and learns only what is safe to learn:
 *
 *	- correspondents: the hosts our own Postfix delivered mail to (a
 *	  delivery agent's "QID: to=<...>, relay=NAME[ADDR]:PORT, ...,
 *	  status=sent" line), as OpenBSD's spamlogd does: their networks
 *	  escape, so that their replies never wait (learn_correspondents).
 *	  Not a delivery of mail with the null sender (the queue manager's
 *	  "QID: from=<>" line): a bounce or a delivery notice goes where a
 *	  remote client said, MAIL FROM:<u@[ADDR]> with NOTIFY=SUCCESS, and
 *	  teaches nothing of ours;
 *	- with --seed, every network that delivered mail here: smtpd's "QID:
 *	  client=NAME[ADDR]" line names the client of a queue file, and the
 *	  queue manager's "QID: from=<...>, size=" line says the message was
 *	  accepted.  That is for a log of the time before the tarpit ran, so
 *	  that an existing server starts without tarpitting its regular
 *	  senders.  Once the tarpit runs, a network that delivered either
 *	  escaped already or delivered without a wait (under stress, in a
 *	  dry run, through a skip rule, or through a fault of ours), and
 *	  those are the ones not to trust: continuous learning never passes
 *	  --seed;
 *	- with --offenders, blocks for block_for the networks with at least
 *	  offender_threshold lines matching an offence pattern: the config's
 *	  offender_pattern lines (their first group is the address), or by
 *	  default smtpd's "warning: hostname NAME does not resolve to address
 *	  ADDR" and "warning: NAME[ADDR]: SASL ... authentication failed",
 *	  from the start of the message: the same words later in a line (a
 *	  sender address in a reject line) are a client's.  A network that
 *	  escaped or is allowed is never blocked.
 *
 *	Only lines whose program is Postfix's count: in a file, a syslog
 *	identifier that starts with "postfix" (which any local user can write
 *	with logger: the manual says so), read at its place in the line
 *	(after the time and the host), never from text later in it, such as
 *	a user name another program logs; from the journal, entries of
 *	Postfix's user id, named by their _COMM (admin_journal.c).  Each form
 *	counts only at the start of the message, where Postfix puts it:
 *	addresses and texts later in a line are the senders' own words.  An address in a to=<...> field is read
 *	as Postfix quotes it, so that one holding '>' cannot end it early.
 *
 *	It prints what it did, or with --dry-run what it would do.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "util/clock.h"
#include "tarpit/opendb.h"
#include "util/log.h"
#include "util/addr.h"
#include "tarpit/ledger.h"
#include "store/record.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define LOG_LINE_MAX 65536		/* Postfix's lines are far shorter */

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
    regex_t client_re, queued_re, sent_re, offence_re[2];
    struct array queued;		/* struct queued */
    struct array nulls;			/* char[32]: queue ids of from=<> mail */
    struct array sent;			/* struct tally: correspondents */
    struct array offenders;		/* struct tally */
    int     offenders_wanted;		/* --offenders */
    int     seed;			/* --seed */
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

/* address_of - an address captured from a line: 0, or -1 */
static int address_of(const char *msg, const regmatch_t *m, struct tp_addr *a)
{
    char    addr[64];
    int     n = (int) (m->rm_eo - m->rm_so);

    if (m->rm_so < 0 || n <= 0 || n >= (int) sizeof(addr))
	return -1;
    snprintf(addr, sizeof(addr), "%.*s", n, msg + m->rm_so);
    return addr_parse(addr, a);
}

/* network_of - the key of an address captured from a line, or 0 */
static const char *network_of(struct import *im, const char *msg,
			              const regmatch_t *m, char *key, size_t len)
{
    struct tp_addr a;

    if (address_of(msg, m, &a) < 0 || addr_network_key(&a,
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

/* null_sender - was this queue id's mail from=<> (a bounce, a notice)? */
static int null_sender(struct import *im, const char *qid, size_t len)
{
    const char (*q)[32] = im->nulls.v;

    for (size_t i = im->nulls.n; i-- > 0;)
	if (strlen(q[i]) == len && memcmp(q[i], qid, len) == 0)
	    return 1;
    return 0;
}

/* skip_address - past "<ADDRESS>" as Postfix logs it: a quoted local
 * part may hold '>' or ','; the first byte after it, or 0 */
static const char *skip_address(const char *p)
{
    int     quoted = 0;

    if (*p++ != '<')
	return 0;
    for (; *p; p++) {
	if (quoted) {
	    if (*p == '\\' && p[1])
		p++;
	    else if (*p == '"')
		quoted = 0;
	} else if (*p == '"') {
	    quoted = 1;
	} else if (*p == '>') {
	    return p + 1;
	}
    }
    return 0;
}

/* correspondent - a delivery agent's "QID: to=<...>, [orig_to=<...>, ]
 * relay=NAME[ADDR]:PORT, ... status=sent" line: the key of ADDR's
 * network (not a loopback one: a content filter), or 0 */
static const char *correspondent(struct import *im, const char *msg,
				         char *key, size_t len)
{
    const char *p = msg + strspn(msg, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
    static const unsigned char loopback6[16] = {[15] = 1};
    regmatch_t m[2];
    struct tp_addr a;

    if (p == msg || strncmp(p, ": to=", 5) != 0 || null_sender(im, msg, (size_t) (p - msg))
	|| (p = skip_address(p + 5)) == 0)
	return 0;
    if (strncmp(p, ", orig_to=", 10) == 0 && (p = skip_address(p + 10)) == 0)
	return 0;
    /* What follows is Postfix's own: the relay, then numbers, then the
     * status; the remote server's reply comes last, after it. */
    if (regexec(&im->sent_re, p, 2, m, 0) != 0 || address_of(p, m + 1, &a) < 0)
	return 0;
    if ((a.family == AF_INET && a.bytes[0] == 127)
	|| (a.family == AF_INET6 && memcmp(a.bytes, loopback6, 16) == 0))
	return 0;			/* a local content filter */
    return network_of(im, p, m + 1, key, len);
}

/* program_is - does a Postfix program's identifier end in /NAME? */
static int program_is(const char *ident, const char *name)
{
    size_t  n = strlen(ident), k = strlen(name);

    return n > k && ident[n - k - 1] == '/' && strcmp(ident + n - k, name) == 0;
}

/* one_message - what a Postfix log message tells; ident is the program's
 * syslog identifier */
static void one_message(void *ctx, const char *ident, const char *msg)
{
    struct import *im = ctx;
    regmatch_t m[3];
    char    key[ADDR_KEY_MAX];

    if (strncmp(ident, "postfix", 7) != 0)
	return;				/* not Postfix's */
    im->lines++;
    if (program_is(ident, "smtpd") && regexec(&im->client_re, msg, 3, m, 0) == 0) {
	if (network_of(im, msg, m + 2, key, sizeof(key)) == 0
	    || m[1].rm_eo - m[1].rm_so >= 32)
	    return;

	struct queued *e = array_add(&im->queued);

	snprintf(e->qid, sizeof(e->qid), "%.*s", (int) (m[1].rm_eo - m[1].rm_so),
		 msg + m[1].rm_so);
	snprintf(e->key, sizeof(e->key), "%s", key);
	return;
    }
    if (program_is(ident, "qmgr") && regexec(&im->queued_re, msg, 2, m, 0) == 0) {
	struct queued *e = find_queued(im, msg + m[1].rm_so,
				       (size_t) (m[1].rm_eo - m[1].rm_so));

	if (e)
	    e->accepted = 1;
	if (msg[m[0].rm_eo] == '>' && m[1].rm_eo - m[1].rm_so < 32)
	    snprintf(array_add(&im->nulls), 32, "%.*s", (int) (m[1].rm_eo - m[1].rm_so),
		     msg + m[1].rm_so);
	return;
    }
    if (correspondent(im, msg, key, sizeof(key))) {
	tally_add(&im->sent, key);
	return;
    }
    if (!im->offenders_wanted)
	return;
    /* offender_pattern lines replace the two built-in patterns, which are
     * smtpd's own warnings, from their first word. */
    const struct tp_conf *c = &im->a->conf;
    size_t  n = c->n_offender_re ? c->n_offender_re : 2;

    if (c->n_offender_re == 0 && !program_is(ident, "smtpd"))
	return;
    for (size_t i = 0; i < n; i++) {
	const regex_t *re = c->n_offender_re ? c->offender_re + i : im->offence_re + i;

	if (regexec(re, msg, 2, m, 0) == 0
	    && network_of(im, msg, m + 1, key, sizeof(key))) {
	    tally_add(&im->offenders, key);
	    return;
	}
    }
}

/* one_line - a line of a log file: syslog text, or journal export text
 * (whose SYSLOG_IDENTIFIER line comes before its MESSAGE line) */
static void one_line(struct import *im, const char *line, char *ident, size_t len)
{
    const char *p, *b;

    if (strncmp(line, "SYSLOG_IDENTIFIER=", 18) == 0) {
	snprintf(ident, len, "%s", line + 18);
	return;
    }
    if (strncmp(line, "MESSAGE=", 8) == 0) {
	one_message(im, ident, line + 8);
	return;
    }
    if (*line == 0) {
	*ident = 0;			/* the end of an export entry */
	return;
    }
    /* "Mmm dd hh:mm:ss HOST IDENT[PID]: MSG", or an ISO time in one word:
     * the identifier is read at its place, never from later in the line */
    p = line;
    if (isalpha((unsigned char) p[0]) && isalpha((unsigned char) p[1])
	&& isalpha((unsigned char) p[2]) && p[3] == ' ') {
	p += 4;
	p += strspn(p, " ");
	p += strspn(p, "0123456789");	/* the day */
	if (*p++ != ' ')
	    return;
    }
    p += strcspn(p, " ");		/* the time */
    if (*p++ != ' ')
	return;
    p += strcspn(p, " ");		/* the host */
    if (*p++ != ' ')
	return;
    b = p + strcspn(p, "[ ");
    if (b == p || *b != '[')
	return;
    const char *pid = b + 1, *end = pid + strspn(pid, "0123456789");

    if (end == pid || strncmp(end, "]: ", 3) != 0)
	return;
    snprintf(ident, len, "%.*s", (int) (b - p), p);
    one_message(im, ident, end + 3);
    *ident = 0;
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
    return l->event == LEDGER_LEARN_OFFENDER ? "would block" : "would escape";
}

/* read_files - each line of the files (operands; "-" is stdin) */
static int read_files(struct import *im, int argc, char **argv)
{
    char   *line = xmalloc(LOG_LINE_MAX), ident[128] = "";
    int     rc = ADMIN_OK;

    for (int i = 0; i < argc && rc == ADMIN_OK; i++) {
	FILE   *fp;
	ssize_t n;

	if (strcmp(argv[i], "-") == 0)
	    fp = stdin;
	else if ((fp = admin_open_input(im->a, argv[i])) == 0) {
	    rc = ADMIN_IO;
	    break;
	}
	while ((n = admin_read_line(fp, line, LOG_LINE_MAX)) != -1)
	    if (n >= 0)			/* a longer line is no Postfix's */
		one_line(im, line, ident, sizeof(ident));
	if (ferror(fp))
	    rc = admin_io_failed(im->a, argv[i]);
	if (fp != stdin)
	    fclose(fp);
    }
    free(line);
    return rc;
}

/* learn_tally - one tally's networks into the database (or, dry, said):
 * an exit status */
static int learn_tally(struct import *im, struct array *ta, enum ledger_event ev,
		               int dry, const char *one, const char *unit)
{
    struct admin *a = im->a;
    struct tally *t = ta->v;
    int64_t now = (int64_t) time(0);

    for (size_t i = 0; i < ta->n; i++) {
	struct ledger ap = {.event = ev,.conf = &a->conf,.now = now,.what = ""};

	if (ev == LEDGER_LEARN_OFFENDER && t[i].count < a->conf.offender_threshold)
	    continue;
	if (dry)
	    ap.what = would(a, t[i].key, &ap);
	else if (db_update(a->db, t[i].key, ledger_apply, &ap) < 0)
	    return admin_db_failed(a);
	fprintf(a->out, "%s %s (%ld %s)\n", t[i].key, ap.what, t[i].count,
		t[i].count == 1 ? one : unit);
    }
    return ADMIN_OK;
}

/* learn - what the messages told, into the database (or, dry, said):
 * an exit status */
static int learn(struct import *im, int dry, const char *source)
{
    struct admin *a = im->a;
    struct array escaped = ARRAY_OF(struct tally);
    int     rc;
    int     sent = (int) a->conf.learn_correspondents;

    for (size_t i = 0; i < im->queued.n; i++) {
	const struct queued *q = (struct queued *) im->queued.v + i;

	if (q->accepted)
	    tally_add(&escaped, q->key);
    }
    fprintf(a->out, "%ld %s: %zu network%s delivered mail%s, %zu correspondent%s%s%s\n",
	    im->lines, source, escaped.n, escaped.n == 1 ? "" : "s",
	    im->seed ? "" : " (learned only with --seed)", im->sent.n,
	    im->sent.n == 1 ? "" : "s", sent ? "" : " (learn_correspondents = no)",
	    im->offenders_wanted ? "" : " (offenders not looked for)");
    rc = sent ? learn_tally(im, &im->sent, LEDGER_LEARN_CORRESPONDENT, dry,
			    "message to it", "messages to it") : ADMIN_OK;
    if (rc == ADMIN_OK && im->seed)
	rc = learn_tally(im, &escaped, LEDGER_LEARN_ESCAPE, dry, "message", "messages");
    if (rc == ADMIN_OK)
	rc = learn_tally(im, &im->offenders, LEDGER_LEARN_OFFENDER, dry, "offending line",
			"offending lines");
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

    if (opendb_file(&a->conf, HOST_CURSOR, path, sizeof(path)) == 0) {
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

/* admin_import_log - import-log [--seed] [--offenders] [--dry-run] FILE...
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
    im.nulls = (struct array) ARRAY_OF(char[32]);
    im.offenders = (struct array) ARRAY_OF(struct tally);
    im.sent = (struct array) ARRAY_OF(struct tally);
    for (int i = 0; i < argc && rc == ADMIN_OK; i++) {
	if (strcmp(argv[i], "--offenders") == 0)
	    im.offenders_wanted = 1;
	else if (strcmp(argv[i], "--dry-run") == 0)
	    dry = 1;
	else if (strcmp(argv[i], "--seed") == 0)
	    im.seed = 1;
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
	|| regcomp(&im.queued_re, "^([0-9A-Za-z]+): from=<", REG_EXTENDED) != 0
	|| regcomp(&im.sent_re, "^, relay=[^][ ,]*\\[([0-9A-Fa-f.:]+)\\]:[0-9]+, "
		   "(conn_use=[0-9]+, )?delay=[0-9.]+, delays=[0-9./]+, "
		   "dsn=2\\.[0-9]+\\.[0-9]+, status=sent( |$)", REG_EXTENDED) != 0
	|| regcomp(&im.offence_re[0], "^warning: hostname [^ ]+ does not resolve to "
		   "address ([0-9A-Fa-f.:]+)(:|$)", REG_EXTENDED) != 0
	|| regcomp(&im.offence_re[1], "^warning: [^[ ]*\\[([0-9A-Fa-f.:]+)\\]: SASL "
		   "[A-Za-z0-9_-]+ authentication failed", REG_EXTENDED) != 0) {
	msg_panic("cannot compile the built-in log patterns");
    }
    if (journal) {
	jr.files = journal == 2 ? operands : 0;
	rc = read_journal(&im, &jr, from_start, dry);
    } else if ((rc = read_files(&im, n, operands)) == ADMIN_OK)
	rc = learn(&im, dry, "lines");
    free(operands);
    array_free(&im.queued);
    array_free(&im.nulls);
    array_free(&im.offenders);
    array_free(&im.sent);
    regfree(&im.client_re);
    regfree(&im.queued_re);
    regfree(&im.sent_re);
    regfree(&im.offence_re[0]);
    regfree(&im.offence_re[1]);
    return rc;
}

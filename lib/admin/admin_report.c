/*
 * NAME
 *	admin_report - list, info, config
 * DESCRIPTION
 *	The commands that report on the whole database or the settings:
 *	every record one a line (list), the file and the counts by state
 *	(info), the settings in effect (config).  Their formats are documented in
 *	tarpit-admin(8) and stable.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/sandbox.h"
#include "tarpit/opendb.h"
#include "tarpit/decide.h"
#include "wait/slots.h"

#include <errno.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* admin_list - every record, one a line, sorted by network */
int admin_list(struct admin *a, int argc, char **argv)
{
    struct array c;
    int64_t now = (int64_t) time(0);
    int     rc;

    (void) argc;			/* none: admin_run() saw to it */
    (void) argv;
    if ((rc = admin_collect(a, &c, 0)) != 0)
	return rc;
    for (size_t i = 0; i < c.n; i++) {
	const struct admin_entry *e = (struct admin_entry *) c.v + i;
	const struct tp_record *r = &e->r;
	char    f[32], l[32], safe[DB_KEY_MAX];

	if (a->json)
	    admin_print_record(a, e->key, r, i == 0);
	else
	    fprintf(a->out, "%s %s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
		    " %" PRId64 " %s %s\n", admin_safe(e->key, safe, sizeof(safe)),
		    admin_time(r->first_seen, f, sizeof(f)),
		    admin_time(r->last_seen, l, sizeof(l)),
		    r->tarpits, r->escapes, r->pending, r->hangups,
		    r->early_talkers, record_state_name[record_state(&a->conf, r, now)],
		    record_learned_word(r->learned));
    }
    admin_collect_free(&c);
    return ADMIN_OK;
}

struct counts {
    const struct tp_conf *conf;
    int64_t now;
    long   *n;
    size_t  records;
};

/* count_one - db_walk callback: one record more in its state */
static int count_one(const char *key, const struct tp_record *r, void *ctx)
{
    struct counts *c = ctx;

    (void) key;
    c->n[record_state(c->conf, r, c->now)]++;
    c->records++;
    return 0;
}

/* admin_count_states - the records by state (enum record_state), and how
 * many in all, counted while walking: an exit status */
int admin_count_states(struct admin *a, long *n, size_t *records)
{
    struct counts c = {&a->conf, (int64_t) time(0), n, 0};

    memset(n, 0, (STATE_TARPITTED + 1) * sizeof(n[0]));
    if (db_walk(a->db, count_one, &c) < 0)
	return admin_db_failed(a);
    *records = c.records;
    return ADMIN_OK;
}

/* admin_waiting - waits running now on this host, or -1 if unknown */
int admin_waiting(struct admin *a)
{
    char    slots[DB_FILE_MAX];

    return opendb_file(&a->conf, HOST_SLOTS, slots, sizeof(slots))
	? slots_in_use(slots, (int) a->conf.max_waiting) : -1;
}

/* admin_sandbox - the walls a policy helper with these settings builds
 * (tarpit-check's, which watches), tried in a child made for it: their
 * enum confine_result, with why when not all of them */
int     admin_sandbox(struct admin *a, char *why, size_t len)
{
    struct sandbox s;
    int     p[2], status, rc = CONFINE_FAILED;
    char    buf[600] = "";
    ssize_t n;
    size_t  got = 0;
    pid_t   pid;

    snprintf(why, len, "cannot try: %s", strerror(errno));
    if (pipe2(p, O_CLOEXEC) < 0)
	return CONFINE_FAILED;
    fflush(0);
    if ((pid = fork()) < 0) {
	close(p[0]);
	close(p[1]);
	return CONFINE_FAILED;
    }
    if (pid == 0) {
	char    text[600] = "";
	int     r = CONFINE_FAILED;

	close(p[0]);
	if (sandbox_plan(&s, &a->conf, a->db, a->conf_file, 1, text + 2, sizeof(text) - 2) == 0)
	    r = sandbox_enter(&s, text + 2, sizeof(text) - 2);
	text[0] = (char) ('1' + r);	/* '0' failed, '1' full, '2' partial */
	text[1] = ' ';
	_exit(write(p[1], text, strlen(text)) < 0);
    }
    close(p[1]);
    while (got + 1 < sizeof(buf) && (n = read(p[0], buf + got, sizeof(buf) - 1 - got)) > 0)
	got += (size_t) n;
    buf[got] = 0;
    close(p[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	continue;
    if (got >= 2) {
	rc = buf[0] - '1';
	snprintf(why, len, "%s", buf + 2);
    }
    return rc;
}

/* admin_info - where the database is, what it holds, what is set */
int admin_info(struct admin *a, int argc, char **argv)
{
    long    n[STATE_TARPITTED + 1];
    size_t  records;
    char    value[CONF_PATH_MAX];
    struct db_about about;
    int     rc, waiting = admin_waiting(a), shared = db_shared(a->db);

    (void) argc;			/* none: admin_run() saw to it */
    (void) argv;
    if ((rc = admin_count_states(a, n, &records)) != 0)
	return rc;
    if (db_about(a->db, &about) < 0)
	return admin_db_failed(a);
    if (a->json) {
	fputs("{\"version\":", a->out);
	admin_json_string(a->out, TARPIT_VERSION);
	fputs(",\"config_file\":", a->out);
	admin_json_string(a->out, a->conf_file);
	fputs(",\"database\":", a->out);
	admin_json_string(a->out, a->conf.database);
	if (shared) {
	    fputs(",\"server\":", a->out);
	    admin_json_string(a->out, about.server);
	    fprintf(a->out, ",\"server_keys\":%ld", about.keys);
	}
	if (about.bytes >= 0)
	    fprintf(a->out, ",\"database_bytes\":%lld", about.bytes);
	else
	    fputs(",\"database_bytes\":null", a->out);
	fprintf(a->out, ",\"records\":%zu,\"escaped\":%ld,"
		"\"tarpitted\":%ld,\"allowed\":%ld,\"blocked\":%ld,"
		"\"waiting\":%d,\"max_waiting\":%" PRId64 ","
		"\"sleep_ms\":%" PRId64 ",\"threshold\":%" PRId64 "}\n",
		records, n[STATE_ESCAPED], n[STATE_TARPITTED], n[STATE_ALLOWED],
		n[STATE_BLOCKED], waiting, a->conf.max_waiting, a->conf.sleep_ms,
		a->conf.threshold);
    } else {
	fprintf(a->out, "version             tarpit %s\n", TARPIT_VERSION);
	fprintf(a->out, "config file         %s\n", a->conf_file);
	if (shared)
	    fprintf(a->out, "database server     %s (%s; %ld keys under \"%s\")\n",
		    a->conf.database, about.server, about.keys, a->conf.database_prefix);
	else
	    fprintf(a->out, "database file       %s (%lld bytes)\n", a->conf.database,
		    about.bytes);
	fprintf(a->out, "records             %zu: %ld escaped, %ld tarpitted, "
		"%ld allowed, %ld blocked\n", records, n[STATE_ESCAPED], n[STATE_TARPITTED],
		n[STATE_ALLOWED], n[STATE_BLOCKED]);
	fprintf(a->out, "waiting now         %d of max_waiting %" PRId64 "\n",
		waiting, a->conf.max_waiting);
	for (size_t i = 0; conf_key_name(i) != 0; i++)
	    if (conf_value(&a->conf, conf_key_name(i), value, sizeof(value)) == 0)
		fprintf(a->out, "%-19s %s\n", conf_key_name(i), value);
    }
    return ADMIN_OK;
}

/* admin_config - the effective settings, "key = value", like postconf */
int admin_config(struct admin *a, int argc, char **argv)
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
	if (strcmp(argv[i], "rule") == 0) {	/* a list: every global rule */
	    for (size_t r = 0; r < a->conf.nrules; r++)
		fprintf(a->out, argc == 1 ? "%s\n" : "rule = %s\n", a->conf.rules[r].text);
	    continue;
	}
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


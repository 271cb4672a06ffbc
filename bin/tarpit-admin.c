/*
 * NAME
 *	tarpit-admin - look at and edit the tarpit database
 * SYNOPSIS
 *	tarpit-admin [-c config_file] [--json] check address ...
 *	tarpit-admin [-c config_file] del address|network ...
 *	tarpit-admin [-c config_file] [--json] list
 *	tarpit-admin [-c config_file] [--json] stats
 *	tarpit-admin [-c config_file] config [key ...]
 * DESCRIPTION
 *	One function per command; the record formats are documented in
 *	tarpit-admin(8) and stay stable for scripts.
 * EXIT STATUS
 *	0 done; 1 an address had no record; 2 usage; 3 config error;
 *	4 database error.
 */
#define _GNU_SOURCE
#include "addr.h"
#include "conf.h"
#include "db.h"
#include "log.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_NOTFOUND 1
#define EXIT_USAGE 2
#define EXIT_CONFIG 3
#define EXIT_DB 4

static const char usage_text[] =
"usage: tarpit-admin [-c config_file] [--json] check address ...\n"
"       tarpit-admin [-c config_file] del address|network ...\n"
"       tarpit-admin [-c config_file] [--json] list\n"
"       tarpit-admin [-c config_file] [--json] stats\n"
"       tarpit-admin [-c config_file] config [key ...]\n";

static struct tp_conf conf;
static int json;

static _Noreturn void usage(void)
{
    fputs(usage_text, stderr);
    exit(EXIT_USAGE);
}

/* format_time - ISO 8601 in UTC, or "-" for never */
static const char *format_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t  tt = (time_t) t;

    if (t == 0 || gmtime_r(&tt, &tm) == 0)
	return "-";
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* format_until - an allow/block end: "-", "forever" or a time */
static const char *format_until(int64_t t, char *buf, size_t len)
{
    return t == -1 ? "forever" : format_time(t, buf, len);
}

/* print_json - one record as one JSON object on one line */
static void print_json(const char *key, const struct tp_record *r)
{
    printf("{\"network\":\"%s\",\"first_seen\":%" PRId64
	   ",\"last_seen\":%" PRId64 ",\"tarpits\":%" PRId64
	   ",\"escapes\":%" PRId64 ",\"pending\":%" PRId64
	   ",\"hangups\":%" PRId64 ",\"early_talkers\":%" PRId64
	   ",\"dropouts\":%" PRId64 ",\"last_tarpit\":%" PRId64
	   ",\"last_wait_ms\":%" PRId64 ",\"allow_until\":%" PRId64
	   ",\"block_until\":%" PRId64 "}\n",
	   key, r->first_seen, r->last_seen, r->tarpits, r->escapes,
	   r->pending, r->hangups, r->early_talkers, r->dropouts,
	   r->last_tarpit, r->last_wait_ms, r->allow_until, r->block_until);
}

/* print_text - one record as "name value" lines */
static void print_text(const char *key, const struct tp_record *r)
{
    char    a[32], b[32], c[32], d[32], e[32];

    printf("network        %s\n"
	   "first_seen     %s\n"
	   "last_seen      %s\n"
	   "tarpits        %" PRId64 "\n"
	   "escapes        %" PRId64 "\n"
	   "pending        %" PRId64 "\n"
	   "hangups        %" PRId64 "\n"
	   "early_talkers  %" PRId64 "\n"
	   "dropouts       %" PRId64 "\n"
	   "last_tarpit    %s\n"
	   "last_wait      %" PRId64 ".%03" PRId64 "s\n"
	   "allow_until    %s\n"
	   "block_until    %s\n",
	   key, format_time(r->first_seen, a, sizeof(a)),
	   format_time(r->last_seen, b, sizeof(b)), r->tarpits, r->escapes,
	   r->pending, r->hangups, r->early_talkers, r->dropouts,
	   format_time(r->last_tarpit, c, sizeof(c)),
	   r->last_wait_ms / 1000, r->last_wait_ms % 1000,
	   format_until(r->allow_until, d, sizeof(d)),
	   format_until(r->block_until, e, sizeof(e)));
}

/* arg_key - an address or network argument to its key, or usage error */
static void arg_key(const char *arg, char *key, size_t len)
{
    if (addr_key_from_arg(arg, (int) conf.ipv4_prefix, (int) conf.ipv6_prefix,
			  key, len) < 0) {
	fprintf(stderr, "tarpit-admin: \"%s\" is not an IP address or network\n",
		arg);
	exit(EXIT_USAGE);
    }
}

/* cmd_check - print the record of each address's network */
static int cmd_check(struct tp_db *db, int argc, char **argv)
{
    int     status = 0;

    if (argc < 1)
	usage();
    for (int i = 0; i < argc; i++) {
	char    key[ADDR_KEY_MAX];
	struct tp_record r;
	int     found;

	arg_key(argv[i], key, sizeof(key));
	if ((found = db_get(db, key, &r)) < 0) {
	    fprintf(stderr, "tarpit-admin: %s\n", db_error(db));
	    return EXIT_DB;
	}
	if (!found) {
	    fprintf(stderr, "tarpit-admin: %s: no record for %s\n", argv[i], key);
	    if (status == 0)
		status = EXIT_NOTFOUND;
	    continue;
	}
	if (json)
	    print_json(key, &r);
	else {
	    if (i > 0)
		putchar('\n');
	    print_text(key, &r);
	}
    }
    return status;
}

/* cmd_del - remove the records of addresses or networks */
static int cmd_del(struct tp_db *db, int argc, char **argv)
{
    int     status = 0;

    if (argc < 1)
	usage();
    for (int i = 0; i < argc; i++) {
	char    key[ADDR_KEY_MAX];
	int     found;

	arg_key(argv[i], key, sizeof(key));
	if ((found = db_delete(db, key)) < 0) {
	    fprintf(stderr, "tarpit-admin: %s\n", db_error(db));
	    return EXIT_DB;
	}
	if (found)
	    printf("deleted %s\n", key);
	else {
	    fprintf(stderr, "tarpit-admin: %s: no record for %s\n", argv[i], key);
	    if (status == 0)
		status = EXIT_NOTFOUND;
	}
    }
    return status;
}

struct entry {
    struct tp_addr net;
    int     prefix;
    char    key[ADDR_KEY_MAX];
    struct tp_record r;
};

struct collection {
    struct entry *v;
    size_t  n, cap;
    int     failed;
};

/* collect - db_walk callback: keep a copy of every record */
static int collect(const char *key, const struct tp_record *r, void *ctx)
{
    struct collection *c = ctx;
    struct entry *e;
    char    addr[ADDR_KEY_MAX];
    const char *slash = strchr(key, '/');

    if (c->n == c->cap) {
	size_t  cap = c->cap ? 2 * c->cap : 1024;
	struct entry *v = realloc(c->v, cap * sizeof(*v));

	if (v == 0) {
	    c->failed = 1;
	    return 1;
	}
	c->v = v;
	c->cap = cap;
    }
    e = c->v + c->n;
    memset(e, 0, sizeof(*e));
    snprintf(e->key, sizeof(e->key), "%s", key);
    snprintf(addr, sizeof(addr), "%.*s", slash ? (int) (slash - key) : (int) strlen(key), key);
    if (addr_parse(addr, &e->net) < 0)
	e->net.family = 0;		/* foreign key: sorts first, by text */
    e->prefix = slash ? atoi(slash + 1) : 0;
    e->r = *r;
    c->n++;
    return 0;
}

/* by_network - IPv4 before IPv6, then by address, then by prefix */
static int by_network(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int     c;

    if (x->net.family != y->net.family)
	return x->net.family < y->net.family ? -1 : 1;
    if (x->net.family == 0)
	return strcmp(x->key, y->key);
    if ((c = memcmp(x->net.bytes, y->net.bytes, sizeof(x->net.bytes))) != 0)
	return c;
    return x->prefix - y->prefix;
}

/* cmd_list - every record, one a line, sorted by network */
static int cmd_list(struct tp_db *db, int argc, char **argv)
{
    struct collection c = {0, 0, 0, 0};

    (void) argv;
    if (argc != 0)
	usage();
    if (db_walk(db, collect, &c) < 0) {
	fprintf(stderr, "tarpit-admin: %s\n", db_error(db));
	free(c.v);
	return EXIT_DB;
    }
    if (c.failed) {
	fprintf(stderr, "tarpit-admin: out of memory\n");
	free(c.v);
	return EXIT_DB;
    }
    qsort(c.v, c.n, sizeof(*c.v), by_network);
    for (size_t i = 0; i < c.n; i++) {
	const struct tp_record *r = &c.v[i].r;
	char    a[32], b[32];

	if (json)
	    print_json(c.v[i].key, r);
	else
	    printf("%s %s %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64
		   " %" PRId64 "\n", c.v[i].key,
		   format_time(r->first_seen, a, sizeof(a)),
		   format_time(r->last_seen, b, sizeof(b)),
		   r->tarpits, r->escapes, r->pending, r->hangups,
		   r->early_talkers);
    }
    free(c.v);
    return 0;
}

/* cmd_config - the effective settings, "key = value", like postconf */
static int cmd_config(struct tp_db *db, int argc, char **argv)
{
    char    value[CONF_PATH_MAX];
    const char *name;

    (void) db;
    if (argc == 0) {
	for (size_t i = 0; (name = conf_key_name(i)) != 0; i++)
	    if (conf_value(&conf, name, value, sizeof(value)) == 0)
		printf("%s = %s\n", name, value);
	return 0;
    }
    for (int i = 0; i < argc; i++) {
	if (conf_value(&conf, argv[i], value, sizeof(value)) < 0) {
	    fprintf(stderr, "tarpit-admin: unknown key \"%s\"\n", argv[i]);
	    return EXIT_USAGE;
	}
	printf(argc == 1 ? "%s%s\n" : "%s = %s\n", argc == 1 ? "" : argv[i], value);
    }
    return 0;
}

/* cmd_stats - host-wide totals and the hang-up histogram */
static int cmd_stats(struct tp_db *db, int argc, char **argv)
{
    struct tp_stats st;
    int64_t cum = 0, most = 0;
    int     tty = isatty(STDOUT_FILENO);

    (void) argv;
    if (argc != 0)
	usage();
    if (db_get_stats(db, &st) < 0) {
	fprintf(stderr, "tarpit-admin: %s\n", db_error(db));
	return EXIT_DB;
    }
    if (json) {
	printf("{\"tarpits\":%" PRId64 ",\"escapes\":%" PRId64
	       ",\"hangups\":%" PRId64 ",\"early_talkers\":%" PRId64
	       ",\"dropouts\":%" PRId64 ",\"hangup_histogram\":[",
	       st.tarpits, st.escapes, st.hangups, st.early_talkers, st.dropouts);
	for (int i = 0; i < HIST_BUCKETS; i++) {
	    printf("%s{\"from\":%d,\"to\":", i ? "," : "", i * HIST_BUCKET_S);
	    if (i == HIST_BUCKETS - 1)
		printf("null");
	    else
		printf("%d", (i + 1) * HIST_BUCKET_S);
	    printf(",\"count\":%" PRId64 "}", st.hangup_hist[i]);
	}
	printf("]}\n");
	return 0;
    }
    printf("tarpits        %" PRId64 "\n"
	   "escapes        %" PRId64 "\n"
	   "hangups        %" PRId64 "\n"
	   "early_talkers  %" PRId64 "\n"
	   "dropouts       %" PRId64 "\n\n",
	   st.tarpits, st.escapes, st.hangups, st.early_talkers, st.dropouts);
    printf("hang-ups by time waited\n%-9s %8s %7s %7s\n", "waited",
	   "count", "share", "cumul.");
    for (int i = 0; i < HIST_BUCKETS; i++)
	if (st.hangup_hist[i] > most)
	    most = st.hangup_hist[i];
    for (int i = 0; i < HIST_BUCKETS; i++) {
	char    range[32];
	int64_t n = st.hangup_hist[i];
	double  share = st.hangups ? 100.0 * (double) n / (double) st.hangups : 0;

	cum += n;
	if (i == HIST_BUCKETS - 1)
	    snprintf(range, sizeof(range), "%ds+", i * HIST_BUCKET_S);
	else
	    snprintf(range, sizeof(range), "%d-%ds", i * HIST_BUCKET_S,
		     (i + 1) * HIST_BUCKET_S);
	printf("%-9s %8" PRId64 " %6.1f%% %6.1f%%", range, n, share,
	       st.hangups ? 100.0 * (double) cum / (double) st.hangups : 0.0);
	if (tty && most > 0) {
	    putchar(' ');
	    for (int64_t b = 0; b < n * 40 / most; b++)
		putchar('#');
	}
	putchar('\n');
	if (cum == st.hangups && i >= 6)
	    break;			/* the empty tail says nothing */
    }
    return 0;
}

static const struct command {
    const char *name;
    int     (*fn) (struct tp_db *, int, char **);
} commands[] = {
    {"check", cmd_check},
    {"del", cmd_del},
    {"list", cmd_list},
    {"config", cmd_config},
    {"stats", cmd_stats},
};

int main(int argc, char **argv)
{
    const char *option = 0;
    char  **args = calloc((size_t) argc + 1, sizeof(*args));
    int     nargs = 0;
    char    err[700];
    struct tp_db *db;
    int     named, status;

    log_init("tarpit-admin");
    if (args == 0) {
	fprintf(stderr, "tarpit-admin: out of memory\n");
	return EXIT_DB;
    }
    for (int i = 1; i < argc; i++) {
	if (strcmp(argv[i], "-c") == 0) {
	    if (++i >= argc)
		usage();
	    option = argv[i];
	} else if (strcmp(argv[i], "--json") == 0) {
	    json = 1;
	} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
	    fputs(usage_text, stdout);
	    free(args);
	    return 0;
	} else if (strcmp(argv[i], "--") == 0) {
	    while (++i < argc)
		args[nargs++] = argv[i];
	} else if (argv[i][0] == '-' && argv[i][1] != 0) {
	    fprintf(stderr, "tarpit-admin: unknown option \"%s\"\n", argv[i]);
	    usage();
	} else {
	    args[nargs++] = argv[i];
	}
    }
    if (nargs == 0)
	usage();

    const char *path = conf_path(option, &named);

    if (conf_load(&conf, path, named, err, sizeof(err)) < 0) {
	fprintf(stderr, "tarpit-admin: %s\n", err);
	free(args);
	return EXIT_CONFIG;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
	if (strcmp(args[0], commands[i].name) == 0) {
	    if ((db = db_new(conf.database)) == 0) {
		fprintf(stderr, "tarpit-admin: out of memory\n");
		return EXIT_DB;
	    }
	    status = commands[i].fn(db, nargs - 1, args + 1);
	    db_free(db);
	    free(args);
	    return status;
	}
    }
    fprintf(stderr, "tarpit-admin: unknown command \"%s\"\n", args[0]);
    usage();
}

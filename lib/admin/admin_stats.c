/*
 * NAME
 *	admin_stats - stats: the host-wide counters, three ways
 * DESCRIPTION
 *	The counters the helpers keep and the hang-up histogram:
 *
 *	- as text: "name value" lines, the hang-up table, and on a terminal
 *	  a bar chart of it (one bar per 10-second bucket, scaled to the
 *	  widest, the cumulative share beside it), so that an admin sees at a
 *	  glance where the bots give up;
 *	- as JSON (--json or --format json);
 *	- in both, the verified domains (ledger.c) that made clients wait:
 *	  their waits, hang-ups and the mean time waited before one, their
 *	  networks' escapes, their clients' failures, and whether the domain
 *	  shares its escapes now (decide.c), most hang-ups first: which big
 *	  senders give up, and when;
 *	- in Prometheus' text exposition format (--format prometheus): the
 *	  counters as tarpit_*_total, the time waited before a hang-up as a
 *	  histogram in seconds, the records by state and the waits running
 *	  now as gauges.  With -o FILE it is written to a temporary file and
 *	  renamed, for node-exporter's textfile collector.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "util/confine.h"
#include "tarpit/decide.h"
#include "tarpit/ledger.h"
#include "util/mem.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The help text of the counters, by name; every counter of
 * stats_field_table is exported, hangup_ms as the histogram's _sum. */
static const struct {
    const char *name, *help;
} prom_help[] = {
    {"tarpits", "Waits started: clients made to wait."},
    {"escapes", "Deliveries after a wait: the network escaped."},
    {"hangups", "Clients that hung up during their wait."},
    {"early_talkers", "Clients that sent before the server's reply was due."},
    {"dropouts", "Completed waits followed by no delivery."},
    {"waits_refused", "Waits not started because max_waiting waits were running."},
    {"greylisted", "Requests answered greylist_action."},
    {"blocks", "Networks blocked by block_after."},
};

/* help_of - a counter's help text */
static const char *help_of(const char *name)
{
    for (size_t i = 0; i < sizeof(prom_help) / sizeof(prom_help[0]); i++)
	if (strcmp(prom_help[i].name, name) == 0)
	    return prom_help[i].help;
    return "A tarpit counter (see tarpit-admin(8), stats).";
}

/* sandbox_level - admin_sandbox() as 2 (all), 1 (partly), 0 (none) */
static int sandbox_level(struct admin *a)
{
    char    why[600];

    switch (admin_sandbox(a, why, sizeof(why))) {
    case CONFINE_FULL:
	return 2;
    case CONFINE_PARTIAL:
	return 1;
    default:
	return 0;
    }
}

/* print_prometheus - the exposition format; an exit status */
static int print_prometheus(struct admin *a, FILE *fp, const struct tp_stats *st)
{
    long    n[STATE_TARPITTED + 1];
    size_t  records;
    int64_t cum = 0;
    int     rc, waiting;

    if ((rc = admin_count_states(a, n, &records)) != 0)
	return rc;
    for (size_t i = 0; i < stats_nfields; i++) {
	const char *name = stats_field_table[i].name;

	if (strcmp(name, "hangup_ms") == 0)
	    continue;			/* the histogram's _sum */
	fprintf(fp, "# HELP tarpit_%s_total %s\n# TYPE tarpit_%s_total counter\n"
		"tarpit_%s_total %" PRId64 "\n", name, help_of(name), name, name,
		*RECORD_FIELD(st, stats_field_table + i));
    }
    fputs("# HELP tarpit_hangup_wait_seconds How long clients waited before they"
	  " hung up.\n# TYPE tarpit_hangup_wait_seconds histogram\n", fp);
    for (int i = 0; i < HIST_BUCKETS; i++) {
	cum += st->hangup_hist[i];
	if (i < HIST_BUCKETS - 1)
	    fprintf(fp, "tarpit_hangup_wait_seconds_bucket{le=\"%d\"} %" PRId64 "\n",
		    (i + 1) * HIST_BUCKET_S, cum);
    }
    fprintf(fp, "tarpit_hangup_wait_seconds_bucket{le=\"+Inf\"} %" PRId64 "\n"
	    "tarpit_hangup_wait_seconds_sum %" PRId64 ".%03d\n"
	    "tarpit_hangup_wait_seconds_count %" PRId64 "\n", cum,
	    st->hangup_ms / 1000, (int) (st->hangup_ms % 1000), cum);
    fputs("# HELP tarpit_records Records in the database by state.\n"
	  "# TYPE tarpit_records gauge\n", fp);
    for (int s = 0; s <= STATE_TARPITTED; s++)
	fprintf(fp, "tarpit_records{state=\"%s\"} %ld\n", record_state_name[s], n[s]);
    waiting = admin_waiting(a);
    if (waiting >= 0)
	fprintf(fp, "# HELP tarpit_waiting Waits running now on this host.\n"
		"# TYPE tarpit_waiting gauge\ntarpit_waiting %d\n", waiting);
    fprintf(fp, "# HELP tarpit_max_waiting The setting max_waiting.\n"
	    "# TYPE tarpit_max_waiting gauge\ntarpit_max_waiting %" PRId64 "\n",
	    a->conf.max_waiting);
    fprintf(fp, "# HELP tarpit_sandbox The walls a policy helper builds here: 2 all, "
	    "1 the seccomp filter without Landlock's, 0 none.\n"
	    "# TYPE tarpit_sandbox gauge\ntarpit_sandbox %d\n", sandbox_level(a));
    return ADMIN_OK;
}

/* One verified domain's row. */
struct domain_row {
    char    name[256];
    struct tp_record r;
};

/* add_domain - db_walk_fn: a domain's record into the array */
static int add_domain(const char *key, const struct tp_record *r, void *ctx)
{
    const char *name = ledger_key_domain(key);
    struct domain_row *row;

    if (name == 0)
	return 0;			/* another key, or a name of no host */
    row = array_add(ctx);
    snprintf(row->name, sizeof(row->name), "%s", name);
    row->r = *r;
    return 0;
}

/* by_hangups - qsort: most hang-ups first, then by name */
static int by_hangups(const void *x, const void *y)
{
    const struct domain_row *a = x, *b = y;

    if (a->r.hangups != b->r.hangups)
	return a->r.hangups > b->r.hangups ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* mean_hangup_ms - the mean time waited before a hang-up */
static int64_t mean_hangup_ms(const struct tp_record *r)
{
    return r->hangups ? r->hangup_ms / r->hangups : 0;
}

/* print_domains - the verified domains' table, or their JSON array */
static void print_domains(struct admin *a, FILE *fp, const struct array *d, int json)
{
    const struct domain_row *row = d->v;

    if (json) {
	fputs(",\"domains\":[", fp);
	for (size_t i = 0; i < d->n; i++)
	    fprintf(fp, "%s{\"domain\":\"%s\",\"waits\":%" PRId64 ",\"hangups\":%" PRId64
		    ",\"hangup_ms\":%" PRId64 ",\"escapes\":%" PRId64 ",\"failures\":%" PRId64
		    ",\"shares\":%s}", i ? "," : "", row[i].name, row[i].r.tarpits,
		    row[i].r.hangups, mean_hangup_ms(&row[i].r), row[i].r.escapes,
		    row[i].r.recent_failures,
		    domain_vouches(&a->conf, &row[i].r, 1) ? "true" : "false");
	fputs("]", fp);
	return;
    }
    if (d->n == 0)
	return;
    fprintf(fp, "\nhang-ups by verified domain\n%-30s %6s %8s %13s %7s %8s %6s\n",
	    "domain", "waits", "hang-ups", "hang-up after", "escapes", "failures", "shares");
    for (size_t i = 0; i < d->n; i++) {
	int64_t ms = mean_hangup_ms(&row[i].r);

	fprintf(fp, "%-30s %6" PRId64 " %8" PRId64 " %11" PRId64 ".%01ds %7" PRId64
		" %8" PRId64 " %6s\n", row[i].name, row[i].r.tarpits, row[i].r.hangups,
		ms / 1000, (int) (ms % 1000 / 100), row[i].r.escapes,
		row[i].r.recent_failures,
		domain_vouches(&a->conf, &row[i].r, 1) ? "yes" : "no");
    }
}

/* print_json - the counters and the histogram as one object */
static void print_json(FILE *fp, const struct tp_stats *st)
{
    for (size_t i = 0; i < stats_nfields; i++)
	fprintf(fp, "%s\"%s\":%" PRId64, i ? "," : "{",
		stats_field_table[i].name, *RECORD_FIELD(st, stats_field_table + i));
    fputs(",\"hangup_histogram\":[", fp);
    for (int i = 0; i < HIST_BUCKETS; i++) {
	fprintf(fp, "%s{\"from\":%d,\"to\":", i ? "," : "", i * HIST_BUCKET_S);
	if (i == HIST_BUCKETS - 1)
	    fputs("null", fp);
	else
	    fprintf(fp, "%d", (i + 1) * HIST_BUCKET_S);
	fprintf(fp, ",\"count\":%" PRId64 "}", st->hangup_hist[i]);
    }
    fputs("]", fp);
}

/* buckets_shown - the buckets worth a row: up to the last that is not
 * empty, and at least the first 70 seconds */
static int buckets_shown(const struct tp_stats *st)
{
    int     last = 6;

    for (int i = 0; i < HIST_BUCKETS; i++)
	if (st->hangup_hist[i] > 0 && i > last)
	    last = i;
    return last + 1;
}

/* bucket_name - "0-10s", ..., "300s+" */
static const char *bucket_name(int i, char *buf, size_t len)
{
    if (i == HIST_BUCKETS - 1)
	snprintf(buf, len, "%ds+", i * HIST_BUCKET_S);
    else
	snprintf(buf, len, "%d-%ds", i * HIST_BUCKET_S, (i + 1) * HIST_BUCKET_S);
    return buf;
}

/* utf8_terminal - whether the locale's characters are UTF-8 */
static int utf8_terminal(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};

    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
	const char *v = getenv(vars[i]);

	if (v && *v)
	    return strcasestr(v, "UTF-8") != 0 || strcasestr(v, "utf8") != 0;
    }
    return 0;
}

/* print_chart - the hang-up histogram as horizontal bars, in eighths of a
 * character where the terminal speaks UTF-8 */
static void print_chart(FILE *fp, const struct tp_stats *st, int columns)
{
    static const char *const eighths[] = {"", "\u258f", "\u258e", "\u258d",
    "\u258c", "\u258b", "\u258a", "\u2589"};
    int64_t most = 0, total = 0, cum = 0;
    int     shown = buckets_shown(st), utf8 = utf8_terminal();
    int     width = columns - 9 - 2 - 8;	/* label, " |", " 100.0%" */

    if (width > 60)
	width = 60;
    if (width < 10)
	width = 10;
    for (int i = 0; i < HIST_BUCKETS; i++) {
	if (st->hangup_hist[i] > most)
	    most = st->hangup_hist[i];
	total += st->hangup_hist[i];
    }
    if (most == 0)
	return;
    fprintf(fp, "\nwhere clients hung up (bar: count, scaled to the widest;"
	    " then cumulative share)\n");
    for (int i = 0; i < shown; i++) {
	char    name[32];
	int64_t units = st->hangup_hist[i] * width * 8 / most;	/* eighths */
	int     drawn = (int) (units / 8);

	cum += st->hangup_hist[i];
	fprintf(fp, "%8s %s", bucket_name(i, name, sizeof(name)), utf8 ? "\u2502" : "|");
	for (int b = 0; b < drawn; b++)
	    fputs(utf8 ? "\u2588" : "#", fp);
	if (utf8 && units % 8) {
	    fputs(eighths[units % 8], fp);
	    drawn++;
	}
	fprintf(fp, "%*s %5.1f%%\n", width - drawn, "",
		100.0 * (double) cum / (double) total);
    }
}

/* terminal_columns - the width of the terminal on fd, or 80 */
static int terminal_columns(int fd)
{
    struct winsize ws;

    return ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

/* print_text - "name value" lines, the table, and the chart if asked */
static void print_text(FILE *fp, const struct tp_stats *st, int chart_columns)
{
    int64_t cum = 0, total = 0;
    int     shown = buckets_shown(st);

    for (size_t i = 0; i < stats_nfields; i++)
	fprintf(fp, "%-15s%" PRId64 "\n", stats_field_table[i].name,
		*RECORD_FIELD(st, stats_field_table + i));
    for (int i = 0; i < HIST_BUCKETS; i++)
	total += st->hangup_hist[i];
    fprintf(fp, "\nhang-ups by time waited\n%-9s %8s %7s %7s\n", "waited",
	    "count", "share", "cumul.");
    for (int i = 0; i < shown; i++) {
	char    name[32];
	int64_t n = st->hangup_hist[i];

	cum += n;
	fprintf(fp, "%-9s %8" PRId64 " %6.1f%% %6.1f%%\n", bucket_name(i, name, sizeof(name)),
		n, total ? 100.0 * (double) n / (double) total : 0.0,
		total ? 100.0 * (double) cum / (double) total : 0.0);
    }
    if (chart_columns > 0)
	print_chart(fp, st, chart_columns);
}

/* admin_stats - stats [--format text|json|prometheus] [--no-chart] [-o file] */
int admin_stats(struct admin *a, int argc, char **argv)
{
    struct tp_stats st;
    const char *format = a->json ? "json" : "text", *out_path = 0;
    int     chart = 1, rc = ADMIN_OK;
    struct admin_out out;
    struct array domains = ARRAY_OF(struct domain_row);
    FILE   *fp;

    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
	    format = argv[++i];
	else if (strcmp(argv[i], "--no-chart") == 0)
	    chart = 0;
	else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
	    out_path = argv[++i];
	else
	    return admin_usage(a);
    }
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0
	&& strcmp(format, "prometheus") != 0) {
	fprintf(a->err, "tarpit-admin: --format %s: text, json or prometheus\n", format);
	return ADMIN_USAGE;
    }
    if (db_get_stats(a->db, &st) < 0)
	return admin_db_failed(a);
    if (strcmp(format, "prometheus") != 0 && db_walk_all(a->db, add_domain, &domains) < 0) {
	array_free(&domains);
	return admin_db_failed(a);
    }
    if (domains.n > 1)
	qsort(domains.v, domains.n, domains.size, by_hangups);
    if ((fp = admin_out_open(a, &out, out_path)) == 0) {
	array_free(&domains);
	return ADMIN_IO;
    }
    if (strcmp(format, "prometheus") == 0) {
	rc = print_prometheus(a, fp, &st);
    } else if (strcmp(format, "json") == 0) {
	print_json(fp, &st);
	print_domains(a, fp, &domains, 1);
	fputs("}\n", fp);
    } else {
	print_text(fp, &st, chart && fp == stdout && isatty(STDOUT_FILENO)
		   ? terminal_columns(STDOUT_FILENO) : 0);
	print_domains(a, fp, &domains, 0);
    }
    array_free(&domains);
    return admin_out_close(a, &out, rc);
}

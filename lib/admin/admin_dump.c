/*
 * NAME
 *	admin_dump - dump, load
 * DESCRIPTION
 *	dump writes the whole database, the greylist entries and the
 *	host-wide counters included, in the text form of dump.c.  load reads
 *	that form and checks every line before it writes anything; then it
 *	writes all of it with db_load(): a GDBM file is rebuilt with the
 *	records in it and replaced only when whole (a full disk leaves it as
 *	it was), a server takes them one by one and load says how many it
 *	wrote when one fails.  A loaded record replaces the one of the same
 *	key; the others are kept; the dump's counters are added.  `dump |
 *	load` on an empty database gives back the same dump.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/dump.h"
#include "tarpit/ledger.h"

#include <stdlib.h>
#include <string.h>

#define DUMP_LINE_MAX 16384		/* a dump's lines are far shorter */

/* width_ok - a key that is no network ('@'), or a network of a width
 * the helpers look up (the same rule as block's, and export-map's) */
static int width_ok(struct admin *a, const char *key)
{
    const char *net = ledger_key_network(key);
    struct tp_net n;

    if (key[0] == KEY_RESERVED)
	return 1;
    return net != 0 && addr_parse_network(net, &n) == 0 && ledger_width_ok(&a->conf, &n);
}

/* admin_dump - the whole database as text: see tarpit-admin(8) */
int admin_dump(struct admin *a, int argc, char **argv)
{
    struct array c;
    struct tp_stats st;
    int     rc;

    (void) argc;			/* none: admin_run() saw to it */
    (void) argv;
    if (db_get_stats(a->db, &st) < 0)
	return admin_db_failed(a);
    if ((rc = admin_collect(a, &c, 1)) != 0)
	return rc;
    fprintf(a->out, "%s\n", DUMP_HEADER);
    dump_stats(a->out, &st);
    for (size_t i = 0; i < c.n; i++) {
	const struct admin_entry *e = (struct admin_entry *) c.v + i;
	char    safe[DB_KEY_MAX];

	if (!width_ok(a, e->key))	/* load would refuse it, and the dump */
	    fprintf(a->out, "# left out, not a network the helpers look up: %s\n",
		    admin_safe(e->key, safe, sizeof(safe)));
	else
	    dump_record(a->out, e->key, &e->r);
    }
    admin_collect_free(&c);
    return fflush(a->out) == 0 && !ferror(a->out) ? ADMIN_OK
	: admin_io_failed(a, "writing the dump");
}

struct load_item {
    char   *key;
    struct tp_record rec;
};

struct load {
    struct array items;			/* struct load_item, sorted by key */
    struct tp_stats stats;		/* the dump's counters */
    int     has_stats;
    struct ledger event;		/* LEDGER_LOAD */
};

static int by_item_key(const void *x, const void *y)
{
    return strcmp(((const struct load_item *) x)->key, ((const struct load_item *) y)->key);
}

/* load_one - under the exclusive lock: the dump's record for the txn's
 * key.  It may run again for the same key (a server's retry), so it
 * finds the record by its key and keeps nothing between runs. */
static enum db_change load_one(struct db_txn *t, void *ctx)
{
    const struct load *l = ctx;
    struct load_item want = {(char *) t->key, {0}};
    const struct load_item *it = bsearch(&want, l->items.v, l->items.n,
					 sizeof(want), by_item_key);
    struct ledger e = l->event;

    if (it == 0)
	return DB_KEEP;
    e.record = &it->rec;
    return ledger_apply(t, &e);
}

/* load_stats - move the counters to the dump's: the difference from what
 * the database said just before (ctx: the dump's, then the database's) */
static void load_stats(struct tp_stats *st, void *ctx)
{
    const struct tp_stats *want = ctx, *had = want + 1;
    const int64_t *w = (const int64_t *) want, *h = (const int64_t *) had;
    int64_t *d = (int64_t *) st;

    for (size_t i = 0; i < STATS_COUNTERS; i++)
	d[i] = w[i] - h[i];
}

/* read_dump - every line checked and kept; ADMIN_OK or a status (said) */
static int read_dump(struct admin *a, FILE *fp, const char *name, struct load *l)
{
    char   *line = xmalloc(DUMP_LINE_MAX);
    ssize_t got;
    long    lineno = 0;
    struct dump_item item;
    int     rc = ADMIN_OK;

    while (rc == ADMIN_OK && (got = admin_read_line(fp, line, DUMP_LINE_MAX)) != -1) {
	const char *why = 0;

	lineno++;
	if (got == -2)
	    why = "line too long";
	else if (memchr(line, 0, (size_t) got) != 0)
	    why = "NUL byte";
	else if (dump_parse(line, &item, &why) == 0 && item.kind == DUMP_STATS) {
	    l->stats = item.stats;
	    l->has_stats = 1;
	} else if (why == 0 && item.kind == DUMP_RECORD && !width_ok(a, item.key)) {
	    why = "a network of a width the helpers never look up (ipv4_prefix, "
		"ipv6_prefix, ipv6_aggregate's /48)";
	} else if (why == 0 && item.kind == DUMP_RECORD) {
	    struct load_item *it = array_add(&l->items);

	    it->key = xstrdup(item.key);
	    it->rec = item.rec;
	}
	if (why) {
	    fprintf(a->err, "tarpit-admin: %s:%ld: %s; nothing loaded\n",
		    name, lineno, why);
	    rc = ADMIN_USAGE;
	}
    }
    if (rc == ADMIN_OK && ferror(fp))
	rc = admin_io_failed(a, name);
    free(line);
    return rc;
}

/* admin_load - records from a dump; all checked before anything is written */
int admin_load(struct admin *a, int argc, char **argv)
{
    FILE   *fp = stdin;
    const char *name = "(stdin)";
    struct load l = {ARRAY_OF(struct load_item), {0}, 0,
    {.event = LEDGER_LOAD,.conf = &a->conf}};
    char  **keys = 0;
    size_t  done = 0;
    int     rc;

    if (argc > 1 || (argc == 1 && argv[0][0] == '-' && argv[0][1] != 0))
	return admin_usage(a);
    if (argc == 1 && strcmp(argv[0], "-") != 0) {
	name = argv[0];
	if ((fp = admin_open_input(a, name)) == 0)
	    return ADMIN_IO;
    }
    rc = read_dump(a, fp, name, &l);
    if (fp != stdin)
	fclose(fp);
    /* Sorted by key: a key twice is refused, and load_one() finds its
     * record by its key. */
    if (rc == ADMIN_OK && l.items.n > 0) {
	qsort(l.items.v, l.items.n, sizeof(struct load_item), by_item_key);
	keys = xcalloc(l.items.n, sizeof(*keys));
	for (size_t i = 0; i < l.items.n; i++) {
	    keys[i] = ((struct load_item *) l.items.v)[i].key;
	    if (i > 0 && strcmp(keys[i - 1], keys[i]) == 0 && rc == ADMIN_OK) {
		fprintf(a->err, "tarpit-admin: %s: %s appears twice; "
			"nothing loaded\n", name, keys[i]);
		rc = ADMIN_USAGE;
	    }
	}
    }
    /* Everything parsed: now write, all at once (a GDBM file is rebuilt
     * with them, and replaced only when whole), then the counters. */
    if (rc == ADMIN_OK && l.items.n > 0
	&& db_load(a->db, keys, l.items.n, load_one, &l, &done) < 0) {
	rc = admin_db_failed(a);
	if (db_shared(a->db))
	    fprintf(a->err, "tarpit-admin: %zu of %zu records were written before "
		    "that; loading the dump again writes them all\n", done, l.items.n);
	else
	    fprintf(a->err, "tarpit-admin: nothing loaded; the database is as "
		    "it was\n");
    }
    if (rc == ADMIN_OK && l.has_stats) {
	struct tp_stats both[2] = {l.stats};

	if (db_get_stats(a->db, &both[1]) < 0 || db_update_stats(a->db, load_stats, both) < 0)
	    rc = admin_db_failed(a);
    }
    if (rc == ADMIN_OK)
	fprintf(a->out, "loaded %zu record%s\n", l.items.n, l.items.n == 1 ? "" : "s");
    free(keys);
    for (size_t i = 0; i < l.items.n; i++)
	free(((struct load_item *) l.items.v)[i].key);
    array_free(&l.items);
    return rc;
}

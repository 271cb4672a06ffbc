/*
 * NAME
 *	admin_dump - dump, load
 * DESCRIPTION
 *	dump writes the whole database, the greylist entries and the
 *	host-wide counters included, in the text form of dump.c.  load reads
 *	that form and checks every line before it writes anything; then it
 *	writes in batches of LOAD_BATCH keys per exclusive lock, so helpers
 *	never wait long.  A loaded record replaces the one of the same key;
 *	the others are kept.  `dump | load` on an empty database gives back
 *	the same dump.
 */
#define _GNU_SOURCE
#include "admin.h"
#include "dump.h"
#include "ledger.h"

#include <stdlib.h>
#include <string.h>

#define LOAD_BATCH 200			/* keys per exclusive lock */
#define DUMP_LINE_MAX 16384		/* a dump's lines are far shorter */

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
    struct array items;			/* struct load_item */
    size_t  next;			/* the next to write */
    struct tp_stats stats;
    struct ledger event;		/* LEDGER_LOAD, the counters once */
};

/* load_one - under the exclusive lock: the next parsed record */
static enum db_change load_one(struct db_txn *t, void *ctx)
{
    struct load *l = ctx;

    l->event.record = &((struct load_item *) l->items.v)[l->next++].rec;
    return ledger_apply(t, &l->event);
}

/* load_stats - the counters of a dump that holds no record */
static void load_stats(struct tp_stats *st, void *ctx)
{
    *st = *(const struct tp_stats *) ctx;
}

static int by_key(const void *x, const void *y)
{
    return strcmp(*(char *const *) x, *(char *const *) y);
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
	    l->event.stats = &l->stats;
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
    struct load l = {ARRAY_OF(struct load_item), 0, {0},
    {.event = LEDGER_LOAD,.conf = &a->conf}};
    char  **keys = 0;
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
    if (rc == ADMIN_OK && l.items.n > 0) {
	char  **sorted = xcalloc(l.items.n, sizeof(*sorted));

	keys = xcalloc(l.items.n, sizeof(*keys));
	for (size_t i = 0; i < l.items.n; i++)
	    keys[i] = sorted[i] = ((struct load_item *) l.items.v)[i].key;
	qsort(sorted, l.items.n, sizeof(*sorted), by_key);
	for (size_t i = 1; i < l.items.n; i++)
	    if (strcmp(sorted[i - 1], sorted[i]) == 0) {
		fprintf(a->err, "tarpit-admin: %s: %s appears twice; "
			"nothing loaded\n", name, sorted[i]);
		rc = ADMIN_USAGE;
		break;
	    }
	free(sorted);
    }
    /* Everything parsed: now write, in batches of short exclusive holds. */
    for (size_t i = 0; rc == ADMIN_OK && i < l.items.n; i += LOAD_BATCH) {
	size_t  n = l.items.n - i < LOAD_BATCH ? l.items.n - i : LOAD_BATCH;

	if (db_update_many(a->db, keys + i, n, load_one, &l) < 0)
	    rc = admin_db_failed(a);
    }
    if (rc == ADMIN_OK && l.items.n == 0 && l.event.stats
	&& db_update_stats(a->db, load_stats, &l.stats) < 0)
	rc = admin_db_failed(a);
    if (rc == ADMIN_OK)
	fprintf(a->out, "loaded %zu records\n", l.items.n);
    free(keys);
    for (size_t i = 0; i < l.items.n; i++)
	free(((struct load_item *) l.items.v)[i].key);
    array_free(&l.items);
    return rc;
}

/*
 * NAME
 *	admin_expire - expire, recover
 * DESCRIPTION
 *	expire collects, under the shared lock, the keys whose records the
 *	ledger would expire or clear (greylist entries included, past their
 *	greylist_window), then applies the ledger's rule to them
 *	again under the exclusive lock in batches of EXPIRE_BATCH (a record
 *	may have been touched since the walk), so that helpers never wait
 *	long; then it reorganises the file to give the space back.  It also
 *	checks the file first and recovers a damaged one: the hourly job
 *	repairs what it can.
 *
 *	recover checks every record, and rebuilds a damaged file from what
 *	can still be read (the damaged one is kept beside it).
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/ledger.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPIRE_BATCH 200		/* keys per exclusive lock */

struct expiring {
    struct array keys[2];		/* char *: networks, greylist entries */
    struct ledger *event[2];		/* LEDGER_EXPIRE, LEDGER_GREY_EXPIRE */
};

/* collect_expired - db_walk callback: the keys expire must look at */
static int collect_expired(const char *key, const struct tp_record *r, void *ctx)
{
    struct expiring *x = ctx;
    int     grey = ledger_is_grey_key(key);

    if (ledger_preview(x->event[grey], r, 1) != DB_KEEP)
	*(char **) array_add(&x->keys[grey]) = xstrdup(key);
    return 0;
}

/* apply - the event again under the exclusive lock, a batch at a time, so
 * that helpers never wait long: an exit status */
static int apply(struct admin *a, struct array *keys, struct ledger *e)
{
    int     rc = ADMIN_OK;

    for (size_t i = 0; rc == ADMIN_OK && i < keys->n; i += EXPIRE_BATCH) {
	size_t  n = keys->n - i < EXPIRE_BATCH ? keys->n - i : EXPIRE_BATCH;

	if (db_update_many(a->db, (char **) keys->v + i, n, ledger_apply, e) < 0)
	    rc = admin_db_failed(a);
    }
    for (size_t i = 0; i < keys->n; i++)
	free(((char **) keys->v)[i]);
    array_free(keys);
    return rc;
}

/* admin_expire - drop old records in batches, then give the space back */
int admin_expire(struct admin *a, int argc, char **argv)
{
    struct ledger e = {.event = LEDGER_EXPIRE,.conf = &a->conf};
    struct ledger g = {.event = LEDGER_GREY_EXPIRE,.conf = &a->conf};
    struct expiring x = {{ARRAY_OF(char *), ARRAY_OF(char *)}, {&e, &g}};
    long long before = db_size(a->db), after;
    int     rc = ADMIN_OK;

    (void) argc;			/* none: admin_run() saw to it */
    (void) argv;
    if (db_shared(a->db)) {		/* every key carries its TTL */
	if (a->json)
	    fputs("{\"removed\":0,\"cleared\":0,\"expiry\":\"server\"}\n", a->out);
	else
	    fprintf(a->out, "nothing to do: on %s every record expires by itself "
		    "(each write sets its TTL from max_age)\n", db_path(a->db));
	return ADMIN_OK;
    }
    g.now = e.now = (int64_t) time(0);
    e.cutoff = e.now - a->conf.max_age_ms / 1000;
    /* The hourly job repairs what it can: a damaged file would make every
     * helper answer DUNNO without a wait until someone noticed. */
    {
	long    records;
	struct db_recovery rv;

	if (db_check(a->db, &records) < 0) {
	    fprintf(a->err, "tarpit-admin: %s: recovering\n", db_error(a->db));
	    if (db_recover(a->db, &rv) < 0)
		return admin_db_failed(a);
	    fprintf(a->err, "tarpit-admin: recovered %ld records, lost %s%ld; the "
		    "damaged file is kept as %s\n", rv.recovered, rv.counted ? "" : "at least ",
		    rv.failed, rv.backup);
	}
    }
    db_walk_mapped(a->db);
    if (db_walk_all(a->db, collect_expired, &x) < 0)
	rc = admin_db_failed(a);
    for (int k = 0; k < 2; k++)
	if (apply(a, &x.keys[k], x.event[k]) != ADMIN_OK)
	    rc = ADMIN_DB;
    if (rc != ADMIN_OK)
	return rc;
    e.removed += g.removed;
    /* The counters' hourly copy in the database (see db_save_counters). */
    if (db_save_counters(a->db) < 0 || (e.removed > 0 && db_reorganize(a->db) < 0))
	return admin_db_failed(a);
    after = db_size(a->db);
    if (a->json)
	fprintf(a->out, "{\"removed\":%ld,\"cleared\":%ld,\"bytes_before\":%lld,"
		"\"bytes_after\":%lld,\"longest_lock_ms\":%" PRId64 "}\n",
		e.removed, e.cleared, before, after, db_longest_hold_ms(a->db));
    else {
	char    age[32];

	conf_format_duration(a->conf.max_age_ms, age, sizeof(age));
	fprintf(a->out, "expired %ld record%s untouched for %s, "
		"cleared %ld ended allow/block mark%s; database %lld -> %lld "
		"bytes; longest exclusive lock %" PRId64 " ms\n",
		e.removed, e.removed == 1 ? "" : "s", age, e.cleared,
		e.cleared == 1 ? "" : "s", before < 0 ? 0 : before,
		after < 0 ? 0 : after, db_longest_hold_ms(a->db));
    }
    return ADMIN_OK;
}

/* admin_recover - check the file, and rebuild it from what is readable */
int admin_recover(struct admin *a, int argc, char **argv)
{
    struct db_recovery rv;
    long    records;

    (void) argc;			/* none: admin_run() saw to it */
    (void) argv;
    if (db_check(a->db, &records) == 0) {
	fprintf(a->out, "%s is sound: %ld records read; nothing to recover\n",
		a->conf.database, records);
	return ADMIN_OK;
    }
    fprintf(a->out, "damage: %s\n", db_error(a->db));
    if (db_recover(a->db, &rv) < 0)
	return admin_db_failed(a);
    fprintf(a->out, "recovered %ld records; lost %s%ld records and %ld buckets%s; "
	    "the damaged file is kept as %s\n", rv.recovered, rv.counted ? "" : "at least ",
	    rv.failed, rv.failed_buckets, rv.counted ? "" : " (the records were not "
	    "counted before: expire counts them every hour)",
	    rv.backup[0] ? rv.backup : "(no backup)");
    return ADMIN_OK;
}


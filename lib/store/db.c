/*
 * NAME
 *	db - the store's one entry: open a backend by name, call its table
 * DESCRIPTION
 *	db_open() reads the database setting: a server's URL (redis://,
 *	valkey://, redis+unix://) opens the server backend (redis.c), any
 *	other value names a GDBM file (file.c).  Every db_*() call goes
 *	through the backend's table (backend.h); what an operation a
 *	backend lacks answers is said here, once.  The promises themselves
 *	are db.h's.
 * DIAGNOSTICS
 *	Operations return -1 on failure and db_error() says why in one line
 *	that names the file or the server.
 */
#include "store/backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* db_init - the shared part of a backend's new handle */
void    db_init(struct tp_db *db, const struct db_ops *ops, const char *name)
{
    memset(db, 0, sizeof(*db));
    db->ops = ops;
    db->name = name;
    db->lock_timeout_ms = DB_LOCK_TIMEOUT_MS;
}

/* db_set_error - remember why the last operation failed */
void    db_set_error(struct tp_db *db, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->error, sizeof(db->error), fmt, ap);
    va_end(ap);
}

/* db_is_server - is this database setting a server's URL (else a GDBM file)? */
int     db_is_server(const char *database)
{
    static const char *const schemes[] = {"redis://", "valkey://", "redis+unix://",
    "valkey+unix://", "unix://"};

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
	if (strncmp(database, schemes[i], strlen(schemes[i])) == 0)
	    return 1;
    return 0;
}

/* db_open - the database the settings name; 0 with why when a server's
 * URL is wrong */
struct tp_db *db_open(const struct db_settings *set, char *why, size_t len)
{
    if (db_is_server(set->database))
	return redis_open(set, why, len);
    return file_open(set->database);
}

/* db_shared - are the records other hosts' too (a server)? */
int     db_shared(const struct tp_db *db)
{
    return db->ops->shared;
}

void    db_free(struct tp_db *db)
{
    if (db != 0)
	db->ops->free(db);
}

const char *db_error(const struct tp_db *db)
{
    return db->error;
}

const char *db_path(const struct tp_db *db)
{
    return db->name;
}

/* db_set_lock_timeout - how long an operation waits for a file's lock */
void    db_set_lock_timeout(struct tp_db *db, int ms)
{
    db->lock_timeout_ms = ms;
}

/* db_walk_mapped - walks may hold the whole file in memory for a moment
 * (expire: faster); a hint a backend may ignore */
void    db_walk_mapped(struct tp_db *db)
{
    db->walk_mapped = 1;
}

/* db_longest_hold_ms - the longest this handle held an exclusive lock */
int64_t db_longest_hold_ms(const struct tp_db *db)
{
    return db->longest_hold_ms;
}

/* db_syncs - the syncs this handle's writes made itself (a write that
 * another's sync covered made none) */
int64_t db_syncs(const struct tp_db *db)
{
    return db->syncs;
}

int     db_get(struct tp_db *db, const char *key, struct tp_record *r)
{
    return db->ops->get(db, key, r);
}

/* db_release - hold no file or connection until the next operation */
void    db_release(struct tp_db *db)
{
    db->ops->release(db);
}

int     db_update_many(struct tp_db *db, char *const *keys, size_t n,
		               db_update_fn *fn, void *ctx)
{
    return db->ops->update_many(db, keys, n, fn, ctx);
}

int     db_update(struct tp_db *db, const char *key, db_update_fn *fn, void *ctx)
{
    char   *keys[1] = {(char *) key};

    return db->ops->update_many(db, keys, 1, fn, ctx);
}

int     db_update_stats(struct tp_db *db, void (*fn) (struct tp_stats *, void *),
			        void *ctx)
{
    return db->ops->update_stats(db, fn, ctx);
}

int     db_get_stats(struct tp_db *db, struct tp_stats *s)
{
    return db->ops->get_stats(db, s);
}

static int walk(struct tp_db *db, db_walk_fn *fn, void *ctx, int all)
{
    return db->ops->walk(db, fn, ctx, all);
}

int     db_walk(struct tp_db *db, db_walk_fn *fn, void *ctx)
{
    return walk(db, fn, ctx, 0);
}

int     db_walk_all(struct tp_db *db, db_walk_fn *fn, void *ctx)
{
    return walk(db, fn, ctx, 1);
}

int     db_check(struct tp_db *db, long *records)
{
    *records = 0;
    return db->ops->check(db, records);
}

int     db_about(struct tp_db *db, struct db_about *about)
{
    memset(about, 0, sizeof(*about));
    about->bytes = -1;
    about->keys = -1;
    return db->ops->about(db, about);
}

/* db_size - the file's size in bytes, or -1 (none, or a server) */
long long db_size(struct tp_db *db)
{
    struct db_about about;

    return db_about(db, &about) < 0 ? -1 : about.bytes;
}

void    db_doctor(struct tp_db *db, db_finding_fn *say, void *ctx)
{
    db->ops->doctor(db, say, ctx);
}

static enum db_change delete_fn(struct db_txn *t, void *ctx)
{
    *(int *) ctx = t->found;
    return DB_DELETE;
}

/* db_delete - remove a key; 1 removed, 0 absent, -1 error */
int     db_delete(struct tp_db *db, const char *key)
{
    int     found = 0;

    if (db_update(db, key, delete_fn, &found) < 0)
	return -1;
    return found;
}

/* What an operation a backend lacks answers: */

/* db_load - all or nothing where the backend can; one by one otherwise,
 * *done counting those written */
int     db_load(struct tp_db *db, char *const *keys, size_t n, db_update_fn *fn,
		        void *ctx, size_t *done)
{
    *done = 0;
    if (db->ops->load != 0) {
	if (db->ops->load(db, keys, n, fn, ctx) < 0)
	    return -1;
	*done = n;
	return 0;
    }
    for (; *done < n; (*done)++)
	if (db_update(db, keys[*done], fn, ctx) < 0)
	    return -1;
    return 0;
}

/* db_reorganize - give the space of deleted records back to the system;
 * a server manages its memory itself */
int     db_reorganize(struct tp_db *db)
{
    return db->ops->reorganize ? db->ops->reorganize(db) : 0;
}

/* db_save_counters - the counters' durable copy; a server's counters are
 * stored as they move */
int     db_save_counters(struct tp_db *db)
{
    return db->ops->save_counters ? db->ops->save_counters(db) : 0;
}

/* db_recover - rebuild a damaged store from what can still be read;
 * nothing of ours to rebuild where the backend has no file */
int     db_recover(struct tp_db *db, struct db_recovery *out)
{
    memset(out, 0, sizeof(*out));
    return db->ops->recover ? db->ops->recover(db, out) : 0;
}

/* db_resolves - a store that names no host (a file) asks no resolver */
int     db_resolves(struct tp_db *db)
{
    return db->ops->resolves ? db->ops->resolves(db) : 0;
}

/* db_tcp_port - a store without one (a file) connects to none */
int     db_tcp_port(struct tp_db *db)
{
    return db->ops->tcp_port ? db->ops->tcp_port(db) : 0;
}

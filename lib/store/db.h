#ifndef TARPIT_DB_H
#define TARPIT_DB_H

/*
 * db - the store: records by network key, behind a lock, in one file.
 * Callers speak in keys and records; nothing here knows of Postfix.
 */

#include "store/record.h"

#include <stddef.h>
#include <stdint.h>

#define DB_LOCK_TIMEOUT_MS 10000
#define DB_KEY_MAX 1024			/* a key, its NUL included */
#define DB_PATH_MAX 1024		/* a database's path or URL, and the like */

/* What the store needs of the settings: tarpit.conf's database lines,
 * and max_age for a server's time to live. */
struct db_settings {
    const char *database;		/* a GDBM file's path, or a server's URL */
    const char *prefix;			/* a server's keys start with it */
    const char *password_file;		/* a server's password, or "" */
    int64_t timeout_ms;			/* a server's connect and commands */
    int64_t max_age_s;			/* a server's keys live this long */
    const char *state_directory;	/* this host's files, with a server */
};

struct tp_db;
struct rdb;

enum db_change { DB_KEEP, DB_WRITE, DB_DELETE };

/* What an update sees under the exclusive lock: the key's record (zeroed
 * when !found), and the increments to the host-wide counters, from zero,
 * which the store adds (saved when stats_changed): counters only ever
 * move by increments, on every backend. */
struct db_txn {
    const char *key;			/* the record's */
    struct tp_record rec;
    int     found;
    struct tp_stats stats;
    int     stats_changed;
};

/* Says what to do with the record.  It may run more than once for one
 * update (a server's transaction is tried again when another host changed
 * the key meanwhile): it depends on its txn and ctx alone, and keeps no
 * state between runs. */
typedef enum db_change db_update_fn(struct db_txn *, void *ctx);

/* Called under the shared lock for each record; non-zero stops the walk. */
typedef int db_walk_fn(const char *key, const struct tp_record *, void *ctx);

struct db_recovery {
    int     needed;			/* GDBM said it needed recovery */
    long    recovered, failed, failed_buckets;
    char    backup[1100];		/* the damaged file, kept */
};

struct tp_db *db_new(const char *path);	/* out of memory is fatal */
struct tp_db *db_open(const struct db_settings *, char *why, size_t len);
int     db_shared(const struct tp_db *);
struct rdb *db_server(struct tp_db *);
void    db_free(struct tp_db *);
void    db_set_lock_timeout(struct tp_db *, int ms);
const char *db_error(const struct tp_db *);
const char *db_path(const struct tp_db *);
int     db_get(struct tp_db *, const char *key, struct tp_record *);
void    db_release(struct tp_db *);
int     db_update(struct tp_db *, const char *key, db_update_fn *, void *ctx);
int     db_update_many(struct tp_db *, char *const *keys, size_t n,
		               db_update_fn *, void *ctx);
int     db_reorganize(struct tp_db *);
int     db_load(struct tp_db *, char *const *keys, size_t n, db_update_fn *,
		        void *ctx, size_t *done);
int     db_recover(struct tp_db *, struct db_recovery *);
int     db_check(struct tp_db *, long *records);
int     db_update_stats(struct tp_db *, void (*fn) (struct tp_stats *, void *),
			        void *ctx);
int     db_save_counters(struct tp_db *);
long long db_size(struct tp_db *);
int64_t db_longest_hold_ms(const struct tp_db *);
int64_t db_syncs(const struct tp_db *);
int     db_delete(struct tp_db *, const char *key);
int     db_walk(struct tp_db *, db_walk_fn *, void *ctx);
int     db_walk_all(struct tp_db *, db_walk_fn *, void *ctx);
void    db_walk_mapped(struct tp_db *);
int     db_get_stats(struct tp_db *, struct tp_stats *);

#endif

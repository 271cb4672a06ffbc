#ifndef TARPIT_STORE_BACKEND_H
#define TARPIT_STORE_BACKEND_H

/*
 * backend - the table every store fills in, and the handle they share.
 * db.c opens a backend by the database setting and calls through its
 * table; each backend keeps its own handle with this one first in it
 * (file.c: a GDBM file, redis.c: a Valkey/Redis server), as Postfix's
 * dict_* types do.  The promises are db.h's, written once there; an
 * operation a backend has no use for is a null entry, and db.c alone
 * says what it then answers.  Only the store's own files include this.
 */

#include "store/db.h"

#include <stddef.h>
#include <stdint.h>

struct db_ops {
    const char *kind;			/* "GDBM file", "server": for messages */
    int     shared;			/* the records are other hosts' too */
    void    (*free) (struct tp_db *);
    int     (*get) (struct tp_db *, const char *key, struct tp_record *);
    void    (*release) (struct tp_db *);
    int     (*update_many) (struct tp_db *, char *const *keys, size_t n,
			            db_update_fn *, void *ctx);
    int     (*update_stats) (struct tp_db *, void (*fn) (struct tp_stats *, void *),
			             void *ctx);
    int     (*get_stats) (struct tp_db *, struct tp_stats *);
    int     (*walk) (struct tp_db *, db_walk_fn *, void *ctx, int all);
    int     (*check) (struct tp_db *, long *records);
    int     (*about) (struct tp_db *, struct db_about *);
    void    (*doctor) (struct tp_db *, db_finding_fn *, void *ctx);
    /* May be null: */
    int     (*load) (struct tp_db *, char *const *keys, size_t n, db_update_fn *,
		             void *ctx);
    int     (*reorganize) (struct tp_db *);
    int     (*save_counters) (struct tp_db *);
    int     (*recover) (struct tp_db *, struct db_recovery *);
    int     (*tcp_port) (struct tp_db *);
    int     (*resolves) (struct tp_db *);
};

struct tp_db {
    const struct db_ops *ops;
    const char *name;			/* the file's path or the server's URL */
    int     lock_timeout_ms;		/* how long a lock is waited for */
    int     walk_mapped;		/* db_walk_mapped(): a hint */
    int64_t longest_hold_ms;		/* the longest exclusive hold so far */
    int64_t syncs;			/* the syncs this handle's writes made */
    char    error[512];			/* why the last operation failed */
};

void    db_init(struct tp_db *, const struct db_ops *, const char *name);
void    db_set_error(struct tp_db *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The backends, each in its own file. */
struct tp_db *file_open(const char *path);
struct tp_db *redis_open(const struct db_settings *, char *why, size_t len);

#endif

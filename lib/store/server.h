#ifndef TARPIT_STORE_SERVER_H
#define TARPIT_STORE_SERVER_H

/* server - the records on a Valkey/Redis server (db.c's other store) */

#include "store/db.h"

#include <stddef.h>

struct tp_conf;
struct rdb;

int     rdb_is_url(const char *database);
struct rdb *rdb_new(const struct db_settings *, char *why, size_t len);
void    rdb_free(struct rdb *);
const char *rdb_error(const struct rdb *);
const char *rdb_url(const struct rdb *);
void    rdb_release(struct rdb *);
int     rdb_get(struct rdb *, const char *key, struct tp_record *);
int     rdb_update(struct rdb *, const char *key, db_update_fn *, void *ctx);
int     rdb_get_stats(struct rdb *, struct tp_stats *);
int     rdb_update_stats(struct rdb *, void (*fn) (struct tp_stats *, void *), void *ctx);
int     rdb_walk(struct rdb *, db_walk_fn *, void *ctx, int all);
long    rdb_count(struct rdb *);
int     rdb_describe(struct rdb *, char *buf, size_t len, long *keys);
int     rdb_eviction(struct rdb *, char *buf, size_t len);
int     rdb_ping(struct rdb *);

#endif

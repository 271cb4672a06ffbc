/* unit_db.h - the update functions the store's tests write with */
#ifndef TARPIT_UNIT_DB_H
#define TARPIT_UNIT_DB_H

#include "store/db.h"

#include <stdio.h>
#include <stdlib.h>

/* db_new - the GDBM file at path, opened as the programs open a store
 * (db_open); no file is touched yet */
static inline struct tp_db *db_new(const char *path)
{
    struct db_settings set = {.database = path, .prefix = "", .password_file = "",
	.state_directory = ""};
    char    why[300];
    struct tp_db *db = db_open(&set, why, sizeof(why));

    if (db == 0) {
	fprintf(stderr, "db_open %s: %s\n", path, why);
	exit(2);
    }
    return db;
}

/* bump - one more wait on the record, and in the counters */
static inline enum db_change bump(struct db_txn *t, void *ctx)
{
    (void) ctx;
    t->rec.tarpits++;
    t->stats.tarpits++;
    t->stats_changed = 1;
    return DB_WRITE;
}

/* keep - look, change nothing */
static inline enum db_change keep(struct db_txn *t, void *ctx)
{
    (void) t;
    (void) ctx;
    return DB_KEEP;
}

#endif

/* unit_db.h - the update functions the store's tests write with */
#ifndef TARPIT_UNIT_DB_H
#define TARPIT_UNIT_DB_H

#include "store/db.h"

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

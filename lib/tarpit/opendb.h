#ifndef TARPIT_TARPIT_OPENDB_H
#define TARPIT_TARPIT_OPENDB_H

/* opendb - the store a config names: its settings, its files, its safety */

#include "store/db.h"
#include "store/dbfile.h"
#include "tarpit/conf.h"

void    opendb_settings(const struct tp_conf *, struct db_settings *);
struct tp_db *opendb(const struct tp_conf *, char *why, size_t len);
/* A file of this host's that goes with the database, named here. */
enum host_file {
    HOST_DIR,				/* the directory it is in */
    HOST_SLOTS,				/* DATABASE.slots: max_waiting's slots */
    HOST_CURSOR,			/* DATABASE.journal-cursor: import-log's */
    HOST_LAST_GOOD,			/* DATABASE.conf-good: the helpers' */
};

const char *opendb_file(const struct tp_conf *, enum host_file, char *buf, size_t len);

#endif

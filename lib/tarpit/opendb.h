#ifndef TARPIT_TARPIT_OPENDB_H
#define TARPIT_TARPIT_OPENDB_H

/* opendb - the store a config names: its settings, its files, its safety */

#include "store/db.h"
#include "store/dbfile.h"
#include "tarpit/conf.h"

void    opendb_settings(const struct tp_conf *, struct db_settings *);
struct tp_db *opendb(const struct tp_conf *, char *why, size_t len);
const char *opendb_file(const struct tp_conf *, enum db_file, char *buf, size_t len);

#endif

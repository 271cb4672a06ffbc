#ifndef TARPIT_DBFILE_H
#define TARPIT_DBFILE_H

/* dbfile - the names of the store's files beside the database, and of a
 * file a layer above keeps beside it (named there) */

#include <stddef.h>

enum db_file {
    DB_FILE_LOCK,			/* DATABASE.lock: flock(2), change count */
    DB_FILE_DIR,			/* the directory the database is in */
    DB_FILE_REBUILD,			/* DATABASE.rebuild: reorganise's new file */
    DB_FILE_CHANGES,			/* DATABASE.changes: keys written meanwhile */
    DB_FILE_SNAPSHOT,			/* DATABASE.snapshot: what it copies from */
};

#define DB_FILE_MAX 1100		/* a database path (1024) and a suffix */

struct db_settings;

const char *db_file(const char *database, enum db_file, char *buf, size_t len);
const char *db_host_file(const struct db_settings *, enum db_file, char *buf,
			         size_t len);
const char *db_host_beside(const struct db_settings *, const char *suffix, char *buf,
			           size_t len);

#endif

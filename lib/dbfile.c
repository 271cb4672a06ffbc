/*
 * NAME
 *	dbfile - the files beside the database
 * DESCRIPTION
 *	db_file() names a file that belongs with the database: its lock file
 *	(DATABASE.lock), the slot file of max_waiting (DATABASE.slots),
 *	import-log's journal position (DATABASE.journal-cursor), the file a
 *	reorganise builds (DATABASE.rebuild) and the keys written while it
 *	does (DATABASE.changes), or its directory ("." for a bare name, "/"
 *	for a file in the root).  The store, the helpers, doctor and the
 *	config check all ask here.
 * DIAGNOSTICS
 *	Returns buf, or 0 when the name does not fit in len bytes.
 */
#define _GNU_SOURCE
#include "dbfile.h"
#include "conf.h"
#include "db_redis.h"

#include <stdio.h>
#include <string.h>

/* The suffix each file beside the database adds to its name. */
static const char *const suffix[] = {
    [DB_FILE_LOCK] = ".lock",
    [DB_FILE_SLOTS] = ".slots",
    [DB_FILE_CURSOR] = ".journal-cursor",
    [DB_FILE_REBUILD] = ".rebuild",
    [DB_FILE_CHANGES] = ".changes",
};

/* db_file - the name of one of the database's files */
const char *db_file(const char *database, enum db_file which, char *buf, size_t len)
{
    const char *slash;
    int     n;

    if (which == DB_FILE_DIR) {
	if ((slash = strrchr(database, '/')) == 0)
	    n = snprintf(buf, len, ".");
	else
	    n = snprintf(buf, len, "%.*s", slash == database ? 1 : (int) (slash - database),
			 database);
    } else if ((size_t) which < sizeof(suffix) / sizeof(suffix[0]) && suffix[which]) {
	n = snprintf(buf, len, "%s%s", database, suffix[which]);
    } else {
	return 0;
    }
    return n < 0 || (size_t) n >= len ? 0 : buf;
}

/* db_conf_file - a file of this host's that goes with the configured
 * database: beside the GDBM file, or with a server's URL in
 * state_directory, as if the database were state_directory/tarpit */
const char *db_conf_file(const struct tp_conf *c, enum db_file which, char *buf,
			         size_t len)
{
    char    base[DB_FILE_MAX];

    if (!rdb_is_url(c->database))
	return db_file(c->database, which, buf, len);
    if ((size_t) snprintf(base, sizeof(base), "%s/tarpit", c->state_directory) >= sizeof(base))
	return 0;
    return db_file(base, which, buf, len);
}

/*
 * NAME
 *	dbfile - the files beside the database
 * DESCRIPTION
 *	db_file() names a file of the store's that belongs with the database:
 *	its lock file (DATABASE.lock), the file a reorganise builds
 *	(DATABASE.rebuild), the keys written while it does
 *	(DATABASE.changes) and the copy it reads from where the file system
 *	has no unnamed files (DATABASE.snapshot), or its directory ("." for
 *	a bare name, "/" for a file in the root).  db_host_file() is the same
 *	for this host's copy of a server's (in state_directory), and
 *	db_host_beside() names a file of a layer above the store's (its
 *	suffix is that layer's: the helpers' slots, import-log's cursor)
 *	in the same place.
 * DIAGNOSTICS
 *	Returns buf, or 0 when the name does not fit in len bytes.
 */
#define _GNU_SOURCE
#include "store/dbfile.h"
#include "store/db.h"
#include "store/backend.h"

#include <string.h>

/* The suffix each file beside the database adds to its name. */
static const char *const suffix[] = {
    [DB_FILE_LOCK] = ".lock",
    [DB_FILE_REBUILD] = ".rebuild",
    [DB_FILE_CHANGES] = ".changes",
    [DB_FILE_SNAPSHOT] = ".snapshot",
};

/* join - a and the first blen bytes of b into buf; buf, or 0 when too long.
 * By hand rather than snprintf(): the helpers ask here before every wait,
 * and vfprintf's frame would be the deepest their stack ever goes. */
static const char *join(char *buf, size_t len, const char *a, size_t alen,
			        const char *b, size_t blen)
{
    if (alen + blen >= len)
	return 0;
    memcpy(buf, a, alen);
    memcpy(buf + alen, b, blen);
    buf[alen + blen] = 0;
    return buf;
}

/* beside - database with a suffix */
static const char *beside(const char *database, const char *sfx, char *buf, size_t len)
{
    return join(buf, len, database, strlen(database), sfx, strlen(sfx));
}

/* db_file - the name of one of the database's files */
const char *db_file(const char *database, enum db_file which, char *buf, size_t len)
{
    const char *slash;

    if (which == DB_FILE_DIR) {
	if ((slash = strrchr(database, '/')) == 0)
	    return join(buf, len, ".", 1, "", 0);
	return join(buf, len, database, slash == database ? 1 : (size_t) (slash - database), "", 0);
    }
    if ((size_t) which < sizeof(suffix) / sizeof(suffix[0]) && suffix[which])
	return beside(database, suffix[which], buf, len);
    return 0;
}

/* state_file - db_file() (or, with sfx, beside()) for a server's URL: in
 * state_directory, as if the database were state_directory/tarpit (a
 * frame of its own, so that the GDBM case does not carry its buffer) */
__attribute__((noinline))
static const char *state_file(const struct db_settings *set, enum db_file which,
			              const char *sfx, char *buf, size_t len)
{
    char    base[DB_FILE_MAX];
    static const char tail[] = "/tarpit";

    if (join(base, sizeof(base), set->state_directory, strlen(set->state_directory),
	     tail, sizeof(tail) - 1) == 0)
	return 0;
    return sfx ? beside(base, sfx, buf, len) : db_file(base, which, buf, len);
}

/* db_host_file - a file of this host's that goes with the database the
 * settings name: beside the GDBM file, or with a server's URL in
 * state_directory, as if the database were state_directory/tarpit */
const char *db_host_file(const struct db_settings *set, enum db_file which,
			         char *buf, size_t len)
{
    if (!db_is_server(set->database))
	return db_file(set->database, which, buf, len);
    return state_file(set, which, 0, buf, len);
}

/* db_host_beside - a layer's own file of this host's, DATABASE + suffix,
 * in the place db_host_file() gives the store's */
const char *db_host_beside(const struct db_settings *set, const char *sfx,
			           char *buf, size_t len)
{
    if (!db_is_server(set->database))
	return beside(set->database, sfx, buf, len);
    return state_file(set, DB_FILE_DIR, sfx, buf, len);
}

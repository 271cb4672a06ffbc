/*
 * NAME
 *	opendb - the store a config names
 * DESCRIPTION
 *	The store knows nothing of tarpit.conf: it takes the few settings it
 *	needs in a struct db_settings.  opendb_settings() fills that in from
 *	the config, opendb() opens the store with it, refusing a database
 *	directory any user could write (whoever could write there could swap
 *	the database or its lock file), and opendb_file() names a file of
 *	this host's that goes with it (the slots, the journal cursor).
 */
#define _GNU_SOURCE
#include "tarpit/opendb.h"

#include <stdio.h>
#include <sys/stat.h>

/* opendb_settings - what the store needs of the config */
void    opendb_settings(const struct tp_conf *c, struct db_settings *s)
{
    s->database = c->database;
    s->prefix = c->database_prefix;
    s->password_file = c->database_password_file;
    s->timeout_ms = c->database_timeout_ms;
    s->max_age_s = c->max_age_ms / 1000;
    s->state_directory = c->state_directory;
}

/* opendb_file - a file of this host's that goes with the database: its
 * directory, or one the layers above the store keep beside it */
const char *opendb_file(const struct tp_conf *c, enum host_file which, char *buf,
			        size_t len)
{
    struct db_settings s;

    opendb_settings(c, &s);
    switch (which) {
    case HOST_SLOTS:
	return db_host_beside(&s, ".slots", buf, len);
    case HOST_CURSOR:
	return db_host_beside(&s, ".journal-cursor", buf, len);
    case HOST_LAST_GOOD:
	return db_host_beside(&s, ".conf-good", buf, len);
    case HOST_DIR:
	break;
    }
    return db_host_file(&s, DB_FILE_DIR, buf, len);
}

/* opendb - the store the config names; 0 with why when its directory is
 * any user's to write, or when it cannot be opened */
struct tp_db *opendb(const struct tp_conf *c, char *why, size_t len)
{
    struct db_settings s;
    struct stat st;
    char    dir[DB_FILE_MAX];

    opendb_settings(c, &s);
    if (db_host_file(&s, DB_FILE_DIR, dir, sizeof(dir)) != 0
	&& stat(dir, &st) == 0 && (st.st_mode & S_IWOTH)) {
	snprintf(why, len, "the database directory %s is writable by any user: "
		 "refusing it (use a directory of its own, like /var/lib/tarpit)", dir);
	return 0;
    }
    return db_open(&s, why, len);
}

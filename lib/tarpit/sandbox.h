#ifndef TARPIT_SANDBOX_H
#define TARPIT_SANDBOX_H

/*
 * sandbox - what a policy helper may reach once it has read its config:
 * the system's files and its config to read, the database's directory to
 * write, the server's TCP port if any; util/confine.h makes it so.
 */

#include "tarpit/conf.h"
#include "store/db.h"
#include "util/confine.h"

#include <stdint.h>

struct sandbox {
    char    conf_dir[CONF_PATH_MAX];	/* the config file's directory */
    char    password_file[CONF_PATH_MAX];
    char    db_dir[CONF_PATH_MAX];	/* written: the database, or a server's */
					/* state_directory */
    char    proc[40];			/* /proc/PID: its own */
    int     tcp_port;			/* a server's, over TCP; or 0 */
    int     by_name;			/* ... named by host name: the resolver */
    int     unix_server;		/* a server on a UNIX socket */
    int     netlink_diag;		/* watches the SMTP client */
};

/* sandbox_plan - what the helper with config c (read from conf_file) and
 * store db needs; 0, or -1 with why */
int     sandbox_plan(struct sandbox *, const struct tp_conf *c, struct tp_db *db,
		             const char *conf_file, int watches, char *why, size_t len);

/* sandbox_walls - what of the plan a config change could move (the
 * database's directory, the password file, the server's port and how it
 * is reached), as one number: a helper keeps this, not the whole plan */
uint64_t sandbox_walls(const struct sandbox *);

/* sandbox_enter - shut the process in (util/confine.h) */
enum confine_result sandbox_enter(const struct sandbox *, char *why, size_t len);

#endif

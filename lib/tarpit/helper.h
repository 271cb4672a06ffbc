#ifndef TARPIT_HELPER_H
#define TARPIT_HELPER_H

/* helper - what tarpit-check and tarpit-store share: one policy connection */

#include "tarpit/conf.h"
#include "store/db.h"
#include "proto/policy.h"
#include "proto/request.h"
#include "tarpit/ledger.h"
#include "tarpit/sandbox.h"

#include <sys/stat.h>

/* How a wait is made: wait_for_client()'s shape. */
typedef int wait_fn(int policy_fd, int64_t ms, const struct request *, int watch,
		            int stop_on_talk, struct wait_outcome *, char *why, size_t whylen);

struct helper {
    const char *progname;
    struct tp_conf conf;
    int     conf_ok;			/* 0: answer DUNNO to everything */
    char    conf_error[600];
    const char *conf_file;		/* where the settings were read */
    int     conf_named;			/* ... a file the user named */
    struct stat conf_stat;		/* ... its state then */
    int64_t conf_checked;		/* when it was last looked at (ms) */
    struct tp_db *db;
    wait_fn *wait;			/* wait_for_client(); a test's own */
    int     watches;			/* HELPER_WATCHES: tarpit-check's */
    int     confined;			/* shut in by sandbox (sandbox.h) */
    uint64_t walls;			/* ... with these (sandbox_walls) */
    /* The SMTP session this process last made wait, and its answer: one
     * session waits once, however many recipients it has. */
    char    waited_session[REQUEST_SESSION_MAX];
    char    session_action[CONF_ACTION_MAX];
    /* What this process has logged once already. */
    int     watch_noted;
    char    spread_key[LEDGER_NET_KEY_MAX];	/* a new /64's /48 (helper_lookup) */
    char    unknown_context[64];
    int     psl_noted;			/* libpsl could not be loaded */
    char    db_trouble[160];		/* the database error said last */
    int64_t db_trouble_at;		/* when (monotonic ms) */
    long    db_trouble_quiet;		/* lines not repeated since */
    struct policy_conn conn;		/* last: its buffer is touched lazily */
};

enum helper_next { HELPER_REPLY, HELPER_CLOSE };

/* Handle one well-formed request: fill action, or say the connection is
 * over (its peer is gone). */
typedef enum helper_next helper_fn(struct helper *, const struct request *,
				           char *action, size_t len);

void    helper_db_warn(struct helper *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* helper_main's flags: the helper watches the SMTP client (netlink). */
#define HELPER_WATCHES 1

int     helper_main(int argc, char **argv, const char *progname, int flags,
		            helper_fn *);
const char *helper_client_key(struct helper *, const struct tp_conf *,
			              const struct request *, char *key, size_t len);
int     helper_get(struct helper *, const char *key, struct tp_record *);
/* What helper_lookup() found: a record (1) or none (0), as helper_get()
 * says; or, below 0, why there is no answer. */
enum helper_lookup {
    LOOKUP_NO_KEY = -2,			/* no usable client_address (logged) */
    LOOKUP_DB_ERROR = -1,		/* the store failed: db_error() */
    LOOKUP_NEW = 0,
    LOOKUP_FOUND = 1,
};

enum helper_lookup helper_lookup(struct helper *, const struct tp_conf *,
			                 const struct request *, char *key, size_t len,
			                 struct tp_record *);
int     helper_take_spread(struct helper *, const struct tp_conf *, char *key, size_t len,
			           struct tp_record *, int found);
int     helper_domain(struct helper *, const struct tp_conf *, const struct request *,
		              char *domain, size_t len);
const struct tp_conf *helper_profile(struct helper *, const struct request *);
int     helper_take_slot(struct helper *, const char *client, const char *key);

#endif

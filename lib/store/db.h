#ifndef TARPIT_DB_H
#define TARPIT_DB_H

/*
 * db - the store: records by network key, in a GDBM file or on a
 * Valkey/Redis server that several hosts share.  Callers speak in keys
 * and records; nothing here knows of Postfix.
 */

#include "store/key.h"
#include "store/record.h"

#include <stddef.h>
#include <stdint.h>

#define DB_LOCK_TIMEOUT_MS 10000
#define DB_KEY_MAX 1024			/* a key, its NUL included */
#define DB_PATH_MAX 1024		/* a database's path or URL, and the like */

/* What the store needs of the settings: tarpit.conf's database lines,
 * and max_age for a server's time to live. */
struct db_settings {
    const char *database;		/* a GDBM file's path, or a server's URL */
    const char *prefix;			/* a server's keys start with it */
    const char *password_file;		/* a server's password, or "" */
    int64_t timeout_ms;			/* a server's connect and commands */
    int64_t max_age_s;			/* a server's keys live this long */
    const char *state_directory;	/* this host's files, with a server */
};

struct tp_db;

enum db_change { DB_KEEP, DB_WRITE, DB_DELETE };

/* What an update sees under the exclusive lock: the key's record (zeroed
 * when !found), and the increments to the host-wide counters, from zero,
 * which the store adds (saved when stats_changed): counters only ever
 * move by increments, on every backend. */
struct db_txn {
    const char *key;			/* the record's */
    struct tp_record rec;
    int     found;
    struct tp_stats stats;
    int     stats_changed;
};

/* Says what to do with the record.  It may run more than once for one
 * update (a server's transaction is tried again when another host changed
 * the key meanwhile): it depends on its txn and ctx alone, and keeps no
 * state between runs. */
typedef enum db_change db_update_fn(struct db_txn *, void *ctx);

/* Called for each record a walk shows; non-zero stops the walk. */
typedef int db_walk_fn(const char *key, const struct tp_record *, void *ctx);

struct db_recovery {
    int     needed;			/* GDBM said it needed recovery */
    long    recovered;			/* the records the file holds now */
    long    failed;			/* the records lost */
    long    failed_buckets;		/* GDBM's buckets it could not read */
    int     counted;			/* failed counts every record lost, */
					/* not only those GDBM saw */
    char    backup[1100];		/* the damaged file, kept */
};

/* What db_about() tells of the store, for report and info. */
struct db_about {
    long long bytes;			/* the file's size, or -1 */
    long    keys;			/* a server's keys under the prefix, or -1 */
    char    server[200];		/* a server's product, version, memory; or "" */
};

/* What doctor hears of the store's own checks: fix is 0 for a good
 * finding, else what to do about the problem that text describes. */
typedef void db_finding_fn(void *ctx, const char *fix, const char *text);

/*
 * The contract, the same on every backend (backend.h has the table;
 * tests/unit/contract_test.c holds every backend to it):
 *
 * db_open() picks the backend by the database setting: a server's URL
 *	(redis://, valkey://, redis+unix://) or a GDBM file's path.  No
 *	file or connection is touched until the first operation.
 * db_get() reads one record: 1 found, 0 not, -1 error.
 * db_update() reads the record, lets fn decide, and writes or deletes it
 *	atomically: no other update of the key comes in between.  fn may run
 *	more than once (see db_update_fn).  The counters in txn.stats are
 *	increments, added to the host-wide counters once the record is
 *	written.  Returns fn's final db_change, or -1.
 * db_update_many() is db_update() for each key in turn; each key's
 *	update is atomic, the whole not (one GDBM lock holds them all, a
 *	server takes them one by one); the last key's change, or -1 at the
 *	first failure.
 * db_update_stats() adds fn's increments (from zero) to the counters.
 * db_walk() shows every network's record; db_walk_all() also the other
 *	'@' keys (greylist entries, which the ledger writes); neither shows
 *	the store's own (its counters).  The count of records shown, or -1.
 * db_load() is db_update_many() where the store can make it all or
 *	nothing (a GDBM file is rebuilt with the updates and renamed into
 *	place); a server takes them one by one and *done says how many.
 * db_check() counts the records and says whether the store is sound.
 * Operations a backend has no use for answer as done: db_reorganize()
 *	(a server manages its memory), db_save_counters() (a server's
 *	counters are stored as they move), db_recover() (nothing of ours to
 *	rebuild on a server: zero counts).  db_size() is -1 where there is
 *	no file.
 * db_is_server() says whether a database setting is a server's URL (the
 *	one test of it); anything else is a GDBM file.
 * db_tcp_port() is the TCP port the store connects to: a server's over
 *	TCP; 0 for a file or a server's UNIX socket.  db_resolves() says
 *	whether that server is named by host name (so connecting asks the
 *	resolver), not by address.
 * Every failure leaves db_error() saying why in one line that names the
 *	file or server.
 */
struct tp_db *db_open(const struct db_settings *, char *why, size_t len);
int     db_shared(const struct tp_db *);
int     db_is_server(const char *database);
void    db_free(struct tp_db *);
void    db_set_lock_timeout(struct tp_db *, int ms);
const char *db_error(const struct tp_db *);
const char *db_path(const struct tp_db *);
int     db_get(struct tp_db *, const char *key, struct tp_record *);
void    db_release(struct tp_db *);
int     db_update(struct tp_db *, const char *key, db_update_fn *, void *ctx);
int     db_update_many(struct tp_db *, char *const *keys, size_t n,
		               db_update_fn *, void *ctx);
int     db_reorganize(struct tp_db *);
int     db_load(struct tp_db *, char *const *keys, size_t n, db_update_fn *,
		        void *ctx, size_t *done);
int     db_recover(struct tp_db *, struct db_recovery *);
int     db_check(struct tp_db *, long *records);
int     db_update_stats(struct tp_db *, void (*fn) (struct tp_stats *, void *),
			        void *ctx);
int     db_save_counters(struct tp_db *);
long long db_size(struct tp_db *);
int     db_about(struct tp_db *, struct db_about *);
void    db_doctor(struct tp_db *, db_finding_fn *, void *ctx);
int64_t db_longest_hold_ms(const struct tp_db *);
int64_t db_syncs(const struct tp_db *);
int     db_delete(struct tp_db *, const char *key);
int     db_walk(struct tp_db *, db_walk_fn *, void *ctx);
int     db_walk_all(struct tp_db *, db_walk_fn *, void *ctx);
void    db_walk_mapped(struct tp_db *);
int     db_get_stats(struct tp_db *, struct tp_stats *);
int     db_tcp_port(struct tp_db *);
int     db_resolves(struct tp_db *);

#endif

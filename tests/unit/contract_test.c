/*
 * contract_test - db.h's contract, the same table of checks run against
 * both backends: a GDBM file, and a redis-server this test starts on a
 * UNIX socket of its own (and stops by its process id).  Reads and
 * writes, update_many, delete, counters as increments, which keys a walk
 * shows, load, check, the operations a backend has no use for, and an
 * update that another writer races: no update is lost, and on the server
 * the update function runs again (a forced WATCH conflict).
 */
#define _GNU_SOURCE
#include "store/db.h"
#include "unit.h"
#include "unit_db.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t server_pid;

static void stop_server(void)
{
    if (server_pid > 0) {
	kill(server_pid, SIGKILL);
	waitpid(server_pid, 0, 0);
	server_pid = 0;
    }
}

/* start_server - redis-server on dir/redis.sock, no port, no disk */
static void start_server(const char *dir, const char *sock)
{
    char    log[300];

    snprintf(log, sizeof(log), "%s/redis.log", dir);
    server_pid = fork();
    SETUP(server_pid >= 0, "fork: %s", strerror(errno));
    if (server_pid == 0) {
	if (freopen(log, "w", stdout) == 0 || dup2(1, 2) < 0)
	    _exit(126);
	execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
	       "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
	       "--dir", dir, (char *) 0);
	_exit(127);
    }
    atexit(stop_server);
    for (int i = 0; i < 200; i++) {
	struct stat st;

	if (stat(sock, &st) == 0)
	    return;
	usleep(25000);
    }
    SETUP(0, "redis-server did not start (see %s)", log);
}

static void add_escape(struct tp_stats *s, void *ctx)
{
    (void) ctx;
    s->escapes += 2;
}

struct shown {
    int     networks, reserved, counters;
};

static int show(const char *key, const struct tp_record *r, void *ctx)
{
    struct shown *s = ctx;

    (void) r;
    if (strcmp(key, KEY_STATS) == 0)
	s->counters++;
    else if (key[0] == '@')
	s->reserved++;
    else
	s->networks++;
    return 0;
}

/* The race: the update function, on its first run, lets another process
 * update the same key and waits until it has (where the store holds a
 * lock the other one waits for us instead: then 300 ms, and on). */
struct race {
    const char *key;
    int     runs;
    int     wait_ms;
    int     go, done;			/* pipes to and from the other writer */
};

static enum db_change racing_bump(struct db_txn *t, void *ctx)
{
    struct race *r = ctx;
    char    c = 'g';
    struct pollfd p = {r->done, POLLIN, 0};

    if (r->runs++ == 0 && write(r->go, &c, 1) == 1)
	(void) poll(&p, 1, r->wait_ms);
    return bump(t, 0);
}

static void race(struct tp_db *db, const struct db_settings *set, const char *name)
{
    struct race r = {"198.18.0.0/24", 0, db_shared(db) ? 30000 : 300, -1, -1};
    int     go[2], done[2], status;
    struct tp_record rec;
    pid_t   other;

    SETUP(pipe(go) == 0 && pipe(done) == 0, "pipes");
    other = fork();
    SETUP(other >= 0, "fork");
    if (other == 0) {
	char    why[200], c;
	struct tp_db *mine;
	int     rc;

	if (read(go[0], &c, 1) != 1
	    || (mine = db_open(set, why, sizeof(why))) == 0)
	    _exit(1);
	rc = db_update(mine, r.key, bump, 0) == DB_WRITE ? 0 : 1;
	db_free(mine);
	c = 'd';
	_exit(write(done[1], &c, 1) == 1 ? rc : 1);
    }
    r.go = go[1];
    r.done = done[0];
    EXPECT(db_update(db, r.key, racing_bump, &r) == DB_WRITE, "%s: the racing update: %s",
	   name, db_error(db));
    SETUP(waitpid(other, &status, 0) == other, "wait");
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the other writer", name);
    EXPECT(db_get(db, r.key, &rec) == 1 && rec.tarpits == 2,
	   "%s: both updates kept: %lld of 2", name, (long long) rec.tarpits);
    if (db_shared(db))
	EXPECT(r.runs >= 2, "%s: the update ran again after the conflict: %d runs",
	       name, r.runs);
    else
	EXPECT(r.runs == 1, "%s: under the lock the other waited: %d runs", name, r.runs);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
}

/* contract - the same checks for every backend */
static void contract(const struct db_settings *set, const char *name)
{
    char    why[200];
    struct tp_db *db = db_open(set, why, sizeof(why));
    struct tp_record r;
    struct tp_stats before, after;
    struct shown s;
    struct db_about about;
    struct db_recovery rv;
    char   *three[3] = {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"};
    char   *many[100];
    char    names[100][32];
    size_t  done = 0;
    long    records;

    SETUP(db != 0, "%s: open: %s", name, why);
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 0, "%s: absent: %s", name, db_error(db));
    EXPECT(db_update(db, "192.0.2.0/24", keep, 0) == DB_KEEP, "%s: keep", name);
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 0, "%s: keep writes nothing", name);
    EXPECT(db_get_stats(db, &before) == 0, "%s: counters: %s", name, db_error(db));

    /* update, update_many: the last key's change; each key written */
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s: write", name);
    EXPECT(db_update_many(db, three, 3, bump, 0) == DB_WRITE, "%s: update_many", name);
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 1 && r.tarpits == 2, "%s: read back", name);
    EXPECT(db_get(db, "203.0.113.0/24", &r) == 1 && r.tarpits == 1, "%s: the last key", name);

    /* counters: the increments of every update, and update_stats' */
    EXPECT(db_update_stats(db, add_escape, 0) == 0, "%s: update_stats", name);
    EXPECT(db_get_stats(db, &after) == 0 && after.tarpits - before.tarpits == 4
	   && after.escapes - before.escapes == 2, "%s: counters moved by "
	   "increments: tarpits +%lld of 4, escapes +%lld of 2", name,
	   (long long) (after.tarpits - before.tarpits),
	   (long long) (after.escapes - before.escapes));

    /* delete */
    EXPECT(db_delete(db, "198.51.100.0/24") == 1, "%s: delete", name);
    EXPECT(db_delete(db, "198.51.100.0/24") == 0, "%s: delete again", name);

    /* walks: the networks; with all, '@' keys too; never the counters */
    EXPECT(db_update(db, "@grey 192.0.2.0/24 #0123", bump, 0) == DB_WRITE, "%s: '@' key", name);
    memset(&s, 0, sizeof(s));
    EXPECT(db_walk(db, show, &s) == 2 && s.networks == 2 && s.reserved == 0
	   && s.counters == 0, "%s: walk: %d networks, %d '@', %d counters", name,
	   s.networks, s.reserved, s.counters);
    memset(&s, 0, sizeof(s));
    EXPECT(db_walk_all(db, show, &s) == 3 && s.networks == 2 && s.reserved == 1
	   && s.counters == 0, "%s: walk_all: %d networks, %d '@', %d counters", name,
	   s.networks, s.reserved, s.counters);

    /* load: all of them, *done says so */
    for (int i = 0; i < 100; i++) {
	snprintf(names[i], sizeof(names[i]), "10.%d.%d.0/24", i / 10, i % 10);
	many[i] = names[i];
    }
    EXPECT(db_load(db, many, 100, bump, 0, &done) == 0 && done == 100, "%s: load: %zu, %s",
	   name, done, db_error(db));
    EXPECT(db_get(db, "10.9.9.0/24", &r) == 1 && r.tarpits == 1, "%s: loaded", name);

    /* check counts every record, '@' keys included */
    EXPECT(db_check(db, &records) == 0 && records == 103, "%s: check: %ld of 103: %s",
	   name, records, db_error(db));

    /* what a backend has no use for answers as done */
    EXPECT(db_reorganize(db) == 0, "%s: reorganize: %s", name, db_error(db));
    EXPECT(db_save_counters(db) == 0, "%s: save_counters: %s", name, db_error(db));
    EXPECT(db_get(db, "10.9.9.0/24", &r) == 1, "%s: after reorganize", name);
    EXPECT(db_about(db, &about) == 0, "%s: about: %s", name, db_error(db));
    if (db_shared(db)) {
	EXPECT(db_recover(db, &rv) == 0 && rv.recovered == 0 && rv.failed == 0,
	       "%s: recover: nothing to rebuild", name);
	EXPECT(about.bytes == -1 && about.keys == 103 && about.server[0] != 0
	       && db_size(db) == -1, "%s: about: %lld bytes, %ld keys, \"%s\"", name,
	       about.bytes, about.keys, about.server);
    } else
	EXPECT(about.bytes > 0 && about.keys == -1 && about.server[0] == 0
	       && db_size(db) == about.bytes, "%s: about: %lld bytes, %ld keys", name,
	       about.bytes, about.keys);

    race(db, set, name);

    /* every failure says why, naming the file or server */
    db_release(db);
    db_free(db);
}

int     main(void)
{
    char    dir[] = "/tmp/contract_test.XXXXXX";
    char    path[300], sock[300], url[320], cmd[340];

    SETUP(mkdtemp(dir) != 0, "mkdtemp");
    snprintf(path, sizeof(path), "%s/t.db", dir);
    snprintf(sock, sizeof(sock), "%s/redis.sock", dir);
    snprintf(url, sizeof(url), "redis+unix://%s?db=0", sock);
    start_server(dir, sock);

    struct db_settings file = {path, "", "", 2000, 86400, dir};
    struct db_settings server = {url, "contract:", "", 2000, 86400, dir};

    contract(&file, "GDBM file");
    contract(&server, "server");

    /* A server that is not there: an error that names it. */
    stop_server();
    {
	char    why[200];
	struct tp_db *db = db_open(&server, why, sizeof(why));
	struct tp_record r;

	SETUP(db != 0, "open: %s", why);
	EXPECT(db_get(db, "192.0.2.0/24", &r) < 0 && strstr(db_error(db), sock) != 0,
	       "server gone: %s", db_error(db));
	db_free(db);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    SETUP(system(cmd) == 0, "cleanup");
    return unit_done("contract");
}

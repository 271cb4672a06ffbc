/*
 * db_test - the store: get/update/delete/walk, a missing file, damage, and
 * the lock: concurrent writers lose nothing, a held lock times out; a
 * reorganise while writers write, and one without O_TMPFILE and
 * copy_file_range(); writers that share one sync; a lock file shorter
 * than a page.
 */
#define _GNU_SOURCE
#include "util/clock.h"
#include "store/db.h"
#include "store/file.h"			/* the lock file's layout */
#include "unit.h"
#include "unit_db.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <endian.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void) sig;
    alarms++;
}

static int count_walk(const char *key, const struct tp_record *r, void *ctx)
{
    (void) r;
    EXPECT(key[0] != '@', "reserved key shown: %s", key);
    (*(int *) ctx)++;
    return 0;
}

/* tally - a walk that only counts (db_walk() returns how many) */
static int tally(const char *key, const struct tp_record *r, void *ctx)
{
    (void) key;
    (void) r;
    (void) ctx;
    return 0;
}

/* count_change - what a writer does first: bump the lock file's count */
static int count_change(int fd)
{
    unsigned char b[8] = {0};
    uint64_t gen = 0;

    if (pread(fd, b, sizeof(b), 0) < 0)
	return -1;
    for (int i = 0; i < 8; i++)
	gen = gen << 8 | b[i];
    gen++;
    for (int i = 7; i >= 0; i--, gen >>= 8)
	b[i] = (unsigned char) gen;
    return pwrite(fd, b, sizeof(b), 0) == (ssize_t) sizeof(b) ? 0 : -1;
}

/* lock_word - a word of the lock file, or 0 */
static uint64_t lock_word(const char *lock_path, off_t at)
{
    unsigned char b[8] = {0};
    uint64_t v = 0;
    int     fd = open(lock_path, O_RDONLY);

    if (fd >= 0) {
	if (pread(fd, b, sizeof(b), at) != (ssize_t) sizeof(b))
	    memset(b, 0, sizeof(b));
	close(fd);
    }
    for (int i = 0; i < 8; i++)
	v = v << 8 | b[i];
    return v;
}

/* short_lock_file - a lock file shorter than a page (as older versions
 * left it): readers read its words with pread(), and a writer grows it to
 * a page, to map it, keeping the count it holds */
static void short_lock_file(const char *dir)
{
    char    path[300], lock_path[320];
    unsigned char count7[8] = {0, 0, 0, 0, 0, 0, 0, 7};
    struct tp_db *writer, *reader;
    struct tp_record r;
    struct stat st;
    int     fd;

    snprintf(path, sizeof(path), "%s/short.db", dir);
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    writer = db_new(path);
    EXPECT(db_update(writer, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(writer));
    db_free(writer);
    fd = open(lock_path, O_WRONLY);
    SETUP(fd >= 0 && ftruncate(fd, 8 * WORD_MAGIC) == 0
	  && pwrite(fd, count7, sizeof(count7), 0) == (ssize_t) sizeof(count7)
	  && close(fd) == 0, "a lock file of the first layout's three words, count 7");
    reader = db_new(path);
    for (int i = 0; i < 3; i++)
	EXPECT(db_get(reader, "192.0.2.0/24", &r) == 1 && r.tarpits == 1,
	       "read %d from a short lock file: %s", i, db_error(reader));
    writer = db_new(path);
    EXPECT(db_update(writer, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(writer));
    EXPECT(stat(lock_path, &st) == 0 && st.st_size == sysconf(_SC_PAGESIZE),
	   "the writer grew the lock file to a page: %lld bytes", (long long) st.st_size);
    EXPECT(lock_word(lock_path, 8 * WORD_COUNT) == 8, "the count went on from 7: %llu",
	   (unsigned long long) lock_word(lock_path, 8 * WORD_COUNT));
    EXPECT(db_get(reader, "192.0.2.0/24", &r) == 1 && r.tarpits == 2,
	   "the reader sees the write: %lld", (long long) r.tarpits);
    EXPECT(db_update(writer, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(writer));
    EXPECT(db_get(reader, "192.0.2.0/24", &r) == 1 && r.tarpits == 3
	   && db_get(reader, "192.0.2.0/24", &r) == 1 && r.tarpits == 3,
	   "and the next, mapped: %lld", (long long) r.tarpits);
    EXPECT(lock_word(lock_path, 8 * WORD_COUNT) == 9, "counted: %llu",
	   (unsigned long long) lock_word(lock_path, 8 * WORD_COUNT));
    db_free(reader);
    db_free(writer);
}

/* refuse_fast_paths - from here on, in this process, an open() with
 * O_TMPFILE fails with EOPNOTSUPP and copy_file_range() with ENOSYS, as
 * on file systems and kernels without them (a seccomp filter: the
 * reorganise's fallbacks run on any machine); 0 or -1 */
static int refuse_fast_paths(void)
{
    unsigned tmpfile = O_TMPFILE & ~O_DIRECTORY;
    struct sock_filter f[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_copy_file_range, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 3),
	/* openat's flags: the low half of its third argument */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])
		 + (BYTE_ORDER == BIG_ENDIAN ? 4 : 0)),
	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, tmpfile, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {(unsigned short) (sizeof(f) / sizeof(f[0])), f};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
	return -1;
    return (int) syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

/* reorganise_without_fast_paths - where there are no files without a
 * name and no copy_file_range(), the snapshot is a named file, removed at
 * once, copied by hand: the reorganise keeps every record and leaves no
 * file behind */
static void reorganise_without_fast_paths(const char *dir)
{
    char    path[300], snap[320], key[48];
    struct tp_db *db;
    struct tp_record r;
    struct stat before, after;
    int     status, n;
    pid_t   pid;

    snprintf(path, sizeof(path), "%s/plain.db", dir);
    snprintf(snap, sizeof(snap), "%s.snapshot", path);
    db = db_new(path);
    for (int i = 0; i < 300; i++) {	/* 300 networks, then half gone */
	snprintf(key, sizeof(key), "10.3.%d.0/24", i);
	SETUP(db_update(db, key, bump, 0) == DB_WRITE, "%s", db_error(db));
	SETUP(i % 2 == 1 || db_delete(db, key) == 1, "delete %s: %s", key, db_error(db));
    }
    db_free(db);
    SETUP(stat(path, &before) == 0, "stat %s", path);
    SETUP((pid = fork()) >= 0, "fork");
    if (pid == 0) {
	int     fd;

	if (refuse_fast_paths() < 0)
	    _exit(2);
	fd = open(dir, O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0 || errno != EOPNOTSUPP)
	    _exit(3);
	if (copy_file_range(0, 0, 1, 0, 1, 0) >= 0 || errno != ENOSYS)
	    _exit(4);
	db = db_new(path);
	if (db_reorganize(db) < 0) {
	    fprintf(stderr, "reorganise without fast paths: %s\n", db_error(db));
	    _exit(5);
	}
	db_free(db);
	_exit(0);
    }
    SETUP(waitpid(pid, &status, 0) == pid, "wait");
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "reorganise without O_TMPFILE or copy_file_range: exit %d (2 no "
	   "filter, 3 and 4 the filter not refusing, 5 the reorganise)",
	   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    EXPECT(stat(path, &after) == 0 && after.st_ino != before.st_ino,
	   "the file was replaced");
    EXPECT(stat(snap, &after) < 0 && errno == ENOENT, "no %s left behind", snap);
    db = db_new(path);
    EXPECT((n = db_walk(db, tally, 0)) == 150, "records kept: %d of 150", n);
    EXPECT(db_get(db, "10.3.299.0/24", &r) == 1 && r.tarpits == 1
	   && db_get(db, "10.3.298.0/24", &r) == 0, "kept and deleted as they were");
    db_free(db);
}

/* Readers racing writers: every write sets tarpits = escapes = n for its
 * key and only ever raises n, and adds new keys so that buckets split
 * under the readers.  A reader must never see a record torn, damaged or
 * older than one it saw before. */
#define RACE_KEYS 64
#define RACE_WRITES 1000

static enum db_change race_write(struct db_txn *t, void *ctx)
{
    (void) ctx;
    t->rec.tarpits++;
    t->rec.escapes = t->rec.tarpits;
    return DB_WRITE;
}

/* race_reader - reads until the writers are done (done_fd at its end) */
static int race_reader(const char *path, int done_fd)
{
    struct tp_db *db = db_new(path);
    int64_t seen[RACE_KEYS] = {0};
    int64_t until = monotonic_ms() + 60000;
    int     bad = 0;
    long    reads = 0;

    for (int i = 0; !bad; i++) {
	/* Until the writers are done, and never fewer than 1000 reads
	 * (the writers may be quick), bounded in time. */
	if (i % 256 == 0 && reads >= 1000) {
	    struct pollfd p = {done_fd, POLLIN, 0};

	    if (poll(&p, 1, 0) != 0)
		break;
	}
	if (monotonic_ms() > until)
	    break;
	char    key[48];
	struct tp_record r;
	int     k = i % RACE_KEYS, rc;

	snprintf(key, sizeof(key), "10.0.%d.0/24", k);
	rc = db_get(db, key, &r);
	if (rc < 0 || (rc == 1 && (r.tarpits != r.escapes || r.tarpits < seen[k]))) {
	    fprintf(stderr, "race: %s: rc %d tarpits %lld escapes %lld seen %lld: %s\n",
		    key, rc, (long long) r.tarpits, (long long) r.escapes,
		    (long long) seen[k], db_error(db));
	    bad = 1;
	}
	if (rc == 1)
	    seen[k] = r.tarpits;
	reads++;
    }
    db_free(db);
    if (reads < 1000) {
	fprintf(stderr, "race: only %ld reads\n", reads);
	bad = 1;
    }
    return bad;
}

static int race_writer(const char *path, int id)
{
    struct tp_db *db = db_new(path);
    int     bad = 0;

    for (int i = 0; i < RACE_WRITES && !bad; i++) {
	char    key[48];

	if (i % 3 == 0)			/* a new key: the file grows */
	    snprintf(key, sizeof(key), "172.%d.%d.0/24", 16 + id, i);
	else
	    snprintf(key, sizeof(key), "10.0.%d.0/24", (i * 7 + id) % RACE_KEYS);
	bad = db_update(db, key, race_write, 0) < 0;
    }
    db_free(db);
    return bad;
}

/* Reorganise while writers write: the copy is made under the shared
 * lock, the writes that come before the swap are replayed into it. */
#define REORG_KEYS 32
#define REORG_WRITES 400

static int reorg_writer(const char *path, int id)
{
    struct tp_db *db = db_new(path);
    int     bad = 0;

    for (int i = 0; i < REORG_WRITES && !bad; i++) {
	char    key[48];

	snprintf(key, sizeof(key), "10.1.%d.0/24", (i * 5 + id) % REORG_KEYS);
	bad = db_update(db, key, bump, 0) < 0;
	/* and a key made and removed: replayed as a delete */
	snprintf(key, sizeof(key), "10.2.%d.%d/32", id, i % 250);
	bad |= db_update(db, key, bump, 0) < 0 || db_delete(db, key) != 1;
    }
    if (bad)
	fprintf(stderr, "reorg writer: %s\n", db_error(db));
    db_free(db);
    return bad;
}

static void reorganise_while_writing(const char *dir)
{
    char    path[300], side[320], *keys[500];
    struct tp_db *db;
    struct tp_record r;
    struct tp_stats st;
    struct stat before, after;
    pid_t   pids[2];
    int     bad = 0, status, rounds = 0, lost = 0, failed = 0;
    int64_t sum = 0;

    snprintf(path, sizeof(path), "%s/reorg.db", dir);
    db = db_new(path);
    for (int b = 0; b < 10; b++) {	/* 5000 networks, then half of them gone */
	for (int i = 0; i < 500; i++) {
	    keys[i] = malloc(48);
	    SETUP(keys[i] != 0, "malloc");
	    snprintf(keys[i], 48, "10.%d.%d.0/24", 100 + b, i);
	}
	SETUP(db_update_many(db, keys, 500, bump, 0) == DB_WRITE, "load");
	for (int i = 0; i < 500; i += 2)
	    SETUP(db_delete(db, keys[i]) == 1, "delete");
	for (int i = 0; i < 500; i++)
	    free(keys[i]);
    }
    SETUP(stat(path, &before) == 0, "stat");
    for (int i = 0; i < 2; i++) {
	SETUP((pids[i] = fork()) >= 0, "fork");
	if (pids[i] == 0)
	    _exit(reorg_writer(path, i));
    }
    /* Reorganise again and again while they write: bounded in count. */
    for (int done = 0; done < 2 && rounds < 200; rounds++) {
	if (db_reorganize(db) < 0 && failed++ == 0)
	    fprintf(stderr, "reorganise while writing: %s\n", db_error(db));
	for (int i = 0; i < 2; i++)
	    if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
		bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		pids[i] = 0;
		done++;
	    }
    }
    for (int i = 0; i < 2; i++)
	if (pids[i] > 0) {
	    bad += waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status)
		|| WEXITSTATUS(status) != 0;
	}
    EXPECT(failed == 0, "%d of %d reorganises failed", failed, rounds);
    EXPECT(bad == 0, "%d writers failed during reorganise", bad);
    EXPECT(db_reorganize(db) == 0, "reorganise: %s", db_error(db));
    for (int k = 0; k < REORG_KEYS; k++) {
	char    key[48];

	snprintf(key, sizeof(key), "10.1.%d.0/24", k);
	if (db_get(db, key, &r) == 1)
	    sum += r.tarpits;
    }
    for (int id = 0; id < 2; id++)
	for (int i = 0; i < 250; i++) {
	    char    key[48];

	    snprintf(key, sizeof(key), "10.2.%d.%d/32", id, i);
	    lost += db_get(db, key, &r) != 0;
	}
    EXPECT(sum == 2 * REORG_WRITES, "%d reorganises; writes kept: %lld of %d",
	   rounds, (long long) sum, 2 * REORG_WRITES);
    EXPECT(lost == 0, "%d deleted keys came back", lost);
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 5000 + 4 * REORG_WRITES,
	   "host-wide counters kept: %lld of %d", (long long) st.tarpits,
	   5000 + 4 * REORG_WRITES);
    EXPECT(stat(path, &after) == 0 && after.st_size < before.st_size,
	   "the space is given back: %lld -> %lld bytes", (long long) before.st_size,
	   (long long) after.st_size);
    EXPECT(after.st_mode == before.st_mode && after.st_uid == before.st_uid,
	   "owner and mode kept");
    snprintf(side, sizeof(side), "%s.rebuild", path);
    EXPECT(access(side, F_OK) < 0, "no %s left", side);
    snprintf(side, sizeof(side), "%s.changes", path);
    EXPECT(access(side, F_OK) < 0, "no %s left", side);
    db_free(db);
}

static void count_tarpit(struct tp_stats *s, void *ctx)
{
    (void) ctx;
    s->tarpits++;
}

/* counters_in_lock_file - the host-wide counters are kept in the lock
 * file; the database holds the copy db_save_counters() makes, read where
 * the lock file has none (lost, or damaged) */
static void counters_in_lock_file(const char *dir)
{
    char    path[300], lock_path[320];
    struct tp_db *db;
    struct tp_stats st;
    struct tp_record r;
    struct stat before, after;
    int     fd, holder;

    snprintf(path, sizeof(path), "%s/counters.db", dir);
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    db = db_new(path);
    for (int i = 0; i < 5; i++)
	EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(db));
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 5, "counted: %lld of 5",
	   (long long) st.tarpits);
    /* Counting alone leaves the database file as it was ... */
    EXPECT(stat(path, &before) == 0, "stat");
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 1 && db_get(db, "192.0.2.0/24", &r) == 1,
	   "a kept reader: %s", db_error(db));
    usleep(20 * 1000);
    EXPECT(db_update_stats(db, count_tarpit, 0) == 0, "%s", db_error(db));
    EXPECT(stat(path, &after) == 0 && after.st_ino == before.st_ino
	   && after.st_size == before.st_size
	   && after.st_mtim.tv_sec == before.st_mtim.tv_sec
	   && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
	   "counting alone does not write the database");
    /* ... and counts no change: the kept reader reads on without the
     * lock, held elsewhere now (a refused wait must not send every
     * helper back to the locked path). */
    holder = open(lock_path, O_RDWR);
    SETUP(holder >= 0 && flock(holder, LOCK_EX) == 0, "hold the lock");
    db_set_lock_timeout(db, 300);
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 1,
	   "counting counts no change for kept readers: %s", db_error(db));
    close(holder);
    db_set_lock_timeout(db, 10000);
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 6, "counted: %lld of 6",
	   (long long) st.tarpits);
    /* The copy in the database, then more counts only the lock file has. */
    EXPECT(db_save_counters(db) == 0, "save: %s", db_error(db));
    EXPECT(db_update_stats(db, count_tarpit, 0) == 0, "%s", db_error(db));
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 7, "counted: %lld of 7",
	   (long long) st.tarpits);
    db_free(db);
    /* Counters in the lock file that do not decode (their version byte
     * overwritten): the copy is read, and counting goes on from it. */
    fd = open(lock_path, O_WRONLY);
    EXPECT(fd >= 0 && pwrite(fd, "\377", 1, COUNTERS_AT) == 1, "damage the counters");
    if (fd >= 0)
	close(fd);
    db = db_new(path);
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 6, "the saved copy: %lld of 6",
	   (long long) st.tarpits);
    EXPECT(db_update_stats(db, count_tarpit, 0) == 0, "%s", db_error(db));
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 7, "counted on: %lld of 7",
	   (long long) st.tarpits);
    db_free(db);
    /* A lost lock file: the same. */
    EXPECT(unlink(lock_path) == 0, "remove the lock file");
    db = db_new(path);
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 6, "the saved copy: %lld of 6",
	   (long long) st.tarpits);
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(db));
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 7, "counted on: %lld of 7",
	   (long long) st.tarpits);
    db_free(db);
}

/* The group sync (groupsync.c): its words in the lock file (file.h),
 * and the byte whose OFD lock is the turn to sync. */
#define SYNC_WRITTEN_AT (SYNC_AT + 8 * SYNC_WRITTEN)
#define SYNC_SYNCED_AT (SYNC_AT + 8 * SYNC_SYNCED)

/* take_turn - hold the turn to sync, as a writer syncing would */
static int take_turn(const char *lock_path)
{
    struct flock fl;
    int     fd = open(lock_path, O_RDWR);

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = SYNC_TURN_AT;
    fl.l_len = 1;
    if (fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) < 0) {
	close(fd);
	fd = -1;
    }
    return fd;
}

/* A writer in a child, which reports on a pipe in words: "syncs N" once
 * its write is answered, or what went wrong. */
struct writer {
    pid_t   pid;
    int     report;			/* the pipe's reading end */
};

/* sync_writer - a child that writes key; without the parent's turn (an
 * OFD lock is the open file's, held while any process has it open) */
static struct writer sync_writer(const char *path, const char *key, int turn, int timeout_ms)
{
    struct writer w;
    int     p[2];

    SETUP(pipe(p) == 0, "pipe");
    SETUP((w.pid = fork()) >= 0, "fork");
    if (w.pid == 0) {
	char    line[400];

	close(turn);
	close(p[0]);
	struct tp_db *db = db_new(path);

	db_set_lock_timeout(db, timeout_ms);
	if (db_update(db, key, bump, 0) == DB_WRITE)
	    snprintf(line, sizeof(line), "syncs %lld", (long long) db_syncs(db));
	else
	    snprintf(line, sizeof(line), "the write failed: %s", db_error(db));
	db_free(db);
	_exit(write(p[1], line, strlen(line)) < 0);
    }
    close(p[1]);
    w.report = p[0];
    return w;
}

/* writer_done - wait for a writer, its report into line; its syncs, or
 * -1 when it failed (line says why) */
static int writer_done(struct writer *w, char *line, size_t len)
{
    ssize_t n = read(w->report, line, len - 1);
    int     status;
    long long syncs;

    line[n > 0 ? n : 0] = 0;
    close(w->report);
    if (waitpid(w->pid, &status, 0) != w->pid || !WIFEXITED(status)
	|| WEXITSTATUS(status) != 0)
	snprintf(line + strlen(line), len - strlen(line), " (it died)");
    return sscanf(line, "syncs %lld", &syncs) == 1 && strchr(line, '(') == 0
	? (int) syncs : -1;
}

/* waiting_for_sync - is the process blocked in futex(), as a writer that
 * waits for another's sync is (/proc/PID/syscall names the call)? */
static int waiting_for_sync(pid_t pid)
{
    char    path[64], buf[64];
    FILE   *fp;
    long    nr = -1;

    snprintf(path, sizeof(path), "/proc/%d/syscall", (int) pid);
    if ((fp = fopen(path, "r")) == 0)
	return 0;
    if (fgets(buf, sizeof(buf), fp) != 0)
	nr = strtol(buf, 0, 10);
    fclose(fp);
    return nr == SYS_futex;
}

/* wait_written - until the lock file says write `count` is complete */
static int wait_written(const char *lock_path, uint64_t count)
{
    for (int i = 0; i < 1000; i++) {
	if (lock_word(lock_path, SYNC_WRITTEN_AT) >= count)
	    return 0;
	usleep(10 * 1000);
    }
    return -1;
}

/* one_sync_for_many - writers that wait for the turn to sync while another
 * syncs are made durable by one sync between them; and a writer that finds
 * the file replaced syncs its own write but vouches for no other */
static void one_sync_for_many(const char *dir)
{
    char    path[300], lock_path[320], side[320], key[32], cmd[700], line[400];
    struct tp_db *db;
    struct writer kids[3];
    int     turn, status, syncs = 0, answered = 0, waiting = 0;

    snprintf(path, sizeof(path), "%s/sync.db", dir);
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    snprintf(side, sizeof(side), "%s/sync.side", dir);
    db = db_new(path);
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(db));
    EXPECT(db_syncs(db) == 1, "a lone write syncs: %lld", (long long) db_syncs(db));
    EXPECT(lock_word(lock_path, SYNC_SYNCED_AT) == 1, "synced through write 1");
    db_free(db);
    /* Three writers finish writing while the turn is held: each waits for
     * a sync (blocked in futex(), seen from outside), none is answered ... */
    turn = take_turn(lock_path);
    SETUP(turn >= 0, "take the turn to sync");
    for (int i = 0; i < 3; i++) {
	snprintf(key, sizeof(key), "198.51.%d.0/24", i);
	kids[i] = sync_writer(path, key, turn, 60000);
    }
    EXPECT(wait_written(lock_path, 4) == 0, "three writes complete");
    for (int i = 0; i < 1000 && waiting < 3; i++) {
	waiting = 0;
	for (int k = 0; k < 3; k++)
	    waiting += waiting_for_sync(kids[k].pid);
	if (waiting < 3)
	    usleep(10 * 1000);
    }
    for (int i = 0; i < 3; i++)
	answered += waitpid(kids[i].pid, &status, WNOHANG) == kids[i].pid;
    EXPECT(waiting == 3 && answered == 0, "the three writers wait for a sync (%d "
	   "of 3 in futex), none is answered before it (%d)", waiting, answered);
    /* ... and once it is free, one of them syncs for all three. */
    close(turn);
    for (int i = 0; i < 3; i++) {
	int     n = writer_done(&kids[i], line, sizeof(line));

	EXPECT(n >= 0, "writer %d: %s", i, line);
	syncs += n > 0 ? n : 0;
    }
    EXPECT(syncs == 1, "three writes, %d syncs (1 wanted)", syncs);
    EXPECT(lock_word(lock_path, SYNC_SYNCED_AT) == 4, "synced through write 4: %llu",
	   (unsigned long long) lock_word(lock_path, SYNC_SYNCED_AT));

    /* The file replaced (as a reorganise does) between a write and its
     * sync: the sync covers the old file, so it vouches for nothing. */
    turn = take_turn(lock_path);
    SETUP(turn >= 0, "take the turn to sync");
    kids[0] = sync_writer(path, "203.0.113.0/24", turn, 60000);
    EXPECT(wait_written(lock_path, 5) == 0, "the write complete");
    snprintf(cmd, sizeof(cmd), "cp %s %s", path, side);
    SETUP(system(cmd) == 0 && rename(side, path) == 0, "replace the file");
    close(turn);
    EXPECT(writer_done(&kids[0], line, sizeof(line)) == 1,
	   "the writer synced for itself: %s", line);
    EXPECT(lock_word(lock_path, SYNC_SYNCED_AT) == 4,
	   "a sync of a replaced file vouches for no write: %llu",
	   (unsigned long long) lock_word(lock_path, SYNC_SYNCED_AT));
    db = db_new(path);
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE
	   && db_syncs(db) == 1 && lock_word(lock_path, SYNC_SYNCED_AT) == 6,
	   "the next write syncs the new file: %s", db_error(db));
    db_free(db);

    /* A turn held for good (its writer stopped): a writer waits as long
     * as it would for the lock, then syncs for itself. */
    turn = take_turn(lock_path);
    SETUP(turn >= 0, "take the turn to sync");
    kids[0] = sync_writer(path, "203.0.113.0/24", turn, 200);
    answered = 0;
    for (int i = 0; i < 1000 && !answered; i++) {
	struct pollfd pfd = {kids[0].report, POLLIN, 0};

	answered = poll(&pfd, 1, 10) == 1;
    }
    EXPECT(answered && writer_done(&kids[0], line, sizeof(line)) == 1,
	   "a writer waits for a held turn no longer than for the lock: %s",
	   answered ? line : "no answer in 10 s");
    if (!answered) {
	kill(kids[0].pid, SIGKILL);
	writer_done(&kids[0], line, sizeof(line));
    }
    EXPECT(lock_word(lock_path, SYNC_SYNCED_AT) == 6, "and vouches for no other write");
    close(turn);
}

/* reserved_keys - a walk shows the networks; walk_all the ledger's '@'
 * keys too; neither the store's own counters (KEY_STATS), which the
 * file holds once saved */
static void reserved_keys(const char *dir)
{
    char    path[300];
    struct tp_db *db;
    int     n = 0;

    snprintf(path, sizeof(path), "%s/reserved.db", dir);
    db = db_new(path);
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE
	   && db_update(db, "@grey 192.0.2.0/24 #00", bump, 0) == DB_WRITE
	   && db_save_counters(db) == 0, "%s", db_error(db));
    EXPECT(db_walk(db, count_walk, &n) == 1 && n == 1, "walk: %d", n);
    EXPECT(db_walk_all(db, tally, 0) == 2, "walk_all: the '@' key, not the counters");
    db_free(db);
}

/* lock_file_layout - a lock file of the first layout (no magic) is read
 * and stamped by the first writer, its counters kept; one of another
 * layout is refused with a message that says what to do */
static void lock_file_layout(const char *dir)
{
    char    path[300], lock_path[320];
    struct tp_db *db;
    struct tp_record r;
    struct tp_stats st;
    uint64_t other = htobe64(LOCKFILE_VERSION + 1);
    int     fd;

    snprintf(path, sizeof(path), "%s/layout.db", dir);
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    db = db_new(path);
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "%s", db_error(db));
    EXPECT(lock_word(lock_path, 8 * WORD_MAGIC) == LOCKFILE_MAGIC
	   && lock_word(lock_path, 8 * WORD_VERSION) == LOCKFILE_VERSION,
	   "a new lock file has the magic and the version");
    db_free(db);
    /* The first layout: the words after the counters' length were 0. */
    fd = open(lock_path, O_WRONLY);
    SETUP(fd >= 0 && pwrite(fd, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16,
			    8 * WORD_MAGIC) == 16 && close(fd) == 0, "unstamp");
    db = db_new(path);
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 1, "first layout read: %s", db_error(db));
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE
	   && lock_word(lock_path, 8 * WORD_MAGIC) == LOCKFILE_MAGIC, "stamped: %s",
	   db_error(db));
    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 2, "counters kept: %lld of 2",
	   (long long) st.tarpits);
    db_free(db);
    /* A later layout. */
    fd = open(lock_path, O_WRONLY);
    SETUP(fd >= 0 && pwrite(fd, &other, 8, 8 * WORD_VERSION) == 8 && close(fd) == 0,
	  "a later version");
    db = db_new(path);
    EXPECT(db_get(db, "192.0.2.0/24", &r) < 0
	   && strstr(db_error(db), "not a lock file of this version's layout") != 0
	   && strstr(db_error(db), "remove the lock file") != 0, "refused: %s", db_error(db));
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) < 0, "no write either");
    db_free(db);
}

static enum db_change grant(struct db_txn *t, void *ctx)
{
    (void) ctx;
    t->rec.allow_until = -1;
    return DB_WRITE;
}

/* lost_records - a recovery counts every record lost against the lock
 * file's count, also those GDBM cannot see go (removed here behind the
 * store's back, as a bucket it could not read loses them) */
static void lost_records(const char *dir)
{
    char    path[300], key[32];
    struct tp_db *db;
    struct db_recovery rv;
    GDBM_FILE g;
    long    records;

    snprintf(path, sizeof(path), "%s/lost.db", dir);
    db = db_new(path);
    for (int i = 0; i < 200; i++) {
	snprintf(key, sizeof(key), "10.0.%d.0/24", i);
	EXPECT(db_update(db, key, i == 7 ? grant : bump, 0) == DB_WRITE, "%s", db_error(db));
    }
    EXPECT(db_check(db, &records) == 0 && records == 200, "check: %ld", records);
    EXPECT(db_delete(db, "10.0.199.0/24") == 1 && db_update(db, "@grey x", bump, 0) == DB_WRITE,
	   "the count moves with writes and deletes");
    g = gdbm_open(path, 0, GDBM_WRITER | GDBM_NOLOCK, 0, 0);
    SETUP(g != 0, "open behind the store's back");
    for (int i = 0; i < 76; i++) {
	datum   k;

	snprintf(key, sizeof(key), "10.0.%d.0/24", i);
	k.dptr = key;
	k.dsize = (int) strlen(key);
	SETUP(gdbm_delete(g, k) == 0, "delete %s", key);
    }
    gdbm_close(g);
    EXPECT(db_recover(db, &rv) == 0, "recover: %s", db_error(db));
    EXPECT(rv.counted && rv.recovered == 124 && rv.failed == 76,
	   "lost 76 of 200 (an admin's mark among them): recovered %ld, lost %ld%s",
	   rv.recovered, rv.failed, rv.counted ? "" : ", not counted");
    EXPECT(db_check(db, &records) == 0 && records == 124, "then sound: %ld", records);
    if (rv.backup[0])
	(void) unlink(rv.backup);
    db_free(db);
}

/* The syncs of this process, counted by the file they synced: this file
 * defines fsync() and fdatasync(), so that libgdbm's calls come here too
 * (the real ones are the system calls). */
static int syncs_of_files, syncs_of_memfds;

static void count_sync(int fd)
{
    char    link[64], target[256];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    n = readlink(link, target, sizeof(target) - 1);
    target[n > 0 ? n : 0] = 0;
    if (strncmp(target, "/memfd:", 7) == 0)
	syncs_of_memfds++;
    else
	syncs_of_files++;
}

int     fsync(int fd)
{
    count_sync(fd);
    return (int) syscall(SYS_fsync, fd);
}

int     fdatasync(int fd)
{
    count_sync(fd);
    return (int) syscall(SYS_fdatasync, fd);
}

/* stand_in_close - a write through the store, as the helpers make it:
 * groupsync.c syncs the file once and, with libgdbm 1.23, hands
 * gdbm_close() a sealed, empty memory file in place of the writer's
 * descriptor, so that gdbm_close() does not sync it again.  That rests on
 * gdbm_close() writing nothing there: the day a libgdbm does, the write
 * fails (the seal refuses it) or the file is not whole after it, and
 * groupsync.c's stand_in_safe() must leave that version out.  Another
 * version gets a plain close and its second sync. */
static void stand_in_close(const char *dir)
{
    char    path[300], key[32];
    struct tp_db *db;
    long    records = 0;
    int     safe = gdbm_version_number[0] == 1 && gdbm_version_number[1] == 23;

    snprintf(path, sizeof(path), "%s/standin.db", dir);
    db = db_new(path);
    for (int i = 0; i < 20; i++) {
	snprintf(key, sizeof(key), "10.9.%d.0/24", i);
	syncs_of_files = syncs_of_memfds = 0;
	EXPECT(db_update(db, key, bump, 0) == DB_WRITE, "libgdbm %s: write %d through "
	       "the stand-in close: %s", gdbm_version, i, db_error(db));
	if (i == 0)
	    continue;			/* the write that makes the file syncs more */
	EXPECT(safe ? syncs_of_files == 1 && syncs_of_memfds == 1
	       : syncs_of_files == 2 && syncs_of_memfds == 0,
	       "libgdbm %s: write %d synced the file %d times, the stand-in %d",
	       gdbm_version, i, syncs_of_files, syncs_of_memfds);
    }
    EXPECT(db_check(db, &records) == 0 && records == 20,
	   "libgdbm %s: the file is whole after stand-in closes: %ld records, %s",
	   gdbm_version, records, db_error(db));
    db_free(db);
}

int main(void)
{
    char    dir[] = "/tmp/db_test.XXXXXX";
    char    path[256], cmd[300];
    struct tp_db *db;
    struct tp_record r;
    int     n = 0;

    SETUP(mkdtemp(dir) != 0, "mkdtemp");
    snprintf(path, sizeof(path), "%s/t.db", dir);
    db = db_new(path);

    reserved_keys(dir);
    lock_file_layout(dir);
    lost_records(dir);
    stand_in_close(dir);

    /* No file yet: reads find nothing, without creating it. */
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 0, "absent file: %s", db_error(db));
    EXPECT(access(path, F_OK) < 0, "a read must not create the file");
    EXPECT(db_walk(db, count_walk, &n) == 0 && n == 0, "empty walk");

    EXPECT(db_update(db, "192.0.2.0/24", keep, 0) == DB_KEEP, "keep");
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 0, "keep writes nothing");
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "write");
    EXPECT(db_update(db, "192.0.2.0/24", bump, 0) == DB_WRITE, "write");
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 1 && r.tarpits == 2, "read back");
    EXPECT(db_update(db, "2001:db8::/64", bump, 0) == DB_WRITE, "second key");
    n = 0;
    EXPECT(db_walk(db, count_walk, &n) == 2 && n == 2, "walk two");
    EXPECT(db_delete(db, "192.0.2.0/24") == 1, "delete");
    EXPECT(db_delete(db, "192.0.2.0/24") == 0, "delete again");
    EXPECT(db_get(db, "192.0.2.0/24", &r) == 0, "gone");

    /* Concurrency: 8 processes x 50 updates, none lost. */
    for (int p = 0; p < 8; p++) {
	if (fork() == 0) {
	    struct tp_db *child = db_new(path);

	    for (int i = 0; i < 50; i++)
		if (db_update(child, "198.51.100.0/24", bump, 0) < 0)
		    _exit(1);
	    db_free(child);
	    _exit(0);
	}
    }
    int     failures = 0, status;

    while (wait(&status) > 0)
	failures += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    EXPECT(failures == 0, "%d writers failed", failures);
    int     got = db_get(db, "198.51.100.0/24", &r);
    struct tp_stats st;

    EXPECT(db_get_stats(db, &st) == 0 && st.tarpits == 403,
	   "host-wide counter: %lld of 403", (long long) st.tarpits);

    EXPECT(got == 1 && r.tarpits == 400, "lost updates: %d %lld of 400 %s",
	   got, (long long) r.tarpits, db_error(db));

    /* The kept reader handle sees every other process's change: writes,
     * deletes, reorganise (a new file), and the file removed. */
    struct tp_db *other = db_new(path);

    EXPECT(db_get(db, "203.0.113.0/24", &r) == 0, "not there yet");
    for (int i = 1; i <= 3; i++) {
	EXPECT(db_update(other, "203.0.113.0/24", bump, 0) == DB_WRITE, "other writes");
	EXPECT(db_get(db, "203.0.113.0/24", &r) == 1 && r.tarpits == i,
	       "kept reader sees write %d: %lld", i, (long long) r.tarpits);
    }
    /* A write that leaves size and mtime as they were (the same clock
     * tick; a new key in the space a deleted one freed): only the change
     * count in the lock file tells. */
    struct stat before, after;
    struct timespec times[2];

    EXPECT(db_update(other, "233.252.0.0/24", bump, 0) == DB_WRITE, "other writes");
    EXPECT(db_delete(other, "233.252.0.0/24") == 1, "other frees its space");
    EXPECT(db_get(db, "233.252.1.0/24", &r) == 0, "not there yet");
    EXPECT(stat(path, &before) == 0, "stat");
    EXPECT(db_update(other, "233.252.1.0/24", bump, 0) == DB_WRITE, "other writes");
    times[0] = before.st_atim;
    times[1] = before.st_mtim;
    EXPECT(utimensat(AT_FDCWD, path, times, 0) == 0 && stat(path, &after) == 0
	   && after.st_size == before.st_size, "same size and mtime");
    EXPECT(db_get(db, "233.252.1.0/24", &r) == 1,
	   "kept reader sees a write its stat cannot");
    EXPECT(db_delete(other, "203.0.113.0/24") == 1, "other deletes");
    EXPECT(db_get(db, "203.0.113.0/24", &r) == 0, "kept reader sees the delete");
    EXPECT(db_update(other, "203.0.113.0/24", bump, 0) == DB_WRITE, "again");
    EXPECT(db_reorganize(other) == 0, "reorganize: %s", db_error(other));
    EXPECT(db_update(other, "203.0.113.0/24", bump, 0) == DB_WRITE, "after");
    EXPECT(db_get(db, "203.0.113.0/24", &r) == 1 && r.tarpits == 2,
	   "kept reader sees the reorganised file: %lld", (long long) r.tarpits);
    db_free(other);

    /* Readers without the lock racing writers: 2 writers, 3 readers. */
    {
	char    race[300];
	pid_t   pids[5];
	int     bad = 0, st, done[2];

	snprintf(race, sizeof(race), "%s/race.db", dir);
	SETUP(pipe(done) == 0, "pipe");
	for (int i = 0; i < 5; i++) {
	    SETUP((pids[i] = fork()) >= 0, "fork");
	    if (pids[i] == 0) {
		close(done[1]);
		_exit(i < 2 ? race_writer(race, i) : race_reader(race, done[0]));
	    }
	}
	close(done[0]);
	for (int i = 0; i < 5; i++) {
	    bad += waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st)
		|| WEXITSTATUS(st) != 0;
	    if (i == 1)
		close(done[1]);		/* the writers are done */
	}
	EXPECT(bad == 0, "%d of 5 racing readers and writers saw a fault", bad);
	/* Every write is seen once it is done: the 2 writers' 1000
	 * updates of the shared keys add up. */
	struct tp_db *rd = db_new(race);
	int64_t sum = 0;

	for (int k = 0; k < RACE_KEYS; k++) {
	    char    key[48];

	    snprintf(key, sizeof(key), "10.0.%d.0/24", k);
	    if (db_get(rd, key, &r) == 1)
		sum += r.tarpits;
	}
	EXPECT(sum == 2 * (RACE_WRITES - (RACE_WRITES + 2) / 3),
	       "shared keys written %lld times of %d", (long long) sum,
	       2 * (RACE_WRITES - (RACE_WRITES + 2) / 3));
	db_free(rd);
    }

    reorganise_while_writing(dir);
    counters_in_lock_file(dir);
    short_lock_file(dir);
    reorganise_without_fast_paths(dir);
    one_sync_for_many(dir);

    /* A lock held elsewhere: the operation fails after the timeout. */
    char    lock_path[300];

    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    int     holder = open(lock_path, O_RDWR);

    SETUP(holder >= 0 && flock(holder, LOCK_EX) == 0, "hold the lock");
    db_set_lock_timeout(db, 300);
    /* A kept reader needs no lock while no change is counted ... */
    EXPECT(db_get(db, "198.51.100.0/24", &r) == 1 && r.tarpits == 400,
	   "a kept reader reads without the lock: %s", db_error(db));
    /* ... and waits for a holder that has counted one, as a writer does
     * before it changes anything. */
    SETUP(count_change(holder) == 0, "count a change");
    /* The caller's interval timer and SIGALRM handler: a library call
     * that waits must leave both as it found them.  The caller's 100 s
     * timer is left running; a second one of 100 ms fires during the
     * wait: the caller's handler gets it, and the wait goes on to its
     * own end.  Every signal blocked by the caller: still a timeout. */
    struct itimerval mine = {{0, 0}, {100, 0}}, now_timer;
    struct sigaction sa, now_sa;
    sigset_t all, old_mask, mask_after;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    SETUP(sigaction(SIGALRM, &sa, 0) == 0 && setitimer(ITIMER_REAL, &mine, 0) == 0,
	   "the caller's timer armed");
    /* A shared read waits too; flock locks from another open file. */
    int64_t t0 = monotonic_ms();

    EXPECT(db_get(db, "198.51.100.0/24", &r) < 0
	   && strstr(db_error(db), "not granted") != 0, "%s", db_error(db));
    EXPECT(monotonic_ms() - t0 >= 299, "it waited its timeout: %lld ms",
	   (long long) (monotonic_ms() - t0));
    EXPECT(getitimer(ITIMER_REAL, &now_timer) == 0 && now_timer.it_value.tv_sec >= 90
	   && sigaction(SIGALRM, 0, &now_sa) == 0 && now_sa.sa_handler == on_alarm
	   && alarms == 0, "the caller's timer and handler untouched (%ld s left)",
	   (long) now_timer.it_value.tv_sec);
    SETUP(setitimer(ITIMER_REAL, &(struct itimerval) {{0, 0}, {0, 100000}}, 0) == 0,
	  "a timer of 100 ms");
    t0 = monotonic_ms();
    EXPECT(db_get(db, "198.51.100.0/24", &r) < 0 && monotonic_ms() - t0 >= 299
	   && alarms == 1, "the caller's signal during the wait reaches its handler, "
	   "and the wait goes on (%lld ms, %d alarms)", (long long) (monotonic_ms() - t0),
	   (int) alarms);
    sigfillset(&all);
    SETUP(sigprocmask(SIG_SETMASK, &all, &old_mask) == 0
	  && sigprocmask(SIG_SETMASK, 0, &all) == 0, "block every signal (that can be)");
    t0 = monotonic_ms();
    EXPECT(db_get(db, "198.51.100.0/24", &r) < 0 && monotonic_ms() - t0 >= 299
	   && monotonic_ms() - t0 < 5000, "every signal blocked: still a timeout (%lld ms)",
	   (long long) (monotonic_ms() - t0));
    SETUP(sigprocmask(SIG_SETMASK, &old_mask, &mask_after) == 0, "unblock");
    int     same = 1;

    for (int sig = 1; sig <= SIGRTMAX; sig++)
	same &= sigismember(&all, sig) == sigismember(&mask_after, sig);
    EXPECT(same, "the caller's signal mask is left as it was");
    close(holder);
    EXPECT(db_get(db, "198.51.100.0/24", &r) == 1, "lock released");

    /* A lock released during the wait is taken. */
    pid_t   child;
    int     go[2];

    SETUP(pipe(go) == 0, "pipe");
    if ((child = fork()) == 0) {
	int     fd;
	char    c = 0;

	/* Only the pipe: an inherited descriptor of ours would share its
	 * open file description, and with it our locks. */
	for (int i = 3; i < 1024; i++)
	    if (i != go[1])
		close(i);
	fd = open(lock_path, O_RDWR);

	if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(go[1], &c, 1) != 1)
	    _exit(1);
	usleep(200000);
	_exit(0);			/* the lock goes with the process */
    }
    char    c;

    SETUP(child > 0 && read(go[0], &c, 1) == 1, "held in a child");
    db_set_lock_timeout(db, 10000);
    EXPECT(db_get(db, "198.51.100.0/24", &r) == 1, "granted once the child let go");
    waitpid(child, 0, 0);
    close(go[0]);
    close(go[1]);

    /* A damaged file: an error naming the file, not a crash.  The damage
     * is done without our lock or change count: a kept reader sees it by
     * the file's stat within a second. */
    FILE   *fp = fopen(path, "r+");

    fputs("this is not a gdbm header at all, no it is not.", fp);
    fclose(fp);
    usleep(1100 * 1000);
    EXPECT(db_get(db, "198.51.100.0/24", &r) < 0
	   && strstr(db_error(db), path) != 0, "damage: %s", db_error(db));
    EXPECT(db_update(db, "198.51.100.0/24", bump, 0) < 0, "no write to damage");

    /* A directory that does not exist. */
    struct tp_db *nowhere = db_new("/nonexistent/dir/t.db");

    EXPECT(db_update(nowhere, "k", bump, 0) < 0
	   && strstr(db_error(nowhere), "/nonexistent/dir/t.db.lock") != 0,
	   "%s", db_error(nowhere));
    db_free(nowhere);
    db_free(db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    SETUP(system(cmd) == 0, "cleanup");
    return unit_done("db");
}

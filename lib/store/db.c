/*
 * NAME
 *	db - GDBM store with an flock(2)-serialised open-use-close cycle
 * DESCRIPTION
 *	Every operation takes a lock on a separate lock file beside the
 *	database (DATABASE.lock): shared to read, exclusive to write.  Inside
 *	the lock it opens the GDBM file with GDBM_NOLOCK and does its work.
 *	Writers close the file again.  db_get() keeps its reader handle for
 *	the next call while no one has written: every writer of the database
 *	counts a change in the first 8 bytes of the lock file before it
 *	changes anything, and a reader compares that count (and the file's
 *	stat) with the one it opened at.
 *
 *	A kept reader reads without a lock or a system call: it maps the
 *	count's page of the lock file once and reads the count before and
 *	after its fetch, like a seqlock.  Unchanged at both ends, no writer
 *	began in between (a writer counts first), so the fetch saw the file as
 *	it was opened; changed, the answer is dropped along with the handle
 *	(its cache may hold a torn bucket) and the read is done again under
 *	the shared lock.  The stat check against edits made without our lock
 *	runs on the locked path and at most once a second on the free one.
 *	Writers map the same page to write, and read and set the count and
 *	the other words through it, with no system call (map_page()).
 *
 *	Why not lock the database file itself: GDBM reads the header during
 *	gdbm_open(), before a lock on its descriptor could be taken, and
 *	a reorganise replaces the file, so a lock on the old inode would
 *	protect nothing.  GDBM's own locks fail at once instead of waiting, so
 *	they cannot serialise writers either.
 *
 *	Lock waits are bounded (DB_LOCK_TIMEOUT_MS): a stuck holder makes an
 *	operation fail, and the helpers then answer DUNNO, rather than hang.
 *
 *	gdbm_store() writes every change to the file before it returns, and
 *	a write is answered only once it is on disk.  That sync is most of
 *	what a write costs, so it runs after the exclusive lock is released
 *	(writers do not queue behind each other's disk), and writers share
 *	it: one sync makes durable every write that was complete when it
 *	began, so writers that finish while another syncs wait for the next
 *	sync, which one of them makes for all (group_sync()).  gdbm_close(),
 *	which would sync each writer's file again, is handed a stand-in.
 *	Writers open without mmap (GDBM_NOMMAP): a sync is then one
 *	fdatasync() instead of an msync() of the whole mapped file, and the
 *	file is not mapped at all, measured a third faster per write.
 *	Lookups open without mmap too (their handle is opened again after
 *	every write); walks and copies map the file.  A file damaged anyway
 *	(a power failure mid-write) is found and rebuilt by db_check() and
 *	db_recover() (tarpit-admin recover, and the hourly expire).
 *
 *	db_reorganize() copies the file's bytes under the shared lock, its
 *	records from that snapshot without a lock, and holds the exclusive
 *	one only to replay the last keys written meanwhile and rename the
 *	copy into place (see there).
 *
 *	The host-wide counters (STATS_KEY) are kept in the lock file, after
 *	its words; the database holds the copy db_save_counters() makes
 *	(see kept_counters()).
 *
 *	Keys that start with '@' are reserved for the store's own
 *	bookkeeping; db_walk() does not show them.
 * DIAGNOSTICS
 *	Operations return -1 on failure and db_error() says why in one line
 *	that names the file.
 */
#define _GNU_SOURCE
#include "store/db.h"
#include "store/server.h"
#include "util/clock.h"
#include "store/dbfile.h"
#include "util/mem.h"
#include "util/timedlock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

struct tp_db {
    struct rdb *redis;			/* a server's, instead of the file */
    char   *path;
    char   *lock_path;
    int     lock_fd;
    int     lock_timeout_ms;
    int64_t held_since;			/* when the exclusive lock was taken */
    int     walk_mapped;		/* db_walk_mapped(): map the file to walk */
    int64_t longest_hold_ms;		/* the longest exclusive hold so far */
    GDBM_FILE reader;			/* db_get()'s handle, kept between reads */
    uint64_t reader_generation;		/* the change count it was opened at */
    struct stat reader_stat;		/* and the file it was opened on */
    int64_t reader_stat_ms;		/* when that file was last stat'ed */
    unsigned char *page;		/* the lock file's first page, mapped; or 0 */
    int     page_writable;		/* mapped to write too (a writer's) */
    uint64_t our_count;			/* the count our exclusive hold set */
    int     stand_in;			/* what gdbm_close() syncs instead; -1 */
    int64_t syncs;			/* the syncs group_sync() made itself */
    int64_t rebuild_until;		/* a reorganise follows our writes */
    struct array changed;		/* the keys we wrote, for it: char */
    char    error[512];
};

/* db_new - a handle for this database; no file is touched yet */
struct tp_db *db_new(const char *path)
{
    struct tp_db *db = xcalloc(1, sizeof(*db));
    char    lock[DB_FILE_MAX];

    db->lock_fd = -1;
    db->stand_in = -1;
    db->lock_timeout_ms = DB_LOCK_TIMEOUT_MS;
    db->changed = (struct array) ARRAY_OF(char);
    db->path = xstrdup(path);
    db->lock_path = xstrdup(db_file(path, DB_FILE_LOCK, lock, sizeof(lock)) ? lock : "");
    return db;
}

/* db_open - the database the settings name: its GDBM file, or with a
 * server's URL (redis://, valkey://) the server's (server.c); 0 with
 * why when the URL is wrong */
struct tp_db *db_open(const struct db_settings *set, char *why, size_t len)
{
    struct rdb *r;
    struct tp_db *db;

    if (!rdb_is_url(set->database))
	return db_new(set->database);
    if ((r = rdb_new(set, why, len)) == 0)
	return 0;
    db = xcalloc(1, sizeof(*db));
    db->lock_fd = -1;
    db->stand_in = -1;
    db->changed = (struct array) ARRAY_OF(char);
    db->redis = r;
    db->path = xstrdup(rdb_url(r));
    db->lock_path = xstrdup("");
    return db;
}

/* db_shared - is the store a server that other hosts share? */
int db_shared(const struct tp_db *db)
{
    return db->redis != 0;
}

/* db_server - the server's handle, or 0 for a GDBM file */
struct rdb *db_server(struct tp_db *db)
{
    return db->redis;
}

/* db_free - release the handle and its lock file descriptor */
void db_free(struct tp_db *db)
{
    if (db == 0)
	return;
    db_release(db);
    rdb_free(db->redis);
    if (db->lock_fd >= 0)
	close(db->lock_fd);
    if (db->stand_in >= 0)
	close(db->stand_in);
    array_free(&db->changed);
    free(db->path);
    free(db->lock_path);
    free(db);
}

const char *db_error(const struct tp_db *db)
{
    if (db->redis)
	return rdb_error(db->redis);
    return db->error;
}

/* db_set_lock_timeout - how long an operation waits for the lock */
void db_set_lock_timeout(struct tp_db *db, int ms)
{
    db->lock_timeout_ms = ms;
}

const char *db_path(const struct tp_db *db)
{
    return db->path;
}

/* set_error - remember why the last operation failed */
__attribute__((format(printf, 2, 3)))
static void set_error(struct tp_db *db, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(db->error, sizeof(db->error), fmt, ap);
    va_end(ap);
}

/* lock - flock the lock file, waiting at most lock_timeout_ms (timedlock:
 * the process's timers and handlers are left as they were) */
static int lock(struct tp_db *db, int op)
{
    if (db->lock_fd < 0) {
	db->lock_fd = open(db->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (db->lock_fd < 0 && (errno == EACCES || errno == EROFS))
	    db->lock_fd = open(db->lock_path, O_RDONLY | O_CLOEXEC);
	if (db->lock_fd < 0) {
	    set_error(db, "%s: cannot open lock file: %s",
		      db->lock_path, strerror(errno));
	    return -1;
	}
    }
    if (timedlock(db->lock_fd, op, db->lock_timeout_ms) == 0)
	return 0;
    if (errno == ETIMEDOUT)
	set_error(db, "%s: lock not granted within %d ms",
		  db->lock_path, db->lock_timeout_ms);
    else
	set_error(db, "%s: flock: %s", db->lock_path, strerror(errno));
    return -1;
}

static void unlock(struct tp_db *db)
{
    if (db->held_since) {
	int64_t held = monotonic_ms() - db->held_since;

	if (held > db->longest_hold_ms)
	    db->longest_hold_ms = held;
	db->held_since = 0;
    }
    flock(db->lock_fd, LOCK_UN);
}

/* db_syncs - how many syncs this handle's writes made: a write that a
 * sync of another's covered made none */
int64_t db_syncs(const struct tp_db *db)
{
    return db->syncs;
}

/* db_longest_hold_ms - the longest this handle held the exclusive lock */
int64_t db_longest_hold_ms(const struct tp_db *db)
{
    return db->longest_hold_ms;
}

/* The lock file's words, big-endian: the change count, and while a
 * reorganise runs, the monotonic_ms() until which writers tell it the
 * keys they write (0: none runs).  The third is the length of the
 * host-wide counters kept from COUNTERS_AT on (0: none kept here yet),
 * in the codec of the STATS_KEY record. */
enum { WORD_COUNT, WORD_REBUILD, WORD_COUNTERS, WORDS };
#define COUNTERS_AT 64
/* After the counters, the group sync's words (see there). */
#define SYNC_AT		(COUNTERS_AT + RECORD_MAX_SIZE)
enum { SYNC_WRITTEN, SYNC_SYNCED, SYNC_ENDED, SYNC_WORDS };

/* page_word - the word at byte at of the mapped page */
static uint64_t *page_word(const struct tp_db *db, size_t at)
{
    return (uint64_t *) (void *) (db->page + at);
}

/* mapped_word - a word of the lock file read whole through the mapping */
static uint64_t mapped_word(const struct tp_db *db, size_t at)
{
    return be64toh(__atomic_load_n(page_word(db, at), __ATOMIC_ACQUIRE));
}

/* set_mapped_word - a word of the lock file written whole through it */
static void set_mapped_word(struct tp_db *db, size_t at, uint64_t v)
{
    __atomic_store_n(page_word(db, at), htobe64(v), __ATOMIC_RELEASE);
}

/* unmap_page - let go of the lock file's mapped page */
static void unmap_page(struct tp_db *db)
{
    if (db->page != 0) {
	munmap(db->page, (size_t) sysconf(_SC_PAGESIZE));
	db->page = 0;
	db->page_writable = 0;
    }
}

/* map_page - map the lock file's first page, where its words live: to
 * read them (a kept reader's count), once the file is a page long, or to
 * write them too (a writer's, under the exclusive lock, which lets the
 * file grow to a page: a mapped page beyond a file's end can be neither
 * read nor written).  The words are then read and written as whole
 * atomic words, with no system call; 0, or -1 and they are read and
 * written with pread() and pwrite() instead. */
static int map_page(struct tp_db *db, int writable)
{
    struct stat st;
    long    page = sysconf(_SC_PAGESIZE);
    void   *p;

    if (db->page != 0 && (db->page_writable || !writable))
	return 0;
    if (page < SYNC_AT + 8 * SYNC_WORDS || fstat(db->lock_fd, &st) < 0
	|| (st.st_size < page && (!writable || ftruncate(db->lock_fd, page) < 0)))
	return -1;
    p = mmap(0, (size_t) page, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
	     db->lock_fd, 0);
    if (p == MAP_FAILED)
	return -1;
    unmap_page(db);
    db->page = p;
    db->page_writable = writable;
    return 0;
}

/* word - one word of the lock file's bytes, b */
static uint64_t word(const unsigned char *b, int which)
{
    uint64_t v;

    memcpy(&v, b + 8 * which, sizeof(v));
    return be64toh(v);
}

/* lock_words - the lock file's words (0 where it is still shorter):
 * through the mapping once there is one, otherwise read */
static int lock_words(struct tp_db *db, uint64_t w[WORDS])
{
    unsigned char b[8 * WORDS] = {0};

    if (db->page != 0) {
	for (int i = 0; i < WORDS; i++)
	    w[i] = mapped_word(db, 8 * (size_t) i);
	return 0;
    }
    if (pread(db->lock_fd, b, sizeof(b), 0) < 0) {
	set_error(db, "%s: read: %s", db->lock_path, strerror(errno));
	return -1;
    }
    for (int i = 0; i < WORDS; i++)
	w[i] = word(b, i);
    return 0;
}

/* put_word - set one word of the lock file (under our lock) */
static int put_word(struct tp_db *db, int which, uint64_t v)
{
    uint64_t b = htobe64(v);

    if (db->page_writable) {
	set_mapped_word(db, 8 * (size_t) which, v);
	return 0;
    }
    if (pwrite(db->lock_fd, &b, sizeof(b), 8 * which) != (ssize_t) sizeof(b)) {
	set_error(db, "%s: cannot write (writers need the lock file "
		  "writable): %s", db->lock_path, strerror(errno));
	return -1;
    }
    return 0;
}

/* The host-wide counters live in the lock file, beside the change count,
 * not in the database: every write changes them, and storing them there
 * doubled the pages each write dirtied and synced (new networks, 16
 * connections: 1.31x without).  A write of them is one pwrite() under
 * the exclusive lock, atomic for a process killed at any moment; the
 * STATS_KEY record in the database is their copy, saved by
 * db_save_counters() (the hourly expire) and read where the lock file
 * holds none, so that a lost or damaged lock file costs an hour of counts
 * at most, and a power failure those the kernel had not written back. */

/* kept_counters - the counters of the lock file; 1, or 0 where it keeps
 * none (or none that decode), -1 on error */
static int kept_counters(struct tp_db *db, struct tp_stats *s)
{
    unsigned char b[COUNTERS_AT + RECORD_MAX_SIZE];
    uint64_t len;
    ssize_t n = (ssize_t) sizeof(b);

    if (db->page != 0)
	memcpy(b, db->page, sizeof(b));	/* under the lock: no writer */
    else if ((n = pread(db->lock_fd, b, sizeof(b), 0)) < 0) {
	set_error(db, "%s: read: %s", db->lock_path, strerror(errno));
	return -1;
    }
    if (n < COUNTERS_AT)
	return 0;
    len = word(b, WORD_COUNTERS);
    return len > 0 && len <= (uint64_t) (n - COUNTERS_AT)
	&& stats_decode(b + COUNTERS_AT, (size_t) len, s) == 0;
}

/* keep_counters - write the counters into the lock file (under our
 * exclusive lock): their length and bytes in one pwrite(), even where
 * the page is mapped (a process killed half-way through a copy into the
 * mapping would leave half of them) */
static int keep_counters(struct tp_db *db, const struct tp_stats *s)
{
    unsigned char b[COUNTERS_AT + RECORD_MAX_SIZE];
    size_t  len = stats_encode(s, b + COUNTERS_AT, RECORD_MAX_SIZE);
    size_t  from = 8 * WORD_COUNTERS;
    uint64_t w = htobe64(len);

    if (len == 0) {
	set_error(db, "the counters do not encode");
	return -1;
    }
    memset(b + from, 0, COUNTERS_AT - from);
    memcpy(b + from, &w, sizeof(w));
    if (pwrite(db->lock_fd, b + from, COUNTERS_AT - from + len, (off_t) from)
	!= (ssize_t) (COUNTERS_AT - from + len)) {
	set_error(db, "%s: cannot write: %s", db->lock_path, strerror(errno));
	return -1;
    }
    return 0;
}

/* lock_ex - the exclusive lock, timing how long it is held.  To change
 * the database (changing), also a new change count, counted before
 * anything changes: a writer killed half-way still leaves every kept
 * reader handle out of date; and whether a reorganise wants to hear of
 * our writes.  The counters alone live in the lock file, read only under
 * the lock: changing them counts no change, so that kept readers keep
 * their handles. */
static int lock_ex(struct tp_db *db, int changing)
{
    uint64_t w[WORDS] = {0};

    if (lock(db, LOCK_EX) < 0)
	return -1;
    (void) map_page(db, 1);		/* or the words are read and written */
    if (changing && (lock_words(db, w) < 0
		     || put_word(db, WORD_COUNT, w[WORD_COUNT] + 1) < 0)) {
	flock(db->lock_fd, LOCK_UN);
	return -1;
    }
    db->our_count = changing ? w[WORD_COUNT] + 1 : 0;
    db->rebuild_until = w[WORD_REBUILD] != 0
	&& (int64_t) w[WORD_REBUILD] >= monotonic_ms() ? (int64_t) w[WORD_REBUILD] : 0;
    db->changed.n = 0;
    db->held_since = monotonic_ms();
    return 0;
}

/* How a file is opened: to walk or copy it, to look keys up in it
 * (read), to write it.  Only expire's walk maps the file (db_walk_mapped):
 * a lookup's handle is opened again after every write anywhere, and
 * mapping and unmapping the whole file each time cost more than the reads
 * of the one or two buckets it fetches (new networks at 16 connections:
 * 1.09-1.19x unmapped); other walks read it, so that a listing or an
 * export of a million networks holds 38 MB, not the 250 MB of the file
 * mapped (export-map of 1 M: 1.3 s unmapped, 0.8 s mapped). */
enum use { USE_WALK, USE_LOOKUP, USE_WRITE };

/* open_gdbm - open under our lock; 0 with *dbf 0 when absent and reading */
static int open_gdbm(struct tp_db *db, enum use use, GDBM_FILE *dbf)
{
    int     writing = use == USE_WRITE;
    int     flags = (writing ? GDBM_WRCREAT : GDBM_READER) | GDBM_NOLOCK | GDBM_CLOEXEC
    | (use == USE_WALK && db->walk_mapped ? 0 : GDBM_NOMMAP);

    *dbf = gdbm_open(db->path, 0, flags, 0640, 0);
    if (*dbf != 0)
	return 0;
    if (!writing && gdbm_errno == GDBM_FILE_OPEN_ERROR && errno == ENOENT)
	return 0;
    if (gdbm_errno == GDBM_FILE_OPEN_ERROR || gdbm_errno == GDBM_FILE_READ_ERROR)
	set_error(db, "%s: cannot open database: %s (%s)", db->path,
		  gdbm_strerror(gdbm_errno), strerror(errno));
    else
	set_error(db, "%s: cannot open database: %s", db->path,
		  gdbm_strerror(gdbm_errno));
    return -1;
}

/* close_gdbm - close, reporting a failed final write */
static int close_gdbm(struct tp_db *db, GDBM_FILE dbf)
{
    if (gdbm_close(dbf) != 0) {
	set_error(db, "%s: close: %s", db->path, gdbm_strerror(gdbm_errno));
	return -1;
    }
    return 0;
}

/* fetch - decode key's record from an open file; 1, 0 or -1 */
static int fetch(struct tp_db *db, GDBM_FILE dbf, const char *key,
		         struct tp_record *r)
{
    datum   k = {(char *) key, (int) strlen(key)};
    datum   v = gdbm_fetch(dbf, k);
    int     rc;

    if (v.dptr == 0) {
	if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
	    return 0;
	set_error(db, "%s: fetch %s: %s", db->path, key,
		  gdbm_strerror(gdbm_errno));
	return -1;
    }
    rc = record_decode((unsigned char *) v.dptr, (size_t) v.dsize, r);
    free(v.dptr);
    if (rc < 0) {
	set_error(db, "%s: record for %s is damaged or of an unknown version",
		  db->path, key);
	return -1;
    }
    return 1;
}

/* The group sync.  A write is answered only once it is on disk, and
 * syncing is most of what a write costs: with each writer syncing for
 * itself, 16 connections of new networks spent a quarter of their CPU in
 * fsync().  One sync makes every write before it durable, so writers take
 * turns at it (an OFD lock on a byte of the lock file, SYNC_TURN_AT): the
 * writer whose turn it is reads WRITTEN, the count of the last write that
 * is complete, syncs, and records that count as SYNCED; a writer whose
 * count SYNCED already covers, because someone synced after its write, is
 * done without a sync of its own.  A writer that finds the turn taken
 * waits for that sync to end (a futex on ENDED, which counts the syncs
 * that ended) and looks again: the writers that finished during one sync
 * are covered by the next, one sync for all of them.  The turn is
 * released when its holder dies, so a waiter also looks again every
 * SYNC_WAIT_MS; and it waits no longer in all than it would for the lock,
 * then syncs for itself (a holder stopped, say).
 *
 * Both words are read and written as whole words through a mapping of the
 * lock file's first page, beyond the counters (a pread() can see half a
 * pwrite(), and half of a count is a count too large).  WRITTEN is set
 * under the exclusive lock, SYNCED in the sync's turn, so each has one
 * writer at a time.
 *
 * The sync covers the file its writer has open.  A reorganise or a
 * recovery replaces the file, syncing the new one, with every write made
 * before in it, before anyone writes to it; so a writer that finds the
 * file replaced while it held the turn syncs its own write but records
 * nothing, since WRITTEN may count writes to the new file. */
#define SYNC_TURN_AT	((off_t) 1 << 40)
#define SYNC_WAIT_MS	50

static uint64_t sync_word(const struct tp_db *db, int which)
{
    return mapped_word(db, SYNC_AT + 8 * (size_t) which);
}

static void set_sync_word(struct tp_db *db, int which, uint64_t v)
{
    set_mapped_word(db, SYNC_AT + 8 * (size_t) which, v);
}

/* sync_ended_word - ENDED, the futex word: the first 4 bytes of its word */
static uint32_t *sync_ended_word(const struct tp_db *db)
{
    return (uint32_t *) (void *) page_word(db, SYNC_AT + 8 * SYNC_ENDED);
}

/* sync_turn - take (F_WRLCK, without waiting) or give up (F_UNLCK) the
 * turn to sync; 0, or -1 with errno (EAGAIN: another writer has it) */
static int sync_turn(struct tp_db *db, short type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = SYNC_TURN_AT;
    fl.l_len = 1;
    return fcntl(db->lock_fd, F_OFD_SETLK, &fl);
}

/* sync_ended - tell the writers waiting in group_sync() that a sync ended */
static void sync_ended(struct tp_db *db)
{
    uint32_t *ended = sync_ended_word(db);

    __atomic_add_fetch(ended, 1, __ATOMIC_SEQ_CST);
    (void) syscall(SYS_futex, ended, FUTEX_WAKE, INT_MAX, 0, 0, 0);
}

/* wait_sync_end - wait for the sync under way to end (seen: the count of
 * ended syncs before), or SYNC_WAIT_MS, in case its writer died */
static void wait_sync_end(struct tp_db *db, uint32_t seen)
{
    struct timespec ts = {0, SYNC_WAIT_MS * 1000000L};

    (void) syscall(SYS_futex, sync_ended_word(db), FUTEX_WAIT, seen, &ts, 0, 0);
}

/* same_inode - are a and b the same file? */
static int same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* same_file - is st the file (and the version of it) that was opened? */
static int same_file(const struct stat *a, const struct stat *b)
{
    return same_inode(a, b) && a->st_size == b->st_size
	&& a->st_mtim.tv_sec == b->st_mtim.tv_sec
	&& a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* sync_file - sync a writer's file ourselves, counted; 0 or -1 */
static int sync_file(struct tp_db *db, int fd)
{
    db->syncs++;
    if (fdatasync(fd) == 0)
	return 0;
    set_error(db, "%s: sync: %s", db->path, strerror(errno));
    return -1;
}

/* group_sync - make our write durable, by our sync or by another's that
 * followed it; 0 or -1 */
static int group_sync(struct tp_db *db, GDBM_FILE dbf)
{
    const uint32_t *ended = sync_ended_word(db);
    int     fd = gdbm_fdesc(dbf);
    struct stat ours, now;
    uint64_t written;
    uint32_t seen;
    int64_t deadline = monotonic_ms() + db->lock_timeout_ms;
    int     rc = 0;

    for (;;) {
	seen = __atomic_load_n(ended, __ATOMIC_SEQ_CST);
	if (sync_word(db, SYNC_SYNCED) >= db->our_count)
	    return 0;
	if (sync_turn(db, F_WRLCK) == 0)
	    break;
	/* No turns on this file system, or a writer that has held its turn
	 * too long (stopped, say): our own sync, recorded nowhere. */
	if ((errno != EAGAIN && errno != EACCES) || monotonic_ms() >= deadline)
	    return sync_file(db, fd);
	wait_sync_end(db, seen);
    }
    if (sync_word(db, SYNC_SYNCED) < db->our_count) {
	written = sync_word(db, SYNC_WRITTEN);
	if ((rc = sync_file(db, fd)) == 0 && fstat(fd, &ours) == 0
	    && stat(db->path, &now) == 0 && same_inode(&ours, &now))
	    set_sync_word(db, SYNC_SYNCED, written);
    }
    sync_ended(db);
    (void) sync_turn(db, F_UNLCK);
    return rc;
}

/* stand_in - an empty memory file sealed against writes; -1 if none */
static int stand_in(void)
{
    int     fd = memfd_create("tarpit-closed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd >= 0 && fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
	close(fd);
	fd = -1;
    }
    return fd;
}

/* close_synced - close a writer's file that group_sync() has synced.
 * gdbm_close() would sync it again, so it is handed a stand-in to sync
 * and close instead (libgdbm 1.23 only syncs and closes a writer's
 * descriptor there; were one to write, the seal would fail the write
 * rather than let it vanish); without a stand-in, it syncs again. */
static int close_synced(struct tp_db *db, GDBM_FILE dbf)
{
    if (db->stand_in < 0)
	db->stand_in = stand_in();
    if (db->stand_in >= 0)
	(void) dup3(db->stand_in, gdbm_fdesc(dbf), O_CLOEXEC);
    return close_gdbm(db, dbf);
}

/* begin_read - shared lock and open to read: 1 open, 0 no file (unlocked
 * again), -1 error (unlocked again) */
static int begin_read(struct tp_db *db, GDBM_FILE *dbf)
{
    if (lock(db, LOCK_SH) < 0)
	return -1;
    if (open_gdbm(db, USE_WALK, dbf) < 0) {
	unlock(db);
	return -1;
    }
    if (*dbf == 0) {
	unlock(db);
	return 0;
    }
    return 1;
}

/* release_reader - close the reader handle that db_get() keeps */
static void release_reader(struct tp_db *db)
{
    if (db->reader != 0) {
	gdbm_close(db->reader);
	db->reader = 0;
    }
}

/* mapped_generation - the change count, read through the mapping */
static uint64_t mapped_generation(const struct tp_db *db)
{
    return mapped_word(db, 8 * WORD_COUNT);
}

/* db_release - hold no file: the reader handle that db_get() keeps */
void db_release(struct tp_db *db)
{
    if (db->redis) {
	rdb_release(db->redis);
	return;
    }
    release_reader(db);
    unmap_page(db);
}

/* read_free - db_get() without the lock: 1 or 0 answered, -1 when the
 * locked path must answer.  The count is read before and after the fetch;
 * a writer counts before it changes anything, so the same count at both
 * ends means the fetch saw the file the handle was opened on. */
static int read_free(struct tp_db *db, const char *key, struct tp_record *r)
{
    uint64_t before;
    int64_t now;
    struct stat st;
    int     rc;

    if (db->reader == 0 || db->page == 0
	|| (before = mapped_generation(db)) != db->reader_generation)
	return -1;
    if ((now = monotonic_ms()) - db->reader_stat_ms >= 1000) {
	if (stat(db->path, &st) < 0 || !same_file(&st, &db->reader_stat))
	    return -1;
	db->reader_stat_ms = now;
    }
    rc = fetch(db, db->reader, key, r);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (rc >= 0 && mapped_generation(db) == before)
	return rc;
    /* A writer began meanwhile: what the handle read or cached may be
     * half-written. */
    release_reader(db);
    memset(r, 0, sizeof(*r));
    return -1;
}

/* db_get - read one record; 1 found, 0 not, -1 error.  The GDBM handle is
 * kept for the next call while the change count in the lock file says
 * none of our writers has written since it was opened, and the file is
 * the same (not replaced, its size and mtime as they were, in case
 * something else wrote to it): a read is then a fetch from GDBM's cache
 * between two reads of the mapped count (read_free).  Otherwise it takes
 * the shared lock, reads the count and stats the file, and opens anew if
 * either changed. */
int db_get(struct tp_db *db, const char *key, struct tp_record *r)
{
    if (db->redis)
	return rdb_get(db->redis, key, r);
    uint64_t w[WORDS];
    struct stat st;
    int     rc;

    memset(r, 0, sizeof(*r));
    if ((rc = read_free(db, key, r)) >= 0)
	return rc;
    if (lock(db, LOCK_SH) < 0)
	return -1;
    if (lock_words(db, w) < 0) {
	unlock(db);
	return -1;
    }
    if (db->reader != 0 && (w[WORD_COUNT] != db->reader_generation
			    || stat(db->path, &st) < 0
			    || !same_file(&st, &db->reader_stat)))
	release_reader(db);
    if (db->reader == 0) {
	if (open_gdbm(db, USE_LOOKUP, &db->reader) < 0) {
	    unlock(db);
	    return -1;
	}
	if (db->reader == 0) {		/* no database yet */
	    unlock(db);
	    return 0;
	}
	if (fstat(gdbm_fdesc(db->reader), &db->reader_stat) < 0) {
	    set_error(db, "%s: fstat: %s", db->path, strerror(errno));
	    release_reader(db);
	    unlock(db);
	    return -1;
	}
	db->reader_generation = w[WORD_COUNT];
	db->reader_stat_ms = monotonic_ms();
    } else {
	/* A handle used again: map the count, so that the next reads need
	 * no lock.  Not before: a connection that asks once (one for each
	 * mail) would map and unmap it for nothing. */
	(void) map_page(db, 0);
    }
    if ((rc = fetch(db, db->reader, key, r)) < 0)
	release_reader(db);
    unlock(db);
    return rc;
}

/* note_change - remember a key written, for a reorganise in progress */
static void note_change(struct tp_db *db, const char *key)
{
    if (db->rebuild_until == 0)
	return;
    for (const char *c = key;; c++) {
	*(char *) array_add(&db->changed) = *c;
	if (*c == 0)
	    break;
    }
}

/* store_bytes - put one encoded value into the live file (under our
 * exclusive lock; a reorganise that runs hears of the key) */
static int store_bytes(struct tp_db *db, GDBM_FILE dbf, const char *key,
		               unsigned char *buf, size_t len)
{
    datum   k = {(char *) key, (int) strlen(key)};
    datum   v = {(char *) buf, (int) len};

    if (len == 0) {
	set_error(db, "record too large");
	return -1;
    }
    note_change(db, key);
    if (gdbm_store(dbf, k, v, GDBM_REPLACE) != 0) {
	set_error(db, "%s: store %s: %s", db->path, key,
		  gdbm_strerror(gdbm_errno));
	return -1;
    }
    return 0;
}

/* fetch_stats - the host-wide counters from an open file (zero if none) */
static void fetch_stats(GDBM_FILE dbf, struct tp_stats *s)
{
    datum   k = {(char *) STATS_KEY, (int) strlen(STATS_KEY)};
    datum   v = gdbm_fetch(dbf, k);

    memset(s, 0, sizeof(*s));
    if (v.dptr == 0)
	return;
    /* Damaged counters start again from zero rather than block updates. */
    (void) stats_decode((unsigned char *) v.dptr, (size_t) v.dsize, s);
    free(v.dptr);
}

/* tell_rebuild - append the keys we wrote to DATABASE.changes for the
 * reorganise that runs (still under our lock); if they cannot be told,
 * call the reorganise off instead: it must not put back what we wrote */
__attribute__((noinline))
static void tell_rebuild(struct tp_db *db)
{
    char    path[DB_FILE_MAX];
    int     fd, ok;

    if (db->rebuild_until == 0 || db->changed.n == 0)
	return;
    ok = db_file(db->path, DB_FILE_CHANGES, path, sizeof(path)) != 0
	&& (fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0;
    if (ok) {
	ok = write(fd, db->changed.v, db->changed.n) == (ssize_t) db->changed.n;
	ok &= close(fd) == 0;
    }
    if (!ok)
	(void) put_word(db, WORD_REBUILD, 0);
    db->changed.n = 0;
}

/* apply - one key's read-change-write inside an open, locked file */
static int apply(struct tp_db *db, GDBM_FILE dbf, const char *key,
		         struct db_txn *t, db_update_fn *fn, void *ctx)
{
    unsigned char buf[RECORD_MAX_SIZE];
    datum   k = {(char *) key, (int) strlen(key)};
    enum db_change change;

    memset(&t->rec, 0, sizeof(t->rec));
    t->key = key;
    if ((t->found = fetch(db, dbf, key, &t->rec)) < 0)
	return -1;
    change = fn(t, ctx);
    if (change == DB_WRITE) {
	if (store_bytes(db, dbf, key, buf, record_encode(&t->rec, buf, sizeof(buf))) < 0)
	    return -1;
    } else if (change == DB_DELETE && t->found) {
	note_change(db, key);
	if (gdbm_delete(dbf, k) != 0) {
	    set_error(db, "%s: delete %s: %s", db->path, key,
		      gdbm_strerror(gdbm_errno));
	    return -1;
	}
    }
    return (int) change;
}

/* counters - the host-wide counters, under our lock: the lock file's, or
 * (none kept there yet) the database's copy, from dbf or a file opened
 * for it; 0 or -1 */
static int counters(struct tp_db *db, GDBM_FILE dbf, struct tp_stats *st)
{
    int     rc = kept_counters(db, st);

    if (rc != 0)
	return rc < 0 ? -1 : 0;
    if (dbf != 0) {
	fetch_stats(dbf, st);
	return 0;
    }
    if (open_gdbm(db, USE_LOOKUP, &dbf) < 0)
	return -1;
    memset(st, 0, sizeof(*st));
    if (dbf != 0) {
	fetch_stats(dbf, st);
	gdbm_close(dbf);
    }
    return 0;
}

/* begin_write - exclusive lock, file open to write, counters read */
static int begin_write(struct tp_db *db, GDBM_FILE *dbf, struct tp_stats *st)
{
    if (lock_ex(db, 1) < 0)
	return -1;
    if (open_gdbm(db, USE_WRITE, dbf) < 0) {
	unlock(db);
	return -1;
    }
    if (counters(db, *dbf, st) < 0) {
	unlock(db);
	gdbm_close(*dbf);
	return -1;
    }
    return 0;
}

/* end_write - keep the counters if they changed, unlock, close; rc or -1 */
static int end_write(struct tp_db *db, GDBM_FILE dbf, const struct tp_stats *st,
		             int changed, int rc)
{
    if (rc >= 0 && changed && keep_counters(db, st) < 0)
	rc = -1;
    tell_rebuild(db);
    /* Every change is in the file once gdbm_store() returns; closing only
     * syncs it to disk.  So the sync runs after the lock is released, in
     * the group sync (above): the next writer need not wait for our disk,
     * and one sync serves the writers that queued behind it.  The caller
     * still answers only after it. */
    if (rc < 0 || !db->page_writable) {
	unlock(db);
	return close_gdbm(db, dbf) < 0 ? -1 : rc;
    }
    set_sync_word(db, SYNC_WRITTEN, db->our_count);
    unlock(db);
    if (group_sync(db, dbf) < 0) {
	(void) close_gdbm(db, dbf);
	return -1;
    }
    return close_synced(db, dbf) < 0 ? -1 : rc;
}

/* db_update_many - db_update for each key, all under one exclusive lock
 * and one open; returns the last key's change, or -1 */
int db_update_many(struct tp_db *db, char *const *keys, size_t n,
		           db_update_fn *fn, void *ctx)
{
    if (db->redis) {
	int     rc = 0;

	for (size_t i = 0; i < n && rc >= 0; i++)
	    rc = rdb_update(db->redis, keys[i], fn, ctx);
	return rc;
    }
    GDBM_FILE dbf;
    struct db_txn t;
    struct tp_stats totals;
    int     rc = 0;

    memset(&t, 0, sizeof(t));		/* t.stats: the increments, from 0 */
    if (begin_write(db, &dbf, &totals) < 0)
	return -1;
    for (size_t i = 0; i < n && rc >= 0; i++)
	rc = apply(db, dbf, keys[i], &t, fn, ctx);
    stats_add(&totals, &t.stats);
    return end_write(db, dbf, &totals, t.stats_changed, rc);
}

/* db_update_stats - change the host-wide counters alone */
int db_update_stats(struct tp_db *db, void (*fn) (struct tp_stats *, void *),
		            void *ctx)
{
    if (db->redis)
	return rdb_update_stats(db->redis, fn, ctx);
    struct tp_stats st, add;
    int     rc;

    /* The database file itself is not opened, once the lock file keeps
     * the counters, and no change is counted. */
    if (lock_ex(db, 0) < 0)
	return -1;
    if ((rc = counters(db, 0, &st)) == 0) {
	memset(&add, 0, sizeof(add));
	fn(&add, ctx);
	stats_add(&st, &add);
	rc = keep_counters(db, &st);
    }
    unlock(db);
    return rc;
}

/* db_save_counters - copy the lock file's counters into the database
 * (STATS_KEY), synced; 0 or -1 */
int db_save_counters(struct tp_db *db)
{
    if (db->redis)
	return 0;
    unsigned char buf[RECORD_MAX_SIZE];
    GDBM_FILE dbf;
    struct tp_stats st;
    int     rc;

    if (begin_write(db, &dbf, &st) < 0)
	return -1;
    rc = store_bytes(db, dbf, STATS_KEY, buf, stats_encode(&st, buf, sizeof(buf)));
    return end_write(db, dbf, &st, 0, rc);
}

/* db_update - read, let fn change, write back: all under one exclusive lock */
int db_update(struct tp_db *db, const char *key, db_update_fn *fn, void *ctx)
{
    char   *keys[1] = {(char *) key};

    return db_update_many(db, keys, 1, fn, ctx);
}

/* window_holds - is the reorganise's window (until) still open, per the
 * lock file's words w? */
static int window_holds(const uint64_t w[WORDS], uint64_t until)
{
    return w[WORD_REBUILD] == until && monotonic_ms() <= (int64_t) until;
}

/* How long a reorganise may take from its snapshot to the end of its
 * copy, and again from there to its exclusive lock: writers tell it
 * their keys until then (and a reorganise killed half-way costs them that
 * long at most). */
#define REBUILD_WINDOW_MS 60000

/* open_window - open the window for writers' keys, or keep it open, for
 * REBUILD_WINDOW_MS from now (under our lock); 0 or -1 */
static int open_window(struct tp_db *db, uint64_t *until)
{
    *until = (uint64_t) (monotonic_ms() + REBUILD_WINDOW_MS);
    return put_word(db, WORD_REBUILD, *until);
}

#define COPY_PIECE (1 << 20)		/* bytes copied by hand at once */
#define LET_GO_PIECE (4 << 20)		/* bytes of the old file freed at once */

/* copy_all - every key of one open file into another; 0 or -1 */
static int copy_all(struct tp_db *db, GDBM_FILE from, GDBM_FILE to)
{
    datum   k, next;

    for (k = gdbm_firstkey(from); k.dptr != 0; k = next) {
	datum   v = gdbm_fetch(from, k);

	if (v.dptr == 0 || gdbm_store(to, k, v, GDBM_REPLACE) != 0) {
	    set_error(db, "%s: copying a record: %s", db->path, gdbm_strerror(gdbm_errno));
	    free(v.dptr);
	    free(k.dptr);
	    return -1;
	}
	free(v.dptr);
	next = gdbm_nextkey(from, k);
	free(k.dptr);
    }
    if (gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR) {
	set_error(db, "%s: walking the file: %s", db->path, gdbm_strerror(gdbm_errno));
	return -1;
    }
    return 0;
}

/* replay - the keys written since the copy (NUL-terminated, in the
 * changes file), from the live file into the new one, as they are now:
 * those from byte *done of the changes file on, and *done moved to the
 * end of them */
static int replay(struct tp_db *db, int changes, off_t *done, GDBM_FILE from, GDBM_FILE to)
{
    struct stat st;
    char   *buf;
    size_t  len;
    int     rc = 0;

    if (fstat(changes, &st) < 0) {
	set_error(db, "%s: changes: %s", db->path, strerror(errno));
	return -1;
    }
    if (st.st_size <= *done)
	return 0;
    len = (size_t) (st.st_size - *done);
    buf = xmalloc(len + 1);
    if (pread(changes, buf, len, *done) != (ssize_t) len) {
	set_error(db, "%s: changes: cannot read them", db->path);
	free(buf);
	return -1;
    }
    buf[len] = 0;
    for (char *key = buf; rc == 0 && key < buf + len; key += strlen(key) + 1) {
	datum   k = {key, (int) strlen(key)};
	datum   v = gdbm_fetch(from, k);

	if (v.dptr != 0)
	    rc = gdbm_store(to, k, v, GDBM_REPLACE);
	else if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
	    rc = gdbm_delete(to, k) != 0 && gdbm_errno != GDBM_ITEM_NOT_FOUND;
	else
	    rc = -1;
	if (rc != 0)
	    set_error(db, "%s: replaying %s: %s", db->path, key,
		      gdbm_strerror(gdbm_errno));
	free(v.dptr);
    }
    free(buf);
    if (rc != 0)
	return -1;
    *done = st.st_size;
    return 0;
}

/* replay_into - replay() from the live file into the new one at path,
 * under our lock, and sync it: 0 or -1 */
static int replay_into(struct tp_db *db, const char *path, int changes, off_t *done)
{
    GDBM_FILE old, neu;
    int     rc;

    if (open_gdbm(db, USE_WALK, &old) < 0)
	return -1;
    if (old == 0) {
	set_error(db, "%s: removed during the reorganise", db->path);
	return -1;
    }
    neu = gdbm_open(path, 0, GDBM_WRITER | GDBM_NOMMAP | GDBM_NOLOCK | GDBM_CLOEXEC, 0, 0);
    if (neu == 0) {
	set_error(db, "%s: cannot open: %s", path, gdbm_strerror(gdbm_errno));
	gdbm_close(old);
	return -1;
    }
    rc = replay(db, changes, done, old, neu);
    gdbm_close(old);
    if (close_gdbm(db, neu) < 0)
	rc = -1;
    return rc;
}

/* new_file - create the rebuilt file (and chown the changes file) with
 * the owner and mode of the database, st */
static GDBM_FILE new_file(struct tp_db *db, const char *path, int changes,
			          const struct stat *st)
{
    GDBM_FILE neu;
    int     fd;

    if (unlink(path) < 0 && errno != ENOENT) {
	set_error(db, "%s: %s", path, strerror(errno));
	return 0;
    }
    neu = gdbm_open(path, 0, GDBM_NEWDB | GDBM_NOMMAP | GDBM_NOLOCK | GDBM_CLOEXEC,
		    (int) (st->st_mode & 0666), 0);
    if (neu == 0) {
	set_error(db, "%s: cannot create: %s", path, gdbm_strerror(gdbm_errno));
	return 0;
    }
    fd = gdbm_fdesc(neu);
    if (fchmod(fd, st->st_mode & 07777) < 0 || fchown(fd, st->st_uid, st->st_gid) < 0
	|| fchmod(changes, st->st_mode & 0660) < 0
	|| fchown(changes, st->st_uid, st->st_gid) < 0) {
	set_error(db, "%s: cannot give it the owner and mode of %s: %s", path,
		  db->path, strerror(errno));
	gdbm_close(neu);
	return 0;
    }
    return neu;
}

/* copy_bytes - the first size bytes of from into to; 0 or -1 */
static int copy_bytes(int from, int to, off_t size)
{
    off_t   done = 0;
    ssize_t n = 0;
    char   *buf = 0;

    while (done < size) {
	loff_t  in = done, out = done;

	if (buf == 0) {
	    n = copy_file_range(from, &in, to, &out, (size_t) (size - done), 0);
	    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS
			  || errno == EOPNOTSUPP)) {
		buf = xmalloc(COPY_PIECE);	/* by hand, then */
		continue;
	    }
	} else if ((n = pread(from, buf, COPY_PIECE, done)) > 0
		   && pwrite(to, buf, (size_t) n, done) != n)
	    n = -1;
	if (n <= 0)
	    break;
	done += n;
    }
    free(buf);
    return done == size ? 0 : -1;
}

/* snapshot - the database file's bytes, copied under the shared lock (no
 * writer is under way, so they are a whole GDBM file) into a file with
 * no name beside it (or one named DATABASE.snapshot and removed at once,
 * where the file system has no such files); its descriptor, or -1 */
static int snapshot(struct tp_db *db, int from, off_t size)
{
    char    name[DB_FILE_MAX];
    int     fd = -1;

    if (db_file(db->path, DB_FILE_DIR, name, sizeof(name)) != 0)
	fd = open(name, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && db_file(db->path, DB_FILE_SNAPSHOT, name, sizeof(name)) != 0
	&& (fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
	(void) unlink(name);
    if (fd < 0) {
	set_error(db, "%s: cannot make a snapshot beside it: %s", db->path, strerror(errno));
	return -1;
    }
    errno = 0;
    if (copy_bytes(from, fd, size) < 0) {
	set_error(db, "%s: snapshot: %s", db->path, errno ? strerror(errno) : "short copy");
	close(fd);
	return -1;
    }
    return fd;
}

/* catch_up - once the copy is done: under the shared lock (writers wait,
 * readers go on), the keys written during the copy replayed into the new
 * file, so that the exclusive lock later has only the few written since
 * to replay (*done: how far the changes file is replayed), and the
 * window kept open for the rest; 0, or -1 (also when the window closed
 * before: writes since may have gone untold) */
static int catch_up(struct tp_db *db, const char *path, int changes, uint64_t *until,
		            off_t *done)
{
    uint64_t w[WORDS];
    int     rc = -1;

    if (lock(db, LOCK_SH) < 0)
	return -1;
    if (lock_words(db, w) == 0) {
	if (!window_holds(w, *until))
	    set_error(db, "%s: the copy took longer than %d s", db->path,
		      REBUILD_WINDOW_MS / 1000);
	else if (replay_into(db, path, changes, done) == 0)
	    rc = open_window(db, until);
    }
    unlock(db);
    return rc;
}

/* Updates a rebuild makes in the new file, after its copy (db_load). */
struct rebuild_extra {
    char   *const *keys;
    size_t  n;
    db_update_fn *fn;
    void   *ctx;
};

/* apply_into - the extra updates, into the new file: no writer sees it
 * yet, so no change is noted; 0 or -1 */
static int apply_into(struct tp_db *db, GDBM_FILE neu, const struct rebuild_extra *x)
{
    unsigned char buf[RECORD_MAX_SIZE];
    struct db_txn t;

    for (size_t i = 0; i < x->n; i++) {
	datum   k = {(char *) x->keys[i], (int) strlen(x->keys[i])};
	enum db_change change;

	memset(&t, 0, sizeof(t));
	t.key = x->keys[i];
	if ((t.found = fetch(db, neu, t.key, &t.rec)) < 0)
	    return -1;
	change = x->fn(&t, x->ctx);
	if (change == DB_WRITE) {
	    datum   v = {(char *) buf, (int) record_encode(&t.rec, buf, sizeof(buf))};

	    if (v.dsize == 0 || gdbm_store(neu, k, v, GDBM_REPLACE) != 0) {
		set_error(db, "%s: store %s: %s", db->path, t.key,
			  v.dsize ? gdbm_strerror(gdbm_errno) : "record too large");
		return -1;
	    }
	} else if (change == DB_DELETE && t.found && gdbm_delete(neu, k) != 0) {
	    set_error(db, "%s: delete %s: %s", db->path, t.key, gdbm_strerror(gdbm_errno));
	    return -1;
	}
    }
    return 0;
}

/* build - the copy.  Under the shared lock (readers go on, writers wait)
 * the file's bytes are copied as they are, which takes a fraction of the
 * time copying its records does, and the window for writers to tell
 * their keys is opened.  The records are then copied from that snapshot
 * into the new file, and the new file synced, without a lock.  0, 1 no
 * database, or -1. */
static int build(struct tp_db *db, const char *path, int changes, uint64_t *until,
		          off_t *done, const struct rebuild_extra *extra)
{
    GDBM_FILE from, neu;
    struct stat st;
    int     live, snap = -1, rc = -1;

    if (lock(db, LOCK_SH) < 0)
	return -1;
    if ((live = open(db->path, O_RDONLY | O_CLOEXEC)) < 0) {
	unlock(db);
	if (errno == ENOENT)
	    return 1;
	set_error(db, "%s: cannot open database: %s", db->path, strerror(errno));
	return -1;
    }
    if (fstat(live, &st) < 0)
	set_error(db, "%s: fstat: %s", db->path, strerror(errno));
    else if ((snap = snapshot(db, live, st.st_size)) >= 0) {
	/* What a reorganise killed before left here is in the copy. */
	if (ftruncate(changes, 0) < 0) {
	    set_error(db, "%s: changes: %s", db->path, strerror(errno));
	} else {
	    rc = open_window(db, until);
	}
    }
    close(live);
    unlock(db);
    if (rc < 0) {
	if (snap >= 0)
	    close(snap);
	return -1;
    }
    /* gdbm_close() closes the snapshot, and with it the last of it. */
    from = gdbm_fd_open(snap, db->path, 0, GDBM_READER | GDBM_NOLOCK | GDBM_CLOERROR, 0);
    if (from == 0) {
	set_error(db, "%s: snapshot: %s", db->path, gdbm_strerror(gdbm_errno));
	return -1;
    }
    if ((neu = new_file(db, path, changes, &st)) == 0) {
	gdbm_close(from);
	return -1;
    }
    rc = copy_all(db, from, neu);
    if (rc == 0 && extra)
	rc = apply_into(db, neu, extra);
    gdbm_close(from);
    if (close_gdbm(db, neu) < 0)
	rc = -1;
    return rc < 0 ? -1 : catch_up(db, path, changes, until, done);
}

/* swap_in - with the exclusive lock held: the keys written since the copy
 * put into the new file as they are now, and the new file renamed over
 * the old */
static int swap_in(struct tp_db *db, const char *path, int changes, uint64_t until,
		           off_t done, int *replaced)
{
    uint64_t w[WORDS];
    int     rc;

    if (lock_words(db, w) < 0)
	return -1;
    if (!window_holds(w, until)) {
	set_error(db, "%s: writes during the reorganise could not be followed "
		  "(the window closed or a writer could not tell of its keys); "
		  "the file is left as it was", db->path);
	return -1;
    }
    rc = replay_into(db, path, changes, &done);
    if (rc == 0 && (*replaced = open(db->path, O_WRONLY | O_CLOEXEC)) < 0) {
	set_error(db, "%s: %s", db->path, strerror(errno));
	rc = -1;
    }
    if (rc == 0 && rename(path, db->path) < 0) {
	set_error(db, "%s: cannot replace %s: %s", path, db->path, strerror(errno));
	close(*replaced);		/* still the database: keep it whole */
	*replaced = -1;
	rc = -1;
    }
    return rc;
}

/* let_go - free the replaced file's space a piece at a time, before the
 * last reader that still has it open closes it: that close would free it
 * all at once, tens of milliseconds inside a lookup.  A reader that still
 * reads it sees zeros, and its change count tells it to read again. */
static void let_go(int fd)
{
    struct stat st;

    if (fstat(fd, &st) == 0)
	for (off_t at = 0; at < st.st_size; at += LET_GO_PIECE)
	    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at,
			  LET_GO_PIECE) < 0)
		break;
    close(fd);
}

/* sync_dir - make a rename in the database's directory durable */
static void sync_dir(const char *database)
{
    char    dir[DB_FILE_MAX];
    int     fd;

    if (db_file(database, DB_FILE_DIR, dir, sizeof(dir)) == 0
	|| (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	return;
    (void) fsync(fd);
    close(fd);
}

/* rebuild - a new file from the live one, with extra updates in it, and
 * renamed into place (db_reorganize, db_load): under the shared lock (readers go on, writers wait their turn) copy the
 * file's bytes to a snapshot, and from then on writers note in
 * DATABASE.changes the keys they write; copy every record of the snapshot
 * into a new file and sync it without a lock; replay the keys noted so far
 * under the shared lock, then under the exclusive lock those noted since,
 * and rename the new file into place.  Writers wait for the snapshot
 * (0.3 s at a million networks) and the first replay; the exclusive hold
 * is the replay of a few keys and a rename; readers that keep a handle see
 * the new file by the change count.  One rebuild at a time: another one
 * running makes a reorganise return 0 at once, a load fail.  1 when there
 * is no file yet. */
static int rebuild(struct tp_db *db, const struct rebuild_extra *extra)
{
    char    path[DB_FILE_MAX], changes_path[DB_FILE_MAX];
    uint64_t until = 0;
    off_t   done = 0;
    int     changes, rc, replaced = -1;

    if (db_file(db->path, DB_FILE_REBUILD, path, sizeof(path)) == 0
	|| db_file(db->path, DB_FILE_CHANGES, changes_path, sizeof(changes_path)) == 0) {
	set_error(db, "%s: name too long", db->path);
	return -1;
    }
    changes = open(changes_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (changes < 0) {
	set_error(db, "%s: %s", changes_path, strerror(errno));
	return -1;
    }
    if (flock(changes, LOCK_EX | LOCK_NB) < 0) {
	close(changes);
	if (errno == EWOULDBLOCK && extra == 0)
	    return 0;
	set_error(db, "%s: %s", changes_path, errno == EWOULDBLOCK
		  ? "another reorganise (expire) is running; try again" : strerror(errno));
	return -1;
    }
    rc = build(db, path, changes, &until, &done, extra);
    if (rc == 0) {
	if (lock_ex(db, 1) < 0)
	    rc = -1;
	else {
	    rc = swap_in(db, path, changes, until, done, &replaced);
	    (void) put_word(db, WORD_REBUILD, 0);
	    unlock(db);
	}
    }
    if (replaced >= 0)
	let_go(replaced);
    if (rc == 0)
	sync_dir(db->path);
    else
	(void) unlink(path);
    (void) unlink(changes_path);
    close(changes);
    return rc;
}

/* db_reorganize - give the space of deleted records back to the system */
int db_reorganize(struct tp_db *db)
{
    if (db->redis)
	return 0;			/* the server manages its memory */
    return rebuild(db, 0) < 0 ? -1 : 0;
}

/* db_load - many updates at once, all or nothing where the store can:
 * a GDBM file is rebuilt (as db_reorganize() does) with the updates made
 * in the new file, which is renamed into place only when whole (a full
 * disk leaves the old file as it was, and nothing behind); a key written
 * by a helper while it ran keeps what the helper wrote.  A server takes
 * them one by one: *done says how many were written.  0 or -1 */
int db_load(struct tp_db *db, char *const *keys, size_t n, db_update_fn *fn,
	            void *ctx, size_t *done)
{
    struct rebuild_extra x = {keys, n, fn, ctx};
    struct tp_stats st;
    GDBM_FILE dbf;
    int     rc;

    *done = 0;
    if (db->redis) {
	for (; *done < n; (*done)++)
	    if (rdb_update(db->redis, keys[*done], fn, ctx) < 0)
		return -1;
	return 0;
    }
    if ((rc = rebuild(db, &x)) == 1) {
	/* No file yet: make an empty one, and build on it. */
	if (begin_write(db, &dbf, &st) < 0 || end_write(db, dbf, &st, 0, 0) < 0)
	    return -1;
	rc = rebuild(db, &x);
    }
    if (rc != 0)
	return -1;
    *done = n;
    return 0;
}

/* printable - a key for a message: up to 64 bytes, the unprintable ones
 * as \xNN (a damaged file's keys may be anything) */
static const char *printable(datum k, char *buf, size_t len)
{
    size_t  at = 0;

    for (int i = 0; i < k.dsize && i < 64 && at + 5 < len; i++) {
	unsigned char c = (unsigned char) k.dptr[i];

	if (c < 0x20 || c >= 0x7f)
	    at += (size_t) snprintf(buf + at, len - at, "\\x%02x", c);
	else
	    buf[at++] = (char) c;
    }
    buf[at] = 0;
    return buf;
}

/* sound - does a stored value decode as what its key says it holds? */
static int sound(datum k, datum v)
{
    struct tp_record r;
    struct tp_stats st;

    if (k.dsize == (int) strlen(STATS_KEY) && memcmp(k.dptr, STATS_KEY, (size_t) k.dsize) == 0)
	return stats_decode((unsigned char *) v.dptr, (size_t) v.dsize, &st) == 0;
    return record_decode((unsigned char *) v.dptr, (size_t) v.dsize, &r) == 0;
}

/* drop_unsound - delete what GDBM recovered but our codec cannot read
 * (a bucket damaged into garbage keys and values); how many, or -1; the
 * records kept, the store's own counters aside, in *kept.  The keys are
 * collected first: never delete while walking. */
static long drop_unsound(struct tp_db *db, GDBM_FILE dbf, long *kept)
{
    struct array bad = ARRAY_OF(datum);
    datum   k, next;
    long    dropped = 0;

    for (k = gdbm_firstkey(dbf); k.dptr != 0; k = next) {
	datum   v = gdbm_fetch(dbf, k);
	int     keep = v.dptr != 0 && sound(k, v);

	free(v.dptr);
	next = gdbm_nextkey(dbf, k);
	if (keep) {
	    *kept += !(k.dsize == (int) strlen(STATS_KEY)
		       && memcmp(k.dptr, STATS_KEY, strlen(STATS_KEY)) == 0);
	    free(k.dptr);
	    continue;
	}
	*(datum *) array_add(&bad) = k;
    }
    for (size_t i = 0; i < bad.n; i++) {
	datum   b = ((datum *) bad.v)[i];

	if (gdbm_delete(dbf, b) == 0)
	    dropped++;
	else if (gdbm_errno != GDBM_ITEM_NOT_FOUND) {
	    set_error(db, "%s: cannot drop a damaged record: %s", db->path,
		      gdbm_strerror(gdbm_errno));
	    dropped = -1;
	}
	free(b.dptr);
	if (dropped < 0) {
	    while (++i < bad.n)
		free(((datum *) bad.v)[i].dptr);
	    break;
	}
    }
    array_free(&bad);
    return dropped;
}

/* siblings - the names beside the database that start with its own and
 * a dot (GDBM's recovery makes its new file as DATABASE.XXXXXX) */
static void siblings(struct tp_db *db, struct array *names)
{
    char    dir[DB_FILE_MAX];
    const char *base = strrchr(db->path, '/') ? strrchr(db->path, '/') + 1 : db->path;
    size_t  n = strlen(base);
    DIR    *d;
    struct dirent *e;

    if (db_file(db->path, DB_FILE_DIR, dir, sizeof(dir)) == 0 || (d = opendir(dir)) == 0)
	return;
    while ((e = readdir(d)) != 0)
	if (strncmp(e->d_name, base, n) == 0 && e->d_name[n] == '.')
	    *(char **) array_add(names) = xstrdup(e->d_name);
    closedir(d);
}

/* free_siblings - what siblings() gathered */
static void free_siblings(struct array *names)
{
    for (size_t i = 0; i < names->n; i++)
	free(((char **) names->v)[i]);
    array_free(names);
}

/* remove_new_siblings - a failed recovery leaves nothing behind: the
 * siblings that were not there before it are removed */
static void remove_new_siblings(struct tp_db *db, const struct array *before)
{
    struct array now = ARRAY_OF(char *);
    char    dir[DB_FILE_MAX], path[DB_FILE_MAX + 256];

    if (db_file(db->path, DB_FILE_DIR, dir, sizeof(dir)) == 0)
	return;
    siblings(db, &now);
    for (size_t i = 0; i < now.n; i++) {
	const char *name = ((char **) now.v)[i];
	size_t  k;

	for (k = 0; k < before->n && strcmp(((char **) before->v)[k], name) != 0; k++)
	    ;
	if (k == before->n && snprintf(path, sizeof(path), "%s/%s", dir, name)
	    < (int) sizeof(path))
	    (void) unlink(path);
    }
    free_siblings(&now);
}

/* db_recover - rebuild a damaged file from what can still be read, and
 * drop what was recovered but is garbage; the damaged file is kept as a
 * backup.  0 (with the counts) or -1. */
int db_recover(struct tp_db *db, struct db_recovery *out)
{
    if (db->redis) {
	memset(out, 0, sizeof(*out));
	return 0;			/* nothing of ours to rebuild */
    }
    GDBM_FILE dbf;
    gdbm_recovery rcvr;
    struct array before = ARRAY_OF(char *);
    int     rc = 0;

    memset(out, 0, sizeof(*out));
    if (lock_ex(db, 1) < 0)
	return -1;
    (void) put_word(db, WORD_REBUILD, 0);	/* this file is replaced */
    dbf = gdbm_open(db->path, 0, GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC, 0640, 0);
    if (dbf == 0) {
	set_error(db, "%s: cannot be opened for recovery: %s; move it away "
		  "and load a dump", db->path, gdbm_strerror(gdbm_errno));
	unlock(db);
	return -1;
    }
    memset(&rcvr, 0, sizeof(rcvr));
    out->needed = gdbm_needs_recovery(dbf);
    siblings(db, &before);
    if (gdbm_recover(dbf, &rcvr, GDBM_RCVR_BACKUP | GDBM_RCVR_FORCE) != 0) {
	int     e = errno;

	/* GDBM says "No error" for a full disk: the system's word is why. */
	set_error(db, "%s: recovery failed: %s%s%s; the file is as it was", db->path,
		  gdbm_strerror(gdbm_errno), e ? ": " : "", e ? strerror(e) : "");
	remove_new_siblings(db, &before);
	rc = -1;
    }
    free_siblings(&before);
    out->recovered = (long) rcvr.recovered_keys;
    out->failed = (long) (rcvr.failed_keys + rcvr.duplicate_keys);
    if (rc == 0) {
	long    kept = 0, dropped = drop_unsound(db, dbf, &kept);

	if (dropped < 0)
	    rc = -1;
	else {
	    out->recovered = kept;	/* what the file holds now */
	    out->failed += dropped;
	}
    }
    out->failed_buckets = (long) rcvr.failed_buckets;
    if (rcvr.backup_name) {
	snprintf(out->backup, sizeof(out->backup), "%s", rcvr.backup_name);
	free(rcvr.backup_name);
    }
    gdbm_close(dbf);
    unlock(db);
    return rc;
}

/* db_check - open, walk and verify every record; 0 sound, -1 damaged
 * (db_error says how) */
int db_check(struct tp_db *db, long *records)
{
    if (db->redis)
	return (*records = rdb_count(db->redis)) < 0 ? -1 : 0;
    GDBM_FILE dbf;
    datum   k, next;
    int     rc;

    *records = 0;
    if ((rc = begin_read(db, &dbf)) <= 0)
	return rc;
    rc = 0;
    for (k = gdbm_firstkey(dbf); k.dptr != 0; k = next) {
	datum   v = gdbm_fetch(dbf, k);

	if (v.dptr == 0) {
	    set_error(db, "%s: a record cannot be read: %s", db->path,
		      gdbm_strerror(gdbm_errno));
	    rc = -1;
	} else {
	    if (!sound(k, v)) {
		char    name[4 * 64 + 1];

		set_error(db, "%s: record %s is damaged", db->path,
			  printable(k, name, sizeof(name)));
		rc = -1;
	    }
	    free(v.dptr);
	    (*records)++;
	}
	next = gdbm_nextkey(dbf, k);
	free(k.dptr);
	if (rc < 0) {
	    free(next.dptr);
	    break;
	}
    }
    if (rc == 0 && gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR) {
	set_error(db, "%s: walking the file: %s", db->path, gdbm_strerror(gdbm_errno));
	rc = -1;
    }
    if (rc == 0 && gdbm_needs_recovery(dbf)) {
	set_error(db, "%s: needs recovery", db->path);
	rc = -1;
    }
    gdbm_close(dbf);
    unlock(db);
    return rc;
}

/* db_size - the database file's size in bytes, or -1 */
long long db_size(struct tp_db *db)
{
    if (db->redis)
	return -1;
    struct stat st;

    return stat(db->path, &st) < 0 ? -1 : (long long) st.st_size;
}

/* db_get_stats - the host-wide counters under a shared lock; 0 or -1 */
int db_get_stats(struct tp_db *db, struct tp_stats *s)
{
    if (db->redis)
	return rdb_get_stats(db->redis, s);
    int     rc;

    memset(s, 0, sizeof(*s));
    if (lock(db, LOCK_SH) < 0)
	return -1;
    rc = counters(db, 0, s);
    unlock(db);
    return rc;
}

static enum db_change delete_fn(struct db_txn *t, void *ctx)
{
    *(int *) ctx = t->found;
    return DB_DELETE;
}

/* db_delete - remove a key; 1 removed, 0 absent, -1 error */
int db_delete(struct tp_db *db, const char *key)
{
    int     found = 0;

    if (db_update(db, key, delete_fn, &found) < 0)
	return -1;
    return found;
}

/* walk - every network's record; with all, the other reserved keys
 * ('@', such as greylist entries) too, but never the store's own */
static int walk(struct tp_db *db, db_walk_fn *fn, void *ctx, int all)
{
    if (db->redis)
	return rdb_walk(db->redis, fn, ctx, all);
    GDBM_FILE dbf;
    datum   k, next;
    int     count = 0;
    int     stopped = 0;
    int     rc;

    if ((rc = begin_read(db, &dbf)) <= 0)
	return rc;
    rc = 0;
    for (k = gdbm_firstkey(dbf); k.dptr != 0; k = next) {
	char    key[DB_KEY_MAX];
	struct tp_record r;

	int     ours = k.dsize == (int) strlen(STATS_KEY)
	&& memcmp(k.dptr, STATS_KEY, strlen(STATS_KEY)) == 0;

	if (k.dsize > 0 && k.dsize < (int) sizeof(key) && !ours
	    && (k.dptr[0] != '@' || all)) {
	    memcpy(key, k.dptr, (size_t) k.dsize);
	    key[k.dsize] = 0;
	    if (fetch(db, dbf, key, &r) == 1) {
		count++;
		if (fn(key, &r, ctx) != 0) {
		    free(k.dptr);
		    stopped = 1;
		    break;
		}
	    }
	}
	next = gdbm_nextkey(dbf, k);
	free(k.dptr);
    }
    if (!stopped && gdbm_errno != GDBM_ITEM_NOT_FOUND
	&& gdbm_errno != GDBM_NO_ERROR) {
	set_error(db, "%s: walk: %s", db->path, gdbm_strerror(gdbm_errno));
	rc = -1;
    }
    gdbm_close(dbf);
    unlock(db);
    return rc < 0 ? -1 : count;
}

/* db_walk - every network's record, in file order, under one shared lock */
int db_walk(struct tp_db *db, db_walk_fn *fn, void *ctx)
{
    return walk(db, fn, ctx, 0);
}

/* db_walk_mapped - walks map the file: faster, where holding it all in
 * memory for a moment is fine (expire, under the shared lock) */
void    db_walk_mapped(struct tp_db *db)
{
    db->walk_mapped = 1;
}

/* db_walk_all - the same, other modules' reserved keys included */
int db_walk_all(struct tp_db *db, db_walk_fn *fn, void *ctx)
{
    return walk(db, fn, ctx, 1);
}

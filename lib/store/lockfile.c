/*
 * NAME
 *	lockfile - the GDBM backend's lock file: the lock, and the words
 *	every user of the database shares
 * DESCRIPTION
 *	Every operation takes a lock on a separate lock file beside the
 *	database (DATABASE.lock): shared to read, exclusive to write.  Inside
 *	the lock it opens the GDBM file with GDBM_NOLOCK and does its work.
 *	Why not lock the database file itself: GDBM reads the header during
 *	gdbm_open(), before a lock on its descriptor could be taken, and
 *	a reorganise replaces the file, so a lock on the old inode would
 *	protect nothing.  GDBM's own locks fail at once instead of waiting, so
 *	they cannot serialise writers either.
 *
 *	Lock waits are bounded (DB_LOCK_TIMEOUT_MS): a stuck holder makes an
 *	operation fail, and the helpers then answer DUNNO, rather than hang.
 *
 *	The words (file.h has their layout) are read and written through one
 *	mapping of the file's first page once there is one (map): whole
 *	atomic words, no system call; before that with pread() and pwrite().
 *	A lock file of another layout is refused with a message that says
 *	so, rather than misread.  The words are there because they let a
 *	kept reader look without a lock and a write skip the counters' record
 *	in the database (bench/results.md, "The GDBM backend's machinery").
 */
#define _GNU_SOURCE
#include "store/file.h"
#include "util/clock.h"
#include "util/timedlock.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

/* lockfile_lock - flock the lock file, waiting at most lock_timeout_ms (timedlock:
 * the process's timers and handlers are left as they were) */
int lockfile_lock(struct fdb *db, int op)
{
    if (db->lock_fd < 0) {
	db->lock_fd = open(db->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (db->lock_fd < 0 && (errno == EACCES || errno == EROFS))
	    db->lock_fd = open(db->lock_path, O_RDONLY | O_CLOEXEC);
	if (db->lock_fd < 0) {
	    db_set_error(&db->base, "%s: cannot open lock file: %s",
		      db->lock_path, strerror(errno));
	    return -1;
	}
    }
    if (timedlock(db->lock_fd, op, db->base.lock_timeout_ms) == 0)
	return 0;
    if (errno == ETIMEDOUT)
	db_set_error(&db->base, "%s: lock not granted within %d ms",
		  db->lock_path, db->base.lock_timeout_ms);
    else
	db_set_error(&db->base, "%s: flock: %s", db->lock_path, strerror(errno));
    return -1;
}

/* lockfile_unlock - the lock let go; an exclusive hold timed */
void    lockfile_unlock(struct fdb *db)
{
    if (db->held_since) {
	int64_t held = monotonic_ms() - db->held_since;

	if (held > db->base.longest_hold_ms)
	    db->base.longest_hold_ms = held;
	db->held_since = 0;
    }
    flock(db->lock_fd, LOCK_UN);
}

/* lockfile_page_word - the word at byte at of the mapped page */
uint64_t *lockfile_page_word(const struct fdb *db, size_t at)
{
    return (uint64_t *) (void *) (db->page + at);
}

/* lockfile_mapped - a word of the lock file read whole through the mapping */
uint64_t lockfile_mapped(const struct fdb *db, size_t at)
{
    return be64toh(__atomic_load_n(lockfile_page_word(db, at), __ATOMIC_ACQUIRE));
}

/* lockfile_set_mapped - a word of the lock file written whole through it */
void lockfile_set_mapped(struct fdb *db, size_t at, uint64_t v)
{
    __atomic_store_n(lockfile_page_word(db, at), htobe64(v), __ATOMIC_RELEASE);
}

/* lockfile_unmap - let go of the lock file's mapped page */
void lockfile_unmap(struct fdb *db)
{
    if (db->page != 0) {
	munmap(db->page, (size_t) sysconf(_SC_PAGESIZE));
	db->page = 0;
	db->page_writable = 0;
    }
}

/* lockfile_map - map the lock file's first page, where its words live: to
 * read them (a kept reader's count), once the file is a page long, or to
 * write them too (a writer's, under the exclusive lock, which lets the
 * file grow to a page: a mapped page beyond a file's end can be neither
 * read nor written).  The words are then read and written as whole
 * atomic words, with no system call; 0, or -1 and they are read and
 * written with pread() and pwrite() instead. */
int lockfile_map(struct fdb *db, int writable)
{
    struct stat st;
    long    page = sysconf(_SC_PAGESIZE);
    void   *p;

    if (db->page != 0 && (db->page_writable || !writable))
	return 0;
    /* A writable mapping's page has its blocks on disk first: a write
     * through it to a hole on a full file system would be a SIGBUS. */
    if (page < SYNC_AT + 8 * SYNC_WORDS || fstat(db->lock_fd, &st) < 0
	|| (st.st_size < page && !writable)
	|| (writable && posix_fallocate(db->lock_fd, 0, page) != 0))
	return -1;
    p = mmap(0, (size_t) page, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
	     db->lock_fd, 0);
    if (p == MAP_FAILED)
	return -1;
    lockfile_unmap(db);
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

/* lockfile_words - the lock file's words (0 where it is still shorter):
 * through the mapping once there is one, otherwise read; -1 (said) for
 * a lock file of another layout */
int lockfile_words(struct fdb *db, uint64_t w[WORDS])
{
    unsigned char b[8 * WORDS] = {0};

    if (db->page != 0) {
	for (int i = 0; i < WORDS; i++)
	    w[i] = lockfile_mapped(db, 8 * (size_t) i);
    } else if (pread(db->lock_fd, b, sizeof(b), 0) < 0) {
	db_set_error(&db->base, "%s: read: %s", db->lock_path, strerror(errno));
	return -1;
    } else {
	for (int i = 0; i < WORDS; i++)
	    w[i] = word(b, i);
    }
    if (w[WORD_MAGIC] != 0 && (w[WORD_MAGIC] != LOCKFILE_MAGIC
			       || w[WORD_VERSION] != LOCKFILE_VERSION)) {
	db_set_error(&db->base, "%s: not a lock file of this version's layout (%s %llu, "
		   "this version reads %d): stop whatever else uses the database, "
		   "then remove the lock file (the counters' hourly copy is in "
		   "the database)", db->lock_path,
		   w[WORD_MAGIC] == LOCKFILE_MAGIC ? "layout" : "magic",
		   (unsigned long long) (w[WORD_MAGIC] == LOCKFILE_MAGIC
					 ? w[WORD_VERSION] : w[WORD_MAGIC]),
		   LOCKFILE_VERSION);
	return -1;
    }
    return 0;
}

/* lockfile_put - set one word of the lock file (under our lock) */
int lockfile_put(struct fdb *db, int which, uint64_t v)
{
    uint64_t b = htobe64(v);

    if (db->page_writable) {
	lockfile_set_mapped(db, 8 * (size_t) which, v);
	return 0;
    }
    if (pwrite(db->lock_fd, &b, sizeof(b), 8 * which) != (ssize_t) sizeof(b)) {
	db_set_error(&db->base, "%s: cannot write (writers need the lock file "
		  "writable): %s", db->lock_path, strerror(errno));
	return -1;
    }
    return 0;
}

/* The host-wide counters live in the lock file, beside the change count,
 * not in the database: every write changes them, and storing them there
 * doubled the pages each write dirtied and synced.  A write of them is one pwrite() under
 * the exclusive lock, atomic for a process killed at any moment; the
 * KEY_STATS record in the database is their copy, saved by
 * file_save_counters() (the hourly expire) and read where the lock file
 * holds none, so that a lost or damaged lock file costs an hour of counts
 * at most, and a power failure those the kernel had not written back. */

/* lockfile_counters - the counters of the lock file; 1, or 0 where it keeps
 * none (or none that decode), -1 on error */
int lockfile_counters(struct fdb *db, struct tp_stats *s)
{
    unsigned char b[COUNTERS_AT + RECORD_MAX_SIZE];
    uint64_t len;
    ssize_t n = (ssize_t) sizeof(b);

    if (db->page != 0)
	memcpy(b, db->page, sizeof(b));	/* under the lock: no writer */
    else if ((n = pread(db->lock_fd, b, sizeof(b), 0)) < 0) {
	db_set_error(&db->base, "%s: read: %s", db->lock_path, strerror(errno));
	return -1;
    }
    if (n < COUNTERS_AT)
	return 0;
    len = word(b, WORD_COUNTERS);
    return len > 0 && len <= (uint64_t) (n - COUNTERS_AT)
	&& stats_decode(b + COUNTERS_AT, (size_t) len, s) == 0;
}

/* lockfile_keep_counters - write the counters into the lock file (under our
 * exclusive lock): their length and bytes (and the words between, as
 * they are) in one pwrite(), even where
 * the page is mapped (a process killed half-way through a copy into the
 * mapping would leave half of them) */
int lockfile_keep_counters(struct fdb *db, const struct tp_stats *s)
{
    unsigned char b[COUNTERS_AT + RECORD_MAX_SIZE];
    size_t  len = stats_encode(s, b + COUNTERS_AT, RECORD_MAX_SIZE);
    size_t  from = 8 * WORD_COUNTERS;
    uint64_t w[WORDS], be;

    if (len == 0) {
	db_set_error(&db->base, "the counters do not encode");
	return -1;
    }
    if (lockfile_words(db, w) < 0)
	return -1;
    w[WORD_COUNTERS] = len;
    memset(b + from, 0, COUNTERS_AT - from);
    for (int i = WORD_COUNTERS; i < WORDS; i++) {
	be = htobe64(w[i]);
	memcpy(b + 8 * i, &be, sizeof(be));
    }
    if (pwrite(db->lock_fd, b + from, COUNTERS_AT - from + len, (off_t) from)
	!= (ssize_t) (COUNTERS_AT - from + len)) {
	db_set_error(&db->base, "%s: cannot write: %s", db->lock_path, strerror(errno));
	return -1;
    }
    return 0;
}

/* lockfile_lock_ex - the exclusive lock, timing how long it is held.  To change
 * the database (changing), also a new change count, counted before
 * anything changes: a writer killed half-way still leaves every kept
 * reader handle out of date; and whether a reorganise wants to hear of
 * our writes.  The counters alone live in the lock file, read only under
 * the lock: changing them counts no change, so that kept readers keep
 * their handles. */
int lockfile_lock_ex(struct fdb *db, int changing)
{
    uint64_t w[WORDS] = {0};

    if (lockfile_lock(db, LOCK_EX) < 0)
	return -1;
    (void) lockfile_map(db, 1);		/* or the words are read and written */
    if (lockfile_words(db, w) < 0
	|| (w[WORD_MAGIC] == 0 && (lockfile_put(db, WORD_MAGIC, LOCKFILE_MAGIC) < 0
				   || lockfile_put(db, WORD_VERSION, LOCKFILE_VERSION) < 0))
	|| (changing && lockfile_put(db, WORD_COUNT, w[WORD_COUNT] + 1) < 0)) {
	flock(db->lock_fd, LOCK_UN);
	return -1;
    }
    db->our_count = changing ? w[WORD_COUNT] + 1 : 0;
    db->records = w[WORD_RECORDS];
    db->rebuild_until = w[WORD_REBUILD] != 0
	&& (int64_t) w[WORD_REBUILD] >= monotonic_ms() ? (int64_t) w[WORD_REBUILD] : 0;
    db->changed.n = 0;
    db->held_since = monotonic_ms();
    return 0;
}

/* lockfile_records - a record added (1) or removed (-1) under our
 * exclusive lock: the count moved, where it is known */
void    lockfile_records(struct fdb *db, long delta)
{
    if (db->records == 0)
	return;
    db->records = delta < 0 && db->records <= 1 ? 1 : db->records + (uint64_t) delta;
    (void) lockfile_put(db, WORD_RECORDS, db->records);
}

/* lockfile_set_records - the records the database holds, counted (under
 * a lock that keeps writers out); 0 or -1 */
int     lockfile_set_records(struct fdb *db, long records)
{
    db->records = (uint64_t) records + 1;
    return lockfile_put(db, WORD_RECORDS, db->records);
}

/* lockfile_known_records - the records the database holds, as the lock
 * file counts them (under our lock); -1 where not known */
long    lockfile_known_records(struct fdb *db)
{
    uint64_t w[WORDS];

    if (lockfile_words(db, w) < 0 || w[WORD_RECORDS] == 0)
	return -1;
    return (long) (w[WORD_RECORDS] - 1);
}

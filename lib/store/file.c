/*
 * NAME
 *	file - the GDBM backend: records in one file, behind a lock
 * DESCRIPTION
 *	Every operation takes the lock file's lock (lockfile.c): shared to
 *	read, exclusive to write, and opens the GDBM file inside it with
 *	GDBM_NOLOCK.  Writers close the file again.  file_get() keeps its
 *	reader handle for the next call while no one has written: every
 *	writer counts a change in the lock file before it changes anything,
 *	and a reader compares that count (and the file's stat) with the one
 *	it opened at.
 *
 *	A kept reader takes no lock: it maps the count's page of the lock
 *	file once and reads the count before and after its fetch, like a
 *	seqlock.  Unchanged at both ends, no writer began in between (a
 *	writer counts first), so the fetch saw the file as it was opened
 *	(a fetch that misses GDBM's cache reads the file: a pread(), the
 *	only system call); changed, the answer is dropped along with the
 *	handle (its cache may hold a torn bucket) and the read is done again
 *	under the shared lock.  The stat check against edits made without
 *	our lock runs on the locked path and at most once a second on the
 *	free one.
 *
 *	gdbm_store() writes every change to the file before it returns, and
 *	a write is answered only once it is on disk: the sync runs after the
 *	exclusive lock is released, shared by the writers that finish
 *	together (groupsync.c).  Writers open without mmap (GDBM_NOMMAP): a
 *	sync is then one fdatasync() instead of an msync() of the whole
 *	mapped file.  A file damaged
 *	anyway (a power failure mid-write) is found and rebuilt by
 *	file_check() and file_recover() (recover.c; tarpit-admin recover,
 *	and the hourly expire).  reorganize.c rebuilds the file online.
 *
 *	The host-wide counters (KEY_STATS) are kept in the lock file; the
 *	database holds the copy file_save_counters() makes (lockfile.c).
 *
 *	Keys that start with '@' are the ledger's bookkeeping (greylist
 *	entries); KEY_STATS is the store's own.  A walk shows the first
 *	only when asked to, the second never.
 */
#define _GNU_SOURCE
#include "store/file.h"
#include "store/dbfile.h"
#include "util/clock.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const struct db_ops file_ops;

/* How a file is opened (enum use, file.h): only expire's walk maps the
 * file (db_walk_mapped): a lookup's handle is opened again after every
 * write anywhere, and mapping and unmapping the whole file each time cost
 * more than the reads of the one or two buckets it fetches; other walks
 * read it, so that a listing or an export of a million networks holds
 * what it lists, not the whole file mapped. */

/* file_open_gdbm - open under our lock; 0 with *dbf 0 when absent and reading */
int file_open_gdbm(struct fdb *db, enum use use, GDBM_FILE *dbf)
{
    int     writing = use == USE_WRITE;
    int     flags = (writing ? GDBM_WRCREAT : GDBM_READER) | GDBM_NOLOCK | GDBM_CLOEXEC
    | (use == USE_WALK && db->base.walk_mapped ? 0 : GDBM_NOMMAP);

    *dbf = gdbm_open(db->path, 0, flags, 0640, 0);
    if (*dbf != 0)
	return 0;
    if (!writing && gdbm_errno == GDBM_FILE_OPEN_ERROR && errno == ENOENT)
	return 0;
    if (gdbm_errno == GDBM_FILE_OPEN_ERROR || gdbm_errno == GDBM_FILE_READ_ERROR)
	db_set_error(&db->base, "%s: cannot open database: %s (%s)", db->path,
		  gdbm_strerror(gdbm_errno), strerror(errno));
    else
	db_set_error(&db->base, "%s: cannot open database: %s", db->path,
		  gdbm_strerror(gdbm_errno));
    return -1;
}

/* file_close_gdbm - close, reporting a failed final write */
int file_close_gdbm(struct fdb *db, GDBM_FILE dbf)
{
    if (gdbm_close(dbf) != 0) {
	db_set_error(&db->base, "%s: close: %s", db->path, gdbm_strerror(gdbm_errno));
	return -1;
    }
    return 0;
}

/* file_fetch - decode key's record from an open file; 1, 0 or -1 */
int file_fetch(struct fdb *db, GDBM_FILE dbf, const char *key,
		         struct tp_record *r)
{
    datum   k = {(char *) key, (int) strlen(key)};
    datum   v = gdbm_fetch(dbf, k);
    int     rc;

    if (v.dptr == 0) {
	if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
	    return 0;
	db_set_error(&db->base, "%s: fetch %s: %s", db->path, key,
		  gdbm_strerror(gdbm_errno));
	return -1;
    }
    rc = record_decode((unsigned char *) v.dptr, (size_t) v.dsize, r);
    free(v.dptr);
    if (rc < 0) {
	db_set_error(&db->base, "%s: record for %s is damaged or of an unknown version",
		  db->path, key);
	return -1;
    }
    return 1;
}

/* file_same_inode - are a and b the same file? */
int file_same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* same_file - is st the file (and the version of it) that was opened? */
static int same_file(const struct stat *a, const struct stat *b)
{
    return file_same_inode(a, b) && a->st_size == b->st_size
	&& a->st_mtim.tv_sec == b->st_mtim.tv_sec
	&& a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* file_begin_read - shared lock and open to read: 1 open, 0 no file (unlocked
 * again), -1 error (unlocked again) */
int file_begin_read(struct fdb *db, GDBM_FILE *dbf)
{
    if (lockfile_lock(db, LOCK_SH) < 0)
	return -1;
    if (file_open_gdbm(db, USE_WALK, dbf) < 0) {
	lockfile_unlock(db);
	return -1;
    }
    if (*dbf == 0) {
	lockfile_unlock(db);
	return 0;
    }
    return 1;
}

/* release_reader - close the reader handle that db_get() keeps */
static void release_reader(struct fdb *db)
{
    if (db->reader != 0) {
	gdbm_close(db->reader);
	db->reader = 0;
    }
}

/* mapped_generation - the change count, read through the mapping */
static uint64_t mapped_generation(const struct fdb *db)
{
    return lockfile_mapped(db, 8 * WORD_COUNT);
}

/* file_release - hold no file: the reader handle that file_get() keeps */
static void file_release(struct tp_db *base)
{
    struct fdb *db = (struct fdb *) base;

    release_reader(db);
    lockfile_unmap(db);
}

/* file_open - a handle for this GDBM file; no file is touched yet */
struct tp_db *file_open(const char *path)
{
    struct fdb *db = xcalloc(1, sizeof(*db));
    char    lock[DB_FILE_MAX];

    db->path = xstrdup(path);
    db_init(&db->base, &file_ops, db->path);
    db->lock_fd = -1;
    db->stand_in = -1;
    db->changed = (struct array) ARRAY_OF(char);
    db->lock_path = xstrdup(db_file(path, DB_FILE_LOCK, lock, sizeof(lock)) ? lock : "");
    return &db->base;
}

/* file_free - release the handle, its file and its lock file */
static void file_free(struct tp_db *base)
{
    struct fdb *db = (struct fdb *) base;

    file_release(base);
    if (db->lock_fd >= 0)
	close(db->lock_fd);
    if (db->stand_in >= 0)
	close(db->stand_in);
    array_free(&db->changed);
    free(db->path);
    free(db->lock_path);
    free(db);
}

/* read_free - db_get() without the lock: 1 or 0 answered, -1 when the
 * locked path must answer.  The count is read before and after the fetch;
 * a writer counts before it changes anything, so the same count at both
 * ends means the fetch saw the file the handle was opened on. */
static int read_free(struct fdb *db, const char *key, struct tp_record *r)
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
    rc = file_fetch(db, db->reader, key, r);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (rc >= 0 && mapped_generation(db) == before)
	return rc;
    /* A writer began meanwhile: what the handle read or cached may be
     * half-written. */
    release_reader(db);
    memset(r, 0, sizeof(*r));
    return -1;
}

/* file_get - read one record; 1 found, 0 not, -1 error.  The GDBM handle is
 * kept for the next call while the change count in the lock file says
 * none of our writers has written since it was opened, and the file is
 * the same (not replaced, its size and mtime as they were, in case
 * something else wrote to it): a read is then a fetch from GDBM's cache
 * between two reads of the mapped count (read_free).  Otherwise it takes
 * the shared lock, reads the count and stats the file, and opens anew if
 * either changed. */
static int file_get(struct tp_db *base, const char *key, struct tp_record *r)
{
    struct fdb *db = (struct fdb *) base;
    uint64_t w[WORDS];
    struct stat st;
    int     rc;

    memset(r, 0, sizeof(*r));
    if ((rc = read_free(db, key, r)) >= 0)
	return rc;
    if (lockfile_lock(db, LOCK_SH) < 0)
	return -1;
    if (lockfile_words(db, w) < 0) {
	lockfile_unlock(db);
	return -1;
    }
    if (db->reader != 0 && (w[WORD_COUNT] != db->reader_generation
			    || stat(db->path, &st) < 0
			    || !same_file(&st, &db->reader_stat)))
	release_reader(db);
    if (db->reader == 0) {
	if (file_open_gdbm(db, USE_LOOKUP, &db->reader) < 0) {
	    lockfile_unlock(db);
	    return -1;
	}
	if (db->reader == 0) {		/* no database yet */
	    lockfile_unlock(db);
	    return 0;
	}
	if (fstat(gdbm_fdesc(db->reader), &db->reader_stat) < 0) {
	    db_set_error(&db->base, "%s: fstat: %s", db->path, strerror(errno));
	    release_reader(db);
	    lockfile_unlock(db);
	    return -1;
	}
	db->reader_generation = w[WORD_COUNT];
	db->reader_stat_ms = monotonic_ms();
    } else {
	/* A handle used again: map the count, so that the next reads need
	 * no lock.  Not before: a connection that asks once (one for each
	 * mail) would map and unmap it for nothing. */
	(void) lockfile_map(db, 0);
    }
    if ((rc = file_fetch(db, db->reader, key, r)) < 0)
	release_reader(db);
    lockfile_unlock(db);
    return rc;
}

/* store_bytes - put one encoded value into the live file (under our
 * exclusive lock; a reorganise that runs hears of the key) */
static int store_bytes(struct fdb *db, GDBM_FILE dbf, const char *key,
		               unsigned char *buf, size_t len)
{
    datum   k = {(char *) key, (int) strlen(key)};
    datum   v = {(char *) buf, (int) len};

    if (len == 0) {
	db_set_error(&db->base, "record too large");
	return -1;
    }
    rebuild_note(db, key);
    if (gdbm_store(dbf, k, v, GDBM_REPLACE) != 0) {
	db_set_error(&db->base, "%s: store %s: %s", db->path, key,
		  gdbm_strerror(gdbm_errno));
	return -1;
    }
    return 0;
}

/* file_is_counters - is this stored key the store's own, the counters? */
int     file_is_counters(const char *key, int len)
{
    return len == (int) strlen(KEY_STATS) && memcmp(key, KEY_STATS, (size_t) len) == 0;
}

/* fetch_stats - the host-wide counters from an open file (zero if none) */
static void fetch_stats(GDBM_FILE dbf, struct tp_stats *s)
{
    datum   k = {(char *) KEY_STATS, (int) strlen(KEY_STATS)};
    datum   v = gdbm_fetch(dbf, k);

    memset(s, 0, sizeof(*s));
    if (v.dptr == 0)
	return;
    /* Damaged counters start again from zero rather than block updates. */
    (void) stats_decode((unsigned char *) v.dptr, (size_t) v.dsize, s);
    free(v.dptr);
}

/* apply - one key's read-change-write inside an open, locked file */
static int apply(struct fdb *db, GDBM_FILE dbf, const char *key,
		         struct db_txn *t, db_update_fn *fn, void *ctx)
{
    unsigned char buf[RECORD_MAX_SIZE];
    datum   k = {(char *) key, (int) strlen(key)};
    enum db_change change;

    memset(&t->rec, 0, sizeof(t->rec));
    t->key = key;
    if ((t->found = file_fetch(db, dbf, key, &t->rec)) < 0)
	return -1;
    change = fn(t, ctx);
    if (change == DB_WRITE) {
	if (store_bytes(db, dbf, key, buf, record_encode(&t->rec, buf, sizeof(buf))) < 0)
	    return -1;
	if (!t->found)
	    lockfile_records(db, 1);
    } else if (change == DB_DELETE && t->found) {
	rebuild_note(db, key);
	if (gdbm_delete(dbf, k) != 0) {
	    db_set_error(&db->base, "%s: delete %s: %s", db->path, key,
		      gdbm_strerror(gdbm_errno));
	    return -1;
	}
	lockfile_records(db, -1);
    }
    return (int) change;
}

/* counters - the host-wide counters, under our lock: the lock file's, or
 * (none kept there yet) the database's copy, from dbf or a file opened
 * for it; 0 or -1 */
static int counters(struct fdb *db, GDBM_FILE dbf, struct tp_stats *st)
{
    int     rc = lockfile_counters(db, st);

    if (rc != 0)
	return rc < 0 ? -1 : 0;
    if (dbf != 0) {
	fetch_stats(dbf, st);
	return 0;
    }
    if (file_open_gdbm(db, USE_LOOKUP, &dbf) < 0)
	return -1;
    memset(st, 0, sizeof(*st));
    if (dbf != 0) {
	fetch_stats(dbf, st);
	gdbm_close(dbf);
    }
    return 0;
}

/* file_begin_write - exclusive lock, file open to write, counters read */
int file_begin_write(struct fdb *db, GDBM_FILE *dbf, struct tp_stats *st)
{
    if (lockfile_lock_ex(db, 1) < 0)
	return -1;
    if (file_open_gdbm(db, USE_WRITE, dbf) < 0) {
	lockfile_unlock(db);
	return -1;
    }
    if (counters(db, *dbf, st) < 0) {
	lockfile_unlock(db);
	gdbm_close(*dbf);
	return -1;
    }
    return 0;
}

/* file_end_write - keep the counters if they changed, unlock, close; rc or -1 */
int file_end_write(struct fdb *db, GDBM_FILE dbf, const struct tp_stats *st,
		             int changed, int rc)
{
    if (rc >= 0 && changed && lockfile_keep_counters(db, st) < 0)
	rc = -1;
    rebuild_tell(db);
    /* Every change is in the file once gdbm_store() returns; closing only
     * syncs it to disk.  So the sync runs after the lock is released, in
     * the group sync (groupsync.c): the next writer need not wait for our disk,
     * and one sync serves the writers that queued behind it.  The caller
     * still answers only after it. */
    if (rc < 0 || !db->page_writable) {
	lockfile_unlock(db);
	return file_close_gdbm(db, dbf) < 0 ? -1 : rc;
    }
    groupsync_written(db);
    lockfile_unlock(db);
    if (groupsync(db, dbf) < 0) {
	(void) file_close_gdbm(db, dbf);
	return -1;
    }
    return groupsync_close(db, dbf) < 0 ? -1 : rc;
}

/* file_update_many - each key's update, all under one exclusive lock and
 * one open; the last key's change, or -1 */
static int file_update_many(struct tp_db *base, char *const *keys, size_t n,
			            db_update_fn *fn, void *ctx)
{
    struct fdb *db = (struct fdb *) base;
    GDBM_FILE dbf;
    struct db_txn t;
    struct tp_stats totals;
    int     rc = 0;

    memset(&t, 0, sizeof(t));		/* t.stats: the increments, from 0 */
    if (file_begin_write(db, &dbf, &totals) < 0)
	return -1;
    for (size_t i = 0; i < n && rc >= 0; i++)
	rc = apply(db, dbf, keys[i], &t, fn, ctx);
    stats_add(&totals, &t.stats);
    return file_end_write(db, dbf, &totals, t.stats_changed, rc);
}

/* file_update_stats - change the host-wide counters alone */
static int file_update_stats(struct tp_db *base, void (*fn) (struct tp_stats *, void *),
			             void *ctx)
{
    struct fdb *db = (struct fdb *) base;
    struct tp_stats st, add;
    int     rc;

    /* The database file itself is not opened, once the lock file keeps
     * the counters, and no change is counted. */
    if (lockfile_lock_ex(db, 0) < 0)
	return -1;
    if ((rc = counters(db, 0, &st)) == 0) {
	memset(&add, 0, sizeof(add));
	fn(&add, ctx);
	stats_add(&st, &add);
	rc = lockfile_keep_counters(db, &st);
    }
    lockfile_unlock(db);
    return rc;
}

/* file_save_counters - copy the lock file's counters into the database
 * (KEY_STATS), synced; 0 or -1 */
static int file_save_counters(struct tp_db *base)
{
    struct fdb *db = (struct fdb *) base;
    unsigned char buf[RECORD_MAX_SIZE];
    GDBM_FILE dbf;
    struct tp_stats st;
    int     rc;

    if (file_begin_write(db, &dbf, &st) < 0)
	return -1;
    rc = store_bytes(db, dbf, KEY_STATS, buf, stats_encode(&st, buf, sizeof(buf)));
    return file_end_write(db, dbf, &st, 0, rc);
}

/* file_get_stats - the host-wide counters under a shared lock; 0 or -1 */
static int file_get_stats(struct tp_db *base, struct tp_stats *s)
{
    struct fdb *db = (struct fdb *) base;
    int     rc;

    memset(s, 0, sizeof(*s));
    if (lockfile_lock(db, LOCK_SH) < 0)
	return -1;
    rc = counters(db, 0, s);
    lockfile_unlock(db);
    return rc;
}

/* file_walk - every network's record; with all, the other reserved keys
 * ('@', such as greylist entries) too, but never the store's own */
static int file_walk(struct tp_db *base, db_walk_fn *fn, void *ctx, int all)
{
    struct fdb *db = (struct fdb *) base;
    GDBM_FILE dbf;
    datum   k, next;
    int     count = 0;
    int     stopped = 0;
    int     rc;

    if ((rc = file_begin_read(db, &dbf)) <= 0)
	return rc;
    rc = 0;
    for (k = gdbm_firstkey(dbf); k.dptr != 0; k = next) {
	char    key[DB_KEY_MAX];
	struct tp_record r;

	if (k.dsize > 0 && k.dsize < (int) sizeof(key) && !file_is_counters(k.dptr, k.dsize)
	    && (k.dptr[0] != KEY_RESERVED || all)) {
	    memcpy(key, k.dptr, (size_t) k.dsize);
	    key[k.dsize] = 0;
	    if (file_fetch(db, dbf, key, &r) == 1) {
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
	db_set_error(&db->base, "%s: walk: %s", db->path, gdbm_strerror(gdbm_errno));
	rc = -1;
    }
    gdbm_close(dbf);
    lockfile_unlock(db);
    return rc < 0 ? -1 : count;
}


/* file_about - the file's size */
static int file_about(struct tp_db *base, struct db_about *about)
{
    struct fdb *db = (struct fdb *) base;
    struct stat st;

    about->bytes = stat(db->path, &st) == 0 ? (long long) st.st_size
	: errno == ENOENT ? 0 : -1;		/* no file yet: nothing stored */
    return 0;
}

/* file_doctor - the lock file's layout; the rest of the file's checks
 * (its directory, owners, modes) are doctor's, which knows the units */
static void file_doctor(struct tp_db *base, db_finding_fn *say, void *ctx)
{
    struct fdb *db = (struct fdb *) base;
    uint64_t w[WORDS];
    char    text[DB_FILE_MAX + 200];

    if (lockfile_lock(db, LOCK_SH) < 0) {
	say(ctx, "see that the tarpit user can open it", base->error);
	return;
    }
    if (lockfile_words(db, w) < 0)
	say(ctx, "see that the tarpit user can read it", base->error);
    else {
	snprintf(text, sizeof(text), "%s: layout %llu%s", db->lock_path,
		 (unsigned long long) (w[WORD_MAGIC] ? w[WORD_VERSION] : 0),
		 w[WORD_RECORDS] ? "" : ", records not counted yet (expire counts them)");
	say(ctx, 0, text);
    }
    lockfile_unlock(db);
}

static const struct db_ops file_ops = {
    .kind = "GDBM file",
    .shared = 0,
    .free = file_free,
    .get = file_get,
    .release = file_release,
    .update_many = file_update_many,
    .update_stats = file_update_stats,
    .get_stats = file_get_stats,
    .walk = file_walk,
    .check = file_check,
    .about = file_about,
    .doctor = file_doctor,
    .load = file_load,
    .reorganize = file_reorganize,
    .save_counters = file_save_counters,
    .recover = file_recover,
};

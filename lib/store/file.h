#ifndef TARPIT_STORE_FILE_H
#define TARPIT_STORE_FILE_H

/*
 * file - the GDBM backend's own header: its handle, the lock file's
 * layout, and the few functions its pieces share.  file.c (open, read,
 * write, walk), lockfile.c (the lock and the lock file's words),
 * groupsync.c (one sync for many writers), reorganize.c (the online
 * rebuild) and recover.c (check and recover) include it, and nothing of
 * each other.
 */

#include "store/backend.h"
#include "util/mem.h"

#include <gdbm.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct fdb {
    struct tp_db base;			/* first: db.c's handle */
    char   *path;
    char   *lock_path;
    int     lock_fd;
    int64_t held_since;			/* when the exclusive lock was taken */
    GDBM_FILE reader;			/* db_get()'s handle, kept between reads */
    uint64_t reader_generation;		/* the change count it was opened at */
    struct stat reader_stat;		/* and the file it was opened on */
    int64_t reader_stat_ms;		/* when that file was last stat'ed */
    unsigned char *page;		/* the lock file's first page, mapped; or 0 */
    int     page_writable;		/* mapped to write too (a writer's) */
    uint64_t our_count;			/* the count our exclusive hold set */
    uint64_t records;			/* RECORDS as our exclusive hold found it */
    int     stand_in;			/* what gdbm_close() syncs instead; -1 */
    int64_t rebuild_until;		/* a reorganise follows our writes */
    struct array changed;		/* the keys we wrote, for it: char */
};

/*
 * The lock file, DATABASE.lock.  flock(2) on it serialises the users of
 * the database (shared to read, exclusive to write), and its first page
 * holds what they share, as big-endian words:
 *
 *	byte 0	COUNT	the change count: a writer adds one before it
 *			changes anything (kept readers compare it)
 *	8	REBUILD	while a reorganise runs, the monotonic_ms() until
 *			which writers tell it the keys they write; 0: none
 *	16	COUNTERS the length of the host-wide counters at COUNTERS_AT
 *			(0: none kept here yet)
 *	24	MAGIC	LOCKFILE_MAGIC; 0 in a lock file of the first layout
 *			(the same words, without these three), which the
 *			first writer stamps
 *	32	VERSION	LOCKFILE_VERSION: a later layout says so here, and
 *			this one refuses it rather than misread it
 *	40	RECORDS	the records in the database, plus one (0: not known
 *			yet; check and every rebuild count them), so that a
 *			recovery can say how many it lost
 *	64	the counters, in the codec of the KEY_STATS record
 *	SYNC_AT	the group sync's words: WRITTEN, SYNCED, ENDED (groupsync.c)
 *	2^40	one byte locked (never written) as the turn to sync
 */
enum { WORD_COUNT, WORD_REBUILD, WORD_COUNTERS, WORD_MAGIC, WORD_VERSION,
    WORD_RECORDS, WORDS };
#define LOCKFILE_MAGIC	0x7461727069744c4bULL	/* "tarpitLK" */
#define LOCKFILE_VERSION 1
#define COUNTERS_AT	64
#define SYNC_AT		(COUNTERS_AT + RECORD_MAX_SIZE)
enum { SYNC_WRITTEN, SYNC_SYNCED, SYNC_ENDED, SYNC_WORDS };
#define SYNC_TURN_AT	((off_t) 1 << 40)

/* How a file is opened (file.c): to walk or copy it, to look keys up
 * in it, to write it. */
enum use { USE_WALK, USE_LOOKUP, USE_WRITE };

/* file.c */
int     file_open_gdbm(struct fdb *, enum use, GDBM_FILE *);
int     file_close_gdbm(struct fdb *, GDBM_FILE);
int     file_fetch(struct fdb *, GDBM_FILE, const char *key, struct tp_record *);
int     file_is_counters(const char *key, int len);
int     file_begin_read(struct fdb *, GDBM_FILE *);
int     file_begin_write(struct fdb *, GDBM_FILE *, struct tp_stats *);
int     file_end_write(struct fdb *, GDBM_FILE, const struct tp_stats *, int changed,
		               int rc);
int     file_same_inode(const struct stat *, const struct stat *);

/* lockfile.c */
int     lockfile_lock(struct fdb *, int op);
void    lockfile_unlock(struct fdb *);
int     lockfile_lock_ex(struct fdb *, int changing);
int     lockfile_words(struct fdb *, uint64_t w[WORDS]);
int     lockfile_put(struct fdb *, int which, uint64_t v);
int     lockfile_map(struct fdb *, int writable);
void    lockfile_unmap(struct fdb *);
uint64_t *lockfile_page_word(const struct fdb *, size_t at);
uint64_t lockfile_mapped(const struct fdb *, size_t at);
void    lockfile_set_mapped(struct fdb *, size_t at, uint64_t v);
int     lockfile_counters(struct fdb *, struct tp_stats *);
int     lockfile_keep_counters(struct fdb *, const struct tp_stats *);
void    lockfile_records(struct fdb *, long delta);
int     lockfile_set_records(struct fdb *, long records);
long    lockfile_known_records(struct fdb *);

/* groupsync.c */
void    groupsync_written(struct fdb *);
int     groupsync(struct fdb *, GDBM_FILE);
int     groupsync_close(struct fdb *, GDBM_FILE);

/* reorganize.c */
void    rebuild_note(struct fdb *, const char *key);
void    rebuild_tell(struct fdb *);
int     file_reorganize(struct tp_db *);
int     file_load(struct tp_db *, char *const *keys, size_t n, db_update_fn *, void *ctx);

/* recover.c */
int     file_check(struct tp_db *, long *records);
int     file_recover(struct tp_db *, struct db_recovery *);

#endif

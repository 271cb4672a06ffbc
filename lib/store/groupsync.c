/*
 * NAME
 *	groupsync - one sync for the writers that finish together
 * DESCRIPTION
 *	How it works is below; the lock file's words are in file.h.
 *
 *	It stays because a burst of new networks, when the writes come at
 *	once, is where a tarpit must keep up, and one sync for the writers
 *	that finish together is most of the throughput then (bench/results.md,
 *	"The store on a mail server's load" and "The group sync's two
 *	halves"); the stand-in close below is what lets that one sync be the
 *	only one, where gdbm_close() would sync each writer's file again.
 */
#define _GNU_SOURCE
#include "store/file.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

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
#define SYNC_WAIT_MS	50

static uint64_t sync_word(const struct fdb *db, int which)
{
    return lockfile_mapped(db, SYNC_AT + 8 * (size_t) which);
}

static void set_sync_word(struct fdb *db, int which, uint64_t v)
{
    lockfile_set_mapped(db, SYNC_AT + 8 * (size_t) which, v);
}

/* sync_ended_word - ENDED, the futex word: the first 4 bytes of its word */
static uint32_t *sync_ended_word(const struct fdb *db)
{
    return (uint32_t *) (void *) lockfile_page_word(db, SYNC_AT + 8 * SYNC_ENDED);
}

/* groupsync_written - our write is complete: WRITTEN is our count (under
 * the exclusive lock) */
void    groupsync_written(struct fdb *db)
{
    set_sync_word(db, SYNC_WRITTEN, db->our_count);
}

/* sync_turn - take (F_WRLCK, without waiting) or give up (F_UNLCK) the
 * turn to sync; 0, or -1 with errno (EAGAIN: another writer has it) */
static int sync_turn(struct fdb *db, short type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = SYNC_TURN_AT;
    fl.l_len = 1;
    return fcntl(db->lock_fd, F_OFD_SETLK, &fl);
}

/* sync_ended - tell the writers waiting in groupsync() that a sync ended */
static void sync_ended(struct fdb *db)
{
    uint32_t *ended = sync_ended_word(db);

    __atomic_add_fetch(ended, 1, __ATOMIC_SEQ_CST);
    (void) syscall(SYS_futex, ended, FUTEX_WAKE, INT_MAX, 0, 0, 0);
}

/* wait_sync_end - wait for the sync under way to end (seen: the count of
 * ended syncs before), or SYNC_WAIT_MS, in case its writer died */
static void wait_sync_end(struct fdb *db, uint32_t seen)
{
    struct timespec ts = {0, SYNC_WAIT_MS * 1000000L};

    (void) syscall(SYS_futex, sync_ended_word(db), FUTEX_WAIT, seen, &ts, 0, 0);
}

/* sync_file - sync a writer's file ourselves, counted; 0 or -1 */
static int sync_file(struct fdb *db, int fd)
{
    db->base.syncs++;
    if (fdatasync(fd) == 0)
	return 0;
    db_set_error(&db->base, "%s: sync: %s", db->path, strerror(errno));
    return -1;
}

/* groupsync - make our write durable, by our sync or by another's that
 * followed it; 0 or -1 */
int groupsync(struct fdb *db, GDBM_FILE dbf)
{
    const uint32_t *ended = sync_ended_word(db);
    int     fd = gdbm_fdesc(dbf);
    struct stat ours, now;
    uint64_t written;
    uint32_t seen;
    int64_t deadline = monotonic_ms() + db->base.lock_timeout_ms;
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
	    && stat(db->path, &now) == 0 && file_same_inode(&ours, &now))
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

/* stand_in_safe - is this libgdbm one whose gdbm_close() only syncs and
 * closes a writer's descriptor, writing nothing?  1.23's, read and tested
 * (tests/unit/db_test.c: the stand-in close fails loudly the day a
 * libgdbm writes there).  Any other version gets a plain close, and
 * with it a second sync. */
static int stand_in_safe(void)
{
    return gdbm_version_number[0] == 1 && gdbm_version_number[1] == 23;
}

/* groupsync_close - close a writer's file that groupsync() has synced.
 * gdbm_close() would sync it again, so where that is all it does it is
 * handed a stand-in to sync and close instead (were it to write, the
 * seal would fail the write rather than let it vanish); otherwise, or
 * without a stand-in, it syncs again. */
int     groupsync_close(struct fdb *db, GDBM_FILE dbf)
{
    if (db->stand_in < 0 && stand_in_safe())
	db->stand_in = stand_in();
    if (db->stand_in >= 0)
	(void) dup3(db->stand_in, gdbm_fdesc(dbf), O_CLOEXEC);
    return file_close_gdbm(db, dbf);
}

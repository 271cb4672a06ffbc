/*
 * NAME
 *	reorganize - the GDBM file rebuilt online: reorganise and load
 * DESCRIPTION
 *	How it works: rebuild() below.  load uses it to be all or nothing.
 *
 *	It stays because GDBM's own gdbm_reorganize() runs under the
 *	exclusive lock, and every helper's lookup would queue behind it for
 *	as long as it takes to copy the file: on a mail server's load, each
 *	hour, that is the slowest answer of the day (bench/results.md, "The
 *	store on a mail server's load"; bench/mx locked-reorganize).
 */
#define _GNU_SOURCE
#include "store/file.h"
#include "store/dbfile.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* What one rebuild carries from step to step. */
struct rebuild {
    char    path[DB_FILE_MAX];		/* the new file, DATABASE.rebuild */
    int     changes;			/* DATABASE.changes, open */
    uint64_t until;			/* writers tell their keys until then */
    off_t   done;			/* how far changes is replayed */
    long    records;			/* the new file's, counted */
    char   *const *keys;		/* updates made in the new file (load) */
    size_t  n;
    db_update_fn *fn;
    void   *ctx;
};

/* rebuild_note - remember a key written, for a reorganise in progress */
void    rebuild_note(struct fdb *db, const char *key)
{
    if (db->rebuild_until == 0)
	return;
    for (const char *c = key;; c++) {
	*(char *) array_add(&db->changed) = *c;
	if (*c == 0)
	    break;
    }
}

/* rebuild_tell - append the keys we wrote to DATABASE.changes for the
 * reorganise that runs (still under our lock); if they cannot be told,
 * call the reorganise off instead: it must not put back what we wrote */
__attribute__((noinline))
void    rebuild_tell(struct fdb *db)
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
	(void) lockfile_put(db, WORD_REBUILD, 0);
    db->changed.n = 0;
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
static int open_window(struct fdb *db, uint64_t *until)
{
    *until = (uint64_t) (monotonic_ms() + REBUILD_WINDOW_MS);
    return lockfile_put(db, WORD_REBUILD, *until);
}

#define COPY_PIECE (1 << 20)		/* bytes copied by hand at once */
#define LET_GO_PIECE (4 << 20)		/* bytes of the old file freed at once */

/* copy_all - every key of one open file into another; 0 or -1 */
static int copy_all(struct fdb *db, GDBM_FILE from, GDBM_FILE to, long *records)
{
    datum   k, next;

    for (k = gdbm_firstkey(from); k.dptr != 0; k = next) {
	datum   v = gdbm_fetch(from, k);

	if (v.dptr == 0 || gdbm_store(to, k, v, GDBM_REPLACE) != 0) {
	    db_set_error(&db->base, "%s: copying a record: %s", db->path, gdbm_strerror(gdbm_errno));
	    free(v.dptr);
	    free(k.dptr);
	    return -1;
	}
	free(v.dptr);
	*records += !file_is_counters(k.dptr, k.dsize);
	next = gdbm_nextkey(from, k);
	free(k.dptr);
    }
    if (gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR) {
	db_set_error(&db->base, "%s: walking the file: %s", db->path, gdbm_strerror(gdbm_errno));
	return -1;
    }
    return 0;
}

/* replay - the keys written since the copy (NUL-terminated, in the
 * changes file), from the live file into the new one, as they are now:
 * those from byte *done of the changes file on, and *done moved to the
 * end of them */
static int replay(struct fdb *db, struct rebuild *rb, GDBM_FILE from, GDBM_FILE to)
{
    struct stat st;
    char   *buf;
    size_t  len;
    int     rc = 0;

    if (fstat(rb->changes, &st) < 0) {
	db_set_error(&db->base, "%s: changes: %s", db->path, strerror(errno));
	return -1;
    }
    if (st.st_size <= rb->done)
	return 0;
    len = (size_t) (st.st_size - rb->done);
    buf = xmalloc(len + 1);
    if (pread(rb->changes, buf, len, rb->done) != (ssize_t) len) {
	db_set_error(&db->base, "%s: changes: cannot read them", db->path);
	free(buf);
	return -1;
    }
    buf[len] = 0;
    for (char *key = buf; rc == 0 && key < buf + len; key += strlen(key) + 1) {
	datum   k = {key, (int) strlen(key)};
	datum   v = gdbm_fetch(from, k);
	int     gone = v.dptr == 0 && gdbm_errno == GDBM_ITEM_NOT_FOUND;
	int     had = gdbm_exists(to, k);

	if (v.dptr != 0) {
	    rc = gdbm_store(to, k, v, GDBM_REPLACE);
	    rb->records += rc == 0 && !had;
	} else if (gone) {
	    rc = gdbm_delete(to, k) != 0 && gdbm_errno != GDBM_ITEM_NOT_FOUND;
	    rb->records -= rc == 0 && had;
	} else
	    rc = -1;
	if (rc != 0)
	    db_set_error(&db->base, "%s: replaying %s: %s", db->path, key,
		      gdbm_strerror(gdbm_errno));
	free(v.dptr);
    }
    free(buf);
    if (rc != 0)
	return -1;
    rb->done = st.st_size;
    return 0;
}

/* replay_into - replay() from the live file into the new one at path,
 * under our lock, and sync it: 0 or -1 */
static int replay_into(struct fdb *db, struct rebuild *rb)
{
    GDBM_FILE old, fresh;
    int     rc;

    if (file_open_gdbm(db, USE_WALK, &old) < 0)
	return -1;
    if (old == 0) {
	db_set_error(&db->base, "%s: removed during the reorganise", db->path);
	return -1;
    }
    fresh = gdbm_open(rb->path, 0, GDBM_WRITER | GDBM_NOMMAP | GDBM_NOLOCK | GDBM_CLOEXEC, 0, 0);
    if (fresh == 0) {
	db_set_error(&db->base, "%s: cannot open: %s", rb->path, gdbm_strerror(gdbm_errno));
	gdbm_close(old);
	return -1;
    }
    rc = replay(db, rb, old, fresh);
    gdbm_close(old);
    if (file_close_gdbm(db, fresh) < 0)
	rc = -1;
    return rc;
}

/* new_file - create the rebuilt file (and chown the changes file) with
 * the owner and mode of the database, st */
static GDBM_FILE new_file(struct fdb *db, const char *path, int changes,
			          const struct stat *st)
{
    GDBM_FILE fresh;
    int     fd;

    if (unlink(path) < 0 && errno != ENOENT) {
	db_set_error(&db->base, "%s: %s", path, strerror(errno));
	return 0;
    }
    fresh = gdbm_open(path, 0, GDBM_NEWDB | GDBM_NOMMAP | GDBM_NOLOCK | GDBM_CLOEXEC,
		    (int) (st->st_mode & 0666), 0);
    if (fresh == 0) {
	db_set_error(&db->base, "%s: cannot create: %s", path, gdbm_strerror(gdbm_errno));
	return 0;
    }
    fd = gdbm_fdesc(fresh);
    if (fchmod(fd, st->st_mode & 07777) < 0 || fchown(fd, st->st_uid, st->st_gid) < 0
	|| fchmod(changes, st->st_mode & 0660) < 0
	|| fchown(changes, st->st_uid, st->st_gid) < 0) {
	db_set_error(&db->base, "%s: cannot give it the owner and mode of %s: %s", path,
		  db->path, strerror(errno));
	gdbm_close(fresh);
	return 0;
    }
    return fresh;
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
static int snapshot(struct fdb *db, int from, off_t size)
{
    char    name[DB_FILE_MAX];
    int     fd = -1;

    if (db_file(db->path, DB_FILE_DIR, name, sizeof(name)) != 0)
	fd = open(name, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && db_file(db->path, DB_FILE_SNAPSHOT, name, sizeof(name)) != 0
	&& (fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
	(void) unlink(name);
    if (fd < 0) {
	db_set_error(&db->base, "%s: cannot make a snapshot beside it: %s", db->path, strerror(errno));
	return -1;
    }
    errno = 0;
    if (copy_bytes(from, fd, size) < 0) {
	db_set_error(&db->base, "%s: snapshot: %s", db->path, errno ? strerror(errno) : "short copy");
	close(fd);
	return -1;
    }
    return fd;
}

/* catch_up - once the copy is done: under the shared lock (writers wait,
 * readers go on), the keys written during the copy replayed into the new
 * file, so that the exclusive lock later has only the few written since
 * to replay, and the window kept open for the rest; 0, or -1 (also when
 * the window closed before: writes since may have gone untold) */
static int catch_up(struct fdb *db, struct rebuild *rb)
{
    uint64_t w[WORDS];
    int     rc = -1;

    if (lockfile_lock(db, LOCK_SH) < 0)
	return -1;
    if (lockfile_words(db, w) == 0) {
	if (!window_holds(w, rb->until))
	    db_set_error(&db->base, "%s: the copy took longer than %d s", db->path,
		       REBUILD_WINDOW_MS / 1000);
	else if (replay_into(db, rb) == 0)
	    rc = open_window(db, &rb->until);
    }
    lockfile_unlock(db);
    return rc;
}

/* apply_into - the load's updates, into the new file: no writer sees it
 * yet, so no change is noted; 0 or -1 */
static int apply_into(struct fdb *db, GDBM_FILE fresh, struct rebuild *rb)
{
    unsigned char buf[RECORD_MAX_SIZE];
    struct db_txn t;

    for (size_t i = 0; i < rb->n; i++) {
	datum   k = {(char *) rb->keys[i], (int) strlen(rb->keys[i])};
	enum db_change change;

	memset(&t, 0, sizeof(t));
	t.key = rb->keys[i];
	if ((t.found = file_fetch(db, fresh, t.key, &t.rec)) < 0)
	    return -1;
	change = rb->fn(&t, rb->ctx);
	if (change == DB_WRITE) {
	    datum   v = {(char *) buf, (int) record_encode(&t.rec, buf, sizeof(buf))};

	    if (v.dsize == 0 || gdbm_store(fresh, k, v, GDBM_REPLACE) != 0) {
		db_set_error(&db->base, "%s: store %s: %s", db->path, t.key,
			   v.dsize ? gdbm_strerror(gdbm_errno) : "record too large");
		return -1;
	    }
	    rb->records += !t.found;
	} else if (change == DB_DELETE && t.found) {
	    if (gdbm_delete(fresh, k) != 0) {
		db_set_error(&db->base, "%s: delete %s: %s", db->path, t.key,
			   gdbm_strerror(gdbm_errno));
		return -1;
	    }
	    rb->records--;
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
static int build(struct fdb *db, struct rebuild *rb)
{
    GDBM_FILE from, fresh;
    struct stat st;
    int     live, snap = -1, rc = -1;

    if (lockfile_lock(db, LOCK_SH) < 0)
	return -1;
    if ((live = open(db->path, O_RDONLY | O_CLOEXEC)) < 0) {
	lockfile_unlock(db);
	if (errno == ENOENT)
	    return 1;
	db_set_error(&db->base, "%s: cannot open database: %s", db->path, strerror(errno));
	return -1;
    }
    if (fstat(live, &st) < 0)
	db_set_error(&db->base, "%s: fstat: %s", db->path, strerror(errno));
    else if ((snap = snapshot(db, live, st.st_size)) >= 0) {
	/* What a reorganise killed before left here is in the copy. */
	if (ftruncate(rb->changes, 0) < 0)
	    db_set_error(&db->base, "%s: changes: %s", db->path, strerror(errno));
	else
	    rc = open_window(db, &rb->until);
    }
    close(live);
    lockfile_unlock(db);
    if (rc < 0) {
	if (snap >= 0)
	    close(snap);
	return -1;
    }
    /* gdbm_close() closes the snapshot, and with it the last of it. */
    from = gdbm_fd_open(snap, db->path, 0, GDBM_READER | GDBM_NOLOCK | GDBM_CLOERROR, 0);
    if (from == 0) {
	db_set_error(&db->base, "%s: snapshot: %s", db->path, gdbm_strerror(gdbm_errno));
	return -1;
    }
    if ((fresh = new_file(db, rb->path, rb->changes, &st)) == 0) {
	gdbm_close(from);
	return -1;
    }
    rc = copy_all(db, from, fresh, &rb->records);
    if (rc == 0)
	rc = apply_into(db, fresh, rb);
    gdbm_close(from);
    if (file_close_gdbm(db, fresh) < 0)
	rc = -1;
    return rc < 0 ? -1 : catch_up(db, rb);
}

/* swap_in - with the exclusive lock held: the keys written since the copy
 * put into the new file as they are now, the new file renamed over the
 * old, and its records counted in the lock file */
static int swap_in(struct fdb *db, struct rebuild *rb, int *replaced)
{
    uint64_t w[WORDS];
    int     rc;

    if (lockfile_words(db, w) < 0)
	return -1;
    if (!window_holds(w, rb->until)) {
	db_set_error(&db->base, "%s: writes during the reorganise could not be followed "
		   "(the window closed or a writer could not tell of its keys); "
		   "the file is left as it was", db->path);
	return -1;
    }
    rc = replay_into(db, rb);
    if (rc == 0 && (*replaced = open(db->path, O_WRONLY | O_CLOEXEC)) < 0) {
	db_set_error(&db->base, "%s: %s", db->path, strerror(errno));
	rc = -1;
    }
    if (rc == 0 && rename(rb->path, db->path) < 0) {
	db_set_error(&db->base, "%s: cannot replace %s: %s", rb->path, db->path, strerror(errno));
	close(*replaced);		/* still the database: keep it whole */
	*replaced = -1;
	rc = -1;
    }
    if (rc == 0)
	(void) lockfile_set_records(db, rb->records);
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

/* rebuild - a new file from the live one, with the load's updates in it
 * (rb->keys; none for a reorganise), renamed into place: under the
 * shared lock (readers go on, writers wait their turn) copy the file's
 * bytes to a snapshot, and from then on writers note in DATABASE.changes
 * the keys they write; copy every record of the snapshot into a new file
 * and sync it without a lock; replay the keys noted so far under the
 * shared lock, then under the exclusive lock those noted since, and
 * rename the new file into place.  Writers wait for the snapshot (0.3 s
 * at a million networks) and the first replay; the exclusive hold is the
 * replay of a few keys and a rename; readers that keep a handle see the
 * new file by the change count.  One rebuild at a time: another one
 * running makes a reorganise return 0 at once, a load fail.  1 when there
 * is no file yet. */
static int rebuild(struct fdb *db, struct rebuild *rb)
{
    char    changes_path[DB_FILE_MAX];
    int     rc, replaced = -1;

    if (db_file(db->path, DB_FILE_REBUILD, rb->path, sizeof(rb->path)) == 0
	|| db_file(db->path, DB_FILE_CHANGES, changes_path, sizeof(changes_path)) == 0) {
	db_set_error(&db->base, "%s: name too long", db->path);
	return -1;
    }
    rb->changes = open(changes_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (rb->changes < 0) {
	db_set_error(&db->base, "%s: %s", changes_path, strerror(errno));
	return -1;
    }
    if (flock(rb->changes, LOCK_EX | LOCK_NB) < 0) {
	close(rb->changes);
	if (errno == EWOULDBLOCK && rb->n == 0)
	    return 0;
	db_set_error(&db->base, "%s: %s", changes_path, errno == EWOULDBLOCK
		   ? "another reorganise (expire) is running; try again" : strerror(errno));
	return -1;
    }
    rc = build(db, rb);
    if (rc == 0) {
	if (lockfile_lock_ex(db, 1) < 0)
	    rc = -1;
	else {
	    rc = swap_in(db, rb, &replaced);
	    (void) lockfile_put(db, WORD_REBUILD, 0);
	    lockfile_unlock(db);
	}
    }
    if (replaced >= 0)
	let_go(replaced);
    if (rc == 0)
	sync_dir(db->path);
    else
	(void) unlink(rb->path);
    (void) unlink(changes_path);
    close(rb->changes);
    return rc;
}

/* file_reorganize - give the space of deleted records back to the system */
int     file_reorganize(struct tp_db *base)
{
    struct fdb *db = (struct fdb *) base;
    struct rebuild rb;

    memset(&rb, 0, sizeof(rb));
    return rebuild(db, &rb) < 0 ? -1 : 0;
}

/* file_load - many updates at once, all or nothing: the file is rebuilt
 * (as file_reorganize() does) with the updates made in the new file,
 * which is renamed into place only when whole (a full disk leaves the old
 * file as it was, and nothing behind); a key written by a helper while it
 * ran keeps what the helper wrote.  0 or -1 */
int     file_load(struct tp_db *base, char *const *keys, size_t n, db_update_fn *fn,
		          void *ctx)
{
    struct fdb *db = (struct fdb *) base;
    struct rebuild rb;
    struct tp_stats st;
    GDBM_FILE dbf;
    int     rc;

    memset(&rb, 0, sizeof(rb));
    rb.keys = keys;
    rb.n = n;
    rb.fn = fn;
    rb.ctx = ctx;
    if ((rc = rebuild(db, &rb)) == 1) {
	/* No file yet: make an empty one, and build on it. */
	if (file_begin_write(db, &dbf, &st) < 0 || file_end_write(db, dbf, &st, 0, 0) < 0)
	    return -1;
	memset(&rb, 0, sizeof(rb));
	rb.keys = keys;
	rb.n = n;
	rb.fn = fn;
	rb.ctx = ctx;
	rc = rebuild(db, &rb);
    }
    return rc == 0 ? 0 : -1;
}

/*
 * NAME
 *	recover - check a GDBM file, and rebuild a damaged one
 * DESCRIPTION
 *	file_check() walks every record and decodes it; file_recover() runs
 *	GDBM's recovery, keeps the damaged file as a backup, drops what was
 *	recovered but does not decode, and counts what was lost against the
 *	lock file's count of records.
 *
 *	It is there because a file damaged by a crash mid-write would
 *	otherwise make every helper answer DUNNO, with no wait for anyone,
 *	until an admin noticed (the hourly expire checks and recovers).
 */
#define _GNU_SOURCE
#include "store/file.h"
#include "store/dbfile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

    if (file_is_counters(k.dptr, k.dsize))
	return stats_decode((unsigned char *) v.dptr, (size_t) v.dsize, &st) == 0;
    return record_decode((unsigned char *) v.dptr, (size_t) v.dsize, &r) == 0;
}

/* drop_unsound - delete what GDBM recovered but our codec cannot read
 * (a bucket damaged into garbage keys and values); how many, or -1; the
 * records kept, the store's own counters aside, in *kept.  The keys are
 * collected first: never delete while walking. */
static long drop_unsound(struct fdb *db, GDBM_FILE dbf, long *kept)
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
	    *kept += !file_is_counters(k.dptr, k.dsize);
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
	    db_set_error(&db->base, "%s: cannot drop a damaged record: %s", db->path,
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
static void siblings(struct fdb *db, struct array *names)
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
static void remove_new_siblings(struct fdb *db, const struct array *before)
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

/* file_recover - rebuild a damaged file from what can still be read, and
 * drop what was recovered but is garbage; the damaged file is kept as a
 * backup.  What was lost is counted against the lock file's count of
 * records where it has one (out->counted): GDBM counts only the keys it
 * saw fail, not those of a bucket it could not read.  0 (with the
 * counts) or -1. */
int     file_recover(struct tp_db *base, struct db_recovery *out)
{
    struct fdb *db = (struct fdb *) base;
    GDBM_FILE dbf;
    gdbm_recovery rcvr;
    struct array before = ARRAY_OF(char *);
    long    known, kept = 0, dropped;
    int     rc = 0;

    if (lockfile_lock_ex(db, 1) < 0)
	return -1;
    (void) lockfile_put(db, WORD_REBUILD, 0);	/* this file is replaced */
    known = lockfile_known_records(db);
    dbf = gdbm_open(db->path, 0, GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC, 0640, 0);
    if (dbf == 0) {
	db_set_error(&db->base, "%s: cannot be opened for recovery: %s; move it away "
		   "and load a dump", db->path, gdbm_strerror(gdbm_errno));
	lockfile_unlock(db);
	return -1;
    }
    memset(&rcvr, 0, sizeof(rcvr));
    out->needed = gdbm_needs_recovery(dbf);
    siblings(db, &before);
    if (gdbm_recover(dbf, &rcvr, GDBM_RCVR_BACKUP | GDBM_RCVR_FORCE) != 0) {
	int     e = errno;

	/* GDBM says "No error" for a full disk: the system's word is why. */
	db_set_error(&db->base, "%s: recovery failed: %s%s%s; the file is as it was", db->path,
		   gdbm_strerror(gdbm_errno), e ? ": " : "", e ? strerror(e) : "");
	remove_new_siblings(db, &before);
	rc = -1;
    }
    free_siblings(&before);
    out->recovered = (long) rcvr.recovered_keys;
    out->failed = (long) (rcvr.failed_keys + rcvr.duplicate_keys);
    if (rc == 0) {
	if ((dropped = drop_unsound(db, dbf, &kept)) < 0)
	    rc = -1;
	else {
	    out->recovered = kept;	/* what the file holds now */
	    out->failed += dropped;
	    if (known >= 0) {
		out->failed = known > kept ? known - kept : 0;
		out->counted = 1;
	    }
	    (void) lockfile_set_records(db, kept);
	}
    }
    out->failed_buckets = (long) rcvr.failed_buckets;
    if (rcvr.backup_name) {
	snprintf(out->backup, sizeof(out->backup), "%s", rcvr.backup_name);
	free(rcvr.backup_name);
    }
    gdbm_close(dbf);
    lockfile_unlock(db);
    return rc;
}

/* file_check - open, walk and verify every record; 0 sound, -1 damaged
 * (the error says how).  A sound file's count becomes the lock file's
 * count of records (no writer runs under the shared lock). */
int     file_check(struct tp_db *base, long *records)
{
    struct fdb *db = (struct fdb *) base;
    GDBM_FILE dbf;
    datum   k, next;
    int     rc;

    *records = 0;
    if ((rc = file_begin_read(db, &dbf)) <= 0)
	return rc;
    rc = 0;
    for (k = gdbm_firstkey(dbf); k.dptr != 0; k = next) {
	datum   v = gdbm_fetch(dbf, k);

	if (v.dptr == 0) {
	    db_set_error(&db->base, "%s: a record cannot be read: %s", db->path,
		       gdbm_strerror(gdbm_errno));
	    rc = -1;
	} else {
	    if (!sound(k, v)) {
		char    name[4 * 64 + 1];

		db_set_error(&db->base, "%s: record %s is damaged", db->path,
			   printable(k, name, sizeof(name)));
		rc = -1;
	    }
	    free(v.dptr);
	    *records += !file_is_counters(k.dptr, k.dsize);
	}
	next = gdbm_nextkey(dbf, k);
	free(k.dptr);
	if (rc < 0) {
	    free(next.dptr);
	    break;
	}
    }
    if (rc == 0 && gdbm_errno != GDBM_ITEM_NOT_FOUND && gdbm_errno != GDBM_NO_ERROR) {
	db_set_error(&db->base, "%s: walking the file: %s", db->path, gdbm_strerror(gdbm_errno));
	rc = -1;
    }
    if (rc == 0 && gdbm_needs_recovery(dbf)) {
	db_set_error(&db->base, "%s: needs recovery", db->path);
	rc = -1;
    }
    if (rc == 0)
	(void) lockfile_set_records(db, *records);
    gdbm_close(dbf);
    lockfile_unlock(db);
    return rc;
}

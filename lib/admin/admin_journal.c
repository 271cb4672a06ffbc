/*
 * NAME
 *	admin_journal - import-log's reader of the systemd journal
 * DESCRIPTION
 *	Since Debian 12 a default install logs to the journal only, so
 *	import-log reads Postfix's entries there itself, through sd-journal:
 *	the local system journal (--journal) or given journal files
 *	(--journal-file).  Postfix's entries are those of its mail_owner's
 *	user id (_UID, which journald sets and no sender can), every
 *	instance's: the journal is asked for those alone.  SYSLOG_IDENTIFIER
 *	is the sender's own word (logger -t postfix/smtpd writes it), so the
 *	program is the trusted _COMM (smtpd, qmgr, smtp), passed on as
 *	"postfix/COMM".
 *
 *	Where the last run stopped is the journal cursor of its last entry,
 *	kept in a file beside the database and replaced (write, fsync,
 *	rename) only after the records are written: a run that fails reads
 *	the same entries again, which learns nothing twice.  A cursor that no
 *	longer names an entry (rotated away, or another journal's) means
 *	reading from the oldest entry, with one line said about it.
 *
 *	Only tarpit-admin links libsystemd: the helpers read LISTEN_PID and
 *	LISTEN_FDS themselves (listen.c).
 */
#define _GNU_SOURCE
#include "admin/admin.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#define MESSAGE_FIELD "MESSAGE="

/* journal_failed - an sd-journal call failed: say it; ADMIN_IO */
static int journal_failed(struct admin *a, const char *what, int r)
{
    fprintf(a->err, "tarpit-admin: %s: %s\n", what, strerror(-r));
    return ADMIN_IO;
}

/* match_postfix - match the entries of Postfix's user (mail_owner): 0,
 * or a negative errno (-ESRCH: no such user, said) */
static int match_postfix(struct admin *a, sd_journal *j)
{
    struct passwd *pw = getpwnam(a->conf.mail_owner);
    char    m[64];

    if (pw == 0) {
	fprintf(a->err, "tarpit-admin: import-log: mail_owner = %s: no such user\n",
		a->conf.mail_owner);
	return -ESRCH;
    }
    snprintf(m, sizeof(m), "_UID=%lu", (unsigned long) pw->pw_uid);
    return sd_journal_add_match(j, m, 0);
}

/* field - an entry's short text field into buf: 0, or a negative errno
 * (-E2BIG: too long to be what we look for) */
static int field(sd_journal *j, const char *name, char *buf, size_t len)
{
    const void *data;
    size_t  n, k = strlen(name) + 1;	/* "NAME=" */
    int     r;

    if ((r = sd_journal_get_data(j, name, &data, &n)) < 0)
	return r;
    if (n < k || n - k >= len || memchr((const char *) data + k, 0, n - k))
	return -E2BIG;
    memcpy(buf, (const char *) data + k, n - k);
    buf[n - k] = 0;
    return 0;
}

/* seek_start - where to begin: after the cursor, at --since, or at the
 * oldest entry; a negative errno */
static int seek_start(struct admin *a, sd_journal *j, struct journal_read *jr)
{
    int     r;

    if (jr->cursor) {
	if (sd_journal_seek_cursor(j, jr->cursor) >= 0 && sd_journal_next(j) > 0
	    && sd_journal_test_cursor(j, jr->cursor) > 0)
	    return 0;			/* on the last entry read: next is new */
	fprintf(a->err, "tarpit-admin: import-log: the journal no longer holds "
		"the entry where the last run stopped; reading from the oldest\n");
	jr->cursor_gone = 1;
    }
    if (jr->since > 0)
	r = sd_journal_seek_realtime_usec(j, (uint64_t) jr->since * 1000000);
    else
	r = sd_journal_seek_head(j);
    return r < 0 ? r : 0;
}

/* admin_journal_here - each Postfix message of the journal after
 * jr->cursor, within jr->since and jr->until, to fn; jr->last is the
 * cursor of the last entry read (free() it); an exit status */
int     admin_journal_here(struct admin *a, struct journal_read *jr,
		               void (*fn) (void *, const char *, const char *), void *ctx)
{
    sd_journal *j = 0;
    size_t  cap = 512;
    char   *msg;
    uint64_t usage;
    int     r, rc = ADMIN_OK;

    jr->last = 0;
    jr->entries = 0;
    if (jr->files)
	r = sd_journal_open_files(&j, (const char **) jr->files, 0);
    else
	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
    if (r < 0)
	return journal_failed(a, jr->files ? jr->files[0] : "the system journal", r);
    if (jr->files == 0 && sd_journal_get_usage(j, &usage) >= 0 && usage == 0)
	fprintf(a->err, "tarpit-admin: import-log: no journal file could be read "
		"(none there, or no permission: run it as root or as a member of "
		"the group systemd-journal or adm)\n");
    if ((r = match_postfix(a, j)) < 0) {
	sd_journal_close(j);
	return r == -ESRCH ? ADMIN_CONFIG : journal_failed(a, "reading the journal", r);
    }
    if ((r = seek_start(a, j, jr)) < 0) {
	sd_journal_close(j);
	return journal_failed(a, "seeking in the journal", r);
    }
    msg = xmalloc(cap);
    /* After seek_start() with a cursor the journal is on the entry read
     * last time: the loop's first next() steps past it. */
    while ((r = sd_journal_next(j)) > 0) {
	char    ident[128];
	uint64_t usec;
	const void *data;
	size_t  len;

	if ((r = sd_journal_get_realtime_usec(j, &usec)) < 0)
	    break;
	if (jr->until > 0 && usec > (uint64_t) jr->until * 1000000)
	    break;
	if (jr->since > 0 && usec < (uint64_t) jr->since * 1000000)
	    continue;
	memcpy(ident, "postfix/", 8);
	if ((r = field(j, "_COMM", ident + 8, sizeof(ident) - 8)) == 0)
	    r = sd_journal_get_data(j, "MESSAGE", &data, &len);
	if (r == -ENOENT || r == -EBADMSG || r == -E2BIG)
	    continue;			/* no message, or a damaged entry */
	if (r < 0)
	    break;
	len -= strlen(MESSAGE_FIELD);
	if (memchr((const char *) data + strlen(MESSAGE_FIELD), 0, len) == 0) {
	    if (len + 1 > cap)
		msg = xrealloc(msg, cap = len + 1);
	    memcpy(msg, (const char *) data + strlen(MESSAGE_FIELD), len);
	    msg[len] = 0;
	    fn(ctx, ident, msg);
	}
	jr->entries++;
	free(jr->last);
	jr->last = 0;
	if ((r = sd_journal_get_cursor(j, &jr->last)) < 0)
	    break;
    }
    if (r < 0)
	rc = journal_failed(a, "reading the journal", r);
    free(msg);
    sd_journal_close(j);
    return rc;
}

/* admin_journal_read - admin_journal_here(), or with root's tarpit-admin
 * in two processes (admin_priv.c) its root part's: the journal is root's
 * (or the group systemd-journal's) to read, and a journal file named on
 * the command line its namer's, not the database owner's */
int     admin_journal_read(struct admin *a, struct journal_read *jr,
		               void (*fn) (void *, const char *, const char *), void *ctx)
{
    if (a->priv)
	return admin_priv_journal(a, jr, fn, ctx);
    return admin_journal_here(a, jr, fn, ctx);
}

/* admin_journal_cursor - the saved cursor, or 0 when there is none (or
 * when what is there is not a regular file: a FIFO would never end) */
char   *admin_journal_cursor(const char *path)
{
    int     fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    FILE   *fp;
    char   *line = 0;
    size_t  cap = 0;
    ssize_t n;
    struct stat st;

    if (fd < 0)
	return 0;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (fp = fdopen(fd, "r")) == 0) {
	close(fd);
	return 0;
    }
    n = getline(&line, &cap, fp);
    fclose(fp);
    if (n <= 0) {
	free(line);
	return 0;
    }
    if (line[n - 1] == '\n')
	line[n - 1] = 0;
    return line;
}

/* admin_journal_save_cursor - replace the saved cursor: an exit status */
int admin_journal_save_cursor(struct admin *a, const char *path, const char *cursor)
{
    struct admin_out out;
    FILE   *fp;

    if ((fp = admin_out_open(a, &out, path)) == 0)
	return ADMIN_IO;
    fprintf(fp, "%s\n", cursor);
    return admin_out_close(a, &out, ADMIN_OK);
}

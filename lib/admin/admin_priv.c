/*
 * NAME
 *	admin_priv - root's tarpit-admin in two processes
 * DESCRIPTION
 *	The state directory (/var/lib/tarpit) and everything in it belong to
 *	the user the helpers run as, and a helper an attacker took over can
 *	write any of it.  Root must never parse that (libgdbm reading a
 *	crafted file is a parser at work) while it can still become root,
 *	nor open a path there (a link to a file of root's, a FIFO that never
 *	answers).  So, as OpenBSD's spamd and spamlogd split their work,
 *	when root runs tarpit-admin on a database whose directory (for a
 *	server's database, state_directory) belongs to another user,
 *	admin_separate() forks before anything of that user's is opened:
 *
 *	- the child gives up root for good: supplementary groups, then the
 *	  real, effective and saved group and user ids, all the directory
 *	  owner's; then it opens the database and runs the command;
 *	- the parent keeps root and does only what the child asks of it on a
 *	  socket pair, each request checked against what root typed:
 *	  PRIV_INPUT opens a file named on the command line for reading
 *	  (load, import-log) and hands the descriptor over; PRIV_OUTPUT
 *	  makes the file named after -o where the owner may not write
 *	  (admin_out_open's temporary file, as root) and PRIV_COMMIT puts it
 *	  in place, for export-map only once every line of it is a blocked
 *	  network of a width the helpers mark with block_action (the table
 *	  Postfix trusts; admin_map_line_ok), and with --postfix-reload
 *	  reloads Postfix when it changed; PRIV_JOURNAL reads Postfix's
 *	  entries of the journal, which is root's, and sends them on;
 *	  PRIV_PROBE asks a policy socket in Postfix's queue directory (mode
 *	  0660, Postfix's) doctor's one question.
 *
 *	The parent opens nothing of the owner's and reads nothing the owner
 *	wrote but the child's requests, which are short and checked.  With a
 *	root-owned directory (root runs the helpers, or a test's scratch
 *	directory), or run by another user, there is one process, as ever.
 *
 *	admin_open_input() opens a file named on the command line, through
 *	the parent when there is one.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/opendb.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PRIV_MAX 65536			/* a request's or a journal entry's text */
#define PRIV_OUTPUTS 4

enum priv_type {
    PRIV_INPUT = 1, PRIV_OUTPUT, PRIV_COMMIT, PRIV_JOURNAL, PRIV_PROBE,
    PRIV_ENTRY, PRIV_DONE,
};

struct priv_head {
    int     type;			/* enum priv_type */
    int     status;			/* a reply's: 0 or an errno; an exit status */
    int64_t n1, n2;			/* since, until; entries, cursor_gone */
};

/* What the parent knows: root's own words, and the outputs it made. */
struct priv_parent {
    struct admin *a;			/* root's, without a database */
    const char *cmd;
    int     argc;
    char  **argv;
    struct admin_out out[PRIV_OUTPUTS];
    int     sock;
};

/* priv_send - a message with its text and maybe a descriptor: 0 or -1 */
static int priv_send(int sock, const struct priv_head *h, const void *text, size_t len, int fd)
{
    struct iovec iov[2] = {{(void *) h, sizeof(*h)}, {(void *) text, len}};
    union {
	char    space[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
    }       ctl;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};

    if (len > PRIV_MAX)
	return errno = EMSGSIZE, -1;
    if (fd >= 0) {
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
	if (errno != EINTR)
	    return -1;
    return 0;
}

/* priv_recv - the next message: its text (0-terminated) in text, at most
 * PRIV_MAX bytes, a descriptor in *fd (or -1); its text's length, 0 at
 * the end, or -1 */
static ssize_t priv_recv(int sock, struct priv_head *h, char *text, int *fd)
{
    static char buf[sizeof(*h) + PRIV_MAX + 1];
    struct iovec iov = {buf, sizeof(buf) - 1};
    union {
	char    space[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
    }       ctl;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
    .msg_controllen = sizeof(ctl.space)};
    struct cmsghdr *c;
    ssize_t n;

    *fd = -1;
    while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
	if (errno != EINTR)
	    return -1;
    for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
	if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS
	    && c->cmsg_len == CMSG_LEN(sizeof(int)))
	    memcpy(fd, CMSG_DATA(c), sizeof(int));
    if (n == 0)
	return 0;
    if ((size_t) n < sizeof(*h) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
	if (*fd >= 0)
	    close(*fd);
	return errno = EPROTO, -1;
    }
    memcpy(h, buf, sizeof(*h));
    n -= (ssize_t) sizeof(*h);
    memcpy(text, buf + sizeof(*h), (size_t) n);
    text[n] = 0;
    return n + 1;			/* > 0 even for an empty text */
}

/* ---- the child's side: ask, and wait for the answer ---- */

/* priv_ask - a request and its one reply: the reply's status (an errno or
 * an exit status), with its descriptor in *fd when fd is given; -1 when
 * the parent is gone */
static int priv_ask(struct admin *a, int type, int status, const char *text, int *fd,
		            char *reply)
{
    struct priv_head h = {type, status, 0, 0};
    static char buf[PRIV_MAX + 1];
    int     got;

    if (priv_send(a->priv, &h, text, strlen(text) + 1, -1) < 0
	|| priv_recv(a->priv, &h, reply ? reply : buf, &got) <= 0 || h.type != PRIV_DONE)
	return errno = EPIPE, -1;
    if (fd)
	*fd = got;
    else if (got >= 0)
	close(got);
    return h.status;
}

/* admin_priv_output - a file the parent made for -o path where the owner
 * may not write: its descriptor, or -1 (errno) */
int     admin_priv_output(struct admin *a, const char *path)
{
    int     fd = -1, status = priv_ask(a, PRIV_OUTPUT, 0, path, &fd, 0);

    if (status != 0 || fd < 0) {
	if (fd >= 0)
	    close(fd);
	return errno = status > 0 ? status : EPIPE, -1;
    }
    return fd;
}

/* admin_priv_commit - the parent's output for path finished with status
 * rc: put in place (checked first) or removed; the final status */
int     admin_priv_commit(struct admin *a, const char *path, int rc)
{
    int     status = priv_ask(a, PRIV_COMMIT, rc, path, 0, 0);

    return status < 0 ? ADMIN_IO : status;
}

/* admin_priv_probe - doctor's question to a policy socket of Postfix's,
 * asked by the parent: 0 with the reply's first line, or -1 (errno) */
int     admin_priv_probe(struct admin *a, const char *endpoint, char *reply, size_t len)
{
    static char buf[PRIV_MAX + 1];
    int     status = priv_ask(a, PRIV_PROBE, 0, endpoint, 0, buf);

    if (status != 0)
	return errno = status > 0 ? status : EPIPE, -1;
    snprintf(reply, len, "%s", buf);
    return 0;
}

/* admin_priv_journal - admin_journal_read(), the journal read by the
 * parent: each entry to fn as it comes; an exit status */
int     admin_priv_journal(struct admin *a, struct journal_read *jr,
			           void (*fn) (void *, const char *, const char *), void *ctx)
{
    static char text[PRIV_MAX + 1];
    char   *req = xmalloc(PRIV_MAX);
    size_t  n = 0;
    struct priv_head h = {PRIV_JOURNAL, jr->cursor != 0, jr->since, jr->until};
    ssize_t got;
    int     fd;

    /* The cursor (or an empty word), then the journal files' names. */
    n += (size_t) snprintf(req, PRIV_MAX, "%s", jr->cursor ? jr->cursor : "") + 1;
    for (char **f = jr->files; f && *f && n < PRIV_MAX; f++)
	n += (size_t) snprintf(req + n, PRIV_MAX - n, "%s", *f) + 1;
    if (n >= PRIV_MAX || priv_send(a->priv, &h, req, n, -1) < 0) {
	free(req);
	fprintf(a->err, "tarpit-admin: import-log: the journal's names are too long\n");
	return ADMIN_USAGE;
    }
    free(req);
    jr->last = 0;
    while ((got = priv_recv(a->priv, &h, text, &fd)) > 0 && h.type == PRIV_ENTRY) {
	size_t  ident = strnlen(text, (size_t) got - 1);

	if (fd >= 0)
	    close(fd);
	if (ident + 1 < (size_t) got)
	    fn(ctx, text, text + ident + 1);
    }
    if (got <= 0 || h.type != PRIV_DONE) {
	fprintf(a->err, "tarpit-admin: import-log: the journal reader went away\n");
	return ADMIN_IO;
    }
    jr->entries = (long) h.n1;
    jr->cursor_gone = (int) h.n2;
    if (text[0])
	jr->last = xstrdup(text);
    return h.status;
}

/* ---- the parent's side: root, doing what the child asks ---- */

/* named - is path a word root typed: the one after -o (an output), or
 * any other after the command word (an input)? */
static int named(const struct priv_parent *p, const char *path, int output)
{
    for (int i = 0; i < p->argc; i++) {
	int     after_o = i > 0 && strcmp(p->argv[i - 1], "-o") == 0;

	if (strcmp(p->argv[i], path) == 0 && after_o == output
	    && (output || p->argv[i][0] != '-'))
	    return 1;
    }
    return 0;
}

/* reply - the answer to a request: 0 or -1 */
static int reply(struct priv_parent *p, int status, const char *text, int fd)
{
    struct priv_head h = {PRIV_DONE, status, 0, 0};

    return priv_send(p->sock, &h, text ? text : "", text ? strlen(text) + 1 : 0, fd);
}

/* on_input - PRIV_INPUT: a named file, opened with root's rights */
static int on_input(struct priv_parent *p, const char *path)
{
    int     fd, rc;

    if (!named(p, path, 0))
	return reply(p, EPERM, 0, -1);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
	return reply(p, errno, 0, -1);
    rc = reply(p, 0, 0, fd);
    close(fd);
    return rc;
}

/* slot - the output made for path, or 0 */
static struct admin_out *slot(struct priv_parent *p, const char *path)
{
    for (int i = 0; i < PRIV_OUTPUTS; i++)
	if (p->out[i].path && strcmp(p->out[i].path, path) == 0)
	    return p->out + i;
    return 0;
}

/* on_output - PRIV_OUTPUT: -o's file, made by root beside its place */
static int on_output(struct priv_parent *p, const char *path)
{
    struct admin_out *o = 0;
    int     fd;

    for (int i = 0; i < p->argc; i++)	/* the argument itself: it outlives the request */
	if (strcmp(p->argv[i], path) == 0)
	    path = p->argv[i];
    for (int i = 0; i < PRIV_OUTPUTS && o == 0; i++)
	if (p->out[i].path == 0)
	    o = p->out + i;
    if (!named(p, path, 1) || slot(p, path) || o == 0)
	return reply(p, EPERM, 0, -1);
    if (admin_out_make(p->a, o, path) == 0) {
	int     e = errno ? errno : EIO;

	o->path = 0;
	return reply(p, e, 0, -1);
    }
    fd = fileno(o->fp);
    return reply(p, 0, 0, fd);
}

/* map_checked - every line of export-map's output fd as admin_map_line_ok()
 * wants it: 0, or -1 (said) */
static int map_checked(struct priv_parent *p, const struct admin_out *o, int fd)
{
    FILE   *fp;
    char   *line = 0;
    size_t  cap = 0;
    long    nr = 0;
    int     dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3), rc = 0;

    if (dup_fd < 0 || lseek(dup_fd, 0, SEEK_SET) < 0 || (fp = fdopen(dup_fd, "r")) == 0) {
	if (dup_fd >= 0)
	    close(dup_fd);
	return admin_io_failed(p->a, o->path), -1;
    }
    while (rc == 0 && getline(&line, &cap, fp) > 0) {
	nr++;
	if (admin_map_line_ok(&p->a->conf, line) < 0) {
	    fprintf(p->a->err, "tarpit-admin: export-map: line %ld of what the unprivileged "
		    "part wrote is not a blocked network with block_action: %s left as "
		    "it was\n", nr, o->path);
	    rc = -1;
	}
    }
    free(line);
    fclose(fp);
    return rc;
}

/* asked - did root's command line say this word? */
static int asked(const struct priv_parent *p, const char *word)
{
    for (int i = 0; i < p->argc; i++)
	if (strcmp(p->argv[i], word) == 0)
	    return 1;
    return 0;
}

/* on_commit - PRIV_COMMIT: the child is done with -o's file (status rc) */
static int on_commit(struct priv_parent *p, const char *path, int rc)
{
    struct admin_out *o = slot(p, path);
    int     is_map = strcmp(p->cmd, "export-map") == 0;

    if (o == 0)
	return reply(p, ADMIN_USAGE, 0, -1);
    if (rc == ADMIN_OK && is_map && map_checked(p, o, fileno(o->fp)) < 0)
	rc = ADMIN_IO;
    rc = admin_out_close(p->a, o, rc);
    o->path = 0;
    if (rc == ADMIN_OK && is_map && o->changed && asked(p, "--postfix-reload"))
	rc = admin_postfix_reload(p->a);
    fflush(p->a->out);			/* before what the child says next */
    fflush(p->a->err);
    return reply(p, rc, 0, -1);
}

/* entry - admin_journal_read()'s callback in the parent: the entry on to
 * the child (one too long for a message is left out) */
static void entry(void *ctx, const char *ident, const char *message)
{
    struct priv_parent *p = ctx;
    struct priv_head h = {PRIV_ENTRY, 0, 0, 0};
    static char buf[PRIV_MAX];
    size_t  a = strlen(ident) + 1, b = strlen(message) + 1;

    if (a + b > PRIV_MAX)
	return;
    memcpy(buf, ident, a);
    memcpy(buf + a, message, b);
    (void) priv_send(p->sock, &h, buf, a + b, -1);	/* a gone child: EOF next */
}

/* on_journal - PRIV_JOURNAL: Postfix's entries, read as root */
static int on_journal(struct priv_parent *p, const struct priv_head *q, char *text,
		              size_t len)
{
    struct journal_read jr = {0};
    struct priv_head h = {PRIV_DONE, 0, 0, 0};
    char   *files[64], *at = text + strlen(text) + 1, *end = text + len;
    int     n = 0, rc;

    jr.cursor = q->status && *text && strlen(text) < 512 ? text : 0;
    jr.since = q->n1;
    jr.until = q->n2;
    for (; at < end && n < 63; at += strlen(at) + 1)
	if (*at) {
	    if (!named(p, at, 0))
		return reply(p, ADMIN_USAGE, 0, -1);
	    files[n++] = at;
	}
    files[n] = 0;
    jr.files = n ? files : 0;
    rc = admin_journal_here(p->a, &jr, entry, p);
    h.status = rc;
    h.n1 = jr.entries;
    h.n2 = jr.cursor_gone;
    rc = priv_send(p->sock, &h, jr.last ? jr.last : "", jr.last ? strlen(jr.last) + 1 : 1, -1);
    free(jr.last);
    return rc;
}

/* on_probe - PRIV_PROBE: doctor's question to a socket in Postfix's queue
 * directory, and no other */
static int on_probe(struct priv_parent *p, const char *endpoint)
{
    char    reply_text[128], where[CONF_PATH_MAX + 64];

    if (admin_probe_unix(endpoint, 1, where, sizeof(where), reply_text,
			 sizeof(reply_text)) < 0)
	return reply(p, errno ? errno : EIO, 0, -1);
    return reply(p, 0, reply_text, -1);
}

/* serve_child - the parent's loop: each request, until the child closes */
static void serve_child(struct priv_parent *p)
{
    static char text[PRIV_MAX + 1];
    struct priv_head h;
    ssize_t n;
    int     fd, rc = 0;

    while (rc == 0 && (n = priv_recv(p->sock, &h, text, &fd)) > 0) {
	if (fd >= 0)
	    close(fd);			/* the child hands root nothing */
	switch (h.type) {
	case PRIV_INPUT:
	    rc = on_input(p, text);
	    break;
	case PRIV_OUTPUT:
	    rc = on_output(p, text);
	    break;
	case PRIV_COMMIT:
	    rc = on_commit(p, text, h.status);
	    break;
	case PRIV_JOURNAL:
	    rc = on_journal(p, &h, text, (size_t) n - 1);
	    break;
	case PRIV_PROBE:
	    rc = on_probe(p, text);
	    break;
	default:
	    rc = -1;			/* not a request: stop serving */
	}
    }
    for (int i = 0; i < PRIV_OUTPUTS; i++)	/* the child died with it unfinished */
	if (p->out[i].path)
	    admin_out_close(p->a, p->out + i, ADMIN_IO);
}

/* owner_of - the owner and group of the database's directory, when root
 * runs tarpit-admin and it is another user's: 1; else 0 */
static int owner_of(const struct admin *a, uid_t *uid, gid_t *gid)
{
    char    dir[DB_FILE_MAX];
    struct stat st;

    if (geteuid() != 0 || opendb_file(&a->conf, HOST_DIR, dir, sizeof(dir)) == 0
	|| stat(dir, &st) < 0 || st.st_uid == 0)
	return 0;			/* db_open() says what is missing */
    *uid = st.st_uid;
    *gid = st.st_gid;
    return 1;
}

/* drop - root given up for good: 0, or -1 (errno) */
static int drop(uid_t uid, gid_t gid)
{
    uid_t   ru, eu, su;

    if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0
	|| setresuid(uid, uid, uid) < 0 || getresuid(&ru, &eu, &su) < 0)
	return -1;
    if (ru != uid || eu != uid || su != uid || setuid(0) == 0)
	return errno = EPERM, -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* admin_separate - as root on another user's database: fork; the child
 * drops root for good and goes on (-1), the parent serves it and returns
 * its exit status.  Not root, or root's own directory: -1 at once. */
int     admin_separate(struct admin *a, const char *cmd, int argc, char **argv)
{
    struct priv_parent p = {.a = a, .cmd = cmd, .argc = argc, .argv = argv};
    int     sv[2], status;
    uid_t   uid;
    gid_t   gid;
    pid_t   pid;

    if (!owner_of(a, &uid, &gid))
	return -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
	fprintf(a->err, "tarpit-admin: socketpair: %s\n", strerror(errno));
	return ADMIN_CONFIG;
    }
    fflush(a->out);
    fflush(a->err);
    if ((pid = fork()) < 0) {
	fprintf(a->err, "tarpit-admin: fork: %s\n", strerror(errno));
	close(sv[0]);
	close(sv[1]);
	return ADMIN_CONFIG;
    }
    if (pid == 0) {
	close(sv[0]);
	if (drop(uid, gid) < 0) {
	    fprintf(a->err, "tarpit-admin: cannot become the owner (uid %lu) of the "
		    "database's directory for good: %s\n", (unsigned long) uid, strerror(errno));
	    _exit(ADMIN_CONFIG);
	}
	if (sv[1] < 3) {
	    int     fd = fcntl(sv[1], F_DUPFD_CLOEXEC, 3);

	    close(sv[1]);
	    sv[1] = fd;
	}
	a->priv = sv[1];
	return -1;
    }
    close(sv[1]);
    p.sock = sv[0];
    signal(SIGPIPE, SIG_IGN);
    serve_child(&p);
    close(sv[0]);
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR) {
	    fprintf(a->err, "tarpit-admin: waitpid: %s\n", strerror(errno));
	    return ADMIN_DB;
	}
    if (WIFEXITED(status))
	return WEXITSTATUS(status);
    fprintf(a->err, "tarpit-admin: the part working on the database died (signal %d)\n",
	    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return ADMIN_DB;
}

/* admin_open_input - a file named on the command line, opened with the
 * rights of who named it (root's: through the parent); 0 (said) when it
 * cannot be read, or when it is not a regular file (a device or a pipe
 * may never end) */
FILE   *admin_open_input(struct admin *a, const char *path)
{
    FILE   *fp = 0;
    struct stat st;
    int     fd = -1, status;

    if (a->priv) {
	if ((status = priv_ask(a, PRIV_INPUT, 0, path, &fd, 0)) != 0) {
	    if (fd >= 0)
		close(fd);
	    fd = -1;
	    errno = status > 0 ? status : EPIPE;
	}
    } else {
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
    if (fd < 0 || fstat(fd, &st) < 0) {
	admin_io_failed(a, path);
    } else if (!S_ISREG(st.st_mode)) {
	fprintf(a->err, "tarpit-admin: %s: not a regular file (give - for "
		"standard input)\n", path);
    } else if ((fp = fdopen(fd, "r")) == 0) {
	admin_io_failed(a, path);
    } else {
	return fp;
    }
    if (fd >= 0)
	close(fd);
    return 0;
}

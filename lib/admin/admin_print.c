/*
 * NAME
 *	admin_print - records as text and JSON, and the sorted collection
 * DESCRIPTION
 *	admin_print_record() prints one record as "name value" lines, or
 *	with --json as one JSON object on one line; the fields are the
 *	record's own table (record.h), so a new field shows everywhere.
 *
 *	admin_collect() reads every record under one shared lock (with the
 *	greylist entries when asked) and sorts them by network: IPv4 before
 *	IPv6, then by address, then by prefix; other keys first, by text.
 *	It holds them all, some 300 bytes each: what need no order (the
 *	counts, export-map) walk instead.
 *
 *	admin_arg_key() takes what an admin typed: an address (grouped like
 *	a client's) or a network, maybe after a profile's "[NAME]".  The *_failed() helpers say what went
 *	wrong on a->err and return the exit status for it.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/decide.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* admin_time - ISO 8601 in UTC, or "-" for never */
const char *admin_time(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t  tt = (time_t) t;

    if (t == 0 || gmtime_r(&tt, &tm) == 0)
	return "-";
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* admin_json_string - a JSON string literal */
void    admin_json_string(FILE *fp, const char *s)
{
    putc('"', fp);
    for (; *s; s++) {
	unsigned char c = (unsigned char) *s;

	if (c == '"' || c == '\\')
	    fprintf(fp, "\\%c", c);
	else if (c < 0x20 || c == 0x7f)
	    fprintf(fp, "\\u%04x", c);
	else
	    putc(c, fp);
    }
    putc('"', fp);
}

/* print_json - one record as one JSON object on one line */
static void print_json(struct admin *a, const char *key, const struct tp_record *r,
		               enum record_state st)
{
    fputs("{\"network\":", a->out);
    admin_json_string(a->out, key);
    for (size_t i = 0; i < record_nfields; i++)
	fprintf(a->out, ",\"%s\":%" PRId64, record_field_table[i].name,
		*RECORD_FIELD(r, record_field_table + i));
    fputs(",\"comment\":", a->out);
    admin_json_string(a->out, r->comment);
    fprintf(a->out, ",\"state\":\"%s\"}\n", record_state_name[st]);
}

/* admin_safe - text for a terminal: its control characters '?' (a key or
 * a comment written behind tarpit-admin's back may hold an escape
 * sequence); buf */
const char *admin_safe(const char *s, char *buf, size_t len)
{
    size_t  n = 0;

    for (; *s && n + 1 < len; s++)
	buf[n++] = (unsigned char) *s < 0x20 || *s == 0x7f ? '?' : *s;
    buf[n] = 0;
    return buf;
}

/* print_text - one record as "name value" lines */
static void print_text(struct admin *a, const char *key, const struct tp_record *r,
		               enum record_state st)
{
    char    buf[40], safe[DB_KEY_MAX];

    fprintf(a->out, "%-16s%s\n", "network", admin_safe(key, safe, sizeof(safe)));
    fprintf(a->out, "%-16s%s\n", "state", record_state_name[st]);
    for (size_t i = 0; i < record_nfields; i++) {
	const struct record_field *f = record_field_table + i;
	int64_t v = *RECORD_FIELD(r, f);

	switch (f->kind) {
	case RK_COUNT:
	case RK_MS:
	    fprintf(a->out, "%-16s%" PRId64 "\n", f->name, v);
	    break;
	case RK_UNTIL:
	    fprintf(a->out, "%-16s%s\n", f->name,
		    v == -1 ? "forever" : admin_time(v, buf, sizeof(buf)));
	    break;
	case RK_TIME:
	    fprintf(a->out, "%-16s%s\n", f->name, admin_time(v, buf, sizeof(buf)));
	    break;
	case RK_LEARNED:
	    fprintf(a->out, "%-16s%s\n", f->name, record_learned_word(v));
	    break;
	}
    }
    fprintf(a->out, "%-16s%s\n", "comment",
	    r->comment[0] ? admin_safe(r->comment, safe, sizeof(safe)) : "-");
}

/* admin_print_record - one record, as text (a blank line before all but
 * the first) or as JSON */
void    admin_print_record(struct admin *a, const char *key,
			           const struct tp_record *r, int first)
{
    enum record_state st = record_state(&a->conf, r, (int64_t) time(0));

    if (a->json) {
	print_json(a, key, r, st);
	return;
    }
    if (!first)
	putc('\n', a->out);
    print_text(a, key, r, st);
}

/* collect - db_walk callback: keep a copy of every record */
static int collect(const char *key, const struct tp_record *r, void *ctx)
{
    struct admin_entry *e = array_add(ctx);

    e->key = xstrdup(key);
    if (key[0] == KEY_PROFILE_OPEN || strchr(key, '/') == 0 || addr_parse_network(key, &e->net) < 0)
	e->net.addr.family = 0;		/* another key: sorts first, by text */
    e->r = *r;
    return 0;
}

/* by_network - IPv4 before IPv6, then by address, then by prefix */
static int by_network(const void *a, const void *b)
{
    const struct admin_entry *x = a, *y = b;
    int     c;

    if (x->net.addr.family != y->net.addr.family)
	return x->net.addr.family < y->net.addr.family ? -1 : 1;
    if (x->net.addr.family == 0)
	return strcmp(x->key, y->key);
    if ((c = memcmp(x->net.addr.bytes, y->net.addr.bytes, sizeof(x->net.addr.bytes))) != 0)
	return c;
    return x->net.prefix - y->net.prefix;
}

/* admin_collect - every record (with the greylist entries when asked),
 * sorted by network, into an array of struct admin_entry; 0 or an exit
 * status (said) */
int admin_collect(struct admin *a, struct array *entries, int greylist)
{
    *entries = (struct array) ARRAY_OF(struct admin_entry);
    if ((greylist ? db_walk_all : db_walk) (a->db, collect, entries) < 0) {
	admin_collect_free(entries);
	return admin_db_failed(a);
    }
    if (entries->n)
	qsort(entries->v, entries->n, entries->size, by_network);
    return 0;
}

/* admin_read_line - the next line of fp into buf, without its newline,
 * never more than len - 1 bytes held: its length; -1 at the end of input
 * (or an error: ferror() tells); -2 for a line longer than that, which
 * is read to its end and dropped.  A file that never ends a line (a
 * device) costs no more memory than the buffer. */
ssize_t admin_read_line(FILE *fp, char *buf, size_t len)
{
    size_t  n = 0;
    int     c, over = 0;

    while ((c = getc(fp)) != EOF && c != '\n') {
	if (n + 1 < len)
	    buf[n++] = (char) c;
	else
	    over = 1;
    }
    buf[n] = 0;
    if (over)
	return -2;
    if (c == EOF && n == 0)
	return -1;
    return (ssize_t) n;
}

/* admin_collect_free - what admin_collect() gathered */
void    admin_collect_free(struct array *entries)
{
    for (size_t i = 0; i < entries->n; i++)
	free(((struct admin_entry *) entries->v)[i].key);
    array_free(entries);
}

/* admin_arg_key - an address or network argument to its key, with a
 * profile's "[NAME]" before it for that profile's own record; 0 or -1
 * (said) */
int admin_arg_key(struct admin *a, const char *arg, char *key, size_t len)
{
    const char *net = ledger_key_network(arg);
    size_t  n = net ? (size_t) (net - arg) : 0;

    if (net == 0 || n >= len || addr_key_from_arg(net, (int) a->conf.ipv4_prefix,
				  (int) a->conf.ipv6_prefix, key + n, len - n) < 0) {
	fprintf(a->err, "tarpit-admin: \"%s\" is not an IP address or network\n", arg);
	return -1;
    }
    memcpy(key, arg, n);
    if (n > 0) {
	char    name[CONF_NAME_MAX];

	snprintf(name, sizeof(name), "%.*s", (int) n - 2, arg + 1);
	if (conf_profile(&a->conf, name) == 0) {
	    fprintf(a->err, "tarpit-admin: \"%s\": the config has no [%s] profile\n",
		    arg, name);
	    return -1;
	}
    }
    return 0;
}

/* admin_db_failed - report a database error */
int admin_db_failed(struct admin *a)
{
    fprintf(a->err, "tarpit-admin: %s\n", db_error(a->db));
    return ADMIN_DB;
}

/* admin_io_failed - report a file or output that could not be used */
int admin_io_failed(struct admin *a, const char *what)
{
    fprintf(a->err, "tarpit-admin: %s: %m\n", what);
    return ADMIN_IO;
}

/* admin_no_record - say that an argument's network has no record */
int admin_no_record(struct admin *a, const char *arg, const char *key)
{
    fprintf(a->err, "tarpit-admin: %s: no record for %s\n", arg, key);
    return ADMIN_NOTFOUND;
}

/* out_dir - the directory of o->path, opened one name at a time: a link
 * is followed only inside a directory of root's that no one else may
 * write, where no one else can have put it; in any other (the state
 * directory, which the tarpit user writes) a link is refused, so that
 * root's output never lands where that user pointed.  Its descriptor,
 * with o->name the file's own name; -1 (errno) */
static int out_dir(struct admin_out *o)
{
    char    dir[CONF_PATH_MAX], *p, *next;
    const char *slash = strrchr(o->path, '/');
    int     fd, nfd;
    struct stat st;

    o->name = slash ? slash + 1 : o->path;
    if (*o->name == 0 || strlen(o->path) >= sizeof(dir))
	return errno = EINVAL, -1;
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int) (slash - o->path) : 0, o->path);
    if ((fd = open(slash && o->path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
	return -1;
    for (p = dir; p && *p; p = next) {
	if ((next = strchr(p, '/')) != 0)
	    *next++ = 0;
	if (*p == 0)
	    continue;
	if (fstat(fd, &st) < 0) {
	    close(fd);
	    return -1;
	}
	nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC
		     | (st.st_uid == 0 && !(st.st_mode & 022) ? 0 : O_NOFOLLOW));
	close(fd);
	if ((fd = nfd) < 0)
	    return -1;
    }
    return fd;
}

/* out_create - a new temporary file beside the output, in out_dir(); 0
 * with errno when it cannot be made */
static FILE *out_create(struct admin_out *o)
{
    FILE   *fp;
    int     fd = -1;

    if ((o->dirfd = out_dir(o)) < 0)
	return 0;
    for (int i = 0; i < 100 && fd < 0; i++) {
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.%ld.%d", o->name, (long) getpid(), i);
	fd = openat(o->dirfd, o->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EEXIST)
	    break;
    }
    if (fd >= 0 && fchmod(fd, 0644) == 0 && (fp = fdopen(fd, "w")) != 0)
	return fp;
    if (fd >= 0) {
	close(fd);
	unlinkat(o->dirfd, o->tmp, 0);
    }
    close(o->dirfd);
    o->dirfd = -1;
    return 0;
}

/* out_changed - does the file in o's place differ from what o wrote? */
static int out_changed(const struct admin_out *o)
{
    char    a[4096], b[4096];
    int     old = openat(o->dirfd, o->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int     fd = fileno(o->fp), differ = 1;
    ssize_t na, nb;
    off_t   at = 0;

    if (old < 0)
	return 1;
    for (;;) {
	if ((na = pread(fd, a, sizeof(a), at)) < 0
	    || (nb = pread(old, b, sizeof(b), at)) != na || memcmp(a, b, (size_t) na) != 0)
	    break;
	if (na == 0) {
	    differ = 0;
	    break;
	}
	at += na;
    }
    close(old);
    return differ;
}

/* admin_out_make - admin_out_open(), saying nothing: 0 with errno */
FILE   *admin_out_make(struct admin *a, struct admin_out *o, const char *path)
{
    int     fd;

    o->path = path;
    o->fp = a->out;
    o->via_priv = 0;
    o->changed = 0;
    o->dirfd = -1;
    if (path == 0)
	return o->fp;
    if ((o->fp = out_create(o)) == 0 && (errno == EACCES || errno == EPERM) && a->priv) {
	if ((fd = admin_priv_output(a, path)) < 0)
	    return 0;
	if ((o->fp = fdopen(fd, "w")) == 0) {
	    close(fd);
	    admin_priv_commit(a, path, ADMIN_IO);
	    return 0;
	}
	o->via_priv = 1;
    }
    return o->fp;
}

/* admin_out_open - where a command writes: a->out, or with a path a new
 * file beside it (mode 0644) that admin_out_close() renames into place,
 * so that a reader never sees half of it; 0 (said) when it cannot be
 * made.  A link in its place is replaced, never followed, and a link on
 * the way to it is followed only inside root's own directories
 * (out_dir).  Root's tarpit-admin working as the database's owner
 * (admin_priv.c) has its root part make it where the owner may not
 * write (/var/lib/tarpit-map, node-exporter's directory). */
FILE   *admin_out_open(struct admin *a, struct admin_out *o, const char *path)
{
    if (admin_out_make(a, o, path) == 0)
	admin_io_failed(a, path);
    return o->fp;
}

/* admin_out_close - finish what admin_out_open() began: with status rc
 * ADMIN_OK the file is synced and renamed into place (o->changed says
 * whether it differs from what it replaced), else removed; the status */
int admin_out_close(struct admin *a, struct admin_out *o, int rc)
{
    int     bad;

    if (o->path == 0)
	return rc;
    bad = fflush(o->fp) != 0 || (!o->via_priv && fsync(fileno(o->fp)) != 0);
    if (o->via_priv) {
	if (fclose(o->fp) != 0)
	    bad = 1;
	if (bad && rc == ADMIN_OK)
	    rc = admin_io_failed(a, o->path);
	return admin_priv_commit(a, o->path, rc);
    }
    if (rc == ADMIN_OK && !bad)
	o->changed = out_changed(o);
    if (fclose(o->fp) != 0)
	bad = 1;
    if (rc == ADMIN_OK && (bad || renameat(o->dirfd, o->tmp, o->dirfd, o->name) != 0))
	rc = admin_io_failed(a, o->path);
    if (rc != ADMIN_OK)
	unlinkat(o->dirfd, o->tmp, 0);
    close(o->dirfd);
    return rc;
}

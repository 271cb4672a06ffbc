/*
 * NAME
 *	redis_link - the link to a Valkey or Redis server
 * DESCRIPTION
 *	hiredis is opened with dlopen() the first time a shared database is
 *	used, so that a host on its GDBM file maps none of it.  A URL
 *	(redis://[USER@]HOST[:PORT][/DB], valkey://..., redis+unix:///PATH
 *	[?db=N]) names the server; the password is the first line of
 *	database_password_file, never in tarpit.conf.  A connection is made
 *	when a command needs one, authenticated and on its database, and
 *	dropped on any failure, so that the next command connects anew;
 *	every connect and command is bounded by database_timeout.
 */
#define _GNU_SOURCE
#include "store/redis_link.h"
#include "util/clock.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)
#define HIREDIS_LIB "libhiredis.so." STR(HIREDIS_SONAME)

struct hiredis hiredis_api;

__attribute__((format(printf, 2, 3)))
void    redis_set_error(struct redis *r, const char *fmt, ...)
{
    va_list ap;
    char   *e = r->base.error;
    int     n = snprintf(e, sizeof(r->base.error), "%s: ", r->url);

    va_start(ap, fmt);
    if (n > 0 && (size_t) n < sizeof(r->base.error))
	vsnprintf(e + n, sizeof(r->base.error) - (size_t) n, fmt, ap);
    va_end(ap);
}

/* load_hiredis - dlopen() it once; 0 or -1 */
static int load_hiredis(void)
{
    void   *h;

    if (hiredis_api.tried)
	return hiredis_api.ok ? 0 : -1;
    hiredis_api.tried = 1;
    if ((h = dlopen(HIREDIS_LIB, RTLD_NOW | RTLD_LOCAL)) == 0) {
	snprintf(hiredis_api.error, sizeof(hiredis_api.error), "cannot load %s (install libhiredis): %s",
		 HIREDIS_LIB, dlerror());
	return -1;
    }
#define SYM(field, name) \
    if ((*(void **) &hiredis_api.field = dlsym(h, name)) == 0) { \
	snprintf(hiredis_api.error, sizeof(hiredis_api.error), "%s has no %s", HIREDIS_LIB, name); \
	return -1; \
    }
    SYM(connect_tcp, "redisConnectWithTimeout");
    SYM(connect_unix, "redisConnectUnixWithTimeout");
    SYM(set_timeout, "redisSetTimeout");
    SYM(command_argv, "redisCommandArgv");
    SYM(append_argv, "redisAppendCommandArgv");
    SYM(get_reply, "redisGetReply");
    SYM(free_ctx, "redisFree");
    SYM(free_reply, "freeReplyObject");
#undef SYM
    hiredis_api.ok = 1;
    return 0;
}

/* parse_url - the URL's parts into r; 0, or -1 with why */
static int parse_url(struct redis *r, const char *url, char *why, size_t len)
{
    const char *p = strstr(url, "://") + 3, *at, *slash, *q;
    char   *end;
    long    v;

    if (strncmp(url, "unix://", 7) == 0 || strstr(url, "+unix://") != 0) {
	if (*p != '/') {
	    snprintf(why, len, "%s: a UNIX socket URL names an absolute path "
		     "(redis+unix:///run/redis/redis.sock?db=0)", url);
	    return -1;
	}
	q = strchr(p, '?');
	snprintf(r->socket, sizeof(r->socket), "%.*s", q ? (int) (q - p) : (int) strlen(p), p);
	if (q) {
	    if (strncmp(q, "?db=", 4) != 0 || (v = strtol(q + 4, &end, 10), *end)
		|| v < 0 || v > 1000) {
		snprintf(why, len, "%s: only ?db=N may follow the socket's path", url);
		return -1;
	    }
	    r->dbnum = (int) v;
	}
	return 0;
    }
    slash = strchr(p, '/');
    if ((at = strchr(p, '@')) != 0 && (slash == 0 || at < slash)) {
	if (memchr(p, ':', (size_t) (at - p)) != 0) {
	    snprintf(why, len, "%s: no password in tarpit.conf: put it in the file "
		     "named by database_password_file", url);
	    return -1;
	}
	snprintf(r->user, sizeof(r->user), "%.*s", (int) (at - p), p);
	p = at + 1;
    }
    const char *colon = strrchr(p, ':');

    if (*p == '[') {			/* [IPv6]:port */
	const char *close = strchr(p, ']');

	if (close == 0) {
	    snprintf(why, len, "%s: no ] after the IPv6 address", url);
	    return -1;
	}
	snprintf(r->host, sizeof(r->host), "%.*s", (int) (close - p - 1), p + 1);
	colon = close[1] == ':' ? close + 1 : 0;
    } else
	snprintf(r->host, sizeof(r->host), "%.*s",
		 (int) ((colon && (!slash || colon < slash) ? colon : slash ? slash
			 : p + strlen(p)) - p), p);
    r->port = 6379;
    if (colon && (!slash || colon < slash)) {
	v = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || (*end && *end != '/') || v < 1 || v > 65535) {
	    snprintf(why, len, "%s: not a port", url);
	    return -1;
	}
	r->port = (int) v;
    }
    if (slash && slash[1]) {
	v = strtol(slash + 1, &end, 10);
	if (end == slash + 1 || *end || v < 0 || v > 1000) {
	    snprintf(why, len, "%s: the database after / is a number", url);
	    return -1;
	}
	r->dbnum = (int) v;
    }
    if (r->host[0] == 0) {
	snprintf(why, len, "%s: no host", url);
	return -1;
    }
    return 0;
}

/* redis_open - a handle for the server the settings name; 0 with why
 * when the URL is wrong.  Nothing is connected yet. */
struct tp_db *redis_open(const struct db_settings *set, char *why, size_t len)
{
    struct redis *r;

    if (strlen(set->prefix) > 100) {
	snprintf(why, len, "database_prefix: at most 100 characters");
	return 0;
    }
    r = xcalloc(1, sizeof(*r));
    snprintf(r->url, sizeof(r->url), "%s", set->database);
    memcpy(r->prefix, set->prefix, strlen(set->prefix) + 1);
    snprintf(r->password_file, sizeof(r->password_file), "%s", set->password_file);
    r->timeout_ms = set->timeout_ms;
    r->max_age_s = set->max_age_s;
    if (parse_url(r, set->database, why, len) < 0) {
	free(r);
	return 0;
    }
    db_init(&r->base, &redis_ops, r->url);
    return &r->base;
}

static void disconnect(struct redis *r)
{
    if (r->c)
	hiredis_api.free_ctx(r->c);
    r->c = 0;
}

/* redis_tcp_port - the port of a server reached over TCP, else 0 */
int     redis_tcp_port(struct tp_db *base)
{
    struct redis *r = (struct redis *) base;

    return r->socket[0] ? 0 : r->port;
}

/* redis_resolves - is the server over TCP named by host name, not by an
 * IPv4 or IPv6 address? */
int     redis_resolves(struct tp_db *base)
{
    struct redis *r = (struct redis *) base;
    unsigned char buf[16];

    return r->socket[0] == 0 && inet_pton(AF_INET, r->host, buf) != 1
	&& inet_pton(AF_INET6, r->host, buf) != 1;
}

void    redis_free(struct tp_db *base)
{
    disconnect((struct redis *) base);
    free(base);
}

/* redis_release - drop the connection (a helper before its wait) */
void    redis_release(struct tp_db *base)
{
    disconnect((struct redis *) base);
}

/* redis_io_failed - a command got no reply: say why, drop the connection */
void    redis_io_failed(struct redis *r, const char *what)
{
    redis_set_error(r, "%s: %s", what, r->c && r->c->errstr[0] ? r->c->errstr : "no reply");
    disconnect(r);
}

/* read_password - the password file's first line; 0 none, 1 read, -1 bad */
static int read_password(struct redis *r, char *pw, size_t len)
{
    struct stat st;
    FILE   *fp;
    size_t  n;

    if (r->password_file[0] == 0)
	return 0;
    if ((fp = fopen(r->password_file, "r")) == 0) {
	redis_set_error(r, "database_password_file %s: %s", r->password_file, strerror(errno));
	return -1;
    }
    if (fstat(fileno(fp), &st) < 0 || (st.st_mode & 0137) != 0) {
	redis_set_error(r, "database_password_file %s is readable or writable beyond "
		  "owner and group (chmod 0640, owner root, group tarpit)",
		  r->password_file);
	fclose(fp);
	return -1;
    }
    if (fgets(pw, (int) len, fp) == 0)
	pw[0] = 0;
    fclose(fp);
    n = strcspn(pw, "\r\n");
    pw[n] = 0;
    if (n == 0) {
	redis_set_error(r, "database_password_file %s is empty", r->password_file);
	return -1;
    }
    return 1;
}

/* redis_reply_error - a reply that is an error: said; 1, else 0 */
int     redis_reply_error(struct redis *r, const char *what, const redisReply *rep)
{
    if (rep->type != REDIS_REPLY_ERROR)
	return 0;
    redis_set_error(r, "%s: %.*s", what, (int) rep->len, rep->str);
    return 1;
}

/* redis_command - one command, its reply (free it), or 0 (said) */
redisReply *redis_command(struct redis *r, const char *what, int argc,
			           const char **argv, const size_t *lens)
{
    redisReply *rep = hiredis_api.command_argv(r->c, argc, argv, lens);

    if (rep == 0)
	redis_io_failed(r, what);
    return rep;
}

/* handshake - a command of the connection's set-up: 0, or -1 (said, and
 * the connection dropped) */
static int handshake(struct redis *r, const char *what, int argc, const char **argv)
{
    redisReply *rep = redis_command(r, what, argc, argv, 0);
    int     rc;

    if (rep == 0)
	return -1;
    rc = redis_reply_error(r, what, rep) ? -1 : 0;
    hiredis_api.free_reply(rep);
    if (rc < 0)
	disconnect(r);
    return rc;
}

/* redis_connect - a connection, authenticated and on the right database;
 * 0 or -1 (said) */
int     redis_connect(struct redis *r)
{
    struct timeval tv = {(time_t) (r->timeout_ms / 1000),
    (suseconds_t) (r->timeout_ms % 1000 * 1000)};
    char    pw[512], dbs[16];
    int     have_pw, rc;

    if (r->c)
	return 0;
    if (load_hiredis() < 0) {
	redis_set_error(r, "%s", hiredis_api.error);
	return -1;
    }
    if ((have_pw = read_password(r, pw, sizeof(pw))) < 0)
	return -1;
    r->c = r->socket[0] ? hiredis_api.connect_unix(r->socket, tv) : hiredis_api.connect_tcp(r->host, r->port, tv);
    if (r->c == 0 || r->c->err) {
	redis_set_error(r, "connect: %s", r->c ? r->c->errstr : "out of memory");
	disconnect(r);
	return -1;
    }
    if (hiredis_api.set_timeout(r->c, tv) != 0) {
	redis_io_failed(r, "setting the timeout");
	return -1;
    }
    if (have_pw) {
	const char *argv[3] = {"AUTH", r->user, pw};
	int     argc = r->user[0] ? 3 : 2;

	if (!r->user[0])
	    argv[1] = pw;
	rc = handshake(r, "AUTH", argc, argv);
	memset(pw, 0, sizeof(pw));
	if (rc < 0)
	    return -1;
    }
    if (r->dbnum != 0) {
	const char *argv[2] = {"SELECT", dbs};

	snprintf(dbs, sizeof(dbs), "%d", r->dbnum);
	if (handshake(r, "SELECT", 2, argv) < 0)
	    return -1;
    }
    return 0;
}


/* redis_pipeline - queue n commands, then read n replies (each freed by the
 * caller); 0, or -1 (said, all freed) */
int     redis_pipeline(struct redis *r, const char *what, int n, int *argc,
		            const char ***argv, const size_t **lens, redisReply **rep)
{
    for (int i = 0; i < n; i++) {
	rep[i] = 0;
	if (hiredis_api.append_argv(r->c, argc[i], argv[i], lens[i]) != 0) {
	    redis_io_failed(r, what);
	    return -1;
	}
    }
    for (int i = 0; i < n; i++) {
	if (hiredis_api.get_reply(r->c, (void **) &rep[i]) != 0 || rep[i] == 0) {
	    for (int j = 0; j < i; j++)
		hiredis_api.free_reply(rep[j]);
	    redis_io_failed(r, what);
	    return -1;
	}
    }
    return 0;
}

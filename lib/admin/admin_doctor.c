/*
 * NAME
 *	doctor - check a live installation and say what to fix
 * DESCRIPTION
 *	admin_doctor() looks at what an admin gets wrong: the database and
 *	its lock file, the installed units, and Postfix's configuration as
 *	postconf(1) reports it (so MAIL_CONFIG selects another Postfix
 *	instance, as with Postfix's own tools).  Each problem is printed as
 *	"problem: ..." followed by "  fix: ...".  The exit status is 0 when
 *	nothing was found, ADMIN_PROBLEMS otherwise.
 *
 *	TARPIT_UNITDIR overrides where the installed units are looked for
 *	(default: /etc/systemd/system, /lib/systemd/system,
 *	/usr/lib/systemd/system, /usr/local/lib/systemd/system).
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "util/addr.h"
#include "util/confine.h"
#include "store/dbfile.h"
#include "tarpit/opendb.h"

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DATA_STAGE_LIMIT_MS 120000	/* RFC 5321: the reply to DATA */
#define TIMEOUT_MARGIN_MS 10000

struct doctor {
    struct admin *a;
    int     problems;
};

/* Where Postfix reaches a helper: unix:private/tarpit-NAME as shipped, or
 * a TCP port (the units' documented option; --check-port, --store-port) */
struct endpoint {
    const char *name;			/* check, store */
    const char *tcp;			/* the documented port */
    const char *port;			/* the one given, or 0 */
};

/* problem - one finding and its fix */
__attribute__((format(printf, 3, 4)))
static void problem(struct doctor *d, const char *fix, const char *fmt, ...)
{
    va_list ap;

    fputs("problem: ", d->a->out);
    va_start(ap, fmt);
    vfprintf(d->a->out, fmt, ap);
    va_end(ap);
    fprintf(d->a->out, "\n  fix: %s\n", fix);
    d->problems++;
}

/* good - one thing that is right */
__attribute__((format(printf, 2, 3)))
static void good(struct doctor *d, const char *fmt, ...)
{
    va_list ap;

    fputs("ok: ", d->a->out);
    va_start(ap, fmt);
    vfprintf(d->a->out, fmt, ap);
    va_end(ap);
    putc('\n', d->a->out);
}

/* finding - what the store's own checks found (db_doctor) */
static void finding(void *ctx, const char *fix, const char *text)
{
    struct doctor *d = ctx;

    if (fix)
	problem(d, fix, "%s", text);
    else
	good(d, "%s", text);
}

/* check_state_files - every file in the state directory is the
 * directory owner's to write: one of root's (a load run as root by an
 * older version, an edit) makes the helpers fail open */
static void check_state_files(struct doctor *d, const char *dir)
{
    struct stat ds, st;
    DIR    *dp;
    struct dirent *e;
    char    path[DB_FILE_MAX + 256];
    int     bad = 0;

    if (stat(dir, &ds) < 0 || (dp = opendir(dir)) == 0)
	return;
    while ((e = readdir(dp)) != 0) {
	if (e->d_name[0] == '.' || snprintf(path, sizeof(path), "%s/%s", dir, e->d_name)
	    >= (int) sizeof(path) || lstat(path, &st) < 0)
	    continue;
	if (S_ISLNK(st.st_mode)) {
	    problem(d, "remove it: nothing of ours is a link", "%s is a link", path);
	    bad++;
	} else if (S_ISREG(st.st_mode) && st.st_uid != ds.st_uid) {
	    struct passwd *pw = getpwuid(ds.st_uid);

	    problem(d, "chown it to the directory's owner (tarpit:tarpit)",
		    "%s belongs to uid %lu, not to %s, who owns the directory and "
		    "runs the helpers: they cannot write it, and fail open",
		    path, (unsigned long) st.st_uid, pw ? pw->pw_name : "its owner");
	    bad++;
	} else if (S_ISREG(st.st_mode) && (st.st_mode & S_IWOTH)) {
	    problem(d, "chmod o-w it", "%s is writable by any user", path);
	    bad++;
	}
    }
    closedir(dp);
    if (!bad)
	good(d, "every file in %s is its owner's", dir);
}

/* check_room - free space beside the database for expire's reorganise:
 * a snapshot and a new file, each up to the database's size */
static void check_room(struct doctor *d, const char *dir)
{
    struct statvfs vs;
    long long size = db_size(d->a->db), free_b;

    if (statvfs(dir, &vs) < 0)
	return;
    free_b = (long long) vs.f_bavail * (long long) vs.f_frsize;
    if (size < 0)
	size = 0;
    if (free_b < 2 * size + (1 << 20))
	problem(d, "make room on that file system (expire and load need it)",
		"%lld bytes free in %s, where expire's reorganise needs two more "
		"copies of the %lld-byte database (and a little more)", free_b, dir, size);
    else
	good(d, "%lld bytes free in %s: room for expire's two copies", free_b, dir);
}

/* check_files - a GDBM file's directory, lock file, file and owners;
 * 0, or -1 when the store's own checks cannot run */
static int check_files(struct doctor *d)
{
    const char *db = d->a->conf.database;
    char    dir[DB_FILE_MAX], lock[DB_FILE_MAX];
    struct passwd *pw = getpwnam("tarpit");
    struct stat st;
    struct tp_record r;

    if (db_file(db, DB_FILE_DIR, dir, sizeof(dir)) == 0
	|| db_file(db, DB_FILE_LOCK, lock, sizeof(lock)) == 0) {
	problem(d, "a shorter database = in tarpit.conf", "the database path is too long");
	return -1;
    }
    if (stat(dir, &st) < 0) {
	problem(d, "create it (systemd does, from the units' StateDirectory=, "
		"once a helper has run), or set database = in tarpit.conf",
		"the database directory %s does not exist", dir);
	return -1;
    }
    if (st.st_mode & S_IWOTH)
	problem(d, "chmod o-w on it", "the database directory %s is world-writable", dir);
    if (pw && st.st_uid != pw->pw_uid && access(dir, W_OK) == 0
	&& !(st.st_mode & S_IWGRP && st.st_gid == pw->pw_gid))
	problem(d, "chown tarpit: it (the helpers run as user tarpit)",
		"the database directory %s is not writable by user tarpit", dir);
    if (stat(lock, &st) == 0 && pw && st.st_uid != pw->pw_uid
	&& !(st.st_mode & S_IWGRP && st.st_gid == pw->pw_gid))
	problem(d, "chown tarpit: the lock file", "the lock file %s is not "
		"writable by user tarpit", lock);
    check_state_files(d, dir);
    check_room(d, dir);
    if (db_get(d->a->db, "@doctor", &r) < 0) {
	problem(d, "see the message; `tarpit-admin info` shows the file",
		"the database cannot be read: %s", db_error(d->a->db));
	return -1;
    }
    good(d, "database %s can be read%s", db, d->a->priv
	 ? " by the directory's owner, as the helpers read it" : "");
    return 0;
}

/* check_database - the file's install, then the store's own checks (a
 * server's: reached, and keeping our keys) */
static void check_database(struct doctor *d)
{
    if (db_shared(d->a->db) || check_files(d) == 0)
	db_doctor(d->a->db, finding, d);
}

/* check_sandbox - can the helpers wall themselves off (sandbox.c)? */
static void check_sandbox(struct doctor *d)
{
    char    why[600];
    int     abi = confine_landlock_abi();

    switch (admin_sandbox(d->a, why, sizeof(why))) {
    case CONFINE_FULL:
	good(d, "the policy helpers wall themselves off (Landlock ABI %d and the seccomp "
	     "filter; tried as a helper would)", abi);
	break;
    case CONFINE_PARTIAL:
	problem(d, abi == 0 ? "boot with Landlock among the kernel's security modules (lsm= "
		"on its command line; see /sys/kernel/security/lsm), or let the container "
		"allow its calls" : "a kernel of 6.7 or later (Landlock ABI 4)",
		"the policy helpers shut themselves in only partly: %s (they keep the "
		"seccomp filter, and the units' floor)", why);
	break;
    default:
	problem(d, "see the message", "the policy helpers cannot shut themselves in: %s "
		"(only the units' floor holds)", why);
    }
}

/* check_units - installed, and enough connections for Postfix */
static long check_units(struct doctor *d)
{
    const char *env = getenv("TARPIT_UNITDIR");
    const char *dirs[] = {env, "/etc/systemd/system", "/lib/systemd/system",
	"/usr/lib/systemd/system", "/usr/local/lib/systemd/system"};
    long    maxconn = -1;

    for (const char **unit = (const char *[]) {
	"tarpit-check.socket", "tarpit-store.socket", 0};
	 *unit; unit++) {
	char    path[CONF_PATH_MAX + 64];
	FILE   *fp = 0;

	for (size_t i = env ? 0 : 1; i < sizeof(dirs) / sizeof(dirs[0]) && !fp; i++) {
	    snprintf(path, sizeof(path), "%s/%s", dirs[i], *unit);
	    fp = fopen(path, "r");
	    if (env)
		break;
	}
	if (fp == 0) {
	    problem(d, "make install, then systemctl daemon-reload and "
		    "systemctl enable --now tarpit-check.socket tarpit-store.socket",
		    "the unit %s is not installed", *unit);
	    continue;
	}
	char    line[512];
	long    n = 64;			/* systemd's default */

	while (fgets(line, sizeof(line), fp))
	    if (strncmp(line, "MaxConnections=", 15) == 0)
		n = strtol(line + 15, 0, 10);
	fclose(fp);
	good(d, "%s is installed (MaxConnections=%ld)", path, n);
	if (strcmp(*unit, "tarpit-check.socket") == 0)
	    maxconn = n;
    }
    return maxconn;
}

/* find_one - the check_policy_service entry naming needle (":PORT" or
 * "private/NAME") in a list, its text in out (up to the closing brace);
 * 0 or -1 */
static int find_one(const char *list, const char *needle, char *out, size_t len)
{
    const char *p, *start, *end;

    for (p = list; (p = strstr(p, needle)) != 0; p++) {
	char    after = p[strlen(needle)];

	if (after && after != ',' && after != ' ' && after != '}'
	    && after != '\n' && after != '\t')
	    continue;
	start = p;
	while (start > list && strncmp(start, "check_policy_service", 20) != 0)
	    start--;
	if (strncmp(start, "check_policy_service", 20) != 0)
	    continue;
	end = strchr(p, '}');
	if (end == 0 || (strchr(start, '{') == 0 || strchr(start, '{') > p))
	    end = p + strlen(needle);	/* no braces: no per-service options */
	else
	    end++;
	snprintf(out, len, "%.*s", (int) (end - start), start);
	return 0;
    }
    return -1;
}

/* find_service - the entry of a service: its TCP port when given, else
 * the shipped unix:private/tarpit-NAME or the old 127.0.0.1 port; what it
 * was found as in where */
static int find_service(const char *list, const struct endpoint *e, char *out,
			        size_t len)
{
    char    needle[64];

    if (e->port == 0) {
	snprintf(needle, sizeof(needle), "private/tarpit-%s", e->name);
	if (find_one(list, needle, out, len) == 0)
	    return 0;
    }
    snprintf(needle, sizeof(needle), ":%s", e->port ? e->port : e->tcp);
    return find_one(list, needle, out, len);
}

/* option - "name=value" inside a service entry, value in out; 0 or -1 */
static int option(const char *entry, const char *name, char *out, size_t len)
{
    char    needle[64];
    const char *p;

    snprintf(needle, sizeof(needle), "%s=", name);
    if ((p = strstr(entry, needle)) == 0)
	return -1;
    p += strlen(needle);
    snprintf(out, len, "%.*s", (int) strcspn(p, ",} \t\n"), p);
    return 0;
}

/* endpoint_of - the service of a check_policy_service entry, as Postfix
 * names it ("unix:private/tarpit-check", "inet:127.0.0.1:60001") */
static const char *endpoint_of(const char *entry, char *buf, size_t len)
{
    const char *p = entry + strlen("check_policy_service");

    p += strspn(p, " \t\n{");
    snprintf(buf, len, "%.*s", (int) strcspn(p, " \t\n,}"), p);
    return buf;
}

/* ask - one probe on fd: the reply's first line into buf; 0 or -1 */
static int ask(int fd, char *buf, size_t len)
{
    static const char probe[] = "request=tarpit_probe\n\n";
    struct timeval tv = {3, 0};
    ssize_t n;

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0
	|| write(fd, probe, sizeof(probe) - 1) != (ssize_t) sizeof(probe) - 1
	|| (n = read(fd, buf, len - 1)) <= 0)
	return -1;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

/* admin_probe_unix - doctor's question to a UNIX policy socket, a path
 * in Postfix's queue directory when relative (with in_queue, no other):
 * 0 with the reply's first line, or -1 (errno) */
int     admin_probe_unix(const char *endpoint, int in_queue, char *where, size_t wlen,
			         char *reply, size_t rlen)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    const char *path = endpoint[0] == '/' ? endpoint : endpoint + 5;
    char   *queue = admin_postconf("queue_directory");
    size_t  qlen = queue ? strlen(queue) : 0;
    int     fd, rc = -1, inside;

    if (path[0] != '/' && queue)
	snprintf(where, wlen, "%s/%s", queue, path);
    else
	snprintf(where, wlen, "%s", path);
    inside = queue && strncmp(where, queue, qlen) == 0 && where[qlen] == '/'
	&& strstr(where, "/../") == 0;
    free(queue);
    if (in_queue && !inside)
	return errno = EPERM, -1;
    if (strlen(where) >= sizeof(un.sun_path))
	return errno = ENAMETOOLONG, -1;
    memcpy(un.sun_path, where, strlen(where) + 1);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
	return -1;
    if (connect(fd, (struct sockaddr *) &un, sizeof(un)) == 0)
	rc = ask(fd, reply, rlen);
    if (rc < 0) {
	int     e = errno;

	close(fd);
	return errno = e, -1;
    }
    close(fd);
    return 0;
}

/* probe - does the service Postfix is told to ask really answer?  A UNIX
 * socket is Postfix's, mode 0660: root asks it (root's part, when
 * tarpit-admin runs in two: admin_priv.c) */
static void probe(struct doctor *d, const char *endpoint, const char *unit)
{
    char    reply[128] = "", where[CONF_PATH_MAX + 64];
    int     fd = -1, rc = -1;

    if (strncmp(endpoint, "unix:", 5) == 0 || endpoint[0] == '/') {
	if (d->a->priv) {
	    const char *path = endpoint[0] == '/' ? endpoint : endpoint + 5;

	    snprintf(where, sizeof(where), "%s", path);
	    rc = admin_priv_probe(d->a, endpoint, reply, sizeof(reply));
	} else {
	    rc = admin_probe_unix(endpoint, 0, where, sizeof(where), reply, sizeof(reply));
	}
    } else {
	const char *hp = strncmp(endpoint, "inet:", 5) == 0 ? endpoint + 5 : endpoint;
	struct sockaddr_storage ss;
	socklen_t sslen;

	snprintf(where, sizeof(where), "%s", hp);
	if (addr_parse_endpoint(hp, &ss, &sslen) == 0) {
	    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0
		&& connect(fd, (struct sockaddr *) &ss, sslen) == 0)
		rc = ask(fd, reply, sizeof(reply));
	}
    }
    if (rc < 0)
	snprintf(reply, sizeof(reply), "%s", strerror(errno));
    if (fd >= 0)
	close(fd);
    if (rc == 0 && strncmp(reply, "action=", 7) == 0) {
	good(d, "%s answers (%s)", where, reply);
	return;
    }
    char    fix[256];

    snprintf(fix, sizeof(fix), "systemctl enable --now %s (or start whatever "
	     "serves %s)", unit, endpoint);
    problem(d, fix, "nothing answers on %s (%s): Postfix asks it, and applies its "
	    "default_action: no client waits", where, rc < 0 ? reply : "no action= reply");
}

/* before - does word come before the tarpit's entry in the list? */
static int before(const char *list, const char *word, const char *entry_at)
{
    const char *p = list;
    size_t  n = strlen(word);

    while ((p = strstr(p, word)) != 0 && p < entry_at) {
	if ((p == list || strchr(" ,\t\n", p[-1])) && (p[n] == 0 || strchr(" ,\t\n", p[n])))
	    return 1;
	p += n;
    }
    return 0;
}

/* longest_sleep - the longest wait any profile or rule can ask for */
static int64_t longest_sleep(const struct tp_conf *c)
{
    int64_t most = c->sleep_ms;

    for (size_t i = 0; i < c->nrules; i++)
	if (c->rules[i].action == RULE_SLEEP && c->rules[i].sleep_ms > most)
	    most = c->rules[i].sleep_ms;
    for (size_t p = 0; p < c->nprofiles; p++) {
	int64_t n = longest_sleep(c->profiles + p);

	if (n > most)
	    most = n;
    }
    return most;
}

/* writable_by - may uid change the file at path: it, or a directory on
 * its way, is that user's?  (A directory of its own lets it replace the
 * file.) */
static int writable_by(const char *path, uid_t uid)
{
    char    buf[CONF_PATH_MAX];
    struct stat st;
    char   *slash;

    if (path[0] != '/' || strlen(path) >= sizeof(buf))
	return 0;
    snprintf(buf, sizeof(buf), "%s", path);
    for (;;) {
	if (stat(buf, &st) == 0 && st.st_uid == uid)
	    return 1;
	if ((slash = strrchr(buf, '/')) == 0 || slash == buf)
	    return 0;
	*slash = 0;
    }
}

/* check_trusted_maps - no table Postfix reads in these lists (an access
 * table acts on any action a line names: BCC, REDIRECT, FILTER) may be
 * the helpers' user's to write */
static void check_trusted_maps(struct doctor *d)
{
    char    dir[DB_FILE_MAX];
    struct stat st;

    if (opendb_file(&d->a->conf, HOST_DIR, dir, sizeof(dir)) == 0 || stat(dir, &st) < 0
	|| st.st_uid == 0)
	return;				/* root runs the helpers: nothing apart */
    for (size_t i = 0; admin_postfix_lists[i]; i++) {
	char   *v = admin_postconf(admin_postfix_lists[i]), *w;
	struct admin_word wd[ADMIN_MAX_WORDS];
	int     n = v ? admin_list_words(v, wd, ADMIN_MAX_WORDS) : 0;

	for (int k = 0; k < n; k++) {
	    char    word[CONF_PATH_MAX];

	    snprintf(word, sizeof(word), "%.*s", (int) (wd[k].end - wd[k].at), v + wd[k].at);
	    if (word[0] == '{' || (w = strstr(word, ":/")) == 0 || w - word > 16)
		continue;			/* a policy service's group, not a table */
	    if (writable_by(w + 1, st.st_uid))
		problem(d, "take it out (tarpit-admin postfix disable does), and use the map "
			"tarpit-export-map.timer writes as root: check_client_access "
			"cidr:" ADMIN_MAP_DIR "/blocked.cidr",
			"%s reads %s, which the helpers' user (uid %lu) can write: a "
			"helper an attacker took over could put any action there "
			"(BCC, REDIRECT) for all mail", admin_postfix_lists[i], word,
			(unsigned long) st.st_uid);
	}
	free(v);
    }
}

/* check_postfix - the policy lines, their timeouts, the process limit */
static void check_postfix(struct doctor *d, long maxconn, const struct endpoint *check,
			          const struct endpoint *store)
{
    char   *rcpt = admin_postconf("smtpd_recipient_restrictions");
    char   *data = admin_postconf("smtpd_data_restrictions");
    char   *eod = admin_postconf("smtpd_end_of_data_restrictions");
    char   *tmo = admin_postconf("smtpd_policy_service_timeout");
    char   *dflt = admin_postconf("smtpd_policy_service_default_action");
    char   *procs = admin_postconf("default_process_limit");
    char    entry[1024], value[128];
    int64_t timeout_ms = 100000, sleep_ms = longest_sleep(&d->a->conf);
    const char *mc = getenv("MAIL_CONFIG");

    if (rcpt == 0) {
	good(d, "postconf not found or failing: Postfix not checked");
	goto out;
    }
    good(d, "asking postconf%s%s", mc ? " with MAIL_CONFIG=" : "", mc ? mc : "");
    check_trusted_maps(d);
    if ((strstr(rcpt, "postgrey") || strstr(rcpt, ":10023")) && d->a->conf.greylist)
	problem(d, "set greylist = no in tarpit.conf (the tarpit's own greylisting rescues "
		"only clients that failed its wait), or take postgrey out of "
		"smtpd_recipient_restrictions",
		"postgrey and the tarpit both greylist: a sender that gave up on the "
		"wait is greylisted twice, by each on its own clock");
    if (tmo)
	(void) conf_parse_duration(tmo, &timeout_ms);
    if (find_service(rcpt, check, entry, sizeof(entry)) == 0) {
	const char *at = strstr(rcpt, entry);

	good(d, "smtpd_recipient_restrictions asks the tarpit check: %s", entry);
	probe(d, endpoint_of(entry, value, sizeof(value)), "tarpit-check.socket");
	if (at && strstr(rcpt, "permit_mynetworks") && !before(rcpt, "permit_mynetworks", at))
	    problem(d, "move the check_policy_service to the end of "
		    "smtpd_recipient_restrictions", "the tarpit check comes before "
		    "permit_mynetworks: your own networks (mynetworks) wait too");
	if (at && (strstr(rcpt, "reject_unauth_destination") || strstr(rcpt, "defer_unauth_destination"))
	    && !before(rcpt, "reject_unauth_destination", at)
	    && !before(rcpt, "defer_unauth_destination", at))
	    problem(d, "move the check_policy_service after reject_unauth_destination",
		    "the tarpit check comes before reject_unauth_destination: "
		    "relay attempts wait before they are refused");
	if (option(entry, "timeout", value, sizeof(value)) == 0
	    && conf_parse_duration(value, &timeout_ms) < 0)
	    problem(d, "write it like timeout=100s", "timeout=%s is not a duration", value);
	if (option(entry, "default_action", value, sizeof(value)) == 0) {
	    if (strcasecmp(value, "DUNNO") != 0)
		problem(d, "add default_action=DUNNO inside the { } of that "
			"check_policy_service", "the tarpit check has "
			"default_action=%s: when the tarpit is down, mail is %s",
			value, "answered that instead of flowing");
	} else if (dflt == 0 || strncasecmp(dflt, "DUNNO", 5) != 0)
	    problem(d, "write check_policy_service { unix:private/tarpit-check, "
		    "timeout=100s, default_action=DUNNO }",
		    "the tarpit check has no default_action=DUNNO: when the "
		    "tarpit is down, Postfix answers \"%s\"", dflt ? dflt : "451 4.3.5");
	if (sleep_ms + TIMEOUT_MARGIN_MS > timeout_ms) {
	    char    s[32], t[32];

	    conf_format_duration(sleep_ms, s, sizeof(s));
	    conf_format_duration(timeout_ms, t, sizeof(t));
	    problem(d, "raise timeout= of the check (or lower sleep) so that "
		    "timeout is at least sleep + 10s",
		    "sleep = %s but the policy timeout is %s: smtpd gives up on "
		    "the wait, retries, and no client ever escapes", s, t);
	} else
	    good(d, "policy timeout leaves room for sleep");
    } else if (data && find_service(data, check, entry, sizeof(entry)) == 0) {
	good(d, "smtpd_data_restrictions asks the tarpit check (a DATA-stage wait): %s",
	     entry);
    } else {
	problem(d, "append check_policy_service { unix:private/tarpit-check, "
		"timeout=100s, default_action=DUNNO } to smtpd_recipient_restrictions "
		"(see share/tarpit/postfix/main.cf under /usr, or /usr/local for make install)",
		"no check_policy_service for the tarpit check (unix:private/"
		"tarpit-check, or port %s) in smtpd_recipient_restrictions",
		check->port ? check->port : check->tcp);
    }
    if (data && find_service(data, check, entry, sizeof(entry)) == 0
	&& sleep_ms > DATA_STAGE_LIMIT_MS)
	problem(d, "move the check to smtpd_recipient_restrictions (clients "
		"allow 5 minutes for RCPT), or lower sleep below 120s",
		"the check runs at DATA with sleep above 120s: RFC 5321 clients "
		"give the reply to DATA only 2 minutes, so real servers give up");
    if (eod && find_service(eod, store, entry, sizeof(entry)) == 0) {
	good(d, "smtpd_end_of_data_restrictions tells the tarpit store: %s", entry);
	probe(d, endpoint_of(entry, value, sizeof(value)), "tarpit-store.socket");
    } else
	problem(d, "set smtpd_end_of_data_restrictions = check_policy_service "
		"{ unix:private/tarpit-store, timeout=10s, default_action=DUNNO }",
		"no check_policy_service for the tarpit store (unix:private/"
		"tarpit-store, or port %s) at end of data: no network can ever "
		"escape", store->port ? store->port : store->tcp);
    if (procs && maxconn > 0 && maxconn < strtol(procs, 0, 10))
	problem(d, "set MaxConnections= in tarpit-check.socket (a drop-in: "
		"systemctl edit tarpit-check.socket) to at least the process limit",
		"tarpit-check.socket takes %ld connections but Postfix runs up to "
		"%s smtpd processes: the rest get default_action", maxconn, procs);
out:
    free(rcpt);
    free(data);
    free(eod);
    free(tmo);
    free(dflt);
    free(procs);
}

/* admin_doctor - every check; the exit status says whether any failed */
int admin_doctor(struct admin *a, int argc, char **argv)
{
    struct doctor d = {a, 0};
    struct endpoint check = {"check", "60001", 0}, store = {"store", "60002", 0};

    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--check-port") == 0 && i + 1 < argc)
	    check.port = argv[++i];
	else if (strcmp(argv[i], "--store-port") == 0 && i + 1 < argc)
	    store.port = argv[++i];
	else
	    return admin_usage(a);
    }
    good(&d, "config %s reads cleanly", a->conf_file);
    check_database(&d);
    check_sandbox(&d);
    check_postfix(&d, check_units(&d), &check, &store);
    fprintf(a->out, "%d problem%s found\n", d.problems, d.problems == 1 ? "" : "s");
    return d.problems ? ADMIN_PROBLEMS : ADMIN_OK;
}

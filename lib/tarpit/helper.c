/*
 * NAME
 *	helper - one policy connection, from start to end
 * DESCRIPTION
 *	helper_main() is the whole life of tarpit-check and tarpit-store:
 *	take the connection (fd 3 from systemd with Accept=yes, or
 *	stdin/stdout from inetd, xinetd, tcpserver or systemd-socket-activate
 *	--inetd), read the config, then answer requests until end of input or
 *	idle_timeout.
 *
 *	It fails open: a config error, a malformed request or a request
 *	without a usable client address gets "action=DUNNO" and one log line;
 *	only a request that cannot be framed ends the connection, cleanly.
 *
 *	Postfix keeps a policy connection for up to 1000 s, so a helper looks
 *	at its config file again before a request when a second has passed
 *	since it last looked (a stat(2): CONF_RECHECK_MS apart, nothing on
 *	the requests between): a changed file is read again, and used when it
 *	is good, with the database opened anew; a bad one is logged and the
 *	settings read before stay.
 *
 *	Started as root (by hand, to try it), a helper becomes the owner of
 *	the database's directory for good before it opens anything there:
 *	files it made as root would shut the helpers' user out of them, and
 *	every later request would answer DUNNO.
 *
 *	Once it has good settings the helper shuts itself in (sandbox.c):
 *	from then on it reads only the system's files and its config, writes
 *	only the database's directory, and reaches only the server it uses.
 *	Unit options could build the same walls, but systemd would build
 *	them for every new policy connection, at tens of milliseconds each.
 * DIAGNOSTICS
 *	Exit 0 after a normal end of the connection, 1 when there is no usable
 *	connection or a bad command line.
 */
#define _GNU_SOURCE
#include "tarpit/helper.h"
#include "tarpit/decide.h"
#include "util/addr.h"
#include "util/clock.h"
#include "tarpit/opendb.h"
#include "tarpit/ledger.h"
#include "wait/slots.h"
#include "util/listen.h"
#include "util/log.h"
#include "util/regdomain.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_TIMEOUT_MS 10000
#define CONF_RECHECK_MS 1000		/* a config change is seen this late */

static void usage(const char *progname)
{
    fprintf(stderr, "usage: %s [-c config_file] [-V]\n", progname);
    exit(1);
}

/* take_connection - fd 3 from systemd, else stdin/stdout */
static void take_connection(struct helper *h)
{
    int     n = listen_fds();
    int     listening = 0;
    socklen_t len = sizeof(listening);

    if (n < 0)
	msg_fatal("LISTEN_PID/LISTEN_FDS from systemd: %s", strerror(errno));
    if (n > 1)
	msg_fatal("systemd passed %d sockets; expected one connection", n);
    if (n == 1) {
	int     fd = LISTEN_FDS_START;

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0
	    && listening)
	    msg_fatal("systemd passed a listening socket: the .socket unit "
		      "needs Accept=yes");
	policy_init(&h->conn, fd, fd);
	log_avoid_fd(fd);
    } else {
	policy_init(&h->conn, STDIN_FILENO, STDOUT_FILENO);
	log_avoid_fd(STDIN_FILENO);
	log_avoid_fd(STDOUT_FILENO);
    }
}

/* helper_client_key - the key of client_address's network in profile p:
 * a profile's own "[NAME]NETWORK" unless it shares the global records
 * (ledger_traffic_key); 0 (logged) when there is none */
const char *helper_client_key(struct helper *h, const struct tp_conf *p,
			              const struct request *rq, char *key, size_t len)
{
    char    net[ADDR_KEY_MAX];

    if (rq->client.family == 0
	|| addr_network_key(&rq->client, (int) h->conf.ipv4_prefix,
			    (int) h->conf.ipv6_prefix, net, sizeof(net)) < 0
	|| ledger_traffic_key(p, net, key, len) == 0) {
	msg_warn("client=%s: no usable client_address: DUNNO", rq->client_address);
	return 0;
    }
    return key;
}

/* helper_get - the record of a helper_client_key(): a profile's own with
 * the admin's allow and block of the network itself; 1 found, 0 not, -1
 * a database error */
int     helper_get(struct helper *h, const char *key, struct tp_record *r)
{
    const char *net = ledger_key_network(key);
    struct tp_record g;
    int     found = db_get(h->db, key, r), gfound;

    if (found < 0 || net == key || net == 0)
	return found;
    if ((gfound = db_get(h->db, net, &g)) < 0)
	return -1;
    ledger_take_marks(r, &found, &g, gfound);
    return found;
}

/* AGGREGATE_PREFIX - the IPv6 network one site's many /64s belong to */
#define AGGREGATE_PREFIX 48

/* helper_lookup - the key and record a request is kept under: its
 * network's (helper_client_key, helper_get); or, for an IPv6 network
 * without a record, its /48's when ipv6_aggregate of that /48's /64s have
 * records already.  For a new /64 not so taken, h->spread_key names its
 * /48 (helper_take_spread() counts it there).  LOOKUP_FOUND,
 * LOOKUP_NEW, LOOKUP_DB_ERROR, or LOOKUP_NO_KEY (logged) */
enum helper_lookup helper_lookup(struct helper *h, const struct tp_conf *p,
		              const struct request *rq, char *key, size_t len,
		              struct tp_record *r)
{
    char    net[ADDR_KEY_MAX], akey[LEDGER_NET_KEY_MAX];
    struct tp_record a;
    int     found, afound;

    h->spread_key[0] = 0;
    if (helper_client_key(h, p, rq, key, len) == 0)
	return LOOKUP_NO_KEY;
    if ((found = helper_get(h, key, r)) != 0 || rq->client.family != AF_INET6
	|| h->conf.ipv6_aggregate == 0 || h->conf.ipv6_prefix <= AGGREGATE_PREFIX)
	return found;
    if (addr_network_key(&rq->client, (int) h->conf.ipv4_prefix, AGGREGATE_PREFIX,
			 net, sizeof(net)) < 0
	|| ledger_traffic_key(p, net, akey, sizeof(akey)) == 0
	|| strlen(akey) >= len)
	return found;
    if ((afound = helper_get(h, akey, &a)) < 0)
	return LOOKUP_DB_ERROR;
    if (afound && a.spread >= h->conf.ipv6_aggregate) {
	memcpy(key, akey, strlen(akey) + 1);
	*r = a;
	return LOOKUP_FOUND;
    }
    snprintf(h->spread_key, sizeof(h->spread_key), "%s", akey);
    return 0;
}

/* helper_take_spread - a new /64 that helper_lookup() left outside its
 * /48 takes one of the /48's ipv6_aggregate places, in the /48's own
 * transaction, before its record is made: helpers at once cannot take
 * more places than there are.  With none left, the request's key and
 * record become the /48's (found).  The new found, or LOOKUP_DB_ERROR */
int     helper_take_spread(struct helper *h, const struct tp_conf *p, char *key, size_t len,
			           struct tp_record *r, int found)
{
    struct ledger l;

    if (h->spread_key[0] == 0)		/* every request but a new /64's */
	return found;
    l = (struct ledger) {.event = LEDGER_SPREAD,.conf = p,.now = (int64_t) time(0)};
    if (db_update(h->db, h->spread_key, ledger_apply, &l) < 0) {
	h->spread_key[0] = 0;
	return LOOKUP_DB_ERROR;
    }
    if (l.spread_full && strlen(h->spread_key) < len) {
	if ((found = helper_get(h, h->spread_key, r)) >= 0)
	    memcpy(key, h->spread_key, strlen(h->spread_key) + 1);
    } else if (l.spread == p->ipv6_aggregate) {	/* this /64 took the last place */
	msg_info("network=%s: %lld of its /64 networks made to wait: the "
		 "new ones are this network from now on", h->spread_key,
		 (long long) l.spread);
    }
    h->spread_key[0] = 0;
    return found;
}

/* helper_domain - the domain whose record the request's client shares,
 * from its verified name (regdomain.c), when profile p lets that domain
 * share (decide.c); 1, or 0 for none.  libpsl missing is said once */
int     helper_domain(struct helper *h, const struct tp_conf *p,
		              const struct request *rq, char *domain, size_t len)
{
    const char *why;
    int     rc;

    if (!p->share_domains || rq->client.family == 0)
	return 0;
    if ((rc = regdomain_of(rq->client_name, &rq->client, domain, len, &why)) < 0
	&& !h->psl_noted++)
	msg_warn("%s: clients are judged by their networks alone", why);
    if (rc > 0 && domain_may_share(p, domain))
	return 1;
    domain[0] = 0;
    return 0;
}

/* helper_profile - the settings for the request's policy_context; an
 * unknown one is warned about once and gets the global settings */
const struct tp_conf *helper_profile(struct helper *h, const struct request *rq)
{
    const char *ctx = rq->policy_context;
    const struct tp_conf *p;

    if (*ctx == 0)
	return &h->conf;
    if ((p = conf_profile(&h->conf, ctx)) != 0)
	return p;
    if (strncmp(h->unknown_context, ctx, sizeof(h->unknown_context) - 1) != 0) {
	snprintf(h->unknown_context, sizeof(h->unknown_context), "%s", ctx);
	msg_warn("policy_context=%s has no [%s] profile: using the global "
		 "settings", ctx, ctx);
    }
    return &h->conf;
}

/* helper_db_warn - a warning about the database; the same trouble again
 * within a minute is not repeated (a server down would otherwise mean a
 * line per request), and the count of lines left out is said with the
 * next one */
void    helper_db_warn(struct helper *h, const char *fmt,...)
{
    const char *why = db_error(h->db);
    int64_t now = monotonic_ms();
    va_list ap;

    if (strncmp(why, h->db_trouble, sizeof(h->db_trouble) - 1) == 0
	&& now - h->db_trouble_at < 60000) {
	h->db_trouble_quiet++;
	return;
    }
    if (h->db_trouble_quiet)
	msg_warn("the database trouble above happened %ld more times",
		 h->db_trouble_quiet);
    snprintf(h->db_trouble, sizeof(h->db_trouble), "%s", why);
    h->db_trouble_at = now;
    h->db_trouble_quiet = 0;
    va_start(ap, fmt);
    msg_vwarn(fmt, ap);
    va_end(ap);
}

/* helper_take_slot - one of max_waiting's slots; its descriptor, or -1
 * (logged; a refusal is counted in the host-wide counters) */
int helper_take_slot(struct helper *h, const char *client, const char *key)
{
    char    path[DB_FILE_MAX], why[300];
    int     fd = -2;

    if (opendb_file(&h->conf, HOST_SLOTS, path, sizeof(path)) == 0)
	snprintf(why, sizeof(why), "the database path is too long for its slot file");
    else
	fd = slots_acquire(path, (int) h->conf.max_waiting, why, sizeof(why));
    if (fd == -1) {
	msg_warn("client=%s network=%s: DUNNO without a wait: max_waiting=%d "
		 "waits are running", client, key, (int) h->conf.max_waiting);
	if (db_update_stats(h->db, ledger_count_refused, 0) < 0)
	    helper_db_warn(h, "%s", db_error(h->db));
    } else if (fd < 0) {
	msg_warn("client=%s network=%s: %s: DUNNO without a wait", client, key, why);
	fd = -1;
    }
    return fd;
}

/* same_state - has the config file not changed? */
static int same_state(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev
	&& a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec
	&& a->st_mtim.tv_nsec == b->st_mtim.tv_nsec
	&& a->st_ctim.tv_sec == b->st_ctim.tv_sec
	&& a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* drop_root - as root, become the owner of the database's directory,
 * real, effective and saved ids, before anything there is opened; not
 * for a directory of root's own.  0, or -1 with why */
static int drop_root(const struct tp_conf *c, char *why, size_t len)
{
    char    dir[DB_FILE_MAX];
    struct stat st;

    if (geteuid() != 0 || opendb_file(c, HOST_DIR, dir, sizeof(dir)) == 0
	|| stat(dir, &st) < 0 || st.st_uid == 0)
	return 0;			/* opening the database says what is wrong */
    if (setgroups(0, 0) < 0 || setresgid(st.st_gid, st.st_gid, st.st_gid) < 0
	|| setresuid(st.st_uid, st.st_uid, st.st_uid) < 0 || setuid(0) == 0) {
	snprintf(why, len, "started as root, cannot become %.300s's owner (uid %lu): %s",
		 dir, (unsigned long) st.st_uid, strerror(errno));
	return -1;
    }
    msg_info("started as root: running as the owner of %s (uid %lu, gid %lu)", dir,
	     (unsigned long) st.st_uid, (unsigned long) st.st_gid);
    return 0;
}

static int read_settings(struct helper *, const char *path, int must_exist,
			         struct tp_conf *, struct tp_db **, char *why, size_t len);
static void save_good(struct helper *);

/* read_config - the settings and the database they name, into c and *db;
 * 0, or -1 with why */
static int read_config(struct helper *h, struct tp_conf *c, struct tp_db **db,
		               char *why, size_t len)
{
    if (stat(h->conf_file, &h->conf_stat) < 0)
	memset(&h->conf_stat, 0, sizeof(h->conf_stat));
    h->conf_checked = monotonic_ms();
    return read_settings(h, h->conf_file, h->conf_named, c, db, why, len);
}

/* read_settings - read_config() from path: the config file, or the copy
 * of it last read whole */
static int read_settings(struct helper *h, const char *path, int must_exist,
			         struct tp_conf *c, struct tp_db **db, char *why, size_t len)
{
    if (conf_load(c, path, must_exist, why, len) < 0)
	return -1;
    if (conf_unsafe(path, why, len) < 0 || drop_root(c, why, len) < 0
	|| (*db = opendb(c, why, len)) == 0) {
	conf_free(c);
	return -1;
    }
    if (h->confined) {
	struct sandbox s;
	int     ok = sandbox_plan(&s, c, *db, h->conf_file, h->watches, why, len) == 0;

	if (ok && sandbox_walls(&s) != h->walls) {
	    snprintf(why, len, "it moves the database (to %.200s) or its server, and "
		     "this connection is shut in with the old place: new connections "
		     "take it", s.db_dir);
	    ok = 0;
	}
	if (!ok) {
	    db_free(*db);
	    conf_free(c);
	    return -1;
	}
    }
    return 0;
}

/* shut_in - once there are good settings: the walls for their database
 * (a failure is logged; the helper goes on answering).  The plan is
 * this frame's, not the helper's: only its sandbox_walls() are kept */
__attribute__((noinline))
static void shut_in(struct helper *h)
{
    char    why[600];
    struct sandbox s;
    enum confine_result rc = CONFINE_FAILED;

    if (h->confined)
	return;
    if (sandbox_plan(&s, &h->conf, h->db, h->conf_file, h->watches,
		     why, sizeof(why)) == 0) {
	rc = sandbox_enter(&s, why, sizeof(why));
	h->walls = sandbox_walls(&s);
    }
    if (rc == CONFINE_PARTIAL)
	msg_warn("sandbox: only partly shut in: %s", why);
    else if (rc == CONFINE_FAILED)
	msg_warn("sandbox: %s: going on without it", why);
    h->confined = rc != CONFINE_FAILED;
}

/* recheck_config - a second after the last look: read a changed config
 * (not inlined: its settings on the stack are not helper_main's frame's,
 * which stays under every wait) */
__attribute__((noinline))
static void recheck_config(struct helper *h)
{
    struct stat st;
    struct tp_conf c;
    struct tp_db *db;
    char    why[sizeof(h->conf_error)];

    if (monotonic_ms() - h->conf_checked < CONF_RECHECK_MS)
	return;
    h->conf_checked = monotonic_ms();
    if (stat(h->conf_file, &st) < 0)
	memset(&st, 0, sizeof(st));
    if (same_state(&st, &h->conf_stat))
	return;
    if (read_config(h, &c, &db, why, sizeof(why)) < 0) {
	msg_error("%s changed, but %s; %s", h->conf_file, why, h->conf_ok
		  ? "keeping the settings read before" : "still answering DUNNO");
	return;
    }
    if (h->conf_ok) {
	db_free(h->db);
	conf_free(&h->conf);
    }
    conf_move(&h->conf, &c);
    h->db = db;
    h->conf_ok = 1;
    msg_info("%s changed: the new settings apply", h->conf_file);
    save_good(h);
    shut_in(h);
}

/* save_good - keep a copy of the config file just read whole, beside the
 * database, for the helpers that start while an edit has broken it; only
 * when it changed (the copy has the file's size and mtime).  Trouble is
 * logged: the settings apply all the same */
__attribute__((noinline))
static void save_good(struct helper *h)
{
    char    path[DB_FILE_MAX], tmp[DB_FILE_MAX + 32], buf[4096];
    struct stat st;
    struct timespec times[2];
    ssize_t n = 0;
    int     in, out;

    if (h->conf_stat.st_ino == 0 || opendb_file(&h->conf, HOST_LAST_GOOD, path, sizeof(path)) == 0
	|| (stat(path, &st) == 0 && st.st_size == h->conf_stat.st_size
	    && st.st_mtim.tv_sec == h->conf_stat.st_mtim.tv_sec
	    && st.st_mtim.tv_nsec == h->conf_stat.st_mtim.tv_nsec))
	return;
    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long) getpid());
    if ((in = open(h->conf_file, O_RDONLY | O_CLOEXEC)) < 0)
	return;
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
	close(in);
	return;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0)
	if (write(out, buf, (size_t) n) != n) {
	    n = -1;
	    break;
	}
    times[0] = h->conf_stat.st_atim;
    times[1] = h->conf_stat.st_mtim;
    if (n < 0 || futimens(out, times) < 0)
	n = -1;
    if (close(out) < 0)
	n = -1;
    if (n < 0 || rename(tmp, path) < 0) {
	msg_warn("cannot keep a copy of %s as %s: %s", h->conf_file, path, strerror(errno));
	(void) unlink(tmp);
    }
    close(in);
}

/* last_good - the settings a helper read whole before, when the config
 * file it starts with is wrong (its database and state_directory say
 * where they are); 0, or -1 when there are none */
__attribute__((noinline))
static int last_good(struct helper *h, struct tp_conf *c)
{
    struct tp_conf peek;
    char    path[DB_FILE_MAX], why[600];

    if (conf_peek_store(&peek, h->conf_file) < 0
	|| opendb_file(&peek, HOST_LAST_GOOD, path, sizeof(path)) == 0
	|| access(path, R_OK) < 0
	|| read_settings(h, path, 1, c, &h->db, why, sizeof(why)) < 0)
	return -1;
    msg_error("%s; the tarpit goes on with the settings last read whole, kept in %s, "
	      "until the file is fixed", h->conf_error, path);
    return 0;
}

/* start - the first settings; a function of its own, so that its big
 * frame is gone before the walls are built and before the first wait
 * (mem.c): each page of stack a helper reaches is a page fault, and one
 * it keeps through the wait is memory */
__attribute__((noinline))
static void start(struct helper *h, const char *option)
{
    struct tp_conf c;

    h->conf_file = conf_path(option, &h->conf_named);
    h->conf_ok = read_config(h, &c, &h->db, h->conf_error, sizeof(h->conf_error)) == 0;
    if (h->conf_ok) {
	conf_move(&h->conf, &c);
	save_good(h);
    } else if (last_good(h, &c) == 0) {
	h->conf_ok = 1;
	conf_move(&h->conf, &c);
    } else {
	msg_error("%s; answering DUNNO to every request (no settings read whole "
		  "before to go on with)", h->conf_error);
    }
}

/* helper_main - serve one policy connection */
int helper_main(int argc, char **argv, const char *progname, int flags, helper_fn *fn)
{
    struct helper *h;
    const char *option = 0;
    int     ch;

    log_init(progname);
    if (argc == 2 && strcmp(argv[1], "--version") == 0)
	argv[1] = "-V";
    while ((ch = getopt(argc, argv, "c:hV")) != -1) {
	switch (ch) {
	case 'c':
	    option = optarg;
	    break;
	case 'V':
	    printf("%s %s\n", progname, TARPIT_VERSION);
	    return 0;
	default:
	    usage(progname);
	}
    }
    if (optind != argc)
	usage(progname);
    signal(SIGPIPE, SIG_IGN);
    /* A mapping of its own, zero-filled by the kernel: the 32 KiB request
     * buffer at the end stays untouched, and so out of this process's
     * private memory, beyond what requests actually fill.  On the heap it
     * also pushed what GDBM allocates and frees onto pages of their own,
     * which freed small chunks then kept dirty through every wait. */
    h = mmap(0, sizeof(*h), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (h == MAP_FAILED)
	msg_fatal("cannot allocate %zu bytes: %s", sizeof(*h), strerror(errno));
    h->progname = progname;
    h->wait = wait_for_client;
    h->watches = flags & HELPER_WATCHES;
    take_connection(h);

    start(h, option);
    if (h->conf_ok)
	shut_in(h);

    for (;;) {
	struct policy_req q;
	char    action[512];
	enum policy_status st;
	int64_t idle = h->conf_ok ? h->conf.idle_timeout_ms : 330000;

	st = policy_read(&h->conn, &q, idle);
	if (st == POLICY_EOF)
	    break;
	if (st != POLICY_OK) {
	    if (st == POLICY_TIMEOUT)
		msg_info("closing the policy connection: %s",
			 policy_status_text(st));
	    else
		msg_warn("closing the policy connection: %s",
			 policy_status_text(st));
	    break;
	}
	memcpy(action, "DUNNO", sizeof("DUNNO"));
	recheck_config(h);
	if (q.bad) {
	    msg_warn("malformed policy request (%s): answering DUNNO", q.bad);
	} else if (!h->conf_ok) {
	    msg_warn("config error, answering DUNNO: %s", h->conf_error);
	} else {
	    const char *req = policy_get(&q, "request");

	    struct request rq;

	    if (req && strcmp(req, "tarpit_probe") == 0) {
		;			/* tarpit-admin doctor: is anyone there? */
	    } else if (req == 0 || strcmp(req, "smtpd_access_policy") != 0) {
		msg_warn("not a smtpd_access_policy request: answering DUNNO");
	    } else {
		request_read(&rq, &q);
		if (fn(h, &rq, action, sizeof(action)) == HELPER_CLOSE)
		    break;
	    }
	}
	if (policy_reply(&h->conn, action, REPLY_TIMEOUT_MS) < 0) {
	    msg_warn("cannot send the reply: %s", strerror(errno));
	    break;
	}
    }
    if (h->conf_ok) {
	db_free(h->db);
	conf_free(&h->conf);
    }
    munmap(h, sizeof(*h));
    /* 0 however the connection ended: what went wrong is logged, and a
     * client that goes away is no failure of the unit's. */
    return 0;
}

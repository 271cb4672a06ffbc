/*
 * NAME
 *	sandbox - the walls of a policy helper
 * DESCRIPTION
 *	A helper that has read its config and named its store needs, for
 *	the rest of its connection: the system's files (libraries, /etc:
 *	the resolver's, the time zone's), its config file's directory and
 *	a server's password file to read; the database's directory (the
 *	GDBM file, its lock and slot files, or a server's state_directory)
 *	to read and write; its own /proc/PID; and, for a server over TCP,
 *	that server's port and, when it is named by host name, the
 *	resolver's files and datagrams.  Nothing else: not /home, /root,
 *	/tmp, /var/tmp or /run, no other directory to write, no TCP port to
 *	bind, no IP socket unless a server needs one, no UNIX socket of its
 *	own unless the server is on one, no netlink socket but
 *	tarpit-check's NETLINK_SOCK_DIAG, no program to run.
 *
 *	A config changed during the connection that moves the database
 *	elsewhere is refused by the helper (its walls were built for the
 *	old place): the settings read before stay, and new connections
 *	use the new ones.
 */
#define _GNU_SOURCE
#include "tarpit/sandbox.h"
#include "tarpit/opendb.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* the system's trees a helper reads, and a server's resolver runs with */
static const char *const system_trees[] = {"/etc", "/usr", "/lib", "/lib64", 0};
static const char *const resolver_trees[] = {"/run/systemd/resolve", "/run/resolvconf", 0};

static void dir_of(const char *path, char *buf, size_t len)
{
    char    copy[CONF_PATH_MAX];

    snprintf(copy, sizeof(copy), "%s", path);
    snprintf(buf, len, "%s", dirname(copy));
}

int     sandbox_plan(struct sandbox *s, const struct tp_conf *c, struct tp_db *db,
		             const char *conf_file, int watches, char *why, size_t len)
{
    memset(s, 0, sizeof(*s));
    dir_of(conf_file, s->conf_dir, sizeof(s->conf_dir));
    snprintf(s->password_file, sizeof(s->password_file), "%s", c->database_password_file);
    if (opendb_file(c, HOST_DIR, s->db_dir, sizeof(s->db_dir)) == 0) {
	snprintf(why, len, "the database's directory: too long a path");
	return -1;
    }
    snprintf(s->proc, sizeof(s->proc), "/proc/%ld", (long) getpid());
    s->tcp_port = db_tcp_port(db);
    s->by_name = db_resolves(db);
    s->unix_server = db_is_server(c->database) && s->tcp_port == 0;
    s->netlink_diag = watches;
    return 0;
}

/* fnv - FNV-1a over len bytes, on from h */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < len; i++)
	h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* sandbox_walls - the config file, and so its directory, is the same for
 * a helper's whole life: what a change can move is the rest */
uint64_t sandbox_walls(const struct sandbox *s)
{
    int     n[3] = {s->tcp_port, s->by_name, s->unix_server};
    uint64_t h = 0xcbf29ce484222325ULL;

    h = fnv(h, s->db_dir, strlen(s->db_dir) + 1);
    h = fnv(h, s->password_file, strlen(s->password_file) + 1);
    return fnv(h, n, sizeof(n));
}

enum confine_result sandbox_enter(const struct sandbox *s, char *why, size_t len)
{
    struct confine c = {.tcp_port = s->tcp_port,.inet = s->tcp_port != 0,
    .dgram = s->by_name,.unix_socket = s->unix_server,.netlink_diag = s->netlink_diag};
    int     full = 0;

    for (int i = 0; system_trees[i]; i++)
	full |= confine_add(c.read, system_trees[i]);
    for (int i = 0; s->by_name && resolver_trees[i]; i++)
	full |= confine_add(c.read, resolver_trees[i]);
    full |= confine_add(c.read, s->conf_dir);
    full |= confine_add(c.read, s->password_file);
    full |= confine_add(c.read, s->proc);
    full |= confine_add(c.write, s->db_dir);
    if (full < 0) {
	snprintf(why, len, "more paths than the sandbox holds");
	return CONFINE_FAILED;
    }
    return confine(&c, why, len);
}

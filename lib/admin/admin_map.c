/*
 * NAME
 *	admin_map - export-map: the blocked networks as a Postfix table
 * DESCRIPTION
 *	Every network whose block still holds, each with block_action, as a
 *	cidr_table(5) (any length, IPv4 and IPv6) or an access(5) table for
 *	postmap(1) (networks on 8- or 16-bit boundaries only; the others are
 *	left out and counted).  To the output, or with -o to a file replaced
 *	atomically: written and synced beside it, then renamed.  It writes
 *	while it walks, in the store's order (a cidr table's entries here
 *	never overlap), so a million networks take no more memory than one.
 *
 *	Postfix acts on any access(5) action a table it reads names (BCC,
 *	REDIRECT, FILTER, PREPEND): the table must be out of the helpers'
 *	reach.  The shipped unit runs it as root into ADMIN_MAP_DIR; root's
 *	part (admin_priv.c) checks each line the unprivileged part wrote
 *	with admin_map_line_ok() before the file takes the old one's place,
 *	and with --postfix-reload reloads Postfix when the table changed: a
 *	cidr table is read when a Postfix process starts, never again.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/decide.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* access_key - a network as an access(5) table key, or 0 when its length
 * cannot be written that way (not a multiple of 8 or 16 bits) */
static const char *access_key(const struct tp_net *net, char *buf, size_t len)
{
    size_t  n = 0;

    if (net->addr.family == AF_INET && net->prefix % 8 == 0 && net->prefix > 0) {
	for (int i = 0; i < net->prefix / 8; i++)
	    n += (size_t) snprintf(buf + n, len - n, "%s%d", i ? "." : "", net->addr.bytes[i]);
	return buf;
    }
    if (net->addr.family == AF_INET6 && net->prefix % 16 == 0 && net->prefix > 0) {
	for (int i = 0; i < net->prefix / 16; i++)
	    n += (size_t) snprintf(buf + n, len - n, "%s%x", i ? ":" : "",
				   net->addr.bytes[2 * i] << 8 | net->addr.bytes[2 * i + 1]);
	return buf;
    }
    return 0;
}

struct export {
    FILE   *fp;
    const struct tp_conf *conf;
    int64_t now;
    int     access;			/* --format access */
    long    written, skipped, refused;
};

/* export_one - db_walk callback: a blocked network's line */
static int export_one(const char *key, const struct tp_record *r, void *ctx)
{
    struct export *x = ctx;
    struct tp_net net;
    char    buf[64];

    /* A profile's own records ("[NAME]...") are not Postfix's to use. */
    if (!active_until(r->block_until, x->now) || key[0] == KEY_PROFILE_OPEN
	|| addr_parse_network(key, &net) < 0)
	return 0;
    if (!ledger_width_ok(x->conf, &net)) {
	x->refused++;			/* never a /0 for Postfix */
	return 0;
    }
    if (x->access && (key = access_key(&net, buf, sizeof(buf))) == 0) {
	x->skipped++;
	return 0;
    }
    fprintf(x->fp, "%s\t%s\n", key, x->conf->block_action);
    x->written++;
    return 0;
}

/* access_net - an access(5) key as access_key() writes it, as a network:
 * 0, or -1 */
static int access_net(const char *key, struct tp_net *net)
{
    char    text[80], again[64];
    int     v6 = strchr(key, ':') != 0, parts = 1;

    for (const char *p = key; *p; p++)
	parts += *p == (v6 ? ':' : '.');
    if (strlen(key) > 48 || parts > (v6 ? 8 : 4))
	return -1;
    if (v6)
	snprintf(text, sizeof(text), "%s%s/%d", key, parts < 8 ? "::" : "", parts * 16);
    else
	snprintf(text, sizeof(text), "%s%s/%d", key, &".0.0.0"[2 * (parts - 1)], parts * 8);
    if (addr_parse_network(text, net) < 0 || access_key(net, again, sizeof(again)) == 0)
	return -1;
    return strcmp(again, key) == 0 ? 0 : -1;
}

/* admin_map_line_ok - is this a line export-map writes: a comment, or a
 * network of a width the helpers mark, as it prints it (ADDR/LEN, or an
 * access(5) key), a tab and the block_action, and nothing else?  0 or
 * -1 */
int     admin_map_line_ok(const struct tp_conf *c, const char *line)
{
    const char *tab = strchr(line, '\t');
    char    key[64], canon[64];
    struct tp_net net;
    size_t  n = strlen(line);

    if (n > 0 && line[n - 1] == '\n')
	n--;
    if (line[0] == '#')
	return memchr(line, '\r', n) ? -1 : 0;
    if (tab == 0 || (size_t) (tab - line) >= sizeof(key))
	return -1;
    memcpy(key, line, (size_t) (tab - line));
    key[tab - line] = 0;
    if (strchr(key, '/') == 0) {
	if (access_net(key, &net) < 0 || !ledger_width_ok(c, &net))
	    return -1;
    } else if (addr_parse_network(key, &net) < 0 || !ledger_width_ok(c, &net)
	       || addr_network_key(&net.addr, net.prefix, net.prefix, canon, sizeof(canon)) < 0
	       || strcmp(canon, key) != 0) {
	return -1;
    }
    tab++;
    return n - (size_t) (tab - line) == strlen(c->block_action)
	&& strncmp(tab, c->block_action, strlen(c->block_action)) == 0 ? 0 : -1;
}

/* admin_export_map - the blocked networks as a Postfix table */
int admin_export_map(struct admin *a, int argc, char **argv)
{
    const char *format = "cidr", *out_path = 0;
    int     reload = 0;
    struct export x = {0, &a->conf, (int64_t) time(0), 0, 0, 0, 0};
    struct admin_out out;
    FILE   *fp;
    int     rc;

    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
	    format = argv[++i];
	else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
	    out_path = argv[++i];
	else if (strcmp(argv[i], "--postfix-reload") == 0)
	    reload = 1;
	else
	    return admin_usage(a);
    }
    if (reload && out_path == 0) {
	fprintf(a->err, "tarpit-admin: export-map: --postfix-reload goes with -o file\n");
	return ADMIN_USAGE;
    }
    if (strcmp(format, "cidr") != 0 && strcmp(format, "access") != 0) {
	fprintf(a->err, "tarpit-admin: --format %s: cidr or access\n", format);
	return ADMIN_USAGE;
    }
    if ((fp = admin_out_open(a, &out, out_path)) == 0)
	return ADMIN_IO;
    fprintf(fp, "# Networks blocked by tarpit, for Postfix %s:%s.\n"
	    "# Written by tarpit-admin export-map; edits are overwritten.\n",
	    strcmp(format, "cidr") == 0 ? "cidr" : "hash",
	    out_path ? out_path : "FILE");
    x.fp = fp;
    x.access = strcmp(format, "access") == 0;
    if (db_walk(a->db, export_one, &x) < 0) {
	admin_db_failed(a);
	return admin_out_close(a, &out, ADMIN_DB);
    }
    if ((rc = admin_out_close(a, &out, ADMIN_OK)) != ADMIN_OK)
	return rc;
    if (out_path)
	fprintf(a->out, "wrote %ld blocked network%s to %s\n", x.written,
		x.written == 1 ? "" : "s", out_path);
    /* Root's part reloads after the file it put in place (admin_priv.c). */
    if (reload && out.changed && !out.via_priv && (rc = admin_postfix_reload(a)) != ADMIN_OK)
	return rc;
    if (x.refused)
	fprintf(a->err, "tarpit-admin: %ld blocked record%s of a width the helpers never "
		"look up (like 0.0.0.0/0, written behind tarpit-admin's back) left out: "
		"tarpit-admin list shows them, del removes them\n", x.refused,
		x.refused == 1 ? "" : "s");
    if (x.skipped)
	fprintf(a->err, "tarpit-admin: %ld network%s not on an 8-bit (IPv4) or "
		"16-bit (IPv6) boundary left out: use --format cidr\n", x.skipped,
		x.skipped == 1 ? "" : "s");
    return ADMIN_OK;
}


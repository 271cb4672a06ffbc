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

/* admin_export_map - the blocked networks as a Postfix table */
int admin_export_map(struct admin *a, int argc, char **argv)
{
    const char *format = "cidr", *out_path = 0;
    struct export x = {0, &a->conf, (int64_t) time(0), 0, 0, 0, 0};
    struct admin_out out;
    FILE   *fp;
    int     rc;

    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
	    format = argv[++i];
	else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
	    out_path = argv[++i];
	else
	    return admin_usage(a);
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


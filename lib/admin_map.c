/*
 * NAME
 *	admin_map - export-map: the blocked networks as a Postfix table
 * DESCRIPTION
 *	Every network whose block still holds, each with block_action, as a
 *	cidr_table(5) (any length, IPv4 and IPv6) or an access(5) table for
 *	postmap(1) (networks on 8- or 16-bit boundaries only; the others are
 *	left out and counted).  To the output, or with -o to a file replaced
 *	atomically: written and synced beside it, then renamed.
 */
#define _GNU_SOURCE
#include "admin.h"
#include "decide.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* access_key - a network as an access(5) table key, or 0 when its length
 * cannot be written that way (not a multiple of 8 or 16 bits) */
static const char *access_key(const struct admin_entry *e, char *buf, size_t len)
{
    size_t  n = 0;

    if (e->net.addr.family == AF_INET && e->net.prefix % 8 == 0 && e->net.prefix > 0) {
	for (int i = 0; i < e->net.prefix / 8; i++)
	    n += (size_t) snprintf(buf + n, len - n, "%s%d", i ? "." : "", e->net.addr.bytes[i]);
	return buf;
    }
    if (e->net.addr.family == AF_INET6 && e->net.prefix % 16 == 0 && e->net.prefix > 0) {
	for (int i = 0; i < e->net.prefix / 16; i++)
	    n += (size_t) snprintf(buf + n, len - n, "%s%x", i ? ":" : "",
				   e->net.addr.bytes[2 * i] << 8 | e->net.addr.bytes[2 * i + 1]);
	return buf;
    }
    return 0;
}

/* admin_export_map - the blocked networks as a Postfix table */
int admin_export_map(struct admin *a, int argc, char **argv)
{
    const char *format = "cidr", *out_path = 0;
    struct array c;
    int64_t now = (int64_t) time(0);
    char    buf[64];
    struct admin_out out;
    FILE   *fp;
    long    written = 0, skipped = 0;
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
    if ((rc = admin_collect(a, &c, 0)) != 0)
	return rc;
    if ((fp = admin_out_open(a, &out, out_path)) == 0) {
	array_free(&c);
	return ADMIN_IO;
    }
    fprintf(fp, "# Networks blocked by tarpit, for Postfix %s:%s.\n"
	    "# Written by tarpit-admin export-map; edits are overwritten.\n",
	    strcmp(format, "cidr") == 0 ? "cidr" : "hash",
	    out_path ? out_path : "FILE");
    for (size_t i = 0; i < c.n; i++) {
	const struct admin_entry *e = (struct admin_entry *) c.v + i;
	const char *key = e->key;

	if (!active_until(e->r.block_until, now) || e->net.addr.family == 0)
	    continue;
	if (strcmp(format, "access") == 0 && (key = access_key(e, buf, sizeof(buf))) == 0) {
	    skipped++;
	    continue;
	}
	fprintf(fp, "%s\t%s\n", key, a->conf.block_action);
	written++;
    }
    array_free(&c);
    if ((rc = admin_out_close(a, &out, ADMIN_OK)) != ADMIN_OK)
	return rc;
    if (out_path)
	fprintf(a->out, "wrote %ld blocked networks to %s\n", written, out_path);
    if (skipped)
	fprintf(a->err, "tarpit-admin: %ld networks not on an 8-bit (IPv4) or "
		"16-bit (IPv6) boundary left out: use --format cidr\n", skipped);
    return ADMIN_OK;
}


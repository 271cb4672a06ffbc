/*
 * NAME
 *	admin_edit - check, del, allow, block, unblock
 * DESCRIPTION
 *	The commands that look at or change single networks, named by an
 *	address (grouped like a client's) or a network.  What allowing,
 *	blocking and unblocking do to a record is the ledger's (ledger.c).
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/ledger.h"

#include <ctype.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* admin_check - print the record of each argument's network */
int admin_check(struct admin *a, int argc, char **argv)
{
    int     status = ADMIN_OK, shown = 0;

    if (argc < 1)
	return admin_usage(a);
    for (int i = 0; i < argc; i++) {
	char    key[LEDGER_NET_KEY_MAX];
	struct tp_record r;
	int     found;

	if (admin_arg_key(a, argv[i], key, sizeof(key)) < 0)
	    return ADMIN_USAGE;
	if ((found = db_get(a->db, key, &r)) < 0)
	    return admin_db_failed(a);
	if (!found) {
	    status = admin_no_record(a, argv[i], key);
	    continue;
	}
	admin_print_record(a, key, &r, shown++ == 0);
    }
    return status;
}

/* admin_del - remove the records of addresses or networks */
int admin_del(struct admin *a, int argc, char **argv)
{
    int     status = ADMIN_OK;

    if (argc < 1)
	return admin_usage(a);
    for (int i = 0; i < argc; i++) {
	char    key[LEDGER_NET_KEY_MAX];
	int     found;

	if (admin_arg_key(a, argv[i], key, sizeof(key)) < 0)
	    return ADMIN_USAGE;
	if ((found = db_delete(a->db, key)) < 0)
	    return admin_db_failed(a);
	if (found)
	    fprintf(a->out, "deleted %s\n", key);
	else
	    status = admin_no_record(a, argv[i], key);
    }
    return status;
}

/* mark_options - allow/block's ADDR [--for DURATION] [--comment TEXT]:
 * the target, or 0 after a usage error (said) */
static const char *mark_options(struct admin *a, int argc, char **argv,
				        struct ledger *m)
{
    const char *target = 0;
    int64_t ms;

    for (int i = 0; i < argc; i++) {
	if (strcmp(argv[i], "--for") == 0 && i + 1 < argc) {
	    size_t  n = strlen(argv[++i]);

	    /* A unit, always: "--for 7" meant seconds to no one. */
	    if (n == 0 || !isalpha((unsigned char) argv[i][n - 1])) {
		fprintf(a->err, "tarpit-admin: --for %s: give a unit (7d, 12h, "
			"30m, 90s)\n", argv[i]);
		return 0;
	    }
	    if (conf_parse_duration(argv[i], &ms) < 0 || ms < 1000) {
		fprintf(a->err, "tarpit-admin: --for %s: not a duration of a "
			"second or more\n", argv[i]);
		return 0;
	    }
	    m->until = m->now + ms / 1000;
	} else if (strcmp(argv[i], "--comment") == 0 && i + 1 < argc) {
	    m->comment = argv[++i];
	    if (strlen(m->comment) >= RECORD_COMMENT_MAX) {
		fprintf(a->err, "tarpit-admin: --comment: at most %d bytes\n",
			RECORD_COMMENT_MAX - 1);
		return 0;
	    }
	    if (record_comment_ok(m->comment) < 0) {
		fprintf(a->err, "tarpit-admin: --comment: no control characters\n");
		return 0;
	    }
	} else if (argv[i][0] == '-' || target) {
	    admin_usage(a);
	    return 0;
	} else {
	    target = argv[i];
	}
    }
    if (target == 0)
	admin_usage(a);
    return target;
}

/* grouped - is the key a network the helpers look up, of ipv4_prefix or
 * ipv6_prefix bits?  0, or -1 (said: a mark on another would be ignored) */
static int grouped(struct admin *a, const char *key, enum ledger_event what)
{
    struct tp_net n;
    int     want;
    const char *name;

    if (addr_parse_network(ledger_key_network(key), &n) < 0)
	return 0;
    want = (int) (n.addr.family == AF_INET ? a->conf.ipv4_prefix : a->conf.ipv6_prefix);
    name = n.addr.family == AF_INET ? "ipv4_prefix" : "ipv6_prefix";
    if (n.prefix == want)
	return 0;
    fprintf(a->err, "tarpit-admin: %s is %s than the networks the helpers look up "
	    "(%s = %d): a mark on it would never be seen.  ", key,
	    n.prefix < want ? "wider" : "narrower", name, want);
    if (n.prefix < want)
	fprintf(a->err, "For a wider network use a rule in tarpit.conf, which the "
		"helpers do read (rule = client_address %s %s), or %s its /%d "
		"networks one by one.\n", key, what == LEDGER_ALLOW ? "skip" : "block",
		what == LEDGER_ALLOW ? "allow" : "block", want);
    else
	fprintf(a->err, "Give the address alone to %s its whole /%d.\n",
		what == LEDGER_ALLOW ? "allow" : "block", want);
    return -1;
}

/* mark - allow or block one address or network */
static int mark(struct admin *a, int argc, char **argv, enum ledger_event what)
{
    struct ledger m = {.event = what,.conf = &a->conf,.now = (int64_t) time(0),
    .until = -1};
    const char *target = mark_options(a, argc, argv, &m);
    char    key[LEDGER_NET_KEY_MAX], buf[40];

    if (target == 0)
	return ADMIN_USAGE;
    if (admin_arg_key(a, target, key, sizeof(key)) < 0 || grouped(a, key, what) < 0)
	return ADMIN_USAGE;
    if (db_update(a->db, key, ledger_apply, &m) < 0)
	return admin_db_failed(a);
    fprintf(a->out, "%s %s %s%s\n", what == LEDGER_ALLOW ? "allowed" : "blocked",
	    key, m.until == -1 ? "forever" : "until ",
	    m.until == -1 ? "" : admin_time(m.until, buf, sizeof(buf)));
    return ADMIN_OK;
}

/* admin_allow - allow ADDR [--for DURATION] [--comment TEXT] */
int admin_allow(struct admin *a, int argc, char **argv)
{
    return mark(a, argc, argv, LEDGER_ALLOW);
}

/* admin_block - block ADDR [--for DURATION] [--comment TEXT] */
int admin_block(struct admin *a, int argc, char **argv)
{
    return mark(a, argc, argv, LEDGER_BLOCK);
}

/* admin_unblock - end the blocks of addresses or networks */
int admin_unblock(struct admin *a, int argc, char **argv)
{
    struct ledger m = {.event = LEDGER_UNBLOCK,.conf = &a->conf,.now = (int64_t) time(0)};
    int     status = ADMIN_OK;

    if (argc < 1)
	return admin_usage(a);
    for (int i = 0; i < argc; i++) {
	char    key[LEDGER_NET_KEY_MAX];

	m.what = 0;
	if (argv[i][0] == '-')
	    return admin_usage(a);
	if (admin_arg_key(a, argv[i], key, sizeof(key)) < 0)
	    return ADMIN_USAGE;
	if (db_update(a->db, key, ledger_apply, &m) < 0)
	    return admin_db_failed(a);
	if (!m.found)
	    return admin_no_record(a, argv[i], key);
	if (m.what && strcmp(m.what, "not blocked") == 0) {
	    fprintf(a->err, "tarpit-admin: %s: %s is not blocked\n", argv[i], key);
	    status = ADMIN_NOTFOUND;
	    continue;
	}
	fprintf(a->out, "unblocked %s\n", key);
    }
    return status;
}

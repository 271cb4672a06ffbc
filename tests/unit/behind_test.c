/*
 * behind_test - records written behind tarpit-admin's back (the tarpit
 * user can write the file, any MX host a shared server) are attacker
 * text: export-map hands Postfix only networks of a width the helpers
 * look up (a blocked 0.0.0.0/0 would be a REJECT for every client); check
 * and list print no control character of a key or comment (an escape
 * sequence for the admin's terminal); and dump writes what load takes
 * back.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/opendb.h"
#include "unit.h"
#include "unit_conf.h"

#include <stdlib.h>
#include <string.h>

/* blocked - a record blocked for ever, written straight to the store */
static enum db_change blocked(struct db_txn *t, void *ctx)
{
    (void) ctx;
    t->rec.first_seen = t->rec.last_seen = 1800000000;
    t->rec.block_until = -1;
    return DB_WRITE;
}

int main(void)
{
    static const char *const keys[] = {
	"0.0.0.0/0", "::/0", "198.51.0.0/16", "192.0.2.0/25",	/* never */
	"198.51.100.0/24", "2001:db8:1:2::/64", "2001:db8:7::/48",	/* these */
    };
    char    dir[] = "/tmp/export_test.XXXXXX", text[512], why[300], *out = 0, *err = 0;
    size_t  olen = 0, elen = 0;
    struct admin a;
    char   *argv[] = {"--format", "cidr"};

    SETUP(mkdtemp(dir) != 0, "mkdtemp");
    memset(&a, 0, sizeof(a));
    snprintf(text, sizeof(text), "database = %s/t.db\n", dir);
    unit_conf(text, &a.conf);
    SETUP((a.db = opendb(&a.conf, why, sizeof(why))) != 0, "%s", why);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
	SETUP(db_update(a.db, keys[i], blocked, 0) == DB_WRITE, "%s", db_error(a.db));
    SETUP((a.out = open_memstream(&out, &olen)) != 0 && (a.err = open_memstream(&err, &elen)) != 0,
	  "memstream");
    a.conf_file = "(test)";
    EXPECT(admin_export_map(&a, 2, argv) == ADMIN_OK, "export-map");
    fclose(a.out);
    fclose(a.err);
    for (size_t i = 0; i < 4; i++) {
	snprintf(text, sizeof(text), "\n%s\t", keys[i]);
	EXPECT(strstr(out, text) == 0, "%s is never exported: %s", keys[i], out);
    }
    for (size_t i = 4; i < sizeof(keys) / sizeof(keys[0]); i++) {
	snprintf(text, sizeof(text), "\n%s\tREJECT Your network is blocked here\n", keys[i]);
	EXPECT(strstr(out, text) != 0, "%s is exported: %s", keys[i], out);
    }
    EXPECT(strstr(err, "4 blocked records of a width the helpers never look up") != 0,
	   "what was left out is said: %s", err);
    free(out);
    free(err);

    /* What root's part checks of the table before Postfix reads it
     * (admin_priv.c): only export-map's own lines pass. */
    static const struct {
	const char *line;
	int     ok;
    }       lines[] = {
	{"# Networks blocked by tarpit, for Postfix cidr:/x.\n", 0},
	{"198.51.100.0/24\tREJECT Your network is blocked here\n", 0},
	{"2001:db8:1:2::/64\tREJECT Your network is blocked here\n", 0},
	{"2001:db8:7::/48\tREJECT Your network is blocked here\n", 0},
	{"198.51.100\tREJECT Your network is blocked here\n", 0},	/* access(5) */
	{"2001:db8:7\tREJECT Your network is blocked here\n", 0},
	{"0.0.0.0/0\tREJECT Your network is blocked here\n", -1},
	{"198.51.100.0/24\tBCC spy@example.org\n", -1},
	{"198.51.100.0/24\tREJECT Your network is blocked here, BCC x\n", -1},
	{"198.51.100.0/24\tREJECT Your network is blocked\n", -1},
	{"198.51.100.7/24\tREJECT Your network is blocked here\n", -1},
	{"198.51.100.0/24 REJECT Your network is blocked here\n", -1},
	{"192.0.2.0/25\tREJECT Your network is blocked here\n", -1},
	{"198.51\tREJECT Your network is blocked here\n", -1},
	{"198.051.100\tREJECT Your network is blocked here\n", -1},
	{"/etc/passwd\tREJECT Your network is blocked here\n", -1},
	{"# comment\r198.51.100.0/24 BCC x\n", -1},
	{"\n", -1},
    };

    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
	EXPECT(admin_map_line_ok(&a.conf, lines[i].line) == lines[i].ok, "line %zu (%s) %s",
	       i, lines[i].line, lines[i].ok ? "refused" : "taken");

    /* A comment with ESC, BEL and CR, and a key that is no network. */
    struct tp_record r;
    char   *cargv[] = {"198.51.100.9"}, *none[] = {0}, path[300], *largv[] = {path};

    SETUP(db_get(a.db, "198.51.100.0/24", &r) == 1, "record");
    snprintf(r.comment, sizeof(r.comment), "ok\033]0;owned\007\rX");
    {
	struct ledger l = {.event = LEDGER_LOAD,.conf = &a.conf,.record = &r};

	SETUP(db_update(a.db, "198.51.100.0/24", ledger_apply, &l) == DB_WRITE, "write");
	SETUP(db_update(a.db, "\033[2J10.9.9.0/24", ledger_apply, &l) == DB_WRITE, "write");
    }
    SETUP((a.out = open_memstream(&out, &olen)) != 0 && (a.err = open_memstream(&err, &elen)) != 0,
	  "memstream");
    EXPECT(admin_check(&a, 1, cargv) == ADMIN_OK && admin_list(&a, 0, none) == ADMIN_OK,
	   "check and list");
    fclose(a.out);
    fclose(a.err);
    EXPECT(strpbrk(out, "\033\007\r") == 0, "check and list print no control character: %s", out);
    EXPECT(strstr(out, "ok?]0;owned??X") != 0, "... but a '?' for each: %s", out);
    free(out);
    free(err);
    snprintf(path, sizeof(path), "%s/dump", dir);
    SETUP((a.out = fopen(path, "w")) != 0 && (a.err = open_memstream(&err, &elen)) != 0, "dump file");
    EXPECT(admin_dump(&a, 0, none) == ADMIN_OK, "dump");
    fclose(a.out);
    fclose(a.err);
    free(err);
    db_free(a.db);
    snprintf(text, sizeof(text), "database = %s/u.db\n", dir);
    conf_free(&a.conf);
    unit_conf(text, &a.conf);
    SETUP((a.db = opendb(&a.conf, why, sizeof(why))) != 0, "%s", why);
    SETUP((a.out = open_memstream(&out, &olen)) != 0 && (a.err = open_memstream(&err, &elen)) != 0,
	  "memstream");
    EXPECT(admin_load(&a, 1, largv) == ADMIN_OK, "that dump loads back");
    fclose(a.out);
    fclose(a.err);
    EXPECT(strstr(out, "loaded ") != 0, "loaded: %s%s", out, err);
    free(out);
    free(err);
    db_free(a.db);
    conf_free(&a.conf);
    snprintf(text, sizeof(text), "rm -rf %s", dir);
    SETUP(system(text) == 0, "rm");
    return unit_done("behind");
}

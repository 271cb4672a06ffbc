/* fuzz_admin_line - the admin socket's line protocol: splitting a line
 * into words, finding the command, and serving the line (tarpit_checks.py
 * forms check=, del=, all; --json; every command that neither reads nor
 * writes files of its own nor waits on input) against a scratch
 * database, output discarded */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/opendb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct admin a;
static char dir[] = "/tmp/fuzz_admin.XXXXXX";

/* cleanup - the scratch database goes with the fuzzer */
static void cleanup(void)
{
    char    cmd[64];

    db_free(a.db);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
	fprintf(stderr, "fuzz_admin_line: cannot remove %s\n", dir);
}

/* setup - a scratch database and an admin writing nowhere */
static void setup(void)
{
    if (mkdtemp(dir) == 0)
	abort();
    conf_defaults(&a.conf);
    snprintf(a.conf.database, sizeof(a.conf.database), "%s/t.db", dir);
    a.conf_file = "(fuzz)";
    char    why_open[300];

    if ((a.db = opendb(&a.conf, why_open, sizeof(why_open))) == 0
	|| (a.out = fopen("/dev/null", "w")) == 0)
	abort();
    a.err = a.out;
    atexit(cleanup);
}

/* servable - may this line be served here?  Not the commands that open
 * files named in the line, read standard input or run other programs. */
static int servable(const char *line, size_t size)
{
    static const char *const ok[] = {"check", "del", "list", "all", "info", "stats",
	"allow", "block", "unblock", "config", "dump", "expire", "recover", "quit",
    "serve"};
    char    copy[4097], *argv[34];
    int     argc, w = 0;

    if (strncmp(line, "check=", 6) == 0 || strncmp(line, "del=", 4) == 0)
	return 1;
    memcpy(copy, line, size + 1);
    if ((argc = admin_split(copy, argv, 32)) <= 0)
	return 1;			/* an error line */
    if (strcmp(argv[0], "--json") == 0)
	w = 1;
    if (w >= argc)
	return 1;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
	if (strcmp(argv[w], ok[i]) == 0)
	    return 1;
    return admin_command(argv[w]) == 0;	/* unknown: an error line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    line[4097];
    char   *argv[34];
    int     argc;

    if (size >= sizeof(line) || memchr(data, 0, size) || memchr(data, '\n', size))
	return 0;
    if (a.db == 0)
	setup();
    memcpy(line, data, size);
    line[size] = 0;
    if (servable(line, size)) {
	char    served[4097];

	memcpy(served, line, size + 1);
	admin_serve_line(&a, served);
	if (a.json != 0 || a.out != a.err)
	    abort();			/* a line's --json must not stick */
    }
    argc = admin_split(line, argv, 32);
    if (argc > 32)
	abort();
    for (int i = 0; i < argc; i++)
	if (argv[i] < line || argv[i] > line + size)
	    abort();			/* words point into the line */
    if (argc > 0)
	(void) admin_command(argv[0]);
    return 0;
}

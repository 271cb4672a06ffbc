/* fuzz_load - `tarpit-admin load` on anything: refused with a line number
 * or loaded, never a crash; into a scratch database */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/opendb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct admin a;
static char dir[] = "/tmp/fuzz_load.XXXXXX";

static void cleanup(void)
{
    char    path[64];

    db_free(a.db);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/t.db.lock", dir);
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    path[64], *argv[1];
    int     fd;

    if (a.db == 0) {
	if (mkdtemp(dir) == 0)
	    abort();
	conf_defaults(&a.conf);
	snprintf(a.conf.database, sizeof(a.conf.database), "%s/t.db", dir);
	char    why_open[300];

	if ((a.db = opendb(&a.conf, why_open, sizeof(why_open))) == 0)
	    abort();
	a.out = a.err = fopen("/dev/null", "w");
	a.conf_file = "fuzz";
	atexit(cleanup);
    }
    if ((fd = memfd_create("load", 0)) < 0)
	return 0;
    if (write(fd, data, size) == (ssize_t) size) {
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	argv[0] = path;
	(void) admin_command("load")->fn(&a, 1, argv);
    }
    close(fd);
    return 0;
}

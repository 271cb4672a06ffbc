/*
 * slots_test - the files beside the database, and max_waiting without a
 * counter: slots are taken up to max,
 * the next is refused, a released slot is free again, and a process that
 * dies (kill -9) frees its slot without anyone cleaning up.
 */
#define _GNU_SOURCE
#include "store/db.h"
#include "store/dbfile.h"
#include "wait/slots.h"
#include "unit.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char    dir[] = "/tmp/slots_test.XXXXXX", path[300], why[300], cmd[400];
    int     fd[3];

    SETUP(mkdtemp(dir) != 0, "mkdtemp");
    snprintf(path, sizeof(path), "%s/t.db.slots", dir);
    EXPECT(slots_in_use(path, 3) == 0, "no slot file yet: none in use");
    for (int i = 0; i < 3; i++)
	EXPECT((fd[i] = slots_acquire(path, 3, why, sizeof(why))) >= 0, "slot %d: %s", i,
	       fd[i] == -2 ? why : "");
    EXPECT(slots_in_use(path, 3) == 3, "three in use");
    EXPECT(slots_acquire(path, 3, why, sizeof(why)) == -1, "the fourth is refused");
    int     fourth = slots_acquire(path, 4, why, sizeof(why));

    EXPECT(fourth >= 0, "a larger max has room");
    slots_release(fourth);
    slots_release(fd[1]);
    EXPECT(slots_in_use(path, 3) == 2, "released: two in use");
    EXPECT((fd[1] = slots_acquire(path, 3, why, sizeof(why))) >= 0, "the freed slot is taken again");
    slots_release(fd[0]);

    /* A helper killed while waiting leaves no slot behind. */
    int     go[2];
    pid_t   child;
    char    c;

    SETUP(pipe(go) == 0, "pipe");
    if ((child = fork()) == 0) {
	if (slots_acquire(path, 3, why, sizeof(why)) < 0 || write(go[1], "x", 1) != 1)
	    _exit(1);
	pause();
	_exit(0);
    }
    SETUP(child > 0 && read(go[0], &c, 1) == 1, "the child holds a slot");
    EXPECT(slots_in_use(path, 3) == 3 && slots_acquire(path, 3, why, sizeof(why)) == -1,
	   "its slot counts while it lives");
    kill(child, SIGKILL);
    waitpid(child, 0, 0);
    EXPECT(slots_in_use(path, 3) == 2, "killed with -9: its slot is free");
    slots_release(fd[1]);
    slots_release(fd[2]);
    EXPECT(slots_in_use(path, 3) == 0, "all released");

    /* A path that cannot be opened: an error with the reason, not a slot. */
    EXPECT(slots_acquire("/nonexistent/dir/x.slots", 3, why, sizeof(why)) == -2
	   && strstr(why, "/nonexistent/dir/x.slots") != 0, "unusable path: %s", why);
    close(go[0]);
    close(go[1]);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    SETUP(system(cmd) == 0, "cleanup");
    /* The files that go with a database, named in one place. */
    static const struct {
	const char *db;
	enum db_file which;
	const char *want;
    } files[] = {
	{"/var/lib/tarpit/tarpit.db", DB_FILE_LOCK, "/var/lib/tarpit/tarpit.db.lock"},
	{"/var/lib/tarpit/tarpit.db", DB_FILE_DIR, "/var/lib/tarpit"},
	{"/tarpit.db", DB_FILE_DIR, "/"},
	{"tarpit.db", DB_FILE_DIR, "."},
	{"a/b.db", DB_FILE_DIR, "a"},
    };
    char    name[DB_FILE_MAX], small[8];

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	EXPECT(db_file(files[i].db, files[i].which, name, sizeof(name)) != 0
	       && strcmp(name, files[i].want) == 0, "%s (%d): %s", files[i].db,
	       files[i].which, name);
    EXPECT(db_file("/var/lib/tarpit/tarpit.db", DB_FILE_LOCK, small, sizeof(small)) == 0,
	   "a name that does not fit is refused, not cut");
    /* The files the layers above keep beside it: there, or with a
     * server's URL in state_directory. */
    struct db_settings set = {.database = "/var/lib/tarpit/tarpit.db",
	.state_directory = "/var/lib/tarpit-host"};

    EXPECT(db_host_beside(&set, ".slots", name, sizeof(name)) != 0
	   && strcmp(name, "/var/lib/tarpit/tarpit.db.slots") == 0, "beside a file: %s", name);
    set.database = "redis://127.0.0.1:6379/0";
    EXPECT(db_host_beside(&set, ".journal-cursor", name, sizeof(name)) != 0
	   && strcmp(name, "/var/lib/tarpit-host/tarpit.journal-cursor") == 0,
	   "with a server: %s", name);
    return unit_done("slots");
}

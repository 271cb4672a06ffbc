/*
 * NAME
 *	admin_owner - root's tarpit-admin works as the database's owner
 * DESCRIPTION
 *	The state directory (/var/lib/tarpit) belongs to the user the
 *	helpers run as, so everything in it (the database, its lock file,
 *	the slots, the journal cursor) is that user's to replace: with a
 *	link to a file of root's, say.  Root acting on those paths would act
 *	on root's files.  So when root runs tarpit-admin on a database in a
 *	directory of another user's, admin_become_owner() sets the
 *	effective user and group to that directory's owner and group (the
 *	real and saved ids stay root's) before the database is opened:
 *	every file it touches there is touched as the owner, and every file
 *	it creates there belongs to the owner, as the helpers need.
 *
 *	admin_as_root() takes root's effective ids back for what only root
 *	may do and what touches no path of the owner's: reading the system
 *	journal, reading a file root named on the command line, and writing
 *	an output file (-o) where the owner may not.  A process whose ids
 *	differ is not dumpable, so the owner cannot look into it meanwhile.
 *
 *	A root-owned directory (root runs the helpers, or a test's scratch
 *	directory), a server's database, or a user other than root: nothing
 *	changes.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "store/dbfile.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* admin_become_owner - as root, become the owner of the database's
 * directory: 0, or ADMIN_CONFIG (said) */
int admin_become_owner(struct admin *a)
{
    char    dir[DB_FILE_MAX];
    struct stat st;

    if (geteuid() != 0 || db_is_server(a->conf.database))
	return ADMIN_OK;
    if (db_file(a->conf.database, DB_FILE_DIR, dir, sizeof(dir)) == 0
	|| stat(dir, &st) < 0 || st.st_uid == 0)
	return ADMIN_OK;		/* db_open() says what is missing */
    if (setgroups(1, &st.st_gid) < 0 || setegid(st.st_gid) < 0
	|| seteuid(st.st_uid) < 0) {
	fprintf(a->err, "tarpit-admin: cannot become the owner (uid %lu) of %s: %s\n",
		(unsigned long) st.st_uid, dir, strerror(errno));
	return ADMIN_CONFIG;
    }
    a->owner_uid = st.st_uid;
    a->owner_gid = st.st_gid;
    a->as_owner = 1;
    return ADMIN_OK;
}

/* admin_as_root - root's effective ids back (on), or the owner's again;
 * nothing when admin_become_owner() changed nothing */
void    admin_as_root(struct admin *a, int on)
{
    if (!a->as_owner)
	return;
    if (on) {
	if (seteuid(0) < 0 || setegid(0) < 0)
	    msg_fatal("cannot take root's ids back: %s", strerror(errno));
    } else if (setegid(a->owner_gid) < 0 || seteuid(a->owner_uid) < 0) {
	msg_fatal("cannot become the owner again: %s", strerror(errno));
    }
}

/* admin_open_input - a file named on the command line, opened with the
 * rights of who named it; 0 (said) when it cannot be read, or when it is
 * not a regular file (a device or a pipe may never end) */
FILE   *admin_open_input(struct admin *a, const char *path)
{
    FILE   *fp = 0;
    struct stat st;
    int     fd;

    admin_as_root(a, 1);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    admin_as_root(a, 0);
    if (fd < 0 || fstat(fd, &st) < 0) {
	admin_io_failed(a, path);
    } else if (!S_ISREG(st.st_mode)) {
	fprintf(a->err, "tarpit-admin: %s: not a regular file (give - for "
		"standard input)\n", path);
    } else if ((fp = fdopen(fd, "r")) == 0) {
	admin_io_failed(a, path);
    } else {
	return fp;
    }
    if (fd >= 0)
	close(fd);
    return 0;
}

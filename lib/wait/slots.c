/*
 * NAME
 *	slots - count the waits running on this host, without a counter
 * DESCRIPTION
 *	The slot file (DATABASE.slots) is never written: byte i is slot i.
 *	slots_acquire() takes a write lock on the first free byte with
 *	fcntl(F_OFD_SETLK): an open file description lock, owned by the
 *	descriptor, not the process, and released by the kernel when the
 *	descriptor is closed, however the process ends (kill -9 included).
 *	So a crashed helper can never leak its slot, which a counter in the
 *	database could.  slots_in_use() probes each byte with F_OFD_GETLK.
 * DIAGNOSTICS
 *	slots_acquire() returns the descriptor holding the slot, -1 when all
 *	max slots are taken, or -2 with a reason when the file cannot be used.
 */
#define _GNU_SOURCE
#include "wait/slots.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* slots_acquire - hold a free slot; fd, -1 when none is free, -2 error */
int slots_acquire(const char *path, int max, char *why, int whylen)
{
    int     fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);

    if (fd < 0) {
	snprintf(why, (size_t) whylen, "%s: %s", path, strerror(errno));
	return -2;
    }
    for (int i = 0; i < max; i++) {
	struct flock fl = {.l_type = F_WRLCK,.l_whence = SEEK_SET,.l_start = i,.l_len = 1};

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
	    return fd;
	if (errno != EAGAIN && errno != EACCES) {
	    snprintf(why, (size_t) whylen, "%s: F_OFD_SETLK: %s", path, strerror(errno));
	    close(fd);
	    return -2;
	}
    }
    close(fd);
    return -1;
}

/* slots_release - give the slot back */
void slots_release(int fd)
{
    if (fd >= 0)
	close(fd);
}

/* slots_in_use - how many of the first max slots are held, or -1 (also
 * when the name is a link, or not a regular file: a FIFO never answers) */
int slots_in_use(const char *path, int max)
{
    int     fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    int     n = 0;
    struct stat st;

    if (fd < 0)
	return errno == ENOENT ? 0 : -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
	close(fd);
	return -1;
    }
    for (int i = 0; i < max; i++) {
	/* F_OFD_GETLK wants a descriptor that could take the lock it asks
	 * about; a read-only one may ask about read locks only, which a
	 * slot's write lock blocks all the same. */
	struct flock fl = {.l_type = F_RDLCK,.l_whence = SEEK_SET,.l_start = i,.l_len = 1};

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
	    close(fd);
	    return -1;
	}
	if (fl.l_type != F_UNLCK)
	    n++;
    }
    close(fd);
    return n;
}

/*
 * NAME
 *	floor - the fastest possible policy server: no parsing, no database
 * DESCRIPTION
 *	Answers "action=DUNNO" to each request (anything up to a blank line)
 *	on fd 3 (from systemd-socket-activate --accept) or stdin/stdout.  What
 *	no policy server can beat on the same machine and activator: the
 *	benchmarks state our figures as a share of it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char    buf[65536];
    size_t  have = 0;
    int     in = getenv("LISTEN_FDS") ? 3 : 0, out = getenv("LISTEN_FDS") ? 3 : 1;

    for (;;) {
	ssize_t n = read(in, buf + have, sizeof(buf) - have);
	char   *p, *start = buf;

	if (n <= 0)
	    return 0;
	have += (size_t) n;
	while ((p = memmem(start, have - (size_t) (start - buf), "\n\n", 2)) != 0) {
	    if (write(out, "action=DUNNO\n\n", 14) != 14)
		return 0;
	    start = p + 2;
	}
	have -= (size_t) (start - buf);
	memmove(buf, start, have);
	if (have == sizeof(buf))
	    have = 0;
    }
}

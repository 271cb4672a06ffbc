/*
 * policy_test - framing and parsing of policy requests.  The golden pair
 * policy.in/policy.ref shows how a stream of requests is read; the table
 * below covers limits, timeouts and ends of input.
 */
#define _GNU_SOURCE
#include "util/clock.h"
#include "proto/policy.h"
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* feed - a socket pair with text written on one end (then closed if eof) */
static int feed(const char *text, size_t len, int eof, int *writer)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
	abort();
    if (len && write(sv[1], text, len) != (ssize_t) len)
	abort();
    if (eof) {
	close(sv[1]);
	*writer = -1;
    } else {
	*writer = sv[1];
    }
    return sv[0];
}

enum pieces_kind { PIECES_SOCKET, PIECES_NONBLOCKING, PIECES_PIPE };

/* pieces - a request cut inside a name, between CR and LF and before the
 * blank line, with a second one behind it, written a piece at a time:
 * the same attributes as in one piece, whichever pieces the reads see,
 * on a blocking socket (read under SO_RCVTIMEO), a non-blocking one and
 * a pipe (both polled) */
static void pieces(enum pieces_kind kind)
{
    static const char *const piece[] = {"request=smtpd_access_policy\r\nclient_addr",
	"ess=1.2.3.4\r\nempty=\r", "\nlast=x=y\r\n", "\r", "\nsecond=2\n\n"};
    static const char *const name[] = {"socket", "non-blocking socket", "pipe"};
    static struct policy_conn c;
    struct policy_req q;
    int     sv[2], rd, wr;
    pid_t   pid;

    if (kind == PIECES_PIPE)
	SETUP(pipe(sv) == 0, "pipe");
    else
	SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    rd = sv[0];
    wr = sv[1];
    if (kind == PIECES_NONBLOCKING)
	SETUP(fcntl(rd, F_SETFL, fcntl(rd, F_GETFL) | O_NONBLOCK) == 0, "O_NONBLOCK");
    SETUP((pid = fork()) >= 0, "fork");
    if (pid == 0) {
	close(rd);
	for (size_t i = 0; i < sizeof(piece) / sizeof(piece[0]); i++) {
	    struct timespec ts = {0, 20 * 1000 * 1000};

	    if (write(wr, piece[i], strlen(piece[i])) < 0)
		_exit(1);
	    nanosleep(&ts, 0);
	}
	_exit(0);
    }
    close(wr);
    policy_init(&c, rd, rd);
    EXPECT(policy_read(&c, &q, 5000) == POLICY_OK && q.bad == 0 && q.nattr == 4,
	   "%s pieces: framed (%s, %zu attributes)", name[kind], q.bad ? q.bad : "ok", q.nattr);
    EXPECT(q.nattr == 4 && strcmp(policy_get(&q, "request"), "smtpd_access_policy") == 0
	   && strcmp(policy_get(&q, "client_address"), "1.2.3.4") == 0
	   && strcmp(policy_get(&q, "empty"), "") == 0
	   && strcmp(policy_get(&q, "last"), "x=y") == 0, "%s pieces: values", name[kind]);
    EXPECT(policy_read(&c, &q, 5000) == POLICY_OK && q.bad == 0 && q.nattr == 1
	   && strcmp(policy_get(&q, "second"), "2") == 0, "%s pieces: the next request",
	   name[kind]);
    EXPECT(policy_read(&c, &q, 5000) == POLICY_EOF, "%s pieces: clean end", name[kind]);
    close(rd);
    SETUP(waitpid(pid, 0, 0) == pid, "waitpid");
}

/* golden - print every request of policy.in as the parser sees it */
static void golden(const char *in_path)
{
    FILE   *fp = fopen(in_path, "r");
    static char text[65536];
    size_t  len;
    int     writer, fd;
    static struct policy_conn c;
    struct policy_req q;
    enum policy_status st;

    if (fp == 0) {
	perror(in_path);
	exit(1);
    }
    len = fread(text, 1, sizeof(text), fp);
    fclose(fp);
    fd = feed(text, len, 1, &writer);
    policy_init(&c, fd, fd);
    while ((st = policy_read(&c, &q, 1000)) == POLICY_OK) {
	printf("request: %s\n", q.bad ? q.bad : "ok");
	for (size_t i = 0; i < q.nattr; i++)
	    printf("  [%s] = [%s]\n", q.attr[i].name, q.attr[i].value);
    }
    printf("end: %s\n", policy_status_text(st));
    close(fd);
}

int main(int argc, char **argv)
{
    static struct policy_conn c;
    struct policy_req q;
    int     writer, fd;
    char   *big;

    if (argc == 2) {
	golden(argv[1]);
	return 0;
    }

    /* Two pipelined requests in one write: both, in order. */
    const char two[] = "request=smtpd_access_policy\nclient_address=1.2.3.4\n\n"
    "request=smtpd_access_policy\nclient_address=5.6.7.8\n\n";

    fd = feed(two, sizeof(two) - 1, 1, &writer);
    policy_init(&c, fd, fd);
    EXPECT(policy_read(&c, &q, 1000) == POLICY_OK, "first");
    EXPECT(q.bad == 0 && strcmp(policy_get(&q, "client_address"), "1.2.3.4") == 0, "first value");
    EXPECT(policy_read(&c, &q, 1000) == POLICY_OK, "second");
    EXPECT(strcmp(policy_get(&q, "client_address"), "5.6.7.8") == 0, "second value");
    EXPECT(policy_get(&q, "absent") == 0, "absent attribute");
    EXPECT(policy_read(&c, &q, 1000) == POLICY_EOF, "clean end");
    close(fd);

    /* A request in pieces, on each kind of descriptor a helper reads. */
    pieces(PIECES_SOCKET);
    pieces(PIECES_NONBLOCKING);
    pieces(PIECES_PIPE);

    /* No final blank line: truncated, not answered. */
    const char cut[] = "request=smtpd_access_policy\nclient_address=1.2.3.4\n";

    fd = feed(cut, sizeof(cut) - 1, 1, &writer);
    policy_init(&c, fd, fd);
    EXPECT(policy_read(&c, &q, 1000) == POLICY_TRUNCATED, "truncated");
    close(fd);

    /* Silence: a timeout, within the limit given. */
    fd = feed("request=smtpd_access_policy\n", 28, 0, &writer);
    policy_init(&c, fd, fd);
    int64_t t0 = monotonic_ms();

    EXPECT(policy_read(&c, &q, 200) == POLICY_TIMEOUT, "timeout");
    int64_t took = monotonic_ms() - t0;

    EXPECT(took >= 190 && took < 2000, "timeout took %lld ms", (long long) took);
    close(fd);
    close(writer);

    /* The same on a non-blocking socket (polled), and on a blocking one
     * after a request that came while a read waited under a longer
     * timeout: the kernel's timeout is set down to the time left. */
    for (int i = 0; i < 2; i++) {
	pid_t   pid;

	fd = feed("request=smtpd_access_policy\n", 28, 0, &writer);
	if (i == 0)
	    SETUP(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0, "O_NONBLOCK");
	SETUP((pid = fork()) >= 0, "fork");
	if (pid == 0) {
	    struct timespec ts = {0, 100 * 1000 * 1000};

	    nanosleep(&ts, 0);
	    _exit(write(writer, "\nrequest=smtpd_access_policy\n", 29) == 29 ? 0 : 1);
	}
	policy_init(&c, fd, fd);
	EXPECT(policy_read(&c, &q, 5000) == POLICY_OK, "before the silence %d", i);
	SETUP(waitpid(pid, 0, 0) == pid, "waitpid");
	t0 = monotonic_ms();
	EXPECT(policy_read(&c, &q, 200) == POLICY_TIMEOUT, "timeout %d", i);
	took = monotonic_ms() - t0;
	EXPECT(took >= 190 && took < 2000, "timeout %d took %lld ms", i, (long long) took);
	close(fd);
	close(writer);
    }

    /* Oversized: a request of POLICY_MAX_REQUEST bytes without an end. */
    big = malloc(POLICY_MAX_REQUEST + 100);
    memset(big, 'a', POLICY_MAX_REQUEST + 100);
    memcpy(big, "x=", 2);
    fd = feed(big, POLICY_MAX_REQUEST + 100, 0, &writer);
    policy_init(&c, fd, fd);
    EXPECT(policy_read(&c, &q, 1000) == POLICY_TOO_BIG, "too big");
    close(fd);
    close(writer);

    /* Just under the limit: still framed. */
    size_t  n = POLICY_MAX_REQUEST - 2;

    memset(big, 'a', n);
    memcpy(big, "x=", 2);
    big[n] = '\n';
    big[n + 1] = '\n';
    fd = feed(big, n + 2, 1, &writer);
    policy_init(&c, fd, fd);
    EXPECT(policy_read(&c, &q, 1000) == POLICY_OK && q.bad == 0
	   && strlen(policy_get(&q, "x")) == n - 2, "largest request");
    close(fd);

    /* Too many attributes: framed, marked bad. */
    size_t  len = 0;

    for (int i = 0; i < POLICY_MAX_ATTRS + 1; i++)
	len += (size_t) sprintf(big + len, "a%d=1\n", i);
    big[len++] = '\n';
    fd = feed(big, len, 1, &writer);
    policy_init(&c, fd, fd);
    EXPECT(policy_read(&c, &q, 1000) == POLICY_OK && q.bad != 0
	   && strcmp(q.bad, "too many attributes") == 0, "too many attributes");
    close(fd);

    /* A NUL byte: framed, marked bad, and the next request is intact. */
    const char nul[] = "request=x\0y\nclient_address=1.2.3.4\n\nrequest=ok\n\n";

    fd = feed(nul, sizeof(nul) - 1, 1, &writer);
    policy_init(&c, fd, fd);
    EXPECT(policy_read(&c, &q, 1000) == POLICY_OK && q.bad != 0, "NUL");
    EXPECT(policy_read(&c, &q, 1000) == POLICY_OK && q.bad == 0
	   && strcmp(policy_get(&q, "request"), "ok") == 0, "after NUL");
    close(fd);

    /* The reply. */
    int     sv[2];
    char    out[64] = {0};

    SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    policy_init(&c, sv[0], sv[0]);
    EXPECT(policy_reply(&c, "DUNNO", 1000) == 0, "reply");
    EXPECT(read(sv[1], out, sizeof(out) - 1) == 14
	   && strcmp(out, "action=DUNNO\n\n") == 0, "reply text \"%s\"", out);
    close(sv[0]);
    close(sv[1]);
    free(big);
    return unit_done("policy");
}

/*
 * policy_test - framing and parsing of policy requests.  The golden pair
 * policy.in/policy.ref shows how a stream of requests is read; the table
 * below covers limits, timeouts and ends of input.
 */
#define _GNU_SOURCE
#include "util/clock.h"
#include "proto/policy.h"
#include "unit.h"

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

    /* A request in pieces, cut inside a name, between CR and LF and
     * before the blank line, with a second one behind it: the same
     * attributes as in one piece, whichever pieces the reads see. */
    const char *piece[] = {"request=smtpd_access_policy\r\nclient_addr",
	"ess=1.2.3.4\r\nempty=\r", "\nlast=x=y\r\n", "\r", "\nsecond=2\n\n"};
    int     sv2[2];
    pid_t   pid;

    SETUP(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0, "socketpair");
    SETUP((pid = fork()) >= 0, "fork");
    if (pid == 0) {
	close(sv2[0]);
	for (size_t i = 0; i < sizeof(piece) / sizeof(piece[0]); i++) {
	    struct timespec ts = {0, 20 * 1000 * 1000};

	    if (write(sv2[1], piece[i], strlen(piece[i])) < 0)
		_exit(1);
	    nanosleep(&ts, 0);
	}
	_exit(0);
    }
    close(sv2[1]);
    policy_init(&c, sv2[0], sv2[0]);
    EXPECT(policy_read(&c, &q, 5000) == POLICY_OK && q.bad == 0 && q.nattr == 4,
	   "pieces: framed (%s, %zu attributes)", q.bad ? q.bad : "ok", q.nattr);
    EXPECT(q.nattr == 4 && strcmp(policy_get(&q, "request"), "smtpd_access_policy") == 0
	   && strcmp(policy_get(&q, "client_address"), "1.2.3.4") == 0
	   && strcmp(policy_get(&q, "empty"), "") == 0
	   && strcmp(policy_get(&q, "last"), "x=y") == 0, "pieces: values");
    EXPECT(policy_read(&c, &q, 5000) == POLICY_OK && q.bad == 0 && q.nattr == 1
	   && strcmp(policy_get(&q, "second"), "2") == 0, "pieces: the next request");
    EXPECT(policy_read(&c, &q, 5000) == POLICY_EOF, "pieces: clean end");
    close(sv2[0]);
    SETUP(waitpid(pid, 0, 0) == pid, "waitpid");

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

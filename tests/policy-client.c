/*
 * NAME
 *	policy-client - talk the Postfix policy protocol, for tests
 * SYNOPSIS
 *	policy-client [-a] [-u] [-t reply_timeout_ms] [-x close_after_ms] host port
 *		< requests
 *	policy-client ... unix path < requests
 * DESCRIPTION
 *	Sends each request read from stdin (attribute lines, a blank line
 *	ending each) on one connection, like smtpd reusing its policy
 *	connection, and prints for each "REPLY MS": the action line (or
 *	"eof"/"timeout") and the milliseconds the reply took.  With -x it sends
 *	the last request, waits close_after_ms and closes without reading the
 *	reply, as smtpd does when it gives up.  With -a each line also gives
 *	the CLOCK_MONOTONIC milliseconds at which the request was sent and
 *	the reply read: "REPLY MS SENT_AT REPLIED_AT".  With -u the times are
 *	microseconds, the first reply's counted from before the connect: the
 *	first answer on a new connection, as a benchmark of activation wants.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *host, const char *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int     fd;

    memset(&ss, 0, sizeof(ss));
    if (strcmp(host, "unix") == 0) {	/* the port is a socket's path */
	struct sockaddr_un *un = (struct sockaddr_un *) &ss;

	if (strlen(port) >= sizeof(un->sun_path)) {
	    fprintf(stderr, "policy-client: path too long: %s\n", port);
	    exit(2);
	}
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, port, strlen(port) + 1);
	len = sizeof(*un);
    } else if (inet_pton(AF_INET, host, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
	((struct sockaddr_in *) &ss)->sin_family = AF_INET;
	((struct sockaddr_in *) &ss)->sin_port = htons((unsigned short) atoi(port));
	len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
	((struct sockaddr_in6 *) &ss)->sin6_family = AF_INET6;
	((struct sockaddr_in6 *) &ss)->sin6_port = htons((unsigned short) atoi(port));
	len = sizeof(struct sockaddr_in6);
    } else {
	fprintf(stderr, "policy-client: bad host %s\n", host);
	exit(2);
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0
	|| connect(fd, (struct sockaddr *) &ss, len) < 0) {
	fprintf(stderr, "policy-client: connect %s:%s: %s\n", host, port,
		strerror(errno));
	exit(2);
    }
    return fd;
}

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
	ssize_t n = write(fd, p, len);

	if (n < 0) {
	    if (errno == EINTR)
		continue;
	    fprintf(stderr, "policy-client: write: %s\n", strerror(errno));
	    exit(2);
	}
	p += n;
	len -= (size_t) n;
    }
}

/* read_reply - up to the blank line; the first line into out */
static const char *read_reply(int fd, int timeout_ms, char *out, size_t outlen)
{
    char    buf[4096];
    size_t  len = 0;
    long long deadline = now_ms() + timeout_ms;

    for (;;) {
	char   *end = len >= 2 ? memmem(buf, len, "\n\n", 2) : 0;

	if (end) {
	    char   *nl = memchr(buf, '\n', len);

	    snprintf(out, outlen, "%.*s", (int) (nl - buf), buf);
	    return out;
	}
	struct pollfd pfd = {.fd = fd,.events = POLLIN};
	long long left = deadline - now_ms();

	if (left <= 0 || poll(&pfd, 1, (int) left) == 0)
	    return "timeout";
	ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

	if (n <= 0)
	    return "eof";
	len += (size_t) n;
	if (len >= sizeof(buf) - 1)
	    return "overlong-reply";
    }
}

int main(int argc, char **argv)
{
    int     timeout_ms = 60000, close_after = -1, absolute = 0, micro = 0, ch, fd;
    char   *input = 0;
    size_t  cap = 0, len = 0;
    char    reply[1024];

    while ((ch = getopt(argc, argv, "aut:x:")) != -1) {
	if (ch == 'a')
	    absolute = 1;
	else if (ch == 'u')
	    micro = 1;
	else if (ch == 't')
	    timeout_ms = atoi(optarg);
	else if (ch == 'x')
	    close_after = atoi(optarg);
	else
	    return 2;
    }
    if (argc - optind != 2) {
	fprintf(stderr, "usage: policy-client [-a] [-u] [-t ms] [-x ms] host port < requests\n");
	return 2;
    }
    /* Slurp stdin. */
    for (;;) {
	if (len + 4096 > cap) {
	    cap = cap ? 2 * cap : 65536;
	    if ((input = realloc(input, cap)) == 0)
		return 2;
	}
	ssize_t n = read(0, input + len, cap - len - 1);

	if (n <= 0)
	    break;
	len += (size_t) n;
    }
    if (input == 0)
	return 2;
    input[len] = 0;
    long long connect_us = now_us();
    int     first = 1;

    fd = connect_to(argv[optind], argv[optind + 1]);

    /* Split into requests at blank lines and send them one by one; the
     * input may hold NUL bytes, so lengths, not strings. */
    char   *p = input, *end_in = input + len;

    while (p < end_in) {
	char   *end;
	size_t  rlen;
	int     last;

	while (p < end_in && *p == '\n')
	    p++;
	if (p >= end_in)
	    break;
	/* A request ends at a blank line: "\n\n" or "\n\r\n". */
	char   *e1 = memmem(p, (size_t) (end_in - p), "\n\n", 2);
	char   *e2 = memmem(p, (size_t) (end_in - p), "\n\r\n", 3);

	if (e2 && (!e1 || e2 < e1))
	    end = e2 + 1;
	else
	    end = e1;
	rlen = end ? (size_t) (end - p) + 2 : (size_t) (end_in - p);
	last = 1;
	for (char *q = p + rlen; q < end_in; q++)
	    if (*q != '\n')
		last = 0;
	long long t0 = now_ms();

	if (!first)
	    connect_us = now_us();		/* -u: from the send, after the first */
	first = 0;
	send_all(fd, p, rlen);
	if (last && close_after >= 0) {
	    usleep((useconds_t) close_after * 1000);
	    close(fd);
	    printf("closed %lld\n", now_ms() - t0);
	    free(input);
	    return 0;
	}
	const char *r = read_reply(fd, timeout_ms, reply, sizeof(reply));
	long long t1 = now_ms();

	if (micro)
	    printf("%s %lld\n", r, now_us() - connect_us);
	else if (absolute)
	    printf("%s %lld %lld %lld\n", r, t1 - t0, t0, t1);
	else
	    printf("%s %lld\n", r, t1 - t0);
	fflush(stdout);
	if (strcmp(r, "eof") == 0 || strcmp(r, "timeout") == 0)
	    break;
	p += rlen;
    }
    close(fd);
    free(input);
    return 0;
}

/*
 * NAME
 *	watchbench - measure the watched wait of tarpit-check
 * SYNOPSIS
 *	watchbench latency HOST PORT RUNS
 *	watchbench hold HOST PORT COUNT SECONDS
 * DESCRIPTION
 *	Both modes make real loopback TCP connections that stand in for
 *	smtpd's connection to an SMTP client, and send tarpit-check a policy
 *	request naming each (configure a long sleep).
 *
 *	latency: RUNS times, one after another: start a wait, let the client
 *	hang up (FIN) at a random moment 1.0-2.0 s into it, and time from the
 *	close to tarpit-check's answer.  Prints every figure in ms, one a line.
 *
 *	hold: COUNT waits at once, held for SECONDS, then every client hangs
 *	up.  Prints "ready" on stdout once all requests are sent, so a caller
 *	can measure the waiting helpers meanwhile.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct pair {
    int     client, server, policy;
};

static int lfd;
static struct sockaddr_in laddr, paddr;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "watchbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* open_pair - a client connection, smtpd's end, and a policy connection
 * carrying a request that names them */
static void open_pair(struct pair *p)
{
    struct sockaddr_in c, s;
    socklen_t len = sizeof(c);
    char    req[512];
    int     n;

    if ((p->client = socket(AF_INET, SOCK_STREAM, 0)) < 0
	|| connect(p->client, (struct sockaddr *) &laddr, sizeof(laddr)) < 0)
	die("connect stand-in");
    if ((p->server = accept(lfd, 0, 0)) < 0)
	die("accept");
    if (getsockname(p->client, (struct sockaddr *) &c, &len) < 0)
	die("getsockname");
    len = sizeof(s);
    if (getsockname(p->server, (struct sockaddr *) &s, &len) < 0)
	die("getsockname");
    n = snprintf(req, sizeof(req), "request=smtpd_access_policy\n"
		 "protocol_state=RCPT\nclient_address=127.0.0.1\n"
		 "client_port=%d\nserver_address=127.0.0.1\nserver_port=%d\n\n",
		 ntohs(c.sin_port), ntohs(s.sin_port));
    if ((p->policy = socket(AF_INET, SOCK_STREAM, 0)) < 0
	|| connect(p->policy, (struct sockaddr *) &paddr, sizeof(paddr)) < 0)
	die("connect to tarpit-check");
    if (write(p->policy, req, (size_t) n) != n)
	die("write");
}

static void close_pair(struct pair *p)
{
    close(p->client);
    close(p->server);
    close(p->policy);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    socklen_t len = sizeof(laddr);

    if (argc < 5) {
	fprintf(stderr, "usage: watchbench latency HOST PORT RUNS\n"
		"       watchbench hold HOST PORT COUNT SECONDS\n");
	return 2;
    }
    memset(&paddr, 0, sizeof(paddr));
    paddr.sin_family = AF_INET;
    paddr.sin_port = htons((unsigned short) atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &paddr.sin_addr) != 1)
	die("host");
    memset(&laddr, 0, sizeof(laddr));
    laddr.sin_family = AF_INET;
    laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0
	|| bind(lfd, (struct sockaddr *) &laddr, sizeof(laddr)) < 0
	|| listen(lfd, 4096) < 0
	|| getsockname(lfd, (struct sockaddr *) &laddr, &len) < 0)
	die("listen");
    srand((unsigned) getpid());

    if (strcmp(argv[1], "latency") == 0) {
	int     runs = atoi(argv[4]);
	double *v = calloc((size_t) runs, sizeof(*v));

	for (int i = 0; i < runs; i++) {
	    struct pair p;
	    char    buf[256];

	    open_pair(&p);
	    usleep((useconds_t) (1000000 + rand() % 1000000));
	    close(p.client);
	    double  t0 = now_ms();
	    struct pollfd pfd = {.fd = p.policy,.events = POLLIN};

	    if (poll(&pfd, 1, 60000) <= 0 || read(p.policy, buf, sizeof(buf)) <= 0)
		die("no answer");
	    v[i] = now_ms() - t0;
	    printf("%.1f\n", v[i]);
	    fflush(stdout);
	    close(p.server);
	    close(p.policy);
	}
	qsort(v, (size_t) runs, sizeof(*v), by_value);
	fprintf(stderr, "close to answer over %d runs: median %.1f ms, "
		"min %.1f, max %.1f\n", runs, v[runs / 2], v[0], v[runs - 1]);
	free(v);
	return 0;
    }
    if (strcmp(argv[1], "hold") == 0 && argc == 6) {
	int     count = atoi(argv[4]), secs = atoi(argv[5]);
	struct pair *p = calloc((size_t) count, sizeof(*p));
	struct rlimit rl = {(rlim_t) count * 4 + 64, (rlim_t) count * 4 + 64};

	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
	    die("setrlimit");
	for (int i = 0; i < count; i++)
	    open_pair(p + i);
	printf("ready\n");
	fflush(stdout);
	sleep((unsigned) secs);
	for (int i = 0; i < count; i++)
	    close_pair(p + i);
	free(p);
	return 0;
    }
    fprintf(stderr, "watchbench: unknown mode %s\n", argv[1]);
    return 2;
}

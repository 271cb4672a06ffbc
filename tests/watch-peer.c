/*
 * NAME
 *	watch-peer - a stand-in smtpd connection for the watched-wait tests
 * SYNOPSIS
 *	watch-peer [-6] [-b client_address] -d delay_ms
 *		-m close|rst|talk|quit|line|none [-q quit_ms] [-h hold_ms]
 *		[-e event_file]
 * DESCRIPTION
 *	Listens on 127.0.0.1 (or ::1 with -6), connects a client to itself,
 *	accepts it (the accepted socket plays smtpd's end) and prints the
 *	policy attributes that name the connection:
 *	client_address, client_port, server_address, server_port.
 *	With -b the client connects from client_address (another loopback
 *	address, 127.0.5.1: a client of another /24).
 *	Then, after delay_ms, the client hangs up (close: FIN; rst: RST),
 *	talks (sends lines, as a bot that does not wait for the reply), says
 *	goodbye (quit: QUIT, then FIN quit_ms later, default 1000, as a
 *	client that gave up and waited a while for the answer), sends one
 *	short line and stays (line: DATA), or does nothing.  "smtpd's" socket and the listener stay open for
 *	hold_ms more (default 40000), then it exits.
 *
 *	With -e it writes to event_file the CLOCK_MONOTONIC milliseconds
 *	just before the hang-up or the talk: tests measure how soon the
 *	tarpit noticed from that moment (policy-client -a gives the other
 *	end on the same clock), not from a delay counted from our start,
 *	which began before the request was even sent.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "watch-peer: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* note_event - the moment of the event, on the clock policy-client reads */
static void note_event(const char *path)
{
    struct timespec ts;
    FILE   *fp;

    if (path == 0)
	return;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
	die("clock_gettime");
    if ((fp = fopen(path, "w")) == 0)
	die(path);
    fprintf(fp, "%lld\n", (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    if (fclose(fp) != 0)
	die(path);
}

int main(int argc, char **argv)
{
    int     v6 = 0, delay = 0, hold = 40000, quit_ms = 1000, ch;
    const char *mode = "none", *event_file = 0, *from = 0;
    struct sockaddr_storage ss;
    socklen_t len;
    int     lfd, cfd, sfd;
    char    a[64], b[64];

    while ((ch = getopt(argc, argv, "6b:d:m:q:h:e:")) != -1) {
	switch (ch) {
	case '6':
	    v6 = 1;
	    break;
	case 'b':
	    from = optarg;
	    break;
	case 'd':
	    delay = atoi(optarg);
	    break;
	case 'm':
	    mode = optarg;
	    break;
	case 'h':
	    hold = atoi(optarg);
	    break;
	case 'q':
	    quit_ms = atoi(optarg);
	    break;
	case 'e':
	    event_file = optarg;
	    break;
	default:
	    return 2;
	}
    }
    memset(&ss, 0, sizeof(ss));
    if (v6) {
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_addr = in6addr_loopback;
	len = sizeof(*s6);
    } else {
	struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;

	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	len = sizeof(*s4);
    }
    if ((lfd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0
	|| bind(lfd, (struct sockaddr *) &ss, len) < 0 || listen(lfd, 5) < 0
	|| getsockname(lfd, (struct sockaddr *) &ss, &len) < 0)
	die("listen");
    if ((cfd = socket(ss.ss_family, SOCK_STREAM, 0)) < 0)
	die("socket");
    if (from) {
	struct sockaddr_storage bs;

	memcpy(&bs, &ss, sizeof(bs));
	if (v6 ? inet_pton(AF_INET6, from, &((struct sockaddr_in6 *) &bs)->sin6_addr) != 1
	    : inet_pton(AF_INET, from, &((struct sockaddr_in *) &bs)->sin_addr) != 1) {
	    fprintf(stderr, "watch-peer: not an address: %s\n", from);
	    return 2;
	}
	if (v6)
	    ((struct sockaddr_in6 *) &bs)->sin6_port = 0;
	else
	    ((struct sockaddr_in *) &bs)->sin_port = 0;
	if (bind(cfd, (struct sockaddr *) &bs, len) < 0)
	    die("bind");
    }
    if (connect(cfd, (struct sockaddr *) &ss, len) < 0)
	die("connect");
    if ((sfd = accept(lfd, 0, 0)) < 0)
	die("accept");

    struct sockaddr_storage local, peer;
    socklen_t l1 = sizeof(local), l2 = sizeof(peer);

    if (getsockname(sfd, (struct sockaddr *) &local, &l1) < 0
	|| getpeername(sfd, (struct sockaddr *) &peer, &l2) < 0)
	die("getsockname");
    if (v6) {
	struct sockaddr_in6 *l = (struct sockaddr_in6 *) &local, *p = (struct sockaddr_in6 *) &peer;

	inet_ntop(AF_INET6, &p->sin6_addr, a, sizeof(a));
	inet_ntop(AF_INET6, &l->sin6_addr, b, sizeof(b));
	printf("client_address=%s\nclient_port=%d\nserver_address=%s\nserver_port=%d\n",
	       a, ntohs(p->sin6_port), b, ntohs(l->sin6_port));
    } else {
	struct sockaddr_in *l = (struct sockaddr_in *) &local, *p = (struct sockaddr_in *) &peer;

	inet_ntop(AF_INET, &p->sin_addr, a, sizeof(a));
	inet_ntop(AF_INET, &l->sin_addr, b, sizeof(b));
	printf("client_address=%s\nclient_port=%d\nserver_address=%s\nserver_port=%d\n",
	       a, ntohs(p->sin_port), b, ntohs(l->sin_port));
    }
    fflush(stdout);
    fclose(stdout);

    usleep((useconds_t) delay * 1000);
    if (strcmp(mode, "none") != 0)
	note_event(event_file);
    if (strcmp(mode, "close") == 0) {
	close(cfd);
    } else if (strcmp(mode, "rst") == 0) {
	struct linger lg = {1, 0};

	setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(cfd);
    } else if (strcmp(mode, "talk") == 0) {
	static const char burst[] = "DATA\r\nSubject: hi\r\n\r\nhi\r\n.\r\n";

	if (write(cfd, burst, sizeof(burst) - 1) != (ssize_t) sizeof(burst) - 1)
	    die("write");
    } else if (strcmp(mode, "quit") == 0) {
	if (write(cfd, "QUIT\r\n", 6) != 6)
	    die("write");
	usleep((useconds_t) quit_ms * 1000);
	close(cfd);
    } else if (strcmp(mode, "line") == 0) {
	if (write(cfd, "DATA\r\n", 6) != 6)
	    die("write");
    }
    usleep((useconds_t) hold * 1000);
    return 0;
}

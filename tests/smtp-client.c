/*
 * NAME
 *	smtp-client - an SMTP client that times every reply, for tests
 * SYNOPSIS
 *	smtp-client [-b bind_address] [-r recipient]... [-m messages]
 *		[-g give_up_ms] [-t timeout_ms] host port
 * DESCRIPTION
 *	Connects from bind_address (any 127.0.0.0/8 address will do), then
 *	EHLO, and for each of `messages` messages MAIL FROM, one RCPT TO per
 *	recipient, DATA and a short body; then QUIT.  Prints one line per
 *	reply: "STEP CODE MS", MS being how long the reply took.  After the
 *	end of data the line ends with the queue id.
 *
 *	With -g the client behaves like a bot: when a RCPT reply takes longer
 *	than give_up_ms it closes the connection and prints "rcpt gave-up MS".
 * EXIT STATUS
 *	0 when every message was accepted, 1 when one was not or the client
 *	gave up, 2 on errors of its own.
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
#include <time.h>
#include <unistd.h>

static int fd;
static char buf[8192];
static size_t blen;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
    fprintf(stderr, "smtp-client: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void send_line(const char *fmt, const char *arg)
{
    char    line[1024];
    int     n = snprintf(line, sizeof(line), fmt, arg);

    if (write(fd, line, (size_t) n) != n)
	die("write");
}

/* reply - read one (multi-line) reply within timeout; its code, 0 on EOF,
 * -1 on timeout.  The last line is left in last. */
static int reply(int timeout_ms, char *last, size_t lastlen)
{
    long long deadline = now_ms() + timeout_ms;

    for (;;) {
	char   *nl;

	while ((nl = memchr(buf, '\n', blen)) != 0) {
	    size_t  len = (size_t) (nl - buf) + 1;
	    int     more = len > 4 && buf[3] == '-';
	    int     code = atoi(buf);

	    snprintf(last, lastlen, "%.*s", (int) (len > 2 ? len - 2 : 0), buf);
	    memmove(buf, buf + len, blen - len);
	    blen -= len;
	    if (!more)
		return code;
	}
	long long left = deadline - now_ms();
	struct pollfd pfd = {.fd = fd,.events = POLLIN};

	if (left <= 0 || poll(&pfd, 1, (int) left) == 0)
	    return -1;
	ssize_t n = read(fd, buf + blen, sizeof(buf) - blen);

	if (n <= 0)
	    return 0;
	blen += (size_t) n;
    }
}

/* step - send a command, time its reply, print the line */
static int step(const char *name, const char *fmt, const char *arg,
		        int timeout_ms, int give_up_ms)
{
    char    last[1024] = "";
    long long t0 = now_ms();
    int     code;

    if (fmt)
	send_line(fmt, arg);
    code = reply(give_up_ms > 0 ? give_up_ms : timeout_ms, last, sizeof(last));
    if (code < 0 && give_up_ms > 0) {
	close(fd);
	printf("%s gave-up %lld\n", name, now_ms() - t0);
	exit(1);
    }
    if (strcmp(name, "eom") == 0 && code == 250) {
	const char *q = strstr(last, "queued as ");

	printf("%s %d %lld %s\n", name, code, now_ms() - t0, q ? q + 10 : "?");
    } else {
	printf("%s %d %lld\n", name, code, now_ms() - t0);
    }
    fflush(stdout);
    return code;
}

int main(int argc, char **argv)
{
    const char *bind_addr = 0;
    const char *rcpts[64];
    int     nrcpt = 0, messages = 1, give_up = 0, timeout = 300000, ch;
    int     status = 0;
    struct sockaddr_in sa, ba;

    while ((ch = getopt(argc, argv, "b:r:m:g:t:")) != -1) {
	switch (ch) {
	case 'b':
	    bind_addr = optarg;
	    break;
	case 'r':
	    if (nrcpt < 64)
		rcpts[nrcpt++] = optarg;
	    break;
	case 'm':
	    messages = atoi(optarg);
	    break;
	case 'g':
	    give_up = atoi(optarg);
	    break;
	case 't':
	    timeout = atoi(optarg);
	    break;
	default:
	    return 2;
	}
    }
    if (argc - optind != 2) {
	fprintf(stderr, "usage: smtp-client [-b addr] [-r rcpt]... [-m n] [-g ms] [-t ms] host port\n");
	return 2;
    }
    if (nrcpt == 0)
	rcpts[nrcpt++] = "user@example.test";
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short) atoi(argv[optind + 1]));
    if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
	die("host");
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
	die("socket");
    if (bind_addr) {
	memset(&ba, 0, sizeof(ba));
	ba.sin_family = AF_INET;
	if (inet_pton(AF_INET, bind_addr, &ba.sin_addr) != 1
	    || bind(fd, (struct sockaddr *) &ba, sizeof(ba)) < 0)
	    die("bind");
    }
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
	die("connect");
    if (step("banner", 0, 0, timeout, 0) != 220)
	return 1;
    if (step("ehlo", "EHLO client.example.org\r\n%s", "", timeout, 0) != 250)
	return 1;
    for (int m = 0; m < messages; m++) {
	int     accepted = 0;

	if (step("mail", "MAIL FROM:<%s>\r\n", "sender@example.org", timeout, 0) != 250)
	    return 1;
	for (int r = 0; r < nrcpt; r++)
	    if (step("rcpt", "RCPT TO:<%s>\r\n", rcpts[r], timeout, give_up) == 250)
		accepted++;
	if (accepted == 0) {
	    status = 1;
	    step("rset", "RSET\r\n%s", "", timeout, 0);
	    continue;
	}
	if (step("data", "DATA\r\n%s", "", timeout, 0) != 354)
	    return 1;
	if (step("eom", "Subject: tarpit test\r\n\r\nHello.\r\n.\r\n%s", "",
		 timeout, 0) != 250)
	    status = 1;
    }
    step("quit", "QUIT\r\n%s", "", timeout, 0);
    close(fd);
    return status;
}

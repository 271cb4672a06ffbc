/*
 * NAME
 *	loadgen - a Postfix-shaped policy load, for benchmarks
 * SYNOPSIS
 *	loadgen known|new|spray6|connect|mx HOST PORT CONNECTIONS SECONDS
 *	loadgen pairs HOST CHECKPORT:STOREPORT CONNECTIONS SECONDS
 * DESCRIPTION
 *	Sends the 28 attributes Postfix 3.7 sends at RCPT, one request at a
 *	time per connection, from CONNECTIONS threads for SECONDS, and
 *	prints one line: requests, seconds, requests per second and the
 *	50th and 99th percentile of reply latency in microseconds.
 *
 *	known   one connection per thread, reused; the same client each time
 *	        (an escaped network: a read, no wait);
 *	new     the same, but every request from a new /24 network;
 *	spray6  the same, but every request from the next /64 of one IPv6
 *	        /48, 2001:db8:7::/48 (all 65,536 of them in turn, then again
 *	        with the next host address; LOADGEN_MAX=N stops at N);
 *	connect a new connection for each request (connections per second
 *	        through the activator).
 *	pairs   a writer per thread, as Postfix's smtpd would be: a check
 *	        then a store request for the thread's own network, each on
 *	        its own kept connection; a pair counts when both answered.
 *	        With LOADGEN_NETS=N the threads share N networks (thread i
 *	        writes network i % N), so that writers race on each record.
 *	        Also prints "net NETWORK PAIRS" for each thread, so that the
 *	        database's counts can be checked against them (lost updates),
 *	        and the slowest answer (max_us).
 *	mx      a mail server's day: each thread a client after another on
 *	        a kept connection; one in twenty from a new network (100.64.0.0/10
 *	        on), which the tarpit makes wait and which hangs up 1-10 s into
 *	        the wait, as a bot does; the others from LOADGEN_KNOWN (10,000)
 *	        networks the database knows, 10.0.0.0/24 on, answered at once.
 *	        Latencies are the known ones'; also prints the slowest answer
 *	        of each 10 seconds (max_by_10s) and how many bots hung up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 2000000

static const char request_fmt[] =
"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
"client_address=%s\nclient_name=mail.example.org\n"
"client_port=%d\nreverse_client_name=mail.example.org\nserver_address=127.0.0.1\n"
"server_port=25\nhelo_name=mail.example.org\nsender=alice@example.org\n"
"recipient=bob@example.net\nrecipient_count=0\nqueue_id=\ninstance=%x.%x.0\n"
"size=0\netrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
"ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
"encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\n"
"policy_context=\n\n";

static const char *mode;
static struct sockaddr_in addr, store_addr;
static double deadline;
static atomic_long total;
static atomic_long next_net;
static long max_nets;			/* LOADGEN_MAX: spray6 stops there */
static long *samples;
static atomic_long nsamples;
static atomic_long slowest;
static long *pairs;			/* pairs mode: answered pairs per thread */
static long nets;			/* LOADGEN_NETS: threads share this many */
static long known_nets = 10000;		/* mx: LOADGEN_KNOWN */
static atomic_long bots;		/* mx: bots that hung up */
#define MAX_TENS 360
static atomic_long max_by_10s[MAX_TENS];	/* mx: the slowest answer of each 10 s */
static double started;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(const struct sockaddr_in *to)
{
    int     fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0)
	return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *) to, sizeof(*to)) < 0) {
	close(fd);
	return -1;
    }
    return fd;
}

/* ask - one request, its whole reply; 0 or -1 */
static int ask(int fd, const char *req, int len)
{
    char    buf[512];
    size_t  have = 0;

    if (write(fd, req, (size_t) len) != len)
	return -1;
    for (;;) {
	ssize_t n = read(fd, buf + have, sizeof(buf) - have);

	if (n <= 0)
	    return -1;
	have += (size_t) n;
	if (have >= 2 && buf[have - 1] == '\n' && buf[have - 2] == '\n')
	    return 0;
	if (have == sizeof(buf))
	    return -1;
    }
}

/* timed_ask - ask, recording the latency; 0 or -1 */
static int timed_ask(int fd, const char *req, int len)
{
    double  t0 = now_s();

    if (ask(fd, req, len) < 0)
	return -1;
    long    us = (long) ((now_s() - t0) * 1e6);
    long    i = atomic_fetch_add(&nsamples, 1);
    long    old = atomic_load(&slowest);

    if (i < MAX_SAMPLES)
	samples[i] = us;
    while (us > old && !atomic_compare_exchange_weak(&slowest, &old, us))
	 /* retry */ ;
    long    ten = (long) ((t0 - started) / 10);

    if (ten >= 0 && ten < MAX_TENS) {
	old = atomic_load(&max_by_10s[ten]);
	while (us > old && !atomic_compare_exchange_weak(&max_by_10s[ten], &old, us))
	     /* retry */ ;
    }
    return 0;
}

/* ask_on - one request on *fd, dialling `to` first when it is closed;
 * on failure the connection is closed (dialled again next time); 0 or -1 */
static int ask_on(int *fd, const struct sockaddr_in *to, const char *req, int len)
{
    if (*fd < 0 && (*fd = dial(to)) < 0) {
	fprintf(stderr, "loadgen: connect: %s\n", strerror(errno));
	usleep(1000);
	return -1;
    }
    if (timed_ask(*fd, req, len) < 0) {
	close(*fd);
	*fd = -1;
	return -1;
    }
    return 0;
}

/* format - the request from client, numbered n by thread id */
static int format(char *req, size_t size, const char *client, long id, long n)
{
    return snprintf(req, size, request_fmt, client, (int) (10000 + (n % 50000)),
		    (unsigned) id, (unsigned) n);
}

/* pair_worker - check then store for this thread's own network */
static void *pair_worker(void *arg)
{
    long    id = (long) arg;
    int     cfd = -1, sfd = -1;
    char    req[2048], client[64];
    long    n = 0;

    long    net = nets > 0 ? id % nets : id;

    snprintf(client, sizeof(client), "10.%ld.%ld.1", (net >> 8) & 255, net & 255);
    while (now_s() < deadline) {
	int     len = format(req, sizeof(req), client, id, n);

	if (ask_on(&cfd, &addr, req, len) == 0
	    && ask_on(&sfd, &store_addr, req, len) == 0)
	    n++;
    }
    if (cfd >= 0)
	close(cfd);
    if (sfd >= 0)
	close(sfd);
    pairs[id] = n;
    atomic_fetch_add(&total, 2 * n);
    return 0;
}

/* mx_worker - known clients on a kept connection, and now and then a bot
 * on a connection of its own that hangs up 1-10 s into its wait */
static void *mx_worker(void *arg)
{
    long    id = (long) arg;
    unsigned seed = (unsigned) (id * 2654435761u);
    int     fd = -1;
    char    req[2048], client[64];
    long    n = 0;

    while (now_s() < deadline) {
	int     len;

	if (rand_r(&seed) % 20 == 0) {
	    long    k = atomic_fetch_add(&next_net, 1);
	    int     bot;
	    double  until = now_s() + 1 + (rand_r(&seed) % 9000) / 1000.0;

	    snprintf(client, sizeof(client), "100.%ld.%ld.1", 64 + ((k >> 8) & 63), k & 255);
	    len = format(req, sizeof(req), client, id, n);
	    if ((bot = dial(&addr)) < 0)
		continue;
	    if (write(bot, req, (size_t) len) == len) {
		while (now_s() < until && now_s() < deadline)
		    usleep(20000);
		atomic_fetch_add(&bots, 1);
	    }
	    close(bot);
	    n++;
	    continue;
	}
	long    k = rand_r(&seed) % known_nets;

	snprintf(client, sizeof(client), "10.%ld.%ld.1", (k >> 8) & 255, k & 255);
	len = format(req, sizeof(req), client, id, n);
	if (ask_on(&fd, &addr, req, len) == 0)
	    n++;
    }
    if (fd >= 0)
	close(fd);
    atomic_fetch_add(&total, n);
    return 0;
}

static void *worker(void *arg)
{
    long    id = (long) arg;
    int     fd = -1;
    char    req[2048], client[64];
    long    n = 0;

    snprintf(client, sizeof(client), "192.0.2.%ld", 1 + id % 250);
    while (now_s() < deadline) {
	if (strcmp(mode, "new") == 0) {
	    long    k = atomic_fetch_add(&next_net, 1);

	    snprintf(client, sizeof(client), "10.%ld.%ld.1", (k >> 8) & 255, k & 255);
	    if (k >= 65536)
		snprintf(client, sizeof(client), "100.%ld.%ld.1", 64 + ((k >> 16) & 63), (k >> 8) & 255);
	} else if (strcmp(mode, "spray6") == 0) {
	    long    k = atomic_fetch_add(&next_net, 1);

	    if (max_nets > 0 && k >= max_nets)
		break;

	    snprintf(client, sizeof(client), "2001:db8:7:%lx::%lx", k & 0xffff, 1 + (k >> 16));
	}
	int     len = format(req, sizeof(req), client, id, n);

	if (ask_on(&fd, &addr, req, len) < 0)
	    continue;
	n++;
	if (strcmp(mode, "connect") == 0) {
	    close(fd);
	    fd = -1;
	}
    }
    if (fd >= 0)
	close(fd);
    atomic_fetch_add(&total, n);
    return 0;
}

static int by_long(const void *a, const void *b)
{
    long    x = *(const long *) a, y = *(const long *) b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int     conns;
    double  secs, t0;
    pthread_t *th;

    if (argc != 6) {
	fprintf(stderr, "usage: loadgen known|new|connect|mx HOST PORT CONNECTIONS SECONDS\n"
		"       loadgen pairs HOST CHECKPORT:STOREPORT CONNECTIONS SECONDS\n");
	return 2;
    }
    mode = argv[1];
    if (getenv("LOADGEN_MAX"))
	max_nets = atol(getenv("LOADGEN_MAX"));
    nets = getenv("LOADGEN_NETS") ? atol(getenv("LOADGEN_NETS")) : 0;
    if (getenv("LOADGEN_KNOWN"))
	known_nets = atol(getenv("LOADGEN_KNOWN"));
    if (known_nets < 1 || known_nets > 65536)
	return 2;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short) atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1)
	return 2;
    store_addr = addr;
    if (strcmp(mode, "pairs") == 0) {
	const char *colon = strchr(argv[3], ':');

	if (colon == 0)
	    return 2;
	store_addr.sin_port = htons((unsigned short) atoi(colon + 1));
    }
    conns = atoi(argv[4]);
    secs = atof(argv[5]);
    samples = calloc(MAX_SAMPLES, sizeof(*samples));
    th = calloc((size_t) conns, sizeof(*th));
    pairs = calloc((size_t) conns, sizeof(*pairs));
    if (samples == 0 || th == 0 || pairs == 0 || conns < 1 || conns > 65536)
	return 2;
    started = t0 = now_s();
    deadline = t0 + secs;
    for (long i = 0; i < conns; i++)
	pthread_create(th + i, 0, strcmp(mode, "pairs") == 0 ? pair_worker
		       : strcmp(mode, "mx") == 0 ? mx_worker : worker, (void *) i);
    for (int i = 0; i < conns; i++)
	pthread_join(th[i], 0);
    double  took = now_s() - t0;
    long    n = nsamples < MAX_SAMPLES ? nsamples : MAX_SAMPLES;

    qsort(samples, (size_t) n, sizeof(*samples), by_long);
    printf("requests=%ld seconds=%.2f rps=%.0f p50_us=%ld p99_us=%ld max_us=%ld\n",
	   (long) total, took, total / took, n ? samples[n / 2] : 0,
	   n ? samples[n * 99 / 100] : 0, (long) slowest);
    if (strcmp(mode, "mx") == 0) {
	printf("bots=%ld max_by_10s=", (long) bots);
	for (long i = 0; i < MAX_TENS && i * 10 < took; i++)
	    printf("%s%ld", i ? "," : "", (long) max_by_10s[i]);
	printf("\n");
    }
    if (strcmp(mode, "pairs") == 0)
	for (long i = 0; i < conns; i++)
	    printf("net 10.%ld.%ld.0/24 %ld\n", ((nets > 0 ? i % nets : i) >> 8) & 255,
		   (nets > 0 ? i % nets : i) & 255, pairs[i]);
    free(pairs);
    free(samples);
    free(th);
    return 0;
}

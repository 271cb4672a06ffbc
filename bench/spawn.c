/*
 * NAME
 *	spawn - what one policy connection costs a process-per-connection server
 * SYNOPSIS
 *	spawn COUNT PROGRAM [ARG...]
 * DESCRIPTION
 *	Starts PROGRAM COUNT times, one after another, as systemd's Accept=yes
 *	would: an accepted loopback TCP connection on fd 3, LISTEN_PID and
 *	LISTEN_FDS=1 in the environment.  Each time it sends the 28 attributes
 *	Postfix 3.7 sends for client 192.0.2.1, reads the answer, hangs up and
 *	collects the process.  Prints one line: the mean wall time, minor page
 *	faults, user and system CPU time of one such process, start to exit.
 *
 *	The connection-per-request load (loadgen connect) measures the same
 *	through the activator, among other processes; this shows what the
 *	server's own start and exit cost, one process at a time, so that two
 *	programs (bench/floor and tarpit-check) can be compared part by part.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char request[] =
"request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
"client_address=192.0.2.1\nclient_name=mail.example.org\n"
"client_port=40000\nreverse_client_name=mail.example.org\nserver_address=127.0.0.1\n"
"server_port=25\nhelo_name=mail.example.org\nsender=alice@example.org\n"
"recipient=bob@example.net\nrecipient_count=0\nqueue_id=\ninstance=1.2.0\n"
"size=0\netrn_domain=\nstress=\nsasl_method=\nsasl_username=\nsasl_sender=\n"
"ccert_subject=\nccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
"encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\n"
"policy_context=\n\n";

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* one - a process of argv on a new connection; adds its usage to *ru */
static void one(int ls, const struct sockaddr_in *sa, char **argv, struct rusage *sum)
{
    int     c, s, status;
    pid_t   pid;
    char    answer[256];
    struct rusage ru;

    if ((c = socket(AF_INET, SOCK_STREAM, 0)) < 0
	|| connect(c, (const struct sockaddr *) sa, sizeof(*sa)) < 0
	|| (s = accept(ls, 0, 0)) < 0)
	die("spawn: connection");
    if ((pid = fork()) < 0)
	die("spawn: fork");
    if (pid == 0) {
	char    me[32];

	close(c);
	close(ls);			/* before fd 3 is taken */
	snprintf(me, sizeof(me), "%ld", (long) getpid());
	if (setenv("LISTEN_PID", me, 1) < 0 || setenv("LISTEN_FDS", "1", 1) < 0
	    || (s != 3 && (dup2(s, 3) < 0 || close(s) < 0)))
	    _exit(126);
	execv(argv[0], argv);
	_exit(127);
    }
    close(s);
    if (write(c, request, sizeof(request) - 1) != (ssize_t) (sizeof(request) - 1)
	|| read(c, answer, sizeof(answer)) <= 0) {
	fprintf(stderr, "spawn: %s gave no answer\n", argv[0]);
	exit(1);
    }
    close(c);
    if (wait4(pid, &status, 0, &ru) != pid)
	die("spawn: wait4");
    sum->ru_minflt += ru.ru_minflt;
    sum->ru_utime.tv_sec += ru.ru_utime.tv_sec;
    sum->ru_utime.tv_usec += ru.ru_utime.tv_usec;
    sum->ru_stime.tv_sec += ru.ru_stime.tv_sec;
    sum->ru_stime.tv_usec += ru.ru_stime.tv_usec;
}

static double seconds(struct timeval tv)
{
    return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t salen = sizeof(sa);
    struct rusage sum = {0};
    struct timespec t0, t1;
    int     ls, count;

    if (argc < 3 || (count = atoi(argv[1])) <= 0) {
	fprintf(stderr, "usage: spawn COUNT PROGRAM [ARG...]\n");
	return 2;
    }
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((ls = socket(AF_INET, SOCK_STREAM, 0)) < 0
	|| bind(ls, (struct sockaddr *) &sa, sizeof(sa)) < 0
	|| getsockname(ls, (struct sockaddr *) &sa, &salen) < 0
	|| listen(ls, 16) < 0)
	die("spawn: listen");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < count; i++)
	one(ls, &sa, argv + 2, &sum);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("processes=%d wall_us=%.1f minflt=%.1f user_us=%.1f sys_us=%.1f\n", count,
	   ((double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9)
	   / count * 1e6, (double) sum.ru_minflt / count,
	   seconds(sum.ru_utime) / count * 1e6, seconds(sum.ru_stime) / count * 1e6);
    return 0;
}

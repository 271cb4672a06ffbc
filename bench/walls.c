/*
 * NAME
 *	walls - what the kernel charges a new helper for its walls, part by part
 * SYNOPSIS
 *	walls [COUNT]
 * DESCRIPTION
 *	Forks COUNT children (default 500), one after another.  Each times,
 *	with CLOCK_MONOTONIC, what a new tarpit-check does to shut itself in
 *	and what the machine charges for the rest of its start:
 *
 *	  filter     loading the seccomp filter a GDBM helper loads
 *	  filter1    loading a filter of one instruction (allow all)
 *	  confine    Landlock and the filter, as confine() builds them for
 *	             a GDBM helper's paths (a third filter, after the two)
 *	  syscall    one getppid(), bare and under the walls (mean of 2000)
 *	  open       an open() and close() of a file in the directory
 *	             written, bare and under the walls (mean of 200)
 *	  fault      the first touch of an anonymous page (mean of 64)
 *
 *	and prints the median of each over the children, in microseconds.
 *	The filter is built before the fork, so only the kernel's part is
 *	timed.  bench/results.md ("The walls part by part") has figures.
 */
#define _GNU_SOURCE
#include "util/confine.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { FILTER, FILTER1, CONFINE, BARE, WALLED, OPEN_BARE, OPEN_WALLED, FAULT, PARTS };
static const char *const part_name[PARTS] = {
    "filter", "filter1", "confine", "syscall_bare", "syscall_walled",
    "open_bare", "open_walled", "fault"};
static char file[64];			/* a file in the directory written */

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

/* per_call - the mean time of a getppid() over n calls */
static double per_call(int n)
{
    double  t = now_us();

    for (int i = 0; i < n; i++)
	(void) syscall(SYS_getppid);
    return (now_us() - t) / n;
}

/* per_open - the mean time of an open() and close() of file over n */
static double per_open(int n)
{
    double  t = now_us();

    for (int i = 0; i < n; i++) {
	int     fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
	    return -1;
	close(fd);
    }
    return (now_us() - t) / n;
}

/* load - one filter; its time, or -1 */
static double load(struct sock_filter *insn, int len)
{
    struct sock_fprog fp = {.len = (unsigned short) len,.filter = insn};
    double  t = now_us();

    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp) < 0)
	return -1;
    return now_us() - t;
}

/* child - one new process's parts, into d */
static int child(const struct confine *c, struct sock_filter *insn, int len, double *d)
{
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    char    why[256];
    enum { PAGES = 64 };
    char   *m = mmap(0, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    double  t;

    if (m == MAP_FAILED || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
	return -1;
    t = now_us();
    for (int i = 0; i < PAGES; i++)
	m[i * 4096] = 1;
    d[FAULT] = (now_us() - t) / PAGES;
    d[BARE] = per_call(2000);
    d[OPEN_BARE] = per_open(200);
    if ((d[FILTER1] = load(&allow, 1)) < 0 || (d[FILTER] = load(insn, len)) < 0)
	return -1;
    t = now_us();
    if (confine(c, why, sizeof(why)) != CONFINE_FULL) {
	fprintf(stderr, "walls: %s\n", why);
	return -1;
    }
    d[CONFINE] = now_us() - t;
    d[WALLED] = per_call(2000);
    d[OPEN_WALLED] = per_open(200);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int     count = argc > 1 ? atoi(argv[1]) : 500, p[2], len;
    static struct sock_filter insn[CONFINE_FILTER_MAX];
    struct confine c = {.tcp_port = 0};
    char    why[256], dir[] = "/tmp/walls.XXXXXX";
    double *v[PARTS];

    if (count < 1 || count > 100000 || mkdtemp(dir) == 0) {
	fprintf(stderr, "usage: walls [COUNT]\n");
	return 2;
    }
    for (const char *const *r = (const char *const[]) {"/etc", "/usr", "/lib", "/lib64", 0};
	 *r; r++)
	(void) confine_add(c.read, *r);
    (void) confine_add(c.write, dir);
    snprintf(file, sizeof(file), "%s/f", dir);
    if ((p[0] = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0 || close(p[0]) < 0
	|| pipe(p) < 0)
	return 1;
    if ((len = confine_filter(&c, insn, CONFINE_FILTER_MAX, why, sizeof(why))) < 0) {
	fprintf(stderr, "walls: %s\n", why);
	return 1;
    }
    for (int k = 0; k < PARTS; k++)
	if ((v[k] = calloc((size_t) count, sizeof(double))) == 0)
	    return 1;
    for (int i = 0; i < count; i++) {
	double  d[PARTS] = {0};
	pid_t   pid = fork();
	int     status;

	if (pid < 0)
	    return 1;
	if (pid == 0) {
	    int     rc = child(&c, insn, len, d);

	    _exit(rc == 0 && write(p[1], d, sizeof(d)) == (ssize_t) sizeof(d) ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid || status != 0
	    || read(p[0], d, sizeof(d)) != (ssize_t) sizeof(d)) {
	    fprintf(stderr, "walls: a child failed\n");
	    return 1;
	}
	for (int k = 0; k < PARTS; k++)
	    v[k][i] = d[k];
    }
    unlink(file);
    rmdir(dir);
    printf("children=%d filter_insns=%d", count, len);
    for (int k = 0; k < PARTS; k++) {
	qsort(v[k], (size_t) count, sizeof(double), cmp);
	printf(" %s=%.2f", part_name[k], v[k][count / 2]);
	free(v[k]);
    }
    printf(" (us, medians)\n");
    return 0;
}

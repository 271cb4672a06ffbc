/*
 * sandbox_test - a helper's walls (lib/tarpit/sandbox.c, lib/util/confine.c)
 * hold: what it may do still works, what it may not fails for the
 * sandbox's reason (EACCES, EPERM, EAFNOSUPPORT), not by chance.
 *
 *   sandbox_test			the unit test: scratch directories, a
 *					probe per config in a child process
 *   sandbox_test -p CONF [-w] [PATH...]	the probe alone: shut in as a
 *					helper with CONF (-w: as tarpit-check,
 *					which watches), then try; one line per
 *					try, "WHAT: allowed" or "WHAT: refused
 *					(why)".  PATHs are files and directories
 *					it must neither read nor write in.
 *					tests/system/system.sh runs it inside
 *					the shipped unit.
 */
#define _GNU_SOURCE
#include "unit.h"
#include "unit_db.h"
#include "tarpit/opendb.h"
#include "tarpit/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stddef.h>
#include <unistd.h>

/* say - one try's outcome: refused only for the sandbox's own answers */
static void say(FILE *out, const char *what, int rc)
{
    int     e = errno;

    if (rc >= 0 || (e != EACCES && e != EPERM && e != EAFNOSUPPORT && e != ENOSYS))
	fprintf(out, "%s: allowed\n", what);
    else
	fprintf(out, "%s: refused (%s)\n", what, strerror(e));
}

static int try_socket(int family, int type, int protocol)
{
    int     fd = socket(family, type | SOCK_CLOEXEC, protocol);

    if (fd >= 0)
	close(fd);
    return fd;
}

/* try_run - run /bin/true (as a file, or copied into a memfd and run
 * with fexecve) in a child: 0 when it ran, or -1 with the child's errno */
static int try_run(int memfd)
{
    int     status;
    pid_t   pid = fork();

    if (pid < 0)
	return -1;
    if (pid == 0) {
	char   *argv[] = {"true", 0}, *envp[] = {0}, buf[65536];
	int     in, fd;
	ssize_t n;

	if (!memfd) {
	    execve("/bin/true", argv, envp);
	    _exit(errno);
	}
	if ((fd = memfd_create("probe", MFD_CLOEXEC)) < 0 || (in = open("/bin/true", O_RDONLY)) < 0)
	    _exit(errno);
	while ((n = read(in, buf, sizeof(buf))) > 0)
	    if (write(fd, buf, (size_t) n) != n)
		_exit(EIO);
	fexecve(fd, argv, envp);
	_exit(errno);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
	return errno = EIO, -1;
    if (WEXITSTATUS(status) == 0)
	return 0;
    return errno = WEXITSTATUS(status), -1;
}

/* try_mprotect - a written page made executable: 0 or -1 */
static int try_mprotect(void)
{
    char   *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int     rc;

    if (m == MAP_FAILED)
	return -1;
    m[0] = (char) 0xc3;
    rc = mprotect(m, 4096, PROT_READ | PROT_EXEC);
    munmap(m, 4096);
    return rc;
}

static int try_connect(int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,.sin_port = htons((uint16_t) port)};
    int     fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc, e;

    if (fd < 0)
	return -1;
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    rc = connect(fd, (struct sockaddr *) &sin, sizeof(sin));
    e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int try_open(const char *path, int flags)
{
    int     fd = open(path, flags | O_CLOEXEC, 0600);

    if (fd >= 0)
	close(fd);
    return fd;
}

static int try_list(const char *path)
{
    DIR    *d = opendir(path);

    if (d == 0)
	return -1;
    closedir(d);
    return 0;
}

/* try_exec - run path in a child: 0 when it ran, else -1 with errno */
static int try_exec(const char *path)
{
    int     status;
    pid_t   pid = fork();

    if (pid == 0) {
	execl(path, path, (char *) 0);
	_exit(errno & 0x7f);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
	return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
	return 0;
    errno = WIFEXITED(status) ? WEXITSTATUS(status) : EINTR;
    return -1;
}

/* try_clone - a child in a new network namespace; 0 or -1 */
static int try_clone(void)
{
    long    pid = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);

    if (pid == 0)
	_exit(0);
    if (pid < 0)
	return -1;
    waitpid((pid_t) pid, 0, 0);
    return 0;
}

/* copy - from to to (mode 0700); 0 or -1 */
static int copy(const char *from, const char *to)
{
    char    buf[65536];
    ssize_t n;
    int     in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;

    if (in < 0)
	return -1;
    if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700)) < 0) {
	close(in);
	return -1;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0)
	if (write(out, buf, (size_t) n) != n)
	    rc = -1;
    close(in);
    close(out);
    return n < 0 ? -1 : rc;
}

/* status_lines - the capabilities and the filter, as /proc tells them */
static void status_lines(FILE *out)
{
    FILE   *fp = fopen("/proc/self/status", "r");
    char    line[256];

    if (fp == 0) {
	fprintf(out, "/proc/self/status: %s\n", strerror(errno));
	return;
    }
    while (fgets(line, sizeof(line), fp))
	if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "Seccomp:", 8) == 0)
	    fputs(line, out);
    fclose(fp);
}

#define FDS 64			/* descriptors looked at for leaks */

/* probe - shut in as a helper with conf_file, then try everything */
static int probe(const char *conf_file, int watches, char **paths, int npaths, FILE *out)
{
    struct tp_conf c;
    struct tp_db *db;
    struct sandbox s;
    char    why[600], what[1200], file[1100];
    enum confine_result rc;
    void   *m;
    int     lo, hole, left = 0, was_open[FDS];

    if (conf_load(&c, conf_file, 1, why, sizeof(why)) < 0 || (db = opendb(&c, why, sizeof(why))) == 0
	|| sandbox_plan(&s, &c, db, conf_file, watches, why, sizeof(why)) < 0) {
	fprintf(out, "setup: %s\n", why);
	return 2;
    }
    /* A number taken amid those the walls' descriptors get: they come
     * in two runs, and every one is closed after all the same. */
    lo = dup(0);
    close(lo);
    hole = dup2(0, lo + 3);
    for (int fd = 0; fd < FDS; fd++)
	was_open[fd] = fcntl(fd, F_GETFD) >= 0;
    rc = sandbox_enter(&s, why, sizeof(why));
    for (int fd = 0; fd < FDS; fd++)
	left += !was_open[fd] && fcntl(fd, F_GETFD) >= 0;
    close(hole);
    fprintf(out, "descriptors left open: %d\n", left);
    fprintf(out, "sandbox: %s%s\n", rc == CONFINE_FULL ? "full" : rc == CONFINE_PARTIAL
	    ? "partial: " : "failed: ", why);
    if (s.tcp_port == 0) {
	errno = 0;
	say(out, "database", db_update(db, "sandbox-probe", bump, 0) < 0
	    || db_delete(db, "sandbox-probe") < 0 ? -1 : 0);
	snprintf(file, sizeof(file), "%s/sandbox-probe", s.db_dir);
	say(out, "write in the database's directory", try_open(file, O_WRONLY | O_CREAT));
	errno = 0;
	say(out, "set-user-ID mode", chmod(file, 04700));
	say(out, "copy a program into the database's directory", copy("/bin/true", file));
	say(out, "run what it wrote", try_exec(file));
	unlink(file);
    } else {
	snprintf(what, sizeof(what), "connect to TCP port %d", s.tcp_port);
	say(out, what, try_connect(s.tcp_port));
	snprintf(what, sizeof(what), "connect to TCP port %d", s.tcp_port + 1);
	say(out, what, try_connect(s.tcp_port + 1));
    }
    say(out, "read the config", try_open(conf_file, O_RDONLY));
    for (int i = 0; i < npaths; i++) {
	struct stat st;

	if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
	    snprintf(what, sizeof(what), "list %s", paths[i]);
	    say(out, what, try_list(paths[i]));
	    snprintf(file, sizeof(file), "%s/sandbox-probe", paths[i]);
	    snprintf(what, sizeof(what), "write in %s", paths[i]);
	    say(out, what, try_open(file, O_WRONLY | O_CREAT | O_EXCL));
	    unlink(file);
	} else {
	    snprintf(what, sizeof(what), "read %s", paths[i]);
	    say(out, what, try_open(paths[i], O_RDONLY));
	    snprintf(what, sizeof(what), "write %s", paths[i]);
	    say(out, what, try_open(paths[i], O_WRONLY));
	}
    }
    say(out, "socket unix", try_socket(AF_UNIX, SOCK_STREAM, 0));
    say(out, "socket inet", try_socket(AF_INET, SOCK_STREAM, 0));
    say(out, "socket inet6 udp", try_socket(AF_INET6, SOCK_DGRAM, 0));
    say(out, "socket inet udp", try_socket(AF_INET, SOCK_DGRAM, 0));
    say(out, "socket mptcp", try_socket(AF_INET, SOCK_STREAM, 262));
    say(out, "run /bin/true", try_run(0));
    say(out, "run a memfd", try_run(1));
    say(out, "make a written page executable", try_mprotect());
    say(out, "socket packet", try_socket(AF_PACKET, SOCK_RAW, 0));
    say(out, "socket netlink route", try_socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
    say(out, "socket netlink sock_diag", try_socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG));
    say(out, "unshare a user namespace", unshare(CLONE_NEWUSER));
    say(out, "clone into a network namespace", try_clone());
    m = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    say(out, "writable and executable memory", m == MAP_FAILED ? -1 : 0);
    if (m != MAP_FAILED)
	munmap(m, 4096);
    say(out, "signal the parent", kill(getppid(), 0));
    fprintf(out, "no_new_privs: %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    status_lines(out);
    fflush(out);
    db_free(db);
    conf_free(&c);
    return 0;
}

/* run_probe - probe in a child; its lines into buf */
static void run_probe(const char *conf, int watches, char **paths, int npaths,
		              char *buf, size_t len)
{
    int     p[2], status;
    pid_t   pid;
    ssize_t n;
    size_t  got = 0;

    SETUP(pipe(p) == 0, "pipe: %s", strerror(errno));
    SETUP((pid = fork()) >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
	FILE   *out = fdopen(p[1], "w");

	close(p[0]);
	_exit(out ? probe(conf, watches, paths, npaths, out) : 2);
    }
    close(p[1]);
    while (got + 1 < len && (n = read(p[0], buf + got, len - got - 1)) > 0)
	got += (size_t) n;
    buf[got] = 0;
    close(p[0]);
    SETUP(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the probe ended with %d:\n%s",
	   status, buf);
}

/* has - the probe said what, as expected ("allowed", "refused") */
static int has(const char *out, const char *what, const char *answer)
{
    char    line[1200];

    snprintf(line, sizeof(line), "\n%s: %s", what, answer);
    return strstr(out, line) != 0;
}

#define SAYS(out, what, answer) EXPECT(has(out, what, answer), "%s: not %s in:\n%s", \
				       what, answer, out)

static void write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    SETUP(fp && fputs(text, fp) >= 0 && fclose(fp) == 0, "%s: %s", path, strerror(errno));
}

/* empty - the files of directory d, gone */
static void empty(const char *d)
{
    DIR    *dp = opendir(d);
    struct dirent *e;
    char    path[600];

    SETUP(dp != 0, "%s: %s", d, strerror(errno));
    while ((e = readdir(dp)) != 0) {
	if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
	    continue;
	snprintf(path, sizeof(path), "%s/%s", d, e->d_name);
	unlink(path);
    }
    closedir(dp);
}

#if defined(__x86_64__)
#define TEST_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef TEST_ARCH
#define EPERM_RET (SECCOMP_RET_ERRNO | EPERM)
#define UNSUPPORTED (SECCOMP_RET_ERRNO | EAFNOSUPPORT)

/* run - what the filter answers d, as the kernel would run it: every
 * path must end in a return, with only the instructions confine uses */
static uint32_t run(const struct sock_filter *f, int n, const struct seccomp_data *d)
{
    uint32_t a = 0;

    for (int pc = 0, steps = 0; pc >= 0 && pc < n && steps < n; steps++) {
	const struct sock_filter *i = &f[pc];

	switch (i->code) {
	case BPF_LD | BPF_W | BPF_ABS:
	    if (i->k > sizeof(*d) - 4)
		return 0xbad0;
	    memcpy(&a, (const char *) d + i->k, 4);
	    pc++;
	    break;
	case BPF_ALU | BPF_AND | BPF_K:
	    a &= i->k;
	    pc++;
	    break;
	case BPF_JMP | BPF_JEQ | BPF_K:
	    pc += 1 + (a == i->k ? i->jt : i->jf);
	    break;
	case BPF_JMP | BPF_JGE | BPF_K:
	    pc += 1 + (a >= i->k ? i->jt : i->jf);
	    break;
	case BPF_JMP | BPF_JSET | BPF_K:
	    pc += 1 + ((a & i->k) ? i->jt : i->jf);
	    break;
	case BPF_RET | BPF_K:
	    return i->k;
	default:
	    return 0xbad1;
	}
    }
    return 0xbad2;				/* ran off the end */
}

/* call - the filter's answer to system call nr with these arguments */
static uint32_t call(const struct sock_filter *f, int n, long nr, uint64_t a0, uint64_t a1,
		             uint64_t a2, uint64_t a3)
{
    struct seccomp_data d;

    memset(&d, 0, sizeof(d));
    d.arch = TEST_ARCH;
    d.nr = (int) nr;
    d.args[0] = a0, d.args[1] = a1, d.args[2] = a2, d.args[3] = a3;
    return run(f, n, &d);
}

/* filter_contract - the filter itself, run on the calls it is about: the
 * refusals, the tests of arguments, every number answered by a return,
 * and compact (the kernel compiles it for every new helper) */
static void filter_contract(void)
{
    static const long refused[] = {SYS_execve, SYS_execveat, SYS_mount, SYS_unshare,
	SYS_setns, SYS_bpf, SYS_io_uring_setup, SYS_io_uring_enter, SYS_kexec_load,
	SYS_init_module, SYS_finit_module, SYS_reboot, SYS_keyctl, SYS_fsopen,
	SYS_open_tree, SYS_mknodat, SYS_pidfd_getfd, SYS_userfaultfd, SYS_perf_event_open,
    SYS_settimeofday, SYS_swapon};
    static const long allowed[] = {SYS_read, SYS_write, SYS_close, SYS_ppoll, SYS_futex,
	SYS_exit_group, SYS_fdatasync, SYS_flock, SYS_pread64, SYS_sendto, SYS_recvfrom,
    SYS_fcntl, SYS_memfd_create, SYS_dup3, SYS_munmap, SYS_brk, SYS_getpid};
    struct confine cs[5] = {{.inet = 0}, {.inet = 1}, {.inet = 1,.dgram = 1},
    {.unix_socket = 1}, {.netlink_diag = 1}};
    struct sock_filter f[CONFINE_FILTER_MAX];
    char    why[300];

    for (int k = 0; k < 5; k++) {
	const struct confine *c = &cs[k];
	int     n = confine_filter(c, f, CONFINE_FILTER_MAX, why, sizeof(why));
	int     odd = -1;

	EXPECT(n > 0 && n <= 160, "config %d: %d instructions (%s)", k, n, why);
	if (n <= 0)
	    continue;
	for (long nr = 0; nr < 1024 && odd < 0; nr++) {
	    uint32_t r = call(f, n, nr, 0, 0, 0, 0);

	    if (r != SECCOMP_RET_ALLOW && r != EPERM_RET && r != UNSUPPORTED
		&& r != (SECCOMP_RET_ERRNO | ENOSYS))
		odd = (int) nr;
	}
	EXPECT(odd < 0, "config %d: system call %d answered %#x", k, odd,
	       call(f, n, odd, 0, 0, 0, 0));
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
	    EXPECT(call(f, n, refused[i], 0, 0, 0, 0) == EPERM_RET,
		   "config %d: system call %ld not refused", k, refused[i]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
	    EXPECT(call(f, n, allowed[i], 0, 0, 0, 0) == SECCOMP_RET_ALLOW,
		   "config %d: system call %ld not allowed", k, allowed[i]);
	EXPECT(call(f, n, SYS_clone3, 0, 0, 0, 0) == (SECCOMP_RET_ERRNO | ENOSYS)
	       && call(f, n, SYS_openat2, 0, 0, 0, 0) == (SECCOMP_RET_ERRNO | ENOSYS),
	       "config %d: clone3 and openat2 not ENOSYS (glibc falls back on that)", k);
	EXPECT(call(f, n, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, 0) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, 0) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_mmap, 0, 4096, PROT_WRITE | PROT_EXEC, 0) == EPERM_RET
	       && call(f, n, SYS_mprotect, 0, 4096, PROT_READ, 0) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_mprotect, 0, 4096, PROT_EXEC, 0) == EPERM_RET
	       && call(f, n, SYS_pkey_mprotect, 0, 4096, PROT_EXEC, 0) == EPERM_RET,
	       "config %d: W^X not as MemoryDenyWriteExecute= has it", k);
	EXPECT(call(f, n, SYS_openat, 0, 0, O_CREAT, 0640) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_openat, 0, 0, O_CREAT, 04755) == EPERM_RET
	       && call(f, n, SYS_fchmod, 3, 02755, 0, 0) == EPERM_RET
	       && call(f, n, SYS_fchmodat, 0, 0, 0644, 0) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_fchmodat, 0, 0, 04644, 0) == EPERM_RET,
	       "config %d: set-user-ID and set-group-ID modes not refused", k);
	EXPECT(call(f, n, SYS_clone, SIGCHLD, 0, 0, 0) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0) == EPERM_RET
	       && call(f, n, SYS_clone, CLONE_NEWNET, 0, 0, 0) == EPERM_RET,
	       "config %d: new namespaces not refused", k);
	EXPECT(call(f, n, SYS_personality, 0xffffffff, 0, 0, 0) == SECCOMP_RET_ALLOW
	       && call(f, n, SYS_personality, 0, 0, 0, 0) == EPERM_RET,
	       "config %d: personality changed, not only asked", k);
	EXPECT(call(f, n, SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0)
	       == (c->unix_socket ? SECCOMP_RET_ALLOW : UNSUPPORTED),
	       "config %d: AF_UNIX", k);
	EXPECT(call(f, n, SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP, 0)
	       == (c->inet ? SECCOMP_RET_ALLOW : UNSUPPORTED)
	       && call(f, n, SYS_socket, AF_INET6, SOCK_STREAM, 0, 0)
	       == (c->inet ? SECCOMP_RET_ALLOW : UNSUPPORTED),
	       "config %d: TCP", k);
	EXPECT(call(f, n, SYS_socket, AF_INET, SOCK_STREAM, 262 /* MPTCP */ , 0)
	       == (c->inet ? EPERM_RET : UNSUPPORTED)
	       && call(f, n, SYS_socket, AF_INET, SOCK_RAW, IPPROTO_TCP, 0)
	       == (c->inet ? EPERM_RET : UNSUPPORTED),
	       "config %d: MPTCP or a raw socket", k);
	EXPECT(call(f, n, SYS_socket, AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0)
	       == (c->dgram ? SECCOMP_RET_ALLOW : c->inet ? EPERM_RET : UNSUPPORTED),
	       "config %d: UDP", k);
	EXPECT(call(f, n, SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG, 0)
	       == (c->netlink_diag ? SECCOMP_RET_ALLOW : UNSUPPORTED)
	       && call(f, n, SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, 0) == UNSUPPORTED
	       && call(f, n, SYS_socket, AF_PACKET, SOCK_RAW, 0, 0) == UNSUPPORTED,
	       "config %d: netlink or packet sockets", k);
#if defined(__x86_64__)
	EXPECT(call(f, n, 0x40000000 | SYS_read, 0, 0, 0, 0) == (SECCOMP_RET_ERRNO | ENOSYS),
	       "config %d: an x32 call not refused", k);
#endif
	{
	    struct seccomp_data d;

	    memset(&d, 0, sizeof(d));
	    d.arch = TEST_ARCH ^ 1;
	    EXPECT(run(f, n, &d) == SECCOMP_RET_KILL_PROCESS,
		   "config %d: another architecture's call not killed", k);
	}
    }
}
#else
static void filter_contract(void)
{
}
#endif

int     main(int argc, char **argv)
{
    char    dir[] = "/tmp/sandbox_test.XXXXXX", path[4][300], text[700], out[16384];
    char   *outside[2];
    int     landlock = confine_landlock_abi();

    if (argc >= 3 && strcmp(argv[1], "-p") == 0) {
	int     w = argc >= 4 && strcmp(argv[3], "-w") == 0;

	return probe(argv[2], w, argv + 3 + w, argc - 3 - w, stdout);
    }
    filter_contract();
    SETUP(mkdtemp(dir) != 0, "mkdtemp: %s", strerror(errno));
    snprintf(path[0], sizeof(path[0]), "%s/db", dir);
    snprintf(path[1], sizeof(path[1]), "%s/outside", dir);
    snprintf(path[2], sizeof(path[2]), "%s/outside/secret", dir);
    snprintf(path[3], sizeof(path[3]), "%s/db/t.conf", dir);
    SETUP(mkdir(path[0], 0700) == 0 && mkdir(path[1], 0700) == 0, "mkdir: %s", strerror(errno));
    write_file(path[2], "secret\n");
    outside[0] = path[1];
    outside[1] = path[2];

    /* a GDBM file: tarpit-check, then tarpit-store */
    snprintf(text, sizeof(text), "database = %s/t.db\n", path[0]);
    write_file(path[3], text);
    run_probe(path[3], 1, outside, 2, out, sizeof(out));
    SAYS(out, "database", "allowed");
    SAYS(out, "write in the database's directory", "allowed");
    SAYS(out, "set-user-ID mode", "refused");
    SAYS(out, "writable and executable memory", "refused");
    SAYS(out, "make a written page executable", "refused");
    SAYS(out, "run /bin/true", "refused");
    SAYS(out, "run a memfd", "refused");
    SAYS(out, "unshare a user namespace", "refused");
    SAYS(out, "clone into a network namespace", "refused");
    SAYS(out, "socket unix", "refused");
    SAYS(out, "socket inet", "refused");
    SAYS(out, "socket inet6 udp", "refused");
    SAYS(out, "socket packet", "refused");
    SAYS(out, "socket netlink route", "refused");
    SAYS(out, "socket netlink sock_diag", "allowed");
    EXPECT(strstr(out, "\nno_new_privs: 1\n") != 0, "no_new_privs not set:\n%s", out);
    run_probe(path[3], 0, outside, 0, out, sizeof(out));
    SAYS(out, "socket netlink sock_diag", "refused");
    SAYS(out, "socket unix", "refused");

    /* a server on a UNIX socket: AF_UNIX sockets, and still no IP */
    snprintf(text, sizeof(text), "database = redis+unix://%s/r.sock\nstate_directory = %s\n",
	     path[0], path[0]);
    write_file(path[3], text);
    run_probe(path[3], 0, outside, 0, out, sizeof(out));
    SAYS(out, "socket unix", "allowed");
    SAYS(out, "socket inet", "refused");
    snprintf(text, sizeof(text), "database = %s/t.db\n", path[0]);
    write_file(path[3], text);
    if (landlock == 0) {
	printf("SKIPPED: this kernel has no Landlock: the file and TCP walls "
	       "are not tested (the seccomp filter was)\n");
	unit_done("sandbox");
	return unit_failed ? 1 : 77;
    }
    run_probe(path[3], 1, outside, 2, out, sizeof(out));
    EXPECT(strstr(out, "sandbox: full") != 0, "not fully shut in:\n%s", out);
    EXPECT(strstr(out, "descriptors left open: 0\n") != 0, "the walls left descriptors open:\n%s", out);
    SAYS(out, "read the config", "allowed");
    SAYS(out, "copy a program into the database's directory", "allowed");
    SAYS(out, "run what it wrote", "refused");
    snprintf(text, sizeof(text), "list %s", path[1]);
    SAYS(out, text, "refused");
    snprintf(text, sizeof(text), "write in %s", path[1]);
    SAYS(out, text, "refused");
    snprintf(text, sizeof(text), "read %s", path[2]);
    SAYS(out, text, "refused");
    snprintf(text, sizeof(text), "write %s", path[2]);
    SAYS(out, text, "refused");
    if (landlock >= 6)
	SAYS(out, "signal the parent", "refused");

    /* a server over TCP: its port, and no other */
    snprintf(text, sizeof(text), "database = redis://127.0.0.1:1\nstate_directory = %s\n",
	     path[0]);
    write_file(path[3], text);
    run_probe(path[3], 0, outside, 0, out, sizeof(out));
    SAYS(out, "socket inet", "allowed");
    SAYS(out, "connect to TCP port 1", "allowed");
    SAYS(out, "connect to TCP port 2", "refused");
    SAYS(out, "socket packet", "refused");
    SAYS(out, "socket inet udp", "refused");		/* by address: no resolver */
    SAYS(out, "socket mptcp", "refused");
    SAYS(out, "socket unix", "refused");
    snprintf(text, sizeof(text), "database = redis://localhost:1\nstate_directory = %s\n",
	     path[0]);
    write_file(path[3], text);
    run_probe(path[3], 0, outside, 0, out, sizeof(out));
    SAYS(out, "socket inet udp", "allowed");		/* by name: the resolver's */
    SAYS(out, "socket mptcp", "refused");

    /* a password file: that file to read, not its directory's others */
    snprintf(text, sizeof(text), "%s/password", path[1]);
    write_file(text, "sesame\n");
    SETUP(chmod(text, 0600) == 0, "chmod: %s", strerror(errno));
    {
	char    conf[2400], *files[2] = {text, path[2]};

	snprintf(conf, sizeof(conf), "database = redis://127.0.0.1:1\nstate_directory = %s\n"
		 "database_password_file = %s\n", path[0], text);
	write_file(path[3], conf);
	run_probe(path[3], 0, files, 2, out, sizeof(out));
	EXPECT(strstr(out, "sandbox: full") != 0, "not fully shut in:\n%s", out);
	snprintf(conf, sizeof(conf), "read %s", text);
	SAYS(out, conf, "allowed");
	snprintf(conf, sizeof(conf), "write %s", text);
	SAYS(out, conf, "refused");
	snprintf(conf, sizeof(conf), "read %s", path[2]);
	SAYS(out, conf, "refused");
    }
    unlink(text);

    unlink(path[2]);
    empty(path[0]);
    SETUP(rmdir(path[1]) == 0 && rmdir(path[0]) == 0 && rmdir(dir) == 0,
	  "rmdir: %s", strerror(errno));
    return unit_done("sandbox");
}

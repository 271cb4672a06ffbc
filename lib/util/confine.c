/*
 * NAME
 *	confine - a process shuts itself in
 * DESCRIPTION
 *	confine() sets no_new_privs, then asks Landlock to allow no file
 *	access beyond the trees it is given (read, or read and write; never
 *	running what it may write), no TCP bind and no TCP connect but to
 *	one port, no abstract UNIX socket and no signal outside the
 *	process, and last loads a seccomp filter that refuses the system
 *	calls a policy helper has no use for: new namespaces and mounts,
 *	tracing other processes, kernel keys, modules, BPF, io_uring (whose
 *	operations no filter sees), clocks, set-user-ID modes, writable and
 *	executable memory, sockets of families it does not need, and every
 *	other architecture's system calls.
 *
 *	Each part is what a systemd unit option would give (ProtectSystem,
 *	ProtectHome, PrivateTmp, IPAddressDeny, RestrictAddressFamilies,
 *	RestrictNamespaces, MemoryDenyWriteExecute, RestrictSUIDSGID,
 *	SystemCallArchitectures, SystemCallFilter): the same walls, built
 *	by the process in 0.14-0.2 ms (bench/walls) instead of by systemd
 *	in a mount namespace for every new process.
 *
 *	A kernel without Landlock, or an older Landlock, gets what it can
 *	give and confine() says what is missing; the seccomp filter needs
 *	nothing but a kernel that has seccomp.
 * SEE ALSO
 *	landlock(7), seccomp(2), share/doc/SECURITY.md
 */
#define _GNU_SOURCE
#include "util/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Landlock's interface, from the kernel's uapi (older headers lack the
 * later ABIs' parts): the system call numbers are the same everywhere. */
#define LL_CREATE_RULESET 444
#define LL_ADD_RULE 445
#define LL_RESTRICT_SELF 446
#define LL_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

#define FS_EXECUTE	(1ULL << 0)
#define FS_WRITE_FILE	(1ULL << 1)
#define FS_READ_FILE	(1ULL << 2)
#define FS_READ_DIR	(1ULL << 3)
#define FS_REMOVE_DIR	(1ULL << 4)
#define FS_REMOVE_FILE	(1ULL << 5)
#define FS_MAKE_DIR	(1ULL << 7)
#define FS_MAKE_REG	(1ULL << 8)
#define FS_REFER	(1ULL << 13)	/* ABI 2 */
#define FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define FS_ABI1		((1ULL << 13) - 1)
#define NET_BIND_TCP	(1ULL << 0)	/* ABI 4 */
#define NET_CONNECT_TCP	(1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0)	/* ABI 6 */
#define SCOPE_SIGNAL	(1ULL << 1)

struct ll_ruleset {
    uint64_t fs;
    uint64_t net;
    uint64_t scoped;
};

struct ll_path_beneath {
    uint64_t allowed;
    int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port {
    uint64_t allowed;
    uint64_t port;
};

#define READ_ACCESS (FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)
#define WRITE_ACCESS (FS_READ_FILE | FS_READ_DIR | FS_WRITE_FILE | FS_REMOVE_DIR \
		      | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | FS_REFER \
		      | FS_TRUNCATE)
#define FILE_ACCESS (FS_EXECUTE | FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE)

/* Under AddressSanitizer the leak check at exit stops the process's
 * threads with ptrace from a helper task: the sanitizer build keeps it. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

int     confine_landlock_abi(void)
{
    long    abi = syscall(LL_CREATE_RULESET, (void *) 0, (size_t) 0, LL_VERSION);

    return abi < 0 ? 0 : (int) abi;
}

int     confine_add(const char **list, const char *p)
{
    int     i;

    if (p == 0 || *p == 0)
	return 0;
    for (i = 0; i < CONFINE_PATHS && list[i]; i++)
	if (strcmp(list[i], p) == 0)
	    return 0;
    if (i == CONFINE_PATHS)
	return -1;
    list[i] = p;
    return 0;
}

/* Descriptors held while a ruleset is built: the ruleset's and one for
 * each path, closed together at the end. */
struct held {
    int     fd[2 * CONFINE_PATHS + 1];
    int     n;
};

/* release - close every descriptor held.  They were opened one after
 * another and the kernel hands out the lowest free numbers, so they are
 * nearly always one ascending run: each run is closed with one
 * close_range(), where a close() each was a system call each; a number
 * in between that is not ours only splits the run. */
static void release(struct held *h)
{
    int     e = errno;

    for (int i = 0, j; i < h->n; i = j) {
	for (j = i + 1; j < h->n && h->fd[j] == h->fd[j - 1] + 1; j++)
	    continue;
#ifdef SYS_close_range
	if (j - i > 1 && syscall(SYS_close_range, h->fd[i], h->fd[j - 1], 0) == 0)
	    continue;
#endif
	for (int k = i; k < j; k++)
	    close(h->fd[k]);
    }
    h->n = 0;
    errno = e;
}

/* add_paths - a rule per path of list; 0, or -1 with errno.  A path is
 * taken for a directory; Landlock refuses a directory's rights on a file
 * (EINVAL), which then gets a file's: one system call fewer for each
 * path than asking which it is, and the paths are nearly all trees.
 * Each path's descriptor is held, for release() */
static int add_paths(int ruleset, const char *const *list, uint64_t access,
		             uint64_t handled, const char **failed, struct held *h)
{
    for (int i = 0; i < CONFINE_PATHS && list[i]; i++) {
	struct ll_path_beneath pb;
	int     fd = open(list[i], O_PATH | O_CLOEXEC), rc;

	if (fd < 0 && errno == ENOENT)
	    continue;
	*failed = list[i];
	if (fd < 0)
	    return -1;
	h->fd[h->n++] = fd;
	pb.allowed = access & handled;
	pb.parent_fd = fd;
	rc = (int) syscall(LL_ADD_RULE, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	if (rc < 0 && errno == EINVAL && (pb.allowed & ~FILE_ACCESS)) {
	    pb.allowed &= FILE_ACCESS;
	    rc = (int) syscall(LL_ADD_RULE, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	}
	if (rc < 0)
	    return -1;
    }
    return 0;
}

/* landlock - the file and network walls; 0, 1 when only some of them
 * (why), -1 with why */
static int landlock(const struct confine *c, char *why, size_t len)
{
    int     abi = confine_landlock_abi(), ruleset, partial = 0;
    struct ll_ruleset attr = {.fs = FS_ABI1};
    size_t  size = sizeof(attr.fs);
    const char *failed = "";
    struct held held = {.n = 0};

    if (abi == 0) {
	snprintf(why, len, "this kernel has no Landlock (see lsm= in "
		 "/sys/kernel/security/lsm): files and TCP ports are not walled off");
	return 1;
    }
    if (abi >= 2)
	attr.fs |= FS_REFER;
    if (abi >= 3)
	attr.fs |= FS_TRUNCATE;
    if (abi >= 4) {
	attr.net = NET_BIND_TCP | NET_CONNECT_TCP;
	size = offsetof(struct ll_ruleset, scoped);
    } else if (c->inet) {
	snprintf(why, len, "Landlock ABI %d: TCP ports are not walled off", abi);
	partial = 1;
    }
    if (abi >= 6) {
	attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL;
	size = sizeof(attr);
    }
    if ((ruleset = (int) syscall(LL_CREATE_RULESET, &attr, size, 0)) < 0) {
	snprintf(why, len, "Landlock: cannot make a ruleset: %s", strerror(errno));
	return -1;
    }
    held.fd[held.n++] = ruleset;
    if (add_paths(ruleset, c->read, READ_ACCESS, attr.fs, &failed, &held) < 0
	|| add_paths(ruleset, c->write, WRITE_ACCESS, attr.fs, &failed, &held) < 0) {
	snprintf(why, len, "Landlock: %s: %s", failed, strerror(errno));
	release(&held);
	return -1;
    }
    if (abi >= 4 && c->tcp_port > 0) {
	struct ll_net_port np = {.allowed = NET_CONNECT_TCP,.port = (uint64_t) c->tcp_port};

	if (syscall(LL_ADD_RULE, ruleset, LL_RULE_NET_PORT, &np, 0) < 0) {
	    snprintf(why, len, "Landlock: TCP port %d: %s", c->tcp_port, strerror(errno));
	    release(&held);
	    return -1;
	}
    }
    if (syscall(LL_RESTRICT_SELF, ruleset, 0) < 0) {
	snprintf(why, len, "Landlock: cannot restrict: %s", strerror(errno));
	release(&held);
	return -1;
    }
    release(&held);
    return partial;
}

/*
 * The filter: after the architecture, a binary search on the system call
 * number over the runs of numbers whose calls are answered alike, one
 * JGE a boundary, each run jumping to its answer: allowed, refused with
 * an errno, or a test of the arguments, each written once for all the
 * calls that take it.  The kernel runs the filter for every system call,
 * and when it is loaded, once for every number, to learn which calls it
 * always allows; it compiles it for each process and frees it when the
 * process ends, at a cost that grows with its length: a tree with a leaf
 * and a test per call was 232 instructions, this one is about half as
 * long and costs a new helper some 40 us less (bench/results.md, "What
 * the walls cost a new helper and a request").
 */
#define MAX_INSNS CONFINE_FILTER_MAX
#define MAX_RULES 96

/* A filter being built: into insn (cap of them), or with insn 0 only
 * counted (place(): a block's length) */
struct prog {
    struct sock_filter *insn;
    int     n, cap;
    int     overflow;
};

enum test { ALLOW, REFUSE, ANY_BIT, ALL_BITS, ONLY_VALUE, SOCKET };

struct rule {
    uint32_t nr;			/* the system call */
    enum test test;
    int     err;			/* REFUSE: its errno */
    int     arg;			/* the argument looked at */
    uint32_t bits;			/* ANY_BIT, ALL_BITS: refused bits; */
					/* ONLY_VALUE: the value allowed */
};

#define ERRNO(e) (SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))	/* little-endian */

static void emit(struct prog *p, struct sock_filter f)
{
    if (p->insn == 0)
	p->n++;
    else if (p->n < p->cap)
	p->insn[p->n++] = f;
    else
	p->overflow = 1;
}

static void load(struct prog *p, uint32_t offset)
{
    emit(p, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset));
}

static void ret(struct prog *p, uint32_t v)
{
    emit(p, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, v));
}

static void jump(struct prog *p, uint16_t op, uint32_t k, int jt, int jf)
{
    if (jt > 255 || jf > 255)
	p->overflow = 1;
    emit(p, (struct sock_filter) BPF_JUMP(BPF_JMP | op | BPF_K, k, (uint8_t) jt, (uint8_t) jf));
}

/* one_of - the value loaded is one of v[0..n-1], or refuse is returned */
static void one_of(struct prog *p, const uint32_t *v, int n, uint32_t refuse)
{
    for (int i = 0; i < n; i++)
	jump(p, BPF_JEQ, v[i], n - i, 0);
    ret(p, refuse);
}

/* socket_test - socket(2) as c allows it; ends in a return.  AF_UNIX
 * only for a server on a UNIX socket (a helper's own sockets come from
 * systemd; none of its own may reach another program's socket); IPv4
 * and IPv6 only for a server over TCP, of TCP (no MPTCP, no raw), and
 * datagrams only for the resolver, when the server is named by host
 * name; netlink only NETLINK_SOCK_DIAG, for tarpit-check's watch. */
static void socket_test(struct prog *p, const struct confine *c)
{
    uint32_t proto[3] = {0, IPPROTO_TCP, IPPROTO_UDP}, type[2] = {SOCK_STREAM, SOCK_DGRAM};
    uint32_t diag = NETLINK_SOCK_DIAG, fam[4], at[4];
    int     np = c->dgram ? 3 : 2, nt = c->dgram ? 2 : 1, k = 0;
    int     unix_len = 1, inet_len = 1 + np + 1 + 2 + nt + 1 + 1;

    /* After the family tests: a refusal, then a block for each family
     * (AF_UNIX's, IP's, netlink's), each ending in returns. */
    fam[k] = AF_UNIX, at[k++] = 1;
    if (c->inet) {
	fam[k] = AF_INET, at[k++] = 1 + (uint32_t) unix_len;
	fam[k] = AF_INET6, at[k++] = 1 + (uint32_t) unix_len;
    }
    if (c->netlink_diag)
	fam[k] = AF_NETLINK, at[k++] = 1 + (uint32_t) (unix_len + inet_len);
    load(p, ARG_LO(0));
    for (int j = 0; j < k; j++)
	jump(p, BPF_JEQ, fam[j], (int) at[j] + (k - j - 1), 0);
    ret(p, ERRNO(EAFNOSUPPORT));
    ret(p, c->unix_socket ? SECCOMP_RET_ALLOW : ERRNO(EAFNOSUPPORT));
    load(p, ARG_LO(2));
    one_of(p, proto, np, ERRNO(EPERM));
    load(p, ARG_LO(1));
    emit(p, (struct sock_filter) BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf));
    one_of(p, type, nt, ERRNO(EPERM));
    ret(p, SECCOMP_RET_ALLOW);
    load(p, ARG_LO(2));
    one_of(p, &diag, 1, ERRNO(EAFNOSUPPORT));
    ret(p, SECCOMP_RET_ALLOW);
}

/* What calls are answered with: a test, a refusal or ALLOW; a rule's
 * test, arguments and errno, without its number. */
struct block {
    enum test test;
    int     err, arg;
    uint32_t bits;
    int     at;				/* where it starts in the filter */
};

#define MAX_BLOCKS 24

/* A run of numbers, from lo to the next run's lo less one, and the block
 * their calls go to */
struct span {
    uint32_t lo;
    int     block;
};

/* target - a jump from the instruction about to be emitted to at */
static int target(const struct prog *p, int at)
{
    return at - (p->n + 1);
}

/* block_code - a block's instructions, its refusals and allowances
 * jumping to the shared returns (refuse: EPERM's, allow: ALLOW's) */
static void block_code(struct prog *p, const struct block *b, const struct confine *c,
		               int refuse, int allow)
{
    switch (b->test) {
    case ALLOW:
	ret(p, SECCOMP_RET_ALLOW);
	return;
    case REFUSE:
	ret(p, ERRNO(b->err));
	return;
    case ANY_BIT:
	load(p, ARG_LO(b->arg));
	jump(p, BPF_JSET, b->bits, target(p, refuse), target(p, allow));
	return;
    case ALL_BITS:
	load(p, ARG_LO(b->arg));
	emit(p, (struct sock_filter) BPF_STMT(BPF_ALU | BPF_AND | BPF_K, b->bits));
	jump(p, BPF_JEQ, b->bits, target(p, refuse), target(p, allow));
	return;
    case ONLY_VALUE:
	load(p, ARG_LO(b->arg));
	jump(p, BPF_JEQ, b->bits, target(p, allow), target(p, refuse));
	return;
    case SOCKET:
	socket_test(p, c);
	return;
    }
}

#define CLONE_NEW_ANY (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC \
		       | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | 0x80 /* NEWTIME */)
#define SUID_BITS (S_ISUID | S_ISGID)
#define WX (PROT_WRITE | PROT_EXEC)

/* The system calls no policy helper makes, each failing with EPERM. */
static const long refused[] = {
#if !defined(UNDER_SANITIZER)
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev,
#endif
    SYS_unshare, SYS_setns, SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
    SYS_bpf, SYS_perf_event_open, SYS_userfaultfd, SYS_keyctl, SYS_add_key,
    SYS_request_key, SYS_init_module, SYS_finit_module, SYS_delete_module,
    SYS_kexec_load, SYS_reboot, SYS_swapon, SYS_swapoff, SYS_acct,
    SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex,
    SYS_sethostname, SYS_setdomainname, SYS_syslog, SYS_quotactl, SYS_vhangup,
    SYS_sched_setscheduler, SYS_sched_setattr, SYS_io_uring_setup,
    SYS_io_uring_enter, SYS_io_uring_register, SYS_kcmp, SYS_mknodat,
    SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_fsopen, SYS_fsmount,
    SYS_fsconfig, SYS_fspick, SYS_move_mount, SYS_open_tree, SYS_pidfd_getfd,
    /* no program run: not /bin/sh, not a memfd (fexecve) */
    SYS_execve, SYS_execveat,
#ifdef SYS_mount_setattr
    SYS_mount_setattr,
#endif
#ifdef SYS_kexec_file_load
    SYS_kexec_file_load,
#endif
#ifdef SYS_quotactl_fd
    SYS_quotactl_fd,
#endif
#ifdef SYS_mknod
    SYS_mknod,
#endif
#ifdef SYS_iopl
    SYS_iopl, SYS_ioperm, SYS_uselib,
#endif
};

/* The calls looked at more closely. */
static const struct rule tested[] = {
    /* clone3() hides its flags from filters: glibc then uses clone() */
    {SYS_clone3, REFUSE, ENOSYS, 0, 0},
    {SYS_openat2, REFUSE, ENOSYS, 0, 0},
    {SYS_clone, ANY_BIT, 0, 0, CLONE_NEW_ANY},
    /* W^X as MemoryDenyWriteExecute= has it: no mapping both writable and
     * executable, no mapping made executable later, no executable shm */
    {SYS_mmap, ALL_BITS, 0, 2, WX},
    {SYS_mprotect, ANY_BIT, 0, 2, PROT_EXEC},
    {SYS_pkey_mprotect, ANY_BIT, 0, 2, PROT_EXEC},
#ifdef SYS_shmat
    {SYS_shmat, ANY_BIT, 0, 2, SHM_EXEC},
#endif
    {SYS_fchmod, ANY_BIT, 0, 1, SUID_BITS},
    {SYS_fchmodat, ANY_BIT, 0, 2, SUID_BITS},
    {SYS_openat, ANY_BIT, 0, 3, SUID_BITS},
#ifdef SYS_chmod
    {SYS_chmod, ANY_BIT, 0, 1, SUID_BITS},
    {SYS_open, ANY_BIT, 0, 2, SUID_BITS},
    {SYS_creat, ANY_BIT, 0, 1, SUID_BITS},
#endif
#ifdef SYS_fchmodat2
    {SYS_fchmodat2, ANY_BIT, 0, 2, SUID_BITS},
#endif
    /* personality: only asked, never changed */
    {SYS_personality, ONLY_VALUE, 0, 0, 0xffffffff},
    {SYS_socket, SOCKET, 0, 0, 0},
};

/* sort_rules - by number, in place: a few dozen rules, once; qsort()
 * would ask the kernel for the machine's memory and allocate */
static void sort_rules(struct rule *r, size_t n)
{
    for (size_t i = 1; i < n; i++) {
	struct rule x = r[i];
	size_t  j = i;

	for (; j > 0 && r[j - 1].nr > x.nr; j--)
	    r[j] = r[j - 1];
	r[j] = x;
    }
}

/* block_of - the block that answers so (added if new); -1 when full */
static int block_of(struct block *b, int *n, enum test test, int err, int arg, uint32_t bits)
{
    for (int i = 0; i < *n; i++)
	if (b[i].test == test && b[i].err == err && b[i].arg == arg && b[i].bits == bits)
	    return i;
    if (*n == MAX_BLOCKS)
	return -1;
    b[*n] = (struct block) {test, err, arg, bits, 0};
    return (*n)++;
}

/* returns_only - is the block a bare return?  Those come last, after the
 * tests that jump forward to them */
static int returns_only(const struct block *b)
{
    return b->test == ALLOW || b->test == REFUSE;
}

/* place - where each block starts, from start, in the order emitted */
static void place(struct block *b, int n, int start, const struct confine *c)
{
    int     at = start;

    for (int pass = 0; pass < 2; pass++)
	for (int i = 0; i < n; i++) {
	    struct prog count = {0, 0, 0, 0};

	    if (returns_only(&b[i]) != pass)
		continue;
	    b[i].at = at;
	    block_code(&count, &b[i], c, 0, 0);
	    at += count.n;
	}
}

/* header - another architecture's calls (i386 on x86_64, say) killed,
 * the number loaded, x32's refused (to enosys) */
static void header(struct prog *p, int enosys)
{
    load(p, offsetof(struct seccomp_data, arch));
    jump(p, BPF_JEQ, NATIVE_ARCH, 1, 0);
    ret(p, SECCOMP_RET_KILL_PROCESS);
    load(p, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    jump(p, BPF_JGE, 0x40000000, target(p, enosys), 0);
#else
    (void) enosys;
#endif
}

/* search - the JGEs over spans i..j-1: n-1 instructions for n spans,
 * each jumping to the next JGE or, for a single span, to its block */
static void search(struct prog *p, const struct span *sp, int i, int j,
		           const struct block *b)
{
    int     mid = (i + j) / 2, here = p->n, left, right;

    if (j - i < 2)
	return;
    left = mid - i == 1 ? b[sp[i].block].at : here + 1;
    right = j - mid == 1 ? b[sp[mid].block].at : here + 1 + (mid - i - 1);
    jump(p, BPF_JGE, sp[mid].lo, target(p, right), target(p, left));
    search(p, sp, i, mid, b);
    search(p, sp, mid, j, b);
}

/* confine_filter - the filter for c, into insn: its length, or -1 */
int     confine_filter(const struct confine *c, struct sock_filter *insn, int cap,
		               char *why, size_t len)
{
#ifdef NATIVE_ARCH
    struct rule rules[MAX_RULES];
    struct block b[MAX_BLOCKS] = {{0, 0, 0, 0, 0}};
    struct span sp[2 * MAX_RULES + 1];
    struct prog p = {insn, 0, cap, 0};
    size_t  n = 0;
    struct prog head = {0, 0, 0, 0};	/* the header, counted */
    int     nb = 0, ns = 0, refuse, allow, enosys;
    uint32_t next = 0;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]) && n < MAX_RULES; i++)
	rules[n++] = (struct rule) {(uint32_t) refused[i], REFUSE, EPERM, 0, 0};
    for (size_t i = 0; i < sizeof(tested) / sizeof(tested[0]) && n < MAX_RULES; i++)
	rules[n++] = tested[i];
    sort_rules(rules, n);
    allow = block_of(b, &nb, ALLOW, 0, 0, 0);
    refuse = block_of(b, &nb, REFUSE, EPERM, 0, 0);
    enosys = block_of(b, &nb, REFUSE, ENOSYS, 0, 0);
    /* The runs: from 0 allowed; each rule's number its block's, a gap
     * between rules allowed; past the last rule allowed. */
    sp[ns++] = (struct span) {0, allow};
    for (size_t i = 0; i < n; i++) {
	int     k = block_of(b, &nb, rules[i].test, rules[i].err, rules[i].arg, rules[i].bits);

	if (k < 0) {
	    snprintf(why, len, "seccomp: more kinds of rule than the filter holds");
	    return -1;
	}
	if (rules[i].nr > next && sp[ns - 1].block != allow)
	    sp[ns++] = (struct span) {next, allow};
	if (sp[ns - 1].block != k)
	    sp[ns++] = (struct span) {rules[i].nr, k};
	next = rules[i].nr + 1;
    }
    if (sp[ns - 1].block != allow)
	sp[ns++] = (struct span) {next, allow};
    header(&head, 0);
    place(b, nb, head.n + ns - 1, c);
    header(&p, b[enosys].at);
    search(&p, sp, 0, ns, b);
    for (int pass = 0; pass < 2; pass++)
	for (int i = 0; i < nb; i++)
	    if (returns_only(&b[i]) == pass) {
		if (p.n != b[i].at)
		    p.overflow = 1;
		block_code(&p, &b[i], c, b[refuse].at, b[allow].at);
	    }
    if (p.overflow) {
	snprintf(why, len, "seccomp: the filter does not fit (%d instructions)", p.n);
	return -1;
    }
    return p.n;
#else
    (void) c, (void) insn, (void) cap;
    snprintf(why, len, "seccomp: no filter for this architecture");
    return -1;
#endif
}

/* filter - the seccomp filter loaded; 0, or -1 with why.  Built on the
 * stack, whose pages below the helper's own frame are given back before
 * any wait (mem_release()): a sleeping helper keeps none of it, and
 * making it costs no system call */
__attribute__((noinline))
static int filter(const struct confine *c, char *why, size_t len)
{
    struct sock_filter insn[MAX_INSNS];
    struct sock_fprog fp;
    int     n = confine_filter(c, insn, MAX_INSNS, why, len);

    if (n < 0)
	return -1;
    fp.len = (unsigned short) n;
    fp.filter = insn;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0) {
	snprintf(why, len, "seccomp: cannot load the filter: %s", strerror(errno));
	return -1;
    }
    return 0;
}

enum confine_result confine(const struct confine *c, char *why, size_t len)
{
    char    lwhy[300] = "";
    int     l;

    *why = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
	snprintf(why, len, "no_new_privs: %s", strerror(errno));
	return CONFINE_FAILED;
    }
    l = landlock(c, lwhy, sizeof(lwhy));
    if (filter(c, why, len) < 0) {
	if (l != 0)
	    snprintf(why + strlen(why), len - strlen(why), "; %s", lwhy);
	return l < 0 ? CONFINE_FAILED : CONFINE_PARTIAL;
    }
    if (l != 0) {
	snprintf(why, len, "%s", lwhy);
	return CONFINE_PARTIAL;
    }
    return CONFINE_FULL;
}

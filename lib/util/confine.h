#ifndef TARPIT_CONFINE_H
#define TARPIT_CONFINE_H

/*
 * confine - a process shuts itself in: what it may read, write and reach
 * from now on, for good (Landlock), and which system calls it may make
 * (a seccomp filter), with no way back to privileges (no_new_privs).
 * It costs 0.14-0.2 ms, most of it the kernel's load of the filter
 * (bench/walls), where a unit's mount namespace costs a new process
 * tens of milliseconds.
 */

#include <stddef.h>

#define CONFINE_PATHS 16

struct confine {
    const char *read[CONFINE_PATHS];	/* files and trees to read (and run) */
    const char *write[CONFINE_PATHS];	/* trees to read and write */
    int     tcp_port;			/* the one TCP port to connect to, or 0 */
    int     inet;			/* may open IPv4/IPv6 TCP sockets */
    int     dgram;			/* ... and UDP ones (the resolver's) */
    int     unix_socket;		/* may open AF_UNIX sockets */
    int     netlink_diag;		/* may open NETLINK_SOCK_DIAG sockets */
};

/* What confine() could do: each part is had, or said in why. */
enum confine_result {
    CONFINE_FULL = 0,			/* all of it */
    CONFINE_PARTIAL = 1,		/* the filter, not all of Landlock's */
    CONFINE_FAILED = -1,		/* nothing (why says) */
};

/* confine_add - p to the list (read or write), once; a path that does
 * not exist when confine() runs is left out then.  0, or -1 when the
 * list is full */
int     confine_add(const char **list, const char *p);

/* confine - shut this process in as c says; why (len bytes) tells what
 * is missing unless CONFINE_FULL */
enum confine_result confine(const struct confine *c, char *why, size_t len);

/* confine_filter - the seccomp filter confine() loads for c, into insn
 * (room for cap instructions): how many, or -1 with why.  For tests,
 * which run it on system calls of their choosing. */
struct sock_filter;
int     confine_filter(const struct confine *c, struct sock_filter *insn, int cap,
		               char *why, size_t len);

#define CONFINE_FILTER_MAX 512		/* the room a filter may need */

/* confine_landlock_abi - the kernel's Landlock ABI version, 0 without */
int     confine_landlock_abi(void);

#endif

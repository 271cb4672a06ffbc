/*
 * NAME
 *	regdomain - the registrable domain of a client's verified name
 * DESCRIPTION
 *	regdomain_of() names the domain that a client's verified name
 *	belongs to, by the Public Suffix List built into libpsl (no file, no
 *	DNS): mail-db5eur02on2101.outbound.protection.outlook.com belongs to
 *	outlook.com, mx.example.co.uk to example.co.uk.  The name must be
 *	Postfix's client_name, which is "unknown" unless the reverse name's
 *	forward lookup gave the client's address back: a name anyone can set
 *	in their reverse zone (reverse_client_name) names no domain here.
 *
 *	No domain either for a name that is itself a public suffix (each of
 *	ec2's *.compute-1.amazonaws.com hosts is one), nor for a name that
 *	carries its own address (regdomain_carries_address): a residential
 *	or dynamic pool (c-73-1-2-3.hsd1.example.net,
 *	p5dd3c1a2.dip0.example.de), whose hosts have nothing to do with each
 *	other.
 *
 *	libpsl is opened with dlopen() in a child process made for the call,
 *	which writes the domain on a pipe and exits: a helper that never
 *	needs it (a known network) maps none of it and its two libraries, and
 *	one that then waits keeps none of what loading them left behind (the
 *	dynamic linker keeps some 12 KiB of heap after a dlclose()).
 *
 *	regdomain_carries_address() says whether a name holds three or more
 *	of an IPv4 address's octets, one after another in order or reversed
 *	(numbers separated by anything else), or its 32 bits in hex; or
 *	three 16-bit groups of an IPv6 address in order, or its last 64 bits
 *	in hex.
 * DIAGNOSTICS
 *	regdomain_of() returns 1 with the domain, 0 when the name names
 *	none, and -1 when libpsl cannot be loaded; why says which.
 */
#define _GNU_SOURCE
#include "util/regdomain.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PSL_LIB "libpsl.so.5"
#define MAX_TOKENS 64

/* tokens - the numbers of a name, each a maximal run of digits (base
 * 10) or hex digits (base 16): -1 for one too long to be an octet or a
 * group; how many */
static int tokens(const char *name, int base, long *tok, int max)
{
    int     n = 0;

    for (const char *p = name; *p && n < max;) {
	const char *start = p;
	long    v = 0;

	while (base == 10 ? isdigit((unsigned char) *p) : isxdigit((unsigned char) *p)) {
	    if (v >= 0 && p - start < 5) {
		int     c = tolower((unsigned char) *p);

		v = v * base + (isdigit(c) ? c - '0' : c - 'a' + 10);
	    } else {
		v = -1;
	    }
	    p++;
	}
	if (p == start) {
	    p++;
	    continue;
	}
	tok[n++] = base == 10 && v > 255 ? -1 : v;
    }
    return n;
}

/* runs_of - do three tokens in a row equal three of the parts in a row,
 * in order (or reversed, when reversed) */
static int runs_of(const long *tok, int ntok, const long *part, int nparts, int reversed)
{
    for (int i = 0; i + 3 <= ntok; i++)
	for (int k = 0; k + 3 <= nparts; k++) {
	    int     j;

	    for (j = 0; j < 3; j++)
		if (tok[i + j] != part[reversed ? k + 2 - j : k + j])
		    break;
	    if (j == 3)
		return 1;
	}
    return 0;
}

/* has_hex - does the lower-case name hold these bytes in hex? */
static int has_hex(const char *lname, const unsigned char *b, size_t n)
{
    char    hex[33];

    for (size_t i = 0; i < n; i++)
	snprintf(hex + 2 * i, 3, "%02x", b[i]);
    return strstr(lname, hex) != 0;
}

/* regdomain_carries_address - does the name hold the address? */
int     regdomain_carries_address(const char *name, const struct tp_addr *a)
{
    char    lname[REGDOMAIN_MAX];
    long    tok[MAX_TOKENS], part[8];
    int     ntok;
    size_t  i;

    for (i = 0; name[i] && i + 1 < sizeof(lname); i++)
	lname[i] = (char) tolower((unsigned char) name[i]);
    lname[i] = 0;
    if (a->family == AF_INET) {
	for (i = 0; i < 4; i++)
	    part[i] = a->bytes[i];
	ntok = tokens(lname, 10, tok, MAX_TOKENS);
	return runs_of(tok, ntok, part, 4, 0) || runs_of(tok, ntok, part, 4, 1)
	    || has_hex(lname, a->bytes, 4);
    }
    if (a->family == AF_INET6) {
	for (i = 0; i < 8; i++)
	    part[i] = a->bytes[2 * i] << 8 | a->bytes[2 * i + 1];
	ntok = tokens(lname, 16, tok, MAX_TOKENS);
	return runs_of(tok, ntok, part, 8, 0) || has_hex(lname, a->bytes + 8, 8);
    }
    return 0;
}

/* host_name - a DNS host name, lower case, without a final dot; 0 or -1 */
static int host_name(const char *name, char *out, size_t len)
{
    size_t  n = strlen(name), i;

    if (n > 0 && name[n - 1] == '.')
	n--;
    if (n == 0 || n >= len || name[0] == '.' || name[0] == '-')
	return -1;
    for (i = 0; i < n; i++) {
	int     c = (unsigned char) name[i];

	if (!isalnum(c) && c != '-' && c != '.' && c != '_')
	    return -1;
	if (c == '.' && name[i + 1] == '.')
	    return -1;
	out[i] = (char) tolower(c);
    }
    out[n] = 0;
    return 0;
}

/* psl_lookup - in the child: the registrable domain of lname, written
 * to fd as "1DOMAIN", "0WHY" or "-WHY" (no domain, a fault) */
static void psl_lookup(const char *lname, int fd)
{
    char    out[REGDOMAIN_MAX + 200];
    const void *(*builtin) (void);
    const char *(*registrable) (const void *, const char *);
    const char *reg;
    void   *psl;
    size_t  n;

    if ((psl = dlopen(PSL_LIB, RTLD_NOW | RTLD_LOCAL)) == 0) {
	snprintf(out, sizeof(out), "-cannot load " PSL_LIB " (install libpsl5): %s",
		 dlerror());
    } else {
	*(void **) &builtin = dlsym(psl, "psl_builtin");
	*(void **) &registrable = dlsym(psl, "psl_registrable_domain");
	if (builtin == 0 || registrable == 0 || builtin() == 0)
	    snprintf(out, sizeof(out), "-" PSL_LIB " has no built-in Public Suffix List");
	else if ((reg = registrable(builtin(), lname)) == 0)
	    snprintf(out, sizeof(out), "0the name is a public suffix");
	else
	    snprintf(out, sizeof(out), "1%s", reg);
    }
    n = strlen(out);
    _exit(write(fd, out, n) == (ssize_t) n ? 0 : 1);
}

/* regdomain_of - the domain a verified name shares, into domain */
int     regdomain_of(const char *name, const struct tp_addr *client,
		             char *domain, size_t len, const char **why)
{
    static char error[REGDOMAIN_MAX + 200];
    char    lname[REGDOMAIN_MAX], answer[REGDOMAIN_MAX + 200];
    int     fd[2], status;
    ssize_t got, n = 0;
    pid_t   pid;

    if (*name == 0 || strcasecmp(name, "unknown") == 0)
	return *why = "no verified name", 0;
    if (host_name(name, lname, sizeof(lname)) < 0)
	return *why = "not a host name", 0;
    if (regdomain_carries_address(lname, client))
	return *why = "the name carries the address", 0;
    if (pipe2(fd, O_CLOEXEC) < 0)
	return *why = "cannot make a pipe for libpsl", -1;
    if ((pid = fork()) < 0) {
	close(fd[0]);
	close(fd[1]);
	return *why = "cannot fork for libpsl", -1;
    }
    if (pid == 0) {
	close(fd[0]);
	psl_lookup(lname, fd[1]);
    }
    close(fd[1]);
    while (n < (ssize_t) sizeof(answer) - 1
	   && ((got = read(fd[0], answer + n, sizeof(answer) - 1 - (size_t) n)) > 0
	       || (got < 0 && errno == EINTR)))
	n += got > 0 ? got : 0;
    answer[n] = 0;
    close(fd[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	;
    if (n == 0 || (answer[0] != '1' && answer[0] != '0')) {
	snprintf(error, sizeof(error), "%s", n > 1 ? answer + 1 : "libpsl's lookup failed");
	return *why = error, -1;
    }
    if (answer[0] == '0') {
	snprintf(error, sizeof(error), "%s", answer + 1);
	return *why = error, 0;
    }
    if ((size_t) n - 1 >= len)
	return *why = "too long a domain", 0;
    memcpy(domain, answer + 1, (size_t) n);
    return 1;
}

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
 *	libpsl is opened with dlopen() for the call and closed after it, so
 *	that a helper that never needs it (a known network) and one that is
 *	waiting map none of it and its two libraries.
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
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

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

/* regdomain_of - the domain a verified name shares, into domain */
int     regdomain_of(const char *name, const struct tp_addr *client,
		             char *domain, size_t len, const char **why)
{
    static char dl_error[200];
    char    lname[REGDOMAIN_MAX];
    const void *(*builtin) (void);
    const char *(*registrable) (const void *, const char *);
    const char *reg;
    void   *psl;
    int     rc = 0;

    if (*name == 0 || strcasecmp(name, "unknown") == 0)
	return *why = "no verified name", 0;
    if (host_name(name, lname, sizeof(lname)) < 0)
	return *why = "not a host name", 0;
    if (regdomain_carries_address(lname, client))
	return *why = "the name carries the address", 0;
    if ((psl = dlopen(PSL_LIB, RTLD_NOW | RTLD_LOCAL)) == 0) {
	snprintf(dl_error, sizeof(dl_error), "cannot load " PSL_LIB " (install libpsl5): %s",
		 dlerror());
	return *why = dl_error, -1;
    }
    *(void **) &builtin = dlsym(psl, "psl_builtin");
    *(void **) &registrable = dlsym(psl, "psl_registrable_domain");
    if (builtin == 0 || registrable == 0 || builtin() == 0) {
	*why = PSL_LIB " has no built-in Public Suffix List";
	rc = -1;
    } else if ((reg = registrable(builtin(), lname)) == 0) {
	*why = "the name is a public suffix";
    } else if (strlen(reg) >= len) {
	*why = "too long a domain";
    } else {
	memcpy(domain, reg, strlen(reg) + 1);
	rc = 1;
    }
    dlclose(psl);
    return rc;
}

/*
 * NAME
 *	addr - parse client addresses, make network keys
 * DESCRIPTION
 *	addr_parse() accepts what Postfix sends as client_address: dotted
 *	IPv4 and textual IPv6.  An IPv4-mapped IPv6 address
 *	(::ffff:192.0.2.1) becomes the IPv4 address it carries, and an IPv6
 *	zone id ("%eth0": letters, digits, '_', '.', '-') is dropped.
 *	"unknown", empty or malformed text is refused.
 *
 *	addr_network_key() masks the address to its network (ipv4_prefix or
 *	ipv6_prefix bits) and spells it canonically: "192.0.2.0/24",
 *	"2001:db8:1:2::/64".  That text is the database key.
 *
 *	addr_parse_network() takes "ADDR/LEN" (an IPv4-mapped network
 *	::ffff:192.0.2.0/120 is the IPv4 192.0.2.0/24) and clears the host
 *	bits; addr_in_network() says whether an address lies in one.
 *
 *	addr_key_from_arg() takes what an admin types: an address (grouped
 *	like a client's) or a network "ADDR/LEN" (kept at its own length).
 *
 *	addr_parse_port() takes a TCP port as Postfix sends it (1-65535).
 *
 *	addr_parse_endpoint() takes a service's "HOST:PORT" as main.cf names
 *	one after inet: (192.0.2.1:60001, [2001:db8::1]:60001) into a socket
 *	address; HOST must be an address.
 *
 *	Every address and network in the program is read here: requests,
 *	rules, admin arguments, dumps and the watched connection.
 */
#define _GNU_SOURCE
#include "util/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* addr_parse - text to address; 0 or -1 */
int addr_parse(const char *text, struct tp_addr *a)
{
    char    buf[INET6_ADDRSTRLEN + 1];
    size_t  len = strcspn(text, "%");

    memset(a, 0, sizeof(*a));
    if (len == 0 || len >= sizeof(buf))
	return -1;
    if (text[len] == '%') {
	const char *zone = text + len + 1;
	size_t  zlen = strspn(zone, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	/* A zone id needs IPv6 and a plain interface name or number. */
	if (zlen == 0 || zone[zlen] != 0 || zlen > 64 || strchr(text, ':') == 0)
	    return -1;
    }
    memcpy(buf, text, len);
    buf[len] = 0;
    if (inet_pton(AF_INET, buf, a->bytes) == 1) {
	if (text[len] == '%')
	    return -1;
	a->family = AF_INET;
	return 0;
    }
    if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
	if (memcmp(a->bytes, v4mapped, sizeof(v4mapped)) == 0) {
	    memmove(a->bytes, a->bytes + 12, 4);
	    memset(a->bytes + 4, 0, 12);
	    a->family = AF_INET;
	} else {
	    a->family = AF_INET6;
	}
	return 0;
    }
    return -1;
}

/* addr_mask - clear all but the first prefix bits */
void addr_mask(struct tp_addr *a, int prefix)
{
    int     nbytes = a->family == AF_INET ? 4 : 16;

    for (int i = 0; i < nbytes; i++) {
	int     keep = prefix - 8 * i;

	if (keep >= 8)
	    continue;
	a->bytes[i] &= keep <= 0 ? 0 : (unsigned char) (0xff << (8 - keep));
    }
}

/* put_decimal - v in decimal at p; the end */
static char *put_decimal(char *p, unsigned v)
{
    char    d[10];
    int     n = 0;

    do
	d[n++] = (char) ('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
	*p++ = d[--n];
    return p;
}

/* format_key - "NETWORK/LEN"; IPv4 by hand, as it is on every request and
 * glibc's inet_ntop() formats IPv4 with sprintf() */
static int format_key(const struct tp_addr *a, int prefix, char *key, size_t len)
{
    char    text[INET6_ADDRSTRLEN + 4];
    char   *p = text;

    if (a->family == AF_INET) {
	for (int i = 0; i < 4; i++) {
	    p = put_decimal(p, a->bytes[i]);
	    *p++ = i < 3 ? '.' : 0;
	}
	p--;
    } else {
	if (inet_ntop(a->family, a->bytes, text, INET6_ADDRSTRLEN) == 0)
	    return -1;
	p = text + strlen(text);
    }
    *p++ = '/';
    p = put_decimal(p, (unsigned) prefix);
    if ((size_t) (p - text) >= len)
	return -1;
    memcpy(key, text, (size_t) (p - text));
    key[p - text] = 0;
    return 0;
}

/* addr_network_key - the key a client address is recorded under */
int addr_network_key(const struct tp_addr *a, int v4prefix, int v6prefix,
		             char *key, size_t len)
{
    struct tp_addr net = *a;
    int     prefix = a->family == AF_INET ? v4prefix : v6prefix;

    addr_mask(&net, prefix);
    return format_key(&net, prefix, key, len);
}

/* addr_parse_network - "ADDR/LEN" to a network, host bits cleared */
int addr_parse_network(const char *text, struct tp_net *n)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    char   *slash, *end;
    long    prefix;

    memset(n, 0, sizeof(*n));
    if (strlen(text) >= sizeof(buf))
	return -1;
    strcpy(buf, text);
    if ((slash = strchr(buf, '/')) == 0)
	return -1;
    *slash = 0;
    if (!isdigit((unsigned char) slash[1]))
	return -1;
    prefix = strtol(slash + 1, &end, 10);
    if (*end || addr_parse(buf, &n->addr) < 0)
	return -1;
    if (n->addr.family == AF_INET && strchr(buf, ':') != 0) {
	/* ::ffff:192.0.2.0/120 is 192.0.2.0/24 */
	if (prefix < 96)
	    return -1;
	prefix -= 96;
    }
    if (prefix < 0 || prefix > (n->addr.family == AF_INET ? 32 : 128))
	return -1;
    n->prefix = (int) prefix;
    addr_mask(&n->addr, n->prefix);
    return 0;
}

/* addr_in_network - does the network hold the address? */
int addr_in_network(const struct tp_addr *a, const struct tp_net *n)
{
    struct tp_addr masked = *a;

    if (a->family != n->addr.family)
	return 0;
    addr_mask(&masked, n->prefix);
    return memcmp(masked.bytes, n->addr.bytes, a->family == AF_INET ? 4 : 16) == 0;
}

/* addr_v4mapped - an IPv4 address as IPv6 sees it (::ffff:a.b.c.d) */
void addr_v4mapped(const struct tp_addr *a, unsigned char bytes[16])
{
    memcpy(bytes, v4mapped, sizeof(v4mapped));
    memcpy(bytes + 12, a->bytes, 4);
}

/* addr_parse_port - "25" to 25; -1 unless a port 1-65535 */
int addr_parse_port(const char *text)
{
    char   *end;
    long    v;

    if (text == 0 || !isdigit((unsigned char) *text))
	return -1;
    v = strtol(text, &end, 10);
    return *end || v <= 0 || v > 65535 ? -1 : (int) v;
}

/* addr_parse_endpoint - "HOST:PORT" (an IPv6 HOST in brackets) to a
 * socket address; 0, or -1 for anything else */
int addr_parse_endpoint(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
    const char *colon = strrchr(text, ':'), *host = text;
    size_t  hlen = colon ? (size_t) (colon - text) : 0;
    char    buf[INET6_ADDRSTRLEN + 1];
    struct tp_addr a;
    int     port;

    if (colon == 0 || (port = addr_parse_port(colon + 1)) < 0)
	return -1;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
	host++;
	hlen -= 2;
    } else if (memchr(host, ':', hlen)) {
	return -1;			/* an IPv6 address needs its brackets */
    }
    if (hlen == 0 || hlen >= sizeof(buf))
	return -1;
    memcpy(buf, host, hlen);
    buf[hlen] = 0;
    if (addr_parse(buf, &a) < 0)
	return -1;
    memset(ss, 0, sizeof(*ss));
    if (a.family == AF_INET) {
	struct sockaddr_in *in = (struct sockaddr_in *) ss;

	in->sin_family = AF_INET;
	in->sin_port = htons((unsigned short) port);
	memcpy(&in->sin_addr, a.bytes, 4);
	*len = sizeof(*in);
    } else {
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((unsigned short) port);
	memcpy(&in6->sin6_addr, a.bytes, 16);
	*len = sizeof(*in6);
    }
    return 0;
}

/* addr_key_from_arg - an admin's "ADDR" or "ADDR/LEN" to a key */
int addr_key_from_arg(const char *arg, int v4prefix, int v6prefix,
		              char *key, size_t len)
{
    struct tp_addr a;
    struct tp_net n;

    if (strchr(arg, '/') == 0) {
	if (addr_parse(arg, &a) < 0)
	    return -1;
	return addr_network_key(&a, v4prefix, v6prefix, key, len);
    }
    if (addr_parse_network(arg, &n) < 0)
	return -1;
    return format_key(&n.addr, n.prefix, key, len);
}

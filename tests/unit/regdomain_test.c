/*
 * regdomain_test - which verified names share a domain, and which one:
 * the Public Suffix List (libpsl's built-in), and names that carry their
 * own address (a residential pool) sharing nothing.
 */
#define _GNU_SOURCE
#include "util/regdomain.h"
#include "unit.h"

#include <string.h>

static const struct {
    const char *name, *address;
    int     rc;				/* regdomain_of() */
    const char *domain;			/* or the reason */
} cases[] = {
    {"mail-db5eur02on2101.outbound.protection.outlook.com", "40.92.1.2", 1, "outlook.com"},
    {"a8-17.smtp-out.amazonses.com", "54.240.8.17", 1, "amazonses.com"},
    {"MX.Example.CO.UK.", "192.0.2.1", 1, "example.co.uk"},
    {"mail.example.com", "2001:db8::25", 1, "example.com"},
    {"unknown", "192.0.2.1", 0, "no verified name"},
    {"", "192.0.2.1", 0, "no verified name"},
    {"co.uk", "192.0.2.1", 0, "the name is a public suffix"},
    {"ec2-54-1-2-3.compute-1.amazonaws.com", "198.51.100.3", 0, "the name is a public suffix"},
    {"localhost", "127.0.0.1", 0, "the name is a public suffix"},
    {"c-73-1-2-3.hsd1.ca.example.net", "73.1.2.3", 0, "the name carries the address"},
    {"3.2.1.73.dyn.example.net", "73.1.2.3", 0, "the name carries the address"},
    {"p5dd3c1a2.dip0.example.de", "93.211.193.162", 0, "the name carries the address"},
    {"host-10-20-30.example.org", "10.20.30.40", 0, "the name carries the address"},
    {"mail.bad name.example", "192.0.2.1", 0, "not a host name"},
    {"mail..example.com", "192.0.2.1", 0, "not a host name"},
};

/* carries - regdomain_carries_address() of a name and an address text */
static int carries(const char *name, const char *address)
{
    struct tp_addr a;

    SETUP(addr_parse(address, &a) == 0, "%s", address);
    return regdomain_carries_address(name, &a);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	struct tp_addr a;
	char    domain[REGDOMAIN_MAX] = "";
	const char *why = "";
	int     rc;

	SETUP(addr_parse(cases[i].address, &a) == 0, "%s", cases[i].address);
	rc = regdomain_of(cases[i].name, &a, domain, sizeof(domain), &why);
	EXPECT(rc == cases[i].rc && strcmp(rc > 0 ? domain : why, cases[i].domain) == 0,
	       "%s: %d \"%s\" (%s)", cases[i].name, rc, domain, why);
    }
    EXPECT(!carries("mail-db5eur02on2101.outbound.protection.outlook.com", "40.92.1.2"),
	   "a pool's name is not an address");
    EXPECT(!carries("mx1-2.example.net", "192.0.1.2"), "two octets are not three");
    EXPECT(!carries("73-1-9-3.example.net", "73.1.2.3"), "three octets, not in a row");
    EXPECT(carries("2001-db8-0-1-0-0-0-25.example.net", "2001:db8:0:1::25"),
	   "IPv6: its groups in order");
    EXPECT(carries("host0000000000000025.example.net", "2001:db8:0:1::25"),
	   "IPv6: its last 64 bits in hex");
    EXPECT(!carries("mail.example.net", "2001:db8:0:1::25"), "IPv6: a plain name");
    return unit_done("regdomain");
}

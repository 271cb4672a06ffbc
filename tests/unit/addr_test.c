/* addr_test - client addresses to network keys, as a table */
#include "util/addr.h"
#include "unit.h"

#include <netinet/in.h>

#include <string.h>

static const struct {
    const char *in;
    int     v4, v6;
    const char *key;			/* 0: must be refused */
} client_cases[] = {
    {"192.0.2.77", 24, 64, "192.0.2.0/24"},
    {"192.0.2.77", 32, 64, "192.0.2.77/32"},
    {"192.0.2.77", 16, 64, "192.0.0.0/16"},
    {"192.0.2.77", 20, 64, "192.0.0.0/20"},
    {"198.51.100.255", 25, 64, "198.51.100.128/25"},
    {"::ffff:192.0.2.1", 24, 64, "192.0.2.0/24"},
    {"::FFFF:192.0.2.1", 24, 64, "192.0.2.0/24"},
    {"2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64"},
    {"2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48"},
    {"2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6/128"},
    {"2001:DB8::1", 24, 56, "2001:db8::/56"},
    {"::1", 24, 64, "::/64"},
    {"fe80::1%eth0", 24, 64, "fe80::/64"},
    {"unknown", 24, 64, 0},
    {"", 24, 64, 0},
    {"192.0.2", 24, 64, 0},
    {"192.0.2.256", 24, 64, 0},
    {"192.0.2.1%eth0", 24, 64, 0},
    {"fe80::1%", 24, 64, 0},
    {"fe80::1%eth0%x", 24, 64, 0},
    {"fe80::1%eth 0", 24, 64, 0},
    {"fe80::1%2", 24, 64, "fe80::/64"},
    {"2001:db8::1::2", 24, 64, 0},
    {" 192.0.2.1", 24, 64, 0},
    {"192.0.2.1 ", 24, 64, 0},
    {"1111:2222:3333:4444:5555:6666:7777:8888:9999", 24, 64, 0},
};

static const struct {
    const char *in;
    const char *key;
} arg_cases[] = {
    {"192.0.2.9", "192.0.2.0/24"},
    {"192.0.2.0/24", "192.0.2.0/24"},
    {"192.0.2.9/24", "192.0.2.0/24"},
    {"10.1.2.3/8", "10.0.0.0/8"},
    {"2001:db8::/32", "2001:db8::/32"},
    {"::ffff:192.0.2.0/120", "192.0.2.0/24"},
    {"192.0.2.0/33", 0},
    {"192.0.2.0/", 0},
    {"192.0.2.0/-1", 0},
    {"192.0.2.0/2x", 0},
    {"example.com", 0},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(client_cases) / sizeof(client_cases[0]); i++) {
	struct tp_addr a;
	char    key[ADDR_KEY_MAX];
	int     ok = addr_parse(client_cases[i].in, &a) == 0
	&& addr_network_key(&a, client_cases[i].v4, client_cases[i].v6,
			    key, sizeof(key)) == 0;

	if (client_cases[i].key == 0)
	    EXPECT(!ok, "\"%s\" should be refused", client_cases[i].in);
	else
	    EXPECT(ok && strcmp(key, client_cases[i].key) == 0,
		   "\"%s\" gave \"%s\", want \"%s\"", client_cases[i].in,
		   ok ? key : "(refused)", client_cases[i].key);
    }
    for (size_t i = 0; i < sizeof(arg_cases) / sizeof(arg_cases[0]); i++) {
	char    key[ADDR_KEY_MAX];
	int     ok = addr_key_from_arg(arg_cases[i].in, 24, 64, key, sizeof(key)) == 0;

	if (arg_cases[i].key == 0)
	    EXPECT(!ok, "\"%s\" should be refused", arg_cases[i].in);
	else
	    EXPECT(ok && strcmp(key, arg_cases[i].key) == 0,
		   "\"%s\" gave \"%s\", want \"%s\"", arg_cases[i].in,
		   ok ? key : "(refused)", arg_cases[i].key);
    }
    /* A key must fit: the longest IPv6 text plus "/128". */
    {
	struct tp_addr a;
	char    small[8];

	EXPECT(addr_parse("2001:db8::1", &a) == 0, "parse");
	EXPECT(addr_network_key(&a, 24, 128, small, sizeof(small)) < 0,
	       "a short buffer must be refused");
    }
    /* Networks, as rules and admins write them; "in" lists addresses
     * inside, "out" one outside. */
    static const struct {
	const char *text;
	int     ok, prefix;
	const char *in, *out;
    } nets[] = {
	{"192.0.2.0/24", 1, 24, "192.0.2.255", "192.0.3.0"},
	{"192.0.2.77/24", 1, 24, "192.0.2.1", "192.0.1.255"},	/* host bits cleared */
	{"::ffff:192.0.2.0/120", 1, 24, "::ffff:192.0.2.9", "192.0.3.1"},
	{"2001:db8::/32", 1, 32, "2001:db8:ffff::1", "2001:db9::1"},
	{"0.0.0.0/0", 1, 0, "203.0.113.5", "2001:db8::1"},	/* one family */
	{"192.0.2.1/32", 1, 32, "192.0.2.1", "192.0.2.2"},
	{"192.0.2.0/33", 0, 0, 0, 0},
	{"::ffff:192.0.2.0/95", 0, 0, 0, 0},
	{"192.0.2.0/", 0, 0, 0, 0},
	{"192.0.2.0/-1", 0, 0, 0, 0},
	{"192.0.2.0/24x", 0, 0, 0, 0},
	{"192.0.2.0", 0, 0, 0, 0},
	{"example/24", 0, 0, 0, 0},
    };

    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
	struct tp_net n;
	struct tp_addr in, out;
	int     ok = addr_parse_network(nets[i].text, &n) == 0;

	EXPECT(ok == nets[i].ok && (!ok || n.prefix == nets[i].prefix),
	       "network %s: ok %d prefix %d", nets[i].text, ok, n.prefix);
	if (!ok || !nets[i].ok)
	    continue;
	EXPECT(addr_parse(nets[i].in, &in) == 0 && addr_in_network(&in, &n),
	       "%s holds %s", nets[i].text, nets[i].in);
	EXPECT(addr_parse(nets[i].out, &out) == 0 && !addr_in_network(&out, &n),
	       "%s does not hold %s", nets[i].text, nets[i].out);
    }

    /* Ports as Postfix sends them. */
    static const struct {
	const char *text;
	int     want;
    } ports[] = {
	{"25", 25}, {"65535", 65535}, {"1", 1}, {"0", -1}, {"65536", -1},
	{"", -1}, {"-5", -1}, {" 25", -1}, {"25x", -1}, {"+25", -1},
    };

    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
	EXPECT(addr_parse_port(ports[i].text) == ports[i].want, "port \"%s\"",
	       ports[i].text);
    EXPECT(addr_parse_port(0) == -1, "no port");

    /* A service's endpoint, as main.cf names it after inet:. */
    static const struct {
	const char *text;
	int     family, port;		/* 0: refused */
    } endpoints[] = {
	{"127.0.0.1:60001", AF_INET, 60001}, {"[::1]:60001", AF_INET6, 60001},
	{"[2001:db8::1]:25", AF_INET6, 25}, {"::1:60001", 0, 0}, {"localhost:60001", 0, 0},
	{"127.0.0.1", 0, 0}, {"127.0.0.1:0", 0, 0}, {":60001", 0, 0}, {"[]:25", 0, 0},
    };

    for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int     rc = addr_parse_endpoint(endpoints[i].text, &ss, &len);
	int     port = rc < 0 ? 0 : ss.ss_family == AF_INET
	    ? ntohs(((struct sockaddr_in *) &ss)->sin_port)
	    : ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);

	EXPECT(endpoints[i].family ? rc == 0 && ss.ss_family == endpoints[i].family
	       && port == endpoints[i].port : rc < 0, "endpoint \"%s\"", endpoints[i].text);
    }

    struct tp_addr v4;
    unsigned char mapped[16];
    static const unsigned char want_mapped[16] =
    {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};

    SETUP(addr_parse("192.0.2.1", &v4) == 0, "parse for mapping");
    addr_v4mapped(&v4, mapped);
    EXPECT(memcmp(mapped, want_mapped, 16) == 0, "IPv4 as IPv4-mapped IPv6");
    return unit_done("addr");
}

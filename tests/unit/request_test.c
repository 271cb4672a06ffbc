/*
 * request_test - a policy request read once: attributes in, the typed
 * view out (addresses parsed, ports as numbers, the session).
 */
#define _GNU_SOURCE
#include "proto/request.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const struct {
    const char *name;
    const char *attrs;			/* "name=value;..." */
    int     family, client_port, server_port, stress;
    const char *session;		/* 0: none */
    const char *client_address;
} cases[] = {
    {"Postfix 3.x", "client_address=192.0.2.1;client_port=40000;server_address=127.0.0.1;server_port=25",
     AF_INET, 40000, 25, 0, "192.0.2.1 40000 127.0.0.1 25", "192.0.2.1"},
    {"IPv6", "client_address=2001:db8::1;client_port=1;server_address=::1;server_port=587",
     AF_INET6, 1, 587, 0, "2001:db8::1 1 ::1 587", "2001:db8::1"},
    {"IPv4-mapped is IPv4", "client_address=::ffff:192.0.2.1;client_port=5", AF_INET, 5, -1, 0,
     "::ffff:192.0.2.1 5  ", "::ffff:192.0.2.1"},
    {"before Postfix 2.5: the instance", "client_address=192.0.2.1;instance=1a.2b.3c",
     AF_INET, -1, -1, 0, "instance 1a.2b.3c", "192.0.2.1"},
    {"no session at all", "client_address=192.0.2.1", AF_INET, -1, -1, 0, 0, "192.0.2.1"},
    {"unknown client", "client_address=unknown;client_port=7", 0, 7, -1, 0, "unknown 7  ", "unknown"},
    {"no client_address", "stress=yes", 0, -1, -1, 1, 0, "(none)"},
    {"stress=YES", "client_address=192.0.2.1;stress=YES", AF_INET, -1, -1, 1, 0, "192.0.2.1"},
    {"bad port", "client_address=192.0.2.1;client_port=99999", AF_INET, -1, -1, 0,
     "192.0.2.1 99999  ", "192.0.2.1"},
    {"the first of duplicates counts", "client_address=192.0.2.1;client_address=192.0.2.2",
     AF_INET, -1, -1, 0, 0, "192.0.2.1"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	char    buf[1024], *save = 0, *tok;
	struct policy_req q;
	struct request rq;

	snprintf(buf, sizeof(buf), "%s", cases[i].attrs);
	memset(&q, 0, sizeof(q));
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(0, ";", &save)) {
	    char   *eq = strchr(tok, '=');

	    *eq = 0;
	    q.attr[q.nattr].name = tok;
	    q.attr[q.nattr++].value = eq + 1;
	}
	request_read(&rq, &q);
	EXPECT(rq.client.family == cases[i].family && rq.client_port == cases[i].client_port
	       && rq.server_port == cases[i].server_port && rq.stress == cases[i].stress,
	       "%s: family %d ports %d/%d stress %d", cases[i].name, rq.client.family,
	       rq.client_port, rq.server_port, rq.stress);
	EXPECT(cases[i].session ? rq.session && strcmp(rq.session, cases[i].session) == 0
	       : rq.session == 0, "%s: session \"%s\"", cases[i].name,
	       rq.session ? rq.session : "(none)");
	EXPECT(strcmp(rq.client_address, cases[i].client_address) == 0
	       && rq.sasl_username && rq.sender && rq.recipient && rq.policy_context,
	       "%s: client_address %s, absent values read as \"\"", cases[i].name,
	       rq.client_address);
    }

    /* A session too long for the buffer is no session, not a cut one. */
    static char longname[600];
    struct policy_req q;
    struct request rq;

    memset(longname, '1', sizeof(longname) - 1);
    memset(&q, 0, sizeof(q));
    q.attr[0].name = "client_address";
    q.attr[0].value = "192.0.2.1";
    q.attr[1].name = "client_port";
    q.attr[1].value = longname;
    q.nattr = 2;
    request_read(&rq, &q);
    EXPECT(rq.session == 0 && rq.client_port == -1, "overlong session: none");
    return unit_done("request");
}

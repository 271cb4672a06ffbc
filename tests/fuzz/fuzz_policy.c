/* fuzz_policy - the policy request reader, fed through a real socket */
#define _GNU_SOURCE
#include "proto/policy.h"
#include "proto/request.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct policy_conn conn;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int     sv[2];
    struct policy_req q;

    if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
	return 0;
    int     buf = 1 << 20;

    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    if (write(sv[1], data, size) != (ssize_t) size) {
	close(sv[0]);
	close(sv[1]);
	return 0;
    }
    close(sv[1]);
    policy_init(&conn, sv[0], sv[0]);
    while (policy_read(&conn, &q, 1000) == POLICY_OK) {
	for (size_t i = 0; i < q.nattr; i++)
	    if (strlen(q.attr[i].name) == 0)
		abort();		/* an empty name must be refused */
	(void) policy_get(&q, "client_address");

	struct request rq;

	request_read(&rq, &q);		/* the typed view of any request */
	if (rq.session && strlen(rq.session) >= sizeof(rq.session_buf))
	    abort();
	if (rq.client_port == 0 || rq.client_port > 65535)
	    abort();
    }
    close(sv[0]);
    return 0;
}

/* fuzz_conf - the config parser, rules and profiles included */
#define _GNU_SOURCE
#include "tarpit/conf.h"
#include "tarpit/decide.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    path[64], err[1024];
    struct tp_conf c;
    int     fd = memfd_create("conf", 0);

    if (fd < 0)
	return 0;
    if (write(fd, data, size) != (ssize_t) size) {
	close(fd);
	return 0;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (conf_load(&c, path, 1, err, sizeof(err)) == 0) {
	/* Use what was loaded: every rule against a request. */
	struct policy_req q;

	memset(&q, 0, sizeof(q));
	q.attr[0].name = "client_address";
	q.attr[0].value = "192.0.2.1";
	q.attr[1].name = "client_name";
	q.attr[1].value = "mail.example.jp";
	q.nattr = 2;

	struct request rq;

	request_read(&rq, &q);
	(void) rule_match(&c, &rq);
	for (size_t i = 0; i < c.nprofiles; i++)
	    (void) rule_match(c.profiles + i, &rq);
	conf_free(&c);
    } else if (strchr(err, ':') == 0)
	abort();			/* an error always names file and line */
    close(fd);
    return 0;
}

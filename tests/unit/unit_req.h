/* unit_req.h - a policy request for a table test, from "name=value;..." */
#ifndef TARPIT_UNIT_REQ_H
#define TARPIT_UNIT_REQ_H

#include "proto/policy.h"

#include <stdio.h>
#include <string.h>

/* unit_request - the attributes of attrs into q (their text kept in buf) */
static inline void unit_request(const char *attrs, char *buf, size_t len,
				        struct policy_req *q)
{
    char   *save = 0, *tok;

    snprintf(buf, len, "%s", attrs);
    memset(q, 0, sizeof(*q));
    for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(0, ";", &save)) {
	char   *eq = strchr(tok, '=');

	*eq = 0;
	q->attr[q->nattr].name = tok;
	q->attr[q->nattr++].value = eq + 1;
    }
}

#endif

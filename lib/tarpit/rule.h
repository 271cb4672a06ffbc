#ifndef TARPIT_TARPIT_RULE_H
#define TARPIT_TARPIT_RULE_H

/* rule - tarpit.conf's rules: rule = ATTRIBUTE PATTERN ACTION [ARGUMENT] */

#include "util/addr.h"

#include <regex.h>
#include <stdint.h>

enum rule_pattern { PAT_REGEX, PAT_CIDR, PAT_ANY, PAT_LITERAL };
enum rule_action { RULE_SLEEP, RULE_SKIP, RULE_BLOCK };

/* rule = ATTRIBUTE PATTERN ACTION [ARGUMENT] */
struct tp_rule {
    char   *text;			/* as written, for messages */
    char   *attr;
    enum rule_pattern kind;
    regex_t re;				/* PAT_REGEX */
    struct tp_net net;			/* PAT_CIDR */
    char   *literal;			/* PAT_LITERAL */
    enum rule_action action;
    int64_t sleep_ms;			/* RULE_SLEEP */
    int     line;
};

struct tp_conf;
struct request;

int     rule_parse(const char *value, struct tp_rule *, char *why, size_t whylen);
void    rule_free(struct tp_rule *);
const struct tp_rule *rule_match(const struct tp_conf *, const struct request *);

#endif

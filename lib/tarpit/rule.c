/*
 * NAME
 *	rule - the rules of tarpit.conf: read, and matched
 * DESCRIPTION
 *	rule_parse() reads "rule = ATTRIBUTE PATTERN ACTION [ARGUMENT]":
 *	PATTERN is /regex/ (POSIX extended; /regex/i ignores case), a CIDR
 *	network (for address attributes), "*" (present and not empty) or a
 *	literal; ACTION is "sleep DURATION", "skip" or "block".  Regexes are
 *	compiled here, once per process, after regex_sane().
 *
 *	rule_match() is the first rule that matches a request: the
 *	profile's own, then the global ones.
 */
#define _GNU_SOURCE
#include "tarpit/rule.h"
#include "tarpit/conf.h"
#include "proto/request.h"
#include "util/addr.h"
#include "util/mem.h"
#include "util/regex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* rule_free - what one rule holds */
void    rule_free(struct tp_rule *r)
{
    if (r->kind == PAT_REGEX && r->text)
	regfree(&r->re);
    free(r->text);
    free(r->attr);
    free(r->literal);
}

/* The attributes Postfix sends in a policy request (SMTPD_POLICY_README,
 * up to Postfix 3.9): a rule on another name could never match. */
static const char postfix_attrs[][28] = {
    "request", "protocol_state", "protocol_name", "helo_name", "queue_id",
    "sender", "recipient", "recipient_count", "client_address", "client_name",
    "reverse_client_name", "instance", "sasl_method", "sasl_username",
    "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
    "ccert_pubkey_fingerprint", "encryption_protocol", "encryption_cipher",
    "encryption_keysize", "etrn_domain", "stress", "client_port",
    "policy_context", "server_address", "server_port", "compatibility_level",
    "mail_version",
};

/* known_attr - is this an attribute Postfix sends? */
static int known_attr(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(postfix_attrs) / sizeof(postfix_attrs[0]); i++)
	if (strlen(postfix_attrs[i]) == n && strncmp(postfix_attrs[i], name, n) == 0)
	    return 1;
    return 0;
}

/* rule_parse - "ATTRIBUTE PATTERN ACTION [ARGUMENT]"; 0 or -1 with why */
int     rule_parse(const char *value, struct tp_rule *r, char *why, size_t whylen)
{
    char   *text = xstrdup(value), *p, *end, *pat, *act, *arg = 0;
    size_t  n;

    memset(r, 0, sizeof(*r));
    /* ATTRIBUTE */
    n = strcspn(text, " \t");
    if (n == 0 || text[n] == 0) {
	free(text);
	return snprintf(why, whylen, "rule: expected ATTRIBUTE PATTERN ACTION"), -1;
    }
    for (size_t i = 0; i < n; i++)
	if (!(isalnum((unsigned char) text[i]) || text[i] == '_')) {
	    free(text);
	    return snprintf(why, whylen, "rule: \"%.*s\" is not an attribute name",
			    (int) n, value), -1;
	}
    if (!known_attr(text, n)) {
	free(text);
	return snprintf(why, whylen, "rule: Postfix sends no attribute \"%.*s\" (see "
			"tarpit.conf(5), RULES, for those it sends)", (int) n, value), -1;
    }
    {
	char    sep = text[n];

	text[n] = 0;
	r->attr = xstrdup(text);
	text[n] = sep;
    }
    /* ACTION [ARGUMENT], from the right: "skip", "block" or "sleep D" */
    end = text + strlen(text);
    p = end;
    while (p > text + n && !isspace((unsigned char) p[-1]))
	p--;
    act = p;
    if (strcmp(act, "skip") != 0 && strcmp(act, "block") != 0) {
	arg = act;
	while (p > text + n && isspace((unsigned char) p[-1]))
	    p--;
	*p = 0;
	while (p > text + n && !isspace((unsigned char) p[-1]))
	    p--;
	act = p;
    }
    if (act <= text + n || (arg == 0) != (strcmp(act, "sleep") != 0)) {
	free(text);
	rule_free(r);
	return snprintf(why, whylen, "rule: the action must be \"sleep DURATION\", "
			"\"skip\" or \"block\""), -1;
    }
    if (arg) {
	r->action = RULE_SLEEP;
	if (conf_parse_duration(arg, &r->sleep_ms) < 0 || r->sleep_ms > 3600000) {
	    snprintf(why, whylen, "rule: sleep \"%s\" is not a duration up to 1h", arg);
	    free(text);
	    rule_free(r);
	    return -1;
	}
    } else
	r->action = strcmp(act, "skip") == 0 ? RULE_SKIP : RULE_BLOCK;
    /* PATTERN: what lies between */
    while (act > text + n && isspace((unsigned char) act[-1]))
	act--;
    *act = 0;
    pat = text + n;
    while (isspace((unsigned char) *pat))
	pat++;
    if (*pat == 0) {
	free(text);
	rule_free(r);
	return snprintf(why, whylen, "rule: no PATTERN"), -1;
    }
    n = strlen(pat);
    if (pat[0] == '/' && n >= 2 && (pat[n - 1] == '/' || (n >= 3 && pat[n - 2] == '/' && pat[n - 1] == 'i'))) {
	int     icase = pat[n - 1] == 'i';
	char    err[200];
	int     rc;

	pat[n - 1 - icase] = 0;
	r->kind = PAT_REGEX;
	if (regex_sane(pat + 1, err, sizeof(err)) < 0) {
	    snprintf(why, whylen, "rule: regex /%.40s/ refused: %s", pat + 1, err);
	    free(text);
	    r->kind = PAT_LITERAL;	/* nothing compiled to free */
	    rule_free(r);
	    return -1;
	}
	if ((rc = regcomp(&r->re, pat + 1, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0))) != 0) {
	    regerror(rc, &r->re, err, sizeof(err));
	    snprintf(why, whylen, "rule: bad regex /%s/: %s", pat + 1, err);
	    free(text);
	    r->kind = PAT_LITERAL;	/* nothing compiled to free */
	    rule_free(r);
	    return -1;
	}
    } else if (strcmp(pat, "*") == 0) {
	r->kind = PAT_ANY;
    } else if (strchr(pat, '/') && addr_parse_network(pat, &r->net) == 0) {
	r->kind = PAT_CIDR;
    } else if (strchr(pat, '/')) {
	snprintf(why, whylen, "rule: \"%s\" is neither /regex/ nor a network", pat);
	free(text);
	rule_free(r);
	return -1;
    } else {
	r->kind = PAT_LITERAL;
	r->literal = xstrdup(pat);
    }
    free(text);
    r->text = xstrdup(value);
    return 0;
}

/* matches - does one rule's pattern match the request? */
static int matches(const struct tp_rule *rule, const struct request *rq)
{
    const char *v = policy_get(rq->attrs, rule->attr);
    struct tp_addr a;

    if (v == 0)
	return 0;
    switch (rule->kind) {
    case PAT_ANY:
	return *v != 0;
    case PAT_LITERAL:
	return strcasecmp(v, rule->literal) == 0;
    case PAT_REGEX:
	return regexec(&rule->re, v, 0, 0, 0) == 0;
    case PAT_CIDR:
	if (strcmp(rule->attr, "client_address") == 0)
	    return addr_in_network(&rq->client, &rule->net);
	return addr_parse(v, &a) == 0 && addr_in_network(&a, &rule->net);
    }
    return 0;
}

/* rule_match - the first matching rule: the profile's, then the global */
const struct tp_rule *rule_match(const struct tp_conf *c, const struct request *rq)
{
    for (const struct tp_conf *level = c; level; level = level->parent)
	for (size_t i = 0; i < level->nrules; i++)
	    if (matches(level->rules + i, rq))
		return level->rules + i;
    return 0;
}


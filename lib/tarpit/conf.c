/*
 * NAME
 *	conf - read tarpit.conf
 * DESCRIPTION
 *	The file holds "key = value" lines; '#' at the start of a line or
 *	after white space starts a comment, blank lines are ignored.  Every key is a row of one table: its name, type,
 *	default, and the range it may take, so a range check is data, not
 *	code.  Durations are a number with an optional unit: ms, s (the
 *	default), m, h, d or w; a fraction is allowed ("6.5s").
 *
 *	A line "[NAME]" starts a profile: the keys after it apply to requests
 *	whose policy_context is NAME, over the global settings (which come
 *	before the first section).  Global-only keys are refused inside one.
 *
 *	"rule = ATTRIBUTE PATTERN ACTION [ARGUMENT]" may repeat; each adds a
 *	rule to its level (rule.c reads it).
 *
 *	conf_path() picks the file: the -c option, else $TARPIT_CONF, else
 *	/etc/tarpit.conf.
 * DIAGNOSTICS
 *	conf_load() returns -1 and writes "FILE:LINE: what is wrong" into the
 *	caller's buffer for an unknown key, a bad value or a missing file.
 */
#define _GNU_SOURCE
#include "tarpit/conf.h"
#include "util/addr.h"
#include "util/regex.h"
#include "util/log.h"
#include "util/mem.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <arpa/inet.h>

enum conf_type {
    CT_STR, CT_WORDS, CT_INT, CT_DURATION, CT_BOOL, CT_ACTION, CT_RULE, CT_PATTERN,
};

/* Names and defaults are arrays, not pointers: a table of pointers needs
 * relocating at start-up, and would cost every helper a private page. */
struct conf_key {
    char    name[24];
    enum conf_type type;
    size_t  offset;
    char    def[84];			/* "": none */
    int64_t min, max;			/* for CT_DURATION in ms; CT_STR: max its size */
    int     global_only;		/* not allowed in a [profile] */
};

#define GLOBAL 1

#define OFF(f) offsetof(struct tp_conf, f)
#define DAY_MS (86400LL * 1000)

static const struct conf_key conf_keys[] = {
    {"database", CT_STR, OFF(database), "/var/lib/tarpit/tarpit.db", 0, 0, GLOBAL},
    {"database_prefix", CT_STR, OFF(database_prefix), "tarpit:", 0, CONF_PREFIX_MAX, GLOBAL},
    {"database_password_file", CT_STR, OFF(database_password_file), "", 0, 0, GLOBAL},
    {"database_timeout", CT_DURATION, OFF(database_timeout_ms), "500ms", 10, 60000, GLOBAL},
    {"state_directory", CT_STR, OFF(state_directory), "/var/lib/tarpit", 0, 0, GLOBAL},
    {"sleep", CT_DURATION, OFF(sleep_ms), "65s", 0, 3600LL * 1000, 0},
    {"threshold", CT_INT, OFF(threshold), "1", 1, 1000000, 0},
    {"ipv4_prefix", CT_INT, OFF(ipv4_prefix), "24", 8, 32, GLOBAL},
    {"ipv6_prefix", CT_INT, OFF(ipv6_prefix), "64", 16, 128, GLOBAL},
    {"ipv6_aggregate", CT_INT, OFF(ipv6_aggregate), "32", 0, 1000000, GLOBAL},
    {"idle_timeout", CT_DURATION, OFF(idle_timeout_ms), "330s", 1000, DAY_MS, GLOBAL},
    {"refresh", CT_DURATION, OFF(refresh_ms), "1h", 0, 365 * DAY_MS, GLOBAL},
    {"watch_client", CT_BOOL, OFF(watch_client), "yes", 0, 1, 0},
    {"early_talker_action", CT_ACTION, OFF(early_talker_action),
    "REJECT Protocol error: talking before the server's reply", 0, 0, 0},
    {"block_action", CT_ACTION, OFF(block_action),
    "REJECT Your network is blocked here", 0, 0, 0},
    {"max_age", CT_DURATION, OFF(max_age_ms), "30d", 3600LL * 1000, 3650 * DAY_MS, GLOBAL},
    {"skip_authenticated", CT_BOOL, OFF(skip_authenticated), "yes", 0, 1, 0},
    {"stress_sleep", CT_DURATION, OFF(stress_sleep_ms), "0", 0, 3600LL * 1000, 0},
    {"max_waiting", CT_INT, OFF(max_waiting), "100", 1, 100000, GLOBAL},
    {"dry_run", CT_BOOL, OFF(dry_run), "no", 0, 1, 0},
    {"log_passes", CT_BOOL, OFF(log_passes), "yes", 0, 1, 0},
    {"wait_header", CT_BOOL, OFF(wait_header), "no", 0, 1, 0},
    {"share_escapes", CT_BOOL, OFF(share_escapes), "no", 0, 1, 0},
    {"share_domains", CT_BOOL, OFF(share_domains), "yes", 0, 1, 0},
    {"never_share", CT_WORDS, OFF(never_share), "", 0, 0, 0},
    {"exempt_recipients", CT_WORDS, OFF(exempt_recipients), "postmaster abuse", 0, 0, 0},
    {"greylist", CT_BOOL, OFF(greylist), "yes", 0, 1, 0},
    {"greylist_delay", CT_DURATION, OFF(greylist_delay_ms), "300s", 0, DAY_MS, 0},
    {"greylist_retries", CT_INT, OFF(greylist_retries), "2", 1, 100, 0},
    {"greylist_window", CT_DURATION, OFF(greylist_window_ms), "2d", 60000, 365 * DAY_MS, 0},
    {"greylist_entries", CT_INT, OFF(greylist_entries), "20", 1, 100000, 0},
    {"greylist_action", CT_ACTION, OFF(greylist_action),
    "DEFER_IF_PERMIT Greylisted: your network gave up on us before; please retry later", 0, 0, 0},
    {"block_after", CT_INT, OFF(block_after), "0", 0, 1000000, 0},
    {"block_for", CT_DURATION, OFF(block_for_ms), "7d", 60000, 3650 * DAY_MS, 0},
    {"offender_threshold", CT_INT, OFF(offender_threshold), "3", 1, 1000000, GLOBAL},
    {"learn_correspondents", CT_BOOL, OFF(learn_correspondents), "yes", 0, 1, GLOBAL},
    {"mail_owner", CT_STR, OFF(mail_owner), "postfix", 0, CONF_USER_MAX, GLOBAL},
    {"rule", CT_RULE, 0, "", 0, 0, 0},
    {"offender_pattern", CT_PATTERN, 0, "", 0, 0, GLOBAL},
};

#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

/* conf_parse_duration - "65", "65s", "5m", "2h", "30d", "500ms", "6.5s" */
int conf_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
	const char *unit;
	int64_t ms;
    } units[] = {
	{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000},
	{"h", 3600000}, {"d", 86400000}, {"w", 604800000},
    };
    int64_t whole = 0, frac = 0, scale = 1;
    const char *p = s;

    if (!isdigit((unsigned char) *p))
	return -1;
    for (; isdigit((unsigned char) *p); p++) {
	if (whole > (INT64_MAX / 10) / 1000000000LL)
	    return -1;
	whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
	p++;
	if (!isdigit((unsigned char) *p))
	    return -1;
	for (; isdigit((unsigned char) *p); p++) {
	    if (scale < 1000000) {
		frac = frac * 10 + (*p - '0');
		scale *= 10;
	    }
	}
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
	if (strcmp(p, units[i].unit) == 0) {
	    int64_t u = units[i].ms;

	    if (whole > INT64_MAX / u / 2)
		return -1;
	    *ms = whole * u + frac * u / scale;
	    return 0;
	}
    }
    return -1;
}

/* conf_format_duration - the shortest exact spelling of a duration */
void conf_format_duration(int64_t ms, char *buf, size_t len)
{
    if (ms % 1000 != 0)
	snprintf(buf, len, "%" PRId64 "ms", ms);
    else if (ms != 0 && ms % 86400000 == 0)
	snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
    else if (ms != 0 && ms % 3600000 == 0)
	snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    else if (ms != 0 && ms % 60000 == 0)
	snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    else
	snprintf(buf, len, "%" PRId64 "s", ms / 1000);
}

/* conf_parse_int - a whole decimal number, nothing else; 0 or -1 */
int conf_parse_int(const char *s, int64_t *v)
{
    char   *end;

    if (!isdigit((unsigned char) *s) && *s != '-')
	return -1;
    errno = 0;
    long long n = strtoll(s, &end, 10);

    if (errno || *end)
	return -1;
    *v = n;
    return 0;
}

/* parse_bool - yes/no and the usual spellings */
static int parse_bool(const char *s, int64_t *v)
{
    static const char *yes[] = {"yes", "true", "on", "1"};
    static const char *no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
	if (strcasecmp(s, yes[i]) == 0)
	    return *v = 1, 0;
	if (strcasecmp(s, no[i]) == 0)
	    return *v = 0, 0;
    }
    return -1;
}

/* conf_valid_action - a Postfix access action we are willing to send */
int conf_valid_action(const char *s)
{
    static const char *words[] = {
	"REJECT", "DEFER", "DEFER_IF_PERMIT", "DEFER_IF_REJECT", "DUNNO",
    };
    size_t  n = strcspn(s, " \t");

    if (strlen(s) >= CONF_ACTION_MAX)
	return 0;
    for (const char *p = s; *p; p++)
	if ((unsigned char) *p < 0x20 || *p == 0x7f)
	    return 0;
    if (n == 3 && (s[0] == '4' || s[0] == '5') && isdigit((unsigned char) s[1])
	&& isdigit((unsigned char) s[2]))
	return 1;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	if (strlen(words[i]) == n && strncasecmp(s, words[i], n) == 0)
	    return 1;
    return 0;
}

/* add_rule - parse and append a rule to this level; 0 or -1 */
static int add_rule(struct tp_conf *c, const char *value, char *why, size_t whylen)
{
    struct tp_rule r;

    if (rule_parse(value, &r, why, whylen) < 0)
	return -1;
    c->rules = xrealloc(c->rules, (c->nrules + 1) * sizeof(*c->rules));
    c->rules[c->nrules++] = r;
    return 0;
}

/* add_offender - "/regex/" with one group capturing the address */
static int add_offender(struct tp_conf *c, const char *value, char *why, size_t whylen)
{
    char    re[REGEX_MAX_LEN + 2], err[200];
    size_t  n = strlen(value);
    regex_t *v;
    int     rc;

    if (n < 3 || value[0] != '/' || value[n - 1] != '/' || n - 2 > REGEX_MAX_LEN)
	return snprintf(why, whylen, "offender_pattern: write it as /regex/"), -1;
    snprintf(re, sizeof(re), "%.*s", (int) (n - 2), value + 1);
    if (regex_sane(re, err, sizeof(err)) < 0)
	return snprintf(why, whylen, "offender_pattern: refused: %s", err), -1;
    v = xrealloc(c->offender_re, (c->n_offender_re + 1) * sizeof(*v));
    c->offender_re = v;
    if ((rc = regcomp(v + c->n_offender_re, re, REG_EXTENDED)) != 0) {
	regerror(rc, v + c->n_offender_re, err, sizeof(err));
	return snprintf(why, whylen, "offender_pattern: bad regex: %s", err), -1;
    }
    if (v[c->n_offender_re].re_nsub < 1) {
	regfree(v + c->n_offender_re);
	return snprintf(why, whylen, "offender_pattern: needs a (group) that "
			"captures the client address"), -1;
    }
    c->n_offender_re++;
    return 0;
}

/* set_key - store one value; 0 or -1 with a reason */
static int set_key(struct tp_conf *c, const struct conf_key *k,
		           const char *value, char *why, size_t whylen)
{
    char   *field = (char *) c + k->offset;
    int64_t v = 0;

    switch (k->type) {
    case CT_PATTERN:
	return add_offender(c, value, why, whylen);
    case CT_RULE:
	return add_rule(c, value, why, whylen);
    case CT_STR:
	if (*value == 0) {
	    snprintf(why, whylen, "%s: empty value", k->name);
	    return -1;
	}
	if (strlen(value) >= (k->max ? (size_t) k->max : CONF_PATH_MAX)) {
	    snprintf(why, whylen, "%s: value too long", k->name);
	    return -1;
	}
	strcpy(field, value);
	return 0;
    case CT_WORDS:
	if (strlen(value) >= CONF_WORDS_MAX) {
	    snprintf(why, whylen, "%s: more than %d characters", k->name, CONF_WORDS_MAX - 1);
	    return -1;
	}
	strcpy(field, value);
	return 0;
    case CT_ACTION:
	if ((strcmp(value, "ignore") != 0 || strcmp(k->name, "early_talker_action") != 0)
	    && !conf_valid_action(value)) {
	    snprintf(why, whylen, "%s: \"%s\" is neither \"ignore\" nor an action "
		     "(REJECT, DEFER, DEFER_IF_PERMIT, 4xx or 5xx, and a text)",
		     k->name, value);
	    return -1;
	}
	strcpy(field, value);
	return 0;
    case CT_BOOL:
	if (parse_bool(value, &v) < 0) {
	    snprintf(why, whylen, "%s: \"%s\" is not yes or no", k->name, value);
	    return -1;
	}
	break;
    case CT_INT:
	if (conf_parse_int(value, &v) < 0) {
	    snprintf(why, whylen, "%s: \"%s\" is not a whole number",
		     k->name, value);
	    return -1;
	}
	if (v < k->min || v > k->max) {
	    snprintf(why, whylen, "%s: %" PRId64 " is out of range "
		     "%" PRId64 "..%" PRId64, k->name, v, k->min, k->max);
	    return -1;
	}
	break;
    case CT_DURATION:
	if (conf_parse_duration(value, &v) < 0) {
	    snprintf(why, whylen, "%s: \"%s\" is not a duration "
		     "(like 65s, 5m, 2h, 30d)", k->name, value);
	    return -1;
	}
	if (v < k->min || v > k->max) {
	    char    lo[32], hi[32];

	    conf_format_duration(k->min, lo, sizeof(lo));
	    conf_format_duration(k->max, hi, sizeof(hi));
	    snprintf(why, whylen, "%s: \"%s\" is out of range %s..%s",
		     k->name, value, lo, hi);
	    return -1;
	}
	break;
    }
    *(int64_t *) (void *) field = v;	/* the key table points at an int64_t */
    return 0;
}

/* conf_defaults - every key at its documented default */
void conf_defaults(struct tp_conf *c)
{
    char    why[256];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NKEYS; i++)
	if (conf_keys[i].def[0]
	    && set_key(c, conf_keys + i, conf_keys[i].def, why, sizeof(why)) < 0)
	    msg_panic("default %s = %s: %s", conf_keys[i].name, conf_keys[i].def,
		      why);			/* a bad default is our bug */
}

/* free_rules - one level's rules */
static void free_rules(struct tp_conf *c)
{
    for (size_t i = 0; i < c->nrules; i++)
	rule_free(c->rules + i);
    free(c->rules);
    c->rules = 0;
    c->nrules = 0;
}

/* conf_free - the rules and profiles a loaded config holds */
void conf_free(struct tp_conf *c)
{
    for (size_t i = 0; i < c->n_offender_re; i++)
	regfree(c->offender_re + i);
    free(c->offender_re);
    c->offender_re = 0;
    c->n_offender_re = 0;
    for (size_t i = 0; i < c->nprofiles; i++)
	free_rules(c->profiles + i);
    free(c->profiles);
    c->profiles = 0;
    c->nprofiles = 0;
    free_rules(c);
}

/* conf_move - settings read into one place, moved to another: the
 * profiles' pointers to their global settings follow */
void    conf_move(struct tp_conf *to, const struct tp_conf *from)
{
    *to = *from;
    for (size_t i = 0; i < to->nprofiles; i++)
	to->profiles[i].parent = to;
}

/* conf_profile - the settings for a policy_context; 0 when unknown */
const struct tp_conf *conf_profile(const struct tp_conf *c, const char *name)
{
    for (size_t i = 0; i < c->nprofiles; i++)
	if (strcmp(c->profiles[i].name, name) == 0)
	    return c->profiles + i;
    return 0;
}

/* start_profile - a new [name] section, the global settings copied */
static struct tp_conf *start_profile(struct tp_conf *c, const char *name,
				             char *why, size_t whylen)
{
    struct tp_conf *p;
    size_t  n = strlen(name);

    if (n == 0 || n >= sizeof(c->name) || strspn(name,
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n) {
	snprintf(why, whylen, "[%s]: a profile name is letters, digits, '_', "
		 "'.' or '-'", name);
	return 0;
    }
    if (conf_profile(c, name)) {
	snprintf(why, whylen, "[%s] appears twice", name);
	return 0;
    }
    c->profiles = xrealloc(c->profiles, (c->nprofiles + 1) * sizeof(*c->profiles));
    p = c->profiles + c->nprofiles++;
    *p = *c;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->rules = 0;
    p->nrules = 0;
    p->profiles = 0;
    p->nprofiles = 0;
    p->offender_re = 0;
    p->n_offender_re = 0;
    p->parent = c;
    return p;
}

/* conf_path - which file to read; *named: did the user name it? */
const char *conf_path(const char *option, int *named)
{
    const char *env;

    *named = 1;
    if (option)
	return option;
    if ((env = getenv("TARPIT_CONF")) != 0 && *env)
	return env;
    *named = 0;
    return CONF_DEFAULT_PATH;
}

/* trim - strip white space at both ends, in place */
static char *trim(char *s)
{
    char   *e;

    while (isspace((unsigned char) *s))
	s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char) e[-1]))
	*--e = 0;
    return s;
}

/* conf_unsafe - refuse a config file any local user could change (the
 * database's directory: opendb.c); 0 when safe, else -1 with why */
int conf_unsafe(const char *path, char *why, size_t len)
{
    struct stat st;

    if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH)) {
	snprintf(why, len, "%s is writable by any user: refusing it (chmod o-w %s)",
		 path, path);
	return -1;
    }
    return 0;
}

/* conf_value - one key's value as the config file would spell it */
int conf_value(const struct tp_conf *c, const char *name, char *buf, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++) {
	const struct conf_key *k = conf_keys + i;
	const char *field = (const char *) c + k->offset;
	int64_t v;

	if (strcmp(k->name, name) != 0 || k->type == CT_RULE || k->type == CT_PATTERN)
	    continue;
	if (k->type == CT_STR || k->type == CT_WORDS || k->type == CT_ACTION) {
	    snprintf(buf, len, "%s", field);
	    return 0;
	}
	memcpy(&v, field, sizeof(v));
	if (k->type == CT_BOOL)
	    snprintf(buf, len, "%s", v ? "yes" : "no");
	else if (k->type == CT_DURATION)
	    conf_format_duration(v, buf, len);
	else
	    snprintf(buf, len, "%" PRId64, v);
	return 0;
    }
    return -1;
}

/* conf_key_name - the name of the i-th key, or 0 past the end */
const char *conf_key_name(size_t i)
{
    return i < NKEYS ? conf_keys[i].name : 0;
}

/* conf_peek_store - the global database and state_directory of a config
 * file, the rest at its defaults, even when other lines are wrong: where
 * a helper finds the settings it last read whole.  0, or -1 when the file
 * cannot be read */
int conf_peek_store(struct tp_conf *c, const char *path)
{
    static const char *const keys[] = {"database", "state_directory"};
    char    line[2048], why[512];
    FILE   *fp;

    conf_defaults(c);
    if ((fp = fopen(path, "r")) == 0)
	return -1;
    while (fgets(line, sizeof(line), fp) != 0) {
	char   *p = trim(line), *eq;

	if (*p == '[')
	    break;			/* the global settings end here */
	if (*p == '#' || (eq = strchr(p, '=')) == 0)
	    continue;
	*eq = 0;
	for (size_t i = 0; i < NKEYS; i++)
	    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (strcmp(conf_keys[i].name, keys[k]) == 0 && strcmp(trim(p), keys[k]) == 0)
		    (void) set_key(c, conf_keys + i, trim(eq + 1), why, sizeof(why));
    }
    fclose(fp);
    return 0;
}

/* conf_load - defaults, then the file over them */
int conf_load(struct tp_conf *c, const char *path, int must_exist,
	              char *err, size_t errlen)
{
    FILE   *fp;
    char    line[2048];
    char    why[512];
    int     lineno = 0;
    struct tp_conf *target = c;

    conf_defaults(c);
    if ((fp = fopen(path, "r")) == 0) {
	if (errno == ENOENT && !must_exist)
	    return 0;
	snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	return -1;
    }
    while (fgets(line, sizeof(line), fp) != 0) {
	char   *p, *key, *value, *eq;
	const struct conf_key *k = 0;

	lineno++;
	if (strchr(line, '\n') == 0 && !feof(fp)) {
	    snprintf(err, errlen, "%s:%d: line too long", path, lineno);
	    goto fail;
	}
	for (p = line; *p; p++)
	    if (*p == '#' && (p == line || isspace((unsigned char) p[-1]))) {
		*p = 0;
		break;
	    }
	p = trim(line);
	if (*p == 0)
	    continue;
	if (*p == '[') {
	    size_t  n = strlen(p);

	    if (p[n - 1] != ']') {
		snprintf(err, errlen, "%s:%d: expected \"[NAME]\"", path, lineno);
		goto fail;
	    }
	    p[n - 1] = 0;
	    if ((target = start_profile(c, trim(p + 1), why, sizeof(why))) == 0) {
		snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
		goto fail;
	    }
	    continue;
	}
	if ((eq = strchr(p, '=')) == 0) {
	    snprintf(err, errlen, "%s:%d: expected \"key = value\"",
		     path, lineno);
	    goto fail;
	}
	*eq = 0;
	key = trim(p);
	value = trim(eq + 1);
	for (size_t i = 0; i < NKEYS; i++)
	    if (strcmp(conf_keys[i].name, key) == 0)
		k = conf_keys + i;
	if (k == 0) {
	    snprintf(err, errlen, "%s:%d: unknown key \"%s\"", path, lineno, key);
	    goto fail;
	}
	if (k->global_only && target != c) {
	    snprintf(err, errlen, "%s:%d: %s is global: set it before the first "
		     "[profile]", path, lineno, key);
	    goto fail;
	}
	if (set_key(target, k, value, why, sizeof(why)) < 0) {
	    snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	    goto fail;
	}
	if (k->type == CT_RULE)
	    target->rules[target->nrules - 1].line = lineno;
    }
    if (ferror(fp)) {
	snprintf(err, errlen, "%s: read error", path);
	goto fail;
    }
    fclose(fp);
    return 0;
fail:
    fclose(fp);
    conf_free(c);
    return -1;
}

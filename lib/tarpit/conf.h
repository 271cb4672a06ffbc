#ifndef TARPIT_CONF_H
#define TARPIT_CONF_H

/* conf - tarpit.conf: key = value, one table of keys, ranges as data */

#include "util/addr.h"
#include "tarpit/rule.h"

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH "/etc/tarpit.conf"
#define CONF_PATH_MAX 1024
#define CONF_ACTION_MAX 256
#define CONF_NAME_MAX 64		/* a profile's name, NUL included */
#define CONF_WORDS_MAX 256		/* a list of words, NUL included */
#define CONF_PREFIX_MAX 128		/* database_prefix, NUL included */
#define CONF_USER_MAX 64		/* a user's name, NUL included */


/*
 * The global settings, and a copy of them per [profile] with that
 * section's keys over them.  Keys marked global-only in conf.c (database,
 * prefixes, timeouts, max_waiting) are the same in every profile.
 */
struct tp_conf {
    char    name[CONF_NAME_MAX];	/* the profile's name; "" global */
    char    database[CONF_PATH_MAX];	/* a GDBM file, or a server's URL */
    char    database_prefix[CONF_PREFIX_MAX];	/* a server's keys start with it */
    char    database_password_file[CONF_PATH_MAX];
    int64_t database_timeout_ms;	/* a server's connect and commands */
    char    state_directory[CONF_PATH_MAX];	/* this host's files, with a server */
    int64_t sleep_ms;			/* tarpit length */
    int64_t threshold;			/* escapes that end the tarpit */
    int64_t ipv4_prefix;
    int64_t ipv6_prefix;
    int64_t ipv6_aggregate;		/* a /48 with this many /64s is one */
    int64_t idle_timeout_ms;		/* silence on the policy connection */
    int64_t refresh_ms;			/* how stale last_seen may get */
    int64_t watch_client;		/* watch the SMTP client during a wait */
    char    early_talker_action[CONF_ACTION_MAX];	/* or "ignore" */
    char    block_action[CONF_ACTION_MAX];	/* the answer to a blocked network */
    int64_t max_age_ms;			/* expire drops records untouched this long */
    int64_t skip_authenticated;		/* no tarpit for SASL-authenticated */
    int64_t stress_sleep_ms;		/* the wait when Postfix is under stress */
    int64_t max_waiting;		/* waits at once on this host */
    int64_t dry_run;			/* log decisions, act on none */
    int64_t log_passes;			/* log DUNNO answered without a wait */
    int64_t wait_header;		/* a waited message gets X-Tarpit */
    int64_t share_escapes;		/* a profile's records are the global ones */
    int64_t share_domains;		/* escapes shared by verified domain */
    char    never_share[CONF_WORDS_MAX];	/* domains that share nothing */
    char    exempt_recipients[CONF_WORDS_MAX];	/* never waited or blocked for */
    int64_t greylist;			/* greylist networks that failed */
    int64_t greylist_delay_ms;		/* a retry counts after this long */
    int64_t greylist_retries;		/* retries that end the greylisting */
    int64_t greylist_window_ms;		/* ... within this time */
    int64_t greylist_entries;		/* entries a network may make in it */
    char    greylist_action[CONF_ACTION_MAX];
    int64_t block_after;		/* failures that block; 0 never */
    int64_t block_for_ms;		/* how long such a block lasts */
    int64_t offender_threshold;		/* import-log --offenders: lines */
    int64_t learn_correspondents;	/* import-log: hosts we delivered to */
    char    mail_owner[CONF_USER_MAX];	/* Postfix's user: its journal entries */
    regex_t *offender_re;		/* offender_pattern lines, compiled */
    size_t  n_offender_re;

    struct tp_rule *rules;		/* this level's own rules, in order */
    size_t  nrules;
    const struct tp_conf *parent;	/* a profile's global settings */
    struct tp_conf *profiles;		/* the global settings' profiles */
    size_t  nprofiles;
};

void    conf_defaults(struct tp_conf *);
void    conf_free(struct tp_conf *);
void    conf_move(struct tp_conf *to, const struct tp_conf *from);
const struct tp_conf *conf_profile(const struct tp_conf *, const char *name);
const char *conf_path(const char *option, int *named);
int     conf_load(struct tp_conf *, const char *path, int must_exist,
		          char *err, size_t errlen);
int     conf_value(const struct tp_conf *, const char *name, char *buf,
		           size_t len);
const char *conf_key_name(size_t i);
int     conf_valid_action(const char *);
int     conf_unsafe(const char *path, char *why, size_t len);
int     conf_peek_store(struct tp_conf *, const char *path);
int     conf_parse_duration(const char *, int64_t *ms);
int     conf_parse_int(const char *, int64_t *);
void    conf_format_duration(int64_t ms, char *buf, size_t len);

#endif

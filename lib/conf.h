#ifndef TARPIT_CONF_H
#define TARPIT_CONF_H

/* conf - tarpit.conf: key = value, one table of keys, ranges as data */

#include <stddef.h>
#include <stdint.h>

#define CONF_DEFAULT_PATH "/etc/tarpit.conf"
#define CONF_PATH_MAX 1024
#define CONF_ACTION_MAX 256

struct tp_conf {
    char    database[CONF_PATH_MAX];
    int64_t sleep_ms;			/* tarpit length */
    int64_t threshold;			/* escapes that end the tarpit */
    int64_t ipv4_prefix;
    int64_t ipv6_prefix;
    int64_t idle_timeout_ms;		/* silence on the policy connection */
    int64_t refresh_ms;			/* how stale last_seen may get */
    int64_t watch_client;		/* watch the SMTP client during a wait */
    char    early_talker_action[CONF_ACTION_MAX];	/* or "ignore" */
    char    block_action[CONF_ACTION_MAX];	/* the answer to a blocked network */
    int64_t max_age_ms;			/* expire drops records untouched this long */
};

void    conf_defaults(struct tp_conf *);
const char *conf_path(const char *option, int *named);
int     conf_load(struct tp_conf *, const char *path, int must_exist,
		          char *err, size_t errlen);
int     conf_value(const struct tp_conf *, const char *name, char *buf,
		           size_t len);
const char *conf_key_name(size_t i);
int     conf_valid_action(const char *);
int     conf_parse_duration(const char *, int64_t *ms);
void    conf_format_duration(int64_t ms, char *buf, size_t len);

#endif

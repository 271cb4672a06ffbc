#ifndef TARPIT_STORE_REDIS_LINK_H
#define TARPIT_STORE_REDIS_LINK_H

/*
 * redis_link - the server backend's own header: the handle, hiredis
 * (opened with dlopen()), and the connection: its URL, its password, one
 * command or a pipeline of them, and what a failed one says.  redis.c
 * (the records) and redis_link.c (the link) alone include it.
 */

#include "store/backend.h"

#include <hiredis/hiredis.h>
#include <stdint.h>

#define KEY_BUF (DB_KEY_MAX + 128)	/* a key and database_prefix */

/* The few hiredis functions we call, found by dlsym(). */
struct hiredis {
    int     tried, ok;
    redisContext *(*connect_tcp) (const char *, int, const struct timeval);
    redisContext *(*connect_unix) (const char *, const struct timeval);
    int     (*set_timeout) (redisContext *, const struct timeval);
    void   *(*command_argv) (redisContext *, int, const char **, const size_t *);
    int     (*append_argv) (redisContext *, int, const char **, const size_t *);
    int     (*get_reply) (redisContext *, void **);
    void    (*free_ctx) (redisContext *);
    void    (*free_reply) (void *);
    char    error[256];
};

extern struct hiredis hiredis_api;

struct redis {
    struct tp_db base;			/* first: db.c's handle */
    char    url[DB_PATH_MAX];		/* as configured, for messages */
    char    host[256];
    int     port;
    char    socket[DB_PATH_MAX];	/* a UNIX socket instead */
    int     dbnum;
    char    user[128];
    char    password_file[DB_PATH_MAX];
    char    prefix[128];
    int64_t timeout_ms;
    int64_t max_age_s;
    redisContext *c;
};

extern const struct db_ops redis_ops;

void    redis_free(struct tp_db *);
void    redis_release(struct tp_db *);
void    redis_set_error(struct redis *, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void    redis_io_failed(struct redis *, const char *what);
int     redis_reply_error(struct redis *, const char *what, const redisReply *);
redisReply *redis_command(struct redis *, const char *what, int argc, const char **argv,
			        const size_t *lens);
int     redis_connect(struct redis *);
int     redis_tcp_port(struct tp_db *);
int     redis_resolves(struct tp_db *);
int     redis_pipeline(struct redis *, const char *what, int n, int *argc,
		             const char ***argv, const size_t **lens, redisReply **rep);

#endif

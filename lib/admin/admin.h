#ifndef TARPIT_ADMIN_H
#define TARPIT_ADMIN_H

/*
 * admin - the commands of tarpit-admin, shared by the shell and `serve`.
 * One file per concern, as Postfix splits postconf:
 *
 *	admin.c		the command table, usage, dispatch, word splitting
 *	admin_print.c	records as text and JSON, the sorted collection
 *	admin_edit.c	check, del, allow, block, unblock
 *	admin_report.c	list, info, config
 *	admin_stats.c	stats: text and chart, JSON, Prometheus
 *	admin_expire.c	expire, recover
 *	admin_dump.c	dump, load: the text form of the whole database
 *	admin_map.c	export-map
 *	admin_doctor.c	doctor
 *	admin_importlog.c import-log
 *	admin_journal.c	import-log's journal reader (the one use of libsystemd)
 *	admin_priv.c	root's tarpit-admin in two processes
 *	admin_serve.c	serve: the admin socket's line protocol
 */

#include "util/addr.h"
#include "tarpit/conf.h"
#include "store/db.h"
#include "tarpit/ledger.h"
#include "util/mem.h"

#include <stdio.h>
#include <sys/types.h>

/* Exit statuses (tarpit-admin(8), EXIT STATUS). */
#define ADMIN_OK 0
#define ADMIN_NOTFOUND 1			/* an address had no record */
#define ADMIN_USAGE 2			/* a command, option or input is wrong */
#define ADMIN_CONFIG 3			/* the config file */
#define ADMIN_DB 4			/* the database or its lock file */
#define ADMIN_PROBLEMS 5		/* doctor found problems */
#define ADMIN_IO 6			/* a file or the output: read or write failed */

struct admin {
    struct tp_conf conf;
    const char *conf_file;
    struct tp_db *db;
    int     json;
    FILE   *out, *err;
    int     priv;			/* a socket to root's part (admin_priv.c),
					 * or 0: one process */
};

typedef int admin_fn(struct admin *, int argc, char **argv);

/* The command table: the usage text and the dispatch both come from it. */
struct admin_command {
    const char *name;
    admin_fn *fn;
    const char *args;			/* the synopsis after the name */
    const char *what;			/* one line of usage */
    int     no_db;			/* opens no database (runs as who ran it) */
};

extern const struct admin_command admin_commands[];
extern const size_t admin_ncommands;

const struct admin_command *admin_command(const char *name);
int     admin_run(struct admin *, const struct admin_command *, int argc,
		          char **argv);
int     admin_usage(struct admin *);
void    admin_print_usage(FILE *);
int     admin_split(char *line, char **argv, int max);

/* admin_priv.c: root's tarpit-admin in two processes */
int     admin_separate(struct admin *, const char *cmd, int argc, char **argv);
FILE   *admin_open_input(struct admin *, const char *path);
int     admin_priv_output(struct admin *, const char *path);
int     admin_priv_commit(struct admin *, const char *path, int rc);
int     admin_priv_probe(struct admin *, const char *endpoint, char *reply, size_t len);

/* admin_print.c: what several commands print or read */
struct admin_entry {
    struct tp_net net;			/* family 0: another kind of key */
    char   *key;			/* a network, or a greylist entry */
    struct tp_record r;
};

const char *admin_time(int64_t t, char *buf, size_t len);
void    admin_json_string(FILE *, const char *);
const char *admin_safe(const char *, char *buf, size_t len);
void    admin_print_record(struct admin *, const char *key,
			           const struct tp_record *, int first);
int     admin_collect(struct admin *, struct array *entries, int greylist);
void    admin_collect_free(struct array *entries);
int     admin_arg_key(struct admin *, const char *arg, char *key, size_t len);
int     admin_db_failed(struct admin *);
int     admin_io_failed(struct admin *, const char *what);
int     admin_no_record(struct admin *, const char *arg, const char *key);
ssize_t admin_read_line(FILE *, char *buf, size_t len);

/* A command's output: a->out, or a file written whole or not at all. */
struct admin_out {
    FILE   *fp;
    const char *path;			/* 0: a->out */
    char    tmp[CONF_PATH_MAX + 32];	/* the temporary file's name in dirfd */
    const char *name;			/* the output's own name, in dirfd */
    int     dirfd;			/* its directory (out_dir) */
    int     via_priv;			/* made by root's part (admin_priv.c) */
    int     changed;			/* out: what was put in place differs
					 * from what was there */
};

FILE   *admin_out_make(struct admin *, struct admin_out *, const char *path);
FILE   *admin_out_open(struct admin *, struct admin_out *, const char *path);
int     admin_out_close(struct admin *, struct admin_out *, int rc);

/* admin_journal.c: Postfix's messages from the systemd journal */
struct journal_read {
    char  **files;			/* journal files, 0-terminated; 0: the
					 * local system journal */
    int64_t since, until;		/* Unix seconds; 0: no bound */
    const char *cursor;			/* where the last run stopped, or 0 */
    char   *last;			/* out: the last entry's cursor, or 0 */
    long    entries;			/* out: Postfix entries read */
    int     cursor_gone;		/* out: the cursor named no entry */
};

int     admin_journal_here(struct admin *, struct journal_read *,
			           void (*fn) (void *ctx, const char *ident,
					               const char *message), void *ctx);
int     admin_priv_journal(struct admin *, struct journal_read *,
			           void (*fn) (void *ctx, const char *ident,
					               const char *message), void *ctx);
int     admin_journal_read(struct admin *, struct journal_read *,
			           void (*fn) (void *ctx, const char *ident,
					               const char *message), void *ctx);
char   *admin_journal_cursor(const char *path);
int     admin_journal_save_cursor(struct admin *, const char *path, const char *cursor);

/* admin_report.c: what info and stats both count; n has a place for each
 * enum record_state (decide.h) */
int     admin_count_states(struct admin *, long *n, size_t *records);
int     admin_waiting(struct admin *);
int     admin_sandbox(struct admin *, char *why, size_t len);

/* The commands, one file per concern. */
admin_fn admin_check, admin_del, admin_allow, admin_block, admin_unblock, admin_ask;
admin_fn admin_postfix;

/* admin_postfix.c: a Postfix parameter as postconf -h says it, or 0 */
char   *admin_postconf(const char *name);
extern const char *const admin_postfix_lists[];

/* A word of a Postfix list (a { ... } group is one): where it starts and
 * ends in the text; admin_list_words() finds at most max of them. */
struct admin_word {
    size_t  at, end;
};

#define ADMIN_MAX_WORDS 512
int     admin_list_words(const char *list, struct admin_word *, int max);
int     admin_postfix_reload(struct admin *);

/* Where export-map's unit writes the table Postfix trusts: root's. */
#define ADMIN_MAP_DIR "/var/lib/tarpit-map"

/* admin_map.c: a line of the table Postfix trusts, as export-map writes
 * it (0), or not (-1) */
int     admin_map_line_ok(const struct tp_conf *, const char *line);

/* admin_doctor.c: doctor's question to a UNIX policy socket (with
 * in_queue, only one in Postfix's queue directory): 0 with the reply's
 * first line, or -1 (errno); where says the path asked */
int     admin_probe_unix(const char *endpoint, int in_queue, char *where, size_t wlen,
			         char *reply, size_t rlen);
admin_fn admin_list, admin_info, admin_stats, admin_config;
admin_fn admin_expire, admin_recover;
admin_fn admin_dump, admin_load;
admin_fn admin_export_map;
admin_fn admin_doctor;
admin_fn admin_import_log;
admin_fn admin_serve;

/* admin_serve.c: one line of the socket protocol, replied to on a->out */
void    admin_serve_line(struct admin *, char *line);

#endif

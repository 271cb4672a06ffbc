#ifndef TARPIT_ADMIN_H
#define TARPIT_ADMIN_H

/* admin - the commands of tarpit-admin, shared by the shell and `serve` */

#include "conf.h"
#include "db.h"

#include <stdio.h>

#define ADMIN_OK 0
#define ADMIN_NOTFOUND 1
#define ADMIN_USAGE 2
#define ADMIN_CONFIG 3
#define ADMIN_DB 4
#define ADMIN_PROBLEMS 5

struct admin {
    struct tp_conf conf;
    const char *conf_file;
    struct tp_db *db;
    int     json;
    FILE   *out, *err;
};

typedef int admin_fn(struct admin *, int argc, char **argv);

admin_fn *admin_command(const char *name);
int     admin_split(char *line, char **argv, int max);
int     admin_usage(struct admin *);
extern const char admin_usage_text[];

/* doctor.c, importlog.c */
int     admin_doctor(struct admin *, int argc, char **argv);
int     admin_import_log(struct admin *, int argc, char **argv);

#endif

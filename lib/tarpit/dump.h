#ifndef TARPIT_DUMP_H
#define TARPIT_DUMP_H

/*
 * dump - the whole database as text, one line per key: the format of
 * `tarpit-admin dump` and `load` (tarpit-admin(8), DUMP FORMAT).
 */

#include "store/db.h"

#include <stdio.h>

#define DUMP_HEADER "# tarpit dump 1"

enum dump_line { DUMP_SKIP, DUMP_STATS, DUMP_RECORD };

struct dump_item {
    enum dump_line kind;
    char    key[DB_KEY_MAX];		/* DUMP_RECORD: a network or greylist entry */
    struct tp_record rec;		/* DUMP_RECORD */
    struct tp_stats stats;		/* DUMP_STATS */
};

void    dump_stats(FILE *, const struct tp_stats *);
void    dump_record(FILE *, const char *key, const struct tp_record *);
int     dump_parse(char *line, struct dump_item *, const char **why);

#endif

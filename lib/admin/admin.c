/*
 * NAME
 *	admin - tarpit-admin's command table, usage and dispatch
 * DESCRIPTION
 *	Every command is a row of admin_commands[]: its name, its function,
 *	its synopsis and one line of what it does.  The usage text is printed
 *	from the table, so the two cannot disagree; a test holds the manual
 *	page to the same list.  Each command gets its arguments after the
 *	command word, writes to a->out and a->err (so `serve` runs the very
 *	same code for a client on its socket) and returns an exit status (see
 *	admin.h and tarpit-admin(8)).  Output formats are documented and
 *	stable: scripts may rely on them.
 *
 *	admin_run() runs a row of the table: a command whose synopsis is
 *	empty takes no argument, and is refused one here.
 *
 *	admin_split() breaks a line of the admin socket into words.
 */
#define _GNU_SOURCE
#include "admin/admin.h"

#include <string.h>

const struct admin_command admin_commands[] = {
    {"check", admin_check, "address|network ...", "the record of each one's network", 0},
    {"ask", admin_ask, "address [--name name] [--sender address] [--recipient address]"
     " [--profile name]", "what tarpit-check would answer now, and why (changes nothing)", 0},
    {"list", admin_list, "", "every record, one a line", 0},
    {"del", admin_del, "address|network ...", "remove records", 0},
    {"allow", admin_allow, "address|network [--for duration] [--comment text]",
    "never make the network wait", 0},
    {"block", admin_block, "address|network [--for duration] [--comment text]",
    "answer the network block_action", 0},
    {"unblock", admin_unblock, "address|network ...", "end blocks", 0},
    {"info", admin_info, "", "database, record counts, settings", 0},
    {"stats", admin_stats, "[--format text|json|prometheus] [--no-chart] [-o file]",
    "totals and the hang-up histogram", 0},
    {"expire", admin_expire, "", "drop records older than max_age", 0},
    {"dump", admin_dump, "", "the whole database as text", 0},
    {"load", admin_load, "[file]", "records from a dump (stdin by default)", 0},
    {"doctor", admin_doctor, "[--check-port port] [--store-port port]",
    "check the installation and Postfix", 0},
    {"export-map", admin_export_map, "[--format cidr|access] [-o file [--postfix-reload]]",
    "the blocked networks as a Postfix table", 0},
    {"import-log", admin_import_log, "[--seed] [--offenders] [--dry-run] file ... | --journal"
     " [--since time] [--until time] [--from-start] | --journal-file file ...",
    "learn from Postfix mail logs or the journal", 0},
    {"recover", admin_recover, "", "check the database, rebuild it if damaged", 0},
    {"config", admin_config, "[key ...]", "the settings in effect", 0},
    {"postfix", admin_postfix, "enable|disable [--dry-run]",
    "put the tarpit's entries into main.cf, or take them all out", 1},
    {"serve", admin_serve, "", "the admin socket protocol on fd 3 or stdin", 0},
};

const size_t admin_ncommands = sizeof(admin_commands) / sizeof(admin_commands[0]);

/* admin_print_usage - the usage text, from the command table */
void    admin_print_usage(FILE *fp)
{
    fputs("usage: tarpit-admin [-c config_file] [--json] command [argument ...]\n"
	  "       tarpit-admin -V | --version\n"
	  "commands:\n", fp);
    for (size_t i = 0; i < admin_ncommands; i++) {
	const struct admin_command *c = admin_commands + i;
	int     n = fprintf(fp, "  %s%s%s", c->name, c->args[0] ? " " : "", c->args);

	if (n > 29)
	    fprintf(fp, "\n%29s", "");
	else
	    fprintf(fp, "%*s", 29 - n, "");
	fprintf(fp, "%s\n", c->what);
    }
}

/* admin_usage - the usage text on the error stream */
int admin_usage(struct admin *a)
{
    admin_print_usage(a->err);
    return ADMIN_USAGE;
}

/* admin_command - the table row of a command word, or 0 */
const struct admin_command *admin_command(const char *name)
{
    for (size_t i = 0; i < admin_ncommands; i++)
	if (strcmp(name, admin_commands[i].name) == 0)
	    return admin_commands + i;
    return 0;
}

/* admin_run - one command with its arguments; a command whose synopsis
 * takes none refuses any (usage), so that each need not */
int admin_run(struct admin *a, const struct admin_command *cmd, int argc,
	              char **argv)
{
    if (cmd->args[0] == 0 && argc != 0)
	return admin_usage(a);
    return cmd->fn(a, argc, argv);
}

/* admin_split - a command line into words, in place; "double quotes"
 * group; the count, or -1 for too many words or an open quote */
int admin_split(char *line, char **argv, int max)
{
    int     argc = 0;
    char   *p = line, *w;

    for (;;) {
	while (*p == ' ' || *p == '\t')
	    p++;
	if (*p == 0)
	    return argc;
	if (argc == max)
	    return -1;
	if (*p == '"') {
	    w = ++p;
	    if ((p = strchr(p, '"')) == 0)
		return -1;
	} else {
	    w = p;
	    p += strcspn(p, " \t");
	}
	if (*p)
	    *p++ = 0;
	argv[argc++] = w;
    }
}

/*
 * NAME
 *	tarpit-admin - look at and edit the tarpit database
 * SYNOPSIS
 *	tarpit-admin [-c config_file] [--json] command [argument ...]
 *	tarpit-admin -V | --version
 * DESCRIPTION
 *	Reads the config, opens the database and runs one command of the
 *	table in admin.c (see tarpit-admin(8)); `serve` runs them for the
 *	lines of the admin socket.  Root on a database of another user's
 *	works in two processes (admin_priv.c): the one that opens the
 *	database is that user's for good.  A command that opens no database
 *	(`postfix`, which edits main.cf) runs as who ran it, in one process.
 * EXIT STATUS
 *	0 done; 1 not found; 2 usage or malformed input; 3 config error;
 *	4 database error; 5 doctor found problems; 6 a file or the output
 *	could not be read or written.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/opendb.h"
#include "util/log.h"

#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* say_last_good - for doctor on a config that does not read: what the
 * helpers go on with (the copy a helper kept, tarpit-check(8)); only its
 * name and time are looked at, never its contents */
static void say_last_good(const char *conf_file)
{
    struct tp_conf peek;
    struct stat st;
    char    path[DB_FILE_MAX], when[40];

    if (conf_peek_store(&peek, conf_file) < 0
	|| opendb_file(&peek, HOST_LAST_GOOD, path, sizeof(path)) == 0)
	return;
    if (stat(path, &st) == 0)
	fprintf(stderr, "problem: %s has an error (above): the helpers go on with the settings "
		"a helper last read whole, kept in %s (the file as it was at %s); new "
		"settings apply once it reads\n  fix: correct the line, then tarpit-admin "
		"config shows what is in effect\n", conf_file, path,
		admin_time((int64_t) st.st_mtim.tv_sec, when, sizeof(when)));
    else
	fprintf(stderr, "problem: %s has an error (above), and no helper read it whole "
		"before: every request is answered DUNNO, the tarpit is off\n  fix: correct "
		"the line\n", conf_file);
}

int main(int argc, char **argv)
{
    struct admin a;
    char  **args = xcalloc((size_t) argc + 1, sizeof(*args));
    int     nargs = 0, named, status;
    char    err[700];
    const char *option = 0;
    const struct admin_command *cmd = 0;

    log_init("tarpit-admin");
    memset(&a, 0, sizeof(a));
    a.out = stdout;
    a.err = stderr;
    for (int i = 1; i < argc; i++) {
	if (nargs == 0 && strcmp(argv[i], "-c") == 0) {
	    if (++i >= argc)
		return admin_usage(&a);
	    option = argv[i];
	} else if (strcmp(argv[i], "--json") == 0) {
	    a.json = 1;
	} else if (nargs == 0 && (strcmp(argv[i], "-V") == 0
				  || strcmp(argv[i], "--version") == 0)) {
	    printf("tarpit-admin %s\n", TARPIT_VERSION);
	    free(args);
	    return ADMIN_OK;
	} else if (nargs == 0 && (strcmp(argv[i], "-h") == 0
				  || strcmp(argv[i], "--help") == 0)) {
	    admin_print_usage(stdout);
	    free(args);
	    return ADMIN_OK;
	} else if (nargs == 0 && argv[i][0] == '-') {
	    fprintf(stderr, "tarpit-admin: unknown option \"%s\"\n", argv[i]);
	    free(args);
	    return admin_usage(&a);
	} else {
	    args[nargs++] = argv[i];
	}
    }
    if (nargs == 0 || (cmd = admin_command(args[0])) == 0) {
	if (nargs)
	    fprintf(stderr, "tarpit-admin: unknown command \"%s\"\n", args[0]);
	free(args);
	return admin_usage(&a);
    }
    a.conf_file = conf_path(option, &named);
    if (conf_load(&a.conf, a.conf_file, named, err, sizeof(err)) < 0
	|| conf_unsafe(a.conf_file, err, sizeof(err)) < 0) {
	fprintf(stderr, "tarpit-admin: %s\n", err);
	conf_free(&a.conf);
	if (strcmp(cmd->name, "doctor") == 0)
	    say_last_good(a.conf_file);
	free(args);
	return ADMIN_CONFIG;
    }
    if (cmd->no_db) {
	status = admin_run(&a, cmd, nargs - 1, args + 1);
	conf_free(&a.conf);
	free(args);
	return status;
    }
    if ((status = admin_separate(&a, cmd->name, nargs - 1, args + 1)) >= 0) {
	conf_free(&a.conf);
	free(args);
	return status;
    }
    if ((a.db = opendb(&a.conf, err, sizeof(err))) == 0) {
	fprintf(stderr, "tarpit-admin: %s\n", err);
	conf_free(&a.conf);
	if (strcmp(cmd->name, "doctor") == 0)
	    say_last_good(a.conf_file);
	free(args);
	return ADMIN_CONFIG;
    }
    status = admin_run(&a, cmd, nargs - 1, args + 1);
    if (fflush(stdout) != 0 && status == ADMIN_OK)
	status = admin_io_failed(&a, "standard output");
    db_free(a.db);
    conf_free(&a.conf);
    free(args);
    return status;
}

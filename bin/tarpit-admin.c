/*
 * NAME
 *	tarpit-admin - look at and edit the tarpit database
 * SYNOPSIS
 *	tarpit-admin [-c config_file] [--json] command [argument ...]
 * DESCRIPTION
 *	Reads the config, then runs one command (see admin.c and
 *	tarpit-admin(8)); or, as `serve`, runs commands read one a line from
 *	the admin socket (fd 3 from systemd, else stdin/stdout), each reply
 *	ending with an empty line.  The tarpit_checks.py forms check=ADDR,
 *	del=ADDR, all and info are understood there too.
 * EXIT STATUS
 *	0 done; 1 not found; 2 usage or malformed input; 3 config error;
 *	4 database error; 5 doctor found problems.
 */
#define _GNU_SOURCE
#include "admin.h"
#include "listen.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SERVE_LINE_MAX 4096
#define SERVE_ARGS_MAX 32

/* serve_line - one request of the admin protocol, replied to on out */
static void serve_line(struct admin *a, char *line)
{
    char   *argv[SERVE_ARGS_MAX + 2];
    int     argc, json = a->json;
    admin_fn *fn;

    /* tarpit_checks.py's forms */
    if (strncmp(line, "check=", 6) == 0 || strncmp(line, "del=", 4) == 0)
	*strchr(line, '=') = ' ';
    if ((argc = admin_split(line, argv, SERVE_ARGS_MAX)) < 0) {
	fprintf(a->out, "error: cannot parse the line\n");
	return;
    }
    if (argc > 0 && strcmp(argv[0], "all") == 0)
	argv[0] = "list";
    if (argc > 0 && strcmp(argv[0], "--json") == 0) {
	a->json = 1;
	memmove(argv, argv + 1, (size_t) argc-- * sizeof(*argv));
    }
    if (argc == 0)
	fprintf(a->out, "error: empty command\n");
    else if ((fn = admin_command(argv[0])) == 0 || strcmp(argv[0], "serve") == 0)
	fprintf(a->out, "error: unknown command \"%s\"\n", argv[0]);
    else {
	int     rc = fn(a, argc - 1, argv + 1);

	if (rc != ADMIN_OK)
	    fprintf(a->out, "error: exit status %d\n", rc);
    }
    a->json = json;
}

/* read_line - the next line from fd within timeout_ms; its length, or -1
 * at end of input, on silence, or for a line longer than the buffer */
static ssize_t read_line(int fd, char *buf, size_t cap, size_t *have,
			         int64_t timeout_ms, char *line)
{
    for (;;) {
	char   *nl = memchr(buf, '\n', *have);

	if (nl) {
	    size_t  len = (size_t) (nl - buf);

	    memcpy(line, buf, len);
	    line[len] = 0;
	    memmove(buf, nl + 1, *have - len - 1);
	    *have -= len + 1;
	    return (ssize_t) len;
	}
	if (*have == cap)
	    return -1;

	struct pollfd pfd = {.fd = fd,.events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, (int) timeout_ms) <= 0)
	    return -1;
	if ((n = read(fd, buf + *have, cap - *have)) <= 0)
	    return -1;
	*have += (size_t) n;
    }
}

/* serve - the admin socket: a command a line, a reply ending in "\n\n" */
static int serve(struct admin *a)
{
    int     n = listen_fds(), in = STDIN_FILENO, out_fd = STDOUT_FILENO;
    char    buf[SERVE_LINE_MAX], line[SERVE_LINE_MAX + 1];
    size_t  have = 0;
    FILE   *out_fp;

    if (n > 1 || n < 0)
	msg_fatal("expected one connection from systemd, got %d", n);
    if (n == 1)
	in = out_fd = LISTEN_FDS_START;
    log_avoid_fd(in);
    log_avoid_fd(out_fd);
    if ((out_fp = fdopen(dup(out_fd), "w")) == 0)
	msg_fatal("fdopen: %s", strerror(errno));
    a->out = a->err = out_fp;
    while (read_line(in, buf, sizeof(buf), &have, a->conf.idle_timeout_ms, line) >= 0) {
	line[strcspn(line, "\r")] = 0;
	if (strcmp(line, "quit") == 0)
	    break;
	serve_line(a, line);
	putc('\n', out_fp);
	if (fflush(out_fp) != 0)
	    break;
    }
    fclose(out_fp);
    return ADMIN_OK;
}

int main(int argc, char **argv)
{
    struct admin a;
    char  **args = calloc((size_t) argc + 1, sizeof(*args));
    int     nargs = 0, named, status;
    char    err[700];
    const char *option = 0;
    admin_fn *fn = 0;

    log_init("tarpit-admin");
    memset(&a, 0, sizeof(a));
    a.out = stdout;
    a.err = stderr;
    if (args == 0)
	msg_fatal("out of memory");
    for (int i = 1; i < argc; i++) {
	if (nargs == 0 && strcmp(argv[i], "-c") == 0) {
	    if (++i >= argc)
		return admin_usage(&a);
	    option = argv[i];
	} else if (strcmp(argv[i], "--json") == 0) {
	    a.json = 1;
	} else if (nargs == 0 && (strcmp(argv[i], "-h") == 0
				  || strcmp(argv[i], "--help") == 0)) {
	    fputs(admin_usage_text, stdout);
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
    if (nargs == 0 || (strcmp(args[0], "serve") != 0
		       && (fn = admin_command(args[0])) == 0)) {
	if (nargs)
	    fprintf(stderr, "tarpit-admin: unknown command \"%s\"\n", args[0]);
	free(args);
	return admin_usage(&a);
    }
    a.conf_file = conf_path(option, &named);
    if (conf_load(&a.conf, a.conf_file, named, err, sizeof(err)) < 0) {
	fprintf(stderr, "tarpit-admin: %s\n", err);
	free(args);
	return ADMIN_CONFIG;
    }
    if (conf_unsafe(&a.conf, a.conf_file, err, sizeof(err)) < 0) {
	fprintf(stderr, "tarpit-admin: %s\n", err);
	conf_free(&a.conf);
	free(args);
	return ADMIN_CONFIG;
    }
    if ((a.db = db_new(a.conf.database)) == 0)
	msg_fatal("out of memory");
    status = fn ? fn(&a, nargs - 1, args + 1) : serve(&a);
    if (fflush(stdout) != 0 && status == ADMIN_OK)
	status = ADMIN_DB;
    db_free(a.db);
    conf_free(&a.conf);
    free(args);
    return status;
}

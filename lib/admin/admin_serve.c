/*
 * NAME
 *	admin_serve - serve: tarpit-admin's commands on a socket
 * DESCRIPTION
 *	Commands one a line on the connection systemd passes (fd 3, from
 *	tarpit-admin.socket with Accept=yes), or on standard input and
 *	output; each reply is the command's output, error lines included,
 *	then "error: exit status N" when it failed, then an empty line.
 *	A line may start with --json.  The forms of tarpit_checks.py are
 *	understood too: check=ADDR, del=ADDR, all (list) and info.  "quit",
 *	end of input, a line longer than SERVE_LINE_MAX or idle_timeout of
 *	silence ends the connection.
 *
 *	Only tarpit_checks.py's commands (check, del, list, info) and the
 *	read-only ones (stats, config) may be asked for, and none with -o:
 *	whoever reaches the socket must not make the service write a file,
 *	read one (load, import-log) or run the rest.
 *
 *	admin_serve_line() is one line's work, apart from the socket, so
 *	that the fuzzer can drive it.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "util/listen.h"
#include "util/log.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define SERVE_LINE_MAX 4096
#define SERVE_ARGS_MAX 32

/* served - may the socket run this command with these arguments? */
static int served(const struct admin_command *cmd, int argc, char **argv)
{
    static const char *const allowed[] = {"check", "del", "list", "info", "stats",
    "config"};
    size_t  i;

    for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
	if (strcmp(cmd->name, allowed[i]) == 0)
	    break;
    if (i == sizeof(allowed) / sizeof(allowed[0]))
	return 0;
    for (int k = 1; k < argc; k++)
	if (strcmp(argv[k], "-o") == 0)
	    return 0;
    return 1;
}

/* admin_serve_line - one request of the admin protocol, replied to on out */
void    admin_serve_line(struct admin *a, char *line)
{
    char   *argv[SERVE_ARGS_MAX + 2];
    int     argc, json = a->json;
    const struct admin_command *cmd;

    /* tarpit_checks.py's forms */
    if (strncmp(line, "check=", 6) == 0 || strncmp(line, "del=", 4) == 0)
	line[line[0] == 'c' ? 5 : 3] = ' ';
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
    else if ((cmd = admin_command(argv[0])) == 0)
	fprintf(a->out, "error: unknown command \"%s\"\n", argv[0]);
    else if (!served(cmd, argc, argv))
	fprintf(a->out, "error: \"%s\" is not served on this socket (check, del, "
		"list, info, stats, config; no -o)\n", argv[0]);
    else {
	int     rc = admin_run(a, cmd, argc - 1, argv + 1);

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

/* admin_serve - the admin socket: a command a line, a reply ending "\n\n" */
int admin_serve(struct admin *a, int argc, char **argv)
{
    int     n = listen_fds(), in = STDIN_FILENO, out_fd = STDOUT_FILENO;
    char    buf[SERVE_LINE_MAX], line[SERVE_LINE_MAX + 1];
    size_t  have = 0;
    FILE   *out_fp;

    (void) argc;			/* none: admin_run() saw to it */
    (void) argv;
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
	admin_serve_line(a, line);
	putc('\n', out_fp);
	if (fflush(out_fp) != 0)
	    break;
    }
    fclose(out_fp);
    return ADMIN_OK;
}

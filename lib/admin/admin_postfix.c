/*
 * NAME
 *	admin_postfix - postfix enable|disable: the tarpit's lines in main.cf
 * DESCRIPTION
 *	enable inserts the tarpit's entries into the restriction lists the
 *	admin has, as postconf(1) reports them, keeping every other entry
 *	(RBLs, access maps, postgrey):
 *
 *	- smtpd_recipient_restrictions: the check's policy service right
 *	  after reject_unauth_destination (or defer_unauth_destination), so
 *	  that only mail for the site's own domains waits, and after what
 *	  permits its own users; without one, before a final bare "permit",
 *	  or at the end;
 *	- smtpd_end_of_data_restrictions: the store's, at the end (before a
 *	  final "permit").
 *
 *	disable takes out every entry of the tarpit's: those two, and a
 *	check_client_access of its blocked-networks map in any of the
 *	smtpd_*_restrictions lists and postscreen_access_list.  Both are
 *	idempotent (an entry already there, or already gone, is left so),
 *	write with postconf -e and then run postfix reload when Postfix
 *	runs; --dry-run prints each change as "name: old -> new" and changes
 *	nothing.  MAIL_CONFIG selects another Postfix, as for postconf.
 *	It opens no database, so root's tarpit-admin runs it as root, in
 *	one process (admin_priv.c).  admin_postfix_reload() is postfix
 *	reload when Postfix runs, for export-map too.
 *
 *	admin_postconf() is the one way tarpit-admin reads a Postfix
 *	parameter (doctor too).
 */
#define _GNU_SOURCE
#include "admin/admin.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_ENTRY "check_policy_service { unix:private/tarpit-check, timeout=100s, default_action=DUNNO }"
#define STORE_ENTRY "check_policy_service { unix:private/tarpit-store, timeout=10s, default_action=DUNNO }"

/* The lists that may hold an entry of the tarpit's (and that doctor
 * looks through for a table the tarpit user could change). */
const char *const admin_postfix_lists[] = {
    "smtpd_client_restrictions", "smtpd_helo_restrictions", "smtpd_sender_restrictions",
    "smtpd_relay_restrictions", "smtpd_recipient_restrictions", "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions", "postscreen_access_list", 0,
};

/* admin_postconf - one parameter's value from `postconf -h`, or 0 */
char   *admin_postconf(const char *name)
{
    char    cmd[256], *buf = 0;
    size_t  cap = 0;
    FILE   *fp;
    ssize_t n;

    if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
	return 0;
    snprintf(cmd, sizeof(cmd), "postconf -h %s 2>/dev/null", name);
    if ((fp = popen(cmd, "r")) == 0)
	return 0;
    n = getdelim(&buf, &cap, 0, fp);
    if (pclose(fp) != 0 || n < 0) {
	free(buf);
	return 0;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
	buf[--n] = 0;
    return buf;
}

/* admin_list_words - a Postfix list's words: separated by commas and white space, a
 * { ... } group one word; how many (at most max) */
int     admin_list_words(const char *list, struct admin_word *w, int max)
{
    size_t  p = 0;
    int     n = 0;

    while (list[p] && n < max) {
	p += strspn(list + p, ", \t\n");
	if (list[p] == 0)
	    break;
	w[n].at = p;
	if (list[p] == '{') {
	    int     depth = 0;

	    for (; list[p]; p++)
		if (list[p] == '{')
		    depth++;
		else if (list[p] == '}' && --depth == 0) {
		    p++;
		    break;
		}
	} else {
	    p += strcspn(list + p, ", \t\n");
	}
	w[n++].end = p;
    }
    return n;
}

/* is - is word i of list this text? */
static int is(const char *list, const struct admin_word *w, int i, const char *text)
{
    return w[i].end - w[i].at == strlen(text) && strncmp(list + w[i].at, text, strlen(text)) == 0;
}

/* has - does word i of list hold this text? */
static int has(const char *list, const struct admin_word *w, int i, const char *text)
{
    size_t  n = strlen(text);

    for (size_t p = w[i].at; p + n <= w[i].end; p++)
	if (strncmp(list + p, text, n) == 0)
	    return 1;
    return 0;
}

/* ours - do words i and i+1 make an entry of the tarpit's?  (Its policy
 * services by socket or TCP port, its blocked-networks map) */
static int ours(const char *list, const struct admin_word *w, int n, int i)
{
    if (i + 1 >= n)
	return 0;
    if (is(list, w, i, "check_policy_service"))
	return has(list, w, i + 1, "tarpit-check") || has(list, w, i + 1, "tarpit-store")
	    || has(list, w, i + 1, ":60001") || has(list, w, i + 1, ":60002");
    return is(list, w, i, "check_client_access")
	&& (has(list, w, i + 1, "/var/lib/tarpit/") || has(list, w, i + 1, ADMIN_MAP_DIR "/"));
}

/* splice - list with [from, to) replaced by text; a new string */
static char *splice(const char *list, size_t from, size_t to, const char *text)
{
    size_t  n = strlen(list), len = from + strlen(text) + (n - to) + 1;
    char   *out = xmalloc(len);

    snprintf(out, len, "%.*s%s%s", (int) from, list, text, list + to);
    return out;
}

/* changed - list with the entry put in (or, entry 0, with every entry of
 * ours taken out), its other words and their spelling as they were; a
 * new string, or 0 when there is nothing to change.  An entry is there
 * already when one names its socket or TCP port (name_part, port_part). */
static char *changed(const char *list, const char *entry, const char *name_part,
		             const char *port_part)
{
    struct admin_word w[ADMIN_MAX_WORDS];
    int     n = admin_list_words(list, w, ADMIN_MAX_WORDS), at = -1;
    char    text[512];

    if (entry == 0) {
	for (int i = 0; i + 1 < n; i++) {
	    if (!ours(list, w, n, i))
		continue;
	    /* Out go the two words and the separator after them (or, for the
	     * last entry, the one before). */
	    if (i + 2 < n)
		return splice(list, w[i].at, w[i + 2].at, "");
	    return splice(list, i > 0 ? w[i - 1].end : 0, strlen(list), "");
	}
	return 0;
    }
    for (int i = 0; i + 1 < n; i++)
	if (ours(list, w, n, i) && (has(list, w, i + 1, name_part)
				    || has(list, w, i + 1, port_part)))
	    return 0;
    for (int i = 0; i < n; i++)
	if (is(list, w, i, "reject_unauth_destination") || is(list, w, i, "defer_unauth_destination"))
	    at = i;
    if (at >= 0) {				/* after it */
	snprintf(text, sizeof(text), ", %s", entry);
	return splice(list, w[at].end, w[at].end, text);
    }
    if (n > 0 && is(list, w, n - 1, "permit")) {	/* before a final permit */
	snprintf(text, sizeof(text), "%s, ", entry);
	return splice(list, w[n - 1].at, w[n - 1].at, text);
    }
    snprintf(text, sizeof(text), "%s%s", n > 0 ? ", " : "", entry);
    return splice(list, n > 0 ? w[n - 1].end : 0, n > 0 ? w[n - 1].end : strlen(list), text);
}

/* run - a program, waited for (quiet: its output to /dev/null); its
 * exit status, or -1 */
static int run(char *const argv[], int quiet)
{
    int     status;
    pid_t   pid = fork();

    if (pid < 0)
	return -1;
    if (pid == 0) {
	if (quiet && (freopen("/dev/null", "w", stdout) == 0
		      || freopen("/dev/null", "w", stderr) == 0))
	    _exit(126);
	execvp(argv[0], argv);
	_exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
	if (errno != EINTR)
	    return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* admin_postfix_reload - postfix reload when Postfix runs (said either
 * way); an exit status */
int     admin_postfix_reload(struct admin *a)
{
    char   *status[] = {"postfix", "status", 0}, *reload[] = {"postfix", "reload", 0};

    fflush(a->out);
    if (run(status, 1) != 0) {
	fprintf(a->out, "Postfix is not running: the change applies when it starts\n");
	return ADMIN_OK;
    }
    if (run(reload, 1) != 0) {
	fprintf(a->err, "tarpit-admin: postfix reload failed\n");
	return ADMIN_CONFIG;
    }
    fprintf(a->out, "postfix reloaded\n");
    return ADMIN_OK;
}

/* admin_postfix - postfix enable|disable [--dry-run] */
int admin_postfix(struct admin *a, int argc, char **argv)
{
    int     enable, dry = 0, changes = 0, rc = ADMIN_OK;

    if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "--dry-run") != 0))
	return admin_usage(a);
    dry = argc == 2;
    if (strcmp(argv[0], "enable") == 0)
	enable = 1;
    else if (strcmp(argv[0], "disable") == 0)
	enable = 0;
    else
	return admin_usage(a);
    for (size_t i = 0; admin_postfix_lists[i] && rc == ADMIN_OK; i++) {
	const char *name = admin_postfix_lists[i], *entry = 0, *part = "", *port = "";
	char   *value, *now, assign[8192];

	if (enable && strcmp(name, "smtpd_recipient_restrictions") == 0)
	    entry = CHECK_ENTRY, part = "tarpit-check", port = ":60001";
	else if (enable && strcmp(name, "smtpd_end_of_data_restrictions") == 0)
	    entry = STORE_ENTRY, part = "tarpit-store", port = ":60002";
	else if (enable)
	    continue;
	if ((value = admin_postconf(name)) == 0) {
	    if (strcmp(name, "postscreen_access_list") == 0)
		continue;			/* an older Postfix: none */
	    fprintf(a->err, "tarpit-admin: postfix: postconf -h %s failed (is Postfix "
		    "installed? MAIL_CONFIG?)\n", name);
	    return ADMIN_CONFIG;
	}
	if ((now = changed(value, entry, part, port)) != 0) {
	    char   *more;

	    while (!entry && (more = changed(now, 0, "", "")) != 0) {
		free(now);
		now = more;			/* every entry of ours, not just one */
	    }
	    changes++;
	    fprintf(a->out, "%s: %s -> %s\n", name, *value ? value : "(empty)",
		    *now ? now : "(empty)");
	    if (!dry) {
		char   *cmd[] = {"postconf", "-e", assign, 0};

		snprintf(assign, sizeof(assign), "%s = %s", name, now);
		if (run(cmd, 0) != 0) {
		    fprintf(a->err, "tarpit-admin: postfix: postconf -e %s failed\n", name);
		    rc = ADMIN_CONFIG;
		}
	    }
	    free(now);
	}
	free(value);
    }
    if (rc == ADMIN_OK && changes == 0)
	fprintf(a->out, "nothing to change: the tarpit's entries are %s\n",
		enable ? "there already" : "gone already");
    if (rc == ADMIN_OK && changes > 0 && !dry)
	rc = admin_postfix_reload(a);
    return rc;
}

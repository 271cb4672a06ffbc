/*
 * log_test - one line per event, and a request value cannot forge one:
 * control characters in a logged value come out as '?', so a client name
 * holding a newline stays on its own line.
 */
#define _GNU_SOURCE
#include "util/log.h"
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* logged - what the calls in fn wrote to stderr */
static const char *logged(void (*fn) (void), char *buf, size_t len)
{
    char    path[] = "/tmp/log_test.XXXXXX";
    int     fd = mkstemp(path), saved = dup(STDERR_FILENO);
    ssize_t n;

    if (fd < 0 || saved < 0 || dup2(fd, STDERR_FILENO) < 0)
	abort();
    fn();
    if (dup2(saved, STDERR_FILENO) < 0)
	abort();
    close(saved);
    n = pread(fd, buf, len - 1, 0);
    buf[n < 0 ? 0 : n] = 0;
    close(fd);
    unlink(path);
    return buf;
}

static void forged(void)
{
    msg_info("client=%s: DUNNO", "evil\ntarpit-check: escape recorded\r\x1b[2J\x7f");
}

static void levels(void)
{
    msg_info("an event");
    msg_warn("%s went wrong", "something");
}

static void conversions(void)
{
    msg_info("%s and %s: 100%% %s", "one", "two", "done");
    msg_info("%s: %d of %lld, %.3s", "mixed", 3, 40LL, "abcdef");
    msg_info("%%s is not a conversion here: %s%%", "");
}

static void long_line(void)
{
    static char big[3000];

    memset(big, 'x', sizeof(big) - 1);
    msg_info("%s", big);
}

int main(void)
{
    char    buf[4096];

    unsetenv("JOURNAL_STREAM");
    log_init("tarpit-test");
    logged(forged, buf, sizeof(buf));
    EXPECT(strcmp(buf, "tarpit-test: client=evil?tarpit-check: escape recorded??[2J?: "
		  "DUNNO\n") == 0, "control characters replaced: [%s]", buf);
    EXPECT(strchr(buf, '\n') == buf + strlen(buf) - 1, "one line, ending the output");
    logged(levels, buf, sizeof(buf));
    EXPECT(strcmp(buf, "tarpit-test: an event\ntarpit-test: warning: something went wrong\n") == 0,
	   "levels: [%s]", buf);
    logged(conversions, buf, sizeof(buf));
    EXPECT(strcmp(buf, "tarpit-test: one and two: 100% done\n"
		  "tarpit-test: mixed: 3 of 40, abc\n"
		  "tarpit-test: %s is not a conversion here: %\n") == 0,
	   "strings alone, and other conversions: [%s]", buf);
    logged(long_line, buf, sizeof(buf));
    EXPECT(strlen(buf) == strlen("tarpit-test: ") + 1023 + 1
	   && strspn(buf + strlen("tarpit-test: "), "x") == 1023
	   && strchr(buf, '\n') == buf + strlen(buf) - 1, "a long message is cut "
	   "to 1023 bytes, still one line (%zu bytes)", strlen(buf));
    /* Under systemd (JOURNAL_STREAM names stderr): a priority prefix and
     * no program name. */
    {
	char    path[] = "/tmp/log_test.XXXXXX", env[64];
	int     fd = mkstemp(path), saved = dup(STDERR_FILENO);
	struct stat st;
	ssize_t n;

	if (fd < 0 || saved < 0 || dup2(fd, STDERR_FILENO) < 0 || fstat(fd, &st) < 0)
	    abort();
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long) st.st_dev,
		 (unsigned long long) st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init("tarpit-test");
	levels();
	if (dup2(saved, STDERR_FILENO) < 0)
	    abort();
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n < 0 ? 0 : n] = 0;
	close(fd);
	unlink(path);
	EXPECT(strcmp(buf, "<6>an event\n<4>warning: something went wrong\n") == 0,
	       "journal: [%s]", buf);
    }
    return unit_done("log");
}

/* conf_test - durations, defaults, and every kind of config error */
#define _GNU_SOURCE
#include "tarpit/conf.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *in;
    int64_t ms;				/* -1: refused */
} durations[] = {
    {"65", 65000}, {"65s", 65000}, {"5m", 300000}, {"2h", 7200000},
    {"30d", 2592000000LL}, {"1w", 604800000}, {"500ms", 500},
    {"6.5s", 6500}, {"0", 0}, {"0.25", 250}, {"1.0001s", 1000},
    {"", -1}, {"s", -1}, {"-1", -1}, {"5x", -1}, {"5 s", -1},
    {"1.", -1}, {".5", -1}, {"99999999999999999999", -1},
};

static const struct {
    const char *text;
    const char *error;			/* 0: loads; else a substring of it */
} files[] = {
    {"", 0},
    {"# only a comment\n\n   \n", 0},
    {"sleep = 2s\nthreshold=3\n", 0},
    {"database = /tmp/x.db # trailing comment\n", 0},
    {"slep = 2s\n", ":1: unknown key \"slep\""},
    {"sleep = 2s\nsleep = soon\n", ":2: sleep: \"soon\" is not a duration"},
    {"threshold = 0\n", ":1: threshold: 0 is out of range 1..1000000"},
    {"ipv4_prefix = 33\n", ":1: ipv4_prefix: 33 is out of range"},
    {"ipv6_prefix = 64x\n", ":1: ipv6_prefix: \"64x\" is not a whole number"},
    {"sleep = 2h\n", ":1: sleep: \"2h\" is out of range 0s..1h"},
    {"just words\n", ":1: expected \"key = value\""},
    {"database =\n", ":1: database: empty value"},
    {"watch_client = maybe\n", ":1: watch_client: \"maybe\" is not yes or no"},
    {"early_talker_action = BOUNCE now\n", ":1: early_talker_action: \"BOUNCE now\" is neither"},
    {"early_talker_action = 45 x\n", ":1: early_talker_action:"},
    {"early_talker_action = 450 4.7.1 slow down\nwatch_client = No\n", 0},
    {"early_talker_action = ignore\nwatch_client = off\n", 0},
    {"early_talker_action = defer_if_permit later\n", 0},
    {"sleep = 2s\n[submission]\nsleep = 1s\nrule = client_name /\\.jp$/i sleep 1s\n", 0},
    {"rule = client_name /a(b/ skip\n", ":1: rule: bad regex /a(b/:"},
    {"rule = client_name /se+++++++++++++++++++p/ skip\n", ":1: rule: regex /se+++++++++++++++++++p/ refused: a repetition of a repetition"},
    {"rule = client_name /(a{999})/ skip\n", "refused: a bound over 50"},
    {"offender_pattern = /no group here/\n", ":1: offender_pattern: needs a (group)"},
    {"offender_pattern = plain\n", ":1: offender_pattern: write it as /regex/"},
    {"offender_pattern = /from \\[([0-9.]+)\\]/\noffender_pattern = /x([0-9]+)/\n", 0},
    {"[p]\noffender_pattern = /x(y)/\n", ":2: offender_pattern is global"},
    {"rule = client_name /[+*]+x{2,50}[{]?/ skip\n", 0},
    {"\n\nrule = client_name /ok/ frobnicate\n", ":3: rule: the action must be"},
    {"rule = client_name /ok/ sleep forever\n", ":1: rule: sleep \"forever\" is not a duration"},
    {"rule = client_name skip\n", ":1: rule: no PATTERN"},
    {"rule = client-name x skip\n", ":1: rule: \"client-name\" is not an attribute name"},
    {"rule = client_nmae /x/ sleep 1s\n", ":1: rule: Postfix sends no attribute \"client_nmae\" (see tarpit.conf(5), RULES, for those it sends)"},
    {"rule = client_address 192.0.2.0/33 skip\n", ":1: rule: \"192.0.2.0/33\" is neither /regex/ nor a network"},
    {"[submission]\ndatabase = /tmp/x.db\n", ":2: database is global"},
    {"[a]\n[a]\n", ":2: [a] appears twice"},
    {"[a b]\n", ":1: [a b]: a profile name is"},
    {"[open\n", ":1: expected \"[NAME]\""},
    {"block_action = ignore\n", ":1: block_action: \"ignore\" is neither"},
    {"max_waiting = 0\n", ":1: max_waiting: 0 is out of range"},
    {"dry_run = perhaps\n", ":1: dry_run: \"perhaps\" is not yes or no"},
};

int main(void)
{
    char    path[] = "/tmp/conf_test.XXXXXX";
    char    err[1024];
    struct tp_conf c;
    int     named;

    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
	int64_t ms = -1;
	int     rc = conf_parse_duration(durations[i].in, &ms);

	if (durations[i].ms < 0)
	    EXPECT(rc < 0, "\"%s\" should be refused", durations[i].in);
	else
	    EXPECT(rc == 0 && ms == durations[i].ms, "\"%s\" gave %lld",
		   durations[i].in, (long long) ms);
    }

    conf_defaults(&c);
    EXPECT(strcmp(c.database, "/var/lib/tarpit/tarpit.db") == 0, "database");
    EXPECT(c.sleep_ms == 65000 && c.threshold == 1 && c.ipv4_prefix == 24
	   && c.ipv6_prefix == 64 && c.watch_client == 1
	   && strncmp(c.early_talker_action, "REJECT ", 7) == 0, "documented defaults");

    int     fd = mkstemp(path);

    SETUP(fd >= 0, "mkstemp");
    close(fd);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
	FILE   *fp = fopen(path, "w");

	fputs(files[i].text, fp);
	fclose(fp);
	err[0] = 0;
	int     rc = conf_load(&c, path, 1, err, sizeof(err));

	if (files[i].error == 0)
	    EXPECT(rc == 0, "case %zu: %s", i, err);
	else
	    EXPECT(rc < 0 && strstr(err, files[i].error) != 0
		   && strncmp(err, path, strlen(path)) == 0,
		   "case %zu: got \"%s\", want \"%s\"", i, err, files[i].error);
	conf_free(&c);
    }
    /* Values really land. */
    FILE   *fp = fopen(path, "w");

    fputs("sleep = 1.5s\nthreshold = 4\ndatabase = /tmp/x.db # c\n", fp);
    fclose(fp);
    EXPECT(conf_load(&c, path, 1, err, sizeof(err)) == 0, "%s", err);
    EXPECT(c.sleep_ms == 1500 && c.threshold == 4
	   && strcmp(c.database, "/tmp/x.db") == 0, "values");
    unlink(path);

    /* A missing file: an error when named, the defaults when not. */
    EXPECT(conf_load(&c, path, 1, err, sizeof(err)) < 0
	   && strstr(err, "cannot open") != 0, "missing named file: %s", err);
    EXPECT(conf_load(&c, path, 0, err, sizeof(err)) == 0
	   && c.sleep_ms == 65000, "missing default file");

    /* Which file: -c, then $TARPIT_CONF, then /etc/tarpit.conf. */
    unsetenv("TARPIT_CONF");
    EXPECT(strcmp(conf_path(0, &named), CONF_DEFAULT_PATH) == 0 && !named, "default");
    setenv("TARPIT_CONF", "/tmp/env.conf", 1);
    EXPECT(strcmp(conf_path(0, &named), "/tmp/env.conf") == 0 && named, "env");
    EXPECT(strcmp(conf_path("/tmp/opt.conf", &named), "/tmp/opt.conf") == 0
	   && named, "option wins");

    char    buf[32];

    conf_format_duration(65000, buf, sizeof(buf));
    EXPECT(strcmp(buf, "65s") == 0, "%s", buf);
    conf_format_duration(3600000, buf, sizeof(buf));
    EXPECT(strcmp(buf, "1h") == 0, "%s", buf);
    conf_format_duration(6500, buf, sizeof(buf));
    EXPECT(strcmp(buf, "6500ms") == 0, "%s", buf);
    return unit_done("conf");
}

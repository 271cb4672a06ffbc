/*
 * check_test - tarpit-check's work on one request, as a table: config,
 * records before (dump lines), a request and how a wait would end in, the
 * answer, whether it waited and the records after out.  The wait is this
 * test's stand-in for wait_for_client(): it says how the wait ended, at
 * once.  The store is a real GDBM file in a scratch directory.  NOW in a
 * dump line is the time the test runs.
 */
#define _GNU_SOURCE
#include "tarpit/check.h"
#include "tarpit/dump.h"
#include "tarpit/opendb.h"
#include "unit.h"
#include "unit_conf.h"
#include "unit_req.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static const char base[] =
"sleep = 10s\n"
"greylist = yes\n"
"greylist_delay = 0\n"
"greylist_retries = 2\n";

#define WAIT(r, ms, g) {r, ms, (r) == WAIT_EARLY_TALKER, g}
#define NONE_ {WAIT_DONE, -1, 0, GOODBYE_NONE}		/* no wait expected */

static const struct {
    const char *name;
    const char *extra;			/* config lines after base */
    const char *before;			/* dump lines, ';' between */
    const char *attrs;			/* the request, "name=value;..." */
    struct wait_outcome wait;		/* how the wait ends; waited_ms -1: none */
    const char *action;			/* the answer */
    enum helper_next next;
    const char *after;			/* "KEY field=value ...;..." to find */
} cases[] = {
    {"a new network waits; done: a pending pass", "", "",
	"client_address=192.0.2.1", WAIT(WAIT_DONE, 10000, GOODBYE_NONE), "DUNNO", HELPER_REPLY,
    "192.0.2.0/24 tarpits=1 pending=1 learned=1 last_wait_ms=10000"},
    {"wait_header: a wait done prepends X-Tarpit", "wait_header = yes\n", "",
	"client_address=192.0.2.1", WAIT(WAIT_DONE, 10000, GOODBYE_NONE),
	"PREPEND X-Tarpit: waited 10.000s before RCPT (new network)", HELPER_REPLY,
    "192.0.2.0/24 tarpits=1 pending=1"},
    {"a hang-up: a failure, DUNNO (smtpd finds it gone)", "", "",
	"client_address=192.0.2.1", WAIT(WAIT_CLIENT_GONE, 3000, GOODBYE_NONE), "DUNNO", HELPER_REPLY,
    "192.0.2.0/24 tarpits=1 hangups=1 recent_failures=1 hangup_ms=3000 pending=0"},
    {"a goodbye and still connected: a temporary refusal", "", "",
	"client_address=192.0.2.1", WAIT(WAIT_CLIENT_GONE, 3000, GOODBYE_STAYED),
	"DEFER_IF_PERMIT Please try again later", HELPER_REPLY,
    "192.0.2.0/24 hangups=1"},
    {"an early talker: early_talker_action", "", "",
	"client_address=192.0.2.1", WAIT(WAIT_EARLY_TALKER, 1500, GOODBYE_NONE),
	"REJECT Protocol error: talking before the server's reply", HELPER_REPLY,
    "192.0.2.0/24 early_talkers=1 recent_failures=1"},
    {"smtpd gone: the connection is over, no failure", "", "",
	"client_address=192.0.2.1", WAIT(WAIT_POLICY_GONE, 4000, GOODBYE_NONE), "DUNNO", HELPER_CLOSE,
    "192.0.2.0/24 tarpits=1 hangups=0 recent_failures=0 pending=0"},
    {"an escaped network: DUNNO at once, read-only", "",
	"192.0.2.0/24 first_seen=1 last_seen=2000000000 tarpits=1 escapes=1",
	"client_address=192.0.2.1", NONE_, "DUNNO", HELPER_REPLY,
    "192.0.2.0/24 tarpits=1 last_seen=2000000000"},
    {"a blocked network: block_action at once", "",
	"192.0.2.0/24 first_seen=1 last_seen=1 block_until=-1",
	"client_address=192.0.2.1", NONE_, "REJECT Your network is blocked here", HELPER_REPLY,
    "192.0.2.0/24 tarpits=0"},
    {"a network that failed: greylisted, its entry counted", "",
	"192.0.2.0/24 first_seen=1 last_seen=1 tarpits=1 hangups=1 recent_failures=1",
	"client_address=192.0.2.1;sender=a@example.org;recipient=b@example.net", NONE_,
	"DEFER_IF_PERMIT Greylisted: your network gave up on us before; please retry later",
	HELPER_REPLY, "192.0.2.0/24 grey_made=1;@grey 192.0.2.0/24 a@example.org b@example.net tarpits=1"},
    {"its retry: rescued without a wait, a pending pass", "",
	"192.0.2.0/24 first_seen=1 last_seen=1 tarpits=1 hangups=1 recent_failures=1;"
	"@grey%20192.0.2.0/24%20a@example.org%20b@example.net first_seen=NOW last_attempt=NOW retries=1 last_retry=NOW",
	"client_address=192.0.2.1;sender=a@example.org;recipient=b@example.net", NONE_,
	"DUNNO", HELPER_REPLY, "192.0.2.0/24 pending=1 recent_failures=0 learned=2"},
    {"a wait of 0 s: begun and ended in one write", "sleep = 0\n", "",
	"client_address=192.0.2.1", NONE_, "DUNNO", HELPER_REPLY,
    "192.0.2.0/24 tarpits=1 pending=1"},
    {"dry run: DUNNO, nothing written", "dry_run = yes\n", "",
	"client_address=192.0.2.1", NONE_, "DUNNO", HELPER_REPLY, ""},
    {"postmaster@: DUNNO at once, no record", "", "",
	"client_address=192.0.2.1;recipient=postmaster@example.net", NONE_, "DUNNO",
	HELPER_REPLY, ""},
    {"a new network of a domain that vouches: DUNNO at once", "",
	"@domain%20example.com first_seen=1 last_seen=2000000000 escapes=1",
	"client_address=192.0.2.1;client_name=mx.example.com", NONE_, "DUNNO", HELPER_REPLY,
    "@domain example.com escapes=1 last_seen=2000000000"},
    {"a new network of a domain that failed: greylisted by the domain", "",
	"@domain%20example.com first_seen=1 last_seen=1 tarpits=1 hangups=1 recent_failures=1",
	"client_address=192.0.2.1;client_name=mx.example.com;sender=a@example.org;recipient=b@example.net",
	NONE_, "DEFER_IF_PERMIT Greylisted: your network gave up on us before; please retry later",
	HELPER_REPLY, "@domain example.com grey_made=1;@grey example.com a@example.org b@example.net tarpits=1"},
    {"a domain's tuple retried from another network: rescued, the network made", "",
	"@domain%20example.com first_seen=1 last_seen=1 tarpits=1 hangups=1 recent_failures=1;"
	"@grey%20example.com%20a@example.org%20b@example.net first_seen=NOW last_attempt=NOW retries=1 last_retry=NOW",
	"client_address=198.51.100.9;client_name=mx9.example.com;sender=a@example.org;recipient=b@example.net",
	NONE_, "DUNNO", HELPER_REPLY, "198.51.100.0/24 pending=1 learned=2"},
    {"a wait of a client with a domain: counted for the domain too", "", "",
	"client_address=192.0.2.1;client_name=mx.example.com", WAIT(WAIT_CLIENT_GONE, 7000, GOODBYE_NONE),
	"DUNNO", HELPER_REPLY, "192.0.2.0/24 hangups=1;@domain example.com tarpits=1 hangups=1 "
    "hangup_ms=7000 recent_failures=1"},
};

/* The stand-in wait: what the row says, and whether it was asked. */
static struct wait_outcome scripted;
static int waits;

static int stand_in_wait(int policy_fd, int64_t ms, const struct request *rq, int watch,
			         int stop_on_talk, struct wait_outcome *w, char *why, size_t len)
{
    (void) policy_fd;
    (void) ms;
    (void) rq;
    (void) watch;
    (void) stop_on_talk;
    (void) why;
    (void) len;
    waits++;
    *w = scripted;
    return 0;
}

/* load - each dump line of text into the store, NOW the time */
static void load(struct tp_db *db, const struct tp_conf *c, const char *text)
{
    char    buf[1024], now[32], *save = 0, *line, *at;
    static struct dump_item item;
    const char *why;

    snprintf(buf, sizeof(buf), "%s", text);
    snprintf(now, sizeof(now), "%lld", (long long) time(0));
    while ((at = strstr(buf, "NOW")) != 0) {
	memmove(at + strlen(now), at + 3, strlen(at + 3) + 1);
	memcpy(at, now, strlen(now));
    }
    for (line = strtok_r(buf, ";", &save); line; line = strtok_r(0, ";", &save)) {
	struct ledger l = {.event = LEDGER_LOAD,.conf = c,.record = &item.rec};

	SETUP(dump_parse(line, &item, &why) == 0 && item.kind == DUMP_RECORD, "%s: %s",
	      line, why);
	SETUP(db_update(db, item.key, ledger_apply, &l) == DB_WRITE, "%s", db_error(db));
    }
}

/* expect_after - each "KEY field=value ..." of want in the store; the key
 * ends where the first "word=" begins */
static void expect_after(struct tp_db *db, const char *name, const char *want)
{
    char    buf[1024], *save = 0, *entry;

    snprintf(buf, sizeof(buf), "%s", want);
    for (entry = strtok_r(buf, ";", &save); entry; entry = strtok_r(0, ";", &save)) {
	char    key[256], *eq = strchr(entry, '='), *sp;
	struct tp_record r;

	SETUP(eq != 0, "%s: %s", name, entry);
	*eq = 0;
	sp = strrchr(entry, ' ');
	*eq = '=';
	snprintf(key, sizeof(key), "%.*s", (int) (sp - entry), entry);
	EXPECT(db_get(db, key, &r) == 1, "%s: %s has a record", name, key);
	for (char *f = strtok(sp + 1, " "); f; f = strtok(0, " ")) {
	    char   *v = strchr(f, '=');
	    int     known = 0;

	    *v++ = 0;
	    for (size_t i = 0; i < record_nfields; i++)
		if (strcmp(f, record_field_table[i].name) == 0) {
		    known = 1;
		    EXPECT(*RECORD_FIELD(&r, record_field_table + i) == atoll(v),
			   "%s: %s %s = %lld, want %s", name, key, f,
			   (long long) *RECORD_FIELD(&r, record_field_table + i), v);
		}
	    SETUP(known, "%s: no field %s", name, f);
	}
    }
}

/* count - db_walk_all: how many keys */
static int count(const char *key, const struct tp_record *r, void *ctx)
{
    (void) key;
    (void) r;
    (*(int *) ctx)++;
    return 0;
}

int main(void)
{
    char    dir[] = "/tmp/check_test.XXXXXX", text[1024], buf[1024], why[600];

    SETUP(mkdtemp(dir) != 0, "mkdtemp");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	struct helper *h = mmap(0, sizeof(*h), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct policy_req q;
	struct request rq;
	char    action[512] = "DUNNO";
	enum helper_next next;
	int     keys = 0;

	SETUP(h != MAP_FAILED, "mmap");
	snprintf(text, sizeof(text), "database = %s/t%zu.db\n%s%s", dir, i, base, cases[i].extra);
	unit_conf(text, &h->conf);
	SETUP((h->db = opendb(&h->conf, why, sizeof(why))) != 0, "%s", why);
	h->conf_ok = 1;
	h->wait = stand_in_wait;
	h->conn.in_fd = -1;
	load(h->db, &h->conf, cases[i].before);
	scripted = cases[i].wait;
	waits = 0;
	unit_request(cases[i].attrs, buf, sizeof(buf), &q);
	request_read(&rq, &q);
	next = check_request(h, &rq, action, sizeof(action));
	EXPECT(strcmp(action, cases[i].action) == 0 && next == cases[i].next,
	       "%s: \"%s\" %d, want \"%s\" %d", cases[i].name, action, next,
	       cases[i].action, cases[i].next);
	EXPECT(waits == (cases[i].wait.waited_ms >= 0), "%s: %d waits", cases[i].name, waits);
	expect_after(h->db, cases[i].name, cases[i].after);
	if (*cases[i].after == 0)
	    EXPECT(db_walk_all(h->db, count, &keys) >= 0 && keys == (*cases[i].before != 0),
		   "%s: %d keys, nothing written", cases[i].name, keys);
	db_free(h->db);
	conf_free(&h->conf);
	munmap(h, sizeof(*h));
    }
    snprintf(text, sizeof(text), "rm -rf %s", dir);
    SETUP(system(text) == 0, "rm");
    return unit_done("check");
}

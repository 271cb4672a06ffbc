/*
 * NAME
 *	admin_ask - ask: what tarpit-check would answer a client now, and why
 * DESCRIPTION
 *	The admin's policy test (postgrey's policy-test): a request made as
 *	Postfix would make it for the client (its address; its verified name,
 *	"unknown" by default; a sender, a recipient, a profile), decided as
 *	tarpit-check decides (decide(), then decide_domain() with the
 *	client's verified domain), on the records as they are.  Nothing is
 *	written and nobody waits: the answer says what would happen, the
 *	network and domain it was judged by, and the reason.  For a client
 *	that would be greylisted it says whether this try would be deferred
 *	or rescued.
 */
#define _GNU_SOURCE
#include "admin/admin.h"
#include "tarpit/decide.h"
#include "tarpit/helper.h"
#include "util/clock.h"
#include "util/regdomain.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The request's attributes, as Postfix would send them. */
struct asked {
    const char *address, *name, *sender, *recipient, *profile;
};

/* ask_options - ADDRESS [--name N] [--sender S] [--recipient R] [--profile P] */
static int ask_options(int argc, char **argv, struct asked *q)
{
    memset(q, 0, sizeof(*q));
    q->name = "unknown";
    q->sender = q->recipient = q->profile = "";
    for (int i = 0; i < argc; i++) {
	const char **to = strcmp(argv[i], "--name") == 0 ? &q->name
	    : strcmp(argv[i], "--sender") == 0 ? &q->sender
	    : strcmp(argv[i], "--recipient") == 0 ? &q->recipient
	    : strcmp(argv[i], "--profile") == 0 ? &q->profile : 0;

	if (to && i + 1 < argc)
	    *to = argv[++i];
	else if (argv[i][0] != '-' && q->address == 0)
	    q->address = argv[i];
	else
	    return -1;
    }
    return q->address ? 0 : -1;
}

/* grey_try - would this greylisted try be deferred or rescued? */
static const char *grey_try(struct admin *a, const struct tp_conf *p, const char *owner,
			            const struct request *rq)
{
    char    gkey[LEDGER_KEY_MAX];
    struct tp_record g;
    struct ledger l = {.event = LEDGER_GREY_ATTEMPT,.conf = p,.now = (int64_t) time(0),
    .grey_room = 1};
    int     found;

    if (ledger_grey_key(owner, rq->sender, rq->recipient, gkey, sizeof(gkey)) == 0
	|| (found = db_get(a->db, gkey, &g)) < 0)
	return "greylisted";
    return ledger_preview(&l, &g, found) == DB_DELETE
	? "rescued: this try passes greylisting" : "greylisted: this try is deferred";
}

/* admin_ask - ask ADDRESS [--name N] [--sender S] [--recipient R] [--profile P] */
int admin_ask(struct admin *a, int argc, char **argv)
{
    struct asked q;
    struct policy_req req;
    struct request rq;
    struct helper *h;
    const struct tp_conf *p;
    struct tp_record r, dr;
    struct decision d;
    char    key[LEDGER_NET_KEY_MAX], domain[REGDOMAIN_MAX], dkey[REGDOMAIN_MAX + 16];
    char    secs[32], answer[CONF_ACTION_MAX + 64];
    const char *what = "";
    int     found, dfound = 0;

    if (ask_options(argc, argv, &q) < 0)
	return admin_usage(a);
    memset(&req, 0, sizeof(req));
#define ATTR(n, v) (req.attr[req.nattr].name = (n), req.attr[req.nattr++].value = (v))
    ATTR("request", "smtpd_access_policy");
    ATTR("protocol_state", "RCPT");
    ATTR("client_address", q.address);
    ATTR("client_name", q.name);
    ATTR("reverse_client_name", q.name);
    ATTR("sender", q.sender);
    ATTR("recipient", q.recipient);
    ATTR("policy_context", q.profile);
#undef ATTR
    request_read(&rq, &req);
    if (rq.client.family == 0) {
	fprintf(a->err, "tarpit-admin: ask: %s: not an address\n", q.address);
	return ADMIN_USAGE;
    }
    if (*q.profile && conf_profile(&a->conf, q.profile) == 0) {
	fprintf(a->err, "tarpit-admin: ask: no [%s] profile in %s\n", q.profile, a->conf_file);
	return ADMIN_USAGE;
    }
    /* The helper's own lookups, on a helper that only reads. */
    h = xcalloc(1, sizeof(*h));
    h->conf = a->conf;
    h->db = a->db;
    p = helper_profile(h, &rq);
    if ((found = helper_lookup(h, p, &rq, key, sizeof(key), &r)) < 0) {
	free(h);
	return found == LOOKUP_DB_ERROR ? admin_db_failed(a) : ADMIN_USAGE;
    }
    d = decide(p, &rq, &r, found, (int64_t) time(0));
    domain[0] = 0;
    if (((d.verdict == VERDICT_TARPIT && d.sleep_ms > 0) || d.verdict == VERDICT_GREYLIST)
	&& helper_domain(h, p, &rq, domain, sizeof(domain)) > 0
	&& ledger_domain_key(domain, dkey, sizeof(dkey)) != 0) {
	if ((dfound = db_get(a->db, dkey, &dr)) < 0) {
	    free(h);
	    return admin_db_failed(a);
	}
	decide_domain(p, &d, &dr, dfound);
    }
    switch (d.verdict) {
    case VERDICT_DUNNO:
	snprintf(answer, sizeof(answer), "DUNNO at once");
	break;
    case VERDICT_BLOCK:
	snprintf(answer, sizeof(answer), "%s", p->block_action);
	break;
    case VERDICT_GREYLIST:
	what = grey_try(a, p, d.by_domain ? domain : key, &rq);
	snprintf(answer, sizeof(answer), "%s", strncmp(what, "rescued", 7) == 0
		 ? "DUNNO at once" : p->greylist_action);
	break;
    case VERDICT_TARPIT:
	snprintf(answer, sizeof(answer), "DUNNO after a wait of %ss",
		 clock_seconds(d.sleep_ms, secs, sizeof(secs)));
	break;
    }
    if (a->json) {
	fputs("{\"client\":", a->out);
	admin_json_string(a->out, q.address);
	fputs(",\"network\":", a->out);
	admin_json_string(a->out, key);
	fputs(",\"domain\":", a->out);
	admin_json_string(a->out, domain);
	fputs(",\"profile\":", a->out);
	admin_json_string(a->out, p->name);
	fprintf(a->out, ",\"wait_ms\":%" PRId64 ",\"answer\":", d.verdict == VERDICT_TARPIT
		? d.sleep_ms : 0);
	admin_json_string(a->out, answer);
	fputs(",\"reason\":", a->out);
	admin_json_string(a->out, d.reason);
	fprintf(a->out, ",\"dry_run\":%s}\n", p->dry_run ? "true" : "false");
    } else {
	fprintf(a->out, "client   %s (network %s%s%s%s%s)\n", q.address, key,
		domain[0] ? ", domain " : "", domain, p->name[0] ? ", profile " : "", p->name);
	fprintf(a->out, "answer   %s\n", answer);
	fprintf(a->out, "reason   %s%s%s%s%s\n", d.reason, *what ? "; " : "", what,
		d.rule ? "; rule: " : "", d.rule ? d.rule->text : "");
	if (p->dry_run)
	    fprintf(a->out, "dry_run  yes: tarpit-check only logs this, and answers DUNNO\n");
    }
    free(h);
    return ADMIN_OK;
}

/*
 * NAME
 *	tarpit-store - record that a client waited and delivered
 * SYNOPSIS
 *	tarpit-store [-c config_file]
 * DESCRIPTION
 *	Postfix asks at end of data (smtpd_end_of_data_restrictions).  When
 *	the client's network has a wait that ended without a delivery yet
 *	(pending), that wait is now an escape.  A network that never waited
 *	earns nothing here: only patience escapes the tarpit.  The answer is
 *	always DUNNO.  A profile's escapes are its own: Postfix names the
 *	profile (policy_context) on the end-of-data line as on the RCPT one.
 *
 *	The common case, an escaped network delivering again, costs a read
 *	under the shared lock: the ledger's rule for an escape is previewed
 *	on what was read, and a write happens only when it would change
 *	something (an escape to count, a stale last_seen, old waits to
 *	settle).
 *
 *	A network that has just escaped (its escapes reach `threshold`), with
 *	a verified name whose domain may share (helper_domain), counts for the
 *	domain too: its other networks need not wait (tarpit-check).
 */
#include "util/addr.h"
#include "tarpit/helper.h"
#include "tarpit/ledger.h"
#include "util/log.h"
#include "util/regdomain.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

/* escape_domain - the client's network escaped: so did its domain */
static void escape_domain(struct helper *h, const struct tp_conf *p,
			          const struct request *rq, const char *key)
{
    char    domain[REGDOMAIN_MAX], dkey[REGDOMAIN_MAX + 16];
    struct ledger l = {.event = LEDGER_DOMAIN_ESCAPE,.conf = p,.now = (int64_t) time(0)};

    if (helper_domain(h, p, rq, domain, sizeof(domain)) <= 0
	|| ledger_domain_key(domain, dkey, sizeof(dkey)) == 0)
	return;
    if (db_update(h->db, dkey, ledger_apply, &l) < 0)
	helper_db_warn(h, "client=%s network=%s domain=%s: %s: the domain's escape "
		       "is not recorded", rq->client_address, key, domain, db_error(h->db));
    else
	msg_info("client=%s network=%s domain=%s: the domain's escape recorded",
		 rq->client_address, key, domain);
}

/* store - one end-of-data request */
static enum helper_next store(struct helper *h, const struct request *rq,
			              char *action, size_t len)
{
    char    key[LEDGER_NET_KEY_MAX];
    struct tp_record r;
    const struct tp_conf *p = helper_profile(h, rq);
    struct ledger l = {.event = LEDGER_ESCAPE,.conf = p,.now = (int64_t) time(0)};
    const char *client = rq->client_address;
    int     found;

    snprintf(action, len, "DUNNO");
    if ((found = helper_lookup(h, p, rq, key, sizeof(key), &r)) < 0) {
	if (found == LOOKUP_DB_ERROR)
	    helper_db_warn(h, "client=%s network=%s: %s: DUNNO", client, key,
			   db_error(h->db));
	return HELPER_REPLY;
    }
    if (found == 0) {
	msg_info("client=%s network=%s: delivered without a wait on record",
		 client, key);
	return HELPER_REPLY;
    }
    if (ledger_preview(&l, &r, found) == DB_KEEP)
	return HELPER_REPLY;		/* read-only: nothing to record */
    if (db_update(h->db, key, ledger_apply, &l) < 0) {
	helper_db_warn(h, "client=%s network=%s: %s: escape not recorded",
		  client, key, db_error(h->db));
	return HELPER_REPLY;
    }
    if (l.escaped) {
	msg_info("client=%s network=%s: escape recorded (escapes=%" PRId64 ")",
		 client, key, l.escapes);
	if (l.escapes == p->threshold)
	    escape_domain(h, p, rq, key);
    }
    return HELPER_REPLY;
}

int main(int argc, char **argv)
{
    return helper_main(argc, argv, "tarpit-store", 0, store);
}

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
 *	always DUNNO.
 *
 *	The common case, an escaped network delivering again, costs a read
 *	under the shared lock; a write happens only to count an escape or to
 *	refresh a stale last_seen.
 */
#include "addr.h"
#include "decide.h"
#include "helper.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

struct store_ctx {
    const struct tp_conf *conf;
    int64_t now;
    int     escaped;			/* out: an escape was counted */
    int64_t escapes;			/* out: the network's total */
};

/* count_escape - under the exclusive lock: pending wait -> escape */
static enum db_change count_escape(struct db_txn *t, void *ctx)
{
    struct store_ctx *s = ctx;
    struct tp_record *r = &t->rec;
    int64_t dropped;

    if (!t->found)
	return DB_KEEP;
    if ((dropped = record_settle(r, s->now)) > 0) {
	t->stats.dropouts += dropped;
	t->stats_changed = 1;
    }
    if (r->pending > 0) {
	r->pending--;
	r->escapes++;
	r->failures = 0;
	r->last_seen = s->now;
	t->stats.escapes++;
	t->stats_changed = 1;
	s->escaped = 1;
	s->escapes = r->escapes;
	return DB_WRITE;
    }
    if (dropped)
	return DB_WRITE;
    if (record_is_stale(s->conf, r, s->now)) {
	r->last_seen = s->now;
	return DB_WRITE;
    }
    return DB_KEEP;
}

/* store - one end-of-data request */
static enum helper_next store(struct helper *h, const struct policy_req *q,
			              char *action, size_t len)
{
    char    key[ADDR_KEY_MAX];
    struct tp_record r;
    struct store_ctx s = {&h->conf, (int64_t) time(0), 0, 0};
    const char *client = policy_get(q, "client_address");
    int     found;

    snprintf(action, len, "DUNNO");
    if (helper_client_key(h, q, key, sizeof(key)) == 0)
	return HELPER_REPLY;
    if ((found = db_get(h->db, key, &r)) < 0) {
	msg_error("client=%s network=%s: %s: DUNNO", client, key,
		  db_error(h->db));
	return HELPER_REPLY;
    }
    if (found == 0) {
	msg_info("client=%s network=%s: delivered without a wait on record",
		 client, key);
	return HELPER_REPLY;
    }
    if (r.pending == 0 && !record_is_stale(&h->conf, &r, s.now))
	return HELPER_REPLY;		/* read-only: nothing to record */
    if (db_update(h->db, key, count_escape, &s) < 0) {
	msg_error("client=%s network=%s: %s: escape not recorded",
		  client, key, db_error(h->db));
	return HELPER_REPLY;
    }
    if (s.escaped)
	msg_info("client=%s network=%s: escape recorded (escapes=%" PRId64 ")",
		 client, key, s.escapes);
    return HELPER_REPLY;
}

int main(int argc, char **argv)
{
    return helper_main(argc, argv, "tarpit-store", store);
}

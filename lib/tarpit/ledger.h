#ifndef TARPIT_LEDGER_H
#define TARPIT_LEDGER_H

/*
 * ledger - what each event does to a network's record.  The programs only
 * say which event happened; every rule of the record is here, applied
 * under the store's exclusive lock through db_update(ledger_apply, &l).
 */

#include "tarpit/conf.h"
#include "store/db.h"
#include "store/record.h"
#include "wait/wait.h"

#define LEDGER_KEY_MAX DB_KEY_MAX	/* a key: a network, or a greylist entry */

/* A completed wait not followed by a delivery within this time is a
 * dropout: no SMTP session lasts that long. */
#define PENDING_MAX_AGE 3600
/* A network's key: "192.0.2.0/24", or a profile's own "[NAME]192.0.2.0/24". */
#define LEDGER_NET_KEY_MAX (ADDR_KEY_MAX + CONF_NAME_MAX + 2)

enum ledger_event {
    LEDGER_WAIT_BEGUN,			/* a wait starts: count the attempt */
    LEDGER_WAIT_ENDED,			/* ... and how it ended (wait) */
    LEDGER_WAIT_ZERO,			/* a wait of 0 s: begun and ended at once */
    LEDGER_ESCAPE,			/* the client delivered (tarpit-store) */
    LEDGER_REFRESH,			/* a known network was seen again */
    LEDGER_GREY_ATTEMPT,		/* one try of a greylist entry's tuple */
    LEDGER_GREY_PASSED,			/* the network passed greylisting */
    LEDGER_GREY_MADE,			/* one of its tuples made an entry */
    LEDGER_SPREAD,			/* a /48: one more of its /64s waited */
    LEDGER_ALLOW,			/* an admin allows the network (until) */
    LEDGER_BLOCK,			/* an admin blocks it (until) */
    LEDGER_UNBLOCK,			/* an admin lifts a block */
    LEDGER_EXPIRE,			/* expiry looks at the record (cutoff) */
    LEDGER_GREY_EXPIRE,			/* ... and at a greylist entry */
    LEDGER_LEARN_ESCAPE,		/* the mail log says it delivered */
    LEDGER_LEARN_CORRESPONDENT,		/* ... that we delivered mail to it */
    LEDGER_LEARN_OFFENDER,		/* the mail log says it offended */
    LEDGER_LOAD,			/* a dump's record replaces it (record) */
    LEDGER_DOMAIN_WAIT,			/* a client of a domain waited (wait) */
    LEDGER_DOMAIN_ESCAPE,		/* a network of a domain escaped */
};

enum grey_result { GREY_DEFER, GREY_PASS };

/* One event: what happened, and (filled in by ledger_apply) what it did. */
struct ledger {
    enum ledger_event event;
    const struct tp_conf *conf;
    int64_t now;			/* Unix seconds */
    /* The event's particulars. */
    int64_t sleep_ms;			/* WAIT_BEGUN: the wait's length */
    struct wait_outcome wait;		/* WAIT_ENDED: how it ended */
    int64_t until;			/* ALLOW, BLOCK: -1 for ever */
    const char *comment;		/* ALLOW, BLOCK: or 0 to keep it */
    int64_t cutoff;			/* EXPIRE: untouched since before it */
    const struct tp_record *record;	/* LOAD */
    int     create;			/* GREY_PASSED: the network may be new */
    /* What it did. */
    int     found;			/* the key had a record */
    const char *what;			/* a word or two for messages */
    int     escaped;			/* ESCAPE: an escape was counted */
    int64_t escapes;			/* ESCAPE: the network's total */
    int     grey_room;			/* GREY_ATTEMPT: a new entry may be made */
    enum grey_result grey;		/* GREY_ATTEMPT */
    int64_t retries;			/* GREY_ATTEMPT: retries counted */
    int     made;			/* GREY_ATTEMPT: a new entry was made */
    long    removed, cleared;		/* EXPIRE: counted over a batch */
    int     spread_full;		/* SPREAD: no place was left */
    int64_t spread;			/* SPREAD: the /48's count after it */
};

db_update_fn ledger_apply;
enum db_change ledger_preview(struct ledger *, const struct tp_record *,
			              int found);
void    ledger_count_refused(struct tp_stats *, void *ctx);
const char *ledger_grey_key(const char *network, const char *sender,
			            const char *recipient, char *key, size_t len);
int     ledger_is_grey_key(const char *key);
const char *ledger_domain_key(const char *domain, char *key, size_t len);
const char *ledger_key_domain(const char *key);
const char *ledger_traffic_key(const struct tp_conf *, const char *network,
			               char *key, size_t len);
const char *ledger_key_network(const char *key);
void    ledger_take_marks(struct tp_record *, int *found,
			          const struct tp_record *global, int gfound);
int64_t ledger_total_failures(const struct tp_record *);
int     ledger_grey_room(const struct tp_conf *, const struct tp_record *, int64_t now);
int     ledger_width_ok(const struct tp_conf *, const struct tp_net *);

#endif

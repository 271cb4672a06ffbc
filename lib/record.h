#ifndef TARPIT_RECORD_H
#define TARPIT_RECORD_H

/*
 * record - what the database knows of one network, and its on-disk form.
 * Times are Unix seconds; 0 means never.
 */

#include <stddef.h>
#include <stdint.h>

#define RECORD_VERSION 1
#define RECORD_MAX_SIZE 512
#define RECORD_COMMENT_MAX 128	/* bytes, NUL included */

struct tp_record {
    int64_t first_seen;			/* first request from the network */
    int64_t last_seen;			/* refreshed at most every `refresh` */
    int64_t tarpits;			/* waits started */
    int64_t escapes;			/* waited, then delivered */
    int64_t pending;			/* waits started, no delivery yet */
    int64_t last_tarpit;		/* when the last wait started */
    int64_t hangups;			/* client left during the wait */
    int64_t early_talkers;		/* client talked during the wait */
    int64_t dropouts;			/* waited, then left before data */
    int64_t last_wait_ms;		/* length of the last wait */
    int64_t allow_until;		/* manual allow; -1 forever */
    int64_t block_until;		/* block; -1 forever */
    int64_t last_completed;		/* when the last wait completed */
    int64_t failures;			/* failed waits since the last escape */
    char    comment[RECORD_COMMENT_MAX];	/* an admin's note, or "" */
};

/* Host-wide counters, under the reserved key STATS_KEY. */
#define STATS_KEY "@stats"
#define HIST_BUCKETS 31			/* 10 s each; the last is 300 s and up */
#define HIST_BUCKET_S 10

struct tp_stats {
    int64_t tarpits, escapes, hangups, early_talkers, dropouts;
    int64_t hangup_hist[HIST_BUCKETS];	/* hang-ups by time waited */
    int64_t waits_refused;		/* no wait: max_waiting were running */
    int64_t greylisted;			/* requests answered greylist_action */
    int64_t blocks;			/* networks blocked by block_after */
};

/* Greylist entries: network, sender and recipient, under a reserved key
 * "@grey NETWORK SENDER RECIPIENT", in a tp_record: first_seen, last_seen
 * (the last attempt), tarpits (retries counted), last_tarpit (when the
 * last retry was counted). */
#define GREY_PREFIX "@grey "


/* A completed wait not followed by a delivery within this time is a
 * dropout: no SMTP session lasts that long. */
#define PENDING_MAX_AGE 3600

/* The fields by name, for text formats (dump, JSON, check). */
enum record_kind { RK_TIME, RK_COUNT, RK_UNTIL, RK_MS };

struct record_field {
    const char *name;
    size_t  offset;
    enum record_kind kind;
};

extern const struct record_field record_field_table[];
extern const size_t record_nfields;

#define RECORD_FIELD(r, f) ((int64_t *) ((char *) (r) + (f)->offset))

/* The host-wide totals by name (the histogram aside). */
extern const struct record_field stats_field_table[];
extern const size_t stats_nfields;

size_t  record_encode(const struct tp_record *, unsigned char *buf, size_t len);
int     record_decode(const unsigned char *buf, size_t len, struct tp_record *);
size_t  stats_encode(const struct tp_stats *, unsigned char *buf, size_t len);
int     stats_decode(const unsigned char *buf, size_t len, struct tp_stats *);
void    stats_add_hangup(struct tp_stats *, int64_t waited_ms);
int64_t record_settle(struct tp_record *, int64_t now);
int64_t record_failed(const struct tp_record *);

#endif

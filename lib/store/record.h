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
    int64_t recent_failures;		/* failed waits since its last pass
					 * (an escape or a rescue): greylist */
    int64_t learned;			/* enum record_learned: its latest pass */
    int64_t grey_made;			/* greylist entries made since ... */
    int64_t grey_since;			/* ... this time (greylist_window) */
    int64_t spread;			/* an IPv6 /48: its /64s with records */
    int64_t hangup_ms;			/* time waited by its clients that hung up */
    char    comment[RECORD_COMMENT_MAX];	/* an admin's note, or "" */
};

/* How a network earned its latest pass (pending wait or escape): record
 * field `learned`, shown by tarpit-admin list and check. */
enum record_learned {
    LEARNED_NOTHING,			/* nothing yet */
    LEARNED_WAITED,			/* it sat out a wait here */
    LEARNED_RETRIED,			/* it retried past greylisting */
    LEARNED_SEEDED,			/* import-log --seed: it delivered before */
    LEARNED_CORRESPONDENT,		/* our Postfix delivered mail to it */
};

#define LEARNED_MAX LEARNED_CORRESPONDENT

extern const char *const record_learned_name[];
const char *record_learned_word(int64_t);
int     record_comment_ok(const char *);

/* Host-wide counters, under the store's own key (KEY_STATS, key.h). */
#define HIST_BUCKETS 31			/* 10 s each; the last is 300 s and up */
#define HIST_BUCKET_S 10

struct tp_stats {
    int64_t tarpits, escapes, hangups, early_talkers, dropouts;
    int64_t hangup_hist[HIST_BUCKETS];	/* hang-ups by time waited */
    int64_t waits_refused;		/* no wait: max_waiting were running */
    int64_t greylisted;			/* requests answered greylist_action */
    int64_t blocks;			/* networks blocked by block_after */
    int64_t hangup_ms;			/* time waited by those who hung up */
};

/* A greylist entry: one tuple of network, sender and recipient (its key
 * is ledger_grey_key()'s).  On disk it has the layout of a record, its
 * fields in the places of first_seen, last_seen, tarpits and last_tarpit,
 * so that files and dumps written before it had a type of its own still
 * read; grey_from_record() and grey_to_record() are the one place that
 * knows this. */
struct grey_entry {
    int64_t first_seen;			/* when the tuple was first deferred */
    int64_t last_attempt;		/* its latest try */
    int64_t retries;			/* tries since its network failed */
    int64_t last_retry;			/* the same as last_attempt */
};


/* The fields by name, for text formats (dump, JSON, check). */
enum record_kind { RK_TIME, RK_COUNT, RK_UNTIL, RK_MS, RK_LEARNED };

struct record_field {
    const char *name;
    size_t  offset;
    enum record_kind kind;
};

extern const struct record_field record_field_table[];
extern const size_t record_nfields;

#define RECORD_FIELD(r, f) ((int64_t *) ((char *) (r) + (f)->offset))

/* A greylist entry's fields by name (offsets into struct grey_entry). */
extern const struct record_field grey_field_table[];
extern const size_t grey_nfields;

/* The host-wide totals by name (the histogram aside). */
extern const struct record_field stats_field_table[];
extern const size_t stats_nfields;

/* How many int64_t counters struct tp_stats holds (record.c checks at
 * compile time that it holds nothing else), and how many of them
 * stats_field_table names: the rest are hangup_hist's buckets. */
#define STATS_COUNTERS (sizeof(struct tp_stats) / sizeof(int64_t))
#define STATS_NAMED (STATS_COUNTERS - HIST_BUCKETS)

size_t  record_encode(const struct tp_record *, unsigned char *buf, size_t len);
int     record_decode(const unsigned char *buf, size_t len, struct tp_record *);
size_t  stats_encode(const struct tp_stats *, unsigned char *buf, size_t len);
int     stats_decode(const unsigned char *buf, size_t len, struct tp_stats *);
void    stats_add_hangup(struct tp_stats *, int64_t waited_ms);
void    stats_add(struct tp_stats *, const struct tp_stats *add);
void    grey_from_record(const struct tp_record *, struct grey_entry *);
void    grey_to_record(const struct grey_entry *, struct tp_record *);

#endif

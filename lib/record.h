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
};

size_t  record_encode(const struct tp_record *, unsigned char *buf, size_t len);
int     record_decode(const unsigned char *buf, size_t len, struct tp_record *);

#endif

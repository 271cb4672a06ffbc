/*
 * NAME
 *	record - the one codec for database records
 * DESCRIPTION
 *	On disk a record is: one byte of format version (1), one byte N
 *	giving the number of fields, then N fields of 8 bytes each, signed,
 *	most significant byte first.  The fields are those of struct
 *	tp_record in the order of the table below.  New fields are only ever
 *	appended: a reader takes the fields it knows and ignores the rest, and
 *	a field missing from an older record reads as 0.  So the format
 *	changes version only when a field changes meaning.
 * DIAGNOSTICS
 *	record_decode() returns -1 for an unknown version or a length that
 *	does not match N.
 */
#include "record.h"

#include <string.h>

#define F(name) offsetof(struct tp_record, name)

static const size_t record_fields[] = {
    F(first_seen), F(last_seen), F(tarpits), F(escapes), F(pending),
    F(last_tarpit), F(hangups), F(early_talkers), F(dropouts),
    F(last_wait_ms), F(allow_until), F(block_until),
};

#define NFIELDS (sizeof(record_fields) / sizeof(record_fields[0]))

/* record_encode - bytes for the database; their count, or 0 */
size_t record_encode(const struct tp_record *r, unsigned char *buf, size_t len)
{
    size_t  need = 2 + 8 * NFIELDS;

    if (len < need)
	return 0;
    buf[0] = RECORD_VERSION;
    buf[1] = (unsigned char) NFIELDS;
    for (size_t i = 0; i < NFIELDS; i++) {
	int64_t v;
	uint64_t u;

	memcpy(&v, (const char *) r + record_fields[i], sizeof(v));
	u = (uint64_t) v;
	for (int b = 0; b < 8; b++)
	    buf[2 + 8 * i + b] = (unsigned char) (u >> (56 - 8 * b));
    }
    return need;
}

/* record_decode - a record from the database's bytes; 0 or -1 */
int record_decode(const unsigned char *buf, size_t len, struct tp_record *r)
{
    size_t  n;

    memset(r, 0, sizeof(*r));
    if (len < 2 || buf[0] != RECORD_VERSION)
	return -1;
    n = buf[1];
    if (len != 2 + 8 * n)
	return -1;
    for (size_t i = 0; i < n && i < NFIELDS; i++) {
	uint64_t u = 0;
	int64_t v;

	for (int b = 0; b < 8; b++)
	    u = (u << 8) | buf[2 + 8 * i + b];
	v = (int64_t) u;
	memcpy((char *) r + record_fields[i], &v, sizeof(v));
    }
    return 0;
}

#ifndef TARPIT_UTIL_REGEX_H
#define TARPIT_UTIL_REGEX_H

/* regex - a regex any config may hold: no repetition of a repetition,
 * bounds up to REGEX_MAX_BOUND, at most REGEX_MAX_LEN bytes */

#include <stddef.h>

#define REGEX_MAX_LEN 256
#define REGEX_MAX_BOUND 50

int     regex_sane(const char *re, char *why, size_t whylen);

#endif

/*
 * NAME
 *	regex - a regex any config may hold
 * DESCRIPTION
 *	regex_sane() refuses a POSIX extended regex that would make
 *	regcomp() use memory without bound, before it is compiled: the
 *	config's rules and offender patterns come through here.
 */
#define _GNU_SOURCE
#include "util/regex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* regex_sane - refuse what would make regcomp() use memory without bound:
 * glibc builds repetitions by copying, so "a++++++++++++++++" or
 * "((a{999}){999})" takes gigabytes.  A repetition of a repetition
 * (meaningless in POSIX EREs anyway), bounds over REGEX_MAX_BOUND and
 * regexes over REGEX_MAX_LEN bytes are refused; 0 or -1 with why. */
int     regex_sane(const char *re, char *why, size_t whylen)
{
    int     repeated = 0;

    if (strlen(re) > REGEX_MAX_LEN)
	return snprintf(why, whylen, "longer than %d bytes", REGEX_MAX_LEN), -1;
    for (const char *p = re; *p; p++) {
	if (*p == '\\') {
	    if (*++p == 0)
		break;
	    repeated = 0;
	} else if (*p == '[') {
	    p++;
	    if (*p == '^')
		p++;
	    if (*p == ']')
		p++;
	    while (*p && *p != ']')
		p++;
	    if (*p == 0)
		break;			/* regcomp reports it */
	    repeated = 0;
	} else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
	    if (repeated)
		return snprintf(why, whylen, "a repetition of a repetition "
				"(\"%.8s\")", p), -1;
	    if (*p == '{') {
		while (*++p && *p != '}')
		    if (isdigit((unsigned char) *p) && atol(p) > REGEX_MAX_BOUND)
			return snprintf(why, whylen, "a bound over %d",
					REGEX_MAX_BOUND), -1;
		if (*p == 0)
		    break;
	    }
	    repeated = 1;
	} else
	    repeated = 0;
    }
    return 0;
}


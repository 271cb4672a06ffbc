/* unit.h - the smallest table-test harness: EXPECT, then unit_done() */
#ifndef TARPIT_UNIT_H
#define TARPIT_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static int unit_passed, unit_failed;

#define EXPECT(cond, ...) do { \
	if (cond) { unit_passed++; } else { \
	    unit_failed++; \
	    fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
	    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
	} \
    } while (0)

/* SETUP - a step the checks need, not a check: when it fails the test
 * cannot go on, and says so instead of counting it. */
#define SETUP(cond, ...) do { \
	if (!(cond)) { \
	    fprintf(stderr, "%s:%d: setup failed: %s: ", __FILE__, __LINE__, #cond); \
	    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); \
	    exit(2); \
	} \
    } while (0)

static inline int unit_done(const char *name)
{
    printf("%s: %d checks passed, %d failed\n", name, unit_passed, unit_failed);
    return unit_failed != 0;
}

#endif

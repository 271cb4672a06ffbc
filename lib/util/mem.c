/*
 * NAME
 *	mem - checked allocation and a growable array
 * DESCRIPTION
 *	xmalloc(), xcalloc(), xrealloc() and xstrdup() return memory or do
 *	not return: msg_fatal("out of memory").  Sizes that would overflow
 *	are out of memory too.
 *
 *	array_add() appends one zeroed element to an array (doubling its
 *	room as it grows) and returns it; array_free() gives it all back.
 *
 *	mem_release() gives the kernel back, before a long sleep, what the
 *	process no longer uses: the heap's free memory (malloc_trim) and the
 *	stack's pages below the caller's frame, which setting up (the config,
 *	the sandbox's filter, the store) touched once and which would
 *	otherwise stay in every sleeping process.  The next call that needs
 *	them gets fresh zero pages.
 */
#define _GNU_SOURCE
#include "util/mem.h"
#include "util/log.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* STACK_SPAN - how far below the caller the stack is given back: more
 * than any call chain of ours goes; what is not mapped is skipped */
#define STACK_SPAN (256 * 1024)
#define STACK_KEEP 2048		/* the frames mem_release() and madvise() use */

/* mem_release - return the free heap and the stack below the caller */
__attribute__((noinline))
void    mem_release(void)
{
    uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
    uintptr_t sp = (uintptr_t) __builtin_frame_address(0);
    uintptr_t top = (sp - STACK_KEEP) & ~(page - 1);

    malloc_trim(0);
    /* Only the stack's own mapping takes the advice: below its lowest
     * page nothing is mapped, and the error that says so is expected. */
    (void) madvise((void *) (top - STACK_SPAN), STACK_SPAN, MADV_DONTNEED);
}

/* xmalloc - memory, or exit */
void   *xmalloc(size_t len)
{
    void   *p = malloc(len ? len : 1);

    if (p == 0)
	msg_fatal("out of memory (%zu bytes)", len);
    return p;
}

/* xcalloc - zeroed memory for n elements, or exit */
void   *xcalloc(size_t n, size_t size)
{
    void   *p = calloc(n ? n : 1, size ? size : 1);

    if (p == 0)
	msg_fatal("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

/* xrealloc - more (or less) memory, or exit */
void   *xrealloc(void *old, size_t len)
{
    void   *p = realloc(old, len ? len : 1);

    if (p == 0)
	msg_fatal("out of memory (%zu bytes)", len);
    return p;
}

/* xstrdup - a copy, or exit */
char   *xstrdup(const char *s)
{
    size_t  len = strlen(s) + 1;

    return memcpy(xmalloc(len), s, len);
}

/* array_add - one more zeroed element at the end */
void   *array_add(struct array *a)
{
    char   *e;

    if (a->n == a->cap) {
	size_t  cap = a->cap ? 2 * a->cap : 16;

	if (cap > SIZE_MAX / a->size)
	    msg_fatal("out of memory (%zu elements)", cap);
	a->v = xrealloc(a->v, cap * a->size);
	a->cap = cap;
    }
    e = (char *) a->v + a->n++ * a->size;
    memset(e, 0, a->size);
    return e;
}

/* array_free - the elements' room (not what they point to) */
void    array_free(struct array *a)
{
    free(a->v);
    a->v = 0;
    a->n = a->cap = 0;
}

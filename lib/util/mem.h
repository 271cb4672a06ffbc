#ifndef TARPIT_MEM_H
#define TARPIT_MEM_H

/*
 * mem - allocations that succeed or do not return (out of memory is
 * fatal: a helper's exit leaves Postfix to its default_action, DUNNO),
 * and one growable array.
 */

#include <stddef.h>

void   *xmalloc(size_t);
void   *xcalloc(size_t n, size_t size);
void   *xrealloc(void *, size_t);
char   *xstrdup(const char *);
void    mem_release(void);

/* A growable array of n elements of size bytes each, at v. */
struct array {
    void   *v;
    size_t  n, cap, size;
};

#define ARRAY_OF(type) {0, 0, 0, sizeof(type)}

void   *array_add(struct array *);
void    array_free(struct array *);

#endif

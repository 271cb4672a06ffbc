#ifndef TARPIT_REGDOMAIN_H
#define TARPIT_REGDOMAIN_H

/* regdomain - the registrable domain of a client's verified name */

#include "util/addr.h"

#include <stddef.h>

#define REGDOMAIN_MAX 254		/* a DNS name, NUL included */

int     regdomain_of(const char *name, const struct tp_addr *client,
		             char *domain, size_t len, const char **why);
int     regdomain_carries_address(const char *name, const struct tp_addr *);

#endif

/* unit_conf.h - a config for a table test, from tarpit.conf text: the
 * settings go through the real parser */
#ifndef TARPIT_UNIT_CONF_H
#define TARPIT_UNIT_CONF_H

#include "tarpit/conf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* unit_conf - load text as a config file; the test stops when it is bad */
static inline void unit_conf(const char *text, struct tp_conf *c)
{
    char    path[] = "/tmp/unit_conf.XXXXXX", err[512];
    int     fd = mkstemp(path);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
	fprintf(stderr, "unit_conf: cannot write %s\n", path);
	exit(2);
    }
    close(fd);
    if (conf_load(c, path, 1, err, sizeof(err)) < 0) {
	fprintf(stderr, "unit_conf: %s\n", err);
	unlink(path);
	exit(2);
    }
    unlink(path);
}

#endif

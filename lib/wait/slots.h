#ifndef TARPIT_SLOTS_H
#define TARPIT_SLOTS_H

/*
 * slots - a host-wide cap on concurrent waits that a crash cannot leak:
 * one open-file-description byte-range lock per slot on a slot file.
 */

int     slots_acquire(const char *path, int max, char *why, int whylen);
void    slots_release(int fd);
int     slots_in_use(const char *path, int max);

#endif

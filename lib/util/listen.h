#ifndef TARPIT_LISTEN_H
#define TARPIT_LISTEN_H

/* The first descriptor of systemd's socket-passing protocol. */
#define LISTEN_FDS_START 3

extern int listen_fds(void);

#endif

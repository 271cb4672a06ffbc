#ifndef TARPIT_ADDR_H
#define TARPIT_ADDR_H

/* addr - client addresses and the network keys they are grouped under */

#include <stddef.h>
#include <sys/socket.h>

#define ADDR_KEY_MAX 64		/* "ffff:...:ffff/128" fits */

struct tp_addr {
    int     family;			/* AF_INET or AF_INET6 */
    unsigned char bytes[16];		/* 4 used for AF_INET */
};

/* A network: an address with all but its first prefix bits clear. */
struct tp_net {
    struct tp_addr addr;
    int     prefix;
};

int     addr_parse(const char *text, struct tp_addr *);
int     addr_parse_network(const char *text, struct tp_net *);
int     addr_in_network(const struct tp_addr *, const struct tp_net *);
void    addr_v4mapped(const struct tp_addr *, unsigned char bytes[16]);
int     addr_parse_port(const char *text);
int     addr_parse_endpoint(const char *text, struct sockaddr_storage *, socklen_t *);
void    addr_mask(struct tp_addr *, int prefix);
int     addr_network_key(const struct tp_addr *, int v4prefix, int v6prefix,
			         char *key, size_t len);
int     addr_key_from_arg(const char *arg, int v4prefix, int v6prefix,
			          char *key, size_t len);

#endif

#ifndef TARPIT_KEY_H
#define TARPIT_KEY_H

/*
 * key - the namespace of the store's keys, in one place:
 *
 *	192.0.2.0/24, 2001:db8:1:2::/64	a network's record
 *	[NAME]192.0.2.0/24		a profile's own record of it
 *	@grey NETWORK SENDER RECIPIENT	a greylist entry
 *	@grey DOMAIN SENDER RECIPIENT	a verified domain's greylist entry
 *	@domain DOMAIN			a verified domain's record
 *	@stats				the host-wide counters
 *
 * The ledger (tarpit/ledger.c) makes and reads every key but the last,
 * which is the store's own.  A key that starts with KEY_RESERVED is
 * bookkeeping, not a network: a walk shows it only when asked for every
 * key (db_walk_all), and never KEY_STATS.
 */

#define KEY_RESERVED '@'		/* bookkeeping, not a network */
#define KEY_STATS "@stats"		/* the store's counters */
#define KEY_GREY "@grey "		/* + NETWORK or DOMAIN, SENDER, RECIPIENT */
#define KEY_DOMAIN "@domain "		/* + DOMAIN */
#define KEY_PROFILE_OPEN '['		/* "[NAME]" + NETWORK */
#define KEY_PROFILE_CLOSE ']'

#endif

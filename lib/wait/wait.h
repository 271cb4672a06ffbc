#ifndef TARPIT_WAIT_H
#define TARPIT_WAIT_H

/* wait - the tarpit itself: sleep, but watch who is still there */

#include "proto/request.h"
#include "wait/watch.h"

#include <stdint.h>

#define WAIT_WATCH_INTERVAL_MS 500	/* how often the SMTP client is looked at */
#define WAIT_TIMER_SLACK_MS 50	/* how far the kernel may move a wake-up */
#define WAIT_GOODBYE_MS 1000	/* how long one short line waits for more */

enum wait_result {
    WAIT_DONE,				/* the whole time passed */
    WAIT_POLICY_GONE,			/* smtpd closed the policy connection */
    WAIT_CLIENT_GONE,			/* the SMTP client hung up */
    WAIT_EARLY_TALKER,			/* the SMTP client talked over the wait */
};

/* Whether a client that hung up said goodbye first (one short line, a
 * QUIT), and is still there to read the answer. */
enum wait_goodbye {
    GOODBYE_NONE,			/* it just went */
    GOODBYE_SAID,			/* a short line, then it closed */
    GOODBYE_STAYED,			/* a short line, and still connected */
};

struct wait_outcome {
    enum wait_result result;
    int64_t waited_ms;
    int     talked;			/* bytes arrived, even if ignored */
    enum wait_goodbye goodbye;		/* CLIENT_GONE: how it left */
};

void    wait_watched(int policy_fd, int64_t ms, struct client_watch *,
		             int stop_on_talk, struct wait_outcome *);
int     wait_for_client(int policy_fd, int64_t ms, const struct request *,
			        int watch, int stop_on_talk, struct wait_outcome *,
			        char *why, size_t whylen);

#endif

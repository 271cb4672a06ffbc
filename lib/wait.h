#ifndef TARPIT_WAIT_H
#define TARPIT_WAIT_H

/* wait - the tarpit itself: sleep, but watch who is still there */

#include <stdint.h>

enum wait_result {
    WAIT_DONE,				/* the whole time passed */
    WAIT_POLICY_GONE,			/* smtpd closed the policy connection */
};

enum wait_result wait_watched(int policy_fd, int64_t ms, int64_t *waited_ms);

#endif

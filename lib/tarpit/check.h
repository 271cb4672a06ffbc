#ifndef TARPIT_CHECK_H
#define TARPIT_CHECK_H

/* check - tarpit-check's work: one RCPT-stage request */

#include "tarpit/helper.h"

helper_fn check_request;

#endif

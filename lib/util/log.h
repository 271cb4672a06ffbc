#ifndef TARPIT_LOG_H
#define TARPIT_LOG_H

#include <stdarg.h>

/* log - one clear line per event, to stderr, the journal or syslog */

#define TP_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(const char *progname);
void log_avoid_fd(int fd);
void msg_info(const char *fmt, ...) TP_PRINTF(1, 2);
void msg_warn(const char *fmt, ...) TP_PRINTF(1, 2);
void msg_vwarn(const char *fmt, va_list) TP_PRINTF(1, 0);
void msg_error(const char *fmt, ...) TP_PRINTF(1, 2);
_Noreturn void msg_fatal(const char *fmt, ...) TP_PRINTF(1, 2);
_Noreturn void msg_panic(const char *fmt, ...) TP_PRINTF(1, 2);

#endif

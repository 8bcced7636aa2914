/* Messages of the pvio toolstack: one line on stderr per error ("pvio: ")
 * or warning ("pvio: warning: "), and formatted strings. The bottom of the
 * program: it needs nothing else of it. */
#ifndef PVIO_TOOLS_MSG_H
#define PVIO_TOOLS_MSG_H

void pvio_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pvio_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A malloc'd formatted string; exits on out of memory. */
char *pvio_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

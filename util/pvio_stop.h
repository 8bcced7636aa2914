/* The stop request of a daemon whose loop polls a flag (SIGTERM, SIGINT). */
#ifndef PVIO_STOP_H
#define PVIO_STOP_H

#include <signal.h>

/* Set by SIGTERM and SIGINT once pvio_stop_on_signals ran, or by the
 * program itself when it has to stop. */
extern volatile sig_atomic_t pvio_stop_requested;

/* Installs the handlers that set pvio_stop_requested (without SA_RESTART,
 * so that a blocking poll returns EINTR), and ignores SIGPIPE: a closed
 * peer is an error to handle, not a death. */
void pvio_stop_on_signals(void);

#endif

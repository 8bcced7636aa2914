/*
 * Where pvio-xenstored listens: the one place that spells its socket
 * names. The daemon creates them; the toolstack points each domain's
 * processes at theirs and clears the ones a crashed daemon left. Header
 * only: the daemon and the tools share no library.
 */
#ifndef PVIO_XS_SOCKETS_H
#define PVIO_XS_SOCKETS_H

/* The privileged (dom0) socket by default: libxenstore's default
 * (/var/run -> /run on Debian), so that plain xenstore-ls finds it. */
#define PVIO_XS_DEFAULT_SOCKET "/run/xenstored/socket"

/* The directory under the run directory ($PVIO_RUNDIR) where the daemon's
 * sockets go unless told otherwise. */
#define PVIO_XS_RUNDIR_SUBDIR "xenstored"

/* INTRODUCE opens <domain-socket-dir>/domain-<domid>: the printf format
 * takes the directory and the domid (unsigned). */
#define PVIO_XS_DOMAIN_SOCKET_PREFIX "domain-"
#define PVIO_XS_DOMAIN_SOCKET_FMT    "%s/" PVIO_XS_DOMAIN_SOCKET_PREFIX "%u"

#endif

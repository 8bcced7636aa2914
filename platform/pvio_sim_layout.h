/*
 * Where the sim platform keeps its state: the one place that spells the
 * default run directory and a domain's directory in it. The platform
 * creates a domain's directory on first use (sim.h lists what goes in it);
 * the toolstack removes it with the domain. Header only, so that programs
 * that never open a handle (pvio, pvio-xenstored) ask it without linking
 * the platform library.
 */
#ifndef PVIO_SIM_LAYOUT_H
#define PVIO_SIM_LAYOUT_H

/* PVIO_RUNDIR when unset or empty. */
#define PVIO_DEFAULT_RUNDIR "/run/pvio"

/* A domain's directory, <rundir>/dom<domid>: the printf format takes the
 * run directory and the domid (unsigned). */
#define PVIO_SIM_DOMAIN_DIR_PREFIX "dom"
#define PVIO_SIM_DOMAIN_DIR_FMT	   "%s/" PVIO_SIM_DOMAIN_DIR_PREFIX "%u"

#endif

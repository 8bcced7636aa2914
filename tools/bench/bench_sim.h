/* pvio-bench: a private sim run directory for the platform benchmarks. */
#ifndef PVIO_BENCH_SIM_H
#define PVIO_BENCH_SIM_H

/*
 * Point PVIO_RUNDIR at a fresh temporary directory unless the caller set
 * one, and select the sim platform. Returns the directory to remove with
 * bench_sim_rundir_remove(), or NULL when PVIO_RUNDIR was given; a process
 * that exits without removing it (a failed benchmark) removes it at exit.
 */
char *bench_sim_rundir_create(const char *who);
void bench_sim_rundir_remove(char *dir);

/* Help text shared by the subcommands that run the sim platform. */
#define BENCH_SIM_HELP                                                         \
	"Runs the sim platform in a temporary PVIO_RUNDIR unless PVIO_RUNDIR " \
	"is set."

/* Make the calling process domain domid on the sim platform. */
void bench_sim_set_domid(unsigned domid);

#endif

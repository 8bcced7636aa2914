/* Reading a domain's processes from /proc; see procfs.h. */
#include "config.h"

#include "procfs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_stat_parse(const char *text, struct proc_stat *st)
{
	const char *rp = strrchr(text, ')');
	if (!rp || !strchr(text, '(') || rp[1] != ' ')
		return -1;
	/* Fields 3 on (proc(5)): state ppid pgrp session tty_nr tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime priority
	 * nice num_threads itrealvalue starttime vsize rss. */
	char state;
	unsigned long long utime, stime;
	long long cutime, cstime, rss;
	long num_threads;
	int n = sscanf(rp + 2,
		       "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu "
		       "%lld %lld %*d %*d %ld %*d %*u %*u %lld",
		       &state, &utime, &stime, &cutime, &cstime, &num_threads,
		       &rss);
	if (n != 7 || state < 'A' || state > 'z' || cutime < 0 || cstime < 0)
		return -1;
	st->state = state;
	st->utime = utime;
	st->stime = stime;
	st->cutime = (unsigned long long)cutime;
	st->cstime = (unsigned long long)cstime;
	st->num_threads = num_threads;
	st->rss = rss < 0 ? 0 : rss;
	return 0;
}

void domain_usage_add_state(struct domain_usage *u, char state)
{
	switch (state) {
	case 'R':
		u->running++;
		break;
	case 'T':
	case 't':
		u->stopped++;
		break;
	case 'Z':
	case 'X':
	case 'x':
		u->dead++;
		break;
	default: /* S D I W P K: waiting for something */
		u->sleeping++;
	}
}

void domain_state_letters(const struct domain_usage *u, bool dying, char out[7])
{
	memcpy(out, "------", 7);
	int alive = u->running + u->sleeping + u->stopped;
	if (u->running)
		out[0] = 'r';
	else if (u->stopped && !u->sleeping)
		out[2] = 'p';
	else if (u->sleeping || !u->dead)
		out[1] = 'b';
	if (dying || (u->dead && !alive))
		out[5] = 'd';
}

static char *read_small_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return n ? buf : NULL;
}

/* Every thread's state of pid; the process's own when its tasks cannot
 * be read. */
static void add_thread_states(pid_t pid, char own_state, struct domain_usage *u)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	int seen = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char tpath[128];
		/* Task ids are numbers: the path fits. */
		if (snprintf(tpath, sizeof(tpath), "/proc/%d/task/%.32s/stat",
			     (int)pid, e->d_name) >= (int)sizeof(tpath))
			continue;
		struct proc_stat st;
		if (read_small_file(tpath, buf, sizeof(buf)) &&
		    !proc_stat_parse(buf, &st)) {
			domain_usage_add_state(u, st.state);
			seen++;
		}
	}
	if (d)
		closedir(d);
	if (!seen)
		domain_usage_add_state(u, own_state);
	u->threads += seen ? seen : 1;
}

void procfs_usage(const pid_t *pids, int n, struct domain_usage *u)
{
	memset(u, 0, sizeof(*u));
	long page = sysconf(_SC_PAGESIZE);
	for (int i = 0; i < n; i++) {
		char path[64], buf[1024];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pids[i]);
		struct proc_stat st;
		if (!read_small_file(path, buf, sizeof(buf)) ||
		    proc_stat_parse(buf, &st))
			continue; /* gone since it was listed */
		u->processes++;
		/* cutime/cstime: the children it waited for, which ran in
		 * the domain too. */
		u->ticks += st.utime + st.stime + st.cutime + st.cstime;
		u->rss_kib += (unsigned long long)st.rss *
			      (unsigned long long)(page > 0 ? page : 4096) /
			      1024;
		add_thread_states(pids[i], st.state, u);
	}
}

double procfs_ticks_to_s(unsigned long long ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	return (double)ticks / (double)(hz > 0 ? hz : 100);
}

/*
 * The hotplug script, run by the backend itself only when it takes up a
 * device after a restart (its new TAP is not on the bridge): the calling
 * convention and environment the toolstack uses (docs/toolstack.md,
 * "Network devices").
 */
#include "config.h"

#include "netback.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Seconds the script may take: the toolstack's PVIO_TIMEOUT, default 10. */
static int script_timeout_s(void)
{
	const char *t = getenv("PVIO_TIMEOUT");
	int v = t ? atoi(t) : 0;
	return v > 0 && v < 3600 ? v : 10;
}

int hotplug_run(struct pvio_xenbus *xb, const struct vif *vif,
		const char *action)
{
	char path[NETBACK_PATH_MAX + 32];
	char *script = NULL;
	snprintf(path, sizeof(path), "%s/script", vif->be_dir);
	if (pvio_xenbus_read_str(xb, XBT_NULL, path, &script)) {
		nb_log("%s: no script in %s", vif->name, vif->be_dir);
		return -ENOENT;
	}
	char *gw = NULL;
	snprintf(path, sizeof(path), "%s/gatewaydev", vif->be_dir);
	pvio_xenbus_read_str(xb, XBT_NULL, path, &gw);

	char e_script[NETBACK_PATH_MAX + 16], e_path[64], e_netdev[64],
		e_vif[48];
	snprintf(e_script, sizeof(e_script), "script=%s", script);
	snprintf(e_path, sizeof(e_path), "XENBUS_PATH=backend/vif/%u/%u",
		 vif->domid, vif->devid);
	snprintf(e_netdev, sizeof(e_netdev), "netdev=%s", gw ? gw : "");
	snprintf(e_vif, sizeof(e_vif), "vif=%s", vif->name);
	free(gw);
	char *ours[] = {e_script, "XENBUS_TYPE=vif",
			e_path,	  "XENBUS_BASE_PATH=backend",
			e_netdev, e_vif};
	size_t nenv = 0;
	while (environ[nenv])
		nenv++;
	size_t nours = sizeof(ours) / sizeof(ours[0]);
	char **env = calloc(nenv + nours + 1, sizeof(*env));
	if (!env) {
		free(script);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < nenv; i++) {
		bool replaced = false;
		for (size_t j = 0; j < nours; j++) {
			size_t eq = strcspn(ours[j], "=") + 1;
			if (!strncmp(environ[i], ours[j], eq))
				replaced = true;
		}
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < nours; j++)
		env[k++] = ours[j];
	env[k] = NULL;

	char *argv[] = {script, (char *)action, "type_if=vif", NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, script, NULL, NULL, argv, env);
	free(env);
	if (rc) {
		nb_log("%s: cannot run %s: %s", vif->name, script,
		       strerror(rc));
		free(script);
		return -rc;
	}
	int status = 0;
	int waited_ms = 0, limit_ms = script_timeout_s() * 1000;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (waited_ms >= limit_ms) {
			nb_log("%s: %s %s took more than %d s; killed",
			       vif->name, script, action, limit_ms / 1000);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			rc = -ETIMEDOUT;
			break;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited_ms += 10;
	}
	if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		nb_log("%s: %s %s failed (exit status %d)", vif->name, script,
		       action, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		rc = -EIO;
	} else if (!rc) {
		nb_log("%s: ran %s %s", vif->name, script, action);
	}
	free(script);
	return rc;
}

/* The commands main() dispatches to: argv[0] is the command's name. The
 * top of the program: nothing else calls them, and they never call one
 * another. */
#ifndef PVIO_TOOLS_COMMANDS_H
#define PVIO_TOOLS_COMMANDS_H

/* cmd_host.c */
int cmd_host(int argc, char **argv);
/* cmd_domain.c */
int cmd_create(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_exec(int argc, char **argv);
/* cmd_network.c */
int cmd_network_attach(int argc, char **argv);
int cmd_network_detach(int argc, char **argv);
int cmd_network_list(int argc, char **argv);
int cmd_network_stats(int argc, char **argv);
/* cmd_demo.c */
int cmd_demo(int argc, char **argv);

#endif

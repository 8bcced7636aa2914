/* Files of the run directory: whole-file reads, atomic writes, key=value
 * records, directory trees. */
#ifndef PVIO_TOOLS_FILES_H
#define PVIO_TOOLS_FILES_H

#include <stddef.h>
#include <sys/types.h>

int mkdir_p(const char *path, mode_t mode);
/* Removes path and everything below it (a warning per failure). */
void rm_tree(const char *path);
/* The whole file, malloc'd; NULL when it cannot be opened. */
char *read_text_file(const char *path);
/* Through a temporary and a rename: readers never see half a file. */
int write_text_file(const char *path, const char *text);
/* Value of key in "key=value" lines, copied into out; -1 when absent. */
int kv_get(const char *text, const char *key, char *out, size_t outlen);

#endif

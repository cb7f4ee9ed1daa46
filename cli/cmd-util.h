/* cmd-util.h: small helpers shared by the command files (cmd-*.c)
 *
 * Checking arguments, strict number arguments, reading a config file,
 * finding a pool in cpupool.list's answer. Building params and making
 * calls are client.h's; output formats stay in the command files.
 */
#ifndef KEEL_CLI_CMD_UTIL_H
#define KEEL_CLI_CMD_UTIL_H

#include <stdbool.h>

#include <yajl/yajl_tree.h>

/* Reads path (whole, NUL-terminated, at most KEEL_CONFIG_MAX_SIZE
 * bytes: keeld refuses more) into *text_r (free it). 0, or 1 after
 * "keel: CMD: PATH: why". A NUL byte inside is refused. */
int util_read_file(const char *cmd, const char *path, char **text_r);

/* The n KEY=VALUE overrides after a config file path: 0, or 2 after
 * "X is not KEY=VALUE" or when path is no xl.cfg file. */
int util_check_overrides(const char *cmd, const char *path, char **kv, int n);

/* For a command without options: 0 when argv has min..max arguments
 * (max < 0: no limit) and no option, else the usage line and 2. */
int util_args(const char *cmd, int argc, char **argv, int min, int max);

/* An integer argument in min..max, all of text used; 0, or 2 after
 * "keel: CMD: WHAT must be ...". */
int util_parse_int(const char *cmd, const char *what, const char *text,
                   long long min, long long max, long long *v_r);

/* The next range of a CPU range list ("0-3,6") at *p, which moves past
 * it: false at the end, or at what is no number. */
bool util_cpus_range(const char **p, long *lo_r, long *hi_r);

/* The number of CPUs in a range list ("0-3,6" is 5). */
int util_cpus_count(const char *list);

/* The entry of a cpupool.list answer named, or numbered, pool; NULL. */
yajl_val util_pool_find(yajl_val pools, const char *pool);

#endif /* KEEL_CLI_CMD_UTIL_H */

/* cmd-util.h: small helpers shared by the pool, scheduler and job
 * commands (cmd-pool.c, cmd-sched.c, cmd-jobs.c)
 *
 * Building params, making a call and printing its result the way every
 * command does, strict number arguments, a growing buffer, reading a
 * file. Output formats stay in the command files.
 */
#ifndef KEEL_CLI_CMD_UTIL_H
#define KEEL_CLI_CMD_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "client.h"

/* A growing byte buffer; {0} is empty. Adders return 0, or 1 after
 * printing "out of memory". s is not NUL-terminated unless one is added. */
struct util_buf {
    char *s;
    size_t len, cap;
};
int util_buf_add(struct util_buf *b, const char *p, size_t n);
int util_buf_addc(struct util_buf *b, char c);
int util_buf_adds(struct util_buf *b, const char *s);

/* Reads path (whole, NUL-terminated) into *text_r (free it). 0, or 1
 * after "keel: CMD: PATH: why". A NUL byte inside is refused. */
int util_read_file(const char *cmd, const char *path, char **text_r);

/* A yajl_gen with an object opened, for util_call (NULL: out of memory,
 * which the kv helpers and util_call accept). */
yajl_gen util_params_new(void);
void util_kv_str(yajl_gen g, const char *key, const char *value);
void util_kv_int(yajl_gen g, const char *key, long long value);
void util_kv_bool(yajl_gen g, const char *key, bool value);
/* "domain": a DOMAIN argument, as cli_gen_domain. */
void util_kv_domain(yajl_gen g, const char *arg);

/* Closes g's object, calls method with it and frees g. With result_r
 * the result is handed over (yajl_tree_free it); without, it is printed
 * as JSON under --json and dropped. 0, or 1 after a message. */
int util_call(struct cli_client *cl, const char *cmd, const char *method,
              yajl_gen g, yajl_val *result_r);

/* For a command without options: 0 when argv has min..max arguments
 * (max < 0: no limit) and no option, else the usage line and 2. */
int util_args(const char *cmd, int argc, char **argv, int min, int max);

/* An integer argument in min..max, all of text used; 0, or 2 after
 * "keel: CMD: WHAT must be ...". */
int util_parse_int(const char *cmd, const char *what, const char *text,
                   long long min, long long max, long long *v_r);

/* The number of CPUs in a range list ("0-3,6" is 5). */
int util_cpus_count(const char *list);

/* The entry of a cpupool.list answer named, or numbered, pool; NULL. */
yajl_val util_pool_find(yajl_val pools, const char *pool);

/* Adds v to g, as it is. */
void util_gen_value(yajl_gen g, yajl_val v);

/* Prints v as compact JSON on one line of stdout, flushed. */
void util_print_json_line(yajl_val v);

#endif /* KEEL_CLI_CMD_UTIL_H */

/* cmd-util.c: helpers of the command files (cmd-util.h) */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>

#include "cli.h"
#include "client.h"
#include "cmd-util.h"

int
util_read_file(const char *cmd, const char *path, char **text_r)
{
    FILE *f = fopen(path, "r");
    char *text = NULL;
    size_t n = 0;
    int status = 0;

    *text_r = NULL;
    if (!f)
        return cli_fail(cmd, "%s: %s", path, strerror(errno));
    if (!(text = malloc(KEEL_CONFIG_MAX_SIZE + 1))) {
        status = cli_fail(cmd, "out of memory");
        goto out;
    }
    n = fread(text, 1, KEEL_CONFIG_MAX_SIZE + 1, f);
    if (ferror(f))
        status = cli_fail(cmd, "%s: %s", path, strerror(errno));
    else if (n > KEEL_CONFIG_MAX_SIZE)
        status = cli_fail(cmd, "%s: over %u bytes", path, KEEL_CONFIG_MAX_SIZE);
    else if (memchr(text, '\0', n))
        status = cli_fail(cmd, "%s: contains a NUL byte", path);
out:
    fclose(f);
    if (status)
        free(text);
    else {
        text[n] = '\0';
        *text_r = text;
    }
    return status;
}

int
util_check_overrides(const char *cmd, const char *path, char **kv, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (!strchr(kv[i], '='))
            return cli_bad_usage(cmd, "%s is not KEY=VALUE", kv[i]);
    if (n > 0 && strcmp(cli_config_format(path), "xl"))
        return cli_bad_usage(cmd, "KEY=VALUE goes with xl.cfg files only");
    return 0;
}

int
util_args(const char *cmd, int argc, char **argv, int min, int max)
{
    int i;

    for (i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1])
            return cli_usage(cmd);
    if (argc - 1 < min || (max >= 0 && argc - 1 > max))
        return cli_usage(cmd);
    return 0;
}

int
util_parse_int(const char *cmd, const char *what, const char *text,
               long long min, long long max, long long *v_r)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < min || v > max)
        return cli_bad_usage(cmd, "%s must be an integer in %lld..%lld, not %s",
                             what, min, max, text);
    *v_r = v;
    return 0;
}

bool
util_cpus_range(const char **p, long *lo_r, long *hi_r)
{
    const char *start = *p;
    char *end;

    if (!*start)
        return false;
    *lo_r = strtol(start, &end, 10);
    *hi_r = *end == '-' ? strtol(end + 1, &end, 10) : *lo_r;
    if (end == start)
        return false;
    *p = end + (*end == ',');
    return true;
}

int
util_cpus_count(const char *list)
{
    long lo, hi;
    int n = 0;

    while (util_cpus_range(&list, &lo, &hi))
        n += (int)(hi - lo + 1);
    return n;
}

yajl_val
util_pool_find(yajl_val pools, const char *pool)
{
    char *end;
    long long id = strtoll(pool, &end, 10);
    bool numeric = *pool && !*end;
    const char *name;
    yajl_val p;
    size_t i;

    for (i = 0; YAJL_IS_ARRAY(pools) && i < pools->u.array.len; i++) {
        p = pools->u.array.values[i];
        name = cli_get_str(p, "name");
        if ((name && !strcmp(name, pool)) ||
            (numeric && cli_get_int(p, "poolid", -1) == id))
            return p;
    }
    return NULL;
}

/* cmd-util.c: helpers of the pool, scheduler and job commands */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd-util.h"

int
util_buf_add(struct util_buf *b, const char *p, size_t n)
{
    size_t cap = b->cap ? b->cap : 64;
    char *s;

    while (cap - b->len <= n)
        cap *= 2;
    if (cap != b->cap) {
        if (!(s = realloc(b->s, cap)))
            return cli_fail("keel", "out of memory");
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    return 0;
}

int
util_buf_addc(struct util_buf *b, char c)
{
    return util_buf_add(b, &c, 1);
}

int
util_buf_adds(struct util_buf *b, const char *s)
{
    return util_buf_add(b, s, strlen(s));
}

int
util_read_file(const char *cmd, const char *path, char **text_r)
{
    struct util_buf b = {0};
    char chunk[8192];
    FILE *f = fopen(path, "r");
    size_t n;
    int status = 0;

    *text_r = NULL;
    if (!f)
        return cli_fail(cmd, "%s: %s", path, strerror(errno));
    while (!status && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        status = util_buf_add(&b, chunk, n);
    if (!status && ferror(f))
        status = cli_fail(cmd, "%s: %s", path, strerror(errno));
    if (!status && memchr(b.s ? b.s : "", '\0', b.len))
        status = cli_fail(cmd, "%s: contains a NUL byte", path);
    if (!status)
        status = util_buf_addc(&b, '\0');
    fclose(f);
    if (status)
        free(b.s);
    else
        *text_r = b.s;
    return status;
}

yajl_gen
util_params_new(void)
{
    yajl_gen g = yajl_gen_alloc(NULL);

    if (g)
        yajl_gen_map_open(g);
    return g;
}

static void
gen_key(yajl_gen g, const char *key)
{
    yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

void
util_kv_str(yajl_gen g, const char *key, const char *value)
{
    if (!g)
        return;
    gen_key(g, key);
    yajl_gen_string(g, (const unsigned char *)value, strlen(value));
}

void
util_kv_int(yajl_gen g, const char *key, long long value)
{
    if (!g)
        return;
    gen_key(g, key);
    yajl_gen_integer(g, value);
}

void
util_kv_bool(yajl_gen g, const char *key, bool value)
{
    if (!g)
        return;
    gen_key(g, key);
    yajl_gen_bool(g, value);
}

void
util_kv_domain(yajl_gen g, const char *arg)
{
    if (g)
        cli_gen_domain(g, arg);
}

int
util_call(struct cli_client *cl, const char *cmd, const char *method,
          yajl_gen g, yajl_val *result_r)
{
    yajl_val res = NULL;
    int status;

    if (result_r)
        *result_r = NULL;
    if (!g)
        return cli_fail(cmd, "out of memory");
    yajl_gen_map_close(g);
    status = cli_call_gen(cl, cmd, method, g, &res, NULL);
    yajl_gen_free(g);
    if (status)
        return status;
    if (result_r)
        *result_r = res;
    else {
        if (cli_opts.json && res)
            cli_print_json(res);
        yajl_tree_free(res);
    }
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

int
util_cpus_count(const char *list)
{
    const char *p = list;
    char *end;
    long lo, hi;
    int n = 0;

    while (*p) {
        lo = strtol(p, &end, 10);
        hi = *end == '-' ? strtol(end + 1, &end, 10) : lo;
        if (end == p)
            break;
        n += (int)(hi - lo + 1);
        p = end + (*end == ',');
    }
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

void
util_gen_value(yajl_gen g, yajl_val v)
{
    size_t i;

    if (YAJL_IS_OBJECT(v)) {
        yajl_gen_map_open(g);
        for (i = 0; i < v->u.object.len; i++) {
            gen_key(g, v->u.object.keys[i]);
            util_gen_value(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
    } else if (YAJL_IS_ARRAY(v)) {
        yajl_gen_array_open(g);
        for (i = 0; i < v->u.array.len; i++)
            util_gen_value(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
    } else if (YAJL_IS_STRING(v))
        yajl_gen_string(g, (const unsigned char *)v->u.string,
                        strlen(v->u.string));
    else if (YAJL_IS_NUMBER(v))
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        yajl_gen_bool(g, YAJL_IS_TRUE(v));
    else
        yajl_gen_null(g);
}

void
util_print_json_line(yajl_val v)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    const unsigned char *buf;
    size_t len;

    if (!g)
        return;
    util_gen_value(g, v);
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
        printf("%.*s\n", (int)len, (const char *)buf);
    fflush(stdout);
    yajl_gen_free(g);
}

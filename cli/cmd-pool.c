/* cmd-pool.c: keel's CPU pool commands, as xl's cpupool-*
 *
 * Each command parses xl's arguments, makes keeld's cpupool.* calls
 * (docs/keeld-api.md) and prints what xl prints. cpupool-create reads an
 * xlcpupool.cfg(5) file here, with a parser of its own that knows only
 * that file's four keys (libkeel's xl.cfg parser is internal to it): the
 * pool's name, scheduler and CPUs go to keeld, which decides the rest.
 * The scheduler commands (sched-*) are in cmd-sched.c.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd-util.h"

/* --- a tiny xlcpupool.cfg reader --- */

/* What cpupool-create sends: NULL where the file said nothing. cpus and
 * nodes hold CPU specs as keeld takes them ("0-3,5", "node:0,node:1"). */
struct pool_cfg {
    char *name, *sched, *cpus, *nodes;
};

static void
pool_cfg_dispose(struct pool_cfg *pc)
{
    free(pc->name);
    free(pc->sched);
    free(pc->cpus);
    free(pc->nodes);
}

/* The parser's state: one text (the file, or one VAR=VALUE). */
struct pool_parser {
    const char *file; /* for messages */
    const char *text, *p;
};

/* "file:LINE:COL: why" on stderr; returns 1. */
static int
parse_fail(const struct pool_parser *ps, const char *why)
{
    const char *q, *bol = ps->text;
    unsigned int line = 1;

    for (q = ps->text; q < ps->p; q++)
        if (*q == '\n') {
            line++;
            bol = q + 1;
        }
    return cli_fail("cpupool-create", "%s:%u:%u: %s", ps->file, line,
                    (unsigned int)(ps->p - bol) + 1, why);
}

/* Skips blanks and comments; newlines too when nl. */
static void
skip_blank(struct pool_parser *ps, bool nl)
{
    for (;;) {
        if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
            (nl && *ps->p == '\n'))
            ps->p++;
        else if (*ps->p == '#')
            ps->p += strcspn(ps->p, "\n");
        else
            return;
    }
}

static int
unescape(struct pool_parser *ps, struct util_buf *b)
{
    static const char from[] = "abfnrtv\\\"'", to[] = "\a\b\f\n\r\t\v\\\"'";
    const char *e;
    char hex[3] = {0};

    ps->p++; /* the backslash */
    if (*ps->p && (e = strchr(from, *ps->p))) {
        ps->p++;
        return util_buf_addc(b, to[e - from]);
    }
    if (*ps->p == 'x' && strspn(ps->p + 1, "0123456789abcdefABCDEF") >= 2) {
        memcpy(hex, ps->p + 1, 2);
        ps->p += 3;
        return util_buf_addc(b, (char)strtol(hex, NULL, 16));
    }
    return parse_fail(ps, "unknown escape in a string");
}

/* A quoted string or a number, appended to b. */
static int
parse_atom(struct pool_parser *ps, struct util_buf *b)
{
    char q = *ps->p;
    size_t n;

    if (q >= '0' && q <= '9') {
        n = strspn(ps->p, "0123456789abcdefx");
        ps->p += n;
        return util_buf_add(b, ps->p - n, n);
    }
    if (q != '"' && q != '\'')
        return parse_fail(ps, "expected a string, a number or a list");
    for (ps->p++; *ps->p != q; ps->p++) {
        if (!*ps->p || *ps->p == '\n')
            return parse_fail(ps, "unterminated string");
        if (*ps->p == '\\') {
            if (unescape(ps, b))
                return 1;
            ps->p--;
        } else if (util_buf_addc(b, *ps->p))
            return 1;
    }
    ps->p++;
    return 0;
}

/* A value: an atom, or a list of atoms joined by commas (*list_r). */
static int
parse_value(struct pool_parser *ps, struct util_buf *b, bool *list_r)
{
    *list_r = *ps->p == '[';
    if (!*list_r)
        return parse_atom(ps, b);
    ps->p++;
    for (;;) {
        skip_blank(ps, true);
        if (*ps->p == ']')
            break;
        if (*ps->p == '[')
            return parse_fail(ps, "lists do not nest here");
        if ((b->len && util_buf_addc(b, ',')) || parse_atom(ps, b))
            return 1;
        skip_blank(ps, true);
        if (*ps->p == ',')
            ps->p++;
        else if (*ps->p != ']')
            return parse_fail(ps, "expected ',' or ']'");
    }
    ps->p++;
    return 0;
}

/* "0,1" (a node list) as "node:0,node:1". NULL: out of memory. */
static char *
nodes_spec(const char *list)
{
    struct util_buf b = {0};
    const char *p = list;
    size_t n;

    while (*p) {
        n = strcspn(p, ",");
        if ((b.len && util_buf_addc(&b, ',')) || util_buf_adds(&b, "node:") ||
            util_buf_add(&b, p, n))
            goto fail;
        p += n + (p[n] == ',');
    }
    if (util_buf_addc(&b, '\0'))
        goto fail;
    return b.s;
fail:
    free(b.s);
    return NULL;
}

/* Stores key = text (the value's text, taken) in pc; unknown keys warn. */
static int
pool_cfg_set(struct pool_parser *ps, struct pool_cfg *pc, const char *key,
             size_t klen, char *text, bool list)
{
    char **slot = NULL;

    if (klen == 4 && !strncmp(key, "name", 4))
        slot = &pc->name;
    else if (klen == 5 && !strncmp(key, "sched", 5))
        slot = &pc->sched;
    else if (klen == 4 && !strncmp(key, "cpus", 4))
        slot = &pc->cpus;
    else if (klen == 5 && !strncmp(key, "nodes", 5))
        slot = &pc->nodes;
    if (!slot) {
        fprintf(stderr, "keel: warning: %s: unknown key %.*s ignored\n",
                ps->file, (int)klen, key);
        free(text);
        return 0;
    }
    if (list && slot != &pc->cpus && slot != &pc->nodes) {
        free(text);
        return parse_fail(ps, "expected a string, found a list");
    }
    if (slot == &pc->nodes) {
        bool empty = !*text;
        char *spec = empty ? NULL : nodes_spec(text);

        free(text);
        if (!spec)
            return parse_fail(ps, empty ? "no node given" : "out of memory");
        text = spec;
    }
    free(*slot); /* the last assignment wins */
    *slot = text;
    return 0;
}

/* One KEY = VALUE statement at ps->p. */
static int
parse_statement(struct pool_parser *ps, struct pool_cfg *pc)
{
    const char *key = ps->p;
    struct util_buf b = {0};
    size_t klen;
    bool list;

    if (*key < 'a' || *key > 'z')
        return parse_fail(ps, "expected a key (lower case)");
    klen = strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789._");
    ps->p += klen;
    skip_blank(ps, false);
    if (ps->p[0] == '+' && ps->p[1] == '=')
        return parse_fail(ps, "'+=' is not supported in a pool config");
    if (*ps->p != '=')
        return parse_fail(ps, "expected '='");
    ps->p++;
    skip_blank(ps, false);
    if (parse_value(ps, &b, &list) || util_buf_addc(&b, '\0')) {
        free(b.s);
        return 1;
    }
    skip_blank(ps, false);
    if (*ps->p && *ps->p != '\n' && *ps->p != ';') {
        free(b.s);
        return parse_fail(ps, "expected the end of the line or ';'");
    }
    return pool_cfg_set(ps, pc, key, klen, b.s, list);
}

static int
pool_cfg_parse(struct pool_cfg *pc, const char *file, const char *text)
{
    struct pool_parser ps = {.file = file, .text = text, .p = text};

    for (;;) {
        skip_blank(&ps, true);
        while (*ps.p == ';') {
            ps.p++;
            skip_blank(&ps, true);
        }
        if (!*ps.p)
            return 0;
        if (parse_statement(&ps, pc))
            return 1;
    }
}

/* --- cpupool-create --- */

#define CREATE "cpupool-create"

/* Reads FILE and the VAR=VALUE arguments into pc. */
static int
create_read(struct pool_cfg *pc, const char *file, char **vars)
{
    char *text = NULL;
    int status;

    if (file) {
        if ((status = util_read_file(CREATE, file, &text)))
            return status;
        status = pool_cfg_parse(pc, file, text);
        free(text);
        if (status)
            return status;
    }
    for (; *vars; vars++)
        if ((status = pool_cfg_parse(pc, "command line", *vars)))
            return status;
    if (!pc->name && file) { /* xl: the file's name */
        const char *base = strrchr(file, '/');

        if (!(pc->name = strdup(base ? base + 1 : file)))
            return cli_fail(CREATE, "out of memory");
    }
    if (!pc->name || !*pc->name)
        return cli_fail(CREATE, "missing cpupool name (give name=...)");
    return 0;
}

/* The entry of cpupool.list whose name is name, or NULL. */
static yajl_val
pool_by_name(yajl_val pools, const char *name)
{
    const char *n;
    size_t i;

    for (i = 0; YAJL_IS_ARRAY(pools) && i < pools->u.array.len; i++) {
        n = cli_get_str(pools->u.array.values[i], "name");
        if (n && !strcmp(n, name))
            return pools->u.array.values[i];
    }
    return NULL;
}

/* Prints what xl prints after a create, from the new pool's entry. */
static int
create_report(struct cli_client *cl, const char *src, const char *name)
{
    yajl_val pools = NULL, pool;
    const char *cpus;
    int status;

    if ((status = cli_call(cl, CREATE, "cpupool.list", NULL, &pools, NULL)))
        return status;
    if (!(pool = pool_by_name(pools, name)))
        status = cli_fail(CREATE, "pool %s vanished once created", name);
    else if (cli_opts.json)
        cli_print_json(pool);
    else {
        cpus = cli_get_str(pool, "cpus");
        printf("Using config file \"%s\"\n", src);
        printf("cpupool name:   %s\n", name);
        printf("scheduler:      %s\n", cli_get_str(pool, "sched"));
        printf("number of cpus: %d\n", util_cpus_count(cpus ? cpus : ""));
    }
    yajl_tree_free(pools);
    return status;
}

int
cmd_cpupool_create(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"defconfig", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct pool_cfg pc = {0};
    struct cli_client *cl = NULL;
    const char *file = NULL;
    yajl_gen g;
    int c, status;

    (void)ctx;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+f:h", longopts, NULL)) != -1) {
        if (c == 'f')
            file = optarg;
        else
            return cli_usage(CREATE);
    }
    if (!file && optind < argc && !strchr(argv[optind], '='))
        file = argv[optind++];
    for (c = optind; c < argc; c++)
        if (!strchr(argv[c], '='))
            return cli_bad_usage(CREATE, "%s is not VAR=VALUE", argv[c]);
    if ((status = create_read(&pc, file, argv + optind)))
        goto out;
    if (!(cl = cli_connect(CREATE))) {
        status = 1;
        goto out;
    }
    g = util_params_new();
    util_kv_str(g, "name", pc.name);
    if (pc.sched)
        util_kv_str(g, "sched", pc.sched);
    if (pc.nodes || pc.cpus) /* nodes wins, as in xl */
        util_kv_str(g, "cpus", pc.nodes ? pc.nodes : pc.cpus);
    status = util_call(cl, CREATE, "cpupool.create", g, NULL);
    if (!status)
        status = create_report(cl, file ? file : "command line", pc.name);
out:
    cli_close(cl);
    pool_cfg_dispose(&pc);
    return status;
}

/* --- cpupool-list --- */

#define LIST "cpupool-list"

/* xl's CPU list: every CPU of the range list, "0,1,2,3,6" for "0-3,6". */
static void
print_cpu_list(const char *list)
{
    const char *p = list;
    char *end;
    long lo, hi, n = 0;

    while (*p) {
        lo = strtol(p, &end, 10);
        hi = *end == '-' ? strtol(end + 1, &end, 10) : lo;
        if (end == p)
            break;
        for (; lo <= hi; lo++)
            printf(n++ ? ",%ld" : "%ld", lo);
        p = end + (*end == ',');
    }
}

static void
list_row(yajl_val pool, bool cpus_only)
{
    const char *cpus = cli_get_str(pool, "cpus");

    printf("%-19s", cli_get_str(pool, "name"));
    if (cpus_only) {
        print_cpu_list(cpus ? cpus : "");
        putchar('\n');
    } else
        printf("%3d %9s       y       %4lld\n",
               util_cpus_count(cpus ? cpus : ""), cli_get_str(pool, "sched"),
               cli_get_int(pool, "n_dom", 0));
}

static int
list_print(yajl_val pools, const char *only, bool cpus_only)
{
    yajl_val one = only ? util_pool_find(pools, only) : NULL;
    size_t i;

    if (only && !one)
        return cli_fail(LIST, "Pool '%s' does not exist", only);
    if (cli_opts.json) {
        cli_print_json(only ? one : pools);
        return 0;
    }
    printf("%-19s%s\n", "Name",
           cpus_only ? "CPU list" : "CPUs   Sched     Active   Domain count");
    for (i = 0; i < pools->u.array.len; i++)
        if (!only || pools->u.array.values[i] == one)
            list_row(pools->u.array.values[i], cpus_only);
    return 0;
}

int
cmd_cpupool_list(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cpus", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client *cl;
    yajl_val pools = NULL;
    bool cpus_only = false;
    int c, status;

    (void)ctx;
    optind = 1;
    while ((c = getopt_long(argc, argv, "+ch", longopts, NULL)) != -1) {
        if (c == 'c')
            cpus_only = true;
        else
            return cli_usage(LIST);
    }
    if (argc - optind > 1)
        return cli_usage(LIST);
    if (!(cl = cli_connect(LIST)))
        return 1;
    status = cli_call(cl, LIST, "cpupool.list", NULL, &pools, NULL);
    if (!status && !YAJL_IS_ARRAY(pools))
        status = cli_fail(LIST, "keeld's answer is not a list of pools");
    if (!status)
        status =
            list_print(pools, optind < argc ? argv[optind] : NULL, cpus_only);
    yajl_tree_free(pools);
    cli_close(cl);
    return status;
}

/* --- the one-call commands --- */

/* A command that takes exactly nargs arguments and no options, and makes
 * one call whose params name them (members[i] gets argv[i]; "domain"
 * goes through cli_gen_domain). */
struct pool_simple {
    const char *cmd, *method;
    int nargs;
    const char *members[2];
};

static int
pool_simple_run(const struct pool_simple *s, int argc, char **argv)
{
    struct cli_client *cl;
    yajl_gen g;
    int i, status;

    if ((status = util_args(s->cmd, argc, argv, s->nargs, s->nargs)))
        return status;
    if (!(cl = cli_connect(s->cmd)))
        return 1;
    g = util_params_new();
    for (i = 0; i < s->nargs; i++) {
        if (!strcmp(s->members[i], "domain"))
            util_kv_domain(g, argv[i + 1]);
        else
            util_kv_str(g, s->members[i], argv[i + 1]);
    }
    status = util_call(cl, s->cmd, s->method, g, NULL);
    cli_close(cl);
    return status;
}

int
cmd_cpupool_destroy(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct pool_simple s = {
        "cpupool-destroy", "cpupool.destroy", 1, {"pool"}};

    (void)ctx;
    return pool_simple_run(&s, argc, argv);
}

int
cmd_cpupool_rename(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct pool_simple s = {
        "cpupool-rename", "cpupool.rename", 2, {"pool", "name"}};

    (void)ctx;
    return pool_simple_run(&s, argc, argv);
}

int
cmd_cpupool_cpu_add(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct pool_simple s = {
        "cpupool-cpu-add", "cpupool.cpu_add", 2, {"pool", "cpus"}};

    (void)ctx;
    return pool_simple_run(&s, argc, argv);
}

int
cmd_cpupool_cpu_remove(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct pool_simple s = {
        "cpupool-cpu-remove", "cpupool.cpu_remove", 2, {"pool", "cpus"}};

    (void)ctx;
    return pool_simple_run(&s, argc, argv);
}

int
cmd_cpupool_migrate(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct pool_simple s = {
        "cpupool-migrate", "cpupool.move_domain", 2, {"domain", "pool"}};

    (void)ctx;
    return pool_simple_run(&s, argc, argv);
}

int
cmd_cpupool_numa_split(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct pool_simple s = {
        "cpupool-numa-split", "cpupool.numa_split", 0, {NULL}};

    (void)ctx;
    return pool_simple_run(&s, argc, argv);
}

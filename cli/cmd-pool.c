/* cmd-pool.c: keel's CPU pool commands, as xl's cpupool-*
 *
 * Each command parses xl's arguments, makes keeld's cpupool.* calls
 * (docs/keeld-api.md) and prints what xl prints. cpupool-create reads an
 * xlcpupool.cfg(5) file here (poolcfg.c): the pool's name, scheduler and
 * CPUs go to keeld, which decides the rest.
 * The scheduler commands (sched-*) are in cmd-sched.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd-util.h"
#include "poolcfg.h"

/* --- cpupool-create --- */

#define CREATE "cpupool-create"

static void
create_warn(void *opaque, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "keel: warning: %s\n", msg);
}

/* Parses text (from src) into pc: 0, or 1 after a message. */
static int
create_parse(struct poolcfg *pc, const char *src, const char *text)
{
    char err[512];

    if (poolcfg_parse(pc, src, text, create_warn, NULL, err, sizeof(err)))
        return cli_fail(CREATE, "%s", err);
    return 0;
}

/* Reads FILE and the VAR=VALUE arguments into pc. */
static int
create_read(struct poolcfg *pc, const char *file, char **vars)
{
    char *text = NULL;
    int status;

    if (file) {
        if ((status = util_read_file(CREATE, file, &text)))
            return status;
        status = create_parse(pc, file, text);
        free(text);
        if (status)
            return status;
    }
    for (; *vars; vars++)
        if ((status = create_parse(pc, "command line", *vars)))
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
    struct poolcfg pc;
    struct cli_client *cl = NULL;
    const char *file = NULL;
    yajl_gen g;
    int c, status;

    (void)ctx;
    poolcfg_init(&pc);
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
    g = cli_params_new(NULL);
    cli_kv_str(g, "name", pc.name);
    if (pc.sched)
        cli_kv_str(g, "sched", pc.sched);
    if (pc.nodes || pc.cpus) /* nodes wins, as in xl */
        cli_kv_str(g, "cpus", pc.nodes ? pc.nodes : pc.cpus);
    status = cli_call_params(cl, CREATE, "cpupool.create", g, NULL);
    if (!status)
        status = create_report(cl, file ? file : "command line", pc.name);
out:
    cli_close(cl);
    poolcfg_dispose(&pc);
    return status;
}

/* --- cpupool-list --- */

#define LIST "cpupool-list"

/* xl's CPU list: every CPU of the range list, "0,1,2,3,6" for "0-3,6". */
static void
print_cpu_list(const char *list)
{
    long lo, hi, n = 0;

    while (util_cpus_range(&list, &lo, &hi))
        for (; lo <= hi; lo++)
            printf(n++ ? ",%ld" : "%ld", lo);
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
    g = cli_params_new(NULL);
    for (i = 0; i < s->nargs; i++) {
        if (!strcmp(s->members[i], "domain"))
            cli_gen_domain(g, argv[i + 1]);
        else
            cli_kv_str(g, s->members[i], argv[i + 1]);
    }
    status = cli_call_params(cl, s->cmd, s->method, g, NULL);
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

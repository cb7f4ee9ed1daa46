/* cmd-domain.c: xl's domain commands, as a client of keeld
 *
 * create, destroy, shutdown, reboot, pause, unpause, rename, list, info,
 * domid, domname, uptime, mem-set, mem-max, vcpu-set, vcpu-list and
 * vcpu-pin take xl's options and print xl's formats (output.c). Each
 * parses its command line, makes its calls to keeld (docs/keeld-api.md)
 * and formats the answer; no domain logic lives here: keeld checks
 * names, states and ranges and words the errors, which keel prints as
 * "keel: CMD: message". With --json a command prints keeld's result
 * instead. Exit status: 0, 1 when a call fails, 2 for a usage mistake.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <keel/config.h>

#include "cli.h"
#include "client.h"
#include "cmd-util.h"
#include "output.h"

/* keeld's codes the commands tell apart (libkeel's keel_err values) */
#define ERR_ENOENT (-2)
#define ERR_ENODOMAIN (-4000)

/* --- shared plumbing --- */

/* Options of commands that take none but -h: 0, or the exit status. */
static int
no_opts(const char *cmd, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };

    optind = 1;
    if (getopt_long(argc, argv, "+h", longopts, NULL) != -1)
        return cli_usage(cmd);
    return 0;
}

/* A command whose one argument is DOMAIN and whose method takes only it. */
static int
domain_op(const char *cmd, const char *method, int argc, char **argv)
{
    int status;

    if ((status = no_opts(cmd, argc, argv)))
        return status;
    if (argc - optind != 1)
        return cli_usage(cmd);
    return cli_call_once(cmd, method, cli_params_new(argv[optind]), NULL);
}

/* --- a set of domains: every running one, or those named --- */

struct domset {
    yajl_val *items; /* domain.info objects, in order */
    size_t n;
    yajl_val *trees; /* what to free */
    size_t ntrees;
};

static void
domset_dispose(struct domset *ds)
{
    size_t i;

    for (i = 0; i < ds->ntrees; i++)
        yajl_tree_free(ds->trees[i]);
    free(ds->trees);
    free(ds->items);
    memset(ds, 0, sizeof(*ds));
}

static int
domset_all(struct cli_client *cl, const char *cmd, struct domset *ds)
{
    yajl_val list = NULL;
    size_t i;

    if (cli_call(cl, cmd, "domain.list", NULL, &list, NULL))
        return 1;
    ds->trees = malloc(sizeof(*ds->trees));
    ds->items = calloc(YAJL_IS_ARRAY(list) ? list->u.array.len + 1 : 1,
                       sizeof(*ds->items));
    if (!ds->trees || !ds->items) {
        yajl_tree_free(list);
        return cli_fail(cmd, "out of memory");
    }
    ds->trees[ds->ntrees++] = list;
    for (i = 0; YAJL_IS_ARRAY(list) && i < list->u.array.len; i++)
        ds->items[ds->n++] = list->u.array.values[i];
    return 0;
}

/* Every domain named in names[0..n-1] must exist: 1 after a line per
 * missing one. */
static int
domset_named(struct cli_client *cl, const char *cmd, char **names, int n,
             struct domset *ds)
{
    yajl_val info;
    int i, status = 0;

    ds->trees = calloc((size_t)n, sizeof(*ds->trees));
    ds->items = calloc((size_t)n, sizeof(*ds->items));
    if (!ds->trees || !ds->items)
        return cli_fail(cmd, "out of memory");
    for (i = 0; i < n; i++) {
        if (cli_call_params(cl, cmd, "domain.info", cli_params_new(names[i]),
                            &info)) {
            status = 1;
            continue;
        }
        ds->trees[ds->ntrees++] = info;
        ds->items[ds->n++] = info;
    }
    return status;
}

static int
domset_get(struct cli_client *cl, const char *cmd, int argc, char **argv,
           struct domset *ds)
{
    memset(ds, 0, sizeof(*ds));
    if (argc == 0)
        return domset_all(cl, cmd, ds);
    return domset_named(cl, cmd, argv, argc, ds);
}

/* Prints ds as a JSON array of domain.info objects. */
static void
domset_print_json(const struct domset *ds)
{
    yajl_gen g = cli_json_gen(true);
    size_t i;

    yajl_gen_array_open(g);
    for (i = 0; i < ds->n; i++)
        cli_gen_value(g, ds->items[i]);
    yajl_gen_array_close(g);
    cli_print_gen(g);
    yajl_gen_free(g);
}

/* --- create --- */

struct create_opts {
    bool paused, quiet;
    const char *path;
    char **overrides;
    int n_overrides;
};

static int
create_parse(const char *cmd, int argc, char **argv, struct create_opts *o)
{
    static const struct option longopts[] = {
        {"paused", no_argument, NULL, 'p'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+pqh", longopts, NULL)) != -1) {
        if (c == 'p')
            o->paused = true;
        else if (c == 'q')
            o->quiet = true;
        else
            return cli_usage(cmd);
    }
    if (optind >= argc)
        return cli_usage(cmd);
    o->path = argv[optind++];
    o->overrides = argv + optind;
    o->n_overrides = argc - optind;
    return util_check_overrides(cmd, o->path, o->overrides, o->n_overrides);
}

static yajl_gen
create_params(const struct create_opts *o, const char *text)
{
    yajl_gen g = cli_config_params(o->path, text, o->overrides, o->n_overrides);

    if (o->paused)
        cli_kv_bool(g, "paused", true);
    yajl_gen_map_close(g);
    return g;
}

int
cmd_create(struct keel_ctx *ctx, int argc, char **argv)
{
    struct create_opts o = {0};
    struct cli_client *cl = NULL;
    yajl_val result = NULL;
    yajl_gen g = NULL;
    char *text = NULL, *msg = NULL;
    int status;

    if ((status = create_parse("create", argc, argv, &o)))
        return status;
    if (util_read_file("create", o.path, &text))
        return 1;
    if (!o.quiet)
        fprintf(stderr, "Parsing config from %s\n", o.path);
    status = 1;
    if (!(cl = cli_connect("create")))
        goto out;
    g = create_params(&o, text);
    status =
        cli_call_quiet(cl, "create", "domain.create", g, &result, NULL, &msg);
    if (status && msg)
        cli_fail_config("create", o.path, msg);
    else if (!status && cli_opts.json)
        cli_print_json(result);
out:
    yajl_tree_free(result);
    if (g)
        yajl_gen_free(g);
    cli_close(cl);
    free(msg);
    free(text);
    return status;
}

/* --- destroy, pause, unpause, rename --- */

int
cmd_destroy(struct keel_ctx *ctx, int argc, char **argv)
{
    return domain_op("destroy", "domain.destroy", argc, argv);
}

int
cmd_pause(struct keel_ctx *ctx, int argc, char **argv)
{
    return domain_op("pause", "domain.pause", argc, argv);
}

int
cmd_unpause(struct keel_ctx *ctx, int argc, char **argv)
{
    return domain_op("unpause", "domain.unpause", argc, argv);
}

int
cmd_rename(struct keel_ctx *ctx, int argc, char **argv)
{
    yajl_gen g;
    int status;

    if ((status = no_opts("rename", argc, argv)))
        return status;
    if (argc - optind != 2)
        return cli_usage("rename");
    g = cli_params_new(argv[optind]);
    cli_kv_str(g, "name", argv[optind + 1]);
    return cli_call_once("rename", "domain.rename", g, NULL);
}

/* --- shutdown, reboot --- */

/* One domain's shutdown or reboot: 0, or 1 after a message. A domain
 * that vanished meanwhile is no failure with -a (skip_gone). */
static int
stop_one(struct cli_client *cl, const char *cmd, const char *method, yajl_gen g,
         bool wait, bool skip_gone)
{
    char *msg = NULL;
    int code = 0, status;

    if (wait)
        cli_kv_bool(g, "wait", true);
    yajl_gen_map_close(g);
    status = cli_call_quiet(cl, cmd, method, g, NULL, &code, &msg);
    yajl_gen_free(g);
    if (status && msg && !(skip_gone && code == ERR_ENODOMAIN))
        cli_fail(cmd, "%s", msg);
    else if (status && msg)
        status = 0;
    free(msg);
    return status;
}

/* -a: every domain but Domain-0, one after the other (each waited for
 * with -w); with --json, the list of those asked. */
static int
stop_all(struct cli_client *cl, const char *cmd, const char *method, bool wait)
{
    struct domset ds;
    yajl_gen g;
    size_t i;
    int status;

    if ((status = domset_all(cl, cmd, &ds)))
        goto out;
    for (i = 0; i < ds.n; i++) {
        long long domid = cli_get_int(ds.items[i], "domid", 0);

        if (domid == 0)
            continue;
        g = cli_params_new(NULL);
        cli_kv_int(g, "domain", domid);
        status |= stop_one(cl, cmd, method, g, wait, true);
    }
    if (!status && cli_opts.json)
        domset_print_json(&ds);
out:
    domset_dispose(&ds);
    return status;
}

static int
stop(const char *cmd, const char *method, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"all", no_argument, NULL, 'a'},
        {"wait", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool all = false, wait = false;
    struct cli_client *cl;
    int c, status;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+awh", longopts, NULL)) != -1) {
        if (c == 'a')
            all = true;
        else if (c == 'w')
            wait = true;
        else
            return cli_usage(cmd);
    }
    if (argc - optind != (all ? 0 : 1))
        return cli_usage(cmd);
    if (!(cl = cli_connect(cmd)))
        return 1;
    if (all)
        status = stop_all(cl, cmd, method, wait);
    else if (!(status = stop_one(cl, cmd, method, cli_params_new(argv[optind]),
                                 wait, false)) &&
             cli_opts.json)
        printf("{}\n");
    cli_close(cl);
    return status;
}

int
cmd_shutdown(struct keel_ctx *ctx, int argc, char **argv)
{
    return stop("shutdown", "domain.shutdown", argc, argv);
}

int
cmd_reboot(struct keel_ctx *ctx, int argc, char **argv)
{
    return stop("reboot", "domain.reboot", argc, argv);
}

/* --- list --- */

/* One {"domid":N,"config":{...}} of list -l into g: 0, or 1 after a
 * message. Domains without a keel configuration (Domain-0) and those gone
 * since the list are left out, as xl leaves them out. */
static int
list_long_one(struct cli_client *cl, yajl_gen out, long long domid)
{
    yajl_val cfg = NULL;
    char *msg = NULL;
    int code = 0, status;
    yajl_gen g = cli_params_new(NULL);

    cli_kv_int(g, "domain", domid);
    cli_kv_str(g, "format", "json");
    yajl_gen_map_close(g);
    status =
        cli_call_quiet(cl, "list", "domain.get_config", g, &cfg, &code, &msg);
    yajl_gen_free(g);
    if (status && msg && (code == ERR_ENOENT || code == ERR_ENODOMAIN))
        status = 0;
    else if (status && msg)
        cli_fail("list", "%s", msg);
    else if (!status) {
        yajl_gen_map_open(out);
        cli_kv_int(out, "domid", domid);
        cli_gen_str(out, "config");
        cli_gen_value(out, cfg);
        yajl_gen_map_close(out);
    }
    yajl_tree_free(cfg);
    free(msg);
    return status;
}

/* list -l: a JSON array of {"domid","config"}, as xl list -l prints. */
static int
list_long(struct cli_client *cl, const struct domset *ds)
{
    yajl_gen out = cli_json_gen(true);
    int status = 0;
    size_t i;

    yajl_gen_array_open(out);
    for (i = 0; i < ds->n && !status; i++)
        status = list_long_one(cl, out, cli_get_int(ds->items[i], "domid", -1));
    yajl_gen_array_close(out);
    if (!status)
        cli_print_gen(out);
    yajl_gen_free(out);
    return status;
}

int
cmd_list(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"long", no_argument, NULL, 'l'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool details = false, verbose = false;
    struct cli_client *cl;
    struct domset ds;
    int c, status;
    size_t i;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+lvh", longopts, NULL)) != -1) {
        if (c == 'l')
            details = true;
        else if (c == 'v')
            verbose = true;
        else
            return cli_usage("list");
    }
    if (!(cl = cli_connect("list")))
        return 1;
    if ((status = domset_get(cl, "list", argc - optind, argv + optind, &ds)))
        goto out;
    if (details)
        status = list_long(cl, &ds);
    else if (cli_opts.json)
        domset_print_json(&ds);
    else {
        out_list_header(verbose);
        for (i = 0; i < ds.n; i++)
            out_list_row(ds.items[i], verbose);
    }
out:
    domset_dispose(&ds);
    cli_close(cl);
    return status;
}

/* --- info, domid, domname --- */

int
cmd_info(struct keel_ctx *ctx, int argc, char **argv)
{
    struct cli_client *cl;
    yajl_val info = NULL;
    int status;

    if ((status = no_opts("info", argc, argv)))
        return status;
    if (argc - optind > 1)
        return cli_usage("info");
    if (!(cl = cli_connect("info")))
        return 1;
    status = cli_call(cl, "info", "host.info", NULL, &info, NULL);
    if (!status && cli_opts.json)
        cli_print_json(info);
    else if (!status && !out_host_info(info, argv[optind]))
        status = cli_fail("info", "no line %s in keel info", argv[optind]);
    yajl_tree_free(info);
    cli_close(cl);
    return status;
}

/* domain.info of dom, sent as a number or as a string (as_name). */
static int
info_of(const char *cmd, const char *dom, bool as_name, yajl_val *info_r)
{
    struct cli_client *cl = cli_connect(cmd);
    yajl_gen g = cli_params_new(as_name ? NULL : dom);
    int status;

    *info_r = NULL;
    if (!cl) {
        yajl_gen_free(g);
        return 1;
    }
    if (as_name)
        cli_kv_str(g, "domain", dom);
    status = cli_call_params(cl, cmd, "domain.info", g, info_r);
    cli_close(cl);
    return status;
}

int
cmd_domid(struct keel_ctx *ctx, int argc, char **argv)
{
    yajl_val info;
    int status;

    if ((status = no_opts("domid", argc, argv)))
        return status;
    if (argc - optind != 1)
        return cli_usage("domid");
    if ((status = info_of("domid", argv[optind], true, &info)))
        return status;
    if (cli_opts.json)
        cli_print_json(info);
    else
        printf("%lld\n", cli_get_int(info, "domid", -1));
    yajl_tree_free(info);
    return 0;
}

int
cmd_domname(struct keel_ctx *ctx, int argc, char **argv)
{
    const char *name;
    yajl_val info;
    char *end;
    int status;

    if ((status = no_opts("domname", argc, argv)))
        return status;
    if (argc - optind != 1)
        return cli_usage("domname");
    errno = 0;
    if (strtol(argv[optind], &end, 10) < 0 || errno || end == argv[optind] ||
        *end)
        return cli_bad_usage("domname", "invalid domain id %s", argv[optind]);
    if ((status = info_of("domname", argv[optind], false, &info)))
        return status;
    name = cli_get_str(info, "name");
    if (cli_opts.json)
        cli_print_json(info);
    else
        printf("%s\n", name ? name : "");
    yajl_tree_free(info);
    return 0;
}

/* --- uptime --- */

int
cmd_uptime(struct keel_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"short", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool short_mode = false;
    struct cli_client *cl;
    struct domset ds;
    time_t now = time(NULL);
    int c, status;
    size_t i;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+sh", longopts, NULL)) != -1) {
        if (c != 's')
            return cli_usage("uptime");
        short_mode = true;
    }
    if (!(cl = cli_connect("uptime")))
        return 1;
    status = domset_get(cl, "uptime", argc - optind, argv + optind, &ds);
    if (!status && cli_opts.json)
        domset_print_json(&ds);
    else if (!status) {
        out_uptime_header(short_mode);
        for (i = 0; i < ds.n; i++)
            out_uptime_row(ds.items[i], short_mode, now);
    }
    domset_dispose(&ds);
    cli_close(cl);
    return status;
}

/* --- mem-set, mem-max, vcpu-set --- */

static int
memory(const char *cmd, const char *method, int argc, char **argv)
{
    long long kib;
    yajl_gen g;
    int status;

    if ((status = no_opts(cmd, argc, argv)))
        return status;
    if (argc - optind != 2)
        return cli_usage(cmd);
    if (cli_parse_size_kib(argv[optind + 1], &kib))
        return cli_bad_usage(cmd,
                             "invalid memory size %s (a number with b, k, m, "
                             "g or t; m when bare)",
                             argv[optind + 1]);
    g = cli_params_new(argv[optind]);
    cli_kv_int(g, "memory_kb", kib);
    return cli_call_once(cmd, method, g, NULL);
}

int
cmd_mem_set(struct keel_ctx *ctx, int argc, char **argv)
{
    return memory("mem-set", "domain.set_memory", argc, argv);
}

int
cmd_mem_max(struct keel_ctx *ctx, int argc, char **argv)
{
    return memory("mem-max", "domain.set_max_memory", argc, argv);
}

int
cmd_vcpu_set(struct keel_ctx *ctx, int argc, char **argv)
{
    yajl_gen g;
    long n;
    char *end;
    int status;

    if ((status = no_opts("vcpu-set", argc, argv)))
        return status;
    if (argc - optind != 2)
        return cli_usage("vcpu-set");
    errno = 0;
    n = strtol(argv[optind + 1], &end, 10);
    if (errno || end == argv[optind + 1] || *end || n < 1 || n > INT_MAX)
        return cli_bad_usage("vcpu-set", "invalid vCPU count %s",
                             argv[optind + 1]);
    g = cli_params_new(argv[optind]);
    cli_kv_int(g, "vcpus", n);
    return cli_call_once("vcpu-set", "domain.set_vcpus", g, NULL);
}

/* --- vcpu-list, vcpu-pin --- */

/* One domain's vCPUs: rows, or with --json {"domid","name","vcpus"} into
 * out. A domain gone since the list is skipped. */
static int
vcpu_list_one(struct cli_client *cl, yajl_val info, yajl_gen out)
{
    const char *name = cli_get_str(info, "name");
    long long domid = cli_get_int(info, "domid", -1);
    yajl_val vcpus = NULL;
    yajl_gen g = cli_params_new(NULL);
    char *msg = NULL;
    int code = 0, status;
    size_t i;

    cli_kv_int(g, "domain", domid);
    yajl_gen_map_close(g);
    status = cli_call_quiet(cl, "vcpu-list", "domain.vcpu_list", g, &vcpus,
                            &code, &msg);
    yajl_gen_free(g);
    if (status && msg && code == ERR_ENODOMAIN)
        status = 0;
    else if (status && msg)
        cli_fail("vcpu-list", "%s", msg);
    else if (!status && out) {
        yajl_gen_map_open(out);
        cli_kv_int(out, "domid", domid);
        cli_kv_str(out, "name", name ? name : "");
        cli_gen_str(out, "vcpus");
        cli_gen_value(out, vcpus);
        yajl_gen_map_close(out);
    } else
        for (i = 0; !status && YAJL_IS_ARRAY(vcpus) && i < vcpus->u.array.len;
             i++)
            out_vcpu_row(name ? name : "-", domid, vcpus->u.array.values[i]);
    yajl_tree_free(vcpus);
    free(msg);
    return status;
}

int
cmd_vcpu_list(struct keel_ctx *ctx, int argc, char **argv)
{
    struct cli_client *cl;
    struct domset ds;
    yajl_gen out = NULL;
    int status;
    size_t i;

    if ((status = no_opts("vcpu-list", argc, argv)))
        return status;
    if (!(cl = cli_connect("vcpu-list")))
        return 1;
    if ((status =
             domset_get(cl, "vcpu-list", argc - optind, argv + optind, &ds)))
        goto out;
    if (cli_opts.json) {
        out = cli_json_gen(true);
        yajl_gen_array_open(out);
    } else
        out_vcpu_header();
    for (i = 0; i < ds.n; i++)
        status |= vcpu_list_one(cl, ds.items[i], out);
    if (out) {
        yajl_gen_array_close(out);
        if (!status)
            cli_print_gen(out);
        yajl_gen_free(out);
    }
out:
    domset_dispose(&ds);
    cli_close(cl);
    return status;
}

/* vcpu-pin DOMAIN VCPU|all HARD [SOFT]: '-' leaves an affinity as it is. */
int
cmd_vcpu_pin(struct keel_ctx *ctx, int argc, char **argv)
{
    const char *vcpu, *hard, *soft;
    yajl_gen g;
    long n = 0;
    char *end;
    int status;

    if ((status = no_opts("vcpu-pin", argc, argv)))
        return status;
    if (argc - optind < 3 || argc - optind > 4)
        return cli_usage("vcpu-pin");
    vcpu = argv[optind + 1];
    hard = argv[optind + 2];
    soft = argc - optind == 4 ? argv[optind + 3] : "-";
    errno = 0;
    if (strcmp(vcpu, "all") && ((n = strtol(vcpu, &end, 10)) < 0 || errno ||
                                end == vcpu || *end || n > INT_MAX))
        return cli_bad_usage("vcpu-pin", "invalid vCPU %s (a number or all)",
                             vcpu);
    if (!strcmp(hard, "-") && !strcmp(soft, "-"))
        return cli_bad_usage("vcpu-pin", "nothing to pin: '-' for both");
    g = cli_params_new(argv[optind]);
    if (!strcmp(vcpu, "all"))
        cli_kv_str(g, "vcpu", "all");
    else
        cli_kv_int(g, "vcpu", n);
    if (strcmp(hard, "-"))
        cli_kv_str(g, "hard", hard);
    if (strcmp(soft, "-"))
        cli_kv_str(g, "soft", soft);
    return cli_call_once("vcpu-pin", "domain.pin_vcpu", g, NULL);
}

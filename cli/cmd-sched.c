/* cmd-sched.c: keel sched-credit, sched-credit2 and sched-rtds, as xl's
 *
 * Without -d or -s a command lists every pool that runs its scheduler:
 * a "Cpupool NAME: ..." line with the pool's parameters, then xl's table
 * of the pool's domains. -d DOMAIN shows (or, with values, sets) one
 * domain's parameters, -s a pool's (Pool-0's unless -p names one). The
 * data come from keeld's sched.get; sched.set changes only what the
 * command line gives.
 *
 * keeld keeps RTDS parameters per vCPU only, so the per-domain RTDS
 * table (no -v) shows vCPU 0's, which are the domain's unless vCPUs were
 * given their own.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client.h"
#include "cmd-util.h"

#define MAX_U32 4294967295LL
#define MAX_VCPUS 4096

/* One run of a sched-* command. */
struct sched_run {
    const char *cmd, *sched; /* "sched-credit", "credit" */
    struct cli_client *cl;
    bool vcpu_table;        /* rtds: one row per vCPU */
    const long long *vcpus; /* rtds -v: only these (NULL: all) */
    size_t n_vcpus;
    yajl_gen json; /* --json: the listing being built */
};

/* --- output --- */

static void
print_header(const struct sched_run *r)
{
    if (strcmp(r->sched, "rtds"))
        printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
    else if (r->vcpu_table)
        printf("%-33s %4s %4s %9s %9s %10s\n", "Name", "ID", "VCPU", "Period",
               "Budget", "Extratime");
    else
        printf("%-33s %4s %9s %9s %10s\n", "Name", "ID", "Period", "Budget",
               "Extratime");
}

static void
print_pool_line(const struct sched_run *r, const char *pool, yajl_val p)
{
    if (!strcmp(r->sched, "credit"))
        printf("Cpupool %s: tslice=%lldms ratelimit=%lldus\n", pool,
               cli_get_int(p, "tslice_ms", 0),
               cli_get_int(p, "ratelimit_us", 0));
    else if (!strcmp(r->sched, "credit2"))
        printf("Cpupool %s: ratelimit=%lldus\n", pool,
               cli_get_int(p, "ratelimit_us", 0));
    else
        printf("Cpupool %s: sched=RTDS\n", pool);
}

static void
print_rtds_row(const char *name, long long domid, yajl_val v, bool vcpu)
{
    printf("%-33s %4lld ", name, domid);
    if (vcpu)
        printf("%4lld ", cli_get_int(v, "vcpu", 0));
    printf("%9lld %9lld %10s\n", cli_get_int(v, "period_us", 0),
           cli_get_int(v, "budget_us", 0),
           cli_get_bool(v, "extratime", false) ? "yes" : "no");
}

/* The item of an RTDS answer's "vcpus" for vCPU id, or NULL. */
static yajl_val
rtds_vcpu(yajl_val p, long long id)
{
    yajl_val vs = cli_get(p, "vcpus");
    size_t i;

    for (i = 0; YAJL_IS_ARRAY(vs) && i < vs->u.array.len; i++)
        if (cli_get_int(vs->u.array.values[i], "vcpu", -1) == id)
            return vs->u.array.values[i];
    return NULL;
}

/* A domain's rows: p is its sched.get answer. */
static int
print_rows(const struct sched_run *r, const char *name, long long domid,
           yajl_val p)
{
    yajl_val vs = cli_get(p, "vcpus"), v;
    size_t i, n = YAJL_IS_ARRAY(vs) ? vs->u.array.len : 0;

    if (strcmp(r->sched, "rtds")) {
        printf("%-33s %4lld %6lld %4lld\n", name, domid,
               cli_get_int(p, "weight", 0), cli_get_int(p, "cap", 0));
        return 0;
    }
    if (!r->vcpu_table) {
        if (n)
            print_rtds_row(name, domid, vs->u.array.values[0], false);
        return 0;
    }
    if (!r->vcpus) {
        for (i = 0; i < n; i++)
            print_rtds_row(name, domid, vs->u.array.values[i], true);
        return 0;
    }
    for (i = 0; i < r->n_vcpus; i++)
        if ((v = rtds_vcpu(p, r->vcpus[i])))
            print_rtds_row(name, domid, v, true);
    return 0;
}

/* Before any output: each vCPU of -v exists. */
static int
check_vcpus(const struct sched_run *r, const char *name, yajl_val p)
{
    size_t i;

    for (i = 0; i < r->n_vcpus; i++)
        if (!rtds_vcpu(p, r->vcpus[i]))
            return cli_fail(r->cmd, "%s has no vCPU %lld", name, r->vcpus[i]);
    return 0;
}

/* --json: {"name","domid","params"} into r->json. */
static void
json_domain(const struct sched_run *r, const char *name, long long domid,
            yajl_val p)
{
    yajl_gen_map_open(r->json);
    cli_kv_str(r->json, "name", name);
    cli_kv_int(r->json, "domid", domid);
    cli_gen_str(r->json, "params");
    cli_gen_value(r->json, p);
    yajl_gen_map_close(r->json);
}

/* --- calls --- */

/* sched.get for a domain (by domid) or a pool (by name); checks that it
 * runs r's scheduler. */
static int
sched_get(const struct sched_run *r, const char *member, const char *arg,
          yajl_val *p_r)
{
    yajl_gen g = cli_params_new(NULL);
    const char *got;
    int status;

    if (!strcmp(member, "domain"))
        cli_gen_domain(g, arg);
    else
        cli_kv_str(g, member, arg);
    if ((status = cli_call_params(r->cl, r->cmd, "sched.get", g, p_r)))
        return status;
    got = cli_get_str(*p_r, "sched");
    if (!got || strcmp(got, r->sched)) {
        status = cli_fail(r->cmd, "%s %s is in a %s pool, not %s",
                          member[0] == 'd' ? "domain" : "cpupool", arg,
                          got ? got : "(unknown)", r->sched);
        yajl_tree_free(*p_r);
        *p_r = NULL;
    }
    return status;
}

/* Shows one domain: xl's header and its rows. */
static int
show_domain(struct sched_run *r, const char *dom)
{
    yajl_val info = NULL, p = NULL;
    yajl_gen g = cli_params_new(dom);
    int status;

    if ((status = cli_call_params(r->cl, r->cmd, "domain.info", g, &info)))
        return status;
    if (!(status = sched_get(r, "domain", dom, &p)) &&
        !(status = check_vcpus(r, cli_get_str(info, "name"), p))) {
        if (r->json) {
            json_domain(r, cli_get_str(info, "name"),
                        cli_get_int(info, "domid", -1), p);
            cli_print_gen(r->json);
        } else {
            print_header(r);
            status = print_rows(r, cli_get_str(info, "name"),
                                cli_get_int(info, "domid", -1), p);
        }
    }
    yajl_tree_free(p);
    yajl_tree_free(info);
    return status;
}

/* One pool of a listing: its line, the header, its domains' rows. */
static int
list_pool(struct sched_run *r, const char *pool, yajl_val doms)
{
    yajl_val p = NULL, d, dp;
    const char *dpool, *name;
    char domid[24];
    size_t i;
    int status;

    if ((status = sched_get(r, "pool", pool, &p)))
        return status;
    if (r->json) {
        yajl_gen_map_open(r->json);
        cli_kv_str(r->json, "pool", pool);
        cli_gen_str(r->json, "params");
        cli_gen_value(r->json, p);
        cli_gen_str(r->json, "domains");
        yajl_gen_array_open(r->json);
    } else {
        print_pool_line(r, pool, p);
        print_header(r);
    }
    yajl_tree_free(p);
    for (i = 0; !status && i < doms->u.array.len; i++) {
        d = doms->u.array.values[i];
        dpool = cli_get_str(d, "pool");
        name = cli_get_str(d, "name");
        if (!dpool || strcmp(dpool, pool) || !name)
            continue;
        snprintf(domid, sizeof(domid), "%lld", cli_get_int(d, "domid", -1));
        if ((status = sched_get(r, "domain", domid, &dp)))
            break;
        if (r->json)
            json_domain(r, name, cli_get_int(d, "domid", -1), dp);
        else
            status = print_rows(r, name, cli_get_int(d, "domid", -1), dp);
        yajl_tree_free(dp);
    }
    if (r->json) {
        yajl_gen_array_close(r->json);
        yajl_gen_map_close(r->json);
    }
    return status;
}

/* Every pool of r's scheduler (or only the one named). */
static int
list_all(struct sched_run *r, const char *only)
{
    yajl_val pools = NULL, doms = NULL, one = NULL, p;
    const char *sched;
    size_t i;
    int status;

    if ((status =
             cli_call(r->cl, r->cmd, "cpupool.list", NULL, &pools, NULL)) ||
        (status = cli_call(r->cl, r->cmd, "domain.list", NULL, &doms, NULL)))
        goto out;
    if (!YAJL_IS_ARRAY(pools) || !YAJL_IS_ARRAY(doms)) {
        status = cli_fail(r->cmd, "keeld's answer is not a list");
        goto out;
    }
    if (only && !(one = util_pool_find(pools, only))) {
        status = cli_fail(r->cmd, "unknown cpupool '%s'", only);
        goto out;
    }
    if (r->json)
        yajl_gen_array_open(r->json);
    for (i = 0; !status && i < pools->u.array.len; i++) {
        p = pools->u.array.values[i];
        sched = cli_get_str(p, "sched");
        if ((one && p != one) || !sched || strcmp(sched, r->sched))
            continue;
        status = list_pool(r, cli_get_str(p, "name"), doms);
    }
    if (r->json && !status) {
        yajl_gen_array_close(r->json);
        cli_print_gen(r->json);
    }
out:
    yajl_tree_free(pools);
    yajl_tree_free(doms);
    return status;
}

/* -s: shows a pool's parameters, or sets those given (< 0: not given). */
static int
pool_params(struct sched_run *r, const char *pool, long long tslice,
            long long ratelimit)
{
    yajl_val p = NULL, pools = NULL, entry;
    yajl_gen g;
    int status;

    if ((status = sched_get(r, "pool", pool, &p)))
        return status;
    if (tslice >= 0 || ratelimit >= 0) {
        g = cli_params_new(NULL);
        cli_kv_str(g, "pool", pool);
        if (tslice >= 0)
            cli_kv_int(g, "tslice_ms", tslice);
        if (ratelimit >= 0)
            cli_kv_int(g, "ratelimit_us", ratelimit);
        status = cli_call_params(r->cl, r->cmd, "sched.set", g, NULL);
    } else if (cli_opts.json)
        cli_print_json(p);
    else if (!(status = cli_call(r->cl, r->cmd, "cpupool.list", NULL, &pools,
                                 NULL))) {
        entry = util_pool_find(pools, pool); /* xl prints the name */
        print_pool_line(r, entry ? cli_get_str(entry, "name") : pool, p);
    }
    yajl_tree_free(pools);
    yajl_tree_free(p);
    return status;
}

/* --- sched-credit, sched-credit2 --- */

struct credit_opts {
    const char *dom, *pool;
    long long weight, cap, tslice, ratelimit; /* -1: not given */
    bool s;
};

static int
credit_parse(const char *cmd, bool credit2, int argc, char **argv,
             struct credit_opts *o)
{
    static const struct option longopts[] = {
        {"domain", required_argument, NULL, 'd'},
        {"weight", required_argument, NULL, 'w'},
        {"cap", required_argument, NULL, 'c'},
        {"schedparam", no_argument, NULL, 's'},
        {"tslice_ms", required_argument, NULL, 't'},
        {"ratelimit_us", required_argument, NULL, 'r'},
        {"cpupool", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, status = 0;

    optind = 1;
    while (!status &&
           (c = getopt_long(argc, argv,
                            credit2 ? "+d:w:c:p:r:sh" : "+d:w:c:p:t:r:sh",
                            longopts, NULL)) != -1) {
        if (c == 'd')
            o->dom = optarg;
        else if (c == 'p')
            o->pool = optarg;
        else if (c == 's')
            o->s = true;
        else if (c == 'w')
            status =
                util_parse_int(cmd, "weight", optarg, 1, 65535, &o->weight);
        else if (c == 'c')
            status = util_parse_int(cmd, "cap", optarg, 0, MAX_U32, &o->cap);
        else if (c == 't' && !credit2)
            status =
                util_parse_int(cmd, "tslice", optarg, 0, MAX_U32, &o->tslice);
        else if (c == 'r')
            status = util_parse_int(cmd, "ratelimit", optarg, 0, MAX_U32,
                                    &o->ratelimit);
        else
            return cli_usage(cmd);
    }
    return status;
}

/* xl's rules on which options go together. */
static int
credit_check(const char *cmd, const struct credit_opts *o, int argc)
{
    bool dom_opts = o->dom || o->weight >= 0 || o->cap >= 0;

    if (optind != argc)
        return cli_usage(cmd);
    if ((o->pool || o->s) && dom_opts)
        return cli_bad_usage(cmd, "specifying a cpupool or schedparam is not "
                                  "allowed with domain options");
    if (!o->dom && (o->weight >= 0 || o->cap >= 0))
        return cli_bad_usage(cmd, "must specify a domain (-d)");
    if (!o->s && (o->tslice >= 0 || o->ratelimit >= 0))
        return cli_bad_usage(cmd, "must specify schedparam (-s) to set "
                                  "scheduler parameters");
    return 0;
}

static int
domain_set_weight(struct sched_run *r, const struct credit_opts *o)
{
    yajl_val p = NULL;
    yajl_gen g;
    int status;

    if ((status = sched_get(r, "domain", o->dom, &p)))
        return status;
    yajl_tree_free(p);
    g = cli_params_new(o->dom);
    if (o->weight >= 0)
        cli_kv_int(g, "weight", o->weight);
    if (o->cap >= 0)
        cli_kv_int(g, "cap", o->cap);
    return cli_call_params(r->cl, r->cmd, "sched.set", g, NULL);
}

static int
credit_run(const char *cmd, const char *sched, int argc, char **argv)
{
    struct credit_opts o = {
        .weight = -1, .cap = -1, .tslice = -1, .ratelimit = -1};
    struct sched_run r = {.cmd = cmd, .sched = sched};
    int status;

    if ((status =
             credit_parse(cmd, !strcmp(sched, "credit2"), argc, argv, &o)) ||
        (status = credit_check(cmd, &o, argc)))
        return status;
    if (!(r.cl = cli_connect(cmd)))
        return 1;
    if (cli_opts.json)
        r.json = cli_json_gen(true);
    if (o.s)
        status = pool_params(&r, o.pool ? o.pool : "0", o.tslice, o.ratelimit);
    else if (!o.dom)
        status = list_all(&r, o.pool);
    else if (o.weight < 0 && o.cap < 0)
        status = show_domain(&r, o.dom);
    else
        status = domain_set_weight(&r, &o);
    if (r.json)
        yajl_gen_free(r.json);
    cli_close(r.cl);
    return status;
}

int
cmd_sched_credit(struct keel_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    return credit_run("sched-credit", "credit", argc, argv);
}

int
cmd_sched_credit2(struct keel_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    return credit_run("sched-credit2", "credit2", argc, argv);
}

/* --- sched-rtds --- */

#define RTDS "sched-rtds"

struct rtds_opts {
    const char *dom, *pool;
    bool all;
    long long vcpus[MAX_VCPUS], period[MAX_VCPUS], budget[MAX_VCPUS],
        extra[MAX_VCPUS];
    size_t nv, np, nb, ne;
};

/* Appends one value of a repeatable option. */
static int
rtds_push(const char *what, const char *text, long long max, long long *arr,
          size_t *n)
{
    if (*n == MAX_VCPUS)
        return cli_bad_usage(RTDS, "too many %s options", what);
    return util_parse_int(RTDS, what, text, 0, max, &arr[(*n)++]);
}

static int
rtds_parse(int argc, char **argv, struct rtds_opts *o)
{
    static const struct option longopts[] = {
        {"domain", required_argument, NULL, 'd'},
        {"period", required_argument, NULL, 'p'},
        {"budget", required_argument, NULL, 'b'},
        {"extratime", required_argument, NULL, 'e'},
        {"vcpuid", required_argument, NULL, 'v'},
        {"cpupool", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, status = 0;

    optind = 1;
    while (!status && (c = getopt_long(argc, argv, "+d:p:b:e:v:c:h", longopts,
                                       NULL)) != -1) {
        if (c == 'd')
            o->dom = optarg;
        else if (c == 'c')
            o->pool = optarg;
        else if (c == 'v' && !strcmp(optarg, "all"))
            o->all = true;
        else if (c == 'v')
            status = rtds_push("vcpu", optarg, MAX_VCPUS - 1, o->vcpus, &o->nv);
        else if (c == 'p')
            status = rtds_push("period", optarg, MAX_U32, o->period, &o->np);
        else if (c == 'b')
            status = rtds_push("budget", optarg, MAX_U32, o->budget, &o->nb);
        else if (c == 'e')
            status = rtds_push("extratime", optarg, 1, o->extra, &o->ne);
        else
            return cli_usage(RTDS);
    }
    return status || optind == argc ? status : cli_usage(RTDS);
}

/* xl's rules, except that values left out keep theirs (keeld's). */
static int
rtds_check(const struct rtds_opts *o)
{
    bool values = o->np || o->nb || o->ne;
    size_t n = o->all ? 1 : o->nv;

    if (o->pool && (o->dom || values || o->nv || o->all))
        return cli_bad_usage(RTDS, "specifying a cpupool is not allowed with "
                                   "other options");
    if (!o->dom && (values || o->nv))
        return cli_bad_usage(RTDS, "missing parameters: give -d DOMAIN");
    if (o->dom && !o->nv && !o->all && values)
        return cli_bad_usage(RTDS, "must specify a vCPU (-v)");
    if (o->nv && o->all)
        return cli_bad_usage(RTDS, "incorrect vCPU IDs: -v all with -v N");
    if ((o->np && o->np != n) || (o->nb && o->nb != n) || (o->ne && o->ne != n))
        return cli_bad_usage(RTDS, "incorrect number of period, budget and "
                                   "extratime: one of each per -v");
    return 0;
}

/* One "vcpus" item of sched.set: value i of each option given. */
static void
rtds_gen_item(yajl_gen g, const struct rtds_opts *o, long long vcpu, size_t i)
{
    yajl_gen_map_open(g);
    cli_kv_int(g, "vcpu", vcpu);
    if (o->np)
        cli_kv_int(g, "period_us", o->period[i]);
    if (o->nb)
        cli_kv_int(g, "budget_us", o->budget[i]);
    if (o->ne)
        cli_kv_bool(g, "extratime", o->extra[i]);
    yajl_gen_map_close(g);
}

static int
rtds_set(struct sched_run *r, const struct rtds_opts *o)
{
    yajl_val p = NULL, vs;
    yajl_gen g;
    size_t i;
    int status;

    if ((status = sched_get(r, "domain", o->dom, &p)))
        return status;
    vs = cli_get(p, "vcpus");
    g = cli_params_new(o->dom);
    cli_gen_str(g, "vcpus");
    yajl_gen_array_open(g);
    for (i = 0; o->all && YAJL_IS_ARRAY(vs) && i < vs->u.array.len; i++)
        rtds_gen_item(g, o, cli_get_int(vs->u.array.values[i], "vcpu", 0), 0);
    for (i = 0; i < o->nv; i++)
        rtds_gen_item(g, o, o->vcpus[i], i);
    yajl_gen_array_close(g);
    yajl_tree_free(p);
    return cli_call_params(r->cl, r->cmd, "sched.set", g, NULL);
}

int
cmd_sched_rtds(struct keel_ctx *ctx, int argc, char **argv)
{
    struct sched_run r = {.cmd = RTDS, .sched = "rtds"};
    struct rtds_opts *o = calloc(1, sizeof(*o)); /* too big for a stack */
    int status;

    (void)ctx;
    if (!o)
        return cli_fail(RTDS, "out of memory");
    if ((status = rtds_parse(argc, argv, o)) || (status = rtds_check(o)))
        goto out;
    r.vcpu_table = o->all || o->nv;
    r.vcpus = o->nv ? o->vcpus : NULL;
    r.n_vcpus = o->nv;
    if (cli_opts.json)
        r.json = cli_json_gen(true);
    if (!(r.cl = cli_connect(RTDS)))
        status = 1;
    else if (!o->dom)
        status = list_all(&r, o->pool);
    else if (!o->np && !o->nb && !o->ne)
        status = show_domain(&r, o->dom);
    else
        status = rtds_set(&r, o);
    if (r.json)
        yajl_gen_free(r.json);
    cli_close(r.cl);
out:
    free(o);
    return status;
}

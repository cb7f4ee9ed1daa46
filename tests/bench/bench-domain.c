/* bench-domain.c: libkeel domain create + destroy as the host fills up
 *
 * The cost of creating and destroying one domain through keel_host must
 * not grow with the number of domains already running (xl's does; the
 * LightVM toolstack's stays flat). Four sim hosts are filled with 1, 100,
 * 1,000 and 10,000 running domains; each is then timed creating and
 * destroying one more domain, trial after trial, the hosts taking turns so
 * that a slow spell of the machine hits all of them. The figure for N
 * domains is reported against the 1-domain host measured in the same run:
 * a ratio near 1 is flat.
 *
 * Output (one JSON object per line, as bench.h): value and baseline_value
 * in create+destroy pairs per second, ratio = value / baseline_value, and
 * the pair's latency at the median and the 99th percentile, in
 * microseconds. $KEEL_BENCH_DOMAINS caps the largest host (default 10000).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <keel/domain.h>
#include <keel/sim.h>

#include "bench.h"

#define SPEC "cpus=64,nodes=4,sockets=4,memory=256G,dom0_mem=1G"
#define DOM_KB 4096 /* each domain: 4 MiB, one vCPU */
#define PAIRS 200   /* create + destroy pairs per trial */
#define TRIALS 3

struct level {
    uint32_t running;
    char *dir;
    struct keel_ctx *ctx;
    struct keel_hv *hv;
    struct keel_host *host;
    double best; /* pairs per second */
    double lat[PAIRS * TRIALS];
    size_t n_lat;
};

static int
fail(struct keel_ctx *ctx, int rc, const char *what)
{
    fprintf(stderr, "bench-domain: %s: %s: %s\n", what, keel_strerror(rc),
            keel_ctx_last_error(ctx));
    return rc;
}

static void
cfg_make(struct keel_domain_config *cfg, const char *name)
{
    keel_domain_config_init(cfg);
    cfg->name = strdup(name);
    cfg->memory_kb = DOM_KB;
    cfg->vcpus = 1;
}

static int
create_named(struct level *l, const char *name, uint32_t *domid_r)
{
    struct keel_domain_config cfg;
    int rc;

    cfg_make(&cfg, name);
    rc = cfg.name ? keel_domain_create(l->host, &cfg, 0, domid_r) : KEEL_ENOMEM;
    keel_domain_config_dispose(&cfg);
    return rc;
}

static int
level_open(struct level *l)
{
    struct keel_hv_open_args args = {.spec = SPEC};
    char name[32], *state;
    uint32_t i, domid;
    int rc;

    l->dir = bench_tmpdir("keel-bench-domain");
    if (!l->dir || keel_ctx_new(&l->ctx, 0))
        return KEEL_ENOMEM;
    keel_ctx_set_logger(l->ctx, KEEL_LOG_ERROR, NULL, NULL);
    args.dir = l->dir;
    rc = keel_hv_open(l->ctx, "sim", &args, &l->hv);
    if (rc)
        return fail(l->ctx, rc, "opening the sim");
    if (asprintf(&state, "%s.state", l->dir) < 0)
        return KEEL_ENOMEM;
    rc = keel_host_open(l->ctx, l->hv, state, 0, &l->host);
    free(state);
    if (rc)
        return fail(l->ctx, rc, "opening the host");
    fprintf(stderr, "bench-domain: filling a host with %u domains\n",
            l->running);
    for (i = 0; rc == 0 && i < l->running; i++) {
        snprintf(name, sizeof(name), "guest-%u", i);
        rc = create_named(l, name, &domid);
    }
    return rc ? fail(l->ctx, rc, "filling the host") : 0;
}

static void
level_close(struct level *l)
{
    char *state = NULL;

    keel_host_close(l->host);
    keel_hv_close(l->hv);
    keel_ctx_free(l->ctx);
    if (l->dir && asprintf(&state, "%s.state", l->dir) >= 0) {
        bench_rmtree(state);
        free(state);
    }
    if (l->dir)
        bench_rmtree(l->dir);
    free(l->dir);
}

static int
trial(struct level *l)
{
    double t0 = bench_now(), t, rate;
    uint32_t domid;
    int i, rc = 0;

    for (i = 0; rc == 0 && i < PAIRS; i++) {
        t = bench_now();
        rc = create_named(l, "probe", &domid);
        if (rc == 0)
            rc = keel_domain_destroy(l->host, domid);
        l->lat[l->n_lat++] = bench_now() - t;
    }
    if (rc)
        return fail(l->ctx, rc, "create + destroy");
    rate = PAIRS / (bench_now() - t0);
    if (rate > l->best)
        l->best = rate;
    return 0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
percentile(struct level *l, double p)
{
    size_t i = (size_t)(p * (double)(l->n_lat - 1));

    return l->lat[i] * 1e6;
}

static void
report(struct level *l, struct level *base)
{
    char name[64], bname[64];

    qsort(l->lat, l->n_lat, sizeof(double), cmp_double);
    snprintf(name, sizeof(name), "domain create+destroy, %u running",
             l->running);
    snprintf(bname, sizeof(bname), "domain create+destroy, %u running",
             base->running);
    fputs("{\"bench\":", stdout);
    bench_json_str(stdout, name);
    fputs(",\"unit\":\"pairs/s\",\"value\":", stdout);
    bench_json_num(stdout, l->best);
    fputs(",\"baseline\":", stdout);
    bench_json_str(stdout, bname);
    fputs(",\"baseline_value\":", stdout);
    bench_json_num(stdout, base->best);
    fputs(",\"ratio\":", stdout);
    bench_json_num(stdout, base->best > 0 ? l->best / base->best : 0);
    printf(",\"n\":%d,\"p50_us\":", PAIRS);
    bench_json_num(stdout, percentile(l, 0.50));
    fputs(",\"p99_us\":", stdout);
    bench_json_num(stdout, percentile(l, 0.99));
    fputs("}\n", stdout);
    fflush(stdout);
}

int
main(void)
{
    static struct level levels[] = {{1}, {100}, {1000}, {10000}};
    const char *cap_env = getenv("KEEL_BENCH_DOMAINS");
    uint32_t cap = cap_env ? (uint32_t)strtoul(cap_env, NULL, 10) : 10000;
    struct rlimit rl;
    size_t n = 0, i;
    int t, rc = 0;

    /* Many domains may mean many open files in the sim. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    while (n < sizeof(levels) / sizeof(levels[0]) &&
           levels[n].running <= (cap ? cap : 1))
        n++;
    for (i = 0; rc == 0 && i < n; i++)
        rc = level_open(&levels[i]);
    for (t = 0; rc == 0 && t < TRIALS; t++)
        for (i = 0; rc == 0 && i < n; i++)
            rc = trial(&levels[i]);
    for (i = 0; rc == 0 && i < n; i++)
        report(&levels[i], &levels[0]);
    for (i = 0; i < n; i++)
        level_close(&levels[i]);
    if (rc)
        fprintf(stderr, "bench-domain: FAILED (%s)\n", keel_strerror(rc));
    return rc ? 1 : 0;
}

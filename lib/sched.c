/* sched.c: scheduler parameters of domains, RTDS vCPUs and CPU pools
 *
 * Every range is checked here, before the backend is asked, so that each
 * backend refuses the same values with the same message (Xen checks some
 * of them only in some versions, and credit's cap not at all). The ranges
 * are Xen's: weights 1..65535, a cap of at most 100% per vCPU, RTDS
 * periods 10 us..10 s with 10 us <= budget <= period, credit time slices
 * 1..1000 ms, rate limits 0 (off) or 100..500000 us and, for credit, no
 * longer than the time slice.
 *
 * The domain's record keeps what a restart applies again: cpu_weight and
 * cap, and rtds_period/rtds_budget while every vCPU has the same. A set
 * whose record cannot be saved puts the backend's old values back, so
 * the record never says something the domain does not have.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "host-internal.h"

#define WEIGHT_MIN 1
#define WEIGHT_MAX 65535
#define RTDS_MIN_US 10
#define RTDS_MAX_PERIOD_US 10000000
#define TSLICE_MIN_MS 1
#define TSLICE_MAX_MS 1000
#define RATELIMIT_MIN_US 100
#define RATELIMIT_MAX_US 500000

/* A domain whose parameters are read or set, and the pool it is in. */
struct where {
    struct keel__dom *d; /* NULL for Domain-0 */
    struct keel_hv_dominfo info;
    struct keel_hv_poolinfo pool;
    char pool_name[KEEL_NAME_MAX + 1];
};

static bool
has_weight(enum keel_scheduler sched)
{
    return sched == KEEL_SCHED_CREDIT || sched == KEEL_SCHED_CREDIT2;
}

static const char *
sched_name(enum keel_scheduler sched)
{
    const char *name = keel_scheduler_name(sched);

    return name ? name : "an unknown scheduler";
}

int
keel__sched_check_dom(struct keel_ctx *ctx,
                      const struct keel_hv_sched_dom *params,
                      uint32_t max_vcpus)
{
    uint64_t cap_max = 100u * (uint64_t)max_vcpus;

    if (!keel_scheduler_name(params->sched))
        return keel_error(ctx, KEEL_EINVAL, "unknown scheduler %d",
                          (int)params->sched);
    if (!has_weight(params->sched)) {
        if (params->weight || params->cap)
            return keel_error(ctx, KEEL_EINVAL, "%s has no weight or cap",
                              sched_name(params->sched));
        return 0;
    }
    if (params->weight < WEIGHT_MIN || params->weight > WEIGHT_MAX)
        return keel_error(ctx, KEEL_ERANGE, "weight %u is not %d..%d",
                          params->weight, WEIGHT_MIN, WEIGHT_MAX);
    if (params->cap > cap_max)
        return keel_error(ctx, KEEL_ERANGE,
                          "cap %u is not 0..%llu (100%% for each of %u "
                          "vCPUs)",
                          params->cap, (unsigned long long)cap_max, max_vcpus);
    return 0;
}

int
keel__sched_check_rtds(struct keel_ctx *ctx,
                       const struct keel_hv_sched_rtds *rtds,
                       uint32_t max_vcpus)
{
    if (rtds->vcpu >= max_vcpus)
        return keel_error(ctx, KEEL_EINVAL,
                          "vCPU %u does not exist (the domain has %u)",
                          rtds->vcpu, max_vcpus);
    if (rtds->period_us < RTDS_MIN_US || rtds->period_us > RTDS_MAX_PERIOD_US)
        return keel_error(ctx, KEEL_ERANGE,
                          "vCPU %u: period %u us is not %d..%d", rtds->vcpu,
                          rtds->period_us, RTDS_MIN_US, RTDS_MAX_PERIOD_US);
    if (rtds->budget_us < RTDS_MIN_US || rtds->budget_us > rtds->period_us)
        return keel_error(ctx, KEEL_ERANGE,
                          "vCPU %u: budget %u us is not %d..%u (the period)",
                          rtds->vcpu, rtds->budget_us, RTDS_MIN_US,
                          rtds->period_us);
    return 0;
}

/* Pool-wide parameters for a credit or credit2 pool. */
static int
check_pool(struct keel_ctx *ctx, const struct keel_hv_sched_pool *params)
{
    uint32_t rl = params->ratelimit_us;
    bool credit = params->sched == KEEL_SCHED_CREDIT;

    if (credit && (params->tslice_ms < TSLICE_MIN_MS ||
                   params->tslice_ms > TSLICE_MAX_MS))
        return keel_error(ctx, KEEL_ERANGE, "tslice %u ms is not %d..%d",
                          params->tslice_ms, TSLICE_MIN_MS, TSLICE_MAX_MS);
    if (!credit && params->tslice_ms)
        return keel_error(ctx, KEEL_EINVAL,
                          "tslice %u ms: %s has no time slice (only credit)",
                          params->tslice_ms, sched_name(params->sched));
    if (rl && (rl < RATELIMIT_MIN_US || rl > RATELIMIT_MAX_US))
        return keel_error(ctx, KEEL_ERANGE,
                          "ratelimit %u us is not 0 (off) or %d..%d", rl,
                          RATELIMIT_MIN_US, RATELIMIT_MAX_US);
    if (credit && rl > params->tslice_ms * 1000u)
        return keel_error(ctx, KEEL_ERANGE,
                          "ratelimit %u us is longer than the tslice (%u ms)",
                          rl, params->tslice_ms);
    return 0;
}

/* Checks domid's state for op and finds its pool. */
static int
locate(struct keel_host *host, uint32_t domid, const char *op, struct where *w)
{
    int rc =
        keel__dom_check(host, domid, op, KEEL__ST_LIVE, true, &w->d, &w->info);

    if (rc == 0)
        rc = keel_hv_cpupool_info(host->hv, w->info.poolid, &w->pool);
    if (rc == 0)
        keel__pool_name(host, w->info.poolid, w->pool_name);
    return rc;
}

/* asked must be the scheduler of w's pool (or UNKNOWN, when any_ok). */
static int
dom_sched_match(struct keel_host *host, const struct where *w,
                enum keel_scheduler asked, bool any_ok)
{
    if (asked == w->pool.sched || (any_ok && asked == KEEL_SCHED_UNKNOWN))
        return 0;
    return keel_error(host->ctx, KEEL_EINVAL,
                      "domain %u is in CPU pool '%s', which runs %s, not %s",
                      w->info.domid, w->pool_name, sched_name(w->pool.sched),
                      sched_name(asked));
}

KEEL_EXPORT int
keel_sched_domain_get(struct keel_host *host, uint32_t domid,
                      struct keel_hv_sched_dom *params)
{
    struct where w;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!params) {
        rc = keel_error(host->ctx, KEEL_EINVAL, "params is NULL");
        goto out;
    }
    rc = locate(host, domid, "sched params", &w);
    if (rc == 0)
        rc = dom_sched_match(host, &w, params->sched, true);
    if (rc)
        goto out;
    if (has_weight(w.pool.sched)) {
        rc = keel_hv_sched_domain_get(host->hv, domid, params);
    } else { /* rtds and null: nothing per domain */
        memset(params, 0, sizeof(*params));
        params->sched = w.pool.sched;
    }
out:
    return keel__host_end(host, rc);
}

/* Sets the backend, then the record; puts the backend back if the record
 * cannot be saved. */
static int
dom_set_locked(struct keel_host *host, const struct where *w,
               const struct keel_hv_sched_dom *params)
{
    struct keel_hv_sched_dom old;
    struct keel__dom *d = w->d;
    int64_t weight = d ? d->cfg.cpu_weight : 0, cap = d ? d->cfg.cap : 0;
    int rc = keel_hv_sched_domain_get(host->hv, w->info.domid, &old);

    if (rc == 0)
        rc = keel_hv_sched_domain_set(host->hv, w->info.domid, params);
    if (rc || !d)
        return rc;
    d->cfg.cpu_weight = params->weight;
    d->cfg.cap = params->cap;
    rc = keel__dom_save(host, d);
    if (rc) {
        d->cfg.cpu_weight = weight;
        d->cfg.cap = cap;
        if (keel_hv_sched_domain_set(host->hv, w->info.domid, &old))
            keel_warn(host->ctx, "undoing: d%u keeps weight %u cap %u",
                      w->info.domid, params->weight, params->cap);
    }
    return rc;
}

KEEL_EXPORT int
keel_sched_domain_set(struct keel_host *host, uint32_t domid,
                      const struct keel_hv_sched_dom *params)
{
    struct where w;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!params) {
        rc = keel_error(host->ctx, KEEL_EINVAL, "params is NULL");
        goto out;
    }
    rc = locate(host, domid, "sched params", &w);
    if (rc == 0)
        rc = dom_sched_match(host, &w, params->sched, false);
    if (rc == 0 && !has_weight(w.pool.sched))
        rc = keel_error(host->ctx, KEEL_EINVAL,
                        "domain %u is in CPU pool '%s', which runs %s: it "
                        "has no weight or cap",
                        domid, w.pool_name, sched_name(w.pool.sched));
    if (rc == 0)
        rc = keel__sched_check_dom(host->ctx, params, w.info.max_vcpus);
    if (rc == 0)
        rc = dom_set_locked(host, &w, params);
out:
    return keel__host_end(host, rc);
}

/* Every vCPU's RTDS parameters into a new array of info.max_vcpus. */
static int
rtds_read(struct keel_host *host, const struct where *w,
          struct keel_hv_sched_rtds **vcpus_r)
{
    uint32_t v, n = w->info.max_vcpus;
    struct keel_hv_sched_rtds *vcpus = calloc(n ? n : 1, sizeof(*vcpus));
    int rc;

    *vcpus_r = NULL;
    if (!vcpus)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    for (v = 0; v < n; v++)
        vcpus[v].vcpu = v;
    rc = keel_hv_sched_rtds_get(host->hv, w->info.domid, vcpus, n);
    if (rc)
        free(vcpus);
    else
        *vcpus_r = vcpus;
    return rc;
}

/* Locates domid and checks that its pool runs RTDS. */
static int
locate_rtds(struct keel_host *host, uint32_t domid, struct where *w)
{
    int rc = locate(host, domid, "sched params", w);

    if (rc == 0)
        rc = dom_sched_match(host, w, KEEL_SCHED_RTDS, false);
    return rc;
}

KEEL_EXPORT int
keel_sched_rtds_get(struct keel_host *host, uint32_t domid,
                    struct keel_hv_sched_rtds **vcpus_r, size_t *n_r)
{
    struct keel_hv_sched_rtds *vcpus = NULL;
    struct where w;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!vcpus_r || !n_r) {
        rc = keel_error(host->ctx, KEEL_EINVAL, "vcpus_r or n_r is NULL");
        goto out;
    }
    rc = locate_rtds(host, domid, &w);
    if (rc == 0)
        rc = rtds_read(host, &w, &vcpus);
    *vcpus_r = vcpus;
    *n_r = rc ? 0 : w.info.max_vcpus;
out:
    return keel__host_end(host, rc);
}

/* Each entry in range and no vCPU twice. */
static int
rtds_check_all(struct keel_host *host, const struct where *w,
               const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    uint32_t max = w->info.max_vcpus;
    bool *seen = calloc(max ? max : 1, sizeof(*seen));
    size_t i;
    int rc = 0;

    if (!seen)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; i < n && rc == 0; i++) {
        rc = keel__sched_check_rtds(host->ctx, &vcpus[i], max);
        if (rc == 0 && seen[vcpus[i].vcpu])
            rc = keel_error(host->ctx, KEEL_EINVAL, "vCPU %u is named twice",
                            vcpus[i].vcpu);
        if (rc == 0)
            seen[vcpus[i].vcpu] = true;
    }
    free(seen);
    return rc;
}

/* The record's period and budget: the vCPUs' when they all agree (all
 * holds every vCPU's, old, with the n new ones applied). */
static void
rtds_record(struct keel__dom *d, struct keel_hv_sched_rtds *all, uint32_t n_all,
            const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    uint32_t v;
    size_t i;

    for (i = 0; i < n; i++)
        all[vcpus[i].vcpu] = vcpus[i];
    for (v = 1; v < n_all; v++)
        if (all[v].period_us != all[0].period_us ||
            all[v].budget_us != all[0].budget_us)
            return;
    d->cfg.rtds_period = all[0].period_us;
    d->cfg.rtds_budget = all[0].budget_us;
}

static int
rtds_set_locked(struct keel_host *host, const struct where *w,
                const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    struct keel_hv_sched_rtds *old = NULL, *all = NULL;
    uint32_t n_all = w->info.max_vcpus;
    struct keel__dom *d = w->d;
    int64_t period = d ? d->cfg.rtds_period : 0;
    int64_t budget = d ? d->cfg.rtds_budget : 0;
    int rc = rtds_read(host, w, &old);

    if (rc == 0 && !(all = malloc(n_all * sizeof(*all))))
        rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    if (rc == 0) {
        memcpy(all, old, n_all * sizeof(*all));
        rc = keel_hv_sched_rtds_set(host->hv, w->info.domid, vcpus, n);
    }
    if (rc || !d)
        goto out;
    rtds_record(d, all, n_all, vcpus, n);
    rc = keel__dom_save(host, d);
    if (rc) {
        d->cfg.rtds_period = period;
        d->cfg.rtds_budget = budget;
        if (keel_hv_sched_rtds_set(host->hv, w->info.domid, old, n_all))
            keel_warn(host->ctx, "undoing: d%u keeps the new RTDS values",
                      w->info.domid);
    }
out:
    free(old);
    free(all);
    return rc;
}

KEEL_EXPORT int
keel_sched_rtds_set(struct keel_host *host, uint32_t domid,
                    const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    struct where w;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!vcpus || n == 0) {
        rc = keel_error(host->ctx, KEEL_EINVAL, "no vCPU to set");
        goto out;
    }
    rc = locate_rtds(host, domid, &w);
    if (rc == 0 && n > w.info.max_vcpus)
        rc = keel_error(host->ctx, KEEL_EINVAL,
                        "%zu vCPU entries for a domain with %u", n,
                        w.info.max_vcpus);
    if (rc == 0)
        rc = rtds_check_all(host, &w, vcpus, n);
    if (rc == 0)
        rc = rtds_set_locked(host, &w, vcpus, n);
out:
    return keel__host_end(host, rc);
}

/* Finds poolid and checks that it runs asked (UNKNOWN: any, when
 * any_ok) and has pool-wide parameters. */
static int
locate_pool(struct keel_host *host, uint32_t poolid, enum keel_scheduler asked,
            bool any_ok)
{
    struct keel_hv_poolinfo pool;
    char name[KEEL_NAME_MAX + 1];
    int rc = keel_hv_cpupool_info(host->hv, poolid, &pool);

    if (rc)
        return rc;
    keel__pool_name(host, poolid, name);
    if (asked != pool.sched && !(any_ok && asked == KEEL_SCHED_UNKNOWN))
        return keel_error(host->ctx, KEEL_EINVAL,
                          "CPU pool '%s' runs %s, not %s", name,
                          sched_name(pool.sched), sched_name(asked));
    if (!has_weight(pool.sched))
        return keel_error(host->ctx, KEEL_EINVAL,
                          "CPU pool '%s' runs %s, which has no pool "
                          "parameters",
                          name, sched_name(pool.sched));
    return 0;
}

KEEL_EXPORT int
keel_sched_pool_get(struct keel_host *host, uint32_t poolid,
                    struct keel_hv_sched_pool *params)
{
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!params)
        rc = keel_error(host->ctx, KEEL_EINVAL, "params is NULL");
    else
        rc = locate_pool(host, poolid, params->sched, true);
    if (rc == 0)
        rc = keel_hv_sched_pool_get(host->hv, poolid, params);
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_sched_pool_set(struct keel_host *host, uint32_t poolid,
                    const struct keel_hv_sched_pool *params)
{
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!params)
        rc = keel_error(host->ctx, KEEL_EINVAL, "params is NULL");
    else
        rc = locate_pool(host, poolid, params->sched, false);
    if (rc == 0)
        rc = check_pool(host->ctx, params);
    if (rc == 0)
        rc = keel_hv_sched_pool_set(host->hv, poolid, params);
    return keel__host_end(host, rc);
}

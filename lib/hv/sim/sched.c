/* sched.c: simulated scheduler parameters, per domain, vCPU and pool
 *
 * The ranges are Xen's: credit and credit2 weights 1..65535 and a cap of
 * at most 100% per vCPU; RTDS periods 10 us..10 s with 10 us <= budget <=
 * period; credit time slices 1..1000 ms; rate limits 0 (off) or
 * 100..500000 us, and for credit no longer than the time slice.
 */
#include "config.h"

#include <string.h>

#include "sim.h"

#define RTDS_MIN_US 10
#define RTDS_MAX_PERIOD_US 10000000
#define RATELIMIT_MIN_US 100
#define RATELIMIT_MAX_US 500000

static int
sched_mismatch(struct sim *s, const char *what, uint32_t id,
               enum keel_scheduler have, enum keel_scheduler asked)
{
    return keel_error(s->ctx, KEEL_EINVAL, "%s %u runs under %s, not %s", what,
                      id, keel_scheduler_name(have),
                      keel_scheduler_name(asked) ? keel_scheduler_name(asked)
                                                 : "an unknown scheduler");
}

static struct sim_domain *
sched_domain(struct sim *s, uint32_t domid, int *rc_r)
{
    struct sim_domain *d = sim_domain_get(s, domid);

    *rc_r = d ? 0 : KEEL_ENODOMAIN;
    if (d && d->dying) {
        *rc_r = keel_error(s->ctx, KEEL_ESTATE, "domain %u is dying", domid);
        d = NULL;
    }
    return d;
}

int
sim_op_sched_domain_get(struct keel_hv *hv, uint32_t domid,
                        struct keel_hv_sched_dom *params)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && (d = sched_domain(s, domid, &rc)))
        *params = d->sched;
    return sim_end(s, rc);
}

int
sim_op_sched_domain_set(struct keel_hv *hv, uint32_t domid,
                        const struct keel_hv_sched_dom *params)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = sched_domain(s, domid, &rc)))
        return sim_end(s, rc);
    if (params->sched != d->sched.sched)
        return sim_end(s, sched_mismatch(s, "domain", domid, d->sched.sched,
                                         params->sched));
    if (params->sched == KEEL_SCHED_CREDIT ||
        params->sched == KEEL_SCHED_CREDIT2) {
        if (params->weight < 1 || params->weight > 65535)
            return sim_end(s, keel_error(s->ctx, KEEL_ERANGE,
                                         "weight %u is not 1..65535",
                                         params->weight));
        if (params->cap > 100 * d->max_vcpus)
            return sim_end(s, keel_error(s->ctx, KEEL_ERANGE,
                                         "cap %u is above 100%% per vCPU "
                                         "(%u)",
                                         params->cap, 100 * d->max_vcpus));
    } else if (params->weight || params->cap) {
        return sim_end(s, keel_error(s->ctx, KEEL_EINVAL,
                                     "%s has no weight or cap",
                                     keel_scheduler_name(params->sched)));
    }
    d->sched = *params;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

static struct sim_domain *
rtds_domain(struct sim *s, uint32_t domid, size_t n, int *rc_r)
{
    struct sim_domain *d = sched_domain(s, domid, rc_r);

    if (d && d->sched.sched != KEEL_SCHED_RTDS) {
        *rc_r =
            sched_mismatch(s, "domain", domid, d->sched.sched, KEEL_SCHED_RTDS);
        d = NULL;
    }
    if (d && (n == 0 || n > d->max_vcpus)) {
        *rc_r = keel_error(s->ctx, KEEL_EINVAL,
                           "%zu vCPU entries for a domain with %u", n,
                           d->max_vcpus);
        d = NULL;
    }
    return d;
}

int
sim_op_sched_rtds_get(struct keel_hv *hv, uint32_t domid,
                      struct keel_hv_sched_rtds *vcpus, size_t n)
{
    struct sim_domain *d;
    struct sim *s;
    size_t i;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = rtds_domain(s, domid, n, &rc)))
        return sim_end(s, rc);
    for (i = 0; i < n; i++) {
        if (vcpus[i].vcpu >= d->max_vcpus)
            return sim_end(s, keel_error(s->ctx, KEEL_EINVAL,
                                         "domain %u has no vCPU %u", domid,
                                         vcpus[i].vcpu));
        vcpus[i] = d->vcpus[vcpus[i].vcpu].rtds;
    }
    return sim_end(s, 0);
}

static int
check_rtds(struct sim *s, const struct sim_domain *d,
           const struct keel_hv_sched_rtds *r)
{
    if (r->vcpu >= d->max_vcpus)
        return keel_error(s->ctx, KEEL_EINVAL, "domain %u has no vCPU %u",
                          d->domid, r->vcpu);
    if (r->period_us < RTDS_MIN_US || r->period_us > RTDS_MAX_PERIOD_US)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "vCPU %u: period %u us is not %d..%d", r->vcpu,
                          r->period_us, RTDS_MIN_US, RTDS_MAX_PERIOD_US);
    if (r->budget_us < RTDS_MIN_US || r->budget_us > r->period_us)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "vCPU %u: budget %u us is not %d..period (%u)",
                          r->vcpu, r->budget_us, RTDS_MIN_US, r->period_us);
    return 0;
}

int
sim_op_sched_rtds_set(struct keel_hv *hv, uint32_t domid,
                      const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    struct sim_domain *d;
    struct sim *s;
    size_t i;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = rtds_domain(s, domid, n, &rc)))
        return sim_end(s, rc);
    for (i = 0; i < n; i++) /* all or nothing */
        if ((rc = check_rtds(s, d, &vcpus[i])))
            return sim_end(s, rc);
    for (i = 0; i < n; i++)
        d->vcpus[vcpus[i].vcpu].rtds = vcpus[i];
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_sched_pool_get(struct keel_hv *hv, uint32_t poolid,
                      struct keel_hv_sched_pool *params)
{
    struct sim_pool *p;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && !(p = sim_pool_get(s, poolid)))
        rc = KEEL_ENOPOOL;
    if (rc == 0)
        *params = p->params;
    return sim_end(s, rc);
}

static int
check_pool_params(struct sim *s, const struct keel_hv_sched_pool *params)
{
    uint32_t rl = params->ratelimit_us;

    if (params->sched == KEEL_SCHED_CREDIT &&
        (params->tslice_ms < 1 || params->tslice_ms > 1000))
        return keel_error(s->ctx, KEEL_ERANGE, "tslice %u ms is not 1..1000",
                          params->tslice_ms);
    if (params->sched != KEEL_SCHED_CREDIT && params->tslice_ms)
        return keel_error(s->ctx, KEEL_EINVAL, "only credit has a tslice");
    if (params->sched != KEEL_SCHED_CREDIT &&
        params->sched != KEEL_SCHED_CREDIT2 && rl)
        return keel_error(s->ctx, KEEL_EINVAL, "%s has no rate limit",
                          keel_scheduler_name(params->sched));
    if (rl && (rl < RATELIMIT_MIN_US || rl > RATELIMIT_MAX_US))
        return keel_error(s->ctx, KEEL_ERANGE,
                          "ratelimit %u us is not 0 or %d..%d", rl,
                          RATELIMIT_MIN_US, RATELIMIT_MAX_US);
    if (params->sched == KEEL_SCHED_CREDIT && rl > params->tslice_ms * 1000u)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "ratelimit %u us is longer than the tslice (%u ms)",
                          rl, params->tslice_ms);
    return 0;
}

int
sim_op_sched_pool_set(struct keel_hv *hv, uint32_t poolid,
                      const struct keel_hv_sched_pool *params)
{
    struct sim_pool *p;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(p = sim_pool_get(s, poolid)))
        return sim_end(s, rc ? rc : KEEL_ENOPOOL);
    if (params->sched != p->params.sched)
        return sim_end(s, sched_mismatch(s, "CPU pool", poolid, p->params.sched,
                                         params->sched));
    rc = check_pool_params(s, params);
    if (rc == 0) {
        p->params = *params;
        sim_journal_pools(s);
    }
    return sim_end(s, rc);
}

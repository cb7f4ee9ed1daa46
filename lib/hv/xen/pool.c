/* pool.c: the xen backend's CPU pools and scheduler parameters */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen.h"

static void
pool_fill(struct xen *x, const xc_cpupoolinfo_t *pi,
          struct keel_hv_poolinfo *info)
{
    memset(info, 0, sizeof(*info));
    info->poolid = pi->cpupool_id;
    info->sched = (enum keel_scheduler)pi->sched_id;
    info->n_dom = pi->n_dom;
    xen_cpumap_from_xc(pi->cpumap, x->max_cpus, &info->cpus);
}

int
xen_op_cpupool_create(struct keel_hv *hv, uint32_t *poolid_io,
                      enum keel_scheduler sched)
{
    struct xen *x = xen_of(hv);
    uint32_t id = *poolid_io;

    if (xc_cpupool_create(x->xch, &id, (uint32_t)sched))
        return xen_fail(x, "xc_cpupool_create");
    *poolid_io = id;
    return 0;
}

int
xen_op_cpupool_destroy(struct keel_hv *hv, uint32_t poolid)
{
    struct xen *x = xen_of(hv);

    if (xc_cpupool_destroy(x->xch, poolid))
        return xen_fail(x, "xc_cpupool_destroy(%u)", poolid);
    return 0;
}

int
xen_op_cpupool_info(struct keel_hv *hv, uint32_t poolid,
                    struct keel_hv_poolinfo *info)
{
    struct xen *x = xen_of(hv);
    xc_cpupoolinfo_t *pi = xc_cpupool_getinfo(x->xch, poolid);
    int rc = 0;

    /* Xen gives the first pool at or after poolid. */
    if (!pi && errno != ENOENT)
        return xen_fail(x, "xc_cpupool_getinfo(%u)", poolid);
    if (!pi || pi->cpupool_id != poolid)
        rc = KEEL_ENOPOOL;
    else
        pool_fill(x, pi, info);
    xc_cpupool_infofree(x->xch, pi);
    return rc;
}

int
xen_op_cpupool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                    size_t max, size_t *n_r)
{
    struct xen *x = xen_of(hv);
    uint32_t next = 0;
    size_t n = 0;

    for (;;) {
        xc_cpupoolinfo_t *pi = xc_cpupool_getinfo(x->xch, next);

        if (!pi) {
            if (errno == ENOENT)
                break;
            return xen_fail(x, "xc_cpupool_getinfo(%u)", next);
        }
        if (n < max)
            pool_fill(x, pi, &infos[n]);
        n++;
        next = pi->cpupool_id + 1;
        xc_cpupool_infofree(x->xch, pi);
    }
    *n_r = n < max ? n : max;
    return 0;
}

int
xen_op_cpupool_add_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu)
{
    struct xen *x = xen_of(hv);

    if (xc_cpupool_addcpu(x->xch, poolid, (int)cpu))
        return xen_fail(x, "xc_cpupool_addcpu(pool %u, cpu %u)", poolid, cpu);
    return 0;
}

int
xen_op_cpupool_remove_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu)
{
    struct xen *x = xen_of(hv);

    if (xc_cpupool_removecpu(x->xch, poolid, (int)cpu))
        return xen_fail(x, "xc_cpupool_removecpu(pool %u, cpu %u)", poolid,
                        cpu);
    return 0;
}

int
xen_op_cpupool_move_domain(struct keel_hv *hv, uint32_t poolid, uint32_t domid)
{
    struct xen *x = xen_of(hv);

    if (xc_cpupool_movedomain(x->xch, poolid, domid))
        return xen_fail(x, "xc_cpupool_movedomain(pool %u, domain %u)", poolid,
                        domid);
    return 0;
}

int
xen_op_cpupool_free_cpus(struct keel_hv *hv, struct keel_cpumap *map)
{
    struct xen *x = xen_of(hv);
    xc_cpumap_t m = xc_cpupool_freeinfo(x->xch);

    if (!m)
        return xen_fail(x, "xc_cpupool_freeinfo");
    xen_cpumap_from_xc(m, x->max_cpus, map);
    free(m);
    return 0;
}

/* --- schedulers --- */

static int
pool_sched(struct xen *x, uint32_t poolid, enum keel_scheduler *sched_r)
{
    struct keel_hv_poolinfo info;
    xc_cpupoolinfo_t *pi = xc_cpupool_getinfo(x->xch, poolid);

    if (!pi && errno != ENOENT)
        return xen_fail(x, "xc_cpupool_getinfo(%u)", poolid);
    if (!pi || pi->cpupool_id != poolid) {
        xc_cpupool_infofree(x->xch, pi);
        return KEEL_ENOPOOL;
    }
    pool_fill(x, pi, &info);
    xc_cpupool_infofree(x->xch, pi);
    *sched_r = info.sched;
    return 0;
}

/* The scheduler of the pool a domain is in. */
static int
dom_sched(struct xen *x, uint32_t domid, enum keel_scheduler *sched_r)
{
    xc_domaininfo_t xi;
    int n = xc_domain_getinfolist(x->xch, domid, 1, &xi);

    if (n < 0)
        return xen_fail(x, "xc_domain_getinfolist(%u)", domid);
    if (n == 0 || xi.domain != domid)
        return KEEL_ENODOMAIN;
    return pool_sched(x, xi.cpupool, sched_r);
}

static int
wrong_sched(struct xen *x, uint32_t domid, enum keel_scheduler want,
            enum keel_scheduler have)
{
    return keel_error(x->ctx, KEEL_EINVAL,
                      "domain %u is scheduled by %s, not %s", domid,
                      keel_scheduler_name(have) ? keel_scheduler_name(have)
                                                : "an unknown scheduler",
                      keel_scheduler_name(want) ? keel_scheduler_name(want)
                                                : "that scheduler");
}

int
xen_op_sched_domain_get(struct keel_hv *hv, uint32_t domid,
                        struct keel_hv_sched_dom *params)
{
    struct xen *x = xen_of(hv);
    enum keel_scheduler sched;
    int rc = dom_sched(x, domid, &sched);

    if (rc)
        return rc;
    memset(params, 0, sizeof(*params));
    params->sched = sched;
    if (sched == KEEL_SCHED_CREDIT) {
        struct xen_domctl_sched_credit c;

        if (xc_sched_credit_domain_get(x->xch, domid, &c))
            return xen_fail(x, "xc_sched_credit_domain_get(%u)", domid);
        params->weight = c.weight;
        params->cap = c.cap;
    } else if (sched == KEEL_SCHED_CREDIT2) {
        struct xen_domctl_sched_credit2 c;

        if (xc_sched_credit2_domain_get(x->xch, domid, &c))
            return xen_fail(x, "xc_sched_credit2_domain_get(%u)", domid);
        params->weight = c.weight;
        params->cap = c.cap;
    }
    return 0;
}

int
xen_op_sched_domain_set(struct keel_hv *hv, uint32_t domid,
                        const struct keel_hv_sched_dom *params)
{
    struct xen *x = xen_of(hv);
    enum keel_scheduler sched;
    int rc = dom_sched(x, domid, &sched);

    if (rc)
        return rc;
    if (sched != params->sched)
        return wrong_sched(x, domid, params->sched, sched);
    if (sched == KEEL_SCHED_CREDIT) {
        struct xen_domctl_sched_credit c = {.weight = (uint16_t)params->weight,
                                            .cap = (uint16_t)params->cap};

        if (xc_sched_credit_domain_set(x->xch, domid, &c))
            return xen_fail(x, "xc_sched_credit_domain_set(%u)", domid);
    } else if (sched == KEEL_SCHED_CREDIT2) {
        struct xen_domctl_sched_credit2 c = {.weight = (uint16_t)params->weight,
                                             .cap = (uint16_t)params->cap};

        if (xc_sched_credit2_domain_set(x->xch, domid, &c))
            return xen_fail(x, "xc_sched_credit2_domain_set(%u)", domid);
    } else {
        return keel_error(
            x->ctx, KEEL_EINVAL, "%s has no per-domain weight and cap",
            keel_scheduler_name(sched) ? keel_scheduler_name(sched)
                                       : "this scheduler");
    }
    return 0;
}

int
xen_op_sched_rtds_get(struct keel_hv *hv, uint32_t domid,
                      struct keel_hv_sched_rtds *vcpus, size_t n)
{
    struct xen *x = xen_of(hv);
    xen_domctl_schedparam_vcpu_t *v = calloc(n ? n : 1, sizeof(*v));
    size_t i;
    int rc = 0;

    if (!v)
        return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; i < n; i++)
        v[i].vcpuid = vcpus[i].vcpu;
    if (xc_sched_rtds_vcpu_get(x->xch, domid, v, (uint32_t)n))
        rc = xen_fail(x, "xc_sched_rtds_vcpu_get(%u)", domid);
    for (i = 0; rc == 0 && i < n; i++) {
        vcpus[i].period_us = v[i].u.rtds.period;
        vcpus[i].budget_us = v[i].u.rtds.budget;
        vcpus[i].extratime = v[i].u.rtds.flags & XEN_DOMCTL_SCHEDRT_extra;
    }
    free(v);
    return rc;
}

int
xen_op_sched_rtds_set(struct keel_hv *hv, uint32_t domid,
                      const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    struct xen *x = xen_of(hv);
    xen_domctl_schedparam_vcpu_t *v = calloc(n ? n : 1, sizeof(*v));
    size_t i;
    int rc = 0;

    if (!v)
        return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        v[i].vcpuid = vcpus[i].vcpu;
        v[i].u.rtds.period = vcpus[i].period_us;
        v[i].u.rtds.budget = vcpus[i].budget_us;
        v[i].u.rtds.flags = vcpus[i].extratime ? XEN_DOMCTL_SCHEDRT_extra : 0;
    }
    if (xc_sched_rtds_vcpu_set(x->xch, domid, v, (uint32_t)n))
        rc = xen_fail(x, "xc_sched_rtds_vcpu_set(%u)", domid);
    free(v);
    return rc;
}

int
xen_op_sched_pool_get(struct keel_hv *hv, uint32_t poolid,
                      struct keel_hv_sched_pool *params)
{
    struct xen *x = xen_of(hv);
    enum keel_scheduler sched;
    int rc = pool_sched(x, poolid, &sched);

    if (rc)
        return rc;
    memset(params, 0, sizeof(*params));
    params->sched = sched;
    if (sched == KEEL_SCHED_CREDIT) {
        struct xen_sysctl_credit_schedule c;

        if (xc_sched_credit_params_get(x->xch, poolid, &c))
            return xen_fail(x, "xc_sched_credit_params_get(%u)", poolid);
        params->tslice_ms = c.tslice_ms;
        params->ratelimit_us = c.ratelimit_us;
    } else if (sched == KEEL_SCHED_CREDIT2) {
        struct xen_sysctl_credit2_schedule c;

        if (xc_sched_credit2_params_get(x->xch, poolid, &c))
            return xen_fail(x, "xc_sched_credit2_params_get(%u)", poolid);
        params->ratelimit_us = c.ratelimit_us;
    }
    return 0;
}

int
xen_op_sched_pool_set(struct keel_hv *hv, uint32_t poolid,
                      const struct keel_hv_sched_pool *params)
{
    struct xen *x = xen_of(hv);
    enum keel_scheduler sched;
    int rc = pool_sched(x, poolid, &sched);

    if (rc)
        return rc;
    if (sched == KEEL_SCHED_CREDIT) {
        struct xen_sysctl_credit_schedule c;

        /* Keep what keel does not set (the migration delay). */
        if (xc_sched_credit_params_get(x->xch, poolid, &c))
            return xen_fail(x, "xc_sched_credit_params_get(%u)", poolid);
        c.tslice_ms = params->tslice_ms;
        c.ratelimit_us = params->ratelimit_us;
        if (xc_sched_credit_params_set(x->xch, poolid, &c))
            return xen_fail(x, "xc_sched_credit_params_set(%u)", poolid);
    } else if (sched == KEEL_SCHED_CREDIT2) {
        struct xen_sysctl_credit2_schedule c = {.ratelimit_us =
                                                    params->ratelimit_us};

        if (xc_sched_credit2_params_set(x->xch, poolid, &c))
            return xen_fail(x, "xc_sched_credit2_params_set(%u)", poolid);
    } else {
        return keel_error(x->ctx, KEEL_EINVAL, "%s has no pool parameters",
                          keel_scheduler_name(sched)
                              ? keel_scheduler_name(sched)
                              : "this scheduler");
    }
    return 0;
}

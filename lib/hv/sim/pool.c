/* pool.c: simulated CPU pools and scheduler parameters
 *
 * Xen's rules: a CPU is in at most one pool, or free; Pool-0 (id 0) starts
 * with every CPU under credit2; a pool is destroyed only when it holds no
 * domains and no CPUs; the last CPU of a pool that holds domains cannot be
 * removed (a dying domain counts until it is gone); moving a domain
 * resets its scheduler parameters (weight, cap, RTDS per vCPU) to the new
 * scheduler's defaults and its vCPUs' affinity to every CPU, as Xen's
 * sched_move_domain does; removing a CPU breaks the hard affinity of vCPUs
 * left with no CPU of their pool. Each pool counts its domains and their
 * memory (domain.c keeps the counts), so asking costs nothing per domain.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sim.h"

static size_t
pool_index(struct sim *s, uint32_t poolid, bool *found_r)
{
    size_t i;

    for (i = 0; i < s->n_pools && s->pools[i].poolid < poolid; i++)
        ;
    *found_r = i < s->n_pools && s->pools[i].poolid == poolid;
    return i;
}

struct sim_pool *
sim_pool_find(struct sim *s, uint32_t poolid)
{
    bool found;
    size_t i = pool_index(s, poolid, &found);

    return found ? &s->pools[i] : NULL;
}

struct sim_pool *
sim_pool_get(struct sim *s, uint32_t poolid)
{
    struct sim_pool *p = sim_pool_find(s, poolid);

    if (!p)
        keel_error(s->ctx, KEEL_ENOPOOL, "no CPU pool with id %u", poolid);
    return p;
}

int
sim_pool_insert(struct sim *s, const struct sim_pool *p)
{
    struct sim_pool *n;
    bool found;
    size_t i = pool_index(s, p->poolid, &found);

    if (found)
        return keel_error(s->ctx, KEEL_EEXIST, "CPU pool %u exists", p->poolid);
    n = realloc(s->pools, (s->n_pools + 1) * sizeof(*n));
    if (!n)
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    s->pools = n;
    memmove(&n[i + 1], &n[i], (s->n_pools - i) * sizeof(*n));
    n[i] = *p;
    s->n_pools++;
    return 0;
}

void
sim_sched_dom_default(enum keel_scheduler sched,
                      struct keel_hv_sched_dom *params)
{
    memset(params, 0, sizeof(*params));
    params->sched = sched;
    if (sched == KEEL_SCHED_CREDIT || sched == KEEL_SCHED_CREDIT2)
        params->weight = 256;
}

void
sim_sched_rtds_default(uint32_t vcpu, struct keel_hv_sched_rtds *rtds)
{
    rtds->vcpu = vcpu;
    rtds->period_us = 10000;
    rtds->budget_us = 4000;
    rtds->extratime = true;
}

void
sim_sched_pool_default(enum keel_scheduler sched,
                       struct keel_hv_sched_pool *params)
{
    memset(params, 0, sizeof(*params));
    params->sched = sched;
    if (sched == KEEL_SCHED_CREDIT) {
        params->tslice_ms = 30;
        params->ratelimit_us = 1000;
    } else if (sched == KEEL_SCHED_CREDIT2) {
        params->ratelimit_us = 1000;
    }
}

uint32_t
sim_pool_n_dom(struct sim *s, uint32_t poolid)
{
    struct sim_pool *p = sim_pool_find(s, poolid);

    return p ? p->n_dom : 0;
}

int
sim_pool0_init(struct sim *s)
{
    struct sim_pool p;

    memset(&p, 0, sizeof(p));
    p.poolid = 0;
    keel_cpumap_fill(&p.cpus, s->spec.cpus);
    sim_sched_pool_default(KEEL_SCHED_CREDIT2, &p.params);
    return sim_pool_insert(s, &p);
}

static void
fill_info(struct sim *s, const struct sim_pool *p,
          struct keel_hv_poolinfo *info)
{
    info->poolid = p->poolid;
    info->sched = p->params.sched;
    info->n_dom = sim_pool_n_dom(s, p->poolid);
    info->cpus = p->cpus;
}

/* As Xen: one above the highest id, or, when the highest is the last
 * id there is, the first gap. Pools are sorted and Pool-0 is first. */
static uint32_t
new_pool_id(struct sim *s)
{
    uint32_t id = 1;
    size_t i;

    if (s->pools[s->n_pools - 1].poolid < KEEL_POOLID_ANY - 1)
        return s->pools[s->n_pools - 1].poolid + 1;
    for (i = 1; i < s->n_pools && s->pools[i].poolid == id; i++)
        id++;
    return id;
}

int
sim_op_cpupool_create(struct keel_hv *hv, uint32_t *poolid_io,
                      enum keel_scheduler sched)
{
    struct sim_pool p;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc)
        return sim_end(s, rc);
    if (!keel_scheduler_name(sched))
        return sim_end(
            s, keel_error(s->ctx, KEEL_EINVAL, "unknown scheduler %d", sched));
    memset(&p, 0, sizeof(p));
    p.poolid = *poolid_io;
    if (p.poolid == KEEL_POOLID_ANY)
        p.poolid = new_pool_id(s);
    if (p.poolid == KEEL_POOLID_ANY)
        return sim_end(
            s, keel_error(s->ctx, KEEL_ENOSPC, "no CPU pool id is free"));
    sim_sched_pool_default(sched, &p.params);
    rc = sim_pool_insert(s, &p);
    if (rc == 0) {
        *poolid_io = p.poolid;
        sim_journal_pools(s);
    }
    return sim_end(s, rc);
}

int
sim_op_cpupool_destroy(struct keel_hv *hv, uint32_t poolid)
{
    struct sim_pool *p;
    struct sim *s;
    bool found;
    int rc = sim_begin(hv, &s);

    if (rc || !(p = sim_pool_get(s, poolid)))
        return sim_end(s, rc ? rc : KEEL_ENOPOOL);
    if (poolid == 0)
        return sim_end(
            s, keel_error(s->ctx, KEEL_EPERM, "Pool-0 cannot be destroyed"));
    if (sim_pool_n_dom(s, poolid) || !keel_cpumap_is_empty(&p->cpus))
        return sim_end(s, keel_error(s->ctx, KEEL_EBUSY,
                                     "CPU pool %u still has %u domains and "
                                     "%u CPUs",
                                     poolid, sim_pool_n_dom(s, poolid),
                                     keel_cpumap_count(&p->cpus)));
    pool_index(s, poolid, &found);
    memmove(p, p + 1, (size_t)(&s->pools[s->n_pools] - (p + 1)) * sizeof(*p));
    s->n_pools--;
    sim_journal_pools(s);
    return sim_end(s, 0);
}

int
sim_op_cpupool_info(struct keel_hv *hv, uint32_t poolid,
                    struct keel_hv_poolinfo *info)
{
    struct sim_pool *p;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(p = sim_pool_get(s, poolid)))
        return sim_end(s, rc ? rc : KEEL_ENOPOOL);
    fill_info(s, p, info);
    return sim_end(s, 0);
}

int
sim_op_cpupool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                    size_t max, size_t *n_r)
{
    struct sim *s;
    size_t i;
    int rc = sim_begin(hv, &s);

    if (rc)
        return sim_end(s, rc);
    for (i = 0; i < s->n_pools && i < max; i++)
        fill_info(s, &s->pools[i], &infos[i]);
    *n_r = i;
    return sim_end(s, 0);
}

static bool
cpu_is_free(struct sim *s, uint32_t cpu)
{
    size_t i;

    for (i = 0; i < s->n_pools; i++)
        if (keel_cpumap_test(&s->pools[i].cpus, cpu))
            return false;
    return true;
}

int
sim_op_cpupool_add_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu)
{
    struct sim_pool *p;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(p = sim_pool_get(s, poolid)))
        return sim_end(s, rc ? rc : KEEL_ENOPOOL);
    if (cpu >= s->spec.cpus)
        return sim_end(s, keel_error(s->ctx, KEEL_ERANGE,
                                     "CPU %u does not exist (the host has "
                                     "%u)",
                                     cpu, s->spec.cpus));
    if (!cpu_is_free(s, cpu))
        return sim_end(s, keel_error(s->ctx, KEEL_EBUSY,
                                     "CPU %u is in a pool already", cpu));
    keel_cpumap_set(&p->cpus, cpu);
    sim_journal_pools(s);
    return sim_end(s, 0);
}

/* vCPUs whose hard affinity no longer meets their pool get all CPUs back,
 * as Xen "breaks" affinity when a CPU leaves. */
static void
break_affinity(struct sim *s, const struct sim_pool *p)
{
    size_t i;
    uint32_t v;

    for (i = 0; i < s->n_doms; i++) {
        struct sim_domain *d = s->doms[i];

        if (d->poolid != p->poolid)
            continue;
        for (v = 0; v < d->max_vcpus; v++)
            if (!keel_cpumap_intersects(&d->vcpus[v].hard, &p->cpus)) {
                keel_warn(s->ctx, "breaking hard affinity of d%uv%u", d->domid,
                          v);
                keel_cpumap_fill(&d->vcpus[v].hard, s->spec.cpus);
                sim_domain_changed(s, d);
            }
    }
}

int
sim_op_cpupool_remove_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu)
{
    struct sim_pool *p;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(p = sim_pool_get(s, poolid)))
        return sim_end(s, rc ? rc : KEEL_ENOPOOL);
    if (!keel_cpumap_test(&p->cpus, cpu))
        return sim_end(s, keel_error(s->ctx, KEEL_EINVAL,
                                     "CPU %u is not in pool %u", cpu, poolid));
    if (keel_cpumap_count(&p->cpus) == 1 && sim_pool_n_dom(s, poolid))
        return sim_end(s, keel_error(s->ctx, KEEL_EBUSY,
                                     "CPU %u is the last of pool %u, which "
                                     "has domains",
                                     cpu, poolid));
    keel_cpumap_clear(&p->cpus, cpu);
    break_affinity(s, p);
    sim_journal_pools(s);
    return sim_end(s, 0);
}

int
sim_op_cpupool_move_domain(struct keel_hv *hv, uint32_t poolid, uint32_t domid)
{
    struct sim_domain *d;
    struct sim_pool *p;
    struct sim *s;
    uint32_t v;
    int rc = sim_begin(hv, &s);

    if (rc || !(p = sim_pool_get(s, poolid)))
        return sim_end(s, rc ? rc : KEEL_ENOPOOL);
    if (!(d = sim_domain_get(s, domid)))
        return sim_end(s, KEEL_ENODOMAIN);
    if (domid == 0 || d->dying)
        return sim_end(s, keel_error(s->ctx, KEEL_EPERM,
                                     "domain %u cannot change pools", domid));
    if (keel_cpumap_is_empty(&p->cpus))
        return sim_end(s, keel_error(s->ctx, KEEL_EBUSY,
                                     "CPU pool %u has no CPUs", poolid));
    if (d->poolid == poolid)
        return sim_end(s, 0);
    sim_domain_set_pool(s, d, poolid);
    sim_sched_dom_default(p->params.sched, &d->sched);
    for (v = 0; v < d->max_vcpus; v++) {
        sim_sched_rtds_default(v, &d->vcpus[v].rtds);
        keel_cpumap_fill(&d->vcpus[v].hard, s->spec.cpus);
        keel_cpumap_fill(&d->vcpus[v].soft, s->spec.cpus);
    }
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_cpupool_free_cpus(struct keel_hv *hv, struct keel_cpumap *map)
{
    struct sim *s;
    uint32_t cpu;
    int rc = sim_begin(hv, &s);

    if (rc)
        return sim_end(s, rc);
    keel_cpumap_zero(map);
    for (cpu = 0; cpu < s->spec.cpus; cpu++)
        if (cpu_is_free(s, cpu))
            keel_cpumap_set(map, cpu);
    return sim_end(s, 0);
}

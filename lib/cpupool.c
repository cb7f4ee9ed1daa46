/* cpupool.c: CPU pools: create, destroy, rename, CPUs in and out, moving
 * domains between pools, and numa-split
 *
 * Every call that moves CPUs plans first and acts after: it reads the
 * pools, the free CPUs and the hard affinity of every vCPU concerned,
 * refuses what cannot be done whole, and only then asks the backend. The
 * backend moves one CPU per call, so a failure half-way is undone (the
 * CPUs moved so far go back, narrowed affinities are restored) before the
 * error is returned. An undo step that fails itself is logged; the CPU it
 * concerns is then free, never nowhere, since the backend has no third
 * place for it.
 *
 * Pinned vCPUs (hard affinity not "all"): taking CPUs out of a pool first
 * narrows their affinities to the CPUs that stay, refusing when one would
 * be left with none, and only then moves the CPUs. So the hypervisor never
 * "breaks" an affinity (resets it to every CPU, as Xen does when a vCPU's
 * last CPU leaves its pool) behind the toolstack's back.
 *
 * Domain records name their pool (cfg.pool), so renaming a pool rewrites
 * the records of the domains inside, and moving a domain rewrites its own.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host-internal.h"

/* The weight credit and credit2 give a domain that moves in (Xen's). */
#define CREDIT_WEIGHT_DEFAULT 256

/* One pinned vCPU whose hard affinity loses CPUs. */
struct pin {
    uint32_t domid, vcpu;
    struct keel_cpumap old, narrow;
};

struct pins {
    struct pin *v;
    size_t n, cap;
};

static void
pool_path(char *buf, size_t size, uint32_t poolid)
{
    snprintf(buf, size, "/local/pool/%u", poolid);
}

/* --- reading pools and domains --- */

/* Every pool, in a new array. */
static int
pools_read(struct keel_host *host, struct keel_hv_poolinfo **pools_r,
           size_t *n_r)
{
    struct keel_hv_poolinfo *pools = NULL, *grown;
    size_t max = 16, n = 0;
    int rc = 0;

    do { /* the backend says how many fit, not how many there are */
        max *= 2;
        grown = realloc(pools, max * sizeof(*pools));
        if (!grown) {
            rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
            break;
        }
        pools = grown;
        rc = keel_hv_cpupool_list(host->hv, pools, max, &n);
    } while (rc == 0 && n == max);
    if (rc) {
        free(pools);
        pools = NULL;
        n = 0;
    }
    *pools_r = pools;
    *n_r = n;
    return rc;
}

/* The domains in poolid (Domain-0 and dying ones included), in a new
 * array. */
static int
pool_doms(struct keel_host *host, uint32_t poolid,
          struct keel_hv_dominfo **doms_r, size_t *n_r)
{
    struct keel_hv_dominfo batch[64], *doms = NULL, *grown;
    size_t n = 0, cap = 0, got, i;
    uint32_t first = 0;
    int rc;

    do {
        rc = keel_hv_domain_list(host->hv, first, batch, ARRAY_SIZE(batch),
                                 &got);
        for (i = 0; rc == 0 && i < got; i++) {
            first = batch[i].domid + 1;
            if (batch[i].poolid != poolid)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                grown = realloc(doms, cap * sizeof(*doms));
                if (!grown) {
                    rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
                    break;
                }
                doms = grown;
            }
            doms[n++] = batch[i];
        }
    } while (rc == 0 && got == ARRAY_SIZE(batch));
    if (rc) {
        free(doms);
        doms = NULL;
        n = 0;
    }
    *doms_r = doms;
    *n_r = n;
    return rc;
}

/* --- checks --- */

static int
check_map(struct keel_host *host, const struct keel_cpumap *cpus)
{
    int last;

    if (!cpus || keel_cpumap_is_empty(cpus))
        return keel_error(host->ctx, KEEL_EINVAL, "no CPU given");
    for (last = keel_cpumap_next(cpus, 0); last >= 0;
         last = keel_cpumap_next(cpus, (unsigned int)last + 1))
        if ((unsigned int)last >= host->nr_cpus)
            return keel_error(host->ctx, KEEL_EINVAL,
                              "CPU %d does not exist (the host has %u)", last,
                              host->nr_cpus);
    return 0;
}

/* KEEL_EEXIST when a pool other than except is called name. */
static int
check_name_free(struct keel_host *host, const char *name, uint32_t except)
{
    struct keel_hv_poolinfo *pools;
    char have[KEEL_NAME_MAX + 1];
    size_t n, i;
    int rc = pools_read(host, &pools, &n);

    for (i = 0; rc == 0 && i < n; i++) {
        if (pools[i].poolid == except)
            continue;
        keel__pool_name(host, pools[i].poolid, have);
        if (!strcmp(have, name))
            rc = keel_error(host->ctx, KEEL_EEXIST,
                            "a CPU pool called '%s' exists (id %u)", name,
                            pools[i].poolid);
    }
    free(pools);
    return rc;
}

/* KEEL_EBUSY naming the first CPU of cpus that is not free and its pool. */
static int
check_free(struct keel_host *host, const struct keel_cpumap *cpus)
{
    struct keel_hv_poolinfo *pools = NULL;
    struct keel_cpumap taken;
    char name[KEEL_NAME_MAX + 1];
    size_t n = 0, i;
    int cpu, rc = keel_hv_cpupool_free_cpus(host->hv, &taken);

    if (rc)
        return rc;
    keel_cpumap_andnot(&taken, cpus, &taken);
    cpu = keel_cpumap_next(&taken, 0);
    if (cpu < 0)
        return 0;
    rc = pools_read(host, &pools, &n);
    for (i = 0; rc == 0 && i < n; i++)
        if (keel_cpumap_test(&pools[i].cpus, (unsigned int)cpu))
            break;
    if (rc == 0 && i < n)
        keel__pool_name(host, pools[i].poolid, name);
    if (rc == 0)
        rc = keel_error(host->ctx, KEEL_EBUSY,
                        "CPU %d is not free: it is in CPU pool '%s'", cpu,
                        i < n ? name : "?");
    free(pools);
    return rc;
}

/* --- moving CPUs, all or none --- */

static int
cpu_move(struct keel_host *host, uint32_t poolid, uint32_t cpu, bool add)
{
    if (add)
        return keel_hv_cpupool_add_cpu(host->hv, poolid, cpu);
    return keel_hv_cpupool_remove_cpu(host->hv, poolid, cpu);
}

/* Puts back CPUs a failed move moved; best effort, after the error. */
static void
cpus_undo(struct keel_host *host, uint32_t poolid,
          const struct keel_cpumap *cpus, bool add)
{
    int cpu;

    for (cpu = keel_cpumap_next(cpus, 0); cpu >= 0;
         cpu = keel_cpumap_next(cpus, (unsigned int)cpu + 1))
        if (cpu_move(host, poolid, (uint32_t)cpu, add))
            keel_warn(host->ctx, "undoing: CPU %d could not be %s CPU pool %u",
                      cpu, add ? "given back to" : "taken back from", poolid);
}

/* Adds (or removes) every CPU of cpus to (from) poolid; on a failure the
 * ones already moved go back. */
static int
cpus_move(struct keel_host *host, uint32_t poolid,
          const struct keel_cpumap *cpus, bool add)
{
    struct keel_cpumap done;
    int cpu, rc = 0;

    keel_cpumap_zero(&done);
    for (cpu = keel_cpumap_next(cpus, 0); cpu >= 0 && rc == 0;
         cpu = keel_cpumap_next(cpus, (unsigned int)cpu + 1)) {
        rc = cpu_move(host, poolid, (uint32_t)cpu, add);
        if (rc == 0)
            keel_cpumap_set(&done, (unsigned int)cpu);
    }
    if (rc)
        cpus_undo(host, poolid, &done, !add);
    return rc;
}

/* --- pinned vCPUs --- */

static int
pins_push(struct keel_host *host, struct pins *p, uint32_t domid, uint32_t vcpu,
          const struct keel_cpumap *old, const struct keel_cpumap *narrow)
{
    struct pin *grown;

    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        grown = realloc(p->v, p->cap * sizeof(*grown));
        if (!grown)
            return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
        p->v = grown;
    }
    p->v[p->n++] = (struct pin){domid, vcpu, *old, *narrow};
    return 0;
}

/* The vCPUs of one domain whose pinning loses CPUs when only stay is left
 * of its pool; KEEL_EBUSY when one would keep none. */
static int
pins_plan_dom(struct keel_host *host, const struct keel_hv_dominfo *info,
              const char *pool, const struct keel_cpumap *stay, struct pins *p)
{
    struct keel_cpumap all, narrow;
    struct keel_hv_vcpuinfo vi;
    char buf[256];
    uint32_t v;
    int rc = 0;

    keel_cpumap_fill(&all, host->nr_cpus);
    for (v = 0; rc == 0 && v < info->max_vcpus; v++) {
        rc = keel_hv_vcpu_info(host->hv, info->domid, v, &vi);
        if (rc || keel_cpumap_subset(&all, &vi.hard))
            continue; /* "all" stays "all" */
        keel_cpumap_and(&narrow, &vi.hard, stay);
        if (keel_cpumap_is_empty(&narrow)) {
            keel_cpumap_format(&vi.hard, buf, sizeof(buf));
            rc = keel_error(host->ctx, KEEL_EBUSY,
                            "d%uv%u is pinned to CPUs %s, none of which "
                            "would stay in CPU pool '%s'",
                            info->domid, v, buf, pool);
        } else if (!keel_cpumap_equal(&narrow, &vi.hard)) {
            rc = pins_push(host, p, info->domid, v, &vi.hard, &narrow);
        }
    }
    return rc;
}

/* Every pinned vCPU of poolid that loses CPUs when only stay is left. */
static int
pins_plan(struct keel_host *host, uint32_t poolid, const char *pool,
          const struct keel_cpumap *stay, struct pins *p)
{
    struct keel_hv_dominfo *doms;
    size_t n, i;
    int rc = pool_doms(host, poolid, &doms, &n);

    for (i = 0; rc == 0 && i < n; i++)
        if (!(doms[i].flags & KEEL_DOMF_DYING)) /* going anyway */
            rc = pins_plan_dom(host, &doms[i], pool, stay, p);
    free(doms);
    return rc;
}

static void
pins_undo(struct keel_host *host, const struct pins *p, size_t upto)
{
    size_t i;

    for (i = 0; i < upto; i++)
        if (keel_hv_vcpu_set_affinity(host->hv, p->v[i].domid, p->v[i].vcpu,
                                      &p->v[i].old, NULL))
            keel_warn(host->ctx, "undoing: d%uv%u stays narrowed",
                      p->v[i].domid, p->v[i].vcpu);
}

static int
pins_apply(struct keel_host *host, const struct pins *p)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < p->n && rc == 0; i++)
        rc = keel_hv_vcpu_set_affinity(host->hv, p->v[i].domid, p->v[i].vcpu,
                                       &p->v[i].narrow, NULL);
    if (rc)
        pins_undo(host, p, i - 1);
    return rc;
}

/* Rewrites the cpus= of the records whose vCPUs were narrowed (pins are
 * grouped by domain); Domain-0 has no record. */
static int
pins_sync(struct keel_host *host, const struct pins *p)
{
    struct keel__dom *d;
    size_t i;
    int rc = 0, rc2;

    for (i = 0; i < p->n; i++) {
        if (i > 0 && p->v[i].domid == p->v[i - 1].domid)
            continue;
        d = keel__dom_find(host, p->v[i].domid);
        rc2 = d ? keel__dom_sync_affinity(host, d) : 0;
        rc = rc ? rc : rc2;
    }
    return rc;
}

/* --- records --- */

static void
affinity_clear(struct keel_affinity_config *aff)
{
    unsigned int i;

    for (i = 0; aff->specs && i < aff->count; i++)
        free(aff->specs[i]);
    free(aff->specs);
    memset(aff, 0, sizeof(*aff));
}

/* Points d's record at pool name and saves it. */
static int
record_pool(struct keel_host *host, struct keel__dom *d, const char *name)
{
    char *dup = keel__strdup(host->ctx, name);

    if (!dup)
        return KEEL_ENOMEM;
    free(d->cfg.pool);
    d->cfg.pool = dup;
    return keel__dom_save(host, d);
}

int
keel__dom_set_pool(struct keel_host *host, struct keel__dom *d, uint32_t poolid)
{
    struct keel_hv_poolinfo pool;
    char name[KEEL_NAME_MAX + 1];
    bool credit;
    int rc = keel_hv_cpupool_info(host->hv, poolid, &pool);

    if (rc)
        return rc;
    keel__pool_name(host, poolid, name);
    /* What the move did to the domain (as Xen's sched_move_domain):
     * affinity "all", the new scheduler's defaults. Unset is the
     * default, and what a restart into an rtds or null pool accepts. */
    affinity_clear(&d->cfg.cpus);
    affinity_clear(&d->cfg.cpus_soft);
    credit =
        pool.sched == KEEL_SCHED_CREDIT || pool.sched == KEEL_SCHED_CREDIT2;
    d->cfg.cpu_weight = credit ? CREDIT_WEIGHT_DEFAULT : KEEL_UNSET;
    d->cfg.cap = credit ? 0 : KEEL_UNSET;
    d->cfg.rtds_period = KEEL_UNSET;
    d->cfg.rtds_budget = KEEL_UNSET;
    return record_pool(host, d, name);
}

/* The records of poolid's domains say to instead of from; on a failure
 * the ones changed say from again. */
static int
records_rename(struct keel_host *host, uint32_t poolid, const char *from,
               const char *to)
{
    struct keel_hv_dominfo *doms;
    struct keel__dom *d;
    size_t n, i, j;
    int rc = pool_doms(host, poolid, &doms, &n);

    for (i = 0; rc == 0 && i < n; i++)
        if ((d = keel__dom_find(host, doms[i].domid)))
            rc = record_pool(host, d, to);
    for (j = 0; rc && j < i; j++) /* the failed one changed too */
        if ((d = keel__dom_find(host, doms[j].domid)) &&
            record_pool(host, d, from))
            keel_warn(host->ctx, "undoing: d%u's record names pool '%s'",
                      d->domid, to);
    free(doms);
    return rc;
}

/* --- create, destroy, rename --- */

/* Destroys a new pool, emptied, and its name; best effort, after an
 * error. */
static void
pool_unmake(struct keel_host *host, uint32_t poolid)
{
    char path[64];

    pool_path(path, sizeof(path), poolid);
    if (keel_hv_store_remove(host->hv, path))
        keel_warn(host->ctx, "undoing: %s stays in the store", path);
    if (keel_hv_cpupool_destroy(host->hv, poolid))
        keel_warn(host->ctx, "undoing: CPU pool %u stays, with no CPU", poolid);
}

/* Makes a pool called name holding cpus (checked free), or nothing: on a
 * failure the CPUs are freed, the name removed and the pool destroyed. */
static int
create_locked(struct keel_host *host, const char *name,
              enum keel_scheduler sched, const struct keel_cpumap *cpus,
              uint32_t *poolid_r)
{
    uint32_t poolid = KEEL_POOLID_ANY;
    char path[64];
    int rc = keel_hv_cpupool_create(host->hv, &poolid, sched);

    if (rc)
        return rc;
    rc = cpus_move(host, poolid, cpus, true);
    if (rc == 0) {
        snprintf(path, sizeof(path), "/local/pool/%u/name", poolid);
        rc = keel_hv_store_write_str(host->hv, path, name);
        if (rc)
            cpus_undo(host, poolid, cpus, false);
    }
    if (rc) {
        pool_unmake(host, poolid);
        return rc;
    }
    *poolid_r = poolid;
    return 0;
}

/* A scheduler a pool can run; UNKNOWN becomes Pool-0's. */
static int
check_sched(struct keel_host *host, enum keel_scheduler *sched)
{
    struct keel_hv_poolinfo pool0;
    int rc = 0;

    if (*sched == KEEL_SCHED_UNKNOWN) {
        rc = keel_hv_cpupool_info(host->hv, 0, &pool0);
        if (rc == 0)
            *sched = pool0.sched;
    } else if (!keel_scheduler_name(*sched)) {
        rc = keel_error(host->ctx, KEEL_EINVAL, "unknown scheduler %d",
                        (int)*sched);
    }
    return rc;
}

/* The lowest free CPU, as xl picks when no CPU is named. */
static int
lowest_free(struct keel_host *host, struct keel_cpumap *want)
{
    struct keel_cpumap free_cpus;
    int cpu, rc = keel_hv_cpupool_free_cpus(host->hv, &free_cpus);

    if (rc)
        return rc;
    cpu = keel_cpumap_next(&free_cpus, 0);
    if (cpu < 0)
        return keel_error(host->ctx, KEEL_EBUSY,
                          "no CPU is free: take one out of a pool first");
    keel_cpumap_zero(want);
    keel_cpumap_set(want, (unsigned int)cpu);
    return 0;
}

/* What create is asked, checked: the scheduler filled in and the CPUs
 * chosen into *want. */
static int
create_check(struct keel_host *host, const char *name,
             enum keel_scheduler *sched, const struct keel_cpumap *cpus,
             struct keel_cpumap *want)
{
    int rc = keel__name_check(host->ctx, "CPU pool", name);

    if (rc == 0)
        rc = check_name_free(host, name, KEEL_POOLID_ANY);
    if (rc == 0)
        rc = check_sched(host, sched);
    if (rc || !cpus)
        return rc ? rc : lowest_free(host, want);
    *want = *cpus;
    rc = check_map(host, cpus);
    return rc ? rc : check_free(host, cpus);
}

KEEL_EXPORT int
keel_cpupool_create(struct keel_host *host, const char *name,
                    enum keel_scheduler sched, const struct keel_cpumap *cpus,
                    unsigned int flags, uint32_t *poolid_r)
{
    struct keel_cpumap want;
    uint32_t poolid = KEEL_POOLID_ANY;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    keel_cpumap_zero(&want);
    if (flags)
        rc = keel_error(host->ctx, KEEL_EINVAL, "unknown flags %#x", flags);
    else
        rc = create_check(host, name, &sched, cpus, &want);
    if (rc == 0)
        rc = create_locked(host, name, sched, &want, &poolid);
    if (rc == 0 && poolid_r)
        *poolid_r = poolid;
    return keel__host_end(host, rc);
}

/* Frees an empty pool's CPUs and destroys it; on a failure the CPUs go
 * back. */
static int
destroy_locked(struct keel_host *host, const struct keel_hv_poolinfo *pool)
{
    char path[64];
    bool had;
    int rc = cpus_move(host, pool->poolid, &pool->cpus, false);

    if (rc)
        return rc;
    rc = keel_hv_cpupool_destroy(host->hv, pool->poolid);
    if (rc) {
        cpus_undo(host, pool->poolid, &pool->cpus, true);
        return rc;
    }
    /* The pool is gone, so the call succeeded: a stale name left in the
     * store is only logged. */
    pool_path(path, sizeof(path), pool->poolid);
    had = keel__error_isset(host->ctx);
    if (keel_hv_store_remove(host->hv, path)) {
        keel_warn(host->ctx, "%s stays in the store: %s", path,
                  keel_ctx_last_error(host->ctx));
        keel__error_unrecord(host->ctx, had);
    }
    return 0;
}

KEEL_EXPORT int
keel_cpupool_destroy(struct keel_host *host, uint32_t poolid)
{
    struct keel_hv_poolinfo pool;
    char name[KEEL_NAME_MAX + 1];
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (poolid == 0) {
        rc = keel_error(host->ctx, KEEL_EPERM,
                        "Pool-0 (id 0) is never destroyed");
        goto out;
    }
    rc = keel_hv_cpupool_info(host->hv, poolid, &pool);
    if (rc)
        goto out;
    keel__pool_name(host, poolid, name);
    if (pool.n_dom)
        rc = keel_error(host->ctx, KEEL_EBUSY,
                        "CPU pool '%s' holds %u domains: move or destroy "
                        "them first",
                        name, pool.n_dom);
    else
        rc = destroy_locked(host, &pool);
out:
    return keel__host_end(host, rc);
}

/* Names poolid (checked), with the records of the domains inside. */
static int
rename_locked(struct keel_host *host, uint32_t poolid, const char *name)
{
    char old[KEEL_NAME_MAX + 1], path[64];
    int rc;

    keel__pool_name(host, poolid, old);
    if (!strcmp(old, name))
        return 0;
    snprintf(path, sizeof(path), "/local/pool/%u/name", poolid);
    rc = keel_hv_store_write_str(host->hv, path, name);
    if (rc)
        return rc;
    rc = records_rename(host, poolid, old, name);
    if (rc && keel_hv_store_write_str(host->hv, path, old))
        keel_warn(host->ctx, "undoing: CPU pool %u keeps the name '%s'", poolid,
                  name);
    return rc;
}

KEEL_EXPORT int
keel_cpupool_rename(struct keel_host *host, uint32_t poolid, const char *name)
{
    struct keel_hv_poolinfo pool;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__name_check(host->ctx, "CPU pool", name);
    if (rc == 0)
        rc = keel_hv_cpupool_info(host->hv, poolid, &pool);
    if (rc == 0)
        rc = check_name_free(host, name, poolid);
    if (rc == 0)
        rc = rename_locked(host, poolid, name);
    return keel__host_end(host, rc);
}

/* --- CPUs in and out --- */

KEEL_EXPORT int
keel_cpupool_cpu_add(struct keel_host *host, uint32_t poolid,
                     const struct keel_cpumap *cpus)
{
    struct keel_hv_poolinfo pool;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = check_map(host, cpus);
    if (rc == 0)
        rc = keel_hv_cpupool_info(host->hv, poolid, &pool);
    if (rc == 0)
        rc = check_free(host, cpus);
    if (rc == 0)
        rc = cpus_move(host, poolid, cpus, true);
    return keel__host_end(host, rc);
}

/* Takes cpus (all in pool) out of it: narrows pinned vCPUs to what
 * stays, then frees the CPUs; undoes the narrowing if that fails. */
static int
remove_locked(struct keel_host *host, const struct keel_hv_poolinfo *pool,
              const char *name, const struct keel_cpumap *cpus)
{
    struct keel_cpumap stay;
    struct pins p = {NULL, 0, 0};
    int rc;

    keel_cpumap_andnot(&stay, &pool->cpus, cpus);
    if (keel_cpumap_is_empty(&stay) && pool->n_dom)
        return keel_error(host->ctx, KEEL_EBUSY,
                          "CPU pool '%s' would have no CPU left for its %u "
                          "domains",
                          name, pool->n_dom);
    rc = pins_plan(host, pool->poolid, name, &stay, &p);
    if (rc == 0)
        rc = pins_apply(host, &p);
    if (rc == 0) {
        rc = cpus_move(host, pool->poolid, cpus, false);
        if (rc)
            pins_undo(host, &p, p.n);
    }
    if (rc == 0)
        rc = pins_sync(host, &p);
    free(p.v);
    return rc;
}

KEEL_EXPORT int
keel_cpupool_cpu_remove(struct keel_host *host, uint32_t poolid,
                        const struct keel_cpumap *cpus)
{
    struct keel_hv_poolinfo pool;
    struct keel_cpumap out;
    char name[KEEL_NAME_MAX + 1];
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = check_map(host, cpus);
    if (rc == 0)
        rc = keel_hv_cpupool_info(host->hv, poolid, &pool);
    if (rc)
        goto out;
    keel__pool_name(host, poolid, name);
    keel_cpumap_andnot(&out, cpus, &pool.cpus);
    if (!keel_cpumap_is_empty(&out))
        rc =
            keel_error(host->ctx, KEEL_EINVAL, "CPU %d is not in CPU pool '%s'",
                       keel_cpumap_next(&out, 0), name);
    else
        rc = remove_locked(host, &pool, name, cpus);
out:
    return keel__host_end(host, rc);
}

/* --- domains --- */

KEEL_EXPORT int
keel_cpupool_move_domain(struct keel_host *host, uint32_t domid,
                         uint32_t poolid)
{
    struct keel_hv_poolinfo pool;
    struct keel_hv_dominfo info;
    struct keel__dom *d;
    char name[KEEL_NAME_MAX + 1];
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__dom_check(host, domid, "cpupool-migrate", KEEL__ST_LIVE, false,
                         &d, &info);
    if (rc == 0)
        rc = keel_hv_cpupool_info(host->hv, poolid, &pool);
    if (rc || info.poolid == poolid)
        goto out;
    keel__pool_name(host, poolid, name);
    if (keel_cpumap_is_empty(&pool.cpus))
        rc = keel_error(host->ctx, KEEL_EBUSY, "CPU pool '%s' has no CPUs",
                        name);
    if (rc == 0)
        rc = keel_hv_cpupool_move_domain(host->hv, poolid, domid);
    if (rc == 0)
        rc = keel__dom_set_pool(host, d, poolid);
out:
    return keel__host_end(host, rc);
}

/* --- numa-split --- */

/* The node of cpu; 0 for none (-1). */
static uint32_t
node_of(struct keel_host *host, int cpu)
{
    uint32_t node;

    for (node = 0; cpu >= 0 && node < host->nr_nodes; node++)
        if (keel_cpumap_test(&host->node_cpus[node], (unsigned int)cpu))
            return node;
    return 0;
}

/* The CPUs of node that split takes from Pool-0 (empty for keep). */
static void
node_share(struct keel_host *host, const struct keel_hv_poolinfo *pool0,
           uint32_t keep, uint32_t node, struct keel_cpumap *cpus)
{
    keel_cpumap_zero(cpus);
    if (node != keep)
        keel_cpumap_and(cpus, &host->node_cpus[node], &pool0->cpus);
}

/* Only Pool-0, holding every CPU; no "Pool-node<N>" name taken. */
static int
split_check(struct keel_host *host, const struct keel_hv_poolinfo *pools,
            size_t n, uint32_t keep)
{
    struct keel_cpumap cpus;
    char name[KEEL_NAME_MAX + 1];
    uint32_t node;
    int rc = 0;

    if (n > 1) {
        keel__pool_name(host, pools[1].poolid, name);
        return keel_error(host->ctx, KEEL_EBUSY,
                          "numa-split: CPU pool '%s' exists besides Pool-0",
                          name);
    }
    if (keel_cpumap_count(&pools[0].cpus) != host->nr_cpus)
        return keel_error(host->ctx, KEEL_EBUSY,
                          "numa-split: Pool-0 holds %u of the host's %u "
                          "CPUs",
                          keel_cpumap_count(&pools[0].cpus), host->nr_cpus);
    for (node = 0; rc == 0 && node < host->nr_nodes; node++) {
        node_share(host, &pools[0], keep, node, &cpus);
        snprintf(name, sizeof(name), "Pool-node%u", node);
        if (!keel_cpumap_is_empty(&cpus))
            rc = check_name_free(host, name, KEEL_POOLID_ANY);
    }
    return rc;
}

/* Takes the pools made so far back into Pool-0. */
static void
split_undo(struct keel_host *host, const uint32_t *made, size_t n_made)
{
    struct keel_hv_poolinfo pool;
    size_t i;

    for (i = 0; i < n_made; i++) {
        if (keel_hv_cpupool_info(host->hv, made[i], &pool) ||
            destroy_locked(host, &pool))
            keel_warn(host->ctx, "undoing: CPU pool %u stays", made[i]);
        else
            cpus_undo(host, 0, &pool.cpus, true);
    }
}

/* Moves each node's CPUs but keep's out of Pool-0 into a new pool. */
static int
split_locked(struct keel_host *host, const struct keel_hv_poolinfo *pool0,
             uint32_t keep)
{
    uint32_t made[KEEL_HOST_MAX_NODES], node;
    struct keel_cpumap cpus;
    char name[KEEL_NAME_MAX + 1];
    size_t n_made = 0;
    int rc = 0;

    for (node = 0; rc == 0 && node < host->nr_nodes; node++) {
        node_share(host, pool0, keep, node, &cpus);
        if (keel_cpumap_is_empty(&cpus))
            continue;
        snprintf(name, sizeof(name), "Pool-node%u", node);
        rc = cpus_move(host, 0, &cpus, false);
        if (rc)
            break;
        rc = create_locked(host, name, pool0->sched, &cpus, &made[n_made]);
        if (rc)
            cpus_undo(host, 0, &cpus, true);
        else
            n_made++;
    }
    snprintf(name, sizeof(name), "Pool-node%u", keep);
    if (rc == 0)
        rc = rename_locked(host, 0, name);
    if (rc)
        split_undo(host, made, n_made);
    return rc;
}

KEEL_EXPORT int
keel_cpupool_numa_split(struct keel_host *host)
{
    struct keel_hv_poolinfo *pools = NULL;
    struct keel_cpumap stay;
    struct pins p = {NULL, 0, 0};
    char name[KEEL_NAME_MAX + 1];
    uint32_t keep = 0;
    size_t n;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = pools_read(host, &pools, &n);
    if (rc == 0 && n == 0)
        rc = keel_error(host->ctx, KEEL_ENOPOOL, "the host has no Pool-0");
    if (rc)
        goto out;
    keep = node_of(host, keel_cpumap_next(&pools[0].cpus, 0));
    keel_cpumap_and(&stay, &host->node_cpus[keep], &pools[0].cpus);
    keel__pool_name(host, 0, name);
    rc = split_check(host, pools, n, keep);
    if (rc == 0 && (rc = pins_plan(host, 0, name, &stay, &p)))
        keel__error_prefix(host->ctx, "numa-split: ");
    if (rc == 0)
        rc = pins_apply(host, &p);
    if (rc == 0 && (rc = split_locked(host, &pools[0], keep)))
        pins_undo(host, &p, p.n);
    if (rc == 0)
        rc = pins_sync(host, &p);
out:
    free(p.v);
    free(pools);
    return keel__host_end(host, rc);
}

/* --- queries --- */

static void
info_fill(struct keel_host *host, const struct keel_hv_poolinfo *pool,
          struct keel_cpupool_info *info)
{
    memset(info, 0, sizeof(*info));
    info->poolid = pool->poolid;
    keel__pool_name(host, pool->poolid, info->name);
    info->sched = pool->sched;
    info->n_dom = pool->n_dom;
    info->cpus = pool->cpus;
}

KEEL_EXPORT int
keel_cpupool_lookup(struct keel_host *host, const char *name_or_id,
                    uint32_t *poolid_r)
{
    struct keel_hv_poolinfo pool;
    uint64_t id;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!name_or_id || !poolid_r)
        rc = keel_error(host->ctx, KEEL_EINVAL,
                        "name_or_id or poolid_r is "
                        "NULL");
    else if (!keel__parse_u64(name_or_id, &id)) /* names are never digits */
        rc = keel__pool_by_name(host, name_or_id, poolid_r);
    else if (id >= KEEL_POOLID_ANY)
        rc = keel_error(host->ctx, KEEL_ENOPOOL, "no CPU pool with id %s",
                        name_or_id);
    else if ((rc = keel_hv_cpupool_info(host->hv, (uint32_t)id, &pool)) == 0)
        *poolid_r = (uint32_t)id;
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_cpupool_info(struct keel_host *host, uint32_t poolid,
                  struct keel_cpupool_info *info)
{
    struct keel_hv_poolinfo pool;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!info)
        rc = keel_error(host->ctx, KEEL_EINVAL, "info is NULL");
    else
        rc = keel_hv_cpupool_info(host->hv, poolid, &pool);
    if (rc == 0)
        info_fill(host, &pool, info);
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_cpupool_list(struct keel_host *host, struct keel_cpupool_info **infos_r,
                  size_t *n_r)
{
    struct keel_hv_poolinfo *pools = NULL;
    struct keel_cpupool_info *infos = NULL;
    size_t n = 0, i;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!infos_r || !n_r) {
        rc = keel_error(host->ctx, KEEL_EINVAL, "infos_r or n_r is NULL");
        goto out;
    }
    rc = pools_read(host, &pools, &n);
    if (rc == 0 && !(infos = calloc(n ? n : 1, sizeof(*infos))))
        rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; rc == 0 && i < n; i++)
        info_fill(host, &pools[i], &infos[i]);
    *infos_r = rc ? NULL : infos;
    *n_r = rc ? 0 : n;
    if (rc)
        free(infos);
out:
    free(pools);
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_cpupool_free_cpus(struct keel_host *host, struct keel_cpumap *map)
{
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (!map)
        rc = keel_error(host->ctx, KEEL_EINVAL, "map is NULL");
    else
        rc = keel_hv_cpupool_free_cpus(host->hv, map);
    return keel__host_end(host, rc);
}

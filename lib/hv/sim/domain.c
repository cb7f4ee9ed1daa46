/* domain.c: simulated domains and their vCPUs
 *
 * Domains follow Xen's rules: domids come from a rotating counter and are
 * not reused at once; a new domain starts paused once (the toolstack
 * unpauses it when it is built); destroy makes it dying, releases its
 * memory, and it disappears at the next step of simulated time. Domain-0
 * exists from the start and cannot be destroyed, paused or shut down
 * through these calls.
 *
 * Domains are kept twice: s->doms sorted by domid, for listing, and
 * s->by_domid indexed by domid, for finding one in O(1). Insert and remove
 * keep the host's and the pools' memory and domain counts, so nothing
 * needs to add them up over every domain.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct sim_domain *
sim_domain_alloc(uint32_t max_vcpus)
{
    struct sim_domain *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->vcpus = calloc(max_vcpus, sizeof(*d->vcpus));
    if (!d->vcpus) {
        free(d);
        return NULL;
    }
    d->max_vcpus = max_vcpus;
    d->pending_action = -1;
    d->due_idx = d->dirtier_idx = SIM_NOWHERE;
    return d;
}

void
sim_domain_free(struct sim_domain *d)
{
    if (!d)
        return;
    sim_mem_close(&d->mem);
    sim_blobs_free(d);
    free(d->vcpus);
    free(d);
}

static size_t
dom_index(struct sim *s, uint32_t domid, bool *found_r)
{
    size_t lo = 0, hi = s->n_doms;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (s->doms[mid]->domid < domid)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found_r = lo < s->n_doms && s->doms[lo]->domid == domid;
    return lo;
}

struct sim_domain *
sim_domain_find(const struct sim *s, uint32_t domid)
{
    if (!s->by_domid || domid >= KEEL_DOMID_FIRST_RESERVED)
        return NULL;
    return s->by_domid[domid];
}

struct sim_domain *
sim_domain_get(struct sim *s, uint32_t domid)
{
    struct sim_domain *d = sim_domain_find(s, domid);

    if (!d)
        keel_error(s->ctx, KEEL_ENODOMAIN, "no domain with id %u", domid);
    return d;
}

/* Grows *arr (of elem-sized entries) to at least need entries, doubling. */
static bool
reserve(void *arr, size_t *cap, size_t need, size_t elem)
{
    void **p = arr;
    size_t n = *cap ? *cap : 16;
    void *grown;

    if (need <= *cap)
        return true;
    while (n < need)
        n *= 2;
    grown = realloc(*p, n * elem);
    if (!grown)
        return false;
    *p = grown;
    *cap = n;
    return true;
}

/* Adds (sign 1) or takes away (sign -1) d's share of the totals. */
static void
account(struct sim *s, const struct sim_domain *d, int sign)
{
    struct sim_pool *p = sim_pool_find(s, d->poolid);

    if (sign > 0)
        s->used_kb += d->tot_kb;
    else
        s->used_kb -= d->tot_kb;
    if (!p)
        return;
    if (sign > 0) {
        p->n_dom++;
        p->used_kb += d->tot_kb;
    } else {
        p->n_dom--;
        p->used_kb -= d->tot_kb;
    }
}

/* The timeline and the dirtier list get room for every domain here, so
 * that putting a domain on them cannot fail later. */
int
sim_domain_insert(struct sim *s, struct sim_domain *d)
{
    size_t need = s->n_doms + 1, i;
    bool found;

    if (d->domid >= KEEL_DOMID_FIRST_RESERVED)
        return keel_error(s->ctx, KEEL_EINVAL, "domid %u is reserved",
                          d->domid);
    if (sim_domain_find(s, d->domid))
        return keel_error(s->ctx, KEEL_EEXIST, "domain %u exists", d->domid);
    if (!s->by_domid)
        s->by_domid = calloc(KEEL_DOMID_FIRST_RESERVED, sizeof(*s->by_domid));
    if (!s->by_domid ||
        !reserve(&s->doms, &s->cap_doms, need, sizeof(*s->doms)) ||
        !reserve(&s->due, &s->cap_due, need, sizeof(*s->due)) ||
        !reserve(&s->dirtiers, &s->cap_dirtiers, need, sizeof(*s->dirtiers)))
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    i = dom_index(s, d->domid, &found);
    memmove(&s->doms[i + 1], &s->doms[i], (s->n_doms - i) * sizeof(*s->doms));
    s->doms[i] = d;
    s->n_doms++;
    s->by_domid[d->domid] = d;
    account(s, d, 1);
    return 0;
}

void
sim_domain_remove(struct sim *s, struct sim_domain *d)
{
    bool found;
    size_t i;

    if (sim_domain_find(s, d->domid) != d)
        return;
    i = dom_index(s, d->domid, &found);
    memmove(&s->doms[i], &s->doms[i + 1],
            (s->n_doms - i - 1) * sizeof(*s->doms));
    s->n_doms--;
    s->by_domid[d->domid] = NULL;
    account(s, d, -1);
    sim_timeline_remove(s, d);
}

void
sim_domain_set_tot_kb(struct sim *s, struct sim_domain *d, uint64_t kb)
{
    bool listed = sim_domain_find(s, d->domid) == d;

    if (listed)
        account(s, d, -1);
    d->tot_kb = kb;
    if (listed)
        account(s, d, 1);
}

void
sim_domain_set_pool(struct sim *s, struct sim_domain *d, uint32_t poolid)
{
    bool listed = sim_domain_find(s, d->domid) == d;

    if (listed)
        account(s, d, -1);
    d->poolid = poolid;
    if (listed)
        account(s, d, 1);
}

/* After anything state.json holds about d changed: the journal carries
 * it, and its place on the timeline follows its new state. */
void
sim_domain_changed(struct sim *s, struct sim_domain *d)
{
    sim_journal_domain(s, d);
    sim_timeline_update(s, d);
}

static int
domain_ready(struct sim *s, struct sim_domain *d)
{
    struct sim_pool *p = sim_pool_find(s, d->poolid);
    int rc = 0;

    if (!p)
        return keel_error(s->ctx, KEEL_ECORRUPT,
                          "%s: domain %u is in CPU pool %u, which does not "
                          "exist",
                          s->dir, d->domid, d->poolid);
    p->n_dom++;
    p->used_kb += d->tot_kb;
    s->used_kb += d->tot_kb;
    if (d->domid != 0 && !d->dying) {
        rc = sim_mem_open(s, d, false);
        if (rc == 0)
            rc = sim_blobs_load(s, d);
    }
    if (rc == 0)
        sim_timeline_update(s, d);
    return rc;
}

int
sim_domains_ready(struct sim *s)
{
    size_t i;
    int rc = 0;

    s->used_kb = 0;
    for (i = 0; i < s->n_pools; i++) {
        s->pools[i].n_dom = 0;
        s->pools[i].used_kb = 0;
    }
    for (i = 0; rc == 0 && i < s->n_doms; i++)
        rc = domain_ready(s, s->doms[i]);
    return rc;
}

uint64_t
sim_free_kb(struct sim *s)
{
    return s->used_kb >= s->spec.memory_kb ? 0 : s->spec.memory_kb - s->used_kb;
}

bool
sim_domain_runnable(const struct sim_domain *d)
{
    return !d->pause_count && !d->shutdown && !d->dying;
}

static uint32_t
online_count(const struct sim_domain *d)
{
    uint32_t i, n = 0;

    for (i = 0; i < d->max_vcpus; i++)
        n += d->vcpus[i].online;
    return n;
}

void
sim_domain_fill_info(struct sim *s, const struct sim_domain *d,
                     struct keel_hv_dominfo *info)
{
    uint32_t i;

    memset(info, 0, sizeof(*info));
    info->domid = d->domid;
    memcpy(info->uuid, d->uuid, 16);
    info->type = d->type;
    if (d->dying)
        info->flags |= KEEL_DOMF_DYING;
    if (d->shutdown) {
        info->flags |= KEEL_DOMF_SHUTDOWN;
        info->shutdown_reason = d->shutdown_reason;
    }
    if (d->pause_count)
        info->flags |= KEEL_DOMF_PAUSED;
    if (sim_domain_runnable(d))
        info->flags |= d->guest.busy ? KEEL_DOMF_RUNNING : KEEL_DOMF_BLOCKED;
    if (d->logdirty)
        info->flags |= KEEL_DOMF_LOGDIRTY;
    info->pause_count = d->pause_count;
    info->tot_kb = d->tot_kb;
    info->max_kb = d->max_kb;
    info->max_vcpus = d->max_vcpus;
    info->online_vcpus = online_count(d);
    for (i = 0; i < d->max_vcpus; i++)
        info->cpu_time_ns += sim_vcpu_time(s, d, i);
    info->poolid = d->poolid;
}

/* The guest (or the hypervisor on its behalf) has shut down; the caller
 * has settled d. */
void
sim_domain_set_shutdown(struct sim *s, struct sim_domain *d, uint32_t reason)
{
    d->shutdown = true;
    d->shutdown_reason = reason;
    d->pending_action = -1;
    sim_domain_changed(s, d);
    sim_event_queue_domain(s, d->domid);
    sim_watch_fire(s, "@releaseDomain", false);
}

/* A dying domain goes once simulated time has moved past its death; the
 * timeline calls this then. */
void
sim_domain_reap(struct sim *s, struct sim_domain *d)
{
    uint32_t domid = d->domid;

    sim_domain_remove(s, d);
    sim_domain_free(d);
    sim_journal_gone(s, domid);
    sim_event_queue_domain(s, domid);
    sim_watch_fire(s, "@releaseDomain", false);
}

static void
vcpus_init(struct sim *s, struct sim_domain *d, uint32_t online)
{
    uint32_t i;

    for (i = 0; i < d->max_vcpus; i++) {
        struct sim_vcpu *v = &d->vcpus[i];

        v->online = i < online;
        keel_cpumap_fill(&v->hard, s->spec.cpus);
        keel_cpumap_fill(&v->soft, s->spec.cpus);
        sim_sched_rtds_default(i, &v->rtds);
    }
}

int
sim_dom0_init(struct sim *s)
{
    struct sim_domain *d = sim_domain_alloc(s->spec.dom0_vcpus);
    int rc;

    if (!d)
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    d->domid = 0;
    d->type = KEEL_DOMAIN_PV;
    d->tot_kb = d->max_kb = s->spec.dom0_mem_kb;
    d->poolid = 0;
    d->settled_ns = s->last_ns;
    sim_guest_default(d);
    d->guest.busy = false;
    vcpus_init(s, d, d->max_vcpus);
    sim_sched_dom_default(sim_pool_find(s, 0)->params.sched, &d->sched);
    rc = sim_domain_insert(s, d);
    if (rc)
        sim_domain_free(d);
    else
        sim_domain_changed(s, d);
    return rc;
}

/* Xen hands out domids from a rotating counter, skipping those in use,
 * so a just-destroyed domain's id is not handed out again at once. */
static int
alloc_domid(struct sim *s, uint32_t want, uint32_t *domid_r)
{
    uint32_t id, tries;

    if (want != KEEL_DOMID_INVALID) {
        if (want == 0 || want >= KEEL_DOMID_FIRST_RESERVED)
            return keel_error(s->ctx, KEEL_EINVAL, "domid %u is not 1..%u",
                              want, KEEL_DOMID_FIRST_RESERVED - 1);
        if (sim_domain_find(s, want))
            return keel_error(s->ctx, KEEL_EEXIST, "domid %u is in use", want);
        *domid_r = want;
        return 0;
    }
    id = s->next_domid;
    for (tries = 0; tries < KEEL_DOMID_FIRST_RESERVED; tries++, id++) {
        if (id == 0 || id >= KEEL_DOMID_FIRST_RESERVED)
            id = 1;
        if (!sim_domain_find(s, id)) {
            *domid_r = id;
            s->next_domid = id + 1;
            return 0;
        }
    }
    return keel_error(s->ctx, KEEL_ENOSPC, "every domid is in use");
}

static int
check_spec(struct sim *s, const struct keel_hv_domain_spec *spec)
{
    struct sim_pool *p;

    if (!keel_domain_type_name(spec->type))
        return keel_error(s->ctx, KEEL_EINVAL, "unknown domain type %d",
                          spec->type);
    if (spec->max_vcpus < 1 || spec->max_vcpus > SIM_MAX_VCPUS)
        return keel_error(s->ctx, KEEL_EINVAL, "max_vcpus %u is not 1..%d",
                          spec->max_vcpus, SIM_MAX_VCPUS);
    if (spec->online_vcpus < 1 || spec->online_vcpus > spec->max_vcpus)
        return keel_error(s->ctx, KEEL_EINVAL,
                          "online_vcpus %u is not 1..max_vcpus (%u)",
                          spec->online_vcpus, spec->max_vcpus);
    if (spec->mem_kb < 4 || spec->mem_kb % 4 || spec->max_kb % 4 ||
        spec->mem_kb > spec->max_kb)
        return keel_error(s->ctx, KEEL_EINVAL,
                          "memory %" PRIu64 " KiB / max %" PRIu64
                          " KiB: need 0 < memory <= max, in 4 KiB pages",
                          spec->mem_kb, spec->max_kb);
    p = sim_pool_get(s, spec->poolid);
    if (!p)
        return KEEL_ENOPOOL;
    if (keel_cpumap_is_empty(&p->cpus))
        return keel_error(s->ctx, KEEL_ESTATE, "CPU pool %u has no CPUs",
                          spec->poolid);
    if (spec->mem_kb > sim_free_kb(s))
        return keel_error(s->ctx, KEEL_ENOHOSTMEM,
                          "domain needs %" PRIu64
                          " KiB but the host has %" PRIu64 " KiB free",
                          spec->mem_kb, sim_free_kb(s));
    return 0;
}

int
sim_op_domain_create(struct keel_hv *hv, const struct keel_hv_domain_spec *spec,
                     uint32_t *domid_r)
{
    struct sim_domain *d = NULL;
    struct sim *s;
    uint32_t domid = KEEL_DOMID_INVALID;
    int rc = sim_begin(hv, &s);

    if (rc == 0)
        rc = check_spec(s, spec);
    if (rc == 0)
        rc = alloc_domid(s, spec->domid, &domid);
    if (rc)
        return sim_end(s, rc);
    d = sim_domain_alloc(spec->max_vcpus);
    if (!d)
        return sim_end(s, keel_error(s->ctx, KEEL_ENOMEM, "out of memory"));
    d->domid = domid;
    memcpy(d->uuid, spec->uuid, 16);
    d->type = spec->type;
    d->pause_count = 1;
    d->tot_kb = spec->mem_kb;
    d->max_kb = spec->max_kb;
    d->poolid = spec->poolid;
    d->settled_ns = s->last_ns;
    d->rng = domid * UINT64_C(0x9E3779B97F4A7C15) ^ spec->uuid[0];
    sim_guest_default(d);
    vcpus_init(s, d, spec->online_vcpus);
    sim_sched_dom_default(sim_pool_find(s, d->poolid)->params.sched, &d->sched);
    rc = sim_domain_insert(s, d);
    if (rc) {
        sim_domain_free(d);
        return sim_end(s, rc);
    }
    rc = sim_mem_open(s, d, true);
    if (rc == 0)
        rc = sim_blobs_init(s, d);
    if (rc) {
        sim_domain_remove(s, d);
        sim_mem_unlink(s, domid);
        sim_blobs_unlink(s, domid);
        sim_domain_free(d);
        return sim_end(s, rc);
    }
    sim_domain_changed(s, d);
    /* As on Xen, the new domain's store directory starts afresh (hv.h). */
    {
        bool had = keel__error_isset(s->ctx);
        char path[64];

        snprintf(path, sizeof(path), "/local/domain/%u", domid);
        rc = sim_store_remove(s->ctx, s->store, path);
        if (rc == 0)
            sim_watch_fire(s, path, true);
        else if (rc == KEEL_ENOENT) { /* the usual case: nothing there */
            keel__error_unrecord(s->ctx, had);
            rc = 0;
        }
    }
    if (rc)
        return sim_end(s, rc);
    *domid_r = domid;
    return sim_end(s, 0);
}

/* The domain an operation that changes a domain's run state may act on:
 * not Domain-0, not dying. */
static struct sim_domain *
changeable(struct sim *s, uint32_t domid, const char *what, int *rc_r)
{
    struct sim_domain *d = sim_domain_get(s, domid);

    *rc_r = 0;
    if (!d)
        *rc_r = KEEL_ENODOMAIN;
    else if (domid == 0)
        *rc_r = keel_error(s->ctx, KEEL_EPERM, "Domain-0 cannot be %s", what);
    else if (d->dying)
        *rc_r = keel_error(s->ctx, KEEL_ESTATE, "domain %u is dying", domid);
    return *rc_r ? NULL : d;
}

int
sim_op_domain_destroy(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "destroyed", &rc)))
        return sim_end(s, rc);
    sim_domain_settle(d, s->last_ns);
    d->dying = true;
    d->dying_at_ns = sim_now(s);
    sim_domain_set_tot_kb(s, d, 0);
    d->pending_action = -1;
    sim_mem_close(&d->mem);
    sim_blobs_free(d);
    sim_domain_changed(s, d);
    /* The journal says it is dying before its files go: a process killed
     * in between leaves files that the next open removes (sim_mem_gc),
     * never a live domain without its memory. */
    rc = sim_sync(s);
    if (rc == 0) {
        sim_mem_unlink(s, domid);
        sim_blobs_unlink(s, domid);
    }
    return sim_end(s, rc);
}

int
sim_op_domain_pause(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "paused", &rc)))
        return sim_end(s, rc);
    sim_domain_settle(d, s->last_ns);
    d->pause_count++;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_domain_unpause(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "unpaused", &rc)))
        return sim_end(s, rc);
    if (d->pause_count == 0)
        return sim_end(s, keel_error(s->ctx, KEEL_ESTATE,
                                     "domain %u is not paused", domid));
    sim_domain_settle(d, s->last_ns);
    d->pause_count--;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_domain_shutdown(struct keel_hv *hv, uint32_t domid,
                       enum keel_shutdown_reason reason)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "shut down", &rc)))
        return sim_end(s, rc);
    if (!keel_shutdown_reason_name(reason))
        return sim_end(s, keel_error(s->ctx, KEEL_EINVAL,
                                     "unknown shutdown reason %d", reason));
    if (!d->shutdown) { /* as on Xen, a second shutdown changes nothing */
        sim_domain_settle(d, s->last_ns);
        sim_domain_set_shutdown(s, d, reason);
    }
    return sim_end(s, 0);
}

int
sim_op_domain_resume(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "resumed", &rc)))
        return sim_end(s, rc);
    if (!d->shutdown || d->shutdown_reason != KEEL_SHUTDOWN_SUSPEND)
        return sim_end(s, keel_error(s->ctx, KEEL_ESTATE,
                                     "domain %u is not suspended", domid));
    sim_domain_settle(d, s->last_ns);
    d->shutdown = false;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

/* What a shut-down guest that asked for a soft reset (kexec) gets: the
 * domain as it was, running again from vCPU 0 alone; the toolstack then
 * sets vCPU 0's context. Its pause count is kept, so a paused domain
 * stays paused. */
int
sim_op_domain_soft_reset(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    uint32_t i;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "reset", &rc)))
        return sim_end(s, rc);
    if (!d->shutdown)
        return sim_end(s, keel_error(s->ctx, KEEL_ESTATE,
                                     "domain %u cannot be soft reset: it "
                                     "has not shut down",
                                     domid));
    if (d->shutdown_reason != KEEL_SHUTDOWN_SOFT_RESET)
        return sim_end(
            s,
            keel_error(s->ctx, KEEL_ESTATE,
                       "domain %u cannot be soft reset: it shut down "
                       "with reason %s, not soft_reset",
                       domid, keel_shutdown_reason_name(d->shutdown_reason)));
    sim_domain_settle(d, s->last_ns);
    d->shutdown = false;
    for (i = 0; i < d->max_vcpus; i++)
        d->vcpus[i].online = i == 0;
    sim_domain_changed(s, d);
    sim_event_queue_domain(s, domid);
    return sim_end(s, 0);
}

int
sim_op_domain_set_uuid(struct keel_hv *hv, uint32_t domid,
                       const uint8_t uuid[16])
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = changeable(s, domid, "given a new uuid", &rc)))
        return sim_end(s, rc);
    memcpy(d->uuid, uuid, 16);
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_domain_info(struct keel_hv *hv, uint32_t domid,
                   struct keel_hv_dominfo *info)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && !(d = sim_domain_get(s, domid)))
        rc = KEEL_ENODOMAIN;
    if (rc == 0)
        sim_domain_fill_info(s, d, info);
    return sim_end(s, rc);
}

int
sim_op_domain_list(struct keel_hv *hv, uint32_t first,
                   struct keel_hv_dominfo *infos, size_t max, size_t *n_r)
{
    struct sim *s;
    bool found;
    size_t i, n = 0;
    int rc = sim_begin(hv, &s);

    if (rc)
        return sim_end(s, rc);
    for (i = dom_index(s, first, &found); i < s->n_doms && n < max; i++)
        sim_domain_fill_info(s, s->doms[i], &infos[n++]);
    *n_r = n;
    return sim_end(s, 0);
}

int
sim_op_domain_set_max_mem(struct keel_hv *hv, uint32_t domid, uint64_t max_kb)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = sim_domain_get(s, domid)))
        return sim_end(s, rc ? rc : KEEL_ENODOMAIN);
    if (max_kb < 4 || max_kb % 4 || max_kb > s->spec.memory_kb)
        return sim_end(s, keel_error(s->ctx, KEEL_EINVAL,
                                     "max memory %" PRIu64
                                     " KiB is not 4 KiB..host memory, in "
                                     "4 KiB pages",
                                     max_kb));
    if (d->dying)
        return sim_end(
            s, keel_error(s->ctx, KEEL_ESTATE, "domain %u is dying", domid));
    /* As Xen, a maximum below what the domain holds is allowed: it only
     * stops the guest from growing. */
    if (d->mem.base && max_kb / 4 > d->mem.nr_pfns)
        rc = sim_mem_grow(s, d, max_kb / 4);
    if (rc == 0) {
        d->max_kb = max_kb;
        sim_domain_changed(s, d);
    }
    return sim_end(s, rc);
}

static struct sim_vcpu *
vcpu_get(struct sim *s, uint32_t domid, uint32_t vcpu, struct sim_domain **d_r,
         int *rc_r)
{
    struct sim_domain *d = sim_domain_get(s, domid);

    *rc_r = 0;
    if (!d) {
        *rc_r = KEEL_ENODOMAIN;
        return NULL;
    }
    if (vcpu >= d->max_vcpus) {
        *rc_r = keel_error(s->ctx, KEEL_EINVAL,
                           "domain %u has no vCPU %u (it has %u)", domid, vcpu,
                           d->max_vcpus);
        return NULL;
    }
    *d_r = d;
    return &d->vcpus[vcpu];
}

static int
check_affinity(struct sim *s, const struct sim_domain *d,
               const struct keel_cpumap *hard, const struct keel_cpumap *soft)
{
    struct keel_cpumap host;
    struct sim_pool *p = sim_pool_find(s, d->poolid);

    keel_cpumap_fill(&host, s->spec.cpus);
    if ((hard && !keel_cpumap_subset(hard, &host)) ||
        (soft && !keel_cpumap_subset(soft, &host)))
        return keel_error(s->ctx, KEEL_ERANGE,
                          "affinity names a CPU beyond the host's %u",
                          s->spec.cpus);
    if (hard && !keel_cpumap_intersects(hard, &p->cpus))
        return keel_error(s->ctx, KEEL_EINVAL,
                          "hard affinity has no CPU of pool %u", d->poolid);
    if (soft && keel_cpumap_is_empty(soft))
        return keel_error(s->ctx, KEEL_EINVAL, "soft affinity is empty");
    return 0;
}

int
sim_op_vcpu_set_affinity(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                         const struct keel_cpumap *hard,
                         const struct keel_cpumap *soft)
{
    struct sim_domain *d = NULL;
    struct sim_vcpu *v;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(v = vcpu_get(s, domid, vcpu, &d, &rc)))
        return sim_end(s, rc);
    rc = check_affinity(s, d, hard, soft);
    if (rc)
        return sim_end(s, rc);
    if (hard)
        v->hard = *hard;
    if (soft)
        v->soft = *soft;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

/* The CPU a vCPU runs on: spread a domain's vCPUs over the CPUs its hard
 * affinity allows in its pool, preferring its soft affinity. */
static uint32_t
vcpu_where(struct sim *s, const struct sim_domain *d, uint32_t vcpu)
{
    struct sim_pool *p = sim_pool_find(s, d->poolid);
    struct keel_cpumap ok, pref;
    unsigned int n, i;
    int cpu;

    keel_cpumap_and(&ok, &d->vcpus[vcpu].hard, &p->cpus);
    keel_cpumap_and(&pref, &ok, &d->vcpus[vcpu].soft);
    if (!keel_cpumap_is_empty(&pref))
        ok = pref;
    n = keel_cpumap_count(&ok);
    if (n == 0)
        return 0;
    cpu = keel_cpumap_next(&ok, 0);
    for (i = 0; i < (vcpu + d->domid) % n; i++)
        cpu = keel_cpumap_next(&ok, (unsigned int)cpu + 1);
    return (uint32_t)cpu;
}

int
sim_op_vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                 struct keel_hv_vcpuinfo *info)
{
    struct sim_domain *d = NULL;
    struct sim_vcpu *v;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(v = vcpu_get(s, domid, vcpu, &d, &rc)))
        return sim_end(s, rc);
    memset(info, 0, sizeof(*info));
    info->vcpu = vcpu;
    if (v->online) {
        info->flags |= KEEL_VCPUF_ONLINE;
        if (sim_domain_runnable(d))
            info->flags |=
                d->guest.busy ? KEEL_VCPUF_RUNNING : KEEL_VCPUF_BLOCKED;
    }
    info->cpu = vcpu_where(s, d, vcpu);
    info->cpu_time_ns = sim_vcpu_time(s, d, vcpu);
    info->hard = v->hard;
    info->soft = v->soft;
    return sim_end(s, 0);
}

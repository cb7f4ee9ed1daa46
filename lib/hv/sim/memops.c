/* memops.c: the migration primitives of the sim backend, over mem.c
 *
 * Page types: a simulated PV guest keeps a four-level page-table skeleton
 * in frames 1..4 (L4 pinned in frame 1 down to L1 in frame 4), so that a
 * saved PV stream carries page-table frames as Xen's does; every other
 * frame, and every frame of an HVM or PVH guest, is ordinary memory.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "sim.h"

/* A domain whose memory the primitives may touch. */
static struct sim_domain *
mem_domain(struct sim *s, uint32_t domid, int *rc_r)
{
    struct sim_domain *d = sim_domain_get(s, domid);

    *rc_r = 0;
    if (!d)
        *rc_r = KEEL_ENODOMAIN;
    else if (d->dying)
        *rc_r = keel_error(s->ctx, KEEL_ESTATE, "domain %u is dying", domid);
    else if (!d->mem.base)
        *rc_r = keel_error(s->ctx, KEEL_ENOTSUP,
                           "domain %u's memory is not simulated", domid);
    return *rc_r ? NULL : d;
}

int
sim_op_mem_max_pfn(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && (d = mem_domain(s, domid, &rc)))
        *pfn_r = d->mem.nr_pfns - 1;
    return sim_end(s, rc);
}

int
sim_op_mem_map(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
               size_t n, unsigned int flags, void **addr_r)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && n == 0)
        rc = keel_error(s->ctx, KEEL_EINVAL, "mapping zero frames");
    if (rc == 0 && (d = mem_domain(s, domid, &rc)))
        rc = sim_mem_map(s, d, pfns, n, flags, addr_r);
    return sim_end(s, rc);
}

int
sim_op_mem_unmap(struct keel_hv *hv, void *addr, size_t n)
{
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0)
        rc = sim_mem_unmap(s, addr, n);
    return sim_end(s, rc);
}

int
sim_op_mem_page_types(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                      size_t n, uint32_t *types)
{
    static const uint32_t skeleton[] = {KEEL_PAGE_L4TAB | KEEL_PAGE_LPINTAB,
                                        KEEL_PAGE_L3TAB, KEEL_PAGE_L2TAB,
                                        KEEL_PAGE_L1TAB};
    struct sim_domain *d;
    struct sim *s;
    size_t i;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = mem_domain(s, domid, &rc)))
        return sim_end(s, rc);
    for (i = 0; i < n; i++) {
        if (pfns[i] >= d->mem.nr_pfns)
            return sim_end(s, keel_error(s->ctx, KEEL_ERANGE,
                                         "frame %" PRIu64
                                         " is beyond domain %u's %" PRIu64,
                                         pfns[i], domid, d->mem.nr_pfns));
        types[i] = KEEL_PAGE_NOTAB;
        if (d->type == KEEL_DOMAIN_PV && pfns[i] >= 1 && pfns[i] <= 4)
            types[i] = skeleton[pfns[i] - 1];
    }
    return sim_end(s, 0);
}

int
sim_op_logdirty_enable(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = mem_domain(s, domid, &rc)))
        return sim_end(s, rc);
    if (d->logdirty)
        return sim_end(s, keel_error(s->ctx, KEEL_EBUSY,
                                     "log-dirty mode is already on for "
                                     "domain %u",
                                     domid));
    sim_mem_logdirty_clear(d);
    d->logdirty = true;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_logdirty_disable(struct keel_hv *hv, uint32_t domid)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = mem_domain(s, domid, &rc)))
        return sim_end(s, rc);
    d->logdirty = false;
    sim_domain_changed(s, d);
    return sim_end(s, 0);
}

int
sim_op_logdirty_read(struct keel_hv *hv, uint32_t domid, uint8_t *bitmap,
                     uint64_t nr_pfns, unsigned int flags, uint64_t *dirty_r)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc == 0 && (flags & ~KEEL_LOGDIRTY_PEEK))
        rc = keel_error(s->ctx, KEEL_EINVAL, "unknown flags 0x%x", flags);
    if (rc == 0 && nr_pfns && !bitmap)
        rc = keel_error(s->ctx, KEEL_EINVAL, "NULL bitmap");
    if (rc == 0 && (d = mem_domain(s, domid, &rc)))
        rc = sim_mem_logdirty_read(s, d, bitmap, nr_pfns, flags, dirty_r);
    return sim_end(s, rc);
}

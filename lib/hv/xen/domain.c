/* domain.c: the xen backend's domain and vCPU ops over libxenctrl */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xen.h"

static void
xen_dominfo_fill(const xc_domaininfo_t *xi, struct keel_hv_dominfo *info)
{
    memset(info, 0, sizeof(*info));
    info->domid = xi->domain;
    memcpy(info->uuid, xi->handle, 16);
    if (!(xi->flags & XEN_DOMINF_hvm_guest))
        info->type = KEEL_DOMAIN_PV;
    else if (xi->arch_config.emulation_flags == XEN_X86_EMU_LAPIC)
        info->type = KEEL_DOMAIN_PVH; /* a LAPIC and nothing else */
    else
        info->type = KEEL_DOMAIN_HVM;
    if (xi->flags & XEN_DOMINF_dying)
        info->flags |= KEEL_DOMF_DYING;
    if (xi->flags & XEN_DOMINF_shutdown) {
        info->flags |= KEEL_DOMF_SHUTDOWN;
        info->shutdown_reason =
            (xi->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    }
    if (xi->flags & XEN_DOMINF_paused) {
        info->flags |= KEEL_DOMF_PAUSED;
        info->pause_count = 1; /* Xen reports paused, not how often */
    }
    if (xi->flags & XEN_DOMINF_blocked)
        info->flags |= KEEL_DOMF_BLOCKED;
    if (xi->flags & XEN_DOMINF_running)
        info->flags |= KEEL_DOMF_RUNNING;
    info->tot_kb = (uint64_t)xi->tot_pages * (XC_PAGE_SIZE / 1024);
    info->max_kb = (uint64_t)xi->max_pages * (XC_PAGE_SIZE / 1024);
    info->max_vcpus =
        xi->max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 : xi->max_vcpu_id + 1;
    info->online_vcpus = xi->nr_online_vcpus;
    info->cpu_time_ns = xi->cpu_time;
    info->poolid = xi->cpupool;
}

int
xen_op_domain_info(struct keel_hv *hv, uint32_t domid,
                   struct keel_hv_dominfo *info)
{
    struct xen *x = xen_of(hv);
    xc_domaininfo_t xi;
    int n = xc_domain_getinfolist(x->xch, domid, 1, &xi);

    if (n < 0)
        return xen_fail(x, "xc_domain_getinfolist(%u)", domid);
    if (n == 0 || xi.domain != domid)
        return KEEL_ENODOMAIN; /* it gave the next one: quiet, as the sim */
    xen_dominfo_fill(&xi, info);
    return 0;
}

int
xen_op_domain_list(struct keel_hv *hv, uint32_t first,
                   struct keel_hv_dominfo *infos, size_t max, size_t *n_r)
{
    struct xen *x = xen_of(hv);
    xc_domaininfo_t *xi;
    size_t want = max < 1024 ? max : 1024;
    int n, i;

    *n_r = 0;
    if (max == 0 || first >= KEEL_DOMID_FIRST_RESERVED)
        return 0;
    xi = calloc(want, sizeof(*xi));
    if (!xi)
        return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    n = xc_domain_getinfolist(x->xch, first, (unsigned int)want, xi);
    if (n < 0) {
        free(xi);
        return xen_fail(x, "xc_domain_getinfolist");
    }
    for (i = 0; i < n; i++)
        xen_dominfo_fill(&xi[i], &infos[i]);
    *n_r = (size_t)n;
    free(xi);
    return 0;
}

/* Domain-0 is Xen's own to keep: the ops that would stop or change its
 * run state refuse it, as the sim does. */
static int
not_dom0(struct xen *x, uint32_t domid, const char *what)
{
    if (domid == 0)
        return keel_error(x->ctx, KEEL_EPERM, "Domain-0 cannot be %s", what);
    return 0;
}

/* An op on one domain that libxenctrl does in one call. */
static int
dom_call(struct keel_hv *hv, uint32_t domid, const char *what,
         int (*call)(xc_interface *, uint32_t), const char *name)
{
    struct xen *x = xen_of(hv);
    int rc = not_dom0(x, domid, what);

    if (rc == 0 && call(x->xch, domid))
        rc = xen_fail(x, "%s(%u)", name, domid);
    return rc;
}

int
xen_op_domain_destroy(struct keel_hv *hv, uint32_t domid)
{
    return dom_call(hv, domid, "destroyed", xc_domain_destroy,
                    "xc_domain_destroy");
}

int
xen_op_domain_pause(struct keel_hv *hv, uint32_t domid)
{
    return dom_call(hv, domid, "paused", xc_domain_pause, "xc_domain_pause");
}

int
xen_op_domain_unpause(struct keel_hv *hv, uint32_t domid)
{
    return dom_call(hv, domid, "unpaused", xc_domain_unpause,
                    "xc_domain_unpause");
}

int
xen_op_domain_shutdown(struct keel_hv *hv, uint32_t domid,
                       enum keel_shutdown_reason reason)
{
    struct xen *x = xen_of(hv);
    int rc = not_dom0(x, domid, "shut down");

    if (rc == 0 && xc_domain_shutdown(x->xch, domid, (int)reason))
        rc = xen_fail(x, "xc_domain_shutdown(%u)", domid);
    return rc;
}

/* A guest that suspended itself (control/shutdown "suspend") returns from
 * its suspend hypercall as if it had been cancelled: the cooperative,
 * "fast" resume, which every Linux guest supports. */
static int
resume_fast(xc_interface *xch, uint32_t domid)
{
    return xc_domain_resume(xch, domid, 1);
}

int
xen_op_domain_resume(struct keel_hv *hv, uint32_t domid)
{
    return dom_call(hv, domid, "resumed", resume_fast, "xc_domain_resume");
}

int
xen_op_domain_soft_reset(struct keel_hv *hv, uint32_t domid)
{
    return dom_call(hv, domid, "reset", xc_domain_soft_reset,
                    "xc_domain_soft_reset");
}

int
xen_op_domain_set_uuid(struct keel_hv *hv, uint32_t domid,
                       const uint8_t uuid[16])
{
    struct xen *x = xen_of(hv);
    xen_domain_handle_t h;

    memcpy(h, uuid, 16);
    if (xc_domain_sethandle(x->xch, domid, h))
        return xen_fail(x, "xc_domain_sethandle(%u)", domid);
    return 0;
}

int
xen_op_domain_set_max_mem(struct keel_hv *hv, uint32_t domid, uint64_t max_kb)
{
    struct xen *x = xen_of(hv);

    if (xc_domain_setmaxmem(x->xch, domid, max_kb))
        return xen_fail(x, "xc_domain_setmaxmem(%u)", domid);
    return 0;
}

int
xen_op_mem_max_pfn(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r)
{
    struct xen *x = xen_of(hv);
    xen_pfn_t pfn = 0;

    if (xc_domain_maximum_gpfn(x->xch, domid, &pfn))
        return xen_fail(x, "xc_domain_maximum_gpfn(%u)", domid);
    *pfn_r = pfn;
    return 0;
}

int
xen_op_vcpu_set_affinity(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                         const struct keel_cpumap *hard,
                         const struct keel_cpumap *soft)
{
    struct xen *x = xen_of(hv);
    uint8_t *h = NULL, *s = NULL;
    uint32_t flags = 0;
    int rc = 0;

    if (hard) {
        h = xen_cpumap_to_xc(hard, x->max_cpus);
        flags |= XEN_VCPUAFFINITY_HARD;
    }
    if (soft) {
        s = xen_cpumap_to_xc(soft, x->max_cpus);
        flags |= XEN_VCPUAFFINITY_SOFT;
    }
    if ((hard && !h) || (soft && !s))
        rc = keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    /* Xen wants both maps even when it sets one. */
    if (rc == 0 && !h && !(h = calloc((size_t)x->max_cpus / 8 + 1, 1)))
        rc = keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    if (rc == 0 && !s && !(s = calloc((size_t)x->max_cpus / 8 + 1, 1)))
        rc = keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    if (rc == 0 && flags &&
        xc_vcpu_setaffinity(x->xch, domid, (int)vcpu, h, s, flags))
        rc = xen_fail(x, "xc_vcpu_setaffinity(%u, vcpu %u)", domid, vcpu);
    free(h);
    free(s);
    return rc;
}

int
xen_op_vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                 struct keel_hv_vcpuinfo *info)
{
    struct xen *x = xen_of(hv);
    xc_vcpuinfo_t vi;
    uint8_t *h, *s;
    int rc = 0;

    if (xc_vcpu_getinfo(x->xch, domid, vcpu, &vi))
        return xen_fail(x, "xc_vcpu_getinfo(%u, vcpu %u)", domid, vcpu);
    h = calloc((size_t)x->max_cpus / 8 + 1, 1);
    s = calloc((size_t)x->max_cpus / 8 + 1, 1);
    if (!h || !s)
        rc = keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    if (rc == 0 &&
        xc_vcpu_getaffinity(x->xch, domid, (int)vcpu, h, s,
                            XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT))
        rc = xen_fail(x, "xc_vcpu_getaffinity(%u, vcpu %u)", domid, vcpu);
    if (rc == 0) {
        memset(info, 0, sizeof(*info));
        info->vcpu = vcpu;
        if (vi.online)
            info->flags |= KEEL_VCPUF_ONLINE;
        if (vi.running)
            info->flags |= KEEL_VCPUF_RUNNING;
        if (vi.blocked)
            info->flags |= KEEL_VCPUF_BLOCKED;
        info->cpu = vi.cpu;
        info->cpu_time_ns = vi.cpu_time;
        xen_cpumap_from_xc(h, x->max_cpus, &info->hard);
        xen_cpumap_from_xc(s, x->max_cpus, &info->soft);
    }
    free(h);
    free(s);
    return rc;
}

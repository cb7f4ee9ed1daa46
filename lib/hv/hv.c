/* hv.c: the backend registry and the keel_hv_* wrappers
 *
 * Every wrapper does the same four things: lock the handle, open a public
 * call on the context (so the first error of this call is the one kept),
 * turn a NULL slot into KEEL_ENOTSUP, and unlock. Arguments every backend
 * would check the same way (NULL pointers) are checked here once.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <keel/hv.h>

#include "internal.h"

extern const struct keel_hv_ops keel__sim_ops;
#ifdef HAVE_XEN
extern const struct keel_hv_ops keel__xen_ops;
#endif

static const struct keel_hv_ops *const backends[] = {
    &keel__sim_ops,
#ifdef HAVE_XEN
    &keel__xen_ops,
#endif
};

static const char *const backend_names[] = {
    "sim",
#ifdef HAVE_XEN
    "xen",
#endif
    NULL,
};

struct keel_hv {
    struct keel_ctx *ctx;
    const struct keel_hv_ops *ops;
    pthread_mutex_t lock;
    void *priv;
};

KEEL_EXPORT const char *const *
keel_hv_backends(void)
{
    return backend_names;
}

KEEL_EXPORT int
keel_hv_open(struct keel_ctx *ctx, const char *name,
             const struct keel_hv_open_args *args, struct keel_hv **hv_r)
{
    static const struct keel_hv_open_args no_args;
    const struct keel_hv_ops *ops = NULL;
    struct keel_hv *hv;
    size_t i;
    int rc;

    *hv_r = NULL;
    keel__enter(ctx);
    for (i = 0; name && i < ARRAY_SIZE(backends); i++)
        if (!strcmp(backends[i]->name, name))
            ops = backends[i];
    if (!ops) {
        rc = keel_error(ctx, KEEL_EBACKEND,
                        "unknown hypervisor backend '%s' (built in: %s)",
                        name ? name : "(null)",
#ifdef HAVE_XEN
                        "sim, xen"
#else
                        "sim; xen needs a build --with-xen"
#endif
        );
        goto out;
    }
    hv = calloc(1, sizeof(*hv));
    if (!hv) {
        rc = keel_error(ctx, KEEL_ENOMEM, "out of memory");
        goto out;
    }
    hv->ctx = ctx;
    hv->ops = ops;
    pthread_mutex_init(&hv->lock, NULL);
    rc = ops->open(hv, args ? args : &no_args);
    if (rc) {
        pthread_mutex_destroy(&hv->lock);
        free(hv);
        goto out;
    }
    *hv_r = hv;
out:
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT void
keel_hv_close(struct keel_hv *hv)
{
    if (!hv)
        return;
    if (hv->ops->close)
        hv->ops->close(hv);
    pthread_mutex_destroy(&hv->lock);
    free(hv);
}

KEEL_EXPORT const char *
keel_hv_name(const struct keel_hv *hv)
{
    return hv->ops->name;
}

KEEL_EXPORT struct keel_ctx *
keel_hv_ctx(const struct keel_hv *hv)
{
    return hv->ctx;
}

KEEL_EXPORT void
keel_hv_set_priv(struct keel_hv *hv, void *priv)
{
    hv->priv = priv;
}

KEEL_EXPORT void *
keel_hv_priv(const struct keel_hv *hv)
{
    return hv->priv;
}

/* Opens a public call; the image ops, which run for as long as a
 * transfer takes, use it alone: no handle lock (hv.h). */
static int
image_begin(struct keel_hv *hv, bool supported, const char *op)
{
    keel__enter(hv->ctx);
    if (!supported)
        return keel_error(hv->ctx, KEEL_ENOTSUP,
                          "the %s backend does not support %s", hv->ops->name,
                          op);
    return 0;
}

int
keel__hv_begin(struct keel_hv *hv, bool supported, const char *op)
{
    pthread_mutex_lock(&hv->lock);
    return image_begin(hv, supported, op);
}

int
keel__hv_end(struct keel_hv *hv, int rc)
{
    keel__leave(hv->ctx);
    pthread_mutex_unlock(&hv->lock);
    return rc;
}

static int
null_arg(struct keel_hv *hv, const char *op)
{
    return keel_error(hv->ctx, KEEL_EINVAL, "%s: a required argument is NULL",
                      op);
}

KEEL_EXPORT void
keel_hv_events_dispose(struct keel_hv_event *evs, size_t n)
{
    size_t i;

    for (i = 0; evs && i < n; i++) {
        free(evs[i].path);
        free(evs[i].token);
        evs[i].path = evs[i].token = NULL;
    }
}

/* --- the wrappers, one per op, all of the same shape --- */

KEEL_EXPORT int
keel_hv_physinfo(struct keel_hv *hv, struct keel_hv_physinfo *info)
{
    int rc = keel__hv_begin(hv, hv->ops->physinfo != NULL, "physinfo");

    if (rc == 0 && (!info))
        rc = null_arg(hv, "physinfo");
    if (rc == 0)
        rc = hv->ops->physinfo(hv, info);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cputopo(struct keel_hv *hv, struct keel_hv_cputopo *topo, size_t max,
                size_t *n_r)
{
    int rc = keel__hv_begin(hv, hv->ops->cputopo != NULL, "cputopo");

    if (rc == 0 && (!n_r))
        rc = null_arg(hv, "cputopo");
    if (rc == 0)
        rc = hv->ops->cputopo(hv, topo, max, n_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_numainfo(struct keel_hv *hv, struct keel_hv_numainfo *nodes, size_t max,
                 size_t *n_r)
{
    int rc = keel__hv_begin(hv, hv->ops->numainfo != NULL, "numainfo");

    if (rc == 0 && (!n_r))
        rc = null_arg(hv, "numainfo");
    if (rc == 0)
        rc = hv->ops->numainfo(hv, nodes, max, n_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_create(struct keel_hv *hv,
                      const struct keel_hv_domain_spec *spec, uint32_t *domid_r)
{
    int rc =
        keel__hv_begin(hv, hv->ops->domain_create != NULL, "domain_create");

    if (rc == 0 && (!spec || !domid_r))
        rc = null_arg(hv, "domain_create");
    if (rc == 0)
        rc = hv->ops->domain_create(hv, spec, domid_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_destroy(struct keel_hv *hv, uint32_t domid)
{
    int rc =
        keel__hv_begin(hv, hv->ops->domain_destroy != NULL, "domain_destroy");

    if (rc == 0)
        rc = hv->ops->domain_destroy(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_pause(struct keel_hv *hv, uint32_t domid)
{
    int rc = keel__hv_begin(hv, hv->ops->domain_pause != NULL, "domain_pause");

    if (rc == 0)
        rc = hv->ops->domain_pause(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_unpause(struct keel_hv *hv, uint32_t domid)
{
    int rc =
        keel__hv_begin(hv, hv->ops->domain_unpause != NULL, "domain_unpause");

    if (rc == 0)
        rc = hv->ops->domain_unpause(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_shutdown(struct keel_hv *hv, uint32_t domid,
                        enum keel_shutdown_reason reason)
{
    int rc =
        keel__hv_begin(hv, hv->ops->domain_shutdown != NULL, "domain_shutdown");

    if (rc == 0)
        rc = hv->ops->domain_shutdown(hv, domid, reason);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_resume(struct keel_hv *hv, uint32_t domid)
{
    int rc =
        keel__hv_begin(hv, hv->ops->domain_resume != NULL, "domain_resume");

    if (rc == 0)
        rc = hv->ops->domain_resume(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_soft_reset(struct keel_hv *hv, uint32_t domid)
{
    int rc = keel__hv_begin(hv, hv->ops->domain_soft_reset != NULL,
                            "domain_soft_reset");

    if (rc == 0)
        rc = hv->ops->domain_soft_reset(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_set_uuid(struct keel_hv *hv, uint32_t domid,
                        const uint8_t uuid[16])
{
    int rc =
        keel__hv_begin(hv, hv->ops->domain_set_uuid != NULL, "domain_set_uuid");

    if (rc == 0 && !uuid)
        rc = null_arg(hv, "domain_set_uuid");
    if (rc == 0)
        rc = hv->ops->domain_set_uuid(hv, domid, uuid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_info(struct keel_hv *hv, uint32_t domid,
                    struct keel_hv_dominfo *info)
{
    int rc = keel__hv_begin(hv, hv->ops->domain_info != NULL, "domain_info");

    if (rc == 0 && (!info))
        rc = null_arg(hv, "domain_info");
    if (rc == 0)
        rc = hv->ops->domain_info(hv, domid, info);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_list(struct keel_hv *hv, uint32_t first,
                    struct keel_hv_dominfo *infos, size_t max, size_t *n_r)
{
    int rc = keel__hv_begin(hv, hv->ops->domain_list != NULL, "domain_list");

    if (rc == 0 && (!n_r))
        rc = null_arg(hv, "domain_list");
    if (rc == 0)
        rc = hv->ops->domain_list(hv, first, infos, max, n_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_domain_set_max_mem(struct keel_hv *hv, uint32_t domid, uint64_t max_kb)
{
    int rc = keel__hv_begin(hv, hv->ops->domain_set_max_mem != NULL,
                            "domain_set_max_mem");

    if (rc == 0)
        rc = hv->ops->domain_set_max_mem(hv, domid, max_kb);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_vcpu_set_affinity(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                          const struct keel_cpumap *hard,
                          const struct keel_cpumap *soft)
{
    int rc = keel__hv_begin(hv, hv->ops->vcpu_set_affinity != NULL,
                            "vcpu_set_affinity");

    if (rc == 0)
        rc = hv->ops->vcpu_set_affinity(hv, domid, vcpu, hard, soft);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
                  struct keel_hv_vcpuinfo *info)
{
    int rc = keel__hv_begin(hv, hv->ops->vcpu_info != NULL, "vcpu_info");

    if (rc == 0 && (!info))
        rc = null_arg(hv, "vcpu_info");
    if (rc == 0)
        rc = hv->ops->vcpu_info(hv, domid, vcpu, info);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_create(struct keel_hv *hv, uint32_t *poolid_io,
                       enum keel_scheduler sched)
{
    int rc =
        keel__hv_begin(hv, hv->ops->cpupool_create != NULL, "cpupool_create");

    if (rc == 0 && (!poolid_io))
        rc = null_arg(hv, "cpupool_create");
    if (rc == 0)
        rc = hv->ops->cpupool_create(hv, poolid_io, sched);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_destroy(struct keel_hv *hv, uint32_t poolid)
{
    int rc =
        keel__hv_begin(hv, hv->ops->cpupool_destroy != NULL, "cpupool_destroy");

    if (rc == 0)
        rc = hv->ops->cpupool_destroy(hv, poolid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_info(struct keel_hv *hv, uint32_t poolid,
                     struct keel_hv_poolinfo *info)
{
    int rc = keel__hv_begin(hv, hv->ops->cpupool_info != NULL, "cpupool_info");

    if (rc == 0 && (!info))
        rc = null_arg(hv, "cpupool_info");
    if (rc == 0)
        rc = hv->ops->cpupool_info(hv, poolid, info);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos,
                     size_t max, size_t *n_r)
{
    int rc = keel__hv_begin(hv, hv->ops->cpupool_list != NULL, "cpupool_list");

    if (rc == 0 && (!n_r))
        rc = null_arg(hv, "cpupool_list");
    if (rc == 0)
        rc = hv->ops->cpupool_list(hv, infos, max, n_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_add_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu)
{
    int rc =
        keel__hv_begin(hv, hv->ops->cpupool_add_cpu != NULL, "cpupool_add_cpu");

    if (rc == 0)
        rc = hv->ops->cpupool_add_cpu(hv, poolid, cpu);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_remove_cpu(struct keel_hv *hv, uint32_t poolid, uint32_t cpu)
{
    int rc = keel__hv_begin(hv, hv->ops->cpupool_remove_cpu != NULL,
                            "cpupool_remove_cpu");

    if (rc == 0)
        rc = hv->ops->cpupool_remove_cpu(hv, poolid, cpu);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_move_domain(struct keel_hv *hv, uint32_t poolid, uint32_t domid)
{
    int rc = keel__hv_begin(hv, hv->ops->cpupool_move_domain != NULL,
                            "cpupool_move_domain");

    if (rc == 0)
        rc = hv->ops->cpupool_move_domain(hv, poolid, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_cpupool_free_cpus(struct keel_hv *hv, struct keel_cpumap *map)
{
    int rc = keel__hv_begin(hv, hv->ops->cpupool_free_cpus != NULL,
                            "cpupool_free_cpus");

    if (rc == 0 && (!map))
        rc = null_arg(hv, "cpupool_free_cpus");
    if (rc == 0)
        rc = hv->ops->cpupool_free_cpus(hv, map);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_sched_domain_get(struct keel_hv *hv, uint32_t domid,
                         struct keel_hv_sched_dom *params)
{
    int rc = keel__hv_begin(hv, hv->ops->sched_domain_get != NULL,
                            "sched_domain_get");

    if (rc == 0 && (!params))
        rc = null_arg(hv, "sched_domain_get");
    if (rc == 0)
        rc = hv->ops->sched_domain_get(hv, domid, params);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_sched_domain_set(struct keel_hv *hv, uint32_t domid,
                         const struct keel_hv_sched_dom *params)
{
    int rc = keel__hv_begin(hv, hv->ops->sched_domain_set != NULL,
                            "sched_domain_set");

    if (rc == 0 && (!params))
        rc = null_arg(hv, "sched_domain_set");
    if (rc == 0)
        rc = hv->ops->sched_domain_set(hv, domid, params);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_sched_rtds_get(struct keel_hv *hv, uint32_t domid,
                       struct keel_hv_sched_rtds *vcpus, size_t n)
{
    int rc =
        keel__hv_begin(hv, hv->ops->sched_rtds_get != NULL, "sched_rtds_get");

    if (rc == 0 && (!vcpus))
        rc = null_arg(hv, "sched_rtds_get");
    if (rc == 0)
        rc = hv->ops->sched_rtds_get(hv, domid, vcpus, n);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_sched_rtds_set(struct keel_hv *hv, uint32_t domid,
                       const struct keel_hv_sched_rtds *vcpus, size_t n)
{
    int rc =
        keel__hv_begin(hv, hv->ops->sched_rtds_set != NULL, "sched_rtds_set");

    if (rc == 0 && (!vcpus))
        rc = null_arg(hv, "sched_rtds_set");
    if (rc == 0)
        rc = hv->ops->sched_rtds_set(hv, domid, vcpus, n);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_sched_pool_get(struct keel_hv *hv, uint32_t poolid,
                       struct keel_hv_sched_pool *params)
{
    int rc =
        keel__hv_begin(hv, hv->ops->sched_pool_get != NULL, "sched_pool_get");

    if (rc == 0 && (!params))
        rc = null_arg(hv, "sched_pool_get");
    if (rc == 0)
        rc = hv->ops->sched_pool_get(hv, poolid, params);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_sched_pool_set(struct keel_hv *hv, uint32_t poolid,
                       const struct keel_hv_sched_pool *params)
{
    int rc =
        keel__hv_begin(hv, hv->ops->sched_pool_set != NULL, "sched_pool_set");

    if (rc == 0 && (!params))
        rc = null_arg(hv, "sched_pool_set");
    if (rc == 0)
        rc = hv->ops->sched_pool_set(hv, poolid, params);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_store_read(struct keel_hv *hv, const char *path, char **val_r,
                   size_t *len_r)
{
    int rc = keel__hv_begin(hv, hv->ops->store_read != NULL, "store_read");

    if (rc == 0 && (!path || !val_r))
        rc = null_arg(hv, "store_read");
    if (rc == 0)
        rc = hv->ops->store_read(hv, path, val_r, len_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_store_write(struct keel_hv *hv, const char *path, const void *val,
                    size_t len)
{
    int rc = keel__hv_begin(hv, hv->ops->store_write != NULL, "store_write");

    if (rc == 0 && (!path))
        rc = null_arg(hv, "store_write");
    if (rc == 0)
        rc = hv->ops->store_write(hv, path, val, len);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_store_remove(struct keel_hv *hv, const char *path)
{
    int rc = keel__hv_begin(hv, hv->ops->store_remove != NULL, "store_remove");

    if (rc == 0 && (!path))
        rc = null_arg(hv, "store_remove");
    if (rc == 0)
        rc = hv->ops->store_remove(hv, path);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_store_list(struct keel_hv *hv, const char *path, char ***names_r,
                   size_t *n_r)
{
    int rc = keel__hv_begin(hv, hv->ops->store_list != NULL, "store_list");

    if (rc == 0 && (!path || !names_r || !n_r))
        rc = null_arg(hv, "store_list");
    if (rc == 0)
        rc = hv->ops->store_list(hv, path, names_r, n_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_store_watch(struct keel_hv *hv, const char *path, const char *token)
{
    int rc = keel__hv_begin(hv, hv->ops->store_watch != NULL, "store_watch");

    if (rc == 0 && (!path || !token))
        rc = null_arg(hv, "store_watch");
    if (rc == 0)
        rc = hv->ops->store_watch(hv, path, token);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_store_unwatch(struct keel_hv *hv, const char *path, const char *token)
{
    int rc =
        keel__hv_begin(hv, hv->ops->store_unwatch != NULL, "store_unwatch");

    if (rc == 0 && (!path || !token))
        rc = null_arg(hv, "store_unwatch");
    if (rc == 0)
        rc = hv->ops->store_unwatch(hv, path, token);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_event_fd(struct keel_hv *hv)
{
    int rc = keel__hv_begin(hv, hv->ops->event_fd != NULL, "event_fd");

    if (rc == 0)
        rc = hv->ops->event_fd(hv);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_event_read(struct keel_hv *hv, struct keel_hv_event *evs, size_t max,
                   size_t *n_r)
{
    int rc = keel__hv_begin(hv, hv->ops->event_read != NULL, "event_read");

    if (rc == 0 && (!n_r))
        rc = null_arg(hv, "event_read");
    if (rc == 0)
        rc = hv->ops->event_read(hv, evs, max, n_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_mem_max_pfn(struct keel_hv *hv, uint32_t domid, uint64_t *pfn_r)
{
    int rc = keel__hv_begin(hv, hv->ops->mem_max_pfn != NULL, "mem_max_pfn");

    if (rc == 0 && (!pfn_r))
        rc = null_arg(hv, "mem_max_pfn");
    if (rc == 0)
        rc = hv->ops->mem_max_pfn(hv, domid, pfn_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_mem_map(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                size_t n, unsigned int flags, void **addr_r)
{
    int rc = keel__hv_begin(hv, hv->ops->mem_map != NULL, "mem_map");

    if (rc == 0 && (!pfns || !addr_r))
        rc = null_arg(hv, "mem_map");
    if (rc == 0 && (flags & ~(KEEL_HV_MAP_WRITE | KEEL_HV_MAP_FILL)))
        rc = keel_error(keel_hv_ctx(hv), KEEL_EINVAL,
                        "mem_map: unknown flags %#x", flags);
    if (rc == 0 && flags == KEEL_HV_MAP_FILL)
        rc = keel_error(keel_hv_ctx(hv), KEEL_EINVAL,
                        "mem_map: FILL without WRITE");
    if (rc == 0)
        rc = hv->ops->mem_map(hv, domid, pfns, n, flags, addr_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_mem_unmap(struct keel_hv *hv, void *addr, size_t n)
{
    int rc = keel__hv_begin(hv, hv->ops->mem_unmap != NULL, "mem_unmap");

    if (rc == 0 && (!addr))
        rc = null_arg(hv, "mem_unmap");
    if (rc == 0)
        rc = hv->ops->mem_unmap(hv, addr, n);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_mem_page_types(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                       size_t n, uint32_t *types)
{
    int rc =
        keel__hv_begin(hv, hv->ops->mem_page_types != NULL, "mem_page_types");

    if (rc == 0 && (!pfns || !types))
        rc = null_arg(hv, "mem_page_types");
    if (rc == 0)
        rc = hv->ops->mem_page_types(hv, domid, pfns, n, types);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_logdirty_enable(struct keel_hv *hv, uint32_t domid)
{
    int rc =
        keel__hv_begin(hv, hv->ops->logdirty_enable != NULL, "logdirty_enable");

    if (rc == 0)
        rc = hv->ops->logdirty_enable(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_logdirty_disable(struct keel_hv *hv, uint32_t domid)
{
    int rc = keel__hv_begin(hv, hv->ops->logdirty_disable != NULL,
                            "logdirty_disable");

    if (rc == 0)
        rc = hv->ops->logdirty_disable(hv, domid);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_logdirty_read(struct keel_hv *hv, uint32_t domid, uint8_t *bitmap,
                      uint64_t nr_pfns, unsigned int flags, uint64_t *dirty_r)
{
    int rc =
        keel__hv_begin(hv, hv->ops->logdirty_read != NULL, "logdirty_read");

    if (rc == 0 && (!dirty_r))
        rc = null_arg(hv, "logdirty_read");
    if (rc == 0)
        rc = hv->ops->logdirty_read(hv, domid, bitmap, nr_pfns, flags, dirty_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_context_get(struct keel_hv *hv, uint32_t domid,
                    enum keel_hv_ctx_kind kind, uint32_t index, void **buf_r,
                    size_t *len_r)
{
    int rc = keel__hv_begin(hv, hv->ops->context_get != NULL, "context_get");

    if (rc == 0 && (!buf_r || !len_r))
        rc = null_arg(hv, "context_get");
    if (rc == 0)
        rc = hv->ops->context_get(hv, domid, kind, index, buf_r, len_r);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT int
keel_hv_context_set(struct keel_hv *hv, uint32_t domid,
                    enum keel_hv_ctx_kind kind, uint32_t index, const void *buf,
                    size_t len)
{
    int rc = keel__hv_begin(hv, hv->ops->context_set != NULL, "context_set");

    if (rc == 0)
        rc = hv->ops->context_set(hv, domid, kind, index, buf, len);
    return keel__hv_end(hv, rc);
}

KEEL_EXPORT bool
keel_hv_has_image_ops(const struct keel_hv *hv)
{
    return hv && hv->ops->image_save && hv->ops->image_restore;
}

KEEL_EXPORT int
keel_hv_image_save(struct keel_hv *hv, uint32_t domid, int fd,
                   unsigned int flags,
                   const struct keel_hv_image_policy *policy)
{
    int rc = image_begin(hv, hv->ops->image_save != NULL, "image_save");

    if (rc == 0)
        rc = hv->ops->image_save(hv, domid, fd, flags, policy);
    keel__leave(hv->ctx);
    return rc;
}

KEEL_EXPORT int
keel_hv_image_restore(struct keel_hv *hv, uint32_t domid, int fd,
                      unsigned int flags)
{
    int rc = image_begin(hv, hv->ops->image_restore != NULL, "image_restore");

    if (rc == 0)
        rc = hv->ops->image_restore(hv, domid, fd, flags);
    keel__leave(hv->ctx);
    return rc;
}

KEEL_EXPORT int
keel_hv_store_write_str(struct keel_hv *hv, const char *path, const char *val)
{
    return keel_hv_store_write(hv, path, val, val ? strlen(val) : 0);
}

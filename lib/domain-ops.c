/* domain-ops.c: what can be done to a domain between create and destroy
 * (pause, resume, rename, memory, vCPUs, affinity) and what can be asked of it
 * (lookup, info, list, vCPU list, config)
 *
 * Each call checks the state machine of domain.h first (keel__dom_check),
 * then changes the hypervisor or the store, then brings the domain's
 * config up to date and saves it, so a restart gets what the domain has
 * now.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host-internal.h"

#define MIN_TARGET_KB 1024 /* a guest below 1 MiB cannot run */

static int
pause_op(struct keel_host *host, uint32_t domid, bool pause)
{
    struct keel__dom *d;
    int rc;

    keel__host_begin(host);
    rc = keel__dom_check(
        host, domid, pause ? "pause" : "unpause",
        KEEL__ST(pause ? KEEL_DOMAIN_RUNNING : KEEL_DOMAIN_PAUSED), false, &d,
        NULL);
    if (rc == 0)
        rc = pause ? keel_hv_domain_pause(host->hv, domid)
                   : keel_hv_domain_unpause(host->hv, domid);
    if (rc == 0)
        keel__event_queue(
            host, pause ? KEEL_DOMAIN_EVENT_PAUSED : KEEL_DOMAIN_EVENT_UNPAUSED,
            d, domid);
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_domain_pause(struct keel_host *host, uint32_t domid)
{
    return host ? pause_op(host, domid, true) : KEEL_EINVAL;
}

KEEL_EXPORT int
keel_domain_unpause(struct keel_host *host, uint32_t domid)
{
    return host ? pause_op(host, domid, false) : KEEL_EINVAL;
}

KEEL_EXPORT int
keel_domain_resume(struct keel_host *host, uint32_t domid, bool paused)
{
    struct keel_hv_dominfo info;
    struct keel__dom *d;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__dom_check(host, domid, "resume", KEEL__ST(KEEL_DOMAIN_SHUTDOWN),
                         false, &d, &info);
    if (rc == 0 && info.shutdown_reason != KEEL_SHUTDOWN_SUSPEND)
        rc = keel_error(host->ctx, KEEL_ESTATE,
                        "resume: domain %u (%s) stopped (%s), not suspended",
                        domid, d->cfg.name,
                        keel_shutdown_reason_name(info.shutdown_reason));
    /* Paused first, so that the resumed guest stays paused. */
    if (rc == 0 && !(info.flags & KEEL_DOMF_PAUSED))
        rc = keel_hv_domain_pause(host->hv, domid);
    if (rc == 0)
        rc = keel_hv_domain_resume(host->hv, domid);
    if (rc == 0)
        rc = keel__dom_changed(host, d); /* no longer stopped */
    if (rc == 0 && !paused)
        rc = keel_hv_domain_unpause(host->hv, domid);
    if (rc == 0)
        keel__event_queue(host,
                          paused ? KEEL_DOMAIN_EVENT_PAUSED
                                 : KEEL_DOMAIN_EVENT_UNPAUSED,
                          d, domid);
    return keel__host_end(host, rc);
}

static int
rename_locked(struct keel_host *host, uint32_t domid, const char *name)
{
    struct keel__dom *d, *other;
    char path[96], u[37], *old;
    int rc = keel__dom_check(host, domid, "rename",
                             KEEL__ST_LIVE | KEEL__ST(KEEL_DOMAIN_SHUTDOWN),
                             false, &d, NULL);

    if (rc == 0)
        rc = keel__name_check(host->ctx, "domain", name);
    if (rc)
        return rc;
    other = keel__dom_by_name(host, name);
    if (other == d)
        return 0;
    if (other || !strcmp(name, "Domain-0"))
        return keel_error(host->ctx, KEEL_EEXIST, "a domain called '%s' exists",
                          name);
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    rc = keel__store_printf(host, path, "%s", name);
    keel_uuid_format(d->uuid, u);
    snprintf(path, sizeof(path), "/vm/%s/name", u);
    if (rc == 0)
        rc = keel__store_printf(host, path, "%s", name);
    if (rc == 0 && !(old = d->cfg.name, d->cfg.name = strdup(name))) {
        d->cfg.name = old;
        rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    }
    if (rc)
        return rc;
    keel__dom_renamed(host, d, old, d->uuid);
    free(old);
    keel__event_queue(host, KEEL_DOMAIN_EVENT_RENAMED, d, domid);
    return keel__dom_save(host, d);
}

KEEL_EXPORT int
keel_domain_rename(struct keel_host *host, uint32_t domid, const char *name)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, rename_locked(host, domid, name));
}

static int
mem_set_locked(struct keel_host *host, uint32_t domid, uint64_t target_kb)
{
    struct keel_hv_dominfo info;
    struct keel__dom *d;
    char path[64];
    int rc = keel__dom_check(host, domid, "mem-set", KEEL__ST_LIVE, false, &d,
                             &info);

    if (rc)
        return rc;
    if (target_kb % 4 || target_kb < MIN_TARGET_KB || target_kb > info.max_kb)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "mem-set: %" PRIu64 " KiB is not %d KiB..the "
                          "domain's maximum (%" PRIu64 " KiB) in 4 KiB pages",
                          target_kb, MIN_TARGET_KB, info.max_kb);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
    rc = keel__store_printf(host, path, "%" PRIu64, target_kb);
    if (rc)
        return rc;
    d->cfg.memory_kb = (int64_t)target_kb;
    return keel__dom_save(host, d);
}

KEEL_EXPORT int
keel_domain_mem_set(struct keel_host *host, uint32_t domid, uint64_t target_kb)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, mem_set_locked(host, domid, target_kb));
}

static int
mem_max_locked(struct keel_host *host, uint32_t domid, uint64_t max_kb)
{
    struct keel_hv_physinfo pi;
    struct keel__dom *d;
    char path[64];
    int rc =
        keel__dom_check(host, domid, "mem-max", KEEL__ST_LIVE, false, &d, NULL);

    if (rc == 0)
        rc = keel_hv_physinfo(host->hv, &pi);
    if (rc)
        return rc;
    if (max_kb % 4 || max_kb < (uint64_t)d->cfg.memory_kb ||
        max_kb > pi.total_kb)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "mem-max: %" PRIu64 " KiB is not the target (%" PRId64
                          " KiB)..host memory (%" PRIu64 " KiB) in 4 KiB "
                          "pages",
                          max_kb, d->cfg.memory_kb, pi.total_kb);
    rc = keel_hv_domain_set_max_mem(host->hv, domid, max_kb);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/static-max", domid);
    if (rc == 0)
        rc = keel__store_printf(host, path, "%" PRIu64, max_kb);
    if (rc)
        return rc;
    d->cfg.maxmem_kb = (int64_t)max_kb;
    return keel__dom_save(host, d);
}

KEEL_EXPORT int
keel_domain_mem_max(struct keel_host *host, uint32_t domid, uint64_t max_kb)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, mem_max_locked(host, domid, max_kb));
}

static int
vcpu_set_locked(struct keel_host *host, uint32_t domid, uint32_t count)
{
    struct keel_hv_dominfo info;
    struct keel__dom *d;
    char path[96];
    uint32_t v;
    int rc = keel__dom_check(host, domid, "vcpu-set", KEEL__ST_LIVE, false, &d,
                             &info);

    if (rc)
        return rc;
    if (count < 1 || count > info.max_vcpus)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "vcpu-set: %u is not 1..maxvcpus (%u)", count,
                          info.max_vcpus);
    for (v = 0; rc == 0 && v < info.max_vcpus; v++) {
        snprintf(path, sizeof(path), "/local/domain/%u/cpu/%u/availability",
                 domid, v);
        rc = keel__store_printf(host, path, "%s",
                                v < count ? "online" : "offline");
    }
    if (rc)
        return rc;
    d->cfg.vcpus = count;
    return keel__dom_save(host, d);
}

KEEL_EXPORT int
keel_domain_vcpu_set(struct keel_host *host, uint32_t domid, uint32_t count)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, vcpu_set_locked(host, domid, count));
}

/* --- affinity --- */

/* The spec text of a map: "all" for every host CPU, else its ranges. */
static int
map_spec(struct keel_host *host, const struct keel_cpumap *map, char **spec_r)
{
    struct keel_cpumap all;
    char buf[16384];

    keel_cpumap_fill(&all, host->nr_cpus);
    if (keel_cpumap_subset(&all, map))
        snprintf(buf, sizeof(buf), "all");
    else
        keel_cpumap_format(map, buf, sizeof(buf));
    *spec_r = keel__strdup(host->ctx, buf);
    return *spec_r ? 0 : KEEL_ENOMEM;
}

/* Replaces aff with n specs, one per vCPU, collapsed to one when equal. */
static void
set_affinity(struct keel_affinity_config *aff, char **specs, uint32_t n)
{
    uint32_t v;
    bool same = true;

    for (v = 1; v < n; v++)
        same = same && !strcmp(specs[v], specs[0]);
    for (v = 0; v < aff->count; v++)
        free(aff->specs[v]);
    free(aff->specs);
    aff->per_vcpu = !same;
    aff->count = same ? 1 : n;
    aff->specs = specs;
    if (same)
        for (v = 1; v < n; v++) {
            free(specs[v]);
            specs[v] = NULL;
        }
    if (same && !strcmp(specs[0], "all")) { /* the default: leave unset */
        free(specs[0]);
        free(specs);
        aff->specs = NULL;
        aff->count = 0;
    }
}

int
keel__dom_sync_affinity(struct keel_host *host, struct keel__dom *d)
{
    uint32_t v, n = (uint32_t)d->cfg.maxvcpus;
    char **hard = calloc(n, sizeof(char *)), **soft = calloc(n, sizeof(char *));
    int rc = hard && soft ? 0 : keel_error(host->ctx, KEEL_ENOMEM, "oom");

    for (v = 0; rc == 0 && v < n; v++) {
        struct keel_hv_vcpuinfo vi;

        rc = keel_hv_vcpu_info(host->hv, d->domid, v, &vi);
        if (rc == 0)
            rc = map_spec(host, &vi.hard, &hard[v]);
        if (rc == 0)
            rc = map_spec(host, &vi.soft, &soft[v]);
    }
    if (rc == 0) {
        set_affinity(&d->cfg.cpus, hard, n);
        set_affinity(&d->cfg.cpus_soft, soft, n);
        return keel__dom_save(host, d);
    }
    for (v = 0; v < n; v++) {
        free(hard ? hard[v] : NULL);
        free(soft ? soft[v] : NULL);
    }
    free(hard);
    free(soft);
    return rc;
}

static int
check_pin(struct keel_host *host, uint32_t poolid,
          const struct keel_cpumap *hard, const struct keel_cpumap *soft)
{
    struct keel_hv_poolinfo pool;
    struct keel_cpumap all;
    char buf[256];
    int rc = keel_hv_cpupool_info(host->hv, poolid, &pool);

    if (rc)
        return rc;
    keel_cpumap_fill(&all, host->nr_cpus);
    if ((hard && keel_cpumap_is_empty(hard)) ||
        (soft && keel_cpumap_is_empty(soft)))
        return keel_error(host->ctx, KEEL_EINVAL, "vcpu-pin: no CPU given");
    if (soft && !keel_cpumap_subset(soft, &all))
        return keel_error(host->ctx, KEEL_EINVAL,
                          "vcpu-pin: soft affinity names a CPU the host "
                          "lacks (it has %u)",
                          host->nr_cpus);
    if (hard && !keel_cpumap_equal(hard, &all) &&
        !keel_cpumap_subset(hard, &pool.cpus)) {
        keel_cpumap_format(&pool.cpus, buf, sizeof(buf));
        return keel_error(host->ctx, KEEL_EINVAL,
                          "vcpu-pin: hard affinity must be 'all' or CPUs of "
                          "the domain's pool (%s)",
                          buf);
    }
    return 0;
}

/* Sets vCPUs first..last; on a failure half-way puts back what was. */
static int
pin_range(struct keel_host *host, uint32_t domid, uint32_t first, uint32_t last,
          const struct keel_cpumap *hard, const struct keel_cpumap *soft)
{
    struct keel_hv_vcpuinfo *old = calloc(last - first + 1, sizeof(*old));
    uint32_t v;
    int rc = old ? 0 : keel_error(host->ctx, KEEL_ENOMEM, "out of memory");

    for (v = first; rc == 0 && v <= last; v++)
        rc = keel_hv_vcpu_info(host->hv, domid, v, &old[v - first]);
    for (v = first; rc == 0 && v <= last; v++) {
        rc = keel_hv_vcpu_set_affinity(host->hv, domid, v, hard, soft);
        while (rc && v-- > first)
            (void)keel_hv_vcpu_set_affinity(
                host->hv, domid, v, &old[v - first].hard, &old[v - first].soft);
    }
    free(old);
    return rc;
}

static int
pin_locked(struct keel_host *host, uint32_t domid, uint32_t vcpu,
           const struct keel_cpumap *hard, const struct keel_cpumap *soft)
{
    struct keel_hv_dominfo info;
    struct keel__dom *d;
    int rc = keel__dom_check(host, domid, "vcpu-pin", KEEL__ST_LIVE, true, &d,
                             &info);

    if (rc)
        return rc;
    if (vcpu != KEEL_VCPU_ALL && vcpu >= info.max_vcpus)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "vcpu-pin: domain %u has no vCPU %u (it has %u)",
                          domid, vcpu, info.max_vcpus);
    if (!hard && !soft)
        return 0;
    rc = check_pin(host, info.poolid, hard, soft);
    if (rc == 0)
        rc = pin_range(host, domid, vcpu == KEEL_VCPU_ALL ? 0 : vcpu,
                       vcpu == KEEL_VCPU_ALL ? info.max_vcpus - 1 : vcpu, hard,
                       soft);
    if (rc == 0 && d)
        rc = keel__dom_sync_affinity(host, d);
    return rc;
}

KEEL_EXPORT int
keel_domain_vcpu_pin(struct keel_host *host, uint32_t domid, uint32_t vcpu,
                     const struct keel_cpumap *hard,
                     const struct keel_cpumap *soft)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, pin_locked(host, domid, vcpu, hard, soft));
}

/* --- asking --- */

static bool
all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int
lookup_locked(struct keel_host *host, const char *text, uint32_t *domid_r)
{
    struct keel__dom *d = NULL;
    uint8_t uuid[16];
    uint64_t v;

    if (all_digits(text) && keel__parse_u64(text, &v) &&
        v < KEEL_DOMID_FIRST_RESERVED && (v == 0 || keel__dom_find(host, v))) {
        *domid_r = (uint32_t)v;
        return 0;
    }
    if (!strcmp(text, "Domain-0")) {
        *domid_r = 0;
        return 0;
    }
    if (keel_uuid_parse(text, uuid) == 0)
        d = keel__dom_by_uuid(host, uuid);
    if (!d)
        d = keel__dom_by_name(host, text);
    if (!d)
        return keel_error(host->ctx, KEEL_ENODOMAIN, "no domain called '%s'",
                          text);
    *domid_r = d->domid;
    return 0;
}

KEEL_EXPORT int
keel_domain_lookup(struct keel_host *host, const char *name_or_id,
                   uint32_t *domid_r)
{
    if (!host || !name_or_id || !domid_r)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, lookup_locked(host, name_or_id, domid_r));
}

/* Domain-0's target is what its store node says, or what it holds. */
static uint64_t
dom0_target(struct keel_host *host, uint64_t tot_kb)
{
    bool had = keel__error_isset(host->ctx);
    char *val = NULL;
    uint64_t v = tot_kb;
    size_t len;

    if (keel_hv_store_read(host->hv, "/local/domain/0/memory/target", &val,
                           &len) == 0)
        (void)keel__parse_u64(val, &v);
    else
        keel__error_unrecord(host->ctx, had);
    free(val);
    return v;
}

static void
fill_info(struct keel_host *host, const struct keel_hv_dominfo *hi,
          struct keel_domain_info *info)
{
    const struct keel__dom *d = keel__dom_find(host, hi->domid);
    uint64_t now = keel__wall_ns();

    memset(info, 0, sizeof(*info));
    info->domid = hi->domid;
    memcpy(info->uuid, hi->uuid, 16);
    snprintf(info->name, sizeof(info->name), "%s",
             d           ? d->cfg.name
             : hi->domid ? "(unknown)"
                         : "Domain-0");
    info->type = hi->type;
    info->state = keel__state_of(hi);
    if (hi->flags & KEEL_DOMF_SHUTDOWN)
        info->reason = hi->shutdown_reason;
    info->hv_flags = hi->flags;
    info->mem_kb = hi->tot_kb;
    info->target_kb =
        d ? (uint64_t)d->cfg.memory_kb : dom0_target(host, hi->tot_kb);
    info->max_kb = hi->max_kb;
    info->online_vcpus = hi->online_vcpus;
    info->max_vcpus = hi->max_vcpus;
    info->cpu_time_ns = hi->cpu_time_ns;
    info->poolid = hi->poolid;
    keel__pool_name(host, hi->poolid, info->pool);
    info->adopted = d && d->adopted;
    if (d && d->start_time_ns) {
        info->start_time_ns = d->start_time_ns;
        info->uptime_ns = now > d->start_time_ns ? now - d->start_time_ns : 0;
    }
}

KEEL_EXPORT int
keel_domain_info(struct keel_host *host, uint32_t domid,
                 struct keel_domain_info *info)
{
    struct keel_hv_dominfo hi;
    int rc;

    if (!host || !info)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__dom_check(host, domid, "info", ~0u, true, NULL, &hi);
    if (rc == 0)
        fill_info(host, &hi, info);
    return keel__host_end(host, rc);
}

static int
list_locked(struct keel_host *host, struct keel_domain_info **infos_r,
            size_t *n_r)
{
    struct keel_hv_dominfo batch[256];
    struct keel_domain_info *all = NULL, *grown;
    size_t n = 0, cap = 0, got, i;
    uint32_t first = 0;
    int rc;

    do {
        rc = keel_hv_domain_list(host->hv, first, batch, ARRAY_SIZE(batch),
                                 &got);
        if (rc == 0 && n + got > cap) {
            cap = (n + got) * 2;
            grown = realloc(all, cap * sizeof(*all));
            if (!grown)
                rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
            else
                all = grown;
        }
        for (i = 0; rc == 0 && i < got; i++) {
            fill_info(host, &batch[i], &all[n++]);
            first = batch[i].domid + 1;
        }
    } while (rc == 0 && got == ARRAY_SIZE(batch));
    if (rc) {
        free(all);
        return rc;
    }
    *infos_r = all;
    *n_r = n;
    return 0;
}

KEEL_EXPORT int
keel_domain_list(struct keel_host *host, struct keel_domain_info **infos_r,
                 size_t *n_r)
{
    if (!host || !infos_r || !n_r)
        return KEEL_EINVAL;
    *infos_r = NULL;
    *n_r = 0;
    keel__host_begin(host);
    return keel__host_end(host, list_locked(host, infos_r, n_r));
}

KEEL_EXPORT int
keel_domain_vcpu_list(struct keel_host *host, uint32_t domid,
                      struct keel_hv_vcpuinfo **vcpus_r, size_t *n_r)
{
    struct keel_hv_dominfo hi;
    struct keel_hv_vcpuinfo *v = NULL;
    uint32_t i;
    int rc;

    if (!host || !vcpus_r || !n_r)
        return KEEL_EINVAL;
    *vcpus_r = NULL;
    *n_r = 0;
    keel__host_begin(host);
    rc = keel__dom_check(host, domid, "vcpu-list", ~0u, true, NULL, &hi);
    if (rc == 0 && !(v = calloc(hi.max_vcpus, sizeof(*v))))
        rc = keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    for (i = 0; rc == 0 && i < hi.max_vcpus; i++)
        rc = keel_hv_vcpu_info(host->hv, domid, i, &v[i]);
    if (rc == 0) {
        *vcpus_r = v;
        *n_r = hi.max_vcpus;
    } else {
        free(v);
    }
    return keel__host_end(host, rc);
}

KEEL_EXPORT int
keel_domain_config_get(struct keel_host *host, uint32_t domid,
                       struct keel_domain_config *cfg)
{
    struct keel__dom *d;
    int rc;

    if (!host || !cfg)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__dom_check(host, domid, "config", ~0u, true, &d, NULL);
    if (rc == 0 && !d)
        rc = keel_error(host->ctx, KEEL_ENOENT,
                        "Domain-0 has no keel configuration");
    if (rc == 0)
        rc = keel_domain_config_copy(host->ctx, cfg, &d->cfg);
    return keel__host_end(host, rc);
}

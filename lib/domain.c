/* domain.c: creating and destroying domains, asking guests to stop, and
 * the on_* actions when they do
 *
 * Create is two steps. plan() copies the config, fills defaults and
 * checks everything against the host (names, pool, CPUs, memory,
 * scheduler settings) while nothing is allocated, so most refusals cost
 * nothing to undo. build() then makes the domain: the hypervisor's
 * domain, the store nodes, affinity and scheduler settings, the record
 * and its file, in that order; if a step fails, unbuild() takes back
 * everything, so a failed create leaves no trace.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host-internal.h"

/* RTDS's defaults for a vCPU (Xen's RTDS_DEFAULT_PERIOD/BUDGET). */
#define RTDS_DEFAULT_PERIOD_US 10000
#define RTDS_DEFAULT_BUDGET_US 4000
#define CREDIT_DEFAULT_WEIGHT 256

/* What create checked and will apply. */
struct plan {
    struct keel_domain_config cfg; /* with defaults */
    struct keel_hv_poolinfo pool;
    struct keel_cpumap *hard; /* max_vcpus maps, or NULL: leave "all" */
    struct keel_cpumap *soft;
    struct keel_hv_sched_dom sched;
    struct keel_hv_sched_rtds *rtds; /* max_vcpus entries, or NULL */
};

static void
plan_dispose(struct plan *p)
{
    keel_domain_config_dispose(&p->cfg);
    free(p->hard);
    free(p->soft);
    free(p->rtds);
    memset(p, 0, sizeof(*p));
    keel_domain_config_init(&p->cfg);
}

static int
check_actions(struct keel_ctx *ctx, const struct keel_domain_config *cfg)
{
    int i;

    for (i = 0; i < KEEL_ON_COUNT; i++)
        if (cfg->on[i] == KEEL_ACTION_COREDUMP_DESTROY ||
            cfg->on[i] == KEEL_ACTION_COREDUMP_RESTART)
            return keel_error(ctx, KEEL_ENOTSUP,
                              "%s=%s: keel cannot write core dumps yet; "
                              "use destroy or restart",
                              keel_event_name(i), keel_action_name(cfg->on[i]));
    return 0;
}

static int
check_identity(struct keel_host *host, struct plan *p)
{
    char u[37];
    int rc = keel__name_check(host->ctx, "domain", p->cfg.name);

    if (rc)
        return rc;
    if (!strcmp(p->cfg.name, "Domain-0") ||
        keel__dom_by_name(host, p->cfg.name))
        return keel_error(host->ctx, KEEL_EEXIST, "a domain called '%s' exists",
                          p->cfg.name);
    keel_uuid_format(p->cfg.uuid, u);
    if (keel__dom_by_uuid(host, p->cfg.uuid))
        return keel_error(host->ctx, KEEL_EEXIST,
                          "a domain with uuid %s exists", u);
    return 0;
}

static int
check_pool(struct keel_host *host, struct plan *p)
{
    uint32_t poolid = 0;
    char name[KEEL_NAME_MAX + 1];
    int rc = 0;

    if (p->cfg.pool)
        rc = keel__pool_by_name(host, p->cfg.pool, &poolid);
    if (rc == 0)
        rc = keel_hv_cpupool_info(host->hv, poolid, &p->pool);
    if (rc)
        return rc;
    if (keel_cpumap_is_empty(&p->pool.cpus))
        return keel_error(host->ctx, KEEL_EINVAL,
                          "pool: CPU pool '%s' has no CPUs",
                          p->cfg.pool ? p->cfg.pool : "Pool-0");
    if (!p->cfg.pool) { /* the record says where it runs */
        keel__pool_name(host, poolid, name);
        p->cfg.pool = keel__strdup(host->ctx, name);
        if (!p->cfg.pool)
            return KEEL_ENOMEM;
    }
    return 0;
}

static int
check_size(struct keel_host *host, struct plan *p)
{
    struct keel_hv_physinfo pi;
    int64_t limit =
        p->cfg.type == KEEL_DOMAIN_PV ? KEEL_MAX_VCPUS_PV : KEEL_MAX_VCPUS_HVM;
    int rc;

    if (p->cfg.maxvcpus > limit)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "maxvcpus: %" PRId64 " is over the %" PRId64
                          " a %s domain may have",
                          p->cfg.maxvcpus, limit,
                          keel_domain_type_name(p->cfg.type));
    if (p->cfg.memory_kb % 4 || p->cfg.maxmem_kb % 4)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "memory: %" PRId64 " KiB is not whole 4 KiB pages",
                          p->cfg.memory_kb % 4 ? p->cfg.memory_kb
                                               : p->cfg.maxmem_kb);
    rc = keel_hv_physinfo(host->hv, &pi);
    if (rc)
        return rc;
    if ((uint64_t)p->cfg.maxmem_kb > pi.total_kb)
        return keel_error(host->ctx, KEEL_EINVAL,
                          "maxmem: %" PRId64 " KiB is more than the host "
                          "has (%" PRIu64 " KiB)",
                          p->cfg.maxmem_kb, pi.total_kb);
    if ((uint64_t)p->cfg.memory_kb > pi.free_kb)
        return keel_error(host->ctx, KEEL_ENOHOSTMEM,
                          "memory: %" PRId64 " KiB wanted, %" PRIu64
                          " KiB free on the host",
                          p->cfg.memory_kb, pi.free_kb);
    return 0;
}

/* One vCPU's spec from an affinity setting: its own, the shared one, or
 * "all" past the end of a per-vCPU list (as xl does). */
static const char *
spec_of(const struct keel_affinity_config *aff, uint32_t vcpu)
{
    if (!aff->per_vcpu)
        return aff->specs[0];
    return vcpu < aff->count ? aff->specs[vcpu] : "all";
}

static int
resolve_affinity(struct keel_host *host, struct plan *p, bool hard,
                 struct keel_cpumap **maps_r)
{
    const struct keel_affinity_config *aff =
        hard ? &p->cfg.cpus : &p->cfg.cpus_soft;
    const char *key = hard ? "cpus" : "cpus_soft";
    uint32_t v, n = (uint32_t)p->cfg.maxvcpus;
    struct keel_cpumap *maps, all;
    char buf[256], pbuf[256];
    int rc = 0;

    if (!aff->specs || aff->count == 0)
        return 0;
    maps = calloc(n, sizeof(*maps));
    if (!maps)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    *maps_r = maps;
    keel_cpumap_fill(&all, host->nr_cpus);
    for (v = 0; v < n && rc == 0; v++) {
        const char *spec = spec_of(aff, v);

        if (!strcmp(spec, "all")) {
            keel_cpumap_fill(&maps[v], host->nr_cpus);
            continue;
        }
        rc = keel_cpuspec_resolve(host->ctx, spec, host->nr_cpus,
                                  host->node_cpus, host->nr_nodes, &maps[v]);
        if (rc) {
            keel__error_prefix(host->ctx, "%s: ", key);
        } else if (hard && !keel_cpumap_subset(&all, &maps[v]) &&
                   !keel_cpumap_subset(&maps[v], &p->pool.cpus)) {
            /* every host CPU is "all", whatever the spelling */
            keel_cpumap_format(&maps[v], buf, sizeof(buf));
            keel_cpumap_format(&p->pool.cpus, pbuf, sizeof(pbuf));
            rc = keel_error(host->ctx, KEEL_EINVAL,
                            "cpus: vCPU %u's CPUs %s are not all in CPU "
                            "pool '%s' (%s)",
                            v, buf, p->cfg.pool, pbuf);
        }
    }
    return rc;
}

/* Scheduler settings the pool's scheduler can take. user is the config
 * as given, to tell a setting from a default; a weight or cap equal to
 * the default (what a kept config holds) is no setting. Outside credit
 * pools the record keeps them unset. */
static int
check_sched(struct keel_host *host, struct plan *p,
            const struct keel_domain_config *user)
{
    enum keel_scheduler s = p->pool.sched;
    bool credit = s == KEEL_SCHED_CREDIT || s == KEEL_SCHED_CREDIT2;
    const char *sname = keel_scheduler_name(s);
    uint32_t v, n = (uint32_t)p->cfg.maxvcpus;
    bool weight = user->cpu_weight != KEEL_UNSET &&
                  user->cpu_weight != CREDIT_DEFAULT_WEIGHT;
    bool cap = user->cap != KEEL_UNSET && user->cap != 0;

    if (!credit && (weight || cap))
        return keel_error(host->ctx, KEEL_EINVAL,
                          "%s: CPU pool '%s' runs %s, which has no weight "
                          "or cap",
                          weight ? "cpu_weight" : "cap", p->cfg.pool, sname);
    if (!credit)
        p->cfg.cpu_weight = p->cfg.cap = KEEL_UNSET;
    if (s != KEEL_SCHED_RTDS &&
        (user->rtds_period != KEEL_UNSET || user->rtds_budget != KEEL_UNSET))
        return keel_error(host->ctx, KEEL_EINVAL,
                          "period/budget: CPU pool '%s' runs %s, not rtds",
                          p->cfg.pool, sname);
    p->sched.sched = s;
    if (credit) {
        p->sched.weight = (uint32_t)p->cfg.cpu_weight;
        p->sched.cap = (uint32_t)p->cfg.cap;
        return keel__sched_check_dom(host->ctx, &p->sched, n);
    }
    if (s != KEEL_SCHED_RTDS || p->cfg.rtds_period == KEEL_UNSET)
        return 0;
    p->rtds = calloc(n, sizeof(*p->rtds));
    if (!p->rtds)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    for (v = 0; v < n; v++) {
        int rc;

        p->rtds[v].vcpu = v;
        p->rtds[v].extratime = true; /* Xen's default since 4.10 */
        p->rtds[v].period_us = (uint32_t)p->cfg.rtds_period;
        p->rtds[v].budget_us = p->cfg.rtds_budget == KEEL_UNSET
                                   ? RTDS_DEFAULT_BUDGET_US
                                   : (uint32_t)p->cfg.rtds_budget;
        rc = keel__sched_check_rtds(host->ctx, &p->rtds[v], n);
        if (rc)
            return rc;
    }
    return 0;
}

static int
plan(struct keel_host *host, const struct keel_domain_config *cfg,
     struct plan *p)
{
    int rc = keel_domain_config_copy(host->ctx, &p->cfg, cfg);

    if (rc == 0)
        rc = keel_domain_config_set_defaults(host->ctx, &p->cfg, 0);
    if (rc == 0)
        rc = check_actions(host->ctx, &p->cfg);
    if (rc == 0)
        rc = check_identity(host, p);
    if (rc == 0)
        rc = check_pool(host, p);
    if (rc == 0)
        rc = check_size(host, p);
    if (rc == 0)
        rc = resolve_affinity(host, p, true, &p->hard);
    if (rc == 0)
        rc = resolve_affinity(host, p, false, &p->soft);
    if (rc == 0)
        rc = check_sched(host, p, cfg);
    return rc;
}

/* The store nodes of a domain, as Xen's toolstack writes them. */
static int
write_store(struct keel_host *host, const struct keel__dom *d)
{
    const struct keel_domain_config *c = &d->cfg;
    char path[128], u[37];
    int64_t v;
    int rc;

    keel_uuid_format(d->uuid, u);
#define DOMPATH(fmt, ...)                                                      \
    (snprintf(path, sizeof(path), "/local/domain/%u/" fmt, d->domid,           \
              ##__VA_ARGS__),                                                  \
     path)
    rc = keel__store_printf(host, DOMPATH("name"), "%s", c->name);
    if (rc == 0)
        rc = keel__store_printf(host, DOMPATH("domid"), "%u", d->domid);
    if (rc == 0)
        rc = keel__store_printf(host, DOMPATH("vm"), "/vm/%s", u);
    if (rc == 0)
        rc = keel__store_printf(host, DOMPATH("memory/static-max"), "%" PRId64,
                                c->maxmem_kb);
    if (rc == 0)
        rc = keel__store_printf(host, DOMPATH("memory/target"), "%" PRId64,
                                c->memory_kb);
    for (v = 0; rc == 0 && v < c->maxvcpus; v++)
        rc =
            keel__store_printf(host, DOMPATH("cpu/%" PRId64 "/availability", v),
                               "%s", v < c->vcpus ? "online" : "offline");
#undef DOMPATH
    snprintf(path, sizeof(path), "/vm/%s/name", u);
    if (rc == 0)
        rc = keel__store_printf(host, path, "%s", c->name);
    snprintf(path, sizeof(path), "/vm/%s/start_time", u);
    if (rc == 0)
        rc = keel__store_printf(host, path, "%" PRIu64, d->start_time_ns);
    return rc;
}

static int
apply_affinity(struct keel_host *host, struct keel__dom *d, struct plan *p)
{
    uint32_t v;
    int rc = 0;

    if (!p->hard && !p->soft)
        return 0;
    for (v = 0; rc == 0 && v < (uint32_t)d->cfg.maxvcpus; v++)
        rc = keel_hv_vcpu_set_affinity(host->hv, d->domid, v,
                                       p->hard ? &p->hard[v] : NULL,
                                       p->soft ? &p->soft[v] : NULL);
    return rc;
}

static int
apply_sched(struct keel_host *host, struct keel__dom *d, struct plan *p)
{
    if (p->sched.sched == KEEL_SCHED_CREDIT ||
        p->sched.sched == KEEL_SCHED_CREDIT2)
        return keel_hv_sched_domain_set(host->hv, d->domid, &p->sched);
    if (p->rtds)
        return keel_hv_sched_rtds_set(host->hv, d->domid, p->rtds,
                                      (size_t)d->cfg.maxvcpus);
    return 0;
}

/* Takes back what build() did; the first error stays the one reported. */
static void
unbuild(struct keel_host *host, struct keel__dom *d, bool inserted)
{
    int rc = keel_hv_domain_destroy(host->hv, d->domid);

    if (rc && rc != KEEL_ENODOMAIN)
        keel_warn(host->ctx, "undoing domain %u: destroy failed: %s", d->domid,
                  keel_strerror(rc));
    keel__dom_remove_store(host, d->domid, d->uuid);
    if (inserted)
        keel__dom_forget(host, d); /* frees d, removes its file */
    else
        keel__dom_free(d);
}

/* A record left in the new domain's slot belongs to a domain that died
 * without the events being read: forget it, and its /vm node, so the new
 * domain inherits nothing. (Store nodes under the domid the backend's
 * domain_create already started afresh: hv.h.) */
static void
forget_stale(struct keel_host *host, uint32_t domid)
{
    struct keel__dom *old = keel__dom_find(host, domid);

    if (old) {
        keel__event_queue(host, KEEL_DOMAIN_EVENT_DESTROYED, old, domid);
        keel__dom_remove_store(host, KEEL_DOMID_INVALID, old->uuid);
        keel__dom_forget(host, old);
    }
}

static int
build(struct keel_host *host, struct plan *p, unsigned int flags,
      uint32_t *domid_r)
{
    struct keel_hv_domain_spec spec = {
        .type = p->cfg.type,
        .max_vcpus = (uint32_t)p->cfg.maxvcpus,
        .online_vcpus = (uint32_t)p->cfg.vcpus,
        .max_kb = (uint64_t)p->cfg.maxmem_kb,
        .mem_kb = (uint64_t)p->cfg.memory_kb,
        .poolid = p->pool.poolid,
        .domid = KEEL_DOMID_INVALID,
        .kernel = p->cfg.kernel,
        .ramdisk = p->cfg.ramdisk,
        .flags = flags & KEEL__CREATE_EMPTY ? KEEL_HV_CREATE_EMPTY : 0,
    };
    struct keel__dom *d = keel__dom_new();
    char *cmdline = NULL;
    bool inserted = false;
    int rc;

    if (!d)
        return keel_error(host->ctx, KEEL_ENOMEM, "out of memory");
    memcpy(spec.uuid, p->cfg.uuid, 16);
    rc = keel_domain_config_cmdline(host->ctx, &p->cfg, &cmdline);
    if (rc) {
        keel__dom_free(d);
        return rc;
    }
    spec.cmdline = cmdline;
    /* Until the create is whole, the store says so (by uuid, written
     * before the domain exists): a process killed in between leaves the
     * mark, and the next keel_host_open finishes the create (a record
     * exists) or takes the domain back (none does). */
    rc =
        keel__create_mark(host, p->cfg.uuid,
                          flags & KEEL_DOMAIN_CREATE_PAUSED ? "paused" : "run");
    if (rc == 0)
        rc = keel_hv_domain_create(host->hv, &spec, &d->domid);
    free(cmdline);
    if (rc) {
        keel__dom_remove_store(host, KEEL_DOMID_INVALID, p->cfg.uuid);
        keel__dom_free(d);
        return rc;
    }
    memcpy(d->uuid, p->cfg.uuid, 16);
    forget_stale(host, d->domid);
    d->start_time_ns = keel__wall_ns();
    d->cfg = p->cfg; /* the record owns the config now */
    keel_domain_config_init(&p->cfg);
    rc = write_store(host, d);
    if (rc == 0)
        rc = apply_affinity(host, d, p);
    if (rc == 0)
        rc = apply_sched(host, d, p);
    if (rc == 0) {
        keel__dom_insert(host, d);
        inserted = true;
        rc = keel__dom_save(host, d);
    }
    if (rc == 0 && !(flags & KEEL_DOMAIN_CREATE_PAUSED))
        rc = keel_hv_domain_unpause(host->hv, d->domid);
    if (rc) {
        unbuild(host, d, inserted);
        return rc;
    }
    *domid_r = d->domid;
    keel__dom_created(host, d->uuid);
    keel__event_queue(host, KEEL_DOMAIN_EVENT_CREATED, d, d->domid);
    return 0;
}

/* Create under the lock: for keel_domain_create and restarts. */
static int
create_locked(struct keel_host *host, const struct keel_domain_config *cfg,
              unsigned int flags, uint32_t *domid_r)
{
    struct plan p;
    int rc;

    memset(&p, 0, sizeof(p));
    keel_domain_config_init(&p.cfg);
    rc = plan(host, cfg, &p);
    if (rc == 0)
        rc = build(host, &p, flags, domid_r);
    plan_dispose(&p);
    return rc;
}

int
keel__dom_create(struct keel_host *host, const struct keel_domain_config *cfg,
                 unsigned int flags, const char *busy, uint32_t *domid_r)
{
    int rc = create_locked(host, cfg, flags, domid_r);

    if (rc == 0)
        keel__dom_find(host, *domid_r)->busy = busy;
    return rc;
}

KEEL_EXPORT int
keel_domain_create(struct keel_host *host, const struct keel_domain_config *cfg,
                   unsigned int flags, uint32_t *domid_r)
{
    uint32_t domid = KEEL_DOMID_INVALID;
    int rc;

    if (!host || !cfg)
        return KEEL_EINVAL;
    keel__host_begin(host);
    if (flags & ~KEEL_DOMAIN_CREATE_PAUSED)
        rc = keel_error(host->ctx, KEEL_EINVAL, "unknown flags %#x", flags);
    else
        rc = create_locked(host, cfg, flags, &domid);
    if (domid_r)
        *domid_r = domid;
    return keel__host_end(host, rc);
}

/* --- destroy --- */

static int
destroy_locked(struct keel_host *host, struct keel__dom *d)
{
    bool had = keel__error_isset(host->ctx);
    int rc = keel_hv_domain_destroy(host->hv, d->domid);

    if (rc && rc != KEEL_ENODOMAIN)
        return rc;
    keel__error_unrecord(host->ctx, had); /* gone already: fine */
    keel__dom_remove_store(host, d->domid, d->uuid);
    keel__event_queue(host, KEEL_DOMAIN_EVENT_DESTROYED, d, d->domid);
    keel__dom_forget(host, d);
    return 0;
}

int
keel__dom_destroy(struct keel_host *host, struct keel__dom *d)
{
    return destroy_locked(host, d);
}

KEEL_EXPORT int
keel_domain_destroy(struct keel_host *host, uint32_t domid)
{
    struct keel__dom *d;
    int rc;

    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    rc = keel__dom_check(host, domid, "destroy",
                         KEEL__ST_LIVE | KEEL__ST(KEEL_DOMAIN_SHUTDOWN), false,
                         &d, NULL);
    if (rc == 0)
        rc = destroy_locked(host, d);
    return keel__host_end(host, rc);
}

/* --- actions --- */

/* Destroys d and creates it again from its config, same name and uuid.
 * Queues RESTARTED with the new domid. d is gone afterwards. */
static int
restart_locked(struct keel_host *host, struct keel__dom *d)
{
    struct keel_domain_config cfg;
    uint32_t old = d->domid, domid = KEEL_DOMID_INVALID;
    char name[KEEL_NAME_MAX + 1], *parked = NULL;
    int rc;

    keel_domain_config_init(&cfg);
    snprintf(name, sizeof(name), "%s", d->cfg.name);
    rc = keel_domain_config_copy(host->ctx, &cfg, &d->cfg);
    if (rc == 0 && !(parked = keel__config_park(host, &cfg)))
        rc = KEEL_EIO; /* recorded by the park */
    if (rc == 0)
        rc = destroy_locked(host, d);
    if (rc == 0)
        rc = create_locked(host, &cfg, 0, &domid);
    if (rc == 0)
        unlink(parked);
    if (rc == 0) {
        struct keel_domain_event *ev;

        keel__event_queue(host, KEEL_DOMAIN_EVENT_RESTARTED,
                          keel__dom_find(host, domid), old);
        ev = keel__event_last(host);
        ev->new_domid = domid;
    } else {
        keel_warn(host->ctx, "restarting domain '%s' failed: %s%s%s", name,
                  keel_ctx_last_error(host->ctx),
                  parked ? "; its config is kept in " : "",
                  parked ? parked : "");
    }
    free(parked);
    keel_domain_config_dispose(&cfg);
    return rc;
}

static int
mark_stopped(struct keel_host *host, struct keel__dom *d, uint32_t reason)
{
    char path[64];

    d->stopped = (int)reason;
    snprintf(path, sizeof(path), "/local/domain/%u/keel/stopped", d->domid);
    return keel__store_printf(host, path, "%u", reason);
}

int
keel__dom_rekey(struct keel_host *host, struct keel__dom *d, const char *name,
                const uint8_t uuid[16])
{
    char *newname, *oldname = d->cfg.name;
    uint8_t olduuid[16];
    int rc;

    if (!(newname = keel__strdup(host->ctx, name)))
        return KEEL_ENOMEM;
    memcpy(olduuid, d->uuid, 16);
    rc = keel_hv_domain_set_uuid(host->hv, d->domid, uuid);
    if (rc) {
        free(newname);
        return rc;
    }
    keel__dom_remove_store(host, KEEL_DOMID_INVALID, olduuid);
    d->cfg.name = newname;
    memcpy(d->uuid, uuid, 16);
    memcpy(d->cfg.uuid, uuid, 16);
    keel__dom_renamed(host, d, oldname, olduuid);
    free(oldname);
    return write_store(host, d);
}

/* The old incarnation stays, shut down, as NAME--incarnation-N under a
 * new uuid; a new one starts from the config. */
static int
rename_restart_locked(struct keel_host *host, struct keel__dom *d,
                      uint32_t reason)
{
    struct keel_domain_config cfg;
    char name[KEEL_NAME_MAX + 1];
    uint8_t uuid[16];
    uint32_t domid, k;
    int rc;

    keel_domain_config_init(&cfg);
    rc = keel_domain_config_copy(host->ctx, &cfg, &d->cfg);
    for (k = 1; rc == 0; k++) {
        snprintf(name, sizeof(name), "%.100s--incarnation-%u", d->cfg.name, k);
        if (!keel__dom_by_name(host, name))
            break;
    }
    if (rc == 0)
        rc = keel_uuid_generate(uuid);
    if (rc == 0)
        rc = keel__dom_rekey(host, d, name, uuid);
    if (rc) {
        keel_domain_config_dispose(&cfg);
        return rc;
    }
    if (rc == 0)
        rc = mark_stopped(host, d, reason);
    if (rc == 0)
        rc = keel__dom_save(host, d);
    if (rc == 0)
        keel__event_queue(host, KEEL_DOMAIN_EVENT_RENAMED, d, d->domid);
    if (rc == 0)
        rc = create_locked(host, &cfg, 0, &domid);
    if (rc == 0) {
        struct keel_domain_event *ev;

        keel__event_queue(host, KEEL_DOMAIN_EVENT_RESTARTED,
                          keel__dom_find(host, domid), d->domid);
        ev = keel__event_last(host);
        ev->new_domid = domid;
    } else {
        keel_warn(host->ctx, "rename-restart of '%s' failed: %s", cfg.name,
                  keel_ctx_last_error(host->ctx));
    }
    keel_domain_config_dispose(&cfg);
    return rc;
}

static int
soft_reset_locked(struct keel_host *host, struct keel__dom *d)
{
    int rc = keel_hv_domain_soft_reset(host->hv, d->domid);

    if (rc == 0) {
        d->stopped = -1;
        keel__event_queue(host, KEEL_DOMAIN_EVENT_RESET, d, d->domid);
    }
    return rc;
}

static enum keel_event
event_of(uint32_t reason)
{
    switch (reason) {
    case KEEL_SHUTDOWN_POWEROFF:
        return KEEL_ON_POWEROFF;
    case KEEL_SHUTDOWN_REBOOT:
        return KEEL_ON_REBOOT;
    case KEEL_SHUTDOWN_WATCHDOG:
        return KEEL_ON_WATCHDOG;
    case KEEL_SHUTDOWN_SOFT_RESET:
        return KEEL_ON_SOFT_RESET;
    default:
        return KEEL_ON_CRASH;
    }
}

int
keel__dom_stopped(struct keel_host *host, struct keel__dom *d,
                  const struct keel_hv_dominfo *info)
{
    uint32_t reason = info->shutdown_reason;
    enum keel_action action = d->cfg.on[event_of(reason)];
    struct keel_domain_event *ev;

    keel__event_queue(host, KEEL_DOMAIN_EVENT_SHUTDOWN, d, d->domid);
    ev = keel__event_last(host);
    ev->reason = reason;
    if (reason == KEEL_SHUTDOWN_SUSPEND) /* a save owns it: no action */
        return mark_stopped(host, d, reason);
    d->actions++;
    ev->action = action;
    keel_info(host->ctx, "domain %u (%s) stopped (%s): %s", d->domid,
              d->cfg.name, keel_shutdown_reason_name(reason),
              keel_action_name(action));
    switch (action) {
    case KEEL_ACTION_RESTART:
    case KEEL_ACTION_COREDUMP_RESTART:
        return restart_locked(host, d);
    case KEEL_ACTION_RENAME_RESTART:
        return rename_restart_locked(host, d, reason);
    case KEEL_ACTION_PRESERVE:
        return mark_stopped(host, d, reason);
    case KEEL_ACTION_SOFT_RESET:
        return soft_reset_locked(host, d);
    default:
        return destroy_locked(host, d);
    }
}

/* --- asking the guest --- */

/* Waits until the action for domid's stop is done: its record is gone,
 * belongs to another domain, or counts another action. */
static int
wait_action(struct keel_host *host, uint32_t domid, const uint8_t uuid[16],
            uint64_t actions, int timeout_ms)
{
    uint64_t end =
        keel__mono_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);

    for (;;) {
        struct keel__dom *d;
        uint64_t now;

        bool had = keel__error_isset(host->ctx);
        int rc = keel__host_pump(host);

        if (host->failed_rc && host->failed_domid == domid &&
            !memcmp(host->failed_uuid, uuid, 16)) { /* our action failed */
            rc = host->failed_rc;
            host->failed_rc = 0;
            if (!keel__error_isset(host->ctx))
                keel_error(host->ctx, rc,
                           "the action for domain %u failed: %s (see the "
                           "log)",
                           domid, keel_strerror(rc));
            return rc;
        }
        if (rc) { /* another domain's trouble */
            keel_warn(host->ctx, "%s", keel_ctx_last_error(host->ctx));
            keel__error_unrecord(host->ctx, had);
        }
        d = keel__dom_find(host, domid);
        if (!d || memcmp(d->uuid, uuid, 16) || d->actions != actions)
            return 0;
        now = keel__mono_ms();
        if (timeout_ms >= 0 && now >= end)
            return KEEL_ETIMEDOUT;
        /* Short naps: another thread may take the fd's wake-up. */
        keel__host_sleep(
            host, timeout_ms >= 0 && end - now < 100 ? (int)(end - now) : 100);
    }
}

static int
ask(struct keel_host *host, uint32_t domid, const char *what, int timeout_ms,
    unsigned int flags)
{
    struct keel__dom *d;
    uint8_t uuid[16];
    uint64_t actions;
    char path[64];
    int rc;

    if (flags & ~(KEEL_DOMAIN_WAIT | KEEL_DOMAIN_FORCE))
        return keel_error(host->ctx, KEEL_EINVAL, "unknown flags %#x", flags);
    rc = keel__dom_check(host, domid, what, KEEL__ST(KEEL_DOMAIN_RUNNING),
                         false, &d, NULL);
    if (rc)
        return rc;
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
    rc = keel__store_printf(host, path, "%s",
                            strcmp(what, "reboot") ? "poweroff" : "reboot");
    if (rc || !(flags & KEEL_DOMAIN_WAIT))
        return rc;
    memcpy(uuid, d->uuid, 16);
    actions = d->actions;
    rc = wait_action(host, domid, uuid, actions, timeout_ms);
    if (rc != KEEL_ETIMEDOUT)
        return rc;
    d = keel__dom_find(host, domid);
    if (!(flags & KEEL_DOMAIN_FORCE))
        return keel_error(host->ctx, KEEL_ETIMEDOUT,
                          "%s: domain %u (%s) did not stop within %d ms", what,
                          domid, d->cfg.name, timeout_ms);
    keel_warn(host->ctx, "%s: domain %u (%s) did not stop within %d ms: %s",
              what, domid, d->cfg.name, timeout_ms,
              strcmp(what, "reboot") ? "destroying it" : "resetting it");
    return strcmp(what, "reboot") ? destroy_locked(host, d)
                                  : restart_locked(host, d);
}

KEEL_EXPORT int
keel_domain_shutdown(struct keel_host *host, uint32_t domid, int timeout_ms,
                     unsigned int flags)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host,
                          ask(host, domid, "shutdown", timeout_ms, flags));
}

KEEL_EXPORT int
keel_domain_reboot(struct keel_host *host, uint32_t domid, int timeout_ms,
                   unsigned int flags)
{
    if (!host)
        return KEEL_EINVAL;
    keel__host_begin(host);
    return keel__host_end(host, ask(host, domid, "reboot", timeout_ms, flags));
}

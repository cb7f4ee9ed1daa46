/* property-check.c: the property test's reporting, views and invariants */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/cpupool.h>
#include <keel/domain.h>

#include "harness.h"
#include "property.h"

/* --- reporting ---------------------------------------------------------- */

/* Fails the test naming the seed and the operation when ok is false. */
void
prop_expect(const struct world *w, bool ok, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (ok)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ck_abort_msg("KEEL_PROPERTY_SEED=%" PRIu64 ", op %lu of %lu (%s): %s",
                 w->seed, w->op, w->n_ops, w->what, msg);
}

/* Describes the operation under way. */
void
prop_say(struct world *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->what, sizeof(w->what), fmt, ap);
    va_end(ap);
}

/* A call made to look, which must work. */
void
prop_call_ok(const struct world *w, int rc, const char *what)
{
    prop_expect(w, rc == 0, "%s: %s: %s", what, keel_strerror(rc),
                keel_ctx_last_error(th_ctx()));
}

/* A map as text, in one of a few rotating buffers. */
const char *
prop_map_text(const struct keel_cpumap *map)
{
    static char bufs[8][128];
    static unsigned int next;
    char *buf = bufs[next++ % 8];

    keel_cpumap_format(map, buf, sizeof(bufs[0]));
    return buf[0] ? buf : "(none)";
}

/* The rule every call follows: 0, or a negative keel_err with a message
 * that goes with it. */
void
prop_check_rc(struct world *w, int rc)
{
    const char *msg = keel_ctx_last_error(th_ctx());
    int code = keel_ctx_last_code(th_ctx());

    if (w->verbose)
        fprintf(stderr, "op %lu: %s: %s%s%s\n", w->op, w->what,
                rc ? keel_strerror(rc) : "ok", rc ? ": " : "", rc ? msg : "");
    if (rc == 0)
        return;
    prop_expect(w, rc < 0, "returned %d, not 0 or a negative keel_err", rc);
    prop_expect(w, msg[0] != '\0', "failed (%s) and recorded no message",
                keel_strerror(rc));
    prop_expect(w, code == rc, "failed with %s but the message is for %s: %s",
                keel_strerror(rc), keel_strerror(code), msg);
    keel_ctx_clear_error(th_ctx());
}

/* --- randomness --------------------------------------------------------- */

/* xorshift64*: small, fast, and the same on every platform. */
static uint64_t
rnd(struct world *w)
{
    uint64_t x = w->rng;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    w->rng = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

uint32_t
prop_below(struct world *w, uint32_t n)
{
    return (uint32_t)(rnd(w) % n);
}

bool
prop_chance(struct world *w, unsigned int percent)
{
    return prop_below(w, 100) < percent;
}

/* splitmix64 of the seed: a good, never-zero start for xorshift. */
uint64_t
prop_seed_state(uint64_t seed, uint64_t stream)
{
    uint64_t x = seed + stream * UINT64_C(0x9E3779B97F4A7C15);

    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (x ^ (x >> 31)) | 1;
}

uint64_t
prop_env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);

    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* --- views -------------------------------------------------------------- */

const struct vdom *
prop_view_dom(const struct view *v, uint32_t domid)
{
    size_t i;

    for (i = 0; i < v->n_doms; i++)
        if (v->doms[i].hv.domid == domid)
            return &v->doms[i];
    return NULL;
}

const struct keel_hv_poolinfo *
prop_view_pool(const struct view *v, uint32_t poolid)
{
    size_t i;

    for (i = 0; i < v->n_pools; i++)
        if (v->pools[i].poolid == poolid)
            return &v->pools[i];
    return NULL;
}

const struct keel_cpupool_info *
prop_view_kpool(const struct view *v, uint32_t poolid)
{
    size_t i;

    for (i = 0; i < v->n_kpools; i++)
        if (v->kpools[i].poolid == poolid)
            return &v->kpools[i];
    return NULL;
}

const struct keel_cpupool_info *
prop_view_kpool_named(const struct view *v, const char *name)
{
    size_t i;

    for (i = 0; name && i < v->n_kpools; i++)
        if (!strcmp(v->kpools[i].name, name))
            return &v->kpools[i];
    return NULL;
}

bool
prop_live(const struct vdom *d)
{
    return !(d->hv.flags & KEEL_DOMF_DYING);
}

/* The hypervisor's domains and their vCPUs. */
static void
view_doms(const struct world *w, struct view *v)
{
    static struct keel_hv_dominfo infos[MAX_DOMS];
    size_t i;
    uint32_t c;

    prop_call_ok(w, keel_hv_domain_list(w->hv, 0, infos, MAX_DOMS, &v->n_doms),
                 "keel_hv_domain_list");
    prop_expect(w, v->n_doms < MAX_DOMS, "over %d domains", MAX_DOMS);
    v->n_vcpus = 0;
    for (i = 0; i < v->n_doms; i++) {
        struct vdom *d = &v->doms[i];

        memset(d, 0, sizeof(*d));
        d->hv = infos[i];
        d->vcpu0 = v->n_vcpus;
        prop_expect(w, v->n_vcpus + d->hv.max_vcpus <= MAX_VCPU_SLOTS,
                    "over %d vCPUs", MAX_VCPU_SLOTS);
        for (c = 0; c < d->hv.max_vcpus; c++)
            prop_call_ok(w,
                         keel_hv_vcpu_info(w->hv, d->hv.domid, c,
                                           &v->vcpus[v->n_vcpus++]),
                         "keel_hv_vcpu_info");
    }
}

/* What libkeel says: names and states, pools, free CPUs, records. */
static void
view_keel(const struct world *w, struct view *v)
{
    struct keel_domain_info *infos = NULL;
    struct keel_cpupool_info *pools = NULL;
    struct keel_host_info hi;
    size_t n, i;

    prop_call_ok(w, keel_domain_list(w->host, &infos, &n), "keel_domain_list");
    prop_expect(w, n == v->n_doms,
                "keel_domain_list has %zu domains, the "
                "hypervisor %zu",
                n, v->n_doms);
    for (i = 0; i < n; i++) {
        prop_expect(w, infos[i].domid == v->doms[i].hv.domid,
                    "keel_domain_list's entry %zu is domain %u, the "
                    "hypervisor's %u",
                    i, infos[i].domid, v->doms[i].hv.domid);
        memcpy(v->doms[i].name, infos[i].name, sizeof(infos[i].name));
        v->doms[i].state = infos[i].state;
    }
    free(infos);
    prop_call_ok(w, keel_cpupool_list(w->host, &pools, &v->n_kpools),
                 "keel_cpupool_list");
    prop_expect(w, v->n_kpools < MAX_POOLS, "over %d pools", MAX_POOLS);
    memcpy(v->kpools, pools, v->n_kpools * sizeof(*pools));
    free(pools);
    prop_call_ok(w, keel_cpupool_free_cpus(w->host, &v->kfree),
                 "keel_cpupool_free_cpus");
    prop_call_ok(w, keel_host_info(w->host, &hi), "keel_host_info");
    v->nr_records = hi.nr_domains;
}

void
prop_view_take(const struct world *w, struct view *v)
{
    prop_call_ok(w, keel_hv_physinfo(w->hv, &v->pi), "keel_hv_physinfo");
    prop_call_ok(w,
                 keel_hv_cpupool_list(w->hv, v->pools, MAX_POOLS, &v->n_pools),
                 "keel_hv_cpupool_list");
    prop_expect(w, v->n_pools < MAX_POOLS, "over %d pools", MAX_POOLS);
    prop_call_ok(w, keel_hv_cpupool_free_cpus(w->hv, &v->free),
                 "keel_hv_cpupool_free_cpus");
    view_doms(w, v);
    view_keel(w, v);
}

/* --- the invariants ----------------------------------------------------- */

/* 1: every CPU in exactly one pool or free, libkeel agreeing. */
static void
inv_cpus(const struct world *w, const struct view *v)
{
    struct keel_cpumap all;
    unsigned int cpu, n;
    size_t i;

    keel_cpumap_fill(&all, v->pi.nr_cpus);
    prop_expect(w, keel_cpumap_subset(&v->free, &all),
                "the free set %s names CPUs the host lacks",
                prop_map_text(&v->free));
    for (i = 0; i < v->n_pools; i++)
        prop_expect(w, keel_cpumap_subset(&v->pools[i].cpus, &all),
                    "pool %u holds %s, CPUs the host lacks", v->pools[i].poolid,
                    prop_map_text(&v->pools[i].cpus));
    for (cpu = 0; cpu < v->pi.nr_cpus; cpu++) {
        n = keel_cpumap_test(&v->free, cpu);
        for (i = 0; i < v->n_pools; i++)
            n += keel_cpumap_test(&v->pools[i].cpus, cpu);
        prop_expect(w, n == 1,
                    "CPU %u is in %u of the pools and the free set "
                    "(free: %s)",
                    cpu, n, prop_map_text(&v->free));
    }
    prop_expect(w, keel_cpumap_equal(&v->kfree, &v->free),
                "keel_cpupool_free_cpus says %s, the hypervisor %s",
                prop_map_text(&v->kfree), prop_map_text(&v->free));
}

/* 2: hard affinity "all" or inside the pool, and meeting it. */
static void
inv_affinity(const struct world *w, const struct view *v)
{
    const struct keel_hv_poolinfo *p;
    struct keel_cpumap all;
    size_t i;
    uint32_t c;

    keel_cpumap_fill(&all, v->pi.nr_cpus);
    for (i = 0; i < v->n_doms; i++) {
        const struct vdom *d = &v->doms[i];

        p = prop_view_pool(v, d->hv.poolid);
        prop_expect(w, p != NULL,
                    "domain %u is in pool %u, which does not "
                    "exist",
                    d->hv.domid, d->hv.poolid);
        if (!prop_live(d))
            continue;
        for (c = 0; c < d->hv.max_vcpus; c++) {
            const struct keel_hv_vcpuinfo *vc = &v->vcpus[d->vcpu0 + c];

            prop_expect(w,
                        keel_cpumap_equal(&vc->hard, &all) ||
                            keel_cpumap_subset(&vc->hard, &p->cpus),
                        "d%uv%u is pinned to %s, outside pool %u (%s)",
                        d->hv.domid, c, prop_map_text(&vc->hard), p->poolid,
                        prop_map_text(&p->cpus));
            prop_expect(w, keel_cpumap_intersects(&vc->hard, &p->cpus),
                        "d%uv%u is pinned to %s, no CPU of pool %u (%s)",
                        d->hv.domid, c, prop_map_text(&vc->hard), p->poolid,
                        prop_map_text(&p->cpus));
            prop_expect(w,
                        !keel_cpumap_is_empty(&vc->soft) &&
                            keel_cpumap_subset(&vc->soft, &all),
                        "d%uv%u has soft affinity %s", d->hv.domid, c,
                        prop_map_text(&vc->soft));
        }
    }
}

/* 3: free memory plus what the domains hold is the host's memory. */
static void
inv_memory(const struct world *w, const struct view *v)
{
    uint64_t held = 0;
    size_t i;

    for (i = 0; i < v->n_doms; i++)
        held += v->doms[i].hv.tot_kb;
    prop_expect(w, v->pi.free_kb + held == v->pi.total_kb,
                "free %" PRIu64 " KiB + domains %" PRIu64
                " KiB != total %" PRIu64 " KiB",
                v->pi.free_kb, held, v->pi.total_kb);
}

/* 5: domain counts, and libkeel's pools are the hypervisor's. */
static void
inv_pools(const struct world *w, const struct view *v)
{
    const struct keel_cpupool_info *k;
    size_t i, j;
    uint32_t n;

    prop_expect(w, v->n_pools > 0 && v->pools[0].poolid == 0, "no Pool-0");
    prop_expect(w, v->n_kpools == v->n_pools,
                "libkeel lists %zu pools, the "
                "hypervisor %zu",
                v->n_kpools, v->n_pools);
    for (i = 0; i < v->n_pools; i++) {
        const struct keel_hv_poolinfo *p = &v->pools[i];

        for (n = 0, j = 0; j < v->n_doms; j++)
            n += v->doms[j].hv.poolid == p->poolid;
        prop_expect(w, p->n_dom == n, "pool %u counts %u domains; %u are in it",
                    p->poolid, p->n_dom, n);
        prop_expect(w, n == 0 || !keel_cpumap_is_empty(&p->cpus),
                    "pool %u has %u domains and no CPU", p->poolid, n);
        k = prop_view_kpool(v, p->poolid);
        prop_expect(w, k != NULL, "libkeel does not list pool %u", p->poolid);
        prop_expect(w,
                    k->n_dom == p->n_dom && k->sched == p->sched &&
                        keel_cpumap_equal(&k->cpus, &p->cpus),
                    "libkeel says pool %u has %u domains, %s, CPUs %s; the "
                    "hypervisor %u, %s, %s",
                    p->poolid, k->n_dom, keel_scheduler_name(k->sched),
                    prop_map_text(&k->cpus), p->n_dom,
                    keel_scheduler_name(p->sched), prop_map_text(&p->cpus));
        prop_expect(w, k->name[0] != '\0', "pool %u has no name", p->poolid);
        for (j = 0; j < i; j++)
            prop_expect(w, strcmp(v->kpools[j].name, k->name) != 0,
                        "pools %u and %u are both called '%s'",
                        v->kpools[j].poolid, k->poolid, k->name);
    }
}

/* An affinity setting resolved for one vCPU, as a restart would. */
static void
aff_resolve(const struct world *w, const struct keel_affinity_config *aff,
            uint32_t vcpu, struct keel_cpumap *map)
{
    const char *spec = "all";

    if (aff->specs && aff->count)
        spec = !aff->per_vcpu      ? aff->specs[0]
               : vcpu < aff->count ? aff->specs[vcpu]
                                   : "all";
    prop_call_ok(w, keel_host_resolve_cpus(w->host, spec, map),
                 "keel_host_resolve_cpus of a record's spec");
}

/* A restart creates the domain again from its record, so the record
 * holds only scheduler settings its pool's scheduler takes (create
 * refuses weight and cap outside credit and credit2, period and budget
 * outside rtds). */
static void
inv_record_sched(const struct world *w, const struct vdom *d,
                 const struct keel_domain_config *cfg,
                 enum keel_scheduler sched)
{
    bool credit = sched == KEEL_SCHED_CREDIT || sched == KEEL_SCHED_CREDIT2;

    prop_expect(
        w, credit || (cfg->cpu_weight == KEEL_UNSET && cfg->cap == KEEL_UNSET),
        "domain %u (%s) is in a %s pool; its record has cpu_weight=%" PRId64
        " cap=%" PRId64 ", so a restart would be refused",
        d->hv.domid, d->name, keel_scheduler_name(sched), cfg->cpu_weight,
        cfg->cap);
    prop_expect(w,
                sched == KEEL_SCHED_RTDS || (cfg->rtds_period == KEEL_UNSET &&
                                             cfg->rtds_budget == KEEL_UNSET),
                "domain %u (%s) is in a %s pool; its record has period=%" PRId64
                " budget=%" PRId64 ", so a restart would be refused",
                d->hv.domid, d->name, keel_scheduler_name(sched),
                cfg->rtds_period, cfg->rtds_budget);
}

/* The record says where and how the domain runs: its pool, scheduler
 * settings the pool takes, its pinning. */
static void
inv_record_current(const struct world *w, const struct view *v,
                   const struct vdom *d, const struct keel_domain_config *cfg)
{
    const struct keel_cpupool_info *k = prop_view_kpool(v, d->hv.poolid);
    struct keel_cpumap want;
    uint32_t c;

    prop_expect(w, k && cfg->pool && !strcmp(cfg->pool, k->name),
                "domain %u (%s) is in pool '%s'; its record says '%s'",
                d->hv.domid, d->name, k ? k->name : "?",
                cfg->pool ? cfg->pool : "(unset)");
    inv_record_sched(w, d, cfg, k->sched);
    prop_expect(w, cfg->maxvcpus == d->hv.max_vcpus,
                "domain %u has %u vCPUs; its record says %" PRId64, d->hv.domid,
                d->hv.max_vcpus, cfg->maxvcpus);
    for (c = 0; c < d->hv.max_vcpus; c++) {
        const struct keel_hv_vcpuinfo *vc = &v->vcpus[d->vcpu0 + c];

        aff_resolve(w, &cfg->cpus, c, &want);
        prop_expect(w, keel_cpumap_equal(&want, &vc->hard),
                    "d%uv%u is pinned to %s; its record says %s", d->hv.domid,
                    c, prop_map_text(&vc->hard), prop_map_text(&want));
        aff_resolve(w, &cfg->cpus_soft, c, &want);
        prop_expect(w, keel_cpumap_equal(&want, &vc->soft),
                    "d%uv%u has soft affinity %s; its record says %s",
                    d->hv.domid, c, prop_map_text(&vc->soft),
                    prop_map_text(&want));
    }
}

/* 4, one live domain: a record that finds it again by name. */
static void
inv_owner(const struct world *w, const struct view *v, const struct vdom *d)
{
    struct keel_domain_config cfg;
    uint32_t found = KEEL_DOMID_INVALID;
    int rc;

    keel_domain_config_init(&cfg);
    rc = keel_domain_config_get(w->host, d->hv.domid, &cfg);
    prop_expect(w, rc == 0, "domain %u (%s) has no owner: %s: %s", d->hv.domid,
                d->name, keel_strerror(rc), keel_ctx_last_error(th_ctx()));
    prop_expect(w, cfg.name && !strcmp(cfg.name, d->name),
                "domain %u is listed as '%s'; its record says '%s'",
                d->hv.domid, d->name, cfg.name ? cfg.name : "(unset)");
    prop_expect(w, !memcmp(cfg.uuid, d->hv.uuid, 16),
                "domain %u's record has another uuid", d->hv.domid);
    rc = keel_domain_lookup(w->host, d->name, &found);
    prop_expect(w, rc == 0 && found == d->hv.domid,
                "looking up '%s' gives %s, domain %u, not %u", d->name,
                keel_strerror(rc), found, d->hv.domid);
    inv_record_current(w, v, d, &cfg);
    keel_domain_config_dispose(&cfg);
}

/* The config of a restart that failed, which the host keeps. */
static bool
parked(const char *name)
{
    char ustr[37];
    uint8_t uuid[16];
    int end = 0;

    return sscanf(name, "restart-failed-%36[0-9a-f-].json%n", ustr, &end) ==
               1 &&
           !name[end] && keel_uuid_parse(ustr, uuid) == 0;
}

/* 4, the files: one per live domain, naming its domid and uuid (and the
 * configs of failed restarts). */
static void
inv_files(const struct world *w, const struct view *v, unsigned int n_live)
{
    DIR *dir = opendir(th_path("state"));
    const struct vdom *d;
    struct dirent *de;
    unsigned int domid, n = 0;
    uint8_t uuid[16];
    char ustr[37];
    int end;

    prop_expect(w, dir != NULL, "cannot open the state directory");
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.' || parked(de->d_name))
            continue;
        end = 0;
        prop_expect(w,
                    sscanf(de->d_name, "domain-%u-%36[0-9a-f-].json%n", &domid,
                           ustr, &end) == 2 &&
                        !de->d_name[end] && keel_uuid_parse(ustr, uuid) == 0,
                    "stray file %s in the state directory", de->d_name);
        d = prop_view_dom(v, domid);
        prop_expect(w, d && prop_live(d) && !memcmp(d->hv.uuid, uuid, 16),
                    "%s describes no live domain", de->d_name);
        n++;
    }
    closedir(dir);
    prop_expect(w, n == n_live, "%u config files for %u live domains", n,
                n_live);
}

/* 4: owners, unique names, records only for live domains. */
static void
inv_owners(const struct world *w, const struct view *v)
{
    unsigned int n_live = 0;
    size_t i, j;

    for (i = 0; i < v->n_doms; i++) {
        const struct vdom *d = &v->doms[i];

        if (d->hv.domid == 0) {
            prop_expect(w, !strcmp(d->name, "Domain-0"),
                        "Domain-0 is listed as "
                        "'%s'",
                        d->name);
            continue;
        }
        if (!prop_live(d))
            continue;
        n_live++;
        inv_owner(w, v, d);
        for (j = 0; j < i; j++)
            prop_expect(w,
                        !prop_live(&v->doms[j]) ||
                            strcmp(v->doms[j].name, d->name) != 0,
                        "domains %u and %u are both called '%s'",
                        v->doms[j].hv.domid, d->hv.domid, d->name);
    }
    prop_expect(w, v->nr_records == n_live + 1,
                "libkeel counts %u domains; the hypervisor has %u live ones",
                v->nr_records, n_live + 1);
    inv_files(w, v, n_live);
}

void
prop_invariants(const struct world *w, const struct view *v)
{
    inv_cpus(w, v);
    inv_affinity(w, v);
    inv_memory(w, v);
    inv_owners(w, v);
    inv_pools(w, v);
}

/* A failed call changed nothing: CPUs, memory, live domains. */
void
prop_unchanged(const struct world *w, const struct view *b,
               const struct view *a)
{
    const struct vdom *db, *da;
    size_t i, n_live = 0;
    uint32_t c;

    prop_expect(w, keel_cpumap_equal(&b->free, &a->free),
                "a failed call changed the free CPUs from %s to %s",
                prop_map_text(&b->free), prop_map_text(&a->free));
    prop_expect(w, b->n_pools == a->n_pools,
                "a failed call changed the number "
                "of pools from %zu to %zu",
                b->n_pools, a->n_pools);
    for (i = 0; i < b->n_pools; i++)
        prop_expect(
            w,
            b->pools[i].poolid == a->pools[i].poolid &&
                keel_cpumap_equal(&b->pools[i].cpus, &a->pools[i].cpus) &&
                !strcmp(b->kpools[i].name, a->kpools[i].name),
            "a failed call changed pool %u ('%s', %s)", b->pools[i].poolid,
            b->kpools[i].name, prop_map_text(&b->pools[i].cpus));
    prop_expect(w, b->pi.free_kb == a->pi.free_kb,
                "a failed call changed free "
                "memory from %" PRIu64 " to %" PRIu64 " KiB",
                b->pi.free_kb, a->pi.free_kb);
    for (i = 0; i < b->n_doms; i++) {
        db = &b->doms[i];
        if (!prop_live(db))
            continue;
        n_live++;
        da = prop_view_dom(a, db->hv.domid);
        prop_expect(
            w,
            da && prop_live(da) && !memcmp(da->hv.uuid, db->hv.uuid, 16) &&
                da->hv.poolid == db->hv.poolid &&
                da->hv.tot_kb == db->hv.tot_kb && da->state == db->state &&
                !strcmp(da->name, db->name),
            "a failed call changed domain %u (%s)", db->hv.domid, db->name);
        for (c = 0; c < db->hv.max_vcpus; c++)
            prop_expect(w,
                        keel_cpumap_equal(&b->vcpus[db->vcpu0 + c].hard,
                                          &a->vcpus[da->vcpu0 + c].hard) &&
                            keel_cpumap_equal(&b->vcpus[db->vcpu0 + c].soft,
                                              &a->vcpus[da->vcpu0 + c].soft),
                        "a failed call changed d%uv%u's affinity", db->hv.domid,
                        c);
    }
    for (i = 0; i < a->n_doms; i++)
        n_live -= prop_live(&a->doms[i]) ? 1 : 0;
    prop_expect(w, n_live == 0,
                "a failed call changed the number of live "
                "domains");
}

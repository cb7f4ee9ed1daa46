/* test-property.c: random operations against the invariants of a host
 *
 * The property test of the issue: thousands of random domain and CPU pool
 * operations on a sim host, most of them with arguments chosen to be
 * wrong (names that collide, busy CPUs, pools that do not exist,
 * Domain-0, memory the host lacks), and after each the invariants libkeel
 * promises, read from the hypervisor (keel_hv_*) and from libkeel:
 *   1. every CPU is in exactly one pool or free;
 *   2. a vCPU's hard affinity is every host CPU or a set inside its pool,
 *      and meets the pool; a pool with domains has CPUs;
 *   3. the host's free memory plus every domain's memory (Domain-0's and
 *      dying ones' included) is the host's memory;
 *   4. every domain has an owner: a record (config, name, file) with a
 *      unique name, and every record a live domain; the record says where
 *      and how the domain runs (its pool, its pinning, only scheduler
 *      settings the pool takes), since a restart creates it from that;
 *   5. a pool's domain count is the number of domains in it, and libkeel's
 *      view of the pools is the hypervisor's.
 * Every call returns 0 or a negative keel_err with a message of its own
 * code, and a call that fails changes nothing the invariants look at. A
 * call that succeeds is checked for doing what it was asked. Between
 * calls simulated time passes and the host carries out the on_* actions
 * of guests that stopped; those may fail only for want of memory. The
 * host is small (16 GiB) so that memory does run short now and then.
 * A second, shorter run closes and reopens the host every 500 operations:
 * the same domains, names, pools and configs come back.
 *
 * Replaying: the PRNG is seeded from $KEEL_PROPERTY_SEED (a fixed default
 * otherwise) and runs $KEEL_PROPERTY_OPS operations (10000); a failure
 * names the seed, the operation's number and what it was.
 * KEEL_PROPERTY_VERBOSE=1 prints every operation and its result, and a
 * count of each kind at the end.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/cpupool.h>
#include <keel/domain.h>

#include "harness.h"
#include "property.h"

#define SPEC "cpus=16,nodes=4,sockets=4,memory=16G"
#define HOST_GIB 16 /* memory=, small enough to run short */
#define NR_CPUS 16
#define NR_NODES 4
#define DEFAULT_SEED UINT64_C(20240611)
#define DEFAULT_OPS 10000
#define REOPEN_EVERY 500
#define MS UINT64_C(1000000)

#define N_EVS 64

/* --- picking arguments -------------------------------------------------- */

static const char *const dom_names[] = {"a", "b", "c",   "d",
                                        "e", "f", "web", "db"};
static const char *const pool_names[] = {
    "p1", "p2", "p3", "p4", "Pool-0", "Pool-node1", "Pool-node2"};
static const char *const bad_names[] = {"",    "42",       "a b",
                                        "x/y", "Domain-0", "\x7f"};

static const char *
long_name(void)
{
    static char name[KEEL_NAME_MAX + 2];

    memset(name, 'n', KEEL_NAME_MAX + 1);
    return name;
}

static const char *
pick_name(struct world *w, const char *const *names, size_t n)
{
    if (!prop_chance(w, 6))
        return names[prop_below(w, (uint32_t)n)];
    if (prop_chance(w, 15))
        return long_name();
    return bad_names[prop_below(w, sizeof(bad_names) / sizeof(bad_names[0]))];
}

static const char *
pick_dom_name(struct world *w)
{
    return pick_name(w, dom_names, sizeof(dom_names) / sizeof(dom_names[0]));
}

static const char *
pick_pool_name(struct world *w)
{
    const struct view *v = w->before;

    if (prop_chance(w, 40))
        return v->kpools[prop_below(w, (uint32_t)v->n_kpools)].name;
    return pick_name(w, pool_names, sizeof(pool_names) / sizeof(pool_names[0]));
}

/* A domid: mostly one that exists (Domain-0 and dying ones too). */
static uint32_t
pick_domid(struct world *w)
{
    const struct view *v = w->before;
    uint32_t r = prop_below(w, 100);

    if (r < 84)
        return v->doms[prop_below(w, (uint32_t)v->n_doms)].hv.domid;
    if (r < 88)
        return 0;
    if (r < 97)
        return 1 + prop_below(w, 300);
    return r < 99 ? KEEL_DOMID_FIRST_RESERVED : KEEL_DOMID_INVALID;
}

/* A domid of a live domain other than Domain-0 when there is one. */
static uint32_t
pick_live_domid(struct world *w)
{
    const struct view *v = w->before;
    size_t i, n = 0, k;

    for (i = 0; i < v->n_doms; i++)
        n += v->doms[i].hv.domid && prop_live(&v->doms[i]);
    if (n == 0 || prop_chance(w, 10))
        return pick_domid(w);
    k = prop_below(w, (uint32_t)n);
    for (i = 0; i < v->n_doms; i++)
        if (v->doms[i].hv.domid && prop_live(&v->doms[i]) && k-- == 0)
            break;
    return v->doms[i].hv.domid;
}

static uint32_t
pick_poolid(struct world *w)
{
    const struct view *v = w->before;
    uint32_t r = prop_below(w, 100);

    if (r < 85)
        return v->pools[prop_below(w, (uint32_t)v->n_pools)].poolid;
    if (r < 90)
        return 0;
    return r < 98 ? 1 + prop_below(w, 40) : KEEL_POOLID_ANY;
}

/* The CPUs of a pool before the call (none when there is no such pool). */
static struct keel_cpumap
pool_cpus(const struct world *w, uint32_t poolid)
{
    const struct keel_hv_poolinfo *p = prop_view_pool(w->before, poolid);
    struct keel_cpumap m;

    keel_cpumap_zero(&m);
    return p ? p->cpus : m;
}

/* Some CPUs of hint (at least one). */
static void
some_of(struct world *w, const struct keel_cpumap *hint,
        struct keel_cpumap *map)
{
    unsigned int k = prop_below(w, keel_cpumap_count(hint));
    int cpu;

    for (cpu = keel_cpumap_next(hint, 0); cpu >= 0;
         cpu = keel_cpumap_next(hint, (unsigned int)cpu + 1))
        if (k-- == 0 || prop_chance(w, 40))
            keel_cpumap_set(map, (unsigned int)cpu);
}

/* A map of CPUs: mostly some of hint (the free ones, a pool's), else any
 * CPUs, a node, every CPU, CPUs the host lacks, or none. */
static void
rand_map(struct world *w, const struct keel_cpumap *hint,
         struct keel_cpumap *map)
{
    uint32_t r = prop_below(w, 100), n, base;

    keel_cpumap_zero(map);
    if (r < 50 && !keel_cpumap_is_empty(hint)) {
        some_of(w, hint, map);
    } else if (r < 60) {
        *map = *hint;
    } else if (r < 75) {
        for (n = 1 + prop_below(w, 3); n > 0; n--)
            keel_cpumap_set(map, prop_below(w, NR_CPUS + 2));
    } else if (r < 85) {
        base = prop_below(w, NR_NODES + 1) * (NR_CPUS / NR_NODES);
        for (n = 0; n < NR_CPUS / NR_NODES; n++)
            keel_cpumap_set(map, base + n);
    } else if (r < 96) {
        keel_cpumap_fill(map, NR_CPUS);
    }
}

/* --- the operations ----------------------------------------------------- */

/* An xl CPU spec for create's cpus= (canonical), or NULL. */
static char *
rand_spec(struct world *w, const struct keel_cpumap *hint)
{
    struct keel_cpumap m;
    char text[160], *spec = NULL;
    uint32_t r = prop_below(w, 100);

    if (r < 15)
        snprintf(text, sizeof(text), "all");
    else if (r < 25)
        snprintf(text, sizeof(text), "node:%u", prop_below(w, NR_NODES + 1));
    else if (r < 32)
        snprintf(text, sizeof(text), "%u-%u,^%u", prop_below(w, 8),
                 8 + prop_below(w, 10), prop_below(w, NR_CPUS));
    else {
        rand_map(w, hint, &m);
        keel_cpumap_format(&m, text, sizeof(text));
    }
    if (keel_cpuspec_normalize(th_ctx(), text, &spec))
        keel_ctx_clear_error(th_ctx()); /* not a spec: leave it unset */
    return spec;
}

/* cpus= or cpus_soft=: one spec, or (now and then) one per vCPU. */
static void
rand_affinity(struct world *w, const struct keel_cpumap *hint,
              struct keel_affinity_config *aff, char *desc, size_t size)
{
    unsigned int n = prop_chance(w, 15) ? 1 + prop_below(w, 3) : 1, i;
    size_t len = 0;

    aff->specs = calloc(n, sizeof(char *));
    ck_assert_ptr_nonnull(aff->specs);
    aff->per_vcpu = n > 1 || prop_chance(w, 5);
    for (i = 0; i < n; i++) {
        char *spec = rand_spec(w, hint);

        if (!spec)
            spec = strdup("all");
        ck_assert_ptr_nonnull(spec);
        aff->specs[aff->count++] = spec;
        len += (size_t)snprintf(desc + len, size > len ? size - len : 0, "%s%s",
                                i ? "|" : "", spec);
        if (len >= size)
            len = size - 1;
    }
    if (aff->per_vcpu && size > len + 2)
        snprintf(desc + len, size - len, "[]");
}

static void
rand_actions(struct world *w, struct keel_domain_config *cfg)
{
    static const enum keel_action acts[] = {
        KEEL_ACTION_UNSET, KEEL_ACTION_DESTROY, KEEL_ACTION_RESTART,
        KEEL_ACTION_RENAME_RESTART, KEEL_ACTION_PRESERVE};
    int i;

    for (i = 0; i < KEEL_ON_SOFT_RESET; i++)
        if (prop_chance(w, 30))
            cfg->on[i] = acts[prop_below(w, sizeof(acts) / sizeof(acts[0]))];
}

/* Scheduler settings now and then, often unfit for the pool. */
static void
rand_sched(struct world *w, struct keel_domain_config *cfg)
{
    if (prop_chance(w, 8))
        cfg->cpu_weight = prop_chance(w, 90) ? 1 + prop_below(w, 1000) : 70000;
    if (prop_chance(w, 4))
        cfg->cap = prop_below(w, 150);
    if (prop_chance(w, 6)) {
        cfg->rtds_period = 100 + prop_below(w, 20000);
        if (prop_chance(w, 70))
            cfg->rtds_budget = 10 + prop_below(w, (uint32_t)cfg->rtds_period);
    }
}

/* Memory in KiB: 16..512 MiB mostly, now and then a big domain, more
 * than is free or than the host has, or not whole pages. */
static int64_t
rand_memory(struct world *w)
{
    uint32_t r = prop_below(w, 100);

    if (r < 87)
        return (int64_t)(16 + prop_below(w, 497)) * (int64_t)MIB_KB;
    if (r < 90) /* a few of these and memory runs short */
        return (int64_t)(1 + prop_below(w, 6)) * (int64_t)GIB_KB;
    if (r < 94)
        return (int64_t)((HOST_GIB - 1) * GIB_KB); /* more than free */
    if (r < 97)
        return (int64_t)((HOST_GIB + 4) * GIB_KB); /* more than the host */
    return (int64_t)(16 + prop_below(w, 100)) * (int64_t)MIB_KB + 2;
}

static void
rand_config(struct world *w, struct keel_domain_config *cfg, char *cpus,
            char *soft, size_t size)
{
    const struct keel_cpupool_info *k;
    static const enum keel_domain_type types[] = {
        KEEL_DOMAIN_PV, KEEL_DOMAIN_PV, KEEL_DOMAIN_PVH, KEEL_DOMAIN_HVM};

    keel_domain_config_init(cfg);
    cfg->name = strdup(pick_dom_name(w));
    cfg->type = types[prop_below(w, 4)];
    cfg->memory_kb = rand_memory(w);
    if (prop_chance(w, 10))
        cfg->maxmem_kb = cfg->memory_kb + (int64_t)prop_below(w, 64) * 1024;
    cfg->vcpus = 1 + prop_below(w, 4);
    if (prop_chance(w, 20))
        cfg->maxvcpus = cfg->vcpus + prop_below(w, 3);
    if (!prop_chance(w, 30))
        cfg->pool = strdup(pick_pool_name(w));
    k = cfg->pool ? prop_view_kpool_named(w->before, cfg->pool)
                  : prop_view_kpool(w->before, 0);
    snprintf(cpus, size, "-");
    snprintf(soft, size, "-");
    if (prop_chance(w, 30))
        rand_affinity(w, k ? &k->cpus : &w->before->free, &cfg->cpus, cpus,
                      size);
    if (prop_chance(w, 10))
        rand_affinity(w, &w->before->free, &cfg->cpus_soft, soft, size);
    rand_actions(w, cfg);
    rand_sched(w, cfg);
}

static int
op_create(struct world *w)
{
    struct keel_domain_config cfg;
    char cpus[160], soft[160];
    int rc;

    rand_config(w, &cfg, cpus, soft, sizeof(cpus));
    w->a.flags = prop_chance(w, 20) ? KEEL_DOMAIN_CREATE_PAUSED : 0;
    if (prop_chance(w, 2))
        w->a.flags |= 1u << 9;
    snprintf(w->a.name, sizeof(w->a.name), "%s", cfg.name);
    if (cfg.pool) /* unset: Pool-0, whatever its name */
        snprintf(w->a.pool, sizeof(w->a.pool), "%s", cfg.pool);
    prop_say(w,
             "create '%s' type=%s memory=%" PRId64 "KiB maxmem=%" PRId64
             " vcpus=%" PRId64 " maxvcpus=%" PRId64 " pool=%s cpus=%s "
             "cpus_soft=%s on=%d,%d,%d,%d weight=%" PRId64 " cap=%" PRId64
             " period=%" PRId64 " budget=%" PRId64 " flags=%#x",
             cfg.name, keel_domain_type_name(cfg.type), cfg.memory_kb,
             cfg.maxmem_kb, cfg.vcpus, cfg.maxvcpus,
             cfg.pool ? cfg.pool : "(unset)", cpus, soft, cfg.on[0], cfg.on[1],
             cfg.on[2], cfg.on[3], cfg.cpu_weight, cfg.cap, cfg.rtds_period,
             cfg.rtds_budget, w->a.flags);
    w->a.kb = (uint64_t)cfg.memory_kb;
    rc = keel_domain_create(w->host, &cfg, w->a.flags, &w->a.domid);
    keel_domain_config_dispose(&cfg);
    return rc;
}

static void
check_create(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);
    const struct keel_cpupool_info *k;

    prop_expect(w, d && prop_live(d), "domain %u was not made", w->a.domid);
    k = prop_view_kpool(w->after, d->hv.poolid);
    prop_expect(w, !prop_view_dom(w->before, w->a.domid), "domid %u was in use",
                w->a.domid);
    prop_expect(
        w,
        !strcmp(d->name, w->a.name) && k &&
            (w->a.pool[0] ? !strcmp(k->name, w->a.pool) : k->poolid == 0),
        "domain %u is '%s' in '%s'", d->hv.domid, d->name, k ? k->name : "?");
    prop_expect(
        w, d->state == (w->a.flags ? KEEL_DOMAIN_PAUSED : KEEL_DOMAIN_RUNNING),
        "domain %u is %s", d->hv.domid, keel_domain_state_name(d->state));
    prop_expect(w, d->hv.tot_kb == w->a.kb, "domain %u holds %" PRIu64 " KiB",
                d->hv.domid, d->hv.tot_kb);
}

static int
op_destroy(struct world *w)
{
    w->a.domid = pick_domid(w);
    prop_say(w, "destroy %u", w->a.domid);
    return keel_domain_destroy(w->host, w->a.domid);
}

static void
check_destroy(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);

    prop_expect(w, !d || !prop_live(d), "domain %u lives on", w->a.domid);
}

static const enum keel_scheduler scheds[] = {
    KEEL_SCHED_UNKNOWN, KEEL_SCHED_CREDIT, KEEL_SCHED_CREDIT2,
    KEEL_SCHED_RTDS,    KEEL_SCHED_NULL,   (enum keel_scheduler)7};

static int
op_pool_create(struct world *w)
{
    snprintf(w->a.name, sizeof(w->a.name), "%s", pick_pool_name(w));
    w->a.sched = scheds[prop_below(w, sizeof(scheds) / sizeof(scheds[0]))];
    w->a.map_set = !prop_chance(w, 20);
    if (w->a.map_set)
        rand_map(w, &w->before->free, &w->a.map);
    w->a.flags = prop_chance(w, 2) ? 1u << 4 : 0;
    w->a.poolid = KEEL_POOLID_ANY;
    prop_say(w, "cpupool-create '%s' sched=%d cpus=%s flags=%#x", w->a.name,
             (int)w->a.sched,
             w->a.map_set ? prop_map_text(&w->a.map) : "(default)", w->a.flags);
    return keel_cpupool_create(w->host, w->a.name, w->a.sched,
                               w->a.map_set ? &w->a.map : NULL, w->a.flags,
                               &w->a.poolid);
}

static void
check_pool_create(struct world *w)
{
    const struct keel_cpupool_info *k = prop_view_kpool(w->after, w->a.poolid);
    enum keel_scheduler sched = w->a.sched;
    struct keel_cpumap want;

    prop_expect(w, k && !prop_view_pool(w->before, w->a.poolid),
                "pool %u was not made", w->a.poolid);
    if (sched == KEEL_SCHED_UNKNOWN)
        sched = w->before->pools[0].sched;
    keel_cpumap_zero(&want);
    if (w->a.map_set)
        want = w->a.map;
    else
        keel_cpumap_set(&want,
                        (unsigned int)keel_cpumap_next(&w->before->free, 0));
    prop_expect(w,
                !strcmp(k->name, w->a.name) && k->sched == sched &&
                    keel_cpumap_equal(&k->cpus, &want) && k->n_dom == 0,
                "pool %u is '%s', %s, CPUs %s, %u domains", k->poolid, k->name,
                keel_scheduler_name(k->sched), prop_map_text(&k->cpus),
                k->n_dom);
}

static int
op_pool_destroy(struct world *w)
{
    w->a.poolid = pick_poolid(w);
    prop_say(w, "cpupool-destroy %u", w->a.poolid);
    return keel_cpupool_destroy(w->host, w->a.poolid);
}

static void
check_pool_destroy(struct world *w)
{
    struct keel_cpumap was = pool_cpus(w, w->a.poolid);

    prop_expect(w, !prop_view_pool(w->after, w->a.poolid),
                "pool %u is still there", w->a.poolid);
    prop_expect(w, keel_cpumap_subset(&was, &w->after->free),
                "pool %u's CPUs %s are not free", w->a.poolid,
                prop_map_text(&was));
}

static int
op_cpu_add(struct world *w)
{
    w->a.poolid = pick_poolid(w);
    rand_map(w, &w->before->free, &w->a.map);
    prop_say(w, "cpupool-cpu-add %u %s", w->a.poolid, prop_map_text(&w->a.map));
    return keel_cpupool_cpu_add(w->host, w->a.poolid, &w->a.map);
}

static void
check_cpu_add(struct world *w)
{
    struct keel_cpumap want = pool_cpus(w, w->a.poolid);
    const struct keel_hv_poolinfo *p = prop_view_pool(w->after, w->a.poolid);

    keel_cpumap_or(&want, &want, &w->a.map);
    prop_expect(w, p && keel_cpumap_equal(&p->cpus, &want),
                "pool %u holds %s, not %s", w->a.poolid,
                p ? prop_map_text(&p->cpus) : "?", prop_map_text(&want));
}

static int
op_cpu_remove(struct world *w)
{
    struct keel_cpumap in;

    w->a.poolid = pick_poolid(w);
    in = pool_cpus(w, w->a.poolid);
    rand_map(w, &in, &w->a.map);
    prop_say(w, "cpupool-cpu-remove %u %s (it has %s)", w->a.poolid,
             prop_map_text(&w->a.map), prop_map_text(&in));
    return keel_cpupool_cpu_remove(w->host, w->a.poolid, &w->a.map);
}

static void
check_cpu_remove(struct world *w)
{
    struct keel_cpumap want = pool_cpus(w, w->a.poolid);
    const struct keel_hv_poolinfo *p = prop_view_pool(w->after, w->a.poolid);

    keel_cpumap_andnot(&want, &want, &w->a.map);
    prop_expect(w, p && keel_cpumap_equal(&p->cpus, &want),
                "pool %u holds %s, not %s", w->a.poolid,
                p ? prop_map_text(&p->cpus) : "?", prop_map_text(&want));
    prop_expect(w, keel_cpumap_subset(&w->a.map, &w->after->free),
                "CPUs %s are not free", prop_map_text(&w->a.map));
}

static int
op_move(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.poolid = pick_poolid(w);
    prop_say(w, "cpupool-migrate domain %u to pool %u", w->a.domid,
             w->a.poolid);
    return keel_cpupool_move_domain(w->host, w->a.domid, w->a.poolid);
}

static void
check_move(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);
    const struct vdom *was = prop_view_dom(w->before, w->a.domid);
    struct keel_cpumap all;
    uint32_t c;

    prop_expect(w, d && d->hv.poolid == w->a.poolid, "domain %u is in pool %u",
                w->a.domid, d ? d->hv.poolid : KEEL_POOLID_ANY);
    if (was && was->hv.poolid == w->a.poolid)
        return; /* already there: nothing to do */
    keel_cpumap_fill(&all, NR_CPUS);
    for (c = 0; c < d->hv.max_vcpus; c++)
        prop_expect(
            w, keel_cpumap_equal(&w->after->vcpus[d->vcpu0 + c].hard, &all),
            "d%uv%u kept its pinning across pools", d->hv.domid, c);
}

static int
op_pin(struct world *w)
{
    const struct vdom *d;
    struct keel_cpumap in, all;

    w->a.domid = prop_chance(w, 50) ? pick_live_domid(w) : pick_domid(w);
    d = prop_view_dom(w->before, w->a.domid);
    in = pool_cpus(w, d ? d->hv.poolid : 0);
    keel_cpumap_fill(&all, NR_CPUS);
    w->a.vcpu = prop_chance(w, 30) ? KEEL_VCPU_ALL
                                   : prop_below(w, d ? d->hv.max_vcpus + 1 : 4);
    w->a.hard_set = !prop_chance(w, 15);
    if (w->a.hard_set)
        rand_map(w, prop_chance(w, 80) ? &in : &all, &w->a.hard);
    w->a.soft_set = prop_chance(w, 30);
    if (w->a.soft_set)
        rand_map(w, &all, &w->a.soft);
    prop_say(w, "vcpu-pin %u vcpu %d hard=%s soft=%s (pool has %s)", w->a.domid,
             w->a.vcpu == KEEL_VCPU_ALL ? -1 : (int)w->a.vcpu,
             w->a.hard_set ? prop_map_text(&w->a.hard) : "-",
             w->a.soft_set ? prop_map_text(&w->a.soft) : "-",
             prop_map_text(&in));
    return keel_domain_vcpu_pin(w->host, w->a.domid, w->a.vcpu,
                                w->a.hard_set ? &w->a.hard : NULL,
                                w->a.soft_set ? &w->a.soft : NULL);
}

static void
check_pin(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);
    uint32_t c;

    prop_expect(w, d != NULL, "domain %u is gone", w->a.domid);
    for (c = 0; c < d->hv.max_vcpus; c++) {
        const struct keel_hv_vcpuinfo *vc = &w->after->vcpus[d->vcpu0 + c];

        if (w->a.vcpu != KEEL_VCPU_ALL && w->a.vcpu != c)
            continue;
        prop_expect(
            w, !w->a.hard_set || keel_cpumap_equal(&vc->hard, &w->a.hard),
            "d%uv%u is pinned to %s", d->hv.domid, c, prop_map_text(&vc->hard));
        prop_expect(
            w, !w->a.soft_set || keel_cpumap_equal(&vc->soft, &w->a.soft),
            "d%uv%u prefers %s", d->hv.domid, c, prop_map_text(&vc->soft));
    }
}

static int
op_mem_set(struct world *w)
{
    uint32_t r = prop_below(w, 100);

    w->a.domid = pick_live_domid(w);
    if (r < 85)
        w->a.kb = (uint64_t)(1 + prop_below(w, 600)) * MIB_KB;
    else if (r < 93)
        w->a.kb = 4 * (uint64_t)prop_below(w, 300);
    else
        w->a.kb =
            r < 97 ? 4 * (uint64_t)prop_below(w, 1 << 20) + 2 : 100 * GIB_KB;
    prop_say(w, "mem-set %u %" PRIu64 "KiB", w->a.domid, w->a.kb);
    return keel_domain_mem_set(w->host, w->a.domid, w->a.kb);
}

static void
check_mem_set(struct world *w)
{
    struct keel_domain_info info;

    prop_call_ok(w, keel_domain_info(w->host, w->a.domid, &info),
                 "keel_domain_info");
    prop_expect(w, info.target_kb == w->a.kb && info.mem_kb <= w->a.kb,
                "domain %u's target is %" PRIu64 " KiB, it holds %" PRIu64
                " KiB",
                w->a.domid, info.target_kb, info.mem_kb);
}

static int
op_mem_max(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.kb = prop_chance(w, 90) ? (uint64_t)(16 + prop_below(w, 1024)) * MIB_KB
                                 : 100 * GIB_KB;
    prop_say(w, "mem-max %u %" PRIu64 "KiB", w->a.domid, w->a.kb);
    return keel_domain_mem_max(w->host, w->a.domid, w->a.kb);
}

static void
check_mem_max(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);

    prop_expect(w, d && d->hv.max_kb == w->a.kb,
                "domain %u's maximum is %" PRIu64 " KiB", w->a.domid,
                d ? d->hv.max_kb : 0);
}

static int
op_pause(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    prop_say(w, "pause %u", w->a.domid);
    return keel_domain_pause(w->host, w->a.domid);
}

static int
op_unpause(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    prop_say(w, "unpause %u", w->a.domid);
    return keel_domain_unpause(w->host, w->a.domid);
}

static void
check_pause(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);
    const struct vdom *was = prop_view_dom(w->before, w->a.domid);
    enum keel_domain_state want = was->state == KEEL_DOMAIN_RUNNING
                                      ? KEEL_DOMAIN_PAUSED
                                      : KEEL_DOMAIN_RUNNING;

    prop_expect(w, d && d->state == want, "domain %u is %s", w->a.domid,
                d ? keel_domain_state_name(d->state) : "gone");
}

static int
op_rename(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    snprintf(w->a.name, sizeof(w->a.name), "%s", pick_dom_name(w));
    prop_say(w, "rename %u '%s'", w->a.domid, w->a.name);
    return keel_domain_rename(w->host, w->a.domid, w->a.name);
}

static void
check_rename(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);

    prop_expect(w, d && !strcmp(d->name, w->a.name), "domain %u is '%s'",
                w->a.domid, d ? d->name : "gone");
}

static int
op_vcpu_set(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.vcpu = prop_below(w, 7);
    prop_say(w, "vcpu-set %u %u", w->a.domid, w->a.vcpu);
    return keel_domain_vcpu_set(w->host, w->a.domid, w->a.vcpu);
}

static void
check_vcpu_set(struct world *w)
{
    const struct vdom *d = prop_view_dom(w->after, w->a.domid);

    prop_expect(w, d && d->hv.online_vcpus == w->a.vcpu,
                "domain %u has %u vCPUs on line", w->a.domid,
                d ? d->hv.online_vcpus : 0);
}

static int
op_shutdown(struct world *w)
{
    bool reboot = prop_chance(w, 50);

    w->a.domid = pick_live_domid(w);
    w->a.flags = prop_chance(w, 3) ? 1u << 6 : 0;
    prop_say(w, "%s %u flags=%#x", reboot ? "reboot" : "shutdown", w->a.domid,
             w->a.flags);
    return reboot ? keel_domain_reboot(w->host, w->a.domid, 0, w->a.flags)
                  : keel_domain_shutdown(w->host, w->a.domid, 0, w->a.flags);
}

/* The guest stops on its own (a sim control, not a libkeel call). */
static int
op_guest_act(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.vcpu = prop_below(w, 7); /* the reason; 6 is none */
    prop_say(w, "guest of %u acts: %s", w->a.domid,
             keel_shutdown_reason_name(w->a.vcpu)
                 ? keel_shutdown_reason_name(w->a.vcpu)
                 : "(bad reason)");
    return keel_sim_guest_act(w->hv, w->a.domid,
                              (enum keel_shutdown_reason)w->a.vcpu);
}

static int
op_pool_rename(struct world *w)
{
    w->a.poolid = pick_poolid(w);
    snprintf(w->a.name, sizeof(w->a.name), "%s", pick_pool_name(w));
    prop_say(w, "cpupool-rename %u '%s'", w->a.poolid, w->a.name);
    return keel_cpupool_rename(w->host, w->a.poolid, w->a.name);
}

static void
check_pool_rename(struct world *w)
{
    const struct keel_cpupool_info *k = prop_view_kpool(w->after, w->a.poolid);

    prop_expect(w, k && !strcmp(k->name, w->a.name), "pool %u is '%s'",
                w->a.poolid, k ? k->name : "gone");
}

static int
op_numa_split(struct world *w)
{
    prop_say(w, "cpupool-numa-split");
    return keel_cpupool_numa_split(w->host);
}

static void
check_numa_split(struct world *w)
{
    const struct view *v = w->after;
    size_t i;

    prop_expect(w, v->n_pools == NR_NODES, "%zu pools after the split",
                v->n_pools);
    for (i = 0; i < v->n_pools; i++)
        prop_expect(w,
                    keel_cpumap_count(&v->pools[i].cpus) == NR_CPUS / NR_NODES,
                    "pool %u holds %s", v->pools[i].poolid,
                    prop_map_text(&v->pools[i].cpus));
}

static struct op ops[] = {
    {"create", 14, op_create, check_create, 0, 0},
    {"destroy", 5, op_destroy, check_destroy, 0, 0},
    {"cpupool-create", 7, op_pool_create, check_pool_create, 0, 0},
    {"cpupool-destroy", 5, op_pool_destroy, check_pool_destroy, 0, 0},
    {"cpupool-cpu-add", 8, op_cpu_add, check_cpu_add, 0, 0},
    {"cpupool-cpu-remove", 9, op_cpu_remove, check_cpu_remove, 0, 0},
    {"cpupool-migrate", 8, op_move, check_move, 0, 0},
    {"vcpu-pin", 10, op_pin, check_pin, 0, 0},
    {"mem-set", 5, op_mem_set, check_mem_set, 0, 0},
    {"mem-max", 2, op_mem_max, check_mem_max, 0, 0},
    {"pause", 3, op_pause, check_pause, 0, 0},
    {"unpause", 3, op_unpause, check_pause, 0, 0},
    {"rename", 3, op_rename, check_rename, 0, 0},
    {"vcpu-set", 3, op_vcpu_set, check_vcpu_set, 0, 0},
    {"shutdown/reboot", 3, op_shutdown, NULL, 0, 0},
    {"guest-act", 4, op_guest_act, NULL, 0, 0},
    {"cpupool-rename", 2, op_pool_rename, check_pool_rename, 0, 0},
    {"cpupool-numa-split", 1, op_numa_split, check_numa_split, 0, 0},
};

#define N_OPS (sizeof(ops) / sizeof(ops[0]))

static struct op *
pick_op(struct world *w)
{
    unsigned int total = 0, r;
    size_t i;

    for (i = 0; i < N_OPS; i++)
        total += ops[i].weight;
    r = prop_below(w, total);
    for (i = 0; r >= ops[i].weight; i++)
        r -= ops[i].weight;
    return &ops[i];
}

/* --- the driver --------------------------------------------------------- */

/* Simulated time passes (guests act on requests, dying domains go) and
 * the host takes its events, carrying out on_* actions. An action may
 * fail only for want of memory (the balloon never reached the target a
 * restart asks for, or a renamed incarnation still holds its memory):
 * the invariants keep the records' pools, CPUs and names valid, so a
 * restart refused for anything else loses a domain for nothing. */
static void
tick(struct world *w)
{
    struct keel_domain_event evs[N_EVS];
    uint64_t ns = prop_below(w, 50) * MS;
    size_t n;
    int rc;

    prop_say(w, "clock +%" PRIu64 " ms, then keel_host_events", ns / MS);
    prop_call_ok(w, keel_sim_clock_advance(w->hv, ns),
                 "keel_sim_clock_advance");
    do {
        rc = keel_host_events(w->host, evs, N_EVS, &n);
        prop_expect(w, rc == 0 || rc == KEEL_ENOHOSTMEM,
                    "an on_* action failed: %s: %s", keel_strerror(rc),
                    keel_ctx_last_error(th_ctx()));
        if (rc) {
            w->n_event_errors++;
            prop_check_rc(w, rc);
        }
    } while (n == N_EVS);
}

static void
step(struct world *w)
{
    struct op *op = pick_op(w);
    int rc;

    tick(w);
    prop_view_take(w, w->before);
    prop_invariants(w, w->before);
    memset(&w->a, 0, sizeof(w->a));
    rc = op->run(w);
    prop_check_rc(w, rc);
    prop_view_take(w, w->after);
    prop_invariants(w, w->after);
    if (rc) {
        op->n_failed++;
        prop_unchanged(w, w->before, w->after);
    } else {
        op->n_ok++;
        if (op->check)
            op->check(w);
    }
}

static struct world *
world_open(uint64_t stream)
{
    struct world *w = calloc(1, sizeof(*w));

    ck_assert_ptr_nonnull(w);
    w->before = calloc(1, sizeof(*w->before));
    w->after = calloc(1, sizeof(*w->after));
    ck_assert(w->before && w->after);
    w->seed = prop_env_u64("KEEL_PROPERTY_SEED", DEFAULT_SEED);
    w->rng = prop_seed_state(w->seed, stream);
    w->n_ops = (unsigned long)prop_env_u64("KEEL_PROPERTY_OPS", DEFAULT_OPS);
    w->verbose = prop_env_u64("KEEL_PROPERTY_VERBOSE", 0) != 0;
    w->hv = th_sim_open(NULL, SPEC, KEEL_HV_OPEN_MANUAL_CLOCK);
    w->host = th_host_open(w->hv, NULL);
    return w;
}

static void
world_close(struct world *w)
{
    size_t i;

    if (w->verbose) {
        for (i = 0; i < N_OPS; i++)
            fprintf(stderr, "%-20s %6lu ok %6lu failed\n", ops[i].name,
                    ops[i].n_ok, ops[i].n_failed);
        fprintf(stderr, "%lu on_* actions failed\n", w->n_event_errors);
    }
    free(w->before);
    free(w->after);
    free(w);
}

START_TEST(random_ops)
{
    struct world *w = world_open(1);

    prop_say(w, "the host as opened");
    prop_view_take(w, w->after);
    prop_invariants(w, w->after);
    for (w->op = 1; w->op <= w->n_ops; w->op++)
        step(w);
    world_close(w);
}
END_TEST

/* --- reopening ---------------------------------------------------------- */

/* The live domains' configs, by position in v->doms (NULL for the rest). */
static struct keel_domain_config *
configs_take(const struct world *w, const struct view *v)
{
    struct keel_domain_config *cfgs = calloc(v->n_doms + 1, sizeof(*cfgs));
    size_t i;

    ck_assert_ptr_nonnull(cfgs);
    for (i = 0; i < v->n_doms; i++) {
        keel_domain_config_init(&cfgs[i]);
        if (v->doms[i].hv.domid && prop_live(&v->doms[i]))
            prop_call_ok(
                w,
                keel_domain_config_get(w->host, v->doms[i].hv.domid, &cfgs[i]),
                "keel_domain_config_get");
    }
    return cfgs;
}

static void
configs_free(struct keel_domain_config *cfgs, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        keel_domain_config_dispose(&cfgs[i]);
    free(cfgs);
}

/* Closes the host and opens it again on the same hypervisor: the same
 * domains with the same names, states and configs, the same pools. */
static void
reopen(struct world *w)
{
    struct keel_domain_config *was, *now;
    const struct view *b = w->before, *a = w->after;
    size_t i;

    prop_say(w, "closing and reopening the host");
    prop_view_take(w, w->before);
    was = configs_take(w, b);
    th_host_close(w->host);
    w->host = th_host_open(w->hv, NULL);
    prop_view_take(w, w->after);
    prop_invariants(w, w->after);
    prop_unchanged(w, b, a); /* the same live domains, pools and CPUs */
    now = configs_take(w, a);
    prop_expect(w, a->n_doms == b->n_doms, "%zu domains became %zu", b->n_doms,
                a->n_doms);
    for (i = 0; i < b->n_doms; i++)
        prop_expect(w, keel_domain_config_equal(&was[i], &now[i]),
                    "domain %u (%s) has another config after reopening",
                    b->doms[i].hv.domid, b->doms[i].name);
    configs_free(was, b->n_doms);
    configs_free(now, a->n_doms);
}

START_TEST(random_ops_reopen)
{
    struct world *w = world_open(2);
    unsigned long n = w->n_ops / 5;

    w->n_ops = n ? n : 1;
    for (w->op = 1; w->op <= w->n_ops; w->op++) {
        step(w);
        if (w->op % REOPEN_EVERY == 0 || w->op == w->n_ops)
            reopen(w);
    }
    world_close(w);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("property");
    TCase *tc = th_tcase(s, "random");

    tcase_add_test(tc, random_ops);
    tcase_add_test(tc, random_ops_reopen);
    return th_run(s);
}

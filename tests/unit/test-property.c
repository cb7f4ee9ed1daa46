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

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/cpupool.h>
#include <keel/domain.h>

#include "harness.h"

#define SPEC "cpus=16,nodes=4,sockets=4,memory=16G"
#define HOST_GIB 16 /* memory=, small enough to run short */
#define NR_CPUS 16
#define NR_NODES 4
#define DEFAULT_SEED UINT64_C(20240611)
#define DEFAULT_OPS 10000
#define REOPEN_EVERY 500
#define MS UINT64_C(1000000)

#define MAX_POOLS 64
#define MAX_DOMS 256
#define MAX_VCPU_SLOTS 2048
#define N_EVS 64

/* One domain as the hypervisor and libkeel see it. */
struct vdom {
    struct keel_hv_dominfo hv;
    char name[KEEL_NAME_MAX + 1]; /* libkeel's */
    enum keel_domain_state state;
    size_t vcpu0; /* its first vCPU in view.vcpus */
};

/* The host at one moment. */
struct view {
    struct keel_hv_physinfo pi;
    struct keel_cpumap free, kfree; /* the hypervisor's, libkeel's */
    struct keel_hv_poolinfo pools[MAX_POOLS];
    struct keel_cpupool_info kpools[MAX_POOLS];
    size_t n_pools, n_kpools;
    struct vdom doms[MAX_DOMS];
    size_t n_doms;
    struct keel_hv_vcpuinfo vcpus[MAX_VCPU_SLOTS];
    size_t n_vcpus;
    uint32_t nr_records; /* keel_host_info's nr_domains */
};

/* The arguments of the operation under way, for its check. */
struct args {
    uint32_t domid, poolid, vcpu;
    uint64_t kb;
    enum keel_scheduler sched;
    struct keel_cpumap map, hard, soft;
    bool map_set, hard_set, soft_set;
    char name[KEEL_NAME_MAX + 8];
    char pool[KEEL_NAME_MAX + 8];
    unsigned int flags;
};

struct world {
    struct keel_hv *hv;
    struct keel_host *host;
    uint64_t seed, rng;
    unsigned long op, n_ops;
    char what[768]; /* the operation under way */
    bool verbose;
    struct args a;
    struct view *before, *after;
    unsigned long n_event_errors;
};

struct op {
    const char *name;
    unsigned int weight;
    int (*run)(struct world *w);
    void (*check)(struct world *w); /* after a success, on w->after */
    unsigned long n_ok, n_failed;
};

/* --- reporting ---------------------------------------------------------- */

static void expect(const struct world *w, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails the test naming the seed and the operation when ok is false. */
static void
expect(const struct world *w, bool ok, const char *fmt, ...)
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

static void say(struct world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Describes the operation under way. */
static void
say(struct world *w, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(w->what, sizeof(w->what), fmt, ap);
    va_end(ap);
}

/* A call made to look, which must work. */
static void
call_ok(const struct world *w, int rc, const char *what)
{
    expect(w, rc == 0, "%s: %s: %s", what, keel_strerror(rc),
           keel_ctx_last_error(th_ctx()));
}

/* A map as text, in one of a few rotating buffers. */
static const char *
map_text(const struct keel_cpumap *map)
{
    static char bufs[8][128];
    static unsigned int next;
    char *buf = bufs[next++ % 8];

    keel_cpumap_format(map, buf, sizeof(bufs[0]));
    return buf[0] ? buf : "(none)";
}

/* The rule every call follows: 0, or a negative keel_err with a message
 * that goes with it. */
static void
check_rc(struct world *w, int rc)
{
    const char *msg = keel_ctx_last_error(th_ctx());
    int code = keel_ctx_last_code(th_ctx());

    if (w->verbose)
        fprintf(stderr, "op %lu: %s: %s%s%s\n", w->op, w->what,
                rc ? keel_strerror(rc) : "ok", rc ? ": " : "", rc ? msg : "");
    if (rc == 0)
        return;
    expect(w, rc < 0, "returned %d, not 0 or a negative keel_err", rc);
    expect(w, msg[0] != '\0', "failed (%s) and recorded no message",
           keel_strerror(rc));
    expect(w, code == rc, "failed with %s but the message is for %s: %s",
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

static uint32_t
below(struct world *w, uint32_t n)
{
    return (uint32_t)(rnd(w) % n);
}

static bool
chance(struct world *w, unsigned int percent)
{
    return below(w, 100) < percent;
}

/* splitmix64 of the seed: a good, never-zero start for xorshift. */
static uint64_t
seed_state(uint64_t seed, uint64_t stream)
{
    uint64_t x = seed + stream * UINT64_C(0x9E3779B97F4A7C15);

    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (x ^ (x >> 31)) | 1;
}

static uint64_t
env_u64(const char *name, uint64_t dflt)
{
    const char *s = getenv(name);

    return s && *s ? strtoull(s, NULL, 0) : dflt;
}

/* --- views -------------------------------------------------------------- */

static const struct vdom *
view_dom(const struct view *v, uint32_t domid)
{
    size_t i;

    for (i = 0; i < v->n_doms; i++)
        if (v->doms[i].hv.domid == domid)
            return &v->doms[i];
    return NULL;
}

static const struct keel_hv_poolinfo *
view_pool(const struct view *v, uint32_t poolid)
{
    size_t i;

    for (i = 0; i < v->n_pools; i++)
        if (v->pools[i].poolid == poolid)
            return &v->pools[i];
    return NULL;
}

static const struct keel_cpupool_info *
view_kpool(const struct view *v, uint32_t poolid)
{
    size_t i;

    for (i = 0; i < v->n_kpools; i++)
        if (v->kpools[i].poolid == poolid)
            return &v->kpools[i];
    return NULL;
}

static const struct keel_cpupool_info *
view_kpool_named(const struct view *v, const char *name)
{
    size_t i;

    for (i = 0; name && i < v->n_kpools; i++)
        if (!strcmp(v->kpools[i].name, name))
            return &v->kpools[i];
    return NULL;
}

static bool
live(const struct vdom *d)
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

    call_ok(w, keel_hv_domain_list(w->hv, 0, infos, MAX_DOMS, &v->n_doms),
            "keel_hv_domain_list");
    expect(w, v->n_doms < MAX_DOMS, "over %d domains", MAX_DOMS);
    v->n_vcpus = 0;
    for (i = 0; i < v->n_doms; i++) {
        struct vdom *d = &v->doms[i];

        memset(d, 0, sizeof(*d));
        d->hv = infos[i];
        d->vcpu0 = v->n_vcpus;
        expect(w, v->n_vcpus + d->hv.max_vcpus <= MAX_VCPU_SLOTS,
               "over %d vCPUs", MAX_VCPU_SLOTS);
        for (c = 0; c < d->hv.max_vcpus; c++)
            call_ok(w,
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

    call_ok(w, keel_domain_list(w->host, &infos, &n), "keel_domain_list");
    expect(w, n == v->n_doms,
           "keel_domain_list has %zu domains, the "
           "hypervisor %zu",
           n, v->n_doms);
    for (i = 0; i < n; i++) {
        expect(w, infos[i].domid == v->doms[i].hv.domid,
               "keel_domain_list's entry %zu is domain %u, the "
               "hypervisor's %u",
               i, infos[i].domid, v->doms[i].hv.domid);
        memcpy(v->doms[i].name, infos[i].name, sizeof(infos[i].name));
        v->doms[i].state = infos[i].state;
    }
    free(infos);
    call_ok(w, keel_cpupool_list(w->host, &pools, &v->n_kpools),
            "keel_cpupool_list");
    expect(w, v->n_kpools < MAX_POOLS, "over %d pools", MAX_POOLS);
    memcpy(v->kpools, pools, v->n_kpools * sizeof(*pools));
    free(pools);
    call_ok(w, keel_cpupool_free_cpus(w->host, &v->kfree),
            "keel_cpupool_free_cpus");
    call_ok(w, keel_host_info(w->host, &hi), "keel_host_info");
    v->nr_records = hi.nr_domains;
}

static void
view_take(const struct world *w, struct view *v)
{
    call_ok(w, keel_hv_physinfo(w->hv, &v->pi), "keel_hv_physinfo");
    call_ok(w, keel_hv_cpupool_list(w->hv, v->pools, MAX_POOLS, &v->n_pools),
            "keel_hv_cpupool_list");
    expect(w, v->n_pools < MAX_POOLS, "over %d pools", MAX_POOLS);
    call_ok(w, keel_hv_cpupool_free_cpus(w->hv, &v->free),
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
    expect(w, keel_cpumap_subset(&v->free, &all),
           "the free set %s names CPUs the host lacks", map_text(&v->free));
    for (i = 0; i < v->n_pools; i++)
        expect(w, keel_cpumap_subset(&v->pools[i].cpus, &all),
               "pool %u holds %s, CPUs the host lacks", v->pools[i].poolid,
               map_text(&v->pools[i].cpus));
    for (cpu = 0; cpu < v->pi.nr_cpus; cpu++) {
        n = keel_cpumap_test(&v->free, cpu);
        for (i = 0; i < v->n_pools; i++)
            n += keel_cpumap_test(&v->pools[i].cpus, cpu);
        expect(w, n == 1,
               "CPU %u is in %u of the pools and the free set "
               "(free: %s)",
               cpu, n, map_text(&v->free));
    }
    expect(w, keel_cpumap_equal(&v->kfree, &v->free),
           "keel_cpupool_free_cpus says %s, the hypervisor %s",
           map_text(&v->kfree), map_text(&v->free));
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

        p = view_pool(v, d->hv.poolid);
        expect(w, p != NULL,
               "domain %u is in pool %u, which does not "
               "exist",
               d->hv.domid, d->hv.poolid);
        if (!live(d))
            continue;
        for (c = 0; c < d->hv.max_vcpus; c++) {
            const struct keel_hv_vcpuinfo *vc = &v->vcpus[d->vcpu0 + c];

            expect(w,
                   keel_cpumap_equal(&vc->hard, &all) ||
                       keel_cpumap_subset(&vc->hard, &p->cpus),
                   "d%uv%u is pinned to %s, outside pool %u (%s)", d->hv.domid,
                   c, map_text(&vc->hard), p->poolid, map_text(&p->cpus));
            expect(w, keel_cpumap_intersects(&vc->hard, &p->cpus),
                   "d%uv%u is pinned to %s, no CPU of pool %u (%s)",
                   d->hv.domid, c, map_text(&vc->hard), p->poolid,
                   map_text(&p->cpus));
            expect(w,
                   !keel_cpumap_is_empty(&vc->soft) &&
                       keel_cpumap_subset(&vc->soft, &all),
                   "d%uv%u has soft affinity %s", d->hv.domid, c,
                   map_text(&vc->soft));
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
    expect(w, v->pi.free_kb + held == v->pi.total_kb,
           "free %" PRIu64 " KiB + domains %" PRIu64 " KiB != total %" PRIu64
           " KiB",
           v->pi.free_kb, held, v->pi.total_kb);
}

/* 5: domain counts, and libkeel's pools are the hypervisor's. */
static void
inv_pools(const struct world *w, const struct view *v)
{
    const struct keel_cpupool_info *k;
    size_t i, j;
    uint32_t n;

    expect(w, v->n_pools > 0 && v->pools[0].poolid == 0, "no Pool-0");
    expect(w, v->n_kpools == v->n_pools,
           "libkeel lists %zu pools, the "
           "hypervisor %zu",
           v->n_kpools, v->n_pools);
    for (i = 0; i < v->n_pools; i++) {
        const struct keel_hv_poolinfo *p = &v->pools[i];

        for (n = 0, j = 0; j < v->n_doms; j++)
            n += v->doms[j].hv.poolid == p->poolid;
        expect(w, p->n_dom == n, "pool %u counts %u domains; %u are in it",
               p->poolid, p->n_dom, n);
        expect(w, n == 0 || !keel_cpumap_is_empty(&p->cpus),
               "pool %u has %u domains and no CPU", p->poolid, n);
        k = view_kpool(v, p->poolid);
        expect(w, k != NULL, "libkeel does not list pool %u", p->poolid);
        expect(w,
               k->n_dom == p->n_dom && k->sched == p->sched &&
                   keel_cpumap_equal(&k->cpus, &p->cpus),
               "libkeel says pool %u has %u domains, %s, CPUs %s; the "
               "hypervisor %u, %s, %s",
               p->poolid, k->n_dom, keel_scheduler_name(k->sched),
               map_text(&k->cpus), p->n_dom, keel_scheduler_name(p->sched),
               map_text(&p->cpus));
        expect(w, k->name[0] != '\0', "pool %u has no name", p->poolid);
        for (j = 0; j < i; j++)
            expect(w, strcmp(v->kpools[j].name, k->name) != 0,
                   "pools %u and %u are both called '%s'", v->kpools[j].poolid,
                   k->poolid, k->name);
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
    call_ok(w, keel_host_resolve_cpus(w->host, spec, map),
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

    expect(w,
           credit || (cfg->cpu_weight == KEEL_UNSET && cfg->cap == KEEL_UNSET),
           "domain %u (%s) is in a %s pool; its record has cpu_weight=%" PRId64
           " cap=%" PRId64 ", so a restart would be refused",
           d->hv.domid, d->name, keel_scheduler_name(sched), cfg->cpu_weight,
           cfg->cap);
    expect(w,
           sched == KEEL_SCHED_RTDS || (cfg->rtds_period == KEEL_UNSET &&
                                        cfg->rtds_budget == KEEL_UNSET),
           "domain %u (%s) is in a %s pool; its record has period=%" PRId64
           " budget=%" PRId64 ", so a restart would be refused",
           d->hv.domid, d->name, keel_scheduler_name(sched), cfg->rtds_period,
           cfg->rtds_budget);
}

/* The record says where and how the domain runs: its pool, scheduler
 * settings the pool takes, its pinning. */
static void
inv_record_current(const struct world *w, const struct view *v,
                   const struct vdom *d, const struct keel_domain_config *cfg)
{
    const struct keel_cpupool_info *k = view_kpool(v, d->hv.poolid);
    struct keel_cpumap want;
    uint32_t c;

    expect(w, k && cfg->pool && !strcmp(cfg->pool, k->name),
           "domain %u (%s) is in pool '%s'; its record says '%s'", d->hv.domid,
           d->name, k ? k->name : "?", cfg->pool ? cfg->pool : "(unset)");
    inv_record_sched(w, d, cfg, k->sched);
    expect(w, cfg->maxvcpus == d->hv.max_vcpus,
           "domain %u has %u vCPUs; its record says %" PRId64, d->hv.domid,
           d->hv.max_vcpus, cfg->maxvcpus);
    for (c = 0; c < d->hv.max_vcpus; c++) {
        const struct keel_hv_vcpuinfo *vc = &v->vcpus[d->vcpu0 + c];

        aff_resolve(w, &cfg->cpus, c, &want);
        expect(w, keel_cpumap_equal(&want, &vc->hard),
               "d%uv%u is pinned to %s; its record says %s", d->hv.domid, c,
               map_text(&vc->hard), map_text(&want));
        aff_resolve(w, &cfg->cpus_soft, c, &want);
        expect(w, keel_cpumap_equal(&want, &vc->soft),
               "d%uv%u has soft affinity %s; its record says %s", d->hv.domid,
               c, map_text(&vc->soft), map_text(&want));
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
    expect(w, rc == 0, "domain %u (%s) has no owner: %s: %s", d->hv.domid,
           d->name, keel_strerror(rc), keel_ctx_last_error(th_ctx()));
    expect(w, cfg.name && !strcmp(cfg.name, d->name),
           "domain %u is listed as '%s'; its record says '%s'", d->hv.domid,
           d->name, cfg.name ? cfg.name : "(unset)");
    expect(w, !memcmp(cfg.uuid, d->hv.uuid, 16),
           "domain %u's record has another uuid", d->hv.domid);
    rc = keel_domain_lookup(w->host, d->name, &found);
    expect(w, rc == 0 && found == d->hv.domid,
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

    expect(w, dir != NULL, "cannot open the state directory");
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.' || parked(de->d_name))
            continue;
        end = 0;
        expect(w,
               sscanf(de->d_name, "domain-%u-%36[0-9a-f-].json%n", &domid, ustr,
                      &end) == 2 &&
                   !de->d_name[end] && keel_uuid_parse(ustr, uuid) == 0,
               "stray file %s in the state directory", de->d_name);
        d = view_dom(v, domid);
        expect(w, d && live(d) && !memcmp(d->hv.uuid, uuid, 16),
               "%s describes no live domain", de->d_name);
        n++;
    }
    closedir(dir);
    expect(w, n == n_live, "%u config files for %u live domains", n, n_live);
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
            expect(w, !strcmp(d->name, "Domain-0"),
                   "Domain-0 is listed as "
                   "'%s'",
                   d->name);
            continue;
        }
        if (!live(d))
            continue;
        n_live++;
        inv_owner(w, v, d);
        for (j = 0; j < i; j++)
            expect(w,
                   !live(&v->doms[j]) || strcmp(v->doms[j].name, d->name) != 0,
                   "domains %u and %u are both called '%s'",
                   v->doms[j].hv.domid, d->hv.domid, d->name);
    }
    expect(w, v->nr_records == n_live + 1,
           "libkeel counts %u domains; the hypervisor has %u live ones",
           v->nr_records, n_live + 1);
    inv_files(w, v, n_live);
}

static void
invariants(const struct world *w, const struct view *v)
{
    inv_cpus(w, v);
    inv_affinity(w, v);
    inv_memory(w, v);
    inv_owners(w, v);
    inv_pools(w, v);
}

/* A failed call changed nothing: CPUs, memory, live domains. */
static void
unchanged(const struct world *w, const struct view *b, const struct view *a)
{
    const struct vdom *db, *da;
    size_t i, n_live = 0;
    uint32_t c;

    expect(w, keel_cpumap_equal(&b->free, &a->free),
           "a failed call changed the free CPUs from %s to %s",
           map_text(&b->free), map_text(&a->free));
    expect(w, b->n_pools == a->n_pools,
           "a failed call changed the number "
           "of pools from %zu to %zu",
           b->n_pools, a->n_pools);
    for (i = 0; i < b->n_pools; i++)
        expect(w,
               b->pools[i].poolid == a->pools[i].poolid &&
                   keel_cpumap_equal(&b->pools[i].cpus, &a->pools[i].cpus) &&
                   !strcmp(b->kpools[i].name, a->kpools[i].name),
               "a failed call changed pool %u ('%s', %s)", b->pools[i].poolid,
               b->kpools[i].name, map_text(&b->pools[i].cpus));
    expect(w, b->pi.free_kb == a->pi.free_kb,
           "a failed call changed free "
           "memory from %" PRIu64 " to %" PRIu64 " KiB",
           b->pi.free_kb, a->pi.free_kb);
    for (i = 0; i < b->n_doms; i++) {
        db = &b->doms[i];
        if (!live(db))
            continue;
        n_live++;
        da = view_dom(a, db->hv.domid);
        expect(w,
               da && live(da) && !memcmp(da->hv.uuid, db->hv.uuid, 16) &&
                   da->hv.poolid == db->hv.poolid &&
                   da->hv.tot_kb == db->hv.tot_kb && da->state == db->state &&
                   !strcmp(da->name, db->name),
               "a failed call changed domain %u (%s)", db->hv.domid, db->name);
        for (c = 0; c < db->hv.max_vcpus; c++)
            expect(w,
                   keel_cpumap_equal(&b->vcpus[db->vcpu0 + c].hard,
                                     &a->vcpus[da->vcpu0 + c].hard) &&
                       keel_cpumap_equal(&b->vcpus[db->vcpu0 + c].soft,
                                         &a->vcpus[da->vcpu0 + c].soft),
                   "a failed call changed d%uv%u's affinity", db->hv.domid, c);
    }
    for (i = 0; i < a->n_doms; i++)
        n_live -= live(&a->doms[i]) ? 1 : 0;
    expect(w, n_live == 0,
           "a failed call changed the number of live "
           "domains");
}

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
    if (!chance(w, 6))
        return names[below(w, (uint32_t)n)];
    if (chance(w, 15))
        return long_name();
    return bad_names[below(w, sizeof(bad_names) / sizeof(bad_names[0]))];
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

    if (chance(w, 40))
        return v->kpools[below(w, (uint32_t)v->n_kpools)].name;
    return pick_name(w, pool_names, sizeof(pool_names) / sizeof(pool_names[0]));
}

/* A domid: mostly one that exists (Domain-0 and dying ones too). */
static uint32_t
pick_domid(struct world *w)
{
    const struct view *v = w->before;
    uint32_t r = below(w, 100);

    if (r < 84)
        return v->doms[below(w, (uint32_t)v->n_doms)].hv.domid;
    if (r < 88)
        return 0;
    if (r < 97)
        return 1 + below(w, 300);
    return r < 99 ? KEEL_DOMID_FIRST_RESERVED : KEEL_DOMID_INVALID;
}

/* A domid of a live domain other than Domain-0 when there is one. */
static uint32_t
pick_live_domid(struct world *w)
{
    const struct view *v = w->before;
    size_t i, n = 0, k;

    for (i = 0; i < v->n_doms; i++)
        n += v->doms[i].hv.domid && live(&v->doms[i]);
    if (n == 0 || chance(w, 10))
        return pick_domid(w);
    k = below(w, (uint32_t)n);
    for (i = 0; i < v->n_doms; i++)
        if (v->doms[i].hv.domid && live(&v->doms[i]) && k-- == 0)
            break;
    return v->doms[i].hv.domid;
}

static uint32_t
pick_poolid(struct world *w)
{
    const struct view *v = w->before;
    uint32_t r = below(w, 100);

    if (r < 85)
        return v->pools[below(w, (uint32_t)v->n_pools)].poolid;
    if (r < 90)
        return 0;
    return r < 98 ? 1 + below(w, 40) : KEEL_POOLID_ANY;
}

/* The CPUs of a pool before the call (none when there is no such pool). */
static struct keel_cpumap
pool_cpus(const struct world *w, uint32_t poolid)
{
    const struct keel_hv_poolinfo *p = view_pool(w->before, poolid);
    struct keel_cpumap m;

    keel_cpumap_zero(&m);
    return p ? p->cpus : m;
}

/* Some CPUs of hint (at least one). */
static void
some_of(struct world *w, const struct keel_cpumap *hint,
        struct keel_cpumap *map)
{
    unsigned int k = below(w, keel_cpumap_count(hint));
    int cpu;

    for (cpu = keel_cpumap_next(hint, 0); cpu >= 0;
         cpu = keel_cpumap_next(hint, (unsigned int)cpu + 1))
        if (k-- == 0 || chance(w, 40))
            keel_cpumap_set(map, (unsigned int)cpu);
}

/* A map of CPUs: mostly some of hint (the free ones, a pool's), else any
 * CPUs, a node, every CPU, CPUs the host lacks, or none. */
static void
rand_map(struct world *w, const struct keel_cpumap *hint,
         struct keel_cpumap *map)
{
    uint32_t r = below(w, 100), n, base;

    keel_cpumap_zero(map);
    if (r < 50 && !keel_cpumap_is_empty(hint)) {
        some_of(w, hint, map);
    } else if (r < 60) {
        *map = *hint;
    } else if (r < 75) {
        for (n = 1 + below(w, 3); n > 0; n--)
            keel_cpumap_set(map, below(w, NR_CPUS + 2));
    } else if (r < 85) {
        base = below(w, NR_NODES + 1) * (NR_CPUS / NR_NODES);
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
    uint32_t r = below(w, 100);

    if (r < 15)
        snprintf(text, sizeof(text), "all");
    else if (r < 25)
        snprintf(text, sizeof(text), "node:%u", below(w, NR_NODES + 1));
    else if (r < 32)
        snprintf(text, sizeof(text), "%u-%u,^%u", below(w, 8), 8 + below(w, 10),
                 below(w, NR_CPUS));
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
    unsigned int n = chance(w, 15) ? 1 + below(w, 3) : 1, i;
    size_t len = 0;

    aff->specs = calloc(n, sizeof(char *));
    ck_assert_ptr_nonnull(aff->specs);
    aff->per_vcpu = n > 1 || chance(w, 5);
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
        if (chance(w, 30))
            cfg->on[i] = acts[below(w, sizeof(acts) / sizeof(acts[0]))];
}

/* Scheduler settings now and then, often unfit for the pool. */
static void
rand_sched(struct world *w, struct keel_domain_config *cfg)
{
    if (chance(w, 8))
        cfg->cpu_weight = chance(w, 90) ? 1 + below(w, 1000) : 70000;
    if (chance(w, 4))
        cfg->cap = below(w, 150);
    if (chance(w, 6)) {
        cfg->rtds_period = 100 + below(w, 20000);
        if (chance(w, 70))
            cfg->rtds_budget = 10 + below(w, (uint32_t)cfg->rtds_period);
    }
}

/* Memory in KiB: 16..512 MiB mostly, now and then a big domain, more
 * than is free or than the host has, or not whole pages. */
static int64_t
rand_memory(struct world *w)
{
    uint32_t r = below(w, 100);

    if (r < 87)
        return (int64_t)(16 + below(w, 497)) * (int64_t)MIB_KB;
    if (r < 90) /* a few of these and memory runs short */
        return (int64_t)(1 + below(w, 6)) * (int64_t)GIB_KB;
    if (r < 94)
        return (int64_t)((HOST_GIB - 1) * GIB_KB); /* more than free */
    if (r < 97)
        return (int64_t)((HOST_GIB + 4) * GIB_KB); /* more than the host */
    return (int64_t)(16 + below(w, 100)) * (int64_t)MIB_KB + 2;
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
    cfg->type = types[below(w, 4)];
    cfg->memory_kb = rand_memory(w);
    if (chance(w, 10))
        cfg->maxmem_kb = cfg->memory_kb + (int64_t)below(w, 64) * 1024;
    cfg->vcpus = 1 + below(w, 4);
    if (chance(w, 20))
        cfg->maxvcpus = cfg->vcpus + below(w, 3);
    if (!chance(w, 30))
        cfg->pool = strdup(pick_pool_name(w));
    k = cfg->pool ? view_kpool_named(w->before, cfg->pool)
                  : view_kpool(w->before, 0);
    snprintf(cpus, size, "-");
    snprintf(soft, size, "-");
    if (chance(w, 30))
        rand_affinity(w, k ? &k->cpus : &w->before->free, &cfg->cpus, cpus,
                      size);
    if (chance(w, 10))
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
    w->a.flags = chance(w, 20) ? KEEL_DOMAIN_CREATE_PAUSED : 0;
    if (chance(w, 2))
        w->a.flags |= 1u << 9;
    snprintf(w->a.name, sizeof(w->a.name), "%s", cfg.name);
    if (cfg.pool) /* unset: Pool-0, whatever its name */
        snprintf(w->a.pool, sizeof(w->a.pool), "%s", cfg.pool);
    say(w,
        "create '%s' type=%s memory=%" PRId64 "KiB maxmem=%" PRId64
        " vcpus=%" PRId64 " maxvcpus=%" PRId64 " pool=%s cpus=%s "
        "cpus_soft=%s on=%d,%d,%d,%d weight=%" PRId64 " cap=%" PRId64
        " period=%" PRId64 " budget=%" PRId64 " flags=%#x",
        cfg.name, keel_domain_type_name(cfg.type), cfg.memory_kb, cfg.maxmem_kb,
        cfg.vcpus, cfg.maxvcpus, cfg.pool ? cfg.pool : "(unset)", cpus, soft,
        cfg.on[0], cfg.on[1], cfg.on[2], cfg.on[3], cfg.cpu_weight, cfg.cap,
        cfg.rtds_period, cfg.rtds_budget, w->a.flags);
    w->a.kb = (uint64_t)cfg.memory_kb;
    rc = keel_domain_create(w->host, &cfg, w->a.flags, &w->a.domid);
    keel_domain_config_dispose(&cfg);
    return rc;
}

static void
check_create(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);
    const struct keel_cpupool_info *k;

    expect(w, d && live(d), "domain %u was not made", w->a.domid);
    k = view_kpool(w->after, d->hv.poolid);
    expect(w, !view_dom(w->before, w->a.domid), "domid %u was in use",
           w->a.domid);
    expect(w,
           !strcmp(d->name, w->a.name) && k &&
               (w->a.pool[0] ? !strcmp(k->name, w->a.pool) : k->poolid == 0),
           "domain %u is '%s' in '%s'", d->hv.domid, d->name,
           k ? k->name : "?");
    expect(w,
           d->state == (w->a.flags ? KEEL_DOMAIN_PAUSED : KEEL_DOMAIN_RUNNING),
           "domain %u is %s", d->hv.domid, keel_domain_state_name(d->state));
    expect(w, d->hv.tot_kb == w->a.kb, "domain %u holds %" PRIu64 " KiB",
           d->hv.domid, d->hv.tot_kb);
}

static int
op_destroy(struct world *w)
{
    w->a.domid = pick_domid(w);
    say(w, "destroy %u", w->a.domid);
    return keel_domain_destroy(w->host, w->a.domid);
}

static void
check_destroy(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);

    expect(w, !d || !live(d), "domain %u lives on", w->a.domid);
}

static const enum keel_scheduler scheds[] = {
    KEEL_SCHED_UNKNOWN, KEEL_SCHED_CREDIT, KEEL_SCHED_CREDIT2,
    KEEL_SCHED_RTDS,    KEEL_SCHED_NULL,   (enum keel_scheduler)7};

static int
op_pool_create(struct world *w)
{
    snprintf(w->a.name, sizeof(w->a.name), "%s", pick_pool_name(w));
    w->a.sched = scheds[below(w, sizeof(scheds) / sizeof(scheds[0]))];
    w->a.map_set = !chance(w, 20);
    if (w->a.map_set)
        rand_map(w, &w->before->free, &w->a.map);
    w->a.flags = chance(w, 2) ? 1u << 4 : 0;
    w->a.poolid = KEEL_POOLID_ANY;
    say(w, "cpupool-create '%s' sched=%d cpus=%s flags=%#x", w->a.name,
        (int)w->a.sched, w->a.map_set ? map_text(&w->a.map) : "(default)",
        w->a.flags);
    return keel_cpupool_create(w->host, w->a.name, w->a.sched,
                               w->a.map_set ? &w->a.map : NULL, w->a.flags,
                               &w->a.poolid);
}

static void
check_pool_create(struct world *w)
{
    const struct keel_cpupool_info *k = view_kpool(w->after, w->a.poolid);
    enum keel_scheduler sched = w->a.sched;
    struct keel_cpumap want;

    expect(w, k && !view_pool(w->before, w->a.poolid), "pool %u was not made",
           w->a.poolid);
    if (sched == KEEL_SCHED_UNKNOWN)
        sched = w->before->pools[0].sched;
    keel_cpumap_zero(&want);
    if (w->a.map_set)
        want = w->a.map;
    else
        keel_cpumap_set(&want,
                        (unsigned int)keel_cpumap_next(&w->before->free, 0));
    expect(w,
           !strcmp(k->name, w->a.name) && k->sched == sched &&
               keel_cpumap_equal(&k->cpus, &want) && k->n_dom == 0,
           "pool %u is '%s', %s, CPUs %s, %u domains", k->poolid, k->name,
           keel_scheduler_name(k->sched), map_text(&k->cpus), k->n_dom);
}

static int
op_pool_destroy(struct world *w)
{
    w->a.poolid = pick_poolid(w);
    say(w, "cpupool-destroy %u", w->a.poolid);
    return keel_cpupool_destroy(w->host, w->a.poolid);
}

static void
check_pool_destroy(struct world *w)
{
    struct keel_cpumap was = pool_cpus(w, w->a.poolid);

    expect(w, !view_pool(w->after, w->a.poolid), "pool %u is still there",
           w->a.poolid);
    expect(w, keel_cpumap_subset(&was, &w->after->free),
           "pool %u's CPUs %s are not free", w->a.poolid, map_text(&was));
}

static int
op_cpu_add(struct world *w)
{
    w->a.poolid = pick_poolid(w);
    rand_map(w, &w->before->free, &w->a.map);
    say(w, "cpupool-cpu-add %u %s", w->a.poolid, map_text(&w->a.map));
    return keel_cpupool_cpu_add(w->host, w->a.poolid, &w->a.map);
}

static void
check_cpu_add(struct world *w)
{
    struct keel_cpumap want = pool_cpus(w, w->a.poolid);
    const struct keel_hv_poolinfo *p = view_pool(w->after, w->a.poolid);

    keel_cpumap_or(&want, &want, &w->a.map);
    expect(w, p && keel_cpumap_equal(&p->cpus, &want),
           "pool %u holds %s, not %s", w->a.poolid,
           p ? map_text(&p->cpus) : "?", map_text(&want));
}

static int
op_cpu_remove(struct world *w)
{
    struct keel_cpumap in;

    w->a.poolid = pick_poolid(w);
    in = pool_cpus(w, w->a.poolid);
    rand_map(w, &in, &w->a.map);
    say(w, "cpupool-cpu-remove %u %s (it has %s)", w->a.poolid,
        map_text(&w->a.map), map_text(&in));
    return keel_cpupool_cpu_remove(w->host, w->a.poolid, &w->a.map);
}

static void
check_cpu_remove(struct world *w)
{
    struct keel_cpumap want = pool_cpus(w, w->a.poolid);
    const struct keel_hv_poolinfo *p = view_pool(w->after, w->a.poolid);

    keel_cpumap_andnot(&want, &want, &w->a.map);
    expect(w, p && keel_cpumap_equal(&p->cpus, &want),
           "pool %u holds %s, not %s", w->a.poolid,
           p ? map_text(&p->cpus) : "?", map_text(&want));
    expect(w, keel_cpumap_subset(&w->a.map, &w->after->free),
           "CPUs %s are not free", map_text(&w->a.map));
}

static int
op_move(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.poolid = pick_poolid(w);
    say(w, "cpupool-migrate domain %u to pool %u", w->a.domid, w->a.poolid);
    return keel_cpupool_move_domain(w->host, w->a.domid, w->a.poolid);
}

static void
check_move(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);
    const struct vdom *was = view_dom(w->before, w->a.domid);
    struct keel_cpumap all;
    uint32_t c;

    expect(w, d && d->hv.poolid == w->a.poolid, "domain %u is in pool %u",
           w->a.domid, d ? d->hv.poolid : KEEL_POOLID_ANY);
    if (was && was->hv.poolid == w->a.poolid)
        return; /* already there: nothing to do */
    keel_cpumap_fill(&all, NR_CPUS);
    for (c = 0; c < d->hv.max_vcpus; c++)
        expect(w, keel_cpumap_equal(&w->after->vcpus[d->vcpu0 + c].hard, &all),
               "d%uv%u kept its pinning across pools", d->hv.domid, c);
}

static int
op_pin(struct world *w)
{
    const struct vdom *d;
    struct keel_cpumap in, all;

    w->a.domid = chance(w, 50) ? pick_live_domid(w) : pick_domid(w);
    d = view_dom(w->before, w->a.domid);
    in = pool_cpus(w, d ? d->hv.poolid : 0);
    keel_cpumap_fill(&all, NR_CPUS);
    w->a.vcpu =
        chance(w, 30) ? KEEL_VCPU_ALL : below(w, d ? d->hv.max_vcpus + 1 : 4);
    w->a.hard_set = !chance(w, 15);
    if (w->a.hard_set)
        rand_map(w, chance(w, 80) ? &in : &all, &w->a.hard);
    w->a.soft_set = chance(w, 30);
    if (w->a.soft_set)
        rand_map(w, &all, &w->a.soft);
    say(w, "vcpu-pin %u vcpu %d hard=%s soft=%s (pool has %s)", w->a.domid,
        w->a.vcpu == KEEL_VCPU_ALL ? -1 : (int)w->a.vcpu,
        w->a.hard_set ? map_text(&w->a.hard) : "-",
        w->a.soft_set ? map_text(&w->a.soft) : "-", map_text(&in));
    return keel_domain_vcpu_pin(w->host, w->a.domid, w->a.vcpu,
                                w->a.hard_set ? &w->a.hard : NULL,
                                w->a.soft_set ? &w->a.soft : NULL);
}

static void
check_pin(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);
    uint32_t c;

    expect(w, d != NULL, "domain %u is gone", w->a.domid);
    for (c = 0; c < d->hv.max_vcpus; c++) {
        const struct keel_hv_vcpuinfo *vc = &w->after->vcpus[d->vcpu0 + c];

        if (w->a.vcpu != KEEL_VCPU_ALL && w->a.vcpu != c)
            continue;
        expect(w, !w->a.hard_set || keel_cpumap_equal(&vc->hard, &w->a.hard),
               "d%uv%u is pinned to %s", d->hv.domid, c, map_text(&vc->hard));
        expect(w, !w->a.soft_set || keel_cpumap_equal(&vc->soft, &w->a.soft),
               "d%uv%u prefers %s", d->hv.domid, c, map_text(&vc->soft));
    }
}

static int
op_mem_set(struct world *w)
{
    uint32_t r = below(w, 100);

    w->a.domid = pick_live_domid(w);
    if (r < 85)
        w->a.kb = (uint64_t)(1 + below(w, 600)) * MIB_KB;
    else if (r < 93)
        w->a.kb = 4 * (uint64_t)below(w, 300);
    else
        w->a.kb = r < 97 ? 4 * (uint64_t)below(w, 1 << 20) + 2 : 100 * GIB_KB;
    say(w, "mem-set %u %" PRIu64 "KiB", w->a.domid, w->a.kb);
    return keel_domain_mem_set(w->host, w->a.domid, w->a.kb);
}

static void
check_mem_set(struct world *w)
{
    struct keel_domain_info info;

    call_ok(w, keel_domain_info(w->host, w->a.domid, &info),
            "keel_domain_info");
    expect(w, info.target_kb == w->a.kb && info.mem_kb <= w->a.kb,
           "domain %u's target is %" PRIu64 " KiB, it holds %" PRIu64 " KiB",
           w->a.domid, info.target_kb, info.mem_kb);
}

static int
op_mem_max(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.kb =
        chance(w, 90) ? (uint64_t)(16 + below(w, 1024)) * MIB_KB : 100 * GIB_KB;
    say(w, "mem-max %u %" PRIu64 "KiB", w->a.domid, w->a.kb);
    return keel_domain_mem_max(w->host, w->a.domid, w->a.kb);
}

static void
check_mem_max(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);

    expect(w, d && d->hv.max_kb == w->a.kb,
           "domain %u's maximum is %" PRIu64 " KiB", w->a.domid,
           d ? d->hv.max_kb : 0);
}

static int
op_pause(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    say(w, "pause %u", w->a.domid);
    return keel_domain_pause(w->host, w->a.domid);
}

static int
op_unpause(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    say(w, "unpause %u", w->a.domid);
    return keel_domain_unpause(w->host, w->a.domid);
}

static void
check_pause(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);
    const struct vdom *was = view_dom(w->before, w->a.domid);
    enum keel_domain_state want = was->state == KEEL_DOMAIN_RUNNING
                                      ? KEEL_DOMAIN_PAUSED
                                      : KEEL_DOMAIN_RUNNING;

    expect(w, d && d->state == want, "domain %u is %s", w->a.domid,
           d ? keel_domain_state_name(d->state) : "gone");
}

static int
op_rename(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    snprintf(w->a.name, sizeof(w->a.name), "%s", pick_dom_name(w));
    say(w, "rename %u '%s'", w->a.domid, w->a.name);
    return keel_domain_rename(w->host, w->a.domid, w->a.name);
}

static void
check_rename(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);

    expect(w, d && !strcmp(d->name, w->a.name), "domain %u is '%s'", w->a.domid,
           d ? d->name : "gone");
}

static int
op_vcpu_set(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.vcpu = below(w, 7);
    say(w, "vcpu-set %u %u", w->a.domid, w->a.vcpu);
    return keel_domain_vcpu_set(w->host, w->a.domid, w->a.vcpu);
}

static void
check_vcpu_set(struct world *w)
{
    const struct vdom *d = view_dom(w->after, w->a.domid);

    expect(w, d && d->hv.online_vcpus == w->a.vcpu,
           "domain %u has %u vCPUs on line", w->a.domid,
           d ? d->hv.online_vcpus : 0);
}

static int
op_shutdown(struct world *w)
{
    bool reboot = chance(w, 50);

    w->a.domid = pick_live_domid(w);
    w->a.flags = chance(w, 3) ? 1u << 6 : 0;
    say(w, "%s %u flags=%#x", reboot ? "reboot" : "shutdown", w->a.domid,
        w->a.flags);
    return reboot ? keel_domain_reboot(w->host, w->a.domid, 0, w->a.flags)
                  : keel_domain_shutdown(w->host, w->a.domid, 0, w->a.flags);
}

/* The guest stops on its own (a sim control, not a libkeel call). */
static int
op_guest_act(struct world *w)
{
    w->a.domid = pick_live_domid(w);
    w->a.vcpu = below(w, 7); /* the reason; 6 is none */
    say(w, "guest of %u acts: %s", w->a.domid,
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
    say(w, "cpupool-rename %u '%s'", w->a.poolid, w->a.name);
    return keel_cpupool_rename(w->host, w->a.poolid, w->a.name);
}

static void
check_pool_rename(struct world *w)
{
    const struct keel_cpupool_info *k = view_kpool(w->after, w->a.poolid);

    expect(w, k && !strcmp(k->name, w->a.name), "pool %u is '%s'", w->a.poolid,
           k ? k->name : "gone");
}

static int
op_numa_split(struct world *w)
{
    say(w, "cpupool-numa-split");
    return keel_cpupool_numa_split(w->host);
}

static void
check_numa_split(struct world *w)
{
    const struct view *v = w->after;
    size_t i;

    expect(w, v->n_pools == NR_NODES, "%zu pools after the split", v->n_pools);
    for (i = 0; i < v->n_pools; i++)
        expect(w, keel_cpumap_count(&v->pools[i].cpus) == NR_CPUS / NR_NODES,
               "pool %u holds %s", v->pools[i].poolid,
               map_text(&v->pools[i].cpus));
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
    r = below(w, total);
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
    uint64_t ns = below(w, 50) * MS;
    size_t n;
    int rc;

    say(w, "clock +%" PRIu64 " ms, then keel_host_events", ns / MS);
    call_ok(w, keel_sim_clock_advance(w->hv, ns), "keel_sim_clock_advance");
    do {
        rc = keel_host_events(w->host, evs, N_EVS, &n);
        expect(w, rc == 0 || rc == KEEL_ENOHOSTMEM,
               "an on_* action failed: %s: %s", keel_strerror(rc),
               keel_ctx_last_error(th_ctx()));
        if (rc) {
            w->n_event_errors++;
            check_rc(w, rc);
        }
    } while (n == N_EVS);
}

static void
step(struct world *w)
{
    struct op *op = pick_op(w);
    int rc;

    tick(w);
    view_take(w, w->before);
    invariants(w, w->before);
    memset(&w->a, 0, sizeof(w->a));
    rc = op->run(w);
    check_rc(w, rc);
    view_take(w, w->after);
    invariants(w, w->after);
    if (rc) {
        op->n_failed++;
        unchanged(w, w->before, w->after);
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
    w->seed = env_u64("KEEL_PROPERTY_SEED", DEFAULT_SEED);
    w->rng = seed_state(w->seed, stream);
    w->n_ops = (unsigned long)env_u64("KEEL_PROPERTY_OPS", DEFAULT_OPS);
    w->verbose = env_u64("KEEL_PROPERTY_VERBOSE", 0) != 0;
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

    say(w, "the host as opened");
    view_take(w, w->after);
    invariants(w, w->after);
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
        if (v->doms[i].hv.domid && live(&v->doms[i]))
            call_ok(
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

    say(w, "closing and reopening the host");
    view_take(w, w->before);
    was = configs_take(w, b);
    th_host_close(w->host);
    w->host = th_host_open(w->hv, NULL);
    view_take(w, w->after);
    invariants(w, w->after);
    unchanged(w, b, a); /* the same live domains, pools and CPUs */
    now = configs_take(w, a);
    expect(w, a->n_doms == b->n_doms, "%zu domains became %zu", b->n_doms,
           a->n_doms);
    for (i = 0; i < b->n_doms; i++)
        expect(w, keel_domain_config_equal(&was[i], &now[i]),
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

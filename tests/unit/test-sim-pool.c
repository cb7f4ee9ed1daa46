/* test-sim-pool.c: CPU pools, scheduler parameters and the host shape of
 * the sim backend, through the public keel_hv_* API
 *
 * Each test opens a fresh sim in its own directory (the default host, 8
 * CPUs in 2 sockets and 2 nodes with 16 GiB, unless it says otherwise) and
 * checks every refusal for its code and for a message that names what was
 * wrong. Pools are built the way xl builds them: CPUs taken out of Pool-0
 * first, then given to the new pool.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BIG_SPEC "cpus=256,nodes=8,sockets=8,memory=1T"

/* --- helpers ----------------------------------------------------------- */

static struct keel_hv *
open_default(void)
{
    return th_sim_open(NULL, NULL, 0);
}

/* A map of CPUs first..first+n-1. */
static struct keel_cpumap
cpus(unsigned int first, unsigned int n)
{
    struct keel_cpumap m;
    unsigned int i;

    keel_cpumap_zero(&m);
    for (i = 0; i < n; i++)
        keel_cpumap_set(&m, first + i);
    return m;
}

static struct keel_cpumap
one_cpu(unsigned int cpu)
{
    return cpus(cpu, 1);
}

static void
assert_map(const struct keel_cpumap *got, const struct keel_cpumap *want)
{
    char g[256], w[256];

    keel_cpumap_format(got, g, sizeof(g));
    keel_cpumap_format(want, w, sizeof(w));
    ck_assert_msg(keel_cpumap_equal(got, want), "CPU map is '%s', want '%s'", g,
                  w);
}

static struct keel_hv_poolinfo
pool_info(struct keel_hv *hv, uint32_t poolid)
{
    struct keel_hv_poolinfo info;

    memset(&info, 0xa5, sizeof(info));
    OK(keel_hv_cpupool_info(hv, poolid, &info));
    ck_assert_uint_eq(info.poolid, poolid);
    return info;
}

static struct keel_cpumap
free_cpus(struct keel_hv *hv)
{
    struct keel_cpumap m;

    keel_cpumap_fill(&m, 64); /* must be overwritten */
    OK(keel_hv_cpupool_free_cpus(hv, &m));
    return m;
}

static struct keel_hv_dominfo
dom_info(struct keel_hv *hv, uint32_t domid)
{
    struct keel_hv_dominfo info;

    OK(keel_hv_domain_info(hv, domid, &info));
    return info;
}

static struct keel_hv_vcpuinfo
vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu)
{
    struct keel_hv_vcpuinfo info;

    OK(keel_hv_vcpu_info(hv, domid, vcpu, &info));
    return info;
}

static struct keel_hv_sched_dom
sched_dom(struct keel_hv *hv, uint32_t domid)
{
    struct keel_hv_sched_dom p;

    memset(&p, 0xa5, sizeof(p));
    OK(keel_hv_sched_domain_get(hv, domid, &p));
    return p;
}

static struct keel_hv_sched_pool
sched_pool(struct keel_hv *hv, uint32_t poolid)
{
    struct keel_hv_sched_pool p;

    memset(&p, 0xa5, sizeof(p));
    OK(keel_hv_sched_pool_get(hv, poolid, &p));
    return p;
}

static uint32_t
pool_create(struct keel_hv *hv, uint32_t want, enum keel_scheduler sched)
{
    uint32_t id = want;

    OK(keel_hv_cpupool_create(hv, &id, sched));
    if (want != KEEL_POOLID_ANY)
        ck_assert_uint_eq(id, want);
    return id;
}

/* A new pool (any id) holding CPUs first..first+n-1, taken from Pool-0. */
static uint32_t
pool_with_cpus(struct keel_hv *hv, enum keel_scheduler sched,
               unsigned int first, unsigned int n)
{
    uint32_t id = pool_create(hv, KEEL_POOLID_ANY, sched);
    unsigned int i;

    for (i = first; i < first + n; i++) {
        OK(keel_hv_cpupool_remove_cpu(hv, 0, i));
        OK(keel_hv_cpupool_add_cpu(hv, id, i));
    }
    return id;
}

/* A running domain of vcpus vCPUs and kb KiB created in poolid. */
static uint32_t
dom_in_pool(struct keel_hv *hv, uint32_t poolid, uint32_t vcpus, uint64_t kb)
{
    struct keel_hv_domain_spec spec;
    uint32_t domid = KEEL_DOMID_INVALID;

    memset(&spec, 0, sizeof(spec));
    spec.type = KEEL_DOMAIN_PVH;
    OK(keel_uuid_generate(spec.uuid));
    spec.max_vcpus = vcpus;
    spec.online_vcpus = vcpus;
    spec.max_kb = kb;
    spec.mem_kb = kb;
    spec.poolid = poolid;
    spec.domid = KEEL_DOMID_INVALID;
    OK(keel_hv_domain_create(hv, &spec, &domid));
    OK(keel_hv_domain_unpause(hv, domid));
    return domid;
}

static void
set_dom(struct keel_hv *hv, uint32_t domid, enum keel_scheduler sched,
        uint32_t weight, uint32_t cap)
{
    struct keel_hv_sched_dom p = {.sched = sched, .weight = weight, .cap = cap};

    OK(keel_hv_sched_domain_set(hv, domid, &p));
}

static int
try_dom(struct keel_hv *hv, uint32_t domid, enum keel_scheduler sched,
        uint32_t weight, uint32_t cap)
{
    struct keel_hv_sched_dom p = {.sched = sched, .weight = weight, .cap = cap};

    return keel_hv_sched_domain_set(hv, domid, &p);
}

static int
try_pool(struct keel_hv *hv, uint32_t poolid, enum keel_scheduler sched,
         uint32_t tslice_ms, uint32_t ratelimit_us)
{
    struct keel_hv_sched_pool p = {
        .sched = sched, .tslice_ms = tslice_ms, .ratelimit_us = ratelimit_us};

    return keel_hv_sched_pool_set(hv, poolid, &p);
}

static void
assert_pool_params(struct keel_hv *hv, uint32_t poolid,
                   enum keel_scheduler sched, uint32_t tslice_ms,
                   uint32_t ratelimit_us)
{
    struct keel_hv_sched_pool p = sched_pool(hv, poolid);

    ck_assert_int_eq(p.sched, sched);
    ck_assert_uint_eq(p.tslice_ms, tslice_ms);
    ck_assert_uint_eq(p.ratelimit_us, ratelimit_us);
}

static struct keel_hv_sched_rtds
rtds(uint32_t vcpu, uint32_t period_us, uint32_t budget_us, bool extratime)
{
    struct keel_hv_sched_rtds r = {.vcpu = vcpu,
                                   .period_us = period_us,
                                   .budget_us = budget_us,
                                   .extratime = extratime};

    return r;
}

static void
assert_rtds(struct keel_hv *hv, uint32_t domid, uint32_t vcpu,
            uint32_t period_us, uint32_t budget_us, bool extratime)
{
    struct keel_hv_sched_rtds r;

    memset(&r, 0xa5, sizeof(r));
    r.vcpu = vcpu;
    OK(keel_hv_sched_rtds_get(hv, domid, &r, 1));
    ck_assert_uint_eq(r.vcpu, vcpu);
    ck_assert_uint_eq(r.period_us, period_us);
    ck_assert_uint_eq(r.budget_us, budget_us);
    ck_assert(r.extratime == extratime);
}

static size_t
pool_list(struct keel_hv *hv, struct keel_hv_poolinfo *infos, size_t max)
{
    size_t n = 999;

    OK(keel_hv_cpupool_list(hv, infos, max, &n));
    ck_assert_uint_le(n, max);
    return n;
}

/* The ids of every pool, in list order, as "0,1,7". */
static const char *
pool_ids(struct keel_hv *hv)
{
    static char buf[256];
    struct keel_hv_poolinfo infos[16];
    size_t n = pool_list(hv, infos, 16), i, off = 0;

    buf[0] = '\0';
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%u",
                                i ? "," : "", infos[i].poolid);
    return buf;
}

/* --- Pool-0 at boot ---------------------------------------------------- */

START_TEST(test_pool0_at_boot)
{
    struct keel_hv *hv = open_default();
    struct keel_hv_poolinfo infos[4];
    struct keel_cpumap all = cpus(0, 8), none, m;
    struct keel_hv_sched_dom d0;
    size_t n;

    keel_cpumap_zero(&none);
    n = pool_list(hv, infos, 4);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(infos[0].poolid, 0);
    ck_assert_int_eq(infos[0].sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(infos[0].n_dom, 1); /* Domain-0 */
    assert_map(&infos[0].cpus, &all);

    infos[1] = pool_info(hv, 0);
    ck_assert_int_eq(infos[1].sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(infos[1].n_dom, 1);
    assert_map(&infos[1].cpus, &all);

    m = free_cpus(hv);
    assert_map(&m, &none);

    ck_assert_uint_eq(dom_info(hv, 0).poolid, 0);
    d0 = sched_dom(hv, 0);
    ck_assert_int_eq(d0.sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(d0.weight, 256);
    ck_assert_uint_eq(d0.cap, 0);
    assert_pool_params(hv, 0, KEEL_SCHED_CREDIT2, 0, 1000);
}
END_TEST

START_TEST(test_pool0_counts_domains)
{
    struct keel_hv *hv = open_default();
    uint32_t a, b;

    a = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 64 * MIB_KB);
    ck_assert_uint_eq(pool_info(hv, 0).n_dom, 2);
    b = th_sim_domain(hv, KEEL_DOMAIN_HVM, 2, 64 * MIB_KB);
    ck_assert_uint_eq(pool_info(hv, 0).n_dom, 3);
    ck_assert_uint_eq(dom_info(hv, a).poolid, 0);
    ck_assert_uint_eq(dom_info(hv, b).poolid, 0);
    ck_assert_int_eq(sched_dom(hv, b).sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(sched_dom(hv, b).weight, 256);
}
END_TEST

/* A list shorter than the pools: max entries, in id order. */
START_TEST(test_list_max)
{
    struct keel_hv *hv = open_default();
    struct keel_hv_poolinfo infos[2];
    size_t n = 99;

    pool_create(hv, 5, KEEL_SCHED_CREDIT);
    pool_create(hv, 3, KEEL_SCHED_RTDS);
    ck_assert_uint_eq(pool_list(hv, infos, 2), 2);
    ck_assert_uint_eq(infos[0].poolid, 0);
    ck_assert_uint_eq(infos[1].poolid, 3);
    OK(keel_hv_cpupool_list(hv, NULL, 0, &n));
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* --- create ------------------------------------------------------------ */

START_TEST(test_create_any)
{
    struct keel_hv *hv = open_default();
    struct keel_hv_poolinfo info;
    struct keel_cpumap none;

    keel_cpumap_zero(&none);
    ck_assert_uint_eq(pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT), 1);
    ck_assert_uint_eq(pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_RTDS), 2);
    info = pool_info(hv, 1);
    ck_assert_int_eq(info.sched, KEEL_SCHED_CREDIT);
    ck_assert_uint_eq(info.n_dom, 0);
    assert_map(&info.cpus, &none);
    ck_assert_int_eq(pool_info(hv, 2).sched, KEEL_SCHED_RTDS);
    ck_assert_str_eq(pool_ids(hv), "0,1,2");
    /* Pool-0 gave nothing away. */
    info = pool_info(hv, 0);
    ck_assert_uint_eq(keel_cpumap_count(&info.cpus), 8);
}
END_TEST

START_TEST(test_create_explicit)
{
    struct keel_hv *hv = open_default();
    uint32_t id;

    ck_assert_uint_eq(pool_create(hv, 7, KEEL_SCHED_NULL), 7);
    ck_assert_int_eq(pool_info(hv, 7).sched, KEEL_SCHED_NULL);
    /* ANY is one above the highest id, as on Xen. */
    ck_assert_uint_eq(pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT2), 8);
    ck_assert_uint_eq(pool_create(hv, 3, KEEL_SCHED_CREDIT), 3);
    ck_assert_str_eq(pool_ids(hv), "0,3,7,8");

    id = 7;
    th_assert_err(keel_hv_cpupool_create(hv, &id, KEEL_SCHED_CREDIT),
                  KEEL_EEXIST, "CPU pool 7 exists");
    ck_assert_uint_eq(id, 7);
    id = 0;
    th_assert_err(keel_hv_cpupool_create(hv, &id, KEEL_SCHED_CREDIT2),
                  KEEL_EEXIST, "CPU pool 0 exists");
    /* The refused pools changed nothing. */
    ck_assert_int_eq(pool_info(hv, 7).sched, KEEL_SCHED_NULL);
    ck_assert_str_eq(pool_ids(hv), "0,3,7,8");
}
END_TEST

/* Past the highest possible id, ANY takes the first free one, as Xen's
 * cpupool_create does ("In case of wrap search for first free id"). */
START_TEST(test_create_any_wraps)
{
    struct keel_hv *hv = open_default();
    uint32_t id = KEEL_POOLID_ANY;
    int rc;

    ck_assert_uint_eq(pool_create(hv, KEEL_POOLID_ANY - 1, KEEL_SCHED_CREDIT),
                      KEEL_POOLID_ANY - 1);
    rc = keel_hv_cpupool_create(hv, &id, KEEL_SCHED_CREDIT2);
    ck_assert_msg(rc == 0, "create: %s: %s", keel_strerror(rc),
                  keel_ctx_last_error(th_ctx()));
    ck_assert_uint_eq(id, 1);
    ck_assert_str_eq(pool_ids(hv), "0,1,4294967294");
}
END_TEST

START_TEST(test_create_bad_scheduler)
{
    struct keel_hv *hv = open_default();
    uint32_t id = KEEL_POOLID_ANY;

    th_assert_err(keel_hv_cpupool_create(hv, &id, (enum keel_scheduler)42),
                  KEEL_EINVAL, "unknown scheduler 42");
    ck_assert_uint_eq(id, KEEL_POOLID_ANY);
    th_assert_err(keel_hv_cpupool_create(hv, &id, KEEL_SCHED_UNKNOWN),
                  KEEL_EINVAL, "unknown scheduler 0");
    id = 4;
    th_assert_err(keel_hv_cpupool_create(hv, &id, (enum keel_scheduler)7),
                  KEEL_EINVAL, "unknown scheduler 7");
    ck_assert_str_eq(pool_ids(hv), "0");
    th_assert_err(keel_hv_cpupool_create(hv, NULL, KEEL_SCHED_CREDIT),
                  KEEL_EINVAL, "NULL");
}
END_TEST

/* Each scheduler's pool starts with Xen's defaults. */
START_TEST(test_create_defaults)
{
    struct keel_hv *hv = open_default();

    pool_create(hv, 1, KEEL_SCHED_CREDIT);
    pool_create(hv, 2, KEEL_SCHED_CREDIT2);
    pool_create(hv, 3, KEEL_SCHED_RTDS);
    pool_create(hv, 4, KEEL_SCHED_NULL);
    assert_pool_params(hv, 1, KEEL_SCHED_CREDIT, 30, 1000);
    assert_pool_params(hv, 2, KEEL_SCHED_CREDIT2, 0, 1000);
    assert_pool_params(hv, 3, KEEL_SCHED_RTDS, 0, 0);
    assert_pool_params(hv, 4, KEEL_SCHED_NULL, 0, 0);
}
END_TEST

/* --- CPUs -------------------------------------------------------------- */

START_TEST(test_add_cpu)
{
    struct keel_hv *hv = open_default();
    struct keel_cpumap m, want, none;
    uint32_t id = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT);

    keel_cpumap_zero(&none);
    /* Every CPU is Pool-0's: none can be added elsewhere. */
    th_assert_err(keel_hv_cpupool_add_cpu(hv, id, 3), KEEL_EBUSY,
                  "CPU 3 is in a pool already");
    th_assert_err(keel_hv_cpupool_add_cpu(hv, 0, 3), KEEL_EBUSY, "CPU 3");

    OK(keel_hv_cpupool_remove_cpu(hv, 0, 3));
    m = free_cpus(hv);
    want = one_cpu(3);
    assert_map(&m, &want);
    OK(keel_hv_cpupool_add_cpu(hv, id, 3));
    m = pool_info(hv, id).cpus;
    assert_map(&m, &want);
    m = free_cpus(hv);
    assert_map(&m, &none);
    m = pool_info(hv, 0).cpus;
    keel_cpumap_fill(&want, 8);
    keel_cpumap_clear(&want, 3);
    assert_map(&m, &want);
    /* A CPU in another pool is busy there, too. */
    th_assert_err(keel_hv_cpupool_add_cpu(hv, 0, 3), KEEL_EBUSY,
                  "CPU 3 is in a pool already");
    th_assert_err(keel_hv_cpupool_add_cpu(hv, id, 3), KEEL_EBUSY, "CPU 3");
}
END_TEST

START_TEST(test_add_cpu_range)
{
    struct keel_hv *hv = open_default();
    struct keel_cpumap m;
    uint32_t id = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT);

    th_assert_err(keel_hv_cpupool_add_cpu(hv, id, 8), KEEL_ERANGE,
                  "CPU 8 does not exist");
    th_assert_err(keel_hv_cpupool_add_cpu(hv, id, 4096), KEEL_ERANGE,
                  "CPU 4096");
    th_assert_err(keel_hv_cpupool_add_cpu(hv, id, UINT32_MAX), KEEL_ERANGE,
                  "does not exist");
    th_assert_err(keel_hv_cpupool_add_cpu(hv, 9, 1), KEEL_ENOPOOL,
                  "no CPU pool with id 9");
    m = pool_info(hv, id).cpus;
    ck_assert(keel_cpumap_is_empty(&m));
}
END_TEST

START_TEST(test_remove_cpu)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT);
    struct keel_cpumap m, want;

    th_assert_err(keel_hv_cpupool_remove_cpu(hv, id, 5), KEEL_EINVAL,
                  "CPU 5 is not in pool 1");
    OK(keel_hv_cpupool_remove_cpu(hv, 0, 5));
    th_assert_err(keel_hv_cpupool_remove_cpu(hv, 0, 5), KEEL_EINVAL,
                  "CPU 5 is not in pool 0");
    th_assert_err(keel_hv_cpupool_remove_cpu(hv, 0, 8), KEEL_EINVAL,
                  "CPU 8 is not in pool 0");
    th_assert_err(keel_hv_cpupool_remove_cpu(hv, 6, 1), KEEL_ENOPOOL,
                  "no CPU pool with id 6");
    OK(keel_hv_cpupool_remove_cpu(hv, 0, 0));
    m = free_cpus(hv);
    want = one_cpu(5);
    keel_cpumap_set(&want, 0);
    assert_map(&m, &want);
    m = pool_info(hv, 0).cpus;
    keel_cpumap_fill(&want, 8);
    keel_cpumap_clear(&want, 0);
    keel_cpumap_clear(&want, 5);
    assert_map(&m, &want);
    ck_assert_uint_eq(pool_info(hv, 0).n_dom, 1);
}
END_TEST

START_TEST(test_remove_last_cpu)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 7, 1);
    uint32_t domid = dom_in_pool(hv, id, 1, 32 * MIB_KB);
    struct keel_cpumap m, want = one_cpu(7);
    unsigned int cpu;

    th_assert_err(keel_hv_cpupool_remove_cpu(hv, id, 7), KEEL_EBUSY,
                  "CPU 7 is the last of pool 1");
    m = pool_info(hv, id).cpus;
    assert_map(&m, &want);
    m = free_cpus(hv);
    ck_assert(keel_cpumap_is_empty(&m));

    /* Once the domain has left, the CPU can go. */
    OK(keel_hv_cpupool_move_domain(hv, 0, domid));
    OK(keel_hv_cpupool_remove_cpu(hv, id, 7));
    m = free_cpus(hv);
    assert_map(&m, &want);
    m = pool_info(hv, id).cpus;
    ck_assert(keel_cpumap_is_empty(&m));

    /* Pool-0 always holds Domain-0, so its last CPU stays. */
    for (cpu = 0; cpu < 6; cpu++)
        OK(keel_hv_cpupool_remove_cpu(hv, 0, cpu));
    th_assert_err(keel_hv_cpupool_remove_cpu(hv, 0, 6), KEEL_EBUSY,
                  "CPU 6 is the last of pool 0");
    m = pool_info(hv, 0).cpus;
    want = one_cpu(6);
    assert_map(&m, &want);
}
END_TEST

/* A pool without domains may give away its last CPU. */
START_TEST(test_remove_last_cpu_empty_pool)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT, 6, 2);
    struct keel_cpumap m, want = cpus(6, 2);

    OK(keel_hv_cpupool_remove_cpu(hv, id, 6));
    OK(keel_hv_cpupool_remove_cpu(hv, id, 7));
    m = pool_info(hv, id).cpus;
    ck_assert(keel_cpumap_is_empty(&m));
    m = free_cpus(hv);
    assert_map(&m, &want);
    OK(keel_hv_cpupool_add_cpu(hv, 0, 6));
    m = free_cpus(hv);
    want = one_cpu(7);
    assert_map(&m, &want);
}
END_TEST

/* --- moving domains ---------------------------------------------------- */

START_TEST(test_move_domain)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 6, 2);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_hv_vcpuinfo v;

    OK(keel_hv_cpupool_move_domain(hv, id, domid));
    ck_assert_uint_eq(dom_info(hv, domid).poolid, id);
    ck_assert_uint_eq(pool_info(hv, 0).n_dom, 1);
    ck_assert_uint_eq(pool_info(hv, id).n_dom, 1);
    /* Its vCPUs now run on the pool's CPUs. */
    v = vcpu_info(hv, domid, 0);
    ck_assert_uint_ge(v.cpu, 6);
    ck_assert_uint_le(v.cpu, 7);
    v = vcpu_info(hv, domid, 1);
    ck_assert_uint_ge(v.cpu, 6);
    ck_assert_uint_le(v.cpu, 7);
    /* Moving to the pool it is in changes nothing. */
    OK(keel_hv_cpupool_move_domain(hv, id, domid));
    ck_assert_uint_eq(pool_info(hv, id).n_dom, 1);
    OK(keel_hv_cpupool_move_domain(hv, 0, domid));
    ck_assert_uint_eq(dom_info(hv, domid).poolid, 0);
    ck_assert_uint_eq(pool_info(hv, 0).n_dom, 2);
    ck_assert_uint_eq(pool_info(hv, id).n_dom, 0);
}
END_TEST

START_TEST(test_move_errors)
{
    struct keel_hv *hv = open_default();
    uint32_t empty = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT2);
    uint32_t full = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 7, 1);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);

    th_assert_err(keel_hv_cpupool_move_domain(hv, empty, domid), KEEL_EBUSY,
                  "CPU pool 1 has no CPUs");
    th_assert_err(keel_hv_cpupool_move_domain(hv, full, 0), KEEL_EPERM,
                  "domain 0 cannot change pools");
    th_assert_err(keel_hv_cpupool_move_domain(hv, 9, domid), KEEL_ENOPOOL,
                  "no CPU pool with id 9");
    th_assert_err(keel_hv_cpupool_move_domain(hv, full, 77), KEEL_ENODOMAIN,
                  "no domain with id 77");
    ck_assert_uint_eq(dom_info(hv, domid).poolid, 0);
    ck_assert_uint_eq(dom_info(hv, 0).poolid, 0);
    ck_assert_uint_eq(pool_info(hv, full).n_dom, 0);
    ck_assert_uint_eq(pool_info(hv, empty).n_dom, 0);
}
END_TEST

/* A scheduler change gives the domain the new scheduler's defaults. */
START_TEST(test_move_resets_sched)
{
    struct keel_hv *hv = open_default();
    uint32_t credit = pool_with_cpus(hv, KEEL_SCHED_CREDIT, 4, 2);
    uint32_t rt = pool_with_cpus(hv, KEEL_SCHED_RTDS, 6, 2);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_hv_sched_dom p;

    set_dom(hv, domid, KEEL_SCHED_CREDIT2, 1000, 150);
    OK(keel_hv_cpupool_move_domain(hv, credit, domid));
    p = sched_dom(hv, domid);
    ck_assert_int_eq(p.sched, KEEL_SCHED_CREDIT);
    ck_assert_uint_eq(p.weight, 256);
    ck_assert_uint_eq(p.cap, 0);

    set_dom(hv, domid, KEEL_SCHED_CREDIT, 7, 20);
    OK(keel_hv_cpupool_move_domain(hv, rt, domid));
    p = sched_dom(hv, domid);
    ck_assert_int_eq(p.sched, KEEL_SCHED_RTDS);
    ck_assert_uint_eq(p.weight, 0);
    ck_assert_uint_eq(p.cap, 0);
    assert_rtds(hv, domid, 0, 10000, 4000, true);
    assert_rtds(hv, domid, 1, 10000, 4000, true);

    OK(keel_hv_cpupool_move_domain(hv, 0, domid));
    p = sched_dom(hv, domid);
    ck_assert_int_eq(p.sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(p.weight, 256);
    ck_assert_uint_eq(p.cap, 0);
}
END_TEST

/* RTDS parameters are scheduler parameters too: a domain that comes back
 * to an RTDS pool starts from RTDS's defaults, as Xen allocates new
 * per-vCPU scheduler data (rt_alloc_udata) on every move. */
START_TEST(test_move_resets_rtds)
{
    struct keel_hv *hv = open_default();
    uint32_t rt = pool_with_cpus(hv, KEEL_SCHED_RTDS, 6, 2);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_sched_rtds r = rtds(0, 20000, 5000, false);

    OK(keel_hv_cpupool_move_domain(hv, rt, domid));
    OK(keel_hv_sched_rtds_set(hv, domid, &r, 1));
    assert_rtds(hv, domid, 0, 20000, 5000, false);
    OK(keel_hv_cpupool_move_domain(hv, 0, domid));
    OK(keel_hv_cpupool_move_domain(hv, rt, domid));
    assert_rtds(hv, domid, 0, 10000, 4000, true);
}
END_TEST

/* Removing the CPUs a vCPU was pinned to breaks its hard affinity back to
 * every CPU; vCPUs that keep a CPU of the pool keep their affinity. */
START_TEST(test_affinity_broken_on_remove)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 4, 4);
    uint32_t domid = dom_in_pool(hv, id, 3, 32 * MIB_KB);
    struct keel_cpumap six = one_cpu(6), five_six = cpus(5, 2);
    struct keel_cpumap all = cpus(0, 8), soft = cpus(6, 2);
    struct keel_hv_vcpuinfo v;

    OK(keel_hv_vcpu_set_affinity(hv, domid, 0, &six, &soft));
    OK(keel_hv_vcpu_set_affinity(hv, domid, 1, &five_six, NULL));
    v = vcpu_info(hv, domid, 0);
    assert_map(&v.hard, &six);
    ck_assert_uint_eq(v.cpu, 6);

    OK(keel_hv_cpupool_remove_cpu(hv, id, 6));
    v = vcpu_info(hv, domid, 0);
    assert_map(&v.hard, &all);
    assert_map(&v.soft, &soft);
    ck_assert(v.cpu == 4 || v.cpu == 5 || v.cpu == 7);
    v = vcpu_info(hv, domid, 1);
    assert_map(&v.hard, &five_six);
    ck_assert_uint_eq(v.cpu, 5);
    v = vcpu_info(hv, domid, 2);
    assert_map(&v.hard, &all);
    ck_assert(v.cpu == 4 || v.cpu == 5 || v.cpu == 7);
}
END_TEST

/* A vCPU pinned only to CPUs the new pool lacks runs on the new pool's
 * CPUs after a move. */
START_TEST(test_affinity_broken_on_move)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 4, 4);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_cpumap one = one_cpu(1), all = cpus(0, 8);
    struct keel_hv_vcpuinfo v;

    OK(keel_hv_vcpu_set_affinity(hv, domid, 0, &one, NULL));
    OK(keel_hv_cpupool_move_domain(hv, id, domid));
    v = vcpu_info(hv, domid, 0);
    assert_map(&v.hard, &all);
    ck_assert_uint_ge(v.cpu, 4);
}
END_TEST

/* --- destroy ----------------------------------------------------------- */

START_TEST(test_destroy_pool)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT, 7, 1);
    uint32_t domid = dom_in_pool(hv, id, 1, 32 * MIB_KB);
    struct keel_hv_poolinfo info;
    struct keel_cpumap m, want = one_cpu(7);

    th_assert_err(keel_hv_cpupool_destroy(hv, 0), KEEL_EPERM,
                  "Pool-0 cannot be destroyed");
    th_assert_err(keel_hv_cpupool_destroy(hv, 5), KEEL_ENOPOOL,
                  "no CPU pool with id 5");
    th_assert_err(keel_hv_cpupool_destroy(hv, id), KEEL_EBUSY,
                  "CPU pool 1 still has 1 domains and 1 CPUs");
    OK(keel_hv_cpupool_move_domain(hv, 0, domid));
    th_assert_err(keel_hv_cpupool_destroy(hv, id), KEEL_EBUSY,
                  "CPU pool 1 still has 0 domains and 1 CPUs");
    ck_assert_str_eq(pool_ids(hv), "0,1");

    OK(keel_hv_cpupool_remove_cpu(hv, id, 7));
    OK(keel_hv_cpupool_destroy(hv, id));
    ck_assert_str_eq(pool_ids(hv), "0");
    th_assert_err(keel_hv_cpupool_info(hv, id, &info), KEEL_ENOPOOL,
                  "no CPU pool with id 1");
    th_assert_err(keel_hv_cpupool_destroy(hv, id), KEEL_ENOPOOL,
                  "no CPU pool with id 1");
    th_assert_err(keel_hv_cpupool_add_cpu(hv, id, 7), KEEL_ENOPOOL,
                  "no CPU pool with id 1");
    m = free_cpus(hv);
    assert_map(&m, &want);
    /* The id is free again. */
    ck_assert_uint_eq(pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_NULL), 1);
    ck_assert_int_eq(pool_info(hv, 1).sched, KEEL_SCHED_NULL);
}
END_TEST

/* Destroying a middle pool keeps the others in order. */
START_TEST(test_destroy_middle)
{
    struct keel_hv *hv = open_default();

    pool_create(hv, 1, KEEL_SCHED_CREDIT);
    pool_create(hv, 2, KEEL_SCHED_RTDS);
    pool_create(hv, 3, KEEL_SCHED_NULL);
    OK(keel_hv_cpupool_destroy(hv, 2));
    ck_assert_str_eq(pool_ids(hv), "0,1,3");
    ck_assert_int_eq(pool_info(hv, 1).sched, KEEL_SCHED_CREDIT);
    ck_assert_int_eq(pool_info(hv, 3).sched, KEEL_SCHED_NULL);
    OK(keel_hv_cpupool_destroy(hv, 3));
    OK(keel_hv_cpupool_destroy(hv, 1));
    ck_assert_str_eq(pool_ids(hv), "0");
}
END_TEST

/* A dying domain is still in its pool until it is gone (Xen takes it out
 * of the pool in complete_domain_destroy), so the pool cannot be
 * destroyed under it. */
START_TEST(test_destroy_pool_dying_domain)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, KEEL_HV_OPEN_MANUAL_CLOCK);
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 7, 1);
    uint32_t domid = dom_in_pool(hv, id, 1, 32 * MIB_KB);
    struct keel_hv_dominfo info;

    OK(keel_hv_domain_destroy(hv, domid));
    ck_assert(dom_info(hv, domid).flags & KEEL_DOMF_DYING);
    th_assert_err(keel_hv_cpupool_remove_cpu(hv, id, 7), KEEL_EBUSY,
                  "CPU 7 is the last of pool 1");
    th_assert_err(keel_hv_cpupool_destroy(hv, id), KEEL_EBUSY, "CPU pool 1");

    OK(keel_sim_clock_advance(hv, 1000000));
    th_assert_err(keel_hv_domain_info(hv, domid, &info), KEEL_ENODOMAIN,
                  "no domain with id");
    OK(keel_hv_cpupool_remove_cpu(hv, id, 7));
    OK(keel_hv_cpupool_destroy(hv, id));
}
END_TEST

/* --- per-domain scheduler parameters ----------------------------------- */

START_TEST(test_credit2_weight)
{
    struct keel_hv *hv = open_default();
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_sched_dom p;

    set_dom(hv, domid, KEEL_SCHED_CREDIT2, 1, 0);
    ck_assert_uint_eq(sched_dom(hv, domid).weight, 1);
    set_dom(hv, domid, KEEL_SCHED_CREDIT2, 65535, 0);
    ck_assert_uint_eq(sched_dom(hv, domid).weight, 65535);
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT2, 0, 0), KEEL_ERANGE,
                  "weight 0 is not 1..65535");
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT2, 65536, 0), KEEL_ERANGE,
                  "weight 65536 is not 1..65535");
    p = sched_dom(hv, domid);
    ck_assert_int_eq(p.sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(p.weight, 65535);
    ck_assert_uint_eq(p.cap, 0);
    /* Domain-0 has parameters too. */
    set_dom(hv, 0, KEEL_SCHED_CREDIT2, 512, 0);
    ck_assert_uint_eq(sched_dom(hv, 0).weight, 512);
    ck_assert_uint_eq(sched_dom(hv, domid).weight, 65535);
}
END_TEST

START_TEST(test_credit2_cap)
{
    struct keel_hv *hv = open_default();
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    uint32_t one = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);

    set_dom(hv, domid, KEEL_SCHED_CREDIT2, 256, 200);
    ck_assert_uint_eq(sched_dom(hv, domid).cap, 200);
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT2, 256, 201), KEEL_ERANGE,
                  "cap 201 is above 100% per vCPU (200)");
    ck_assert_uint_eq(sched_dom(hv, domid).cap, 200);
    set_dom(hv, domid, KEEL_SCHED_CREDIT2, 256, 0);
    ck_assert_uint_eq(sched_dom(hv, domid).cap, 0);
    set_dom(hv, one, KEEL_SCHED_CREDIT2, 256, 100);
    th_assert_err(try_dom(hv, one, KEEL_SCHED_CREDIT2, 256, 101), KEEL_ERANGE,
                  "cap 101");
}
END_TEST

START_TEST(test_credit_dom)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT, 6, 2);
    uint32_t domid = dom_in_pool(hv, id, 4, 32 * MIB_KB);
    struct keel_hv_sched_dom p = sched_dom(hv, domid);

    ck_assert_int_eq(p.sched, KEEL_SCHED_CREDIT);
    ck_assert_uint_eq(p.weight, 256);
    ck_assert_uint_eq(p.cap, 0);
    set_dom(hv, domid, KEEL_SCHED_CREDIT, 65535, 400);
    p = sched_dom(hv, domid);
    ck_assert_uint_eq(p.weight, 65535);
    ck_assert_uint_eq(p.cap, 400);
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT, 0, 0), KEEL_ERANGE,
                  "weight 0");
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT, 1, 401), KEEL_ERANGE,
                  "cap 401 is above 100% per vCPU (400)");
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT2, 256, 0), KEEL_EINVAL,
                  "runs under credit, not credit2");
}
END_TEST

START_TEST(test_sched_mismatch)
{
    struct keel_hv *hv = open_default();
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_hv_sched_rtds r = rtds(0, 10000, 4000, true);
    struct keel_hv_sched_dom p;

    th_assert_err(try_dom(hv, domid, KEEL_SCHED_CREDIT, 256, 0), KEEL_EINVAL,
                  "runs under credit2, not credit");
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_RTDS, 0, 0), KEEL_EINVAL,
                  "runs under credit2, not rtds");
    th_assert_err(try_dom(hv, domid, (enum keel_scheduler)99, 256, 0),
                  KEEL_EINVAL, "not an unknown scheduler");
    th_assert_err(keel_hv_sched_rtds_get(hv, domid, &r, 1), KEEL_EINVAL,
                  "runs under credit2, not rtds");
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, &r, 1), KEEL_EINVAL,
                  "runs under credit2, not rtds");
    th_assert_err(keel_hv_sched_domain_get(hv, 99, &p), KEEL_ENODOMAIN,
                  "no domain with id 99");
    th_assert_err(try_dom(hv, 99, KEEL_SCHED_CREDIT2, 256, 0), KEEL_ENODOMAIN,
                  "no domain with id 99");
    th_assert_err(keel_hv_sched_rtds_get(hv, 99, &r, 1), KEEL_ENODOMAIN,
                  "no domain with id 99");
}
END_TEST

START_TEST(test_rtds_params)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_RTDS, 6, 2);
    uint32_t domid = dom_in_pool(hv, id, 2, 32 * MIB_KB);
    struct keel_hv_sched_rtds r[3];
    struct keel_hv_sched_dom p = sched_dom(hv, domid);

    ck_assert_int_eq(p.sched, KEEL_SCHED_RTDS);
    ck_assert_uint_eq(p.weight, 0);
    ck_assert_uint_eq(p.cap, 0);
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_RTDS, 256, 0), KEEL_EINVAL,
                  "rtds has no weight or cap");
    th_assert_err(try_dom(hv, domid, KEEL_SCHED_RTDS, 0, 50), KEEL_EINVAL,
                  "rtds has no weight or cap");
    set_dom(hv, domid, KEEL_SCHED_RTDS, 0, 0);

    /* Defaults, read both at once and in reverse order. */
    r[0].vcpu = 1;
    r[1].vcpu = 0;
    OK(keel_hv_sched_rtds_get(hv, domid, r, 2));
    ck_assert_uint_eq(r[0].vcpu, 1);
    ck_assert_uint_eq(r[0].period_us, 10000);
    ck_assert_uint_eq(r[0].budget_us, 4000);
    ck_assert(r[0].extratime);
    ck_assert_uint_eq(r[1].vcpu, 0);
    ck_assert_uint_eq(r[1].period_us, 10000);

    r[0] = rtds(0, 20000, 5000, false);
    r[1] = rtds(1, 10, 10, true);
    OK(keel_hv_sched_rtds_set(hv, domid, r, 2));
    assert_rtds(hv, domid, 0, 20000, 5000, false);
    assert_rtds(hv, domid, 1, 10, 10, true);
    r[0] = rtds(1, 10000000, 10000000, false);
    OK(keel_hv_sched_rtds_set(hv, domid, r, 1));
    assert_rtds(hv, domid, 1, 10000000, 10000000, false);
    assert_rtds(hv, domid, 0, 20000, 5000, false);
}
END_TEST

START_TEST(test_rtds_ranges)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_RTDS, 6, 2);
    uint32_t domid = dom_in_pool(hv, id, 2, 32 * MIB_KB);
    struct keel_hv_sched_rtds r[3];

    r[0] = rtds(0, 9, 9, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 1), KEEL_ERANGE,
                  "vCPU 0: period 9 us is not 10..10000000");
    r[0] = rtds(1, 10000001, 4000, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 1), KEEL_ERANGE,
                  "vCPU 1: period 10000001 us is not 10..10000000");
    r[0] = rtds(0, 10000, 9, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 1), KEEL_ERANGE,
                  "vCPU 0: budget 9 us is not 10..period (10000)");
    r[0] = rtds(0, 10000, 10001, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 1), KEEL_ERANGE,
                  "budget 10001 us");
    r[0] = rtds(2, 10000, 4000, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 1), KEEL_EINVAL,
                  "has no vCPU 2");
    th_assert_err(keel_hv_sched_rtds_get(hv, domid, r, 1), KEEL_EINVAL,
                  "has no vCPU 2");
    r[0] = rtds(0, 10000, 4000, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 0), KEEL_EINVAL,
                  "0 vCPU entries for a domain with 2");
    r[1] = rtds(1, 10000, 4000, false);
    r[2] = rtds(0, 10000, 4000, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 3), KEEL_EINVAL,
                  "3 vCPU entries for a domain with 2");
    th_assert_err(keel_hv_sched_rtds_get(hv, domid, r, 3), KEEL_EINVAL,
                  "3 vCPU entries");
    assert_rtds(hv, domid, 0, 10000, 4000, true);
    assert_rtds(hv, domid, 1, 10000, 4000, true);
}
END_TEST

/* A bad entry anywhere leaves every vCPU as it was. */
START_TEST(test_rtds_all_or_nothing)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_RTDS, 6, 2);
    uint32_t domid = dom_in_pool(hv, id, 2, 32 * MIB_KB);
    struct keel_hv_sched_rtds r[2];

    r[0] = rtds(0, 30000, 3000, false);
    r[1] = rtds(1, 30000, 40000, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 2), KEEL_ERANGE,
                  "vCPU 1: budget 40000 us");
    assert_rtds(hv, domid, 0, 10000, 4000, true);
    assert_rtds(hv, domid, 1, 10000, 4000, true);
    r[1] = rtds(5, 30000, 3000, false);
    th_assert_err(keel_hv_sched_rtds_set(hv, domid, r, 2), KEEL_EINVAL,
                  "has no vCPU 5");
    assert_rtds(hv, domid, 0, 10000, 4000, true);
}
END_TEST

/* --- per-pool scheduler parameters ------------------------------------- */

START_TEST(test_pool_credit2)
{
    struct keel_hv *hv = open_default();
    struct keel_hv_sched_pool p;

    OK(try_pool(hv, 0, KEEL_SCHED_CREDIT2, 0, 0));
    assert_pool_params(hv, 0, KEEL_SCHED_CREDIT2, 0, 0);
    OK(try_pool(hv, 0, KEEL_SCHED_CREDIT2, 0, 100));
    assert_pool_params(hv, 0, KEEL_SCHED_CREDIT2, 0, 100);
    OK(try_pool(hv, 0, KEEL_SCHED_CREDIT2, 0, 500000));
    assert_pool_params(hv, 0, KEEL_SCHED_CREDIT2, 0, 500000);
    th_assert_err(try_pool(hv, 0, KEEL_SCHED_CREDIT2, 0, 99), KEEL_ERANGE,
                  "ratelimit 99 us is not 0 or 100..500000");
    th_assert_err(try_pool(hv, 0, KEEL_SCHED_CREDIT2, 0, 500001), KEEL_ERANGE,
                  "ratelimit 500001 us");
    th_assert_err(try_pool(hv, 0, KEEL_SCHED_CREDIT2, 30, 1000), KEEL_EINVAL,
                  "only credit has a tslice");
    th_assert_err(try_pool(hv, 0, KEEL_SCHED_CREDIT, 30, 1000), KEEL_EINVAL,
                  "CPU pool 0 runs under credit2, not credit");
    assert_pool_params(hv, 0, KEEL_SCHED_CREDIT2, 0, 500000);
    th_assert_err(keel_hv_sched_pool_get(hv, 4, &p), KEEL_ENOPOOL,
                  "no CPU pool with id 4");
    th_assert_err(try_pool(hv, 4, KEEL_SCHED_CREDIT2, 0, 0), KEEL_ENOPOOL,
                  "no CPU pool with id 4");
}
END_TEST

START_TEST(test_pool_credit)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_CREDIT);

    OK(try_pool(hv, id, KEEL_SCHED_CREDIT, 1, 0));
    assert_pool_params(hv, id, KEEL_SCHED_CREDIT, 1, 0);
    OK(try_pool(hv, id, KEEL_SCHED_CREDIT, 1000, 500000));
    assert_pool_params(hv, id, KEEL_SCHED_CREDIT, 1000, 500000);
    /* The rate limit may equal the time slice, not exceed it. */
    OK(try_pool(hv, id, KEEL_SCHED_CREDIT, 1, 1000));
    assert_pool_params(hv, id, KEEL_SCHED_CREDIT, 1, 1000);
    th_assert_err(try_pool(hv, id, KEEL_SCHED_CREDIT, 1, 1001), KEEL_ERANGE,
                  "ratelimit 1001 us is longer than the tslice (1 ms)");
    th_assert_err(try_pool(hv, id, KEEL_SCHED_CREDIT, 0, 0), KEEL_ERANGE,
                  "tslice 0 ms is not 1..1000");
    th_assert_err(try_pool(hv, id, KEEL_SCHED_CREDIT, 1001, 1000), KEEL_ERANGE,
                  "tslice 1001 ms is not 1..1000");
    th_assert_err(try_pool(hv, id, KEEL_SCHED_CREDIT, 30, 50), KEEL_ERANGE,
                  "ratelimit 50 us is not 0 or 100..500000");
    th_assert_err(try_pool(hv, id, KEEL_SCHED_CREDIT, 30, 500001), KEEL_ERANGE,
                  "ratelimit 500001 us");
    th_assert_err(try_pool(hv, id, KEEL_SCHED_CREDIT2, 0, 1000), KEEL_EINVAL,
                  "CPU pool 1 runs under credit, not credit2");
    assert_pool_params(hv, id, KEEL_SCHED_CREDIT, 1, 1000);
}
END_TEST

START_TEST(test_pool_rtds_null)
{
    struct keel_hv *hv = open_default();
    uint32_t rt = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_RTDS);
    uint32_t nul = pool_create(hv, KEEL_POOLID_ANY, KEEL_SCHED_NULL);

    OK(try_pool(hv, rt, KEEL_SCHED_RTDS, 0, 0));
    th_assert_err(try_pool(hv, rt, KEEL_SCHED_RTDS, 0, 1000), KEEL_EINVAL,
                  "rtds has no rate limit");
    th_assert_err(try_pool(hv, rt, KEEL_SCHED_RTDS, 30, 0), KEEL_EINVAL,
                  "only credit has a tslice");
    th_assert_err(try_pool(hv, nul, KEEL_SCHED_NULL, 0, 100), KEEL_EINVAL,
                  "null has no rate limit");
    th_assert_err(try_pool(hv, nul, KEEL_SCHED_RTDS, 0, 0), KEEL_EINVAL,
                  "runs under null, not rtds");
    assert_pool_params(hv, rt, KEEL_SCHED_RTDS, 0, 0);
    assert_pool_params(hv, nul, KEEL_SCHED_NULL, 0, 0);
}
END_TEST

/* --- host shape -------------------------------------------------------- */

START_TEST(test_host_default)
{
    struct keel_hv *hv = open_default();
    struct keel_hv_physinfo pi;
    struct keel_hv_cputopo topo[8];
    struct keel_hv_numainfo nodes[4];
    size_t n = 0;
    uint32_t cpu;

    OK(keel_hv_physinfo(hv, &pi));
    ck_assert_uint_eq(pi.nr_cpus, 8);
    ck_assert_uint_eq(pi.nr_sockets, 2);
    ck_assert_uint_eq(pi.nr_nodes, 2);
    ck_assert_uint_eq(pi.threads_per_core, 1);
    ck_assert_uint_eq(pi.cores_per_socket, 4);
    ck_assert_uint_eq(pi.cpu_khz, 2400000);
    ck_assert_uint_eq(pi.total_kb, 16 * GIB_KB);
    ck_assert_uint_eq(pi.free_kb, 15 * GIB_KB); /* Domain-0 has 1 GiB */
    ck_assert_uint_eq(pi.xen_major, 4);
    ck_assert_ptr_nonnull(strstr(pi.capabilities, "xen-3.0-x86_64"));

    OK(keel_hv_cputopo(hv, topo, 8, &n));
    ck_assert_uint_eq(n, 8);
    for (cpu = 0; cpu < 8; cpu++) {
        ck_assert_uint_eq(topo[cpu].socket, cpu / 4);
        ck_assert_uint_eq(topo[cpu].core, cpu % 4);
        ck_assert_uint_eq(topo[cpu].node, cpu / 4);
    }

    OK(keel_hv_numainfo(hv, nodes, 4, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(nodes[0].size_kb, 8 * GIB_KB);
    ck_assert_uint_eq(nodes[1].size_kb, 8 * GIB_KB);
    ck_assert_uint_eq(nodes[0].free_kb, 7 * GIB_KB);
    ck_assert_uint_eq(nodes[1].free_kb, 8 * GIB_KB);

    th_sim_domain(hv, KEEL_DOMAIN_HVM, 2, 2 * GIB_KB);
    OK(keel_hv_physinfo(hv, &pi));
    ck_assert_uint_eq(pi.free_kb, 13 * GIB_KB);
}
END_TEST

/* Callers may ask how many entries there are, or take fewer. */
START_TEST(test_host_short_buffers)
{
    struct keel_hv *hv = open_default();
    struct keel_hv_cputopo topo[8];
    struct keel_hv_numainfo nodes[2];
    size_t n = 0;

    OK(keel_hv_cputopo(hv, NULL, 0, &n));
    ck_assert_uint_eq(n, 8);
    memset(topo, 0xa5, sizeof(topo));
    OK(keel_hv_cputopo(hv, topo, 3, &n));
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(topo[2].core, 2);
    ck_assert_uint_eq(topo[3].core, 0xa5a5a5a5u); /* untouched */
    OK(keel_hv_numainfo(hv, NULL, 0, &n));
    ck_assert_uint_eq(n, 2);
    memset(nodes, 0xa5, sizeof(nodes));
    OK(keel_hv_numainfo(hv, nodes, 1, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(nodes[0].size_kb, 8 * GIB_KB);
    ck_assert_uint_eq(nodes[1].size_kb, UINT64_C(0xa5a5a5a5a5a5a5a5));
    th_assert_err(keel_hv_cputopo(hv, topo, 8, NULL), KEEL_EINVAL, "NULL");
}
END_TEST

/* A domain's memory is charged to the node of its pool's first CPU. */
START_TEST(test_numa_free_by_pool)
{
    struct keel_hv *hv = open_default();
    uint32_t id = pool_with_cpus(hv, KEEL_SCHED_CREDIT2, 4, 4);
    struct keel_hv_numainfo nodes[2];
    size_t n;

    dom_in_pool(hv, id, 2, GIB_KB);
    th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 512 * MIB_KB);
    OK(keel_hv_numainfo(hv, nodes, 2, &n));
    ck_assert_uint_eq(nodes[0].free_kb, 7 * GIB_KB - 512 * MIB_KB);
    ck_assert_uint_eq(nodes[1].free_kb, 7 * GIB_KB);
}
END_TEST

START_TEST(test_host_big)
{
    struct keel_hv *hv = th_sim_open(NULL, BIG_SPEC, 0);
    struct keel_hv_physinfo pi;
    struct keel_hv_cputopo *topo = calloc(256, sizeof(*topo));
    struct keel_hv_numainfo nodes[8];
    struct keel_hv_poolinfo info;
    struct keel_cpumap all = cpus(0, 256);
    size_t n = 0;
    uint32_t cpu, node;

    ck_assert_ptr_nonnull(topo);
    OK(keel_hv_physinfo(hv, &pi));
    ck_assert_uint_eq(pi.nr_cpus, 256);
    ck_assert_uint_eq(pi.nr_sockets, 8);
    ck_assert_uint_eq(pi.nr_nodes, 8);
    ck_assert_uint_eq(pi.cores_per_socket, 32);
    ck_assert_uint_eq(pi.threads_per_core, 1);
    ck_assert_uint_eq(pi.total_kb, 1024 * GIB_KB);
    ck_assert_uint_eq(pi.free_kb, 1023 * GIB_KB);

    OK(keel_hv_cputopo(hv, topo, 256, &n));
    ck_assert_uint_eq(n, 256);
    for (cpu = 0; cpu < 256; cpu++) {
        ck_assert_uint_eq(topo[cpu].socket, cpu / 32);
        ck_assert_uint_eq(topo[cpu].core, cpu % 32);
        ck_assert_uint_eq(topo[cpu].node, cpu / 32);
    }
    free(topo);

    OK(keel_hv_numainfo(hv, nodes, 8, &n));
    ck_assert_uint_eq(n, 8);
    for (node = 0; node < 8; node++) {
        ck_assert_uint_eq(nodes[node].size_kb, 128 * GIB_KB);
        ck_assert_uint_eq(nodes[node].free_kb,
                          node ? 128 * GIB_KB : 127 * GIB_KB);
    }

    info = pool_info(hv, 0);
    assert_map(&info.cpus, &all);
    ck_assert_uint_eq(info.n_dom, 1);
    ck_assert_uint_eq(dom_info(hv, 0).max_vcpus, 256);
    ck_assert_uint_eq(dom_info(hv, 0).online_vcpus, 256);
    th_assert_err(keel_hv_cpupool_add_cpu(hv, 0, 256), KEEL_ERANGE,
                  "CPU 256 does not exist (the host has 256)");
}
END_TEST

/* One pool per node on the big host, a domain in the last, and the
 * affinity break there. */
START_TEST(test_pools_big)
{
    struct keel_hv *hv = th_sim_open(NULL, BIG_SPEC, 0);
    struct keel_hv_poolinfo infos[16];
    struct keel_hv_numainfo nodes[8];
    struct keel_hv_vcpuinfo v;
    struct keel_cpumap m, pin = one_cpu(250), all = cpus(0, 256);
    uint32_t node, domid, i;
    size_t n;

    for (node = 1; node < 8; node++) {
        enum keel_scheduler sched =
            node % 2 ? KEEL_SCHED_CREDIT : KEEL_SCHED_CREDIT2;

        ck_assert_uint_eq(pool_with_cpus(hv, sched, node * 32, 32), node);
    }
    m = free_cpus(hv);
    ck_assert(keel_cpumap_is_empty(&m));
    n = pool_list(hv, infos, 16);
    ck_assert_uint_eq(n, 8);
    for (i = 0; i < 8; i++) {
        m = cpus(i * 32, 32);
        ck_assert_uint_eq(infos[i].poolid, i);
        assert_map(&infos[i].cpus, &m);
    }

    domid = dom_in_pool(hv, 7, 4, 64 * GIB_KB);
    ck_assert_int_eq(sched_dom(hv, domid).sched, KEEL_SCHED_CREDIT);
    for (i = 0; i < 4; i++) {
        v = vcpu_info(hv, domid, i);
        ck_assert_uint_ge(v.cpu, 224);
        ck_assert_uint_le(v.cpu, 255);
    }
    OK(keel_hv_numainfo(hv, nodes, 8, &n));
    ck_assert_uint_eq(nodes[7].free_kb, 64 * GIB_KB);
    ck_assert_uint_eq(nodes[6].free_kb, 128 * GIB_KB);

    OK(keel_hv_vcpu_set_affinity(hv, domid, 0, &pin, NULL));
    ck_assert_uint_eq(vcpu_info(hv, domid, 0).cpu, 250);
    OK(keel_hv_cpupool_remove_cpu(hv, 7, 250));
    v = vcpu_info(hv, domid, 0);
    assert_map(&v.hard, &all);
    ck_assert_uint_ge(v.cpu, 224);
    ck_assert_uint_ne(v.cpu, 250);
    m = free_cpus(hv);
    assert_map(&m, &pin);

    /* The pool's CPUs can go, one by one, down to the last. */
    for (i = 224; i < 255; i++)
        if (i != 250)
            OK(keel_hv_cpupool_remove_cpu(hv, 7, i));
    th_assert_err(keel_hv_cpupool_remove_cpu(hv, 7, 255), KEEL_EBUSY,
                  "CPU 255 is the last of pool 7");
    m = free_cpus(hv);
    ck_assert_uint_eq(keel_cpumap_count(&m), 31);
}
END_TEST

/* --- the spec string --------------------------------------------------- */

START_TEST(test_spec_defaults)
{
    struct keel_sim_spec spec;

    memset(&spec, 0xa5, sizeof(spec));
    OK(keel_sim_spec_parse(th_ctx(), NULL, &spec));
    ck_assert_uint_eq(spec.cpus, 8);
    ck_assert_uint_eq(spec.sockets, 2);
    ck_assert_uint_eq(spec.nodes, 2);
    ck_assert_uint_eq(spec.threads, 1);
    ck_assert_uint_eq(spec.memory_kb, 16 * GIB_KB);
    ck_assert_uint_eq(spec.dom0_mem_kb, GIB_KB);
    ck_assert_uint_eq(spec.dom0_vcpus, 8);
    ck_assert_uint_eq(spec.cpu_khz, 2400000);
    memset(&spec, 0xa5, sizeof(spec));
    OK(keel_sim_spec_parse(th_ctx(), "", &spec));
    ck_assert_uint_eq(spec.cpus, 8);
    ck_assert_uint_eq(spec.memory_kb, 16 * GIB_KB);
}
END_TEST

START_TEST(test_spec_values)
{
    struct keel_sim_spec spec;

    OK(keel_sim_spec_parse(th_ctx(), BIG_SPEC, &spec));
    ck_assert_uint_eq(spec.cpus, 256);
    ck_assert_uint_eq(spec.nodes, 8);
    ck_assert_uint_eq(spec.sockets, 8);
    ck_assert_uint_eq(spec.memory_kb, 1024 * GIB_KB);
    ck_assert_uint_eq(spec.dom0_vcpus, 256);

    OK(keel_sim_spec_parse(th_ctx(),
                           "cpus=16,threads=2,memory=512,dom0_mem=128m,"
                           "dom0_vcpus=2,cpu_khz=3000000",
                           &spec));
    ck_assert_uint_eq(spec.cpus, 16);
    ck_assert_uint_eq(spec.threads, 2);
    ck_assert_uint_eq(spec.memory_kb, 512 * MIB_KB); /* bare: MiB */
    ck_assert_uint_eq(spec.dom0_mem_kb, 128 * MIB_KB);
    ck_assert_uint_eq(spec.dom0_vcpus, 2);
    ck_assert_uint_eq(spec.cpu_khz, 3000000);

    OK(keel_sim_spec_parse(th_ctx(), "memory=8388608K,dom0_mem=2G", &spec));
    ck_assert_uint_eq(spec.memory_kb, 8 * GIB_KB);
    ck_assert_uint_eq(spec.dom0_mem_kb, 2 * GIB_KB);
    /* Domain-0 gets a vCPU per CPU, up to the sim's limit. */
    OK(keel_sim_spec_parse(th_ctx(), "cpus=1024", &spec));
    ck_assert_uint_eq(spec.dom0_vcpus, 512);
}
END_TEST

struct bad_spec {
    const char *text;
    int code;
    const char *needle;
};

static const struct bad_spec bad_specs[] = {
    {"bogus=1", KEEL_ESYNTAX, "unknown key 'bogus'"},
    {"cpus=8,bogus=1", KEEL_ESYNTAX, "column 8: unknown key 'bogus'"},
    {"cpus", KEEL_ESYNTAX, "'cpus' is not KEY=VALUE"},
    {"cpus=8,nodes", KEEL_ESYNTAX, "column 8: 'nodes' is not KEY=VALUE"},
    {"cpus=x", KEEL_ESYNTAX, "cpus: 'x' is not a number"},
    {"cpus=", KEEL_ESYNTAX, "cpus: '' is not a number"},
    {"cpus=-8", KEEL_ESYNTAX, "cpus: '-8' is not a number"},
    {"cpus=4294967296", KEEL_ERANGE, "cpus: 4294967296 is not 1..4096"},
    {"sockets=2x", KEEL_ESYNTAX, "sockets: '2x'"},
    {"memory=1x", KEEL_ESYNTAX, "memory: '1x' is not a size"},
    {"memory=", KEEL_ESYNTAX, "memory: '' is not a size"},
    {"memory=G", KEEL_ESYNTAX, "memory: 'G' is not a size"},
    {"memory=1GB", KEEL_ESYNTAX, "memory: '1GB'"},
    {"dom0_mem=1.5G", KEEL_ESYNTAX, "dom0_mem: '1.5G' is not a size"},
    {"memory=99999999999999999999T", KEEL_ESYNTAX, "memory"},
    {"cpus=0", KEEL_ERANGE, "column 1: cpus: 0 is not 1..4096"},
    {"cpus=4097", KEEL_ERANGE, "cpus: 4097 is not 1..4096"},
    {"cpus=6,sockets=4", KEEL_ERANGE, "4 sockets"},
    {"sockets=0", KEEL_ERANGE, "column 1: sockets: 0 is not 1..4096"},
    {"nodes=3", KEEL_ERANGE, "3 nodes"},
    {"threads=3", KEEL_ERANGE, "3 threads per core"},
    {"memory=512k", KEEL_ERANGE, "memory: 512k is not 1024.."},
    {"memory=1026k", KEEL_ERANGE, "in 4 KiB pages"},
    {"dom0_mem=16G", KEEL_ERANGE, "dom0_mem must be below memory"},
    {"dom0_mem=1026k", KEEL_ERANGE, "dom0_mem"},
    {"dom0_vcpus=513", KEEL_ERANGE, "dom0_vcpus: 513 is not 1..512"},
    {"cpu_khz=0", KEEL_ERANGE, "cpu_khz: 0 is not 1.."},
};

START_TEST(test_spec_bad)
{
    const struct bad_spec *b = &bad_specs[_i];
    struct keel_sim_spec spec;
    int rc = keel_sim_spec_parse(th_ctx(), b->text, &spec);

    ck_assert_msg(rc == b->code, "'%s': got %s (%s)", b->text,
                  keel_strerror(rc), keel_ctx_last_error(th_ctx()));
    th_assert_err(rc, b->code, b->needle);
}
END_TEST

/* sim.h: a range error's message names the key and the column, as the
 * syntax errors' do. */
START_TEST(test_spec_range_column)
{
    struct keel_sim_spec spec;

    th_assert_err(keel_sim_spec_parse(th_ctx(), "cpus=0", &spec), KEEL_ERANGE,
                  "column 1");
    th_assert_err(keel_sim_spec_parse(th_ctx(), "sockets=2,cpu_khz=0", &spec),
                  KEEL_ERANGE, "column 11");
}
END_TEST

/* A bad spec refuses the open and leaves nothing that would stop the
 * directory from being used with a good one. */
START_TEST(test_spec_open)
{
    struct keel_hv_open_args args = {0};
    struct keel_hv *hv = NULL;

    args.dir = th_path("sim");
    args.spec = "cpus=8,nodes=2,memory=lots";
    th_assert_err(keel_hv_open(th_ctx(), "sim", &args, &hv), KEEL_ESYNTAX,
                  "memory: 'lots' is not a size");
    ck_assert_ptr_null(hv);
    hv = th_sim_open(NULL, "cpus=8,nodes=2", 0);
    ck_assert_uint_eq(pool_info(hv, 0).n_dom, 1);
    ck_assert_uint_eq(dom_info(hv, 0).tot_kb, GIB_KB);
}
END_TEST

static Suite *
pool_suite(void)
{
    Suite *s = suite_create("sim-pool");
    TCase *tc;

    tc = th_tcase(s, "boot");
    tcase_add_test(tc, test_pool0_at_boot);
    tcase_add_test(tc, test_pool0_counts_domains);
    tcase_add_test(tc, test_list_max);

    tc = th_tcase(s, "create");
    tcase_add_test(tc, test_create_any);
    tcase_add_test(tc, test_create_explicit);
    tcase_add_test(tc, test_create_any_wraps);
    tcase_add_test(tc, test_create_bad_scheduler);
    tcase_add_test(tc, test_create_defaults);

    tc = th_tcase(s, "cpus");
    tcase_add_test(tc, test_add_cpu);
    tcase_add_test(tc, test_add_cpu_range);
    tcase_add_test(tc, test_remove_cpu);
    tcase_add_test(tc, test_remove_last_cpu);
    tcase_add_test(tc, test_remove_last_cpu_empty_pool);

    tc = th_tcase(s, "move");
    tcase_add_test(tc, test_move_domain);
    tcase_add_test(tc, test_move_errors);
    tcase_add_test(tc, test_move_resets_sched);
    tcase_add_test(tc, test_move_resets_rtds);
    tcase_add_test(tc, test_affinity_broken_on_remove);
    tcase_add_test(tc, test_affinity_broken_on_move);

    tc = th_tcase(s, "destroy");
    tcase_add_test(tc, test_destroy_pool);
    tcase_add_test(tc, test_destroy_middle);
    tcase_add_test(tc, test_destroy_pool_dying_domain);

    tc = th_tcase(s, "sched-domain");
    tcase_add_test(tc, test_credit2_weight);
    tcase_add_test(tc, test_credit2_cap);
    tcase_add_test(tc, test_credit_dom);
    tcase_add_test(tc, test_sched_mismatch);
    tcase_add_test(tc, test_rtds_params);
    tcase_add_test(tc, test_rtds_ranges);
    tcase_add_test(tc, test_rtds_all_or_nothing);

    tc = th_tcase(s, "sched-pool");
    tcase_add_test(tc, test_pool_credit2);
    tcase_add_test(tc, test_pool_credit);
    tcase_add_test(tc, test_pool_rtds_null);

    tc = th_tcase(s, "host");
    tcase_add_test(tc, test_host_default);
    tcase_add_test(tc, test_host_short_buffers);
    tcase_add_test(tc, test_numa_free_by_pool);
    tcase_add_test(tc, test_host_big);
    tcase_add_test(tc, test_pools_big);

    tc = th_tcase(s, "spec");
    tcase_add_test(tc, test_spec_defaults);
    tcase_add_test(tc, test_spec_values);
    tcase_add_loop_test(tc, test_spec_bad, 0,
                        (int)(sizeof(bad_specs) / sizeof(bad_specs[0])));
    tcase_add_test(tc, test_spec_range_column);
    tcase_add_test(tc, test_spec_open);
    return s;
}

int
main(void)
{
    return th_run(pool_suite());
}

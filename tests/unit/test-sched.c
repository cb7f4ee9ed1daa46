/* test-sched.c: scheduler parameters through struct keel_host on the sim
 *
 * Per-domain weight and cap (credit, credit2), per-vCPU RTDS parameters
 * and per-pool parameters: every range edge on both sides, for its code
 * and for a message naming the value and the range, and the records that
 * keep what a restart applies again. libkeel checks every range itself,
 * so the internal checks are also called directly.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/cpupool.h>
#include <keel/domain.h>

#include "harness.h"
#include "host-internal.h"

struct env {
    struct keel_hv *hv;
    struct keel_host *host;
};

static struct env
env_open(void)
{
    struct env e;

    e.hv = th_sim_open(NULL, NULL, 0);
    e.host = th_host_open(e.hv, NULL);
    return e;
}

/* Takes cpus out of Pool-0 and makes a pool of them. */
static uint32_t
pool_make(struct env *e, const char *name, enum keel_scheduler sched,
          const char *cpus)
{
    struct keel_cpumap m;
    uint32_t id = KEEL_POOLID_ANY;

    OK(keel_cpumap_parse(&m, cpus, NULL));
    OK(keel_cpupool_cpu_remove(e->host, 0, &m));
    OK(keel_cpupool_create(e->host, name, sched, &m, 0, &id));
    return id;
}

/* A running domain of 64 MiB and vcpus vCPUs in pool (NULL: Pool-0). */
static uint32_t
dom_make(struct env *e, const char *name, const char *pool_name,
         unsigned int vcpus)
{
    struct keel_domain_config cfg;
    uint32_t domid = 0;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.pool = pool_name ? strdup(pool_name) : NULL;
    cfg.memory_kb = 64 * MIB_KB;
    cfg.vcpus = vcpus;
    OK(keel_domain_create(e->host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    return domid;
}

static int
set_dom(struct env *e, uint32_t domid, enum keel_scheduler sched,
        uint32_t weight, uint32_t cap)
{
    struct keel_hv_sched_dom p = {sched, weight, cap};

    return keel_sched_domain_set(e->host, domid, &p);
}

static struct keel_hv_sched_dom
get_dom(struct env *e, uint32_t domid)
{
    struct keel_hv_sched_dom p = {KEEL_SCHED_UNKNOWN, 7, 7};

    OK(keel_sched_domain_get(e->host, domid, &p));
    return p;
}

static void
assert_dom(struct env *e, uint32_t domid, uint32_t weight, uint32_t cap)
{
    struct keel_hv_sched_dom p = get_dom(e, domid);

    ck_assert_uint_eq(p.weight, weight);
    ck_assert_uint_eq(p.cap, cap);
}

/* The record's weight, cap, period and budget. */
static void
assert_record(struct env *e, uint32_t domid, int64_t weight, int64_t cap,
              int64_t period, int64_t budget)
{
    struct keel_domain_config cfg;

    keel_domain_config_init(&cfg);
    OK(keel_domain_config_get(e->host, domid, &cfg));
    ck_assert_int_eq(cfg.cpu_weight, weight);
    ck_assert_int_eq(cfg.cap, cap);
    ck_assert_int_eq(cfg.rtds_period, period);
    ck_assert_int_eq(cfg.rtds_budget, budget);
    keel_domain_config_dispose(&cfg);
}

static int
set_rtds(struct env *e, uint32_t domid, uint32_t vcpu, uint32_t period,
         uint32_t budget)
{
    struct keel_hv_sched_rtds r = {vcpu, period, budget, false};

    return keel_sched_rtds_set(e->host, domid, &r, 1);
}

static struct keel_hv_sched_rtds
get_rtds(struct env *e, uint32_t domid, uint32_t vcpu)
{
    struct keel_hv_sched_rtds *all, r;
    size_t n;

    OK(keel_sched_rtds_get(e->host, domid, &all, &n));
    ck_assert_uint_gt(n, vcpu);
    r = all[vcpu];
    free(all);
    return r;
}

static int
set_pool(struct env *e, uint32_t poolid, enum keel_scheduler sched,
         uint32_t tslice_ms, uint32_t ratelimit_us)
{
    struct keel_hv_sched_pool p = {sched, tslice_ms, ratelimit_us};

    return keel_sched_pool_set(e->host, poolid, &p);
}

static void
assert_pool(struct env *e, uint32_t poolid, uint32_t tslice_ms,
            uint32_t ratelimit_us)
{
    struct keel_hv_sched_pool p = {KEEL_SCHED_UNKNOWN, 7, 7};

    OK(keel_sched_pool_get(e->host, poolid, &p));
    ck_assert_uint_eq(p.tslice_ms, tslice_ms);
    ck_assert_uint_eq(p.ratelimit_us, ratelimit_us);
}

/* --- weight and cap ------------------------------------------------------- */

static const enum keel_scheduler weighted[] = {KEEL_SCHED_CREDIT,
                                               KEEL_SCHED_CREDIT2};

START_TEST(weight_edges)
{
    struct env e = env_open();
    enum keel_scheduler s = weighted[_i];
    uint32_t domid;

    pool_make(&e, "p", s, "6-7");
    domid = dom_make(&e, "a", "p", 2);
    assert_dom(&e, domid, 256, 0);
    th_assert_err(set_dom(&e, domid, s, 0, 0), KEEL_ERANGE,
                  "weight 0 is not 1..65535");
    OK(set_dom(&e, domid, s, 1, 0));
    assert_dom(&e, domid, 1, 0);
    OK(set_dom(&e, domid, s, 65535, 0));
    assert_dom(&e, domid, 65535, 0);
    th_assert_err(set_dom(&e, domid, s, 65536, 0), KEEL_ERANGE,
                  "weight 65536 is not 1..65535");
    assert_dom(&e, domid, 65535, 0);
    assert_record(&e, domid, 65535, 0, KEEL_UNSET, KEEL_UNSET);
}
END_TEST

START_TEST(cap_edges)
{
    struct env e = env_open();
    enum keel_scheduler s = weighted[_i];
    uint32_t domid;

    pool_make(&e, "p", s, "6-7");
    domid = dom_make(&e, "a", "p", 2);
    OK(set_dom(&e, domid, s, 300, 200));
    assert_dom(&e, domid, 300, 200);
    th_assert_err(set_dom(&e, domid, s, 300, 201), KEEL_ERANGE,
                  "cap 201 is not 0..200 (100% for each of 2 vCPUs)");
    assert_dom(&e, domid, 300, 200);
    OK(set_dom(&e, domid, s, 300, 0));
    assert_record(&e, domid, 300, 0, KEEL_UNSET, KEEL_UNSET);
}
END_TEST

START_TEST(dom_mismatch)
{
    struct env e = env_open();
    uint32_t domid = dom_make(&e, "a", NULL, 1);
    struct keel_hv_sched_dom p = {KEEL_SCHED_CREDIT, 0, 0};

    th_assert_err(set_dom(&e, domid, KEEL_SCHED_CREDIT, 100, 0), KEEL_EINVAL,
                  "domain 1 is in CPU pool 'Pool-0', which runs credit2, not "
                  "credit");
    th_assert_err(set_dom(&e, domid, KEEL_SCHED_UNKNOWN, 100, 0), KEEL_EINVAL,
                  "which runs credit2, not an unknown scheduler");
    th_assert_err(keel_sched_domain_get(e.host, domid, &p), KEEL_EINVAL,
                  "which runs credit2, not credit");
    p.sched = KEEL_SCHED_CREDIT2;
    OK(keel_sched_domain_get(e.host, domid, &p));
    ck_assert_uint_eq(p.weight, 256);
    ck_assert_int_eq(get_dom(&e, domid).sched, KEEL_SCHED_CREDIT2);
}
END_TEST

/* rtds and null have no weight or cap: get says which, set refuses. */
START_TEST(dom_unweighted)
{
    struct env e = env_open();
    uint32_t domid;

    pool_make(&e, "rt", KEEL_SCHED_RTDS, "6");
    pool_make(&e, "nil", KEEL_SCHED_NULL, "7");
    domid = dom_make(&e, "a", "rt", 1);
    ck_assert_int_eq(get_dom(&e, domid).sched, KEEL_SCHED_RTDS);
    assert_dom(&e, domid, 0, 0);
    th_assert_err(set_dom(&e, domid, KEEL_SCHED_RTDS, 0, 0), KEEL_EINVAL,
                  "domain 1 is in CPU pool 'rt', which runs rtds: it has no "
                  "weight or cap");
    domid = dom_make(&e, "b", "nil", 1);
    ck_assert_int_eq(get_dom(&e, domid).sched, KEEL_SCHED_NULL);
    th_assert_err(set_dom(&e, domid, KEEL_SCHED_NULL, 256, 0), KEEL_EINVAL,
                  "which runs null: it has no weight or cap");
}
END_TEST

/* Domain-0 may be tuned; states and missing domains are refused. */
START_TEST(dom_states)
{
    struct env e = env_open();
    uint32_t domid = dom_make(&e, "a", NULL, 1);

    OK(set_dom(&e, 0, KEEL_SCHED_CREDIT2, 512, 0));
    assert_dom(&e, 0, 512, 0);
    OK(keel_domain_pause(e.host, domid));
    OK(set_dom(&e, domid, KEEL_SCHED_CREDIT2, 128, 0));
    assert_dom(&e, domid, 128, 0);
    OK(keel_hv_domain_shutdown(e.hv, domid, KEEL_SHUTDOWN_POWEROFF));
    th_assert_err(set_dom(&e, domid, KEEL_SCHED_CREDIT2, 64, 0), KEEL_ESTATE,
                  "sched params: domain 1 (a) is shutdown");
    th_assert_err(set_dom(&e, 9, KEEL_SCHED_CREDIT2, 64, 0), KEEL_ENODOMAIN,
                  "no domain with id 9");
    th_assert_err(keel_sched_domain_set(e.host, 0, NULL), KEEL_EINVAL,
                  "params is NULL");
    th_assert_err(keel_sched_domain_get(e.host, 0, NULL), KEEL_EINVAL,
                  "params is NULL");
}
END_TEST

/* A record that cannot be saved: the backend's old values come back. */
START_TEST(dom_rollback)
{
    struct env e = env_open();
    uint32_t domid = dom_make(&e, "a", NULL, 1);
    char *broken = th_break_record(e.host, domid);

    th_assert_err(set_dom(&e, domid, KEEL_SCHED_CREDIT2, 1000, 50), -EISDIR,
                  ".json.tmp");
    th_mend(broken);
    assert_dom(&e, domid, 256, 0);
    assert_record(&e, domid, 256, 0, KEEL_UNSET, KEEL_UNSET);
}
END_TEST

/* --- rtds ----------------------------------------------------------------- */

START_TEST(rtds_get)
{
    struct env e = env_open();
    struct keel_hv_sched_rtds *all = NULL;
    uint32_t domid;
    size_t n = 0, i;

    pool_make(&e, "rt", KEEL_SCHED_RTDS, "6-7");
    domid = dom_make(&e, "a", "rt", 3);
    OK(keel_sched_rtds_get(e.host, domid, &all, &n));
    ck_assert_uint_eq(n, 3);
    for (i = 0; i < n; i++) {
        ck_assert_uint_eq(all[i].vcpu, i);
        ck_assert_uint_eq(all[i].period_us, 10000);
        ck_assert_uint_eq(all[i].budget_us, 4000);
        ck_assert(all[i].extratime);
    }
    free(all);
    domid = dom_make(&e, "b", NULL, 1);
    th_assert_err(keel_sched_rtds_get(e.host, domid, &all, &n), KEEL_EINVAL,
                  "domain 2 is in CPU pool 'Pool-0', which runs credit2, not "
                  "rtds");
    th_assert_err(keel_sched_rtds_get(e.host, domid, NULL, &n), KEEL_EINVAL,
                  "NULL");
}
END_TEST

START_TEST(rtds_edges)
{
    struct env e = env_open();
    uint32_t domid;

    pool_make(&e, "rt", KEEL_SCHED_RTDS, "6-7");
    domid = dom_make(&e, "a", "rt", 2);
    th_assert_err(set_rtds(&e, domid, 0, 9, 9), KEEL_ERANGE,
                  "vCPU 0: period 9 us is not 10..10000000");
    OK(set_rtds(&e, domid, 0, 10, 10));
    ck_assert_uint_eq(get_rtds(&e, domid, 0).period_us, 10);
    ck_assert_uint_eq(get_rtds(&e, domid, 0).budget_us, 10);
    OK(set_rtds(&e, domid, 1, 10000000, 10000000));
    ck_assert_uint_eq(get_rtds(&e, domid, 1).period_us, 10000000);
    th_assert_err(set_rtds(&e, domid, 1, 10000001, 100), KEEL_ERANGE,
                  "vCPU 1: period 10000001 us is not 10..10000000");
    th_assert_err(set_rtds(&e, domid, 1, 1000, 9), KEEL_ERANGE,
                  "vCPU 1: budget 9 us is not 10..1000 (the period)");
    th_assert_err(set_rtds(&e, domid, 1, 1000, 1001), KEEL_ERANGE,
                  "vCPU 1: budget 1001 us is not 10..1000 (the period)");
    OK(set_rtds(&e, domid, 1, 1000, 1000));
    th_assert_err(set_rtds(&e, domid, 2, 1000, 100), KEEL_EINVAL,
                  "vCPU 2 does not exist (the domain has 2)");
    ck_assert_uint_eq(get_rtds(&e, domid, 1).budget_us, 1000);
}
END_TEST

/* All or none: one bad entry, or a vCPU twice, refuses every entry. */
START_TEST(rtds_all_or_none)
{
    struct env e = env_open();
    struct keel_hv_sched_rtds r[3] = {
        {0, 2000, 1000, true}, {1, 2000, 3000, true}, {0, 5000, 100, true}};
    uint32_t domid;

    pool_make(&e, "rt", KEEL_SCHED_RTDS, "6-7");
    domid = dom_make(&e, "a", "rt", 2);
    th_assert_err(keel_sched_rtds_set(e.host, domid, r, 2), KEEL_ERANGE,
                  "vCPU 1: budget 3000 us");
    ck_assert_uint_eq(get_rtds(&e, domid, 0).period_us, 10000);
    r[1].budget_us = 500;
    th_assert_err(keel_sched_rtds_set(e.host, domid, r, 3), KEEL_EINVAL,
                  "3 vCPU entries for a domain with 2");
    r[1].vcpu = 0;
    th_assert_err(keel_sched_rtds_set(e.host, domid, r, 2), KEEL_EINVAL,
                  "vCPU 0 is named twice");
    th_assert_err(keel_sched_rtds_set(e.host, domid, r, 0), KEEL_EINVAL,
                  "no vCPU to set");
    th_assert_err(keel_sched_rtds_set(e.host, domid, NULL, 1), KEEL_EINVAL,
                  "no vCPU to set");
    ck_assert_uint_eq(get_rtds(&e, domid, 0).period_us, 10000);
    r[1].vcpu = 1;
    OK(keel_sched_rtds_set(e.host, domid, r, 2));
    ck_assert_uint_eq(get_rtds(&e, domid, 1).budget_us, 500);
}
END_TEST

/* The record keeps one period and budget while every vCPU has them, and
 * no weight or cap: rtds has none. */
START_TEST(rtds_record)
{
    struct env e = env_open();
    struct keel_hv_sched_rtds r[2] = {{0, 2000, 1000, true},
                                      {1, 2000, 1000, true}};
    uint32_t domid;

    pool_make(&e, "rt", KEEL_SCHED_RTDS, "6-7");
    domid = dom_make(&e, "a", "rt", 2);
    OK(set_rtds(&e, domid, 0, 2000, 1000));
    assert_record(&e, domid, KEEL_UNSET, KEEL_UNSET, KEEL_UNSET, KEEL_UNSET);
    OK(keel_sched_rtds_set(e.host, domid, r, 2));
    assert_record(&e, domid, KEEL_UNSET, KEEL_UNSET, 2000, 1000);
    OK(set_rtds(&e, domid, 1, 3000, 1000));
    assert_record(&e, domid, KEEL_UNSET, KEEL_UNSET, 2000, 1000);
    OK(set_rtds(&e, domid, 1, 2000, 1000));
    assert_record(&e, domid, KEEL_UNSET, KEEL_UNSET, 2000, 1000);
}
END_TEST

START_TEST(rtds_rollback)
{
    struct env e = env_open();
    struct keel_hv_sched_rtds r[2] = {{0, 2000, 1000, true},
                                      {1, 2000, 1000, true}};
    uint32_t domid;
    char *broken;

    pool_make(&e, "rt", KEEL_SCHED_RTDS, "6-7");
    domid = dom_make(&e, "a", "rt", 2);
    broken = th_break_record(e.host, domid);
    th_assert_err(keel_sched_rtds_set(e.host, domid, r, 2), -EISDIR,
                  ".json.tmp");
    th_mend(broken);
    ck_assert_uint_eq(get_rtds(&e, domid, 0).period_us, 10000);
    ck_assert_uint_eq(get_rtds(&e, domid, 1).budget_us, 4000);
    assert_record(&e, domid, KEEL_UNSET, KEEL_UNSET, KEEL_UNSET, KEEL_UNSET);
}
END_TEST

/* --- pools ---------------------------------------------------------------- */

START_TEST(pool_credit)
{
    struct env e = env_open();
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7");
    enum keel_scheduler c = KEEL_SCHED_CREDIT;

    assert_pool(&e, id, 30, 1000);
    th_assert_err(set_pool(&e, id, c, 0, 0), KEEL_ERANGE,
                  "tslice 0 ms is not 1..1000");
    OK(set_pool(&e, id, c, 1, 0));
    assert_pool(&e, id, 1, 0);
    OK(set_pool(&e, id, c, 1000, 0));
    th_assert_err(set_pool(&e, id, c, 1001, 0), KEEL_ERANGE,
                  "tslice 1001 ms is not 1..1000");
    th_assert_err(set_pool(&e, id, c, 1000, 99), KEEL_ERANGE,
                  "ratelimit 99 us is not 0 (off) or 100..500000");
    OK(set_pool(&e, id, c, 1000, 100));
    OK(set_pool(&e, id, c, 1000, 500000));
    assert_pool(&e, id, 1000, 500000);
    th_assert_err(set_pool(&e, id, c, 1000, 500001), KEEL_ERANGE,
                  "ratelimit 500001 us is not 0 (off) or 100..500000");
    th_assert_err(set_pool(&e, id, c, 10, 10001), KEEL_ERANGE,
                  "ratelimit 10001 us is longer than the tslice (10 ms)");
    OK(set_pool(&e, id, c, 10, 10000));
    assert_pool(&e, id, 10, 10000);
}
END_TEST

START_TEST(pool_credit2)
{
    struct env e = env_open();
    enum keel_scheduler c2 = KEEL_SCHED_CREDIT2;

    assert_pool(&e, 0, 0, 1000);
    OK(set_pool(&e, 0, c2, 0, 0));
    assert_pool(&e, 0, 0, 0);
    th_assert_err(set_pool(&e, 0, c2, 0, 99), KEEL_ERANGE,
                  "ratelimit 99 us is not 0 (off) or 100..500000");
    OK(set_pool(&e, 0, c2, 0, 100));
    OK(set_pool(&e, 0, c2, 0, 500000));
    assert_pool(&e, 0, 0, 500000);
    th_assert_err(set_pool(&e, 0, c2, 0, 500001), KEEL_ERANGE,
                  "ratelimit 500001 us");
    th_assert_err(set_pool(&e, 0, c2, 5, 100), KEEL_EINVAL,
                  "tslice 5 ms: credit2 has no time slice (only credit)");
    th_assert_err(set_pool(&e, 0, KEEL_SCHED_CREDIT, 30, 100), KEEL_EINVAL,
                  "CPU pool 'Pool-0' runs credit2, not credit");
    assert_pool(&e, 0, 0, 500000);
}
END_TEST

START_TEST(pool_unparametered)
{
    struct env e = env_open();
    uint32_t rt = pool_make(&e, "rt", KEEL_SCHED_RTDS, "6");
    uint32_t nil = pool_make(&e, "nil", KEEL_SCHED_NULL, "7");
    struct keel_hv_sched_pool p = {KEEL_SCHED_UNKNOWN, 0, 0};

    th_assert_err(keel_sched_pool_get(e.host, rt, &p), KEEL_EINVAL,
                  "CPU pool 'rt' runs rtds, which has no pool parameters");
    th_assert_err(set_pool(&e, rt, KEEL_SCHED_RTDS, 0, 0), KEEL_EINVAL,
                  "CPU pool 'rt' runs rtds, which has no pool parameters");
    th_assert_err(set_pool(&e, nil, KEEL_SCHED_NULL, 0, 0), KEEL_EINVAL,
                  "CPU pool 'nil' runs null, which has no pool parameters");
    th_assert_err(set_pool(&e, 9, KEEL_SCHED_CREDIT2, 0, 0), KEEL_ENOPOOL, "9");
    th_assert_err(keel_sched_pool_set(e.host, 0, NULL), KEEL_EINVAL,
                  "params is NULL");
    th_assert_err(keel_sched_pool_get(e.host, 0, NULL), KEEL_EINVAL,
                  "params is NULL");
}
END_TEST

/* --- the checks domain create shares -------------------------------------- */

START_TEST(internal_checks)
{
    struct keel_ctx *ctx = th_ctx();
    struct keel_hv_sched_dom d = {KEEL_SCHED_CREDIT, 1, 400};
    struct keel_hv_sched_rtds r = {3, 10, 10, false};

    OK(keel__sched_check_dom(ctx, &d, 4));
    d.cap = 401;
    th_assert_err(keel__sched_check_dom(ctx, &d, 4), KEEL_ERANGE,
                  "cap 401 is not 0..400");
    d = (struct keel_hv_sched_dom){KEEL_SCHED_RTDS, 1, 0};
    th_assert_err(keel__sched_check_dom(ctx, &d, 4), KEEL_EINVAL,
                  "rtds has no weight or cap");
    d = (struct keel_hv_sched_dom){3, 0, 0};
    th_assert_err(keel__sched_check_dom(ctx, &d, 4), KEEL_EINVAL,
                  "unknown scheduler 3");
    OK(keel__sched_check_rtds(ctx, &r, 4));
    th_assert_err(keel__sched_check_rtds(ctx, &r, 3), KEEL_EINVAL,
                  "vCPU 3 does not exist (the domain has 3)");
}
END_TEST

START_TEST(null_args)
{
    struct keel_hv_sched_dom d = {0};
    struct keel_hv_sched_pool p = {0};
    struct keel_hv_sched_rtds *r = NULL;
    size_t n;

    ck_assert_int_eq(keel_sched_domain_get(NULL, 0, &d), KEEL_EINVAL);
    ck_assert_int_eq(keel_sched_domain_set(NULL, 0, &d), KEEL_EINVAL);
    ck_assert_int_eq(keel_sched_rtds_get(NULL, 0, &r, &n), KEEL_EINVAL);
    ck_assert_int_eq(keel_sched_rtds_set(NULL, 0, r, 1), KEEL_EINVAL);
    ck_assert_int_eq(keel_sched_pool_get(NULL, 0, &p), KEEL_EINVAL);
    ck_assert_int_eq(keel_sched_pool_set(NULL, 0, &p), KEEL_EINVAL);
}
END_TEST

static Suite *
sched_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc;

    tc = th_tcase(s, "domain");
    tcase_add_loop_test(tc, weight_edges, 0, 2);
    tcase_add_loop_test(tc, cap_edges, 0, 2);
    tcase_add_test(tc, dom_mismatch);
    tcase_add_test(tc, dom_unweighted);
    tcase_add_test(tc, dom_states);
    tcase_add_test(tc, dom_rollback);

    tc = th_tcase(s, "rtds");
    tcase_add_test(tc, rtds_get);
    tcase_add_test(tc, rtds_edges);
    tcase_add_test(tc, rtds_all_or_none);
    tcase_add_test(tc, rtds_record);
    tcase_add_test(tc, rtds_rollback);

    tc = th_tcase(s, "pool");
    tcase_add_test(tc, pool_credit);
    tcase_add_test(tc, pool_credit2);
    tcase_add_test(tc, pool_unparametered);

    tc = th_tcase(s, "checks");
    tcase_add_test(tc, internal_checks);
    tcase_add_test(tc, null_args);
    return s;
}

int
main(void)
{
    return th_run(sched_suite());
}

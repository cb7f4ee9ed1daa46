/* methods-pool.c: cpupool.* and sched.* over libkeel
 *
 * Handlers as in methods.c (read the params, one libkeel call, write the
 * result; on a worker). CPU specs go through keel_host_resolve_cpus, so
 * "nodes:1" means what it means to xl on this host. sched.set changes
 * only the members it is given: it reads the current parameters and
 * writes them back with those replaced, as `xl sched-credit -w` does.
 *
 * Checklist when adding a method: as methods.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <keel/cpupool.h>

#include "keeld.h"

static const char *const no_params[] = {NULL};
static const char *const pool_only[] = {"pool", NULL};

/* --- cpupool.* --- */

static int
m_cpupool_list(struct kd_call *c)
{
    struct keel_cpupool_info *pools = NULL;
    yajl_gen g = c->g;
    size_t n, i;
    int rc;

    if ((rc = kd_params_only(c, no_params)))
        return rc;
    if ((rc = keel_cpupool_list(c->kd->host, &pools, &n)))
        return kd_fail_keel(c, rc);
    yajl_gen_array_open(g);
    for (i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        kd_gen_kv_int(g, "poolid", pools[i].poolid);
        kd_gen_kv_str(g, "name", pools[i].name);
        kd_gen_kv_str(g, "sched", keel_scheduler_name(pools[i].sched));
        kd_gen_kv_int(g, "n_dom", pools[i].n_dom);
        kd_gen_kv_cpumap(g, "cpus", &pools[i].cpus, 0);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    free(pools);
    return 0;
}

/* "sched": a scheduler's name; absent leaves *sched_r as it is. */
static int
param_sched(struct kd_call *c, enum keel_scheduler *sched_r)
{
    const char *name;
    bool present;
    int rc, s;

    if ((rc = kd_param_str(c, "sched", false, &name, &present)) || !present)
        return rc;
    if ((s = keel_scheduler_parse(name)) < 0)
        return kd_fail(c, KD_EPARAMS,
                       "member 'sched' must be \"credit\", \"credit2\", "
                       "\"rtds\" or \"null\" (got \"%.40s\")",
                       name);
    *sched_r = (enum keel_scheduler)s;
    return 0;
}

static int
m_cpupool_create(struct kd_call *c)
{
    static const char *const names[] = {"name", "sched", "cpus", NULL};
    enum keel_scheduler sched = KEEL_SCHED_UNKNOWN;
    struct keel_cpumap cpus;
    const char *name;
    bool has_cpus;
    uint32_t poolid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_str(c, "name", true, &name, NULL)) ||
        (rc = param_sched(c, &sched)) ||
        (rc = kd_param_cpus(c, "cpus", false, &cpus, &has_cpus)))
        return rc;
    rc = keel_cpupool_create(c->kd->host, name, sched, has_cpus ? &cpus : NULL,
                             0, &poolid);
    if (rc)
        return kd_fail_keel(c, rc);
    yajl_gen_map_open(c->g);
    kd_gen_kv_int(c->g, "poolid", poolid);
    yajl_gen_map_close(c->g);
    return 0;
}

static int
m_cpupool_destroy(struct kd_call *c)
{
    uint32_t poolid;
    int rc;

    if ((rc = kd_params_only(c, pool_only)) ||
        (rc = kd_param_pool(c, "pool", &poolid)))
        return rc;
    if ((rc = keel_cpupool_destroy(c->kd->host, poolid)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_cpupool_rename(struct kd_call *c)
{
    static const char *const names[] = {"pool", "name", NULL};
    const char *name;
    uint32_t poolid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_str(c, "name", true, &name, NULL)) ||
        (rc = kd_param_pool(c, "pool", &poolid)))
        return rc;
    if ((rc = keel_cpupool_rename(c->kd->host, poolid, name)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

typedef int cpus_fn(struct keel_host *, uint32_t, const struct keel_cpumap *);

/* cpupool.cpu_add and cpupool.cpu_remove. */
static int
pool_cpus(struct kd_call *c, cpus_fn *op)
{
    static const char *const names[] = {"pool", "cpus", NULL};
    struct keel_cpumap cpus;
    uint32_t poolid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_pool(c, "pool", &poolid)) ||
        (rc = kd_param_cpus(c, "cpus", true, &cpus, NULL)))
        return rc;
    if ((rc = op(c->kd->host, poolid, &cpus)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_cpupool_cpu_add(struct kd_call *c)
{
    return pool_cpus(c, keel_cpupool_cpu_add);
}

static int
m_cpupool_cpu_remove(struct kd_call *c)
{
    return pool_cpus(c, keel_cpupool_cpu_remove);
}

static int
m_cpupool_move_domain(struct kd_call *c)
{
    static const char *const names[] = {"domain", "pool", NULL};
    uint32_t domid, poolid;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_domain(c, "domain", &domid)) ||
        (rc = kd_param_pool(c, "pool", &poolid)))
        return rc;
    if ((rc = keel_cpupool_move_domain(c->kd->host, domid, poolid)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_cpupool_numa_split(struct kd_call *c)
{
    int rc;

    if ((rc = kd_params_only(c, no_params)))
        return rc;
    if ((rc = keel_cpupool_numa_split(c->kd->host)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

/* --- sched.get --- */

static bool
has_weight(enum keel_scheduler sched)
{
    return sched == KEEL_SCHED_CREDIT || sched == KEEL_SCHED_CREDIT2;
}

/* Exactly one of "domain" and "pool": *is_domain_r says which, *id_r is
 * its id. */
static int
param_target(struct kd_call *c, bool *is_domain_r, uint32_t *id_r)
{
    bool dom = kd_param(c, "domain") != NULL,
         pool = kd_param(c, "pool") != NULL;

    if (dom == pool)
        return kd_fail(c, KD_EPARAMS,
                       dom ? "give member 'domain' or 'pool', not both"
                           : "missing member 'domain' (or 'pool')");
    *is_domain_r = dom;
    return dom ? kd_param_domain(c, "domain", id_r)
               : kd_param_pool(c, "pool", id_r);
}

static void
gen_rtds(yajl_gen g, const struct keel_hv_sched_rtds *v, size_t n)
{
    size_t i;

    kd_gen_str(g, "vcpus");
    yajl_gen_array_open(g);
    for (i = 0; i < n; i++) {
        yajl_gen_map_open(g);
        kd_gen_kv_int(g, "vcpu", v[i].vcpu);
        kd_gen_kv_int(g, "period_us", v[i].period_us);
        kd_gen_kv_int(g, "budget_us", v[i].budget_us);
        kd_gen_kv_bool(g, "extratime", v[i].extratime);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

/* credit, credit2: weight and cap; rtds: each vCPU's; null: nothing. */
static int
sched_get_domain(struct kd_call *c, uint32_t domid)
{
    struct keel_hv_sched_rtds *vcpus = NULL;
    struct keel_hv_sched_dom p;
    yajl_gen g = c->g;
    size_t n = 0;
    int rc;

    memset(&p, 0, sizeof(p)); /* KEEL_SCHED_UNKNOWN: the pool's */
    if ((rc = keel_sched_domain_get(c->kd->host, domid, &p)))
        return kd_fail_keel(c, rc);
    if (p.sched == KEEL_SCHED_RTDS &&
        (rc = keel_sched_rtds_get(c->kd->host, domid, &vcpus, &n)))
        return kd_fail_keel(c, rc);
    yajl_gen_map_open(g);
    kd_gen_kv_str(g, "sched", keel_scheduler_name(p.sched));
    if (has_weight(p.sched)) {
        kd_gen_kv_int(g, "weight", p.weight);
        kd_gen_kv_int(g, "cap", p.cap);
    } else if (p.sched == KEEL_SCHED_RTDS) {
        gen_rtds(g, vcpus, n);
    }
    yajl_gen_map_close(g);
    free(vcpus);
    return 0;
}

/* credit: tslice_ms and ratelimit_us; credit2: ratelimit_us; rtds and
 * null have no pool parameters: just the scheduler. */
static int
sched_get_pool(struct kd_call *c, uint32_t poolid)
{
    struct keel_cpupool_info info;
    struct keel_hv_sched_pool p;
    yajl_gen g = c->g;
    int rc;

    memset(&p, 0, sizeof(p));
    if ((rc = keel_cpupool_info(c->kd->host, poolid, &info)))
        return kd_fail_keel(c, rc);
    p.sched = info.sched;
    if (has_weight(info.sched) &&
        (rc = keel_sched_pool_get(c->kd->host, poolid, &p)))
        return kd_fail_keel(c, rc);
    yajl_gen_map_open(g);
    kd_gen_kv_str(g, "sched", keel_scheduler_name(info.sched));
    if (info.sched == KEEL_SCHED_CREDIT)
        kd_gen_kv_int(g, "tslice_ms", p.tslice_ms);
    if (has_weight(info.sched))
        kd_gen_kv_int(g, "ratelimit_us", p.ratelimit_us);
    yajl_gen_map_close(g);
    return 0;
}

static int
m_sched_get(struct kd_call *c)
{
    static const char *const names[] = {"domain", "pool", NULL};
    bool is_domain;
    uint32_t id;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = param_target(c, &is_domain, &id)))
        return rc;
    return is_domain ? sched_get_domain(c, id) : sched_get_pool(c, id);
}

/* --- sched.set --- */

/* Refuses the first of names that the call has, saying it goes with
 * other. */
static int
refuse_members(struct kd_call *c, const char *const *names, const char *other)
{
    for (; *names; names++)
        if (kd_param(c, *names))
            return kd_fail(c, KD_EPARAMS, "member '%s' goes with '%s'", *names,
                           other);
    return 0;
}

static bool
listed(const char *const *names, const char *key)
{
    for (; *names; names++)
        if (!strcmp(*names, key))
            return true;
    return false;
}

/* A uint32 member of one "vcpus" item; absent leaves *v. */
static int
item_u32(struct kd_call *c, yajl_val item, size_t i, const char *key,
         uint32_t *v)
{
    const char *k[] = {key, NULL};
    yajl_val m = yajl_tree_get(item, k, yajl_t_any);

    if (!m)
        return 0;
    if (!YAJL_IS_INTEGER(m) || m->u.number.i < 0 || m->u.number.i > UINT32_MAX)
        return kd_fail(c, KD_EPARAMS,
                       "member 'vcpus' item %zu: '%s' must be an integer in "
                       "0..%u",
                       i, key, UINT32_MAX);
    *v = (uint32_t)m->u.number.i;
    return 0;
}

/* One item of "vcpus" over cur[] (the domain's n vCPUs as they are). */
static int
rtds_item(struct kd_call *c, yajl_val item, size_t i,
          const struct keel_hv_sched_rtds *cur, size_t n,
          struct keel_hv_sched_rtds *out)
{
    static const char *const keys[] = {"vcpu", "period_us", "budget_us",
                                       "extratime", NULL};
    const char *vk[] = {"vcpu", NULL}, *ek[] = {"extratime", NULL};
    uint32_t vcpu = UINT32_MAX;
    yajl_val extra;
    size_t j;
    int rc;

    if (!YAJL_IS_OBJECT(item))
        return kd_fail(c, KD_EPARAMS,
                       "member 'vcpus' item %zu must be an object", i);
    for (j = 0; j < item->u.object.len; j++)
        if (!listed(keys, item->u.object.keys[j]))
            return kd_fail(c, KD_EPARAMS,
                           "member 'vcpus' item %zu: unknown member '%.64s'", i,
                           item->u.object.keys[j]);
    if (!yajl_tree_get(item, vk, yajl_t_any))
        return kd_fail(c, KD_EPARAMS,
                       "member 'vcpus' item %zu: missing member 'vcpu'", i);
    if ((rc = item_u32(c, item, i, "vcpu", &vcpu)))
        return rc;
    if (vcpu >= n)
        return kd_fail(c, KEEL_EINVAL,
                       "vCPU %u does not exist (the domain has %zu)", vcpu, n);
    *out = cur[vcpu];
    if ((rc = item_u32(c, item, i, "period_us", &out->period_us)) ||
        (rc = item_u32(c, item, i, "budget_us", &out->budget_us)))
        return rc;
    extra = yajl_tree_get(item, ek, yajl_t_any);
    if (extra && !YAJL_IS_TRUE(extra) && !YAJL_IS_FALSE(extra))
        return kd_fail(c, KD_EPARAMS,
                       "member 'vcpus' item %zu: 'extratime' must be true or "
                       "false",
                       i);
    if (extra)
        out->extratime = YAJL_IS_TRUE(extra);
    return 0;
}

/* "vcpus" of a domain in an RTDS pool; members an item leaves out keep
 * their current values. */
static int
sched_set_rtds(struct kd_call *c, uint32_t domid, yajl_val arr)
{
    struct keel_hv_sched_rtds *cur = NULL, *set = NULL;
    size_t n, i;
    int rc;

    if (!YAJL_IS_ARRAY(arr) || arr->u.array.len == 0)
        return kd_fail(c, KD_EPARAMS,
                       "member 'vcpus' must be a non-empty array of objects");
    if ((rc = keel_sched_rtds_get(c->kd->host, domid, &cur, &n)))
        return kd_fail_keel(c, rc);
    if (!(set = calloc(arr->u.array.len, sizeof(*set)))) {
        rc = kd_fail(c, KD_EINTERNAL, "out of memory");
        goto out;
    }
    for (i = 0; i < arr->u.array.len; i++)
        if ((rc = rtds_item(c, arr->u.array.values[i], i, cur, n, &set[i])))
            goto out;
    rc = keel_sched_rtds_set(c->kd->host, domid, set, arr->u.array.len);
    rc = rc ? kd_fail_keel(c, rc) : kd_ok(c);
out:
    free(cur);
    free(set);
    return rc;
}

/* "weight" and "cap" of a domain in a credit or credit2 pool. */
static int
sched_set_weight(struct kd_call *c, uint32_t domid)
{
    struct keel_hv_sched_dom p;
    bool has_w, has_c;
    int64_t w, cap;
    int rc;

    if ((rc = kd_param_i64(c, "weight", false, 0, UINT32_MAX, &w, &has_w)) ||
        (rc = kd_param_i64(c, "cap", false, 0, UINT32_MAX, &cap, &has_c)))
        return rc;
    if (!has_w && !has_c)
        return kd_fail(c, KD_EPARAMS,
                       "give member 'weight', 'cap' or 'vcpus' to set");
    memset(&p, 0, sizeof(p));
    if ((rc = keel_sched_domain_get(c->kd->host, domid, &p)))
        return kd_fail_keel(c, rc);
    if (has_w)
        p.weight = (uint32_t)w;
    if (has_c)
        p.cap = (uint32_t)cap;
    if ((rc = keel_sched_domain_set(c->kd->host, domid, &p)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
sched_set_domain(struct kd_call *c, uint32_t domid)
{
    static const char *const pool_members[] = {"tslice_ms", "ratelimit_us",
                                               NULL};
    static const char *const weight_members[] = {"weight", "cap", NULL};
    yajl_val vcpus = kd_param(c, "vcpus");
    int rc;

    if ((rc = refuse_members(c, pool_members, "pool")))
        return rc;
    if (!vcpus)
        return sched_set_weight(c, domid);
    if ((rc =
             refuse_members(c, weight_members, "a credit domain, not 'vcpus'")))
        return rc;
    return sched_set_rtds(c, domid, vcpus);
}

static int
sched_set_pool(struct kd_call *c, uint32_t poolid)
{
    static const char *const dom_members[] = {"weight", "cap", "vcpus", NULL};
    struct keel_hv_sched_pool p;
    bool has_t, has_r;
    int64_t t, r;
    int rc;

    if ((rc = refuse_members(c, dom_members, "domain")) ||
        (rc = kd_param_i64(c, "tslice_ms", false, 0, UINT32_MAX, &t, &has_t)) ||
        (rc =
             kd_param_i64(c, "ratelimit_us", false, 0, UINT32_MAX, &r, &has_r)))
        return rc;
    if (!has_t && !has_r)
        return kd_fail(c, KD_EPARAMS,
                       "give member 'tslice_ms' or 'ratelimit_us' to set");
    memset(&p, 0, sizeof(p));
    if ((rc = keel_sched_pool_get(c->kd->host, poolid, &p)))
        return kd_fail_keel(c, rc);
    if (has_t)
        p.tslice_ms = (uint32_t)t;
    if (has_r)
        p.ratelimit_us = (uint32_t)r;
    if ((rc = keel_sched_pool_set(c->kd->host, poolid, &p)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_sched_set(struct kd_call *c)
{
    static const char *const names[] = {"domain",       "pool",  "weight",
                                        "cap",          "vcpus", "tslice_ms",
                                        "ratelimit_us", NULL};
    bool is_domain;
    uint32_t id;
    int rc;

    if ((rc = kd_params_only(c, names)) ||
        (rc = param_target(c, &is_domain, &id)))
        return rc;
    return is_domain ? sched_set_domain(c, id) : sched_set_pool(c, id);
}

const struct kd_method kd_methods_pool[] = {
    {"cpupool.list", m_cpupool_list, KD_M_NOKEY},
    {"cpupool.create", m_cpupool_create, KD_M_WRITE},
    {"cpupool.destroy", m_cpupool_destroy, KD_M_WRITE},
    {"cpupool.rename", m_cpupool_rename, KD_M_WRITE},
    {"cpupool.cpu_add", m_cpupool_cpu_add, KD_M_WRITE},
    {"cpupool.cpu_remove", m_cpupool_cpu_remove, KD_M_WRITE},
    {"cpupool.move_domain", m_cpupool_move_domain, KD_M_WRITE},
    {"cpupool.numa_split", m_cpupool_numa_split, KD_M_WRITE},
    {"sched.get", m_sched_get, 0},
    {"sched.set", m_sched_set, KD_M_WRITE},
    {NULL, NULL, 0},
};

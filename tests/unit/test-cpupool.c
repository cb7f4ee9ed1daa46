/* test-cpupool.c: CPU pools through struct keel_host on the sim
 *
 * Every operation of cpupool.h and every refusal, for its code and for a
 * message that names what was wrong; a refused or failed call is checked
 * to have changed nothing (pools, free CPUs, affinities, records). The sim
 * is the default host (8 CPUs, 2 nodes, Pool-0 under credit2) unless a
 * test gives a spec. A failure half-way is made by turning a domain
 * record's temporary file into a directory, so its next save fails.
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

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct env {
    struct keel_hv *hv;
    struct keel_host *host;
};

static struct env
env_open(const char *spec)
{
    struct env e;

    e.hv = th_sim_open(NULL, spec, 0);
    e.host = th_host_open(e.hv, NULL);
    return e;
}

/* A map from a range list ("4-7"). */
static struct keel_cpumap
map(const char *text)
{
    struct keel_cpumap m;

    OK(keel_cpumap_parse(&m, text, NULL));
    return m;
}

static void
assert_map(const struct keel_cpumap *got, const char *want)
{
    char g[256];

    keel_cpumap_format(got, g, sizeof(g));
    ck_assert_msg(!strcmp(g, want), "CPU map is '%s', want '%s'", g, want);
}

static struct keel_cpupool_info
pool(struct env *e, uint32_t poolid)
{
    struct keel_cpupool_info info;

    OK(keel_cpupool_info(e->host, poolid, &info));
    return info;
}

static void
assert_pool_cpus(struct env *e, uint32_t poolid, const char *want)
{
    struct keel_cpupool_info info = pool(e, poolid);

    assert_map(&info.cpus, want);
}

static size_t
n_pools(struct env *e)
{
    struct keel_cpupool_info *infos;
    size_t n;

    OK(keel_cpupool_list(e->host, &infos, &n));
    free(infos);
    return n;
}

static void
assert_free(struct env *e, const char *want)
{
    struct keel_cpumap m;

    OK(keel_cpupool_free_cpus(e->host, &m));
    assert_map(&m, want);
}

/* Takes cpus out of Pool-0 and makes a pool of them. */
static uint32_t
pool_make(struct env *e, const char *name, enum keel_scheduler sched,
          const char *cpus)
{
    struct keel_cpumap m = map(cpus);
    uint32_t id = KEEL_POOLID_ANY;

    OK(keel_cpupool_cpu_remove(e->host, 0, &m));
    OK(keel_cpupool_create(e->host, name, sched, &m, 0, &id));
    return id;
}

/* A running domain of 64 MiB and vcpus vCPUs in pool (NULL: Pool-0),
 * pinned to cpus (NULL: all). */
static uint32_t
dom_make(struct env *e, const char *name, const char *pool_name,
         unsigned int vcpus, const char *cpus)
{
    struct keel_domain_config cfg;
    uint32_t domid = 0;

    keel_domain_config_init(&cfg);
    cfg.name = strdup(name);
    cfg.pool = pool_name ? strdup(pool_name) : NULL;
    cfg.memory_kb = 64 * MIB_KB;
    cfg.vcpus = vcpus;
    if (cpus)
        th_set_cpus(&cfg.cpus, cpus);
    OK(keel_domain_create(e->host, &cfg, 0, &domid));
    keel_domain_config_dispose(&cfg);
    return domid;
}

static struct keel_cpumap
hard_of(struct env *e, uint32_t domid, uint32_t vcpu)
{
    struct keel_hv_vcpuinfo vi;

    OK(keel_hv_vcpu_info(e->hv, domid, vcpu, &vi));
    return vi.hard;
}

static void
pin(struct env *e, uint32_t domid, uint32_t vcpu, const char *cpus)
{
    struct keel_cpumap m = map(cpus);

    OK(keel_domain_vcpu_pin(e->host, domid, vcpu, &m, NULL));
}

/* The record's config; dispose it. */
static struct keel_domain_config
config_of(struct env *e, uint32_t domid)
{
    struct keel_domain_config cfg;

    keel_domain_config_init(&cfg);
    OK(keel_domain_config_get(e->host, domid, &cfg));
    return cfg;
}

static void
assert_record_pool(struct env *e, uint32_t domid, const char *want)
{
    struct keel_domain_config cfg = config_of(e, domid);

    ck_assert_str_eq(cfg.pool, want);
    keel_domain_config_dispose(&cfg);
}

/* The record's cpus=, one spec per vCPU joined by ' ', or "-" unset. */
static void
assert_record_cpus(struct env *e, uint32_t domid, const char *want)
{
    struct keel_domain_config cfg = config_of(e, domid);
    char got[256] = "";
    unsigned int i;

    if (!cfg.cpus.specs)
        snprintf(got, sizeof(got), "-");
    for (i = 0; cfg.cpus.specs && i < cfg.cpus.count; i++)
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
                 i ? " " : "", cfg.cpus.specs[i]);
    ck_assert_msg(!strcmp(got, want), "cpus= is '%s', want '%s'", got, want);
    keel_domain_config_dispose(&cfg);
}

static bool
store_is(struct env *e, const char *path, const char *want)
{
    char *val = NULL;
    size_t len;
    bool ok;

    if (keel_hv_store_read(e->hv, path, &val, &len)) {
        keel_ctx_clear_error(th_ctx());
        return want == NULL;
    }
    ok = want && !strcmp(val, want);
    free(val);
    return ok;
}

/* --- queries -------------------------------------------------------------- */

START_TEST(info_pool0)
{
    struct env e = env_open(NULL);
    struct keel_cpupool_info *infos, i = pool(&e, 0);
    size_t n;

    ck_assert_uint_eq(i.poolid, 0);
    ck_assert_str_eq(i.name, "Pool-0");
    ck_assert_int_eq(i.sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(i.n_dom, 1);
    assert_map(&i.cpus, "0-7");
    dom_make(&e, "a", NULL, 1, NULL);
    ck_assert_uint_eq(pool(&e, 0).n_dom, 2);
    OK(keel_cpupool_list(e.host, &infos, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(infos[0].name, "Pool-0");
    free(infos);
    assert_free(&e, "");
    th_assert_err(keel_cpupool_info(e.host, 9, &i), KEEL_ENOPOOL, "9");
}
END_TEST

START_TEST(lookup)
{
    struct env e = env_open(NULL);
    uint32_t id = 99, p = pool_make(&e, "web", KEEL_SCHED_CREDIT, "6-7");

    OK(keel_cpupool_lookup(e.host, "Pool-0", &id));
    ck_assert_uint_eq(id, 0);
    OK(keel_cpupool_lookup(e.host, "web", &id));
    ck_assert_uint_eq(id, p);
    OK(keel_cpupool_lookup(e.host, "0", &id));
    ck_assert_uint_eq(id, 0);
    th_assert_err(keel_cpupool_lookup(e.host, "7", &id), KEEL_ENOPOOL,
                  "no CPU pool with id 7");
    th_assert_err(keel_cpupool_lookup(e.host, "4294967295", &id), KEEL_ENOPOOL,
                  "no CPU pool with id 4294967295");
    th_assert_err(keel_cpupool_lookup(e.host, "db", &id), KEEL_ENOPOOL,
                  "no CPU pool called 'db'");
    th_assert_err(keel_cpupool_lookup(e.host, NULL, &id), KEEL_EINVAL, "NULL");
}
END_TEST

START_TEST(null_args)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("1");
    uint32_t id;
    size_t n;

    ck_assert_int_eq(keel_cpupool_lookup(NULL, "0", &id), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_info(NULL, 0, NULL), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_list(NULL, NULL, &n), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_free_cpus(NULL, &m), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_create(NULL, "p", 0, NULL, 0, NULL),
                     KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_destroy(NULL, 1), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_rename(NULL, 1, "p"), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_cpu_add(NULL, 1, &m), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_cpu_remove(NULL, 1, &m), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_move_domain(NULL, 1, 1), KEEL_EINVAL);
    ck_assert_int_eq(keel_cpupool_numa_split(NULL), KEEL_EINVAL);
    th_assert_err(keel_cpupool_info(e.host, 0, NULL), KEEL_EINVAL,
                  "info is NULL");
    th_assert_err(keel_cpupool_list(e.host, NULL, &n), KEEL_EINVAL, "NULL");
    th_assert_err(keel_cpupool_free_cpus(e.host, NULL), KEEL_EINVAL,
                  "map is NULL");
    th_assert_err(keel_cpupool_cpu_add(e.host, 0, NULL), KEEL_EINVAL,
                  "no CPU given");
    th_assert_err(keel_cpupool_cpu_remove(e.host, 0, NULL), KEEL_EINVAL,
                  "no CPU given");
    th_assert_err(keel_cpupool_create(e.host, NULL, 0, NULL, 0, NULL),
                  KEEL_EINVAL, "CPU pool name is empty");
}
END_TEST

/* --- create --------------------------------------------------------------- */

static const enum keel_scheduler scheds[] = {
    KEEL_SCHED_CREDIT, KEEL_SCHED_CREDIT2, KEEL_SCHED_RTDS, KEEL_SCHED_NULL};

START_TEST(create_each_sched)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("6-7");
    struct keel_cpupool_info i;
    uint32_t id = 0;

    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    assert_free(&e, "6-7");
    OK(keel_cpupool_create(e.host, "p", scheds[_i], &m, 0, &id));
    ck_assert_uint_eq(id, 1);
    i = pool(&e, id);
    ck_assert_str_eq(i.name, "p");
    ck_assert_int_eq(i.sched, scheds[_i]);
    ck_assert_uint_eq(i.n_dom, 0);
    assert_map(&i.cpus, "6-7");
    ck_assert(store_is(&e, "/local/pool/1/name", "p"));
    ck_assert_uint_eq(n_pools(&e), 2);
    assert_free(&e, "");
    dom_make(&e, "a", "p", 2, NULL);
    ck_assert_uint_eq(pool(&e, id).n_dom, 1);
}
END_TEST

/* Pool-0's scheduler and the lowest free CPU, as xl picks them. */
START_TEST(create_defaults)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("5,7");
    uint32_t id = 0;

    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    OK(keel_cpupool_create(e.host, "p", KEEL_SCHED_UNKNOWN, NULL, 0, &id));
    ck_assert_int_eq(pool(&e, id).sched, KEEL_SCHED_CREDIT2);
    assert_pool_cpus(&e, id, "5");
    assert_free(&e, "7");
    OK(keel_cpupool_create(e.host, "q", KEEL_SCHED_NULL, NULL, 0, NULL));
    assert_free(&e, "");
}
END_TEST

START_TEST(create_by_node)
{
    struct env e = env_open("cpus=8,nodes=2");
    struct keel_cpumap m;
    uint32_t id = 0;

    OK(keel_host_resolve_cpus(e.host, "nodes:1", &m));
    assert_map(&m, "4-7");
    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    OK(keel_cpupool_create(e.host, "node1", KEEL_SCHED_CREDIT, &m, 0, &id));
    assert_pool_cpus(&e, id, "4-7");
    assert_pool_cpus(&e, 0, "0-3");
}
END_TEST

/* A CPU that is not free refuses the whole create. */
START_TEST(create_busy_cpu)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("6");
    uint32_t id = 77;

    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    m = map("5-6");
    th_assert_err(
        keel_cpupool_create(e.host, "p", KEEL_SCHED_CREDIT, &m, 0, &id),
        KEEL_EBUSY, "CPU 5 is not free: it is in CPU pool 'Pool-0'");
    ck_assert_uint_eq(id, 77);
    ck_assert_uint_eq(n_pools(&e), 1);
    assert_free(&e, "6");
    assert_pool_cpus(&e, 0, "0-5,7");
    ck_assert(store_is(&e, "/local/pool/1/name", NULL));
}
END_TEST

START_TEST(create_none_free)
{
    struct env e = env_open(NULL);

    th_assert_err(keel_cpupool_create(e.host, "p", 0, NULL, 0, NULL),
                  KEEL_EBUSY, "no CPU is free");
    ck_assert_uint_eq(n_pools(&e), 1);
}
END_TEST

START_TEST(create_name_taken)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("7");

    pool_make(&e, "p", KEEL_SCHED_CREDIT, "6");
    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    th_assert_err(keel_cpupool_create(e.host, "Pool-0", 0, &m, 0, NULL),
                  KEEL_EEXIST, "a CPU pool called 'Pool-0' exists (id 0)");
    th_assert_err(keel_cpupool_create(e.host, "p", 0, &m, 0, NULL), KEEL_EEXIST,
                  "a CPU pool called 'p' exists (id 1)");
    ck_assert_uint_eq(n_pools(&e), 2);
    assert_free(&e, "7");
}
END_TEST

static const struct {
    const char *name, *needle;
} bad_names[] = {
    {"", "CPU pool name is empty"},
    {"123", "CPU pool name '123' is all digits"},
    {"a/b", "CPU pool name 'a/b': byte 2 is not printable"},
    {"a b", "CPU pool name 'a b': byte 2 is not printable"},
    {"x\x01", "byte 2 is not printable"},
};

START_TEST(create_bad_name)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("7");
    char longname[KEEL_NAME_MAX + 2];

    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    th_assert_err(
        keel_cpupool_create(e.host, bad_names[_i].name, 0, &m, 0, NULL),
        KEEL_EINVAL, bad_names[_i].needle);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    th_assert_err(keel_cpupool_create(e.host, longname, 0, &m, 0, NULL),
                  KEEL_EINVAL, "CPU pool name is 128 bytes (at most 127)");
    ck_assert_uint_eq(n_pools(&e), 1);
    assert_free(&e, "7");
}
END_TEST

START_TEST(create_bad_args)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("7"), none, beyond = map("7-8");

    keel_cpumap_zero(&none);
    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    th_assert_err(keel_cpupool_create(e.host, "p", 0, &m, 1, NULL), KEEL_EINVAL,
                  "unknown flags 0x1");
    th_assert_err(keel_cpupool_create(e.host, "p", 7, &m, 0, NULL), KEEL_EINVAL,
                  "unknown scheduler 7");
    th_assert_err(keel_cpupool_create(e.host, "p", 0, &none, 0, NULL),
                  KEEL_EINVAL, "no CPU given");
    th_assert_err(keel_cpupool_create(e.host, "p", 0, &beyond, 0, NULL),
                  KEEL_EINVAL, "CPU 8 does not exist (the host has 8)");
    ck_assert_uint_eq(n_pools(&e), 1);
    assert_free(&e, "7");
}
END_TEST

/* --- destroy -------------------------------------------------------------- */

START_TEST(destroy_pool0)
{
    struct env e = env_open(NULL);

    th_assert_err(keel_cpupool_destroy(e.host, 0), KEEL_EPERM,
                  "Pool-0 (id 0) is never destroyed");
    ck_assert_uint_eq(n_pools(&e), 1);
}
END_TEST

START_TEST(destroy_busy)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7");

    dom_make(&e, "a", "p", 1, NULL);
    th_assert_err(keel_cpupool_destroy(e.host, id), KEEL_EBUSY,
                  "CPU pool 'p' holds 1 domains");
    assert_pool_cpus(&e, id, "6-7");
    assert_free(&e, "");
    th_assert_err(keel_cpupool_destroy(e.host, 5), KEEL_ENOPOOL, "5");
}
END_TEST

START_TEST(destroy_ok)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_RTDS, "4-7"), domid;
    struct keel_cpupool_info i;

    domid = dom_make(&e, "a", "p", 1, NULL);
    OK(keel_domain_destroy(e.host, domid));
    OK(keel_cpupool_destroy(e.host, id));
    assert_free(&e, "4-7");
    ck_assert_uint_eq(n_pools(&e), 1);
    ck_assert(store_is(&e, "/local/pool/1", NULL));
    th_assert_err(keel_cpupool_info(e.host, id, &i), KEEL_ENOPOOL, NULL);
    /* an empty pool too */
    OK(keel_cpupool_create(e.host, "q", 0, NULL, 0, &id));
    assert_free(&e, "5-7");
    i = pool(&e, id);
    OK(keel_cpupool_cpu_remove(e.host, id, &i.cpus));
    OK(keel_cpupool_destroy(e.host, id));
    assert_free(&e, "4-7");
}
END_TEST

/* --- rename --------------------------------------------------------------- */

START_TEST(rename_pool)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7"), a, z;

    a = dom_make(&e, "a", "p", 1, NULL);
    z = dom_make(&e, "z", NULL, 1, NULL);
    OK(keel_cpupool_rename(e.host, id, "web"));
    ck_assert_str_eq(pool(&e, id).name, "web");
    ck_assert(store_is(&e, "/local/pool/1/name", "web"));
    assert_record_pool(&e, a, "web");
    assert_record_pool(&e, z, "Pool-0");
    OK(keel_cpupool_rename(e.host, id, "web")); /* its own name */
    th_assert_err(keel_cpupool_rename(e.host, id, "Pool-0"), KEEL_EEXIST,
                  "a CPU pool called 'Pool-0' exists");
    th_assert_err(keel_cpupool_rename(e.host, id, "42"), KEEL_EINVAL,
                  "all digits");
    th_assert_err(keel_cpupool_rename(e.host, 9, "x"), KEEL_ENOPOOL, "9");
    ck_assert_str_eq(pool(&e, id).name, "web");
    OK(keel_cpupool_rename(e.host, 0, "main"));
    assert_record_pool(&e, z, "main");
}
END_TEST

/* A record that cannot be saved: the name and the records stay. */
START_TEST(rename_rollback)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7"), a, b;
    char *broken;

    a = dom_make(&e, "a", "p", 1, NULL);
    b = dom_make(&e, "b", "p", 1, NULL);
    broken = th_break_record(e.host, b);
    th_assert_err(keel_cpupool_rename(e.host, id, "web"), -EISDIR, ".json.tmp");
    th_mend(broken);
    ck_assert_str_eq(pool(&e, id).name, "p");
    assert_record_pool(&e, a, "p");
    assert_record_pool(&e, b, "p");
}
END_TEST

/* --- CPUs in and out ------------------------------------------------------ */

START_TEST(cpu_add)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "7");
    struct keel_cpumap m = map("3-5"), none;

    keel_cpumap_zero(&none);
    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    OK(keel_cpupool_cpu_add(e.host, id, &m));
    assert_pool_cpus(&e, id, "3-5,7");
    assert_free(&e, "");
    m = map("2");
    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    /* all or none: 2 is free, 1 is not */
    m = map("1-2");
    th_assert_err(keel_cpupool_cpu_add(e.host, id, &m), KEEL_EBUSY,
                  "CPU 1 is not free: it is in CPU pool 'Pool-0'");
    m = map("2,7");
    th_assert_err(keel_cpupool_cpu_add(e.host, id, &m), KEEL_EBUSY,
                  "CPU 7 is not free: it is in CPU pool 'p'");
    assert_free(&e, "2");
    assert_pool_cpus(&e, id, "3-5,7");
    th_assert_err(keel_cpupool_cpu_add(e.host, id, &none), KEEL_EINVAL,
                  "no CPU given");
    m = map("2,9");
    th_assert_err(keel_cpupool_cpu_add(e.host, id, &m), KEEL_EINVAL,
                  "CPU 9 does not exist (the host has 8)");
    m = map("2");
    th_assert_err(keel_cpupool_cpu_add(e.host, 6, &m), KEEL_ENOPOOL, "6");
    assert_free(&e, "2");
}
END_TEST

START_TEST(cpu_remove)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT2, "4-7");
    struct keel_cpumap m = map("5-6");

    OK(keel_cpupool_cpu_remove(e.host, id, &m));
    assert_pool_cpus(&e, id, "4,7");
    assert_free(&e, "5-6");
    /* all or none: 4 is in the pool, 5 is not */
    m = map("4-5");
    th_assert_err(keel_cpupool_cpu_remove(e.host, id, &m), KEEL_EINVAL,
                  "CPU 5 is not in CPU pool 'p'");
    m = map("0");
    th_assert_err(keel_cpupool_cpu_remove(e.host, id, &m), KEEL_EINVAL,
                  "CPU 0 is not in CPU pool 'p'");
    assert_pool_cpus(&e, id, "4,7");
    assert_free(&e, "5-6");
    /* an empty pool may lose its last CPU */
    m = map("4,7");
    OK(keel_cpupool_cpu_remove(e.host, id, &m));
    assert_pool_cpus(&e, id, "");
    assert_free(&e, "4-7");
}
END_TEST

START_TEST(cpu_remove_last)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7");
    struct keel_cpumap m = map("6-7"), all = map("0-5");

    dom_make(&e, "a", "p", 2, NULL);
    th_assert_err(keel_cpupool_cpu_remove(e.host, id, &m), KEEL_EBUSY,
                  "CPU pool 'p' would have no CPU left for its 1 domains");
    th_assert_err(keel_cpupool_cpu_remove(e.host, 0, &all), KEEL_EBUSY,
                  "CPU pool 'Pool-0' would have no CPU left for its 1 "
                  "domains");
    assert_pool_cpus(&e, id, "6-7");
    assert_pool_cpus(&e, 0, "0-5");
    assert_free(&e, "");
    m = map("7");
    OK(keel_cpupool_cpu_remove(e.host, id, &m));
}
END_TEST

/* A vCPU pinned only to CPUs that leave refuses the whole remove. */
START_TEST(cpu_remove_strand)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "4-7"), a;
    struct keel_cpumap m = map("5-7");

    a = dom_make(&e, "a", "p", 2, NULL);
    pin(&e, a, 0, "4-5");
    pin(&e, a, 1, "6-7");
    th_assert_err(keel_cpupool_cpu_remove(e.host, id, &m), KEEL_EBUSY,
                  "d1v1 is pinned to CPUs 6-7, none of which would stay in "
                  "CPU pool 'p'");
    assert_pool_cpus(&e, id, "4-7");
    assert_free(&e, "");
    m = hard_of(&e, a, 0);
    assert_map(&m, "4-5");
    m = hard_of(&e, a, 1);
    assert_map(&m, "6-7");
    assert_record_cpus(&e, a, "4-5 6-7");
}
END_TEST

/* Pinned vCPUs lose the CPUs that leave; "all" stays all; the record
 * follows. */
START_TEST(cpu_remove_narrows)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "4-7"), a, b;
    struct keel_cpumap m = map("6-7");

    a = dom_make(&e, "a", "p", 2, NULL);
    b = dom_make(&e, "b", "p", 2, "5-6");
    pin(&e, a, 0, "4,7");
    OK(keel_cpupool_cpu_remove(e.host, id, &m));
    m = hard_of(&e, a, 0);
    assert_map(&m, "4");
    m = hard_of(&e, a, 1);
    assert_map(&m, "0-7");
    m = hard_of(&e, b, 0);
    assert_map(&m, "5");
    m = hard_of(&e, b, 1);
    assert_map(&m, "5");
    assert_record_cpus(&e, a, "4 all");
    assert_record_cpus(&e, b, "5");
    assert_free(&e, "6-7");
}
END_TEST

/* Domain-0 has no record but its pinning counts. */
START_TEST(cpu_remove_dom0)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("7");

    pin(&e, 0, 3, "6-7");
    pin(&e, 0, 4, "7");
    th_assert_err(keel_cpupool_cpu_remove(e.host, 0, &m), KEEL_EBUSY,
                  "d0v4 is pinned to CPUs 7, none of which would stay in CPU "
                  "pool 'Pool-0'");
    assert_free(&e, "");
    pin(&e, 0, 4, "0-7");
    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    m = hard_of(&e, 0, 3);
    assert_map(&m, "6");
    m = hard_of(&e, 0, 4);
    assert_map(&m, "0-7");
}
END_TEST

/* --- moving domains ------------------------------------------------------- */

START_TEST(move_domain)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7"), a;
    struct keel_hv_sched_dom sd = {KEEL_SCHED_CREDIT2, 512, 50};
    struct keel_domain_config cfg;
    struct keel_domain_info di;
    struct keel_cpumap m;

    a = dom_make(&e, "a", NULL, 2, "0-1");
    OK(keel_sched_domain_set(e.host, a, &sd));
    OK(keel_cpupool_move_domain(e.host, a, id));
    OK(keel_domain_info(e.host, a, &di));
    ck_assert_uint_eq(di.poolid, id);
    ck_assert_str_eq(di.pool, "p");
    m = hard_of(&e, a, 1);
    assert_map(&m, "0-7");
    memset(&sd, 0, sizeof(sd));
    OK(keel_sched_domain_get(e.host, a, &sd));
    ck_assert_int_eq(sd.sched, KEEL_SCHED_CREDIT);
    ck_assert_uint_eq(sd.weight, 256);
    ck_assert_uint_eq(sd.cap, 0);
    cfg = config_of(&e, a);
    ck_assert_str_eq(cfg.pool, "p");
    ck_assert_ptr_null(cfg.cpus.specs);
    ck_assert_ptr_null(cfg.cpus_soft.specs);
    ck_assert_int_eq(cfg.cpu_weight, 256);
    ck_assert_int_eq(cfg.cap, 0);
    keel_domain_config_dispose(&cfg);
    ck_assert_uint_eq(pool(&e, 0).n_dom, 1);
    ck_assert_uint_eq(pool(&e, id).n_dom, 1);
    OK(keel_cpupool_move_domain(e.host, a, id)); /* already there */
}
END_TEST

/* Into rtds: the record keeps no weight, cap or period, so a restart
 * into the same pool is accepted. */
START_TEST(move_to_rtds)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "rt", KEEL_SCHED_RTDS, "6-7"), a;
    struct keel_domain_config cfg;

    a = dom_make(&e, "a", NULL, 1, NULL);
    OK(keel_cpupool_move_domain(e.host, a, id));
    cfg = config_of(&e, a);
    ck_assert_str_eq(cfg.pool, "rt");
    ck_assert_int_eq(cfg.cpu_weight, KEEL_UNSET);
    ck_assert_int_eq(cfg.cap, KEEL_UNSET);
    ck_assert_int_eq(cfg.rtds_period, KEEL_UNSET);
    ck_assert_int_eq(cfg.rtds_budget, KEEL_UNSET);
    OK(keel_domain_destroy(e.host, a));
    OK(keel_domain_create(e.host, &cfg, 0, &a));
    keel_domain_config_dispose(&cfg);
    ck_assert_uint_eq(pool(&e, id).n_dom, 1);
}
END_TEST

START_TEST(move_refused)
{
    struct env e = env_open(NULL);
    uint32_t id = pool_make(&e, "p", KEEL_SCHED_CREDIT, "6-7"), a, empty;
    struct keel_cpumap m = map("5");

    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    OK(keel_cpupool_create(e.host, "empty", 0, &m, 0, &empty));
    OK(keel_cpupool_cpu_remove(e.host, empty, &m));
    a = dom_make(&e, "a", NULL, 1, NULL);
    th_assert_err(keel_cpupool_move_domain(e.host, 0, id), KEEL_EPERM,
                  "cpupool-migrate: Domain-0");
    th_assert_err(keel_cpupool_move_domain(e.host, 44, id), KEEL_ENODOMAIN,
                  "no domain with id 44");
    th_assert_err(keel_cpupool_move_domain(e.host, a, 9), KEEL_ENOPOOL, "9");
    th_assert_err(keel_cpupool_move_domain(e.host, a, empty), KEEL_EBUSY,
                  "CPU pool 'empty' has no CPUs");
    OK(keel_hv_domain_shutdown(e.hv, a, KEEL_SHUTDOWN_POWEROFF));
    th_assert_err(keel_cpupool_move_domain(e.host, a, id), KEEL_ESTATE,
                  "cpupool-migrate: domain 1 (a) is shutdown");
    assert_record_pool(&e, a, "Pool-0");
    ck_assert_uint_eq(pool(&e, id).n_dom, 0);
}
END_TEST

/* --- numa-split ----------------------------------------------------------- */

START_TEST(split_2_nodes)
{
    struct env e = env_open("cpus=8,nodes=2");
    uint32_t a = dom_make(&e, "a", NULL, 1, NULL);
    struct keel_cpupool_info *infos;
    size_t n;

    OK(keel_cpupool_numa_split(e.host));
    OK(keel_cpupool_list(e.host, &infos, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(infos[0].name, "Pool-node0");
    assert_map(&infos[0].cpus, "0-3");
    ck_assert_uint_eq(infos[0].n_dom, 2);
    ck_assert_str_eq(infos[1].name, "Pool-node1");
    assert_map(&infos[1].cpus, "4-7");
    ck_assert_int_eq(infos[1].sched, KEEL_SCHED_CREDIT2);
    ck_assert_uint_eq(infos[1].n_dom, 0);
    free(infos);
    assert_free(&e, "");
    assert_record_pool(&e, a, "Pool-node0");
    th_assert_err(keel_cpupool_numa_split(e.host), KEEL_EBUSY,
                  "numa-split: CPU pool 'Pool-node1' exists besides Pool-0");
}
END_TEST

START_TEST(split_4_nodes)
{
    struct env e = env_open("cpus=8,nodes=4,sockets=4");
    struct keel_cpupool_info *infos;
    char want[32];
    size_t n, i;

    OK(keel_cpupool_numa_split(e.host));
    OK(keel_cpupool_list(e.host, &infos, &n));
    ck_assert_uint_eq(n, 4);
    for (i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "Pool-node%zu", i);
        ck_assert_str_eq(infos[i].name, want);
        ck_assert_uint_eq(keel_cpumap_count(&infos[i].cpus), 2);
        ck_assert(keel_cpumap_test(&infos[i].cpus, 2 * (unsigned int)i));
        ck_assert_int_eq(infos[i].sched, KEEL_SCHED_CREDIT2);
    }
    free(infos);
}
END_TEST

START_TEST(split_refused)
{
    struct env e = env_open(NULL);
    struct keel_cpumap m = map("7");
    uint32_t id;

    OK(keel_cpupool_cpu_remove(e.host, 0, &m));
    th_assert_err(keel_cpupool_numa_split(e.host), KEEL_EBUSY,
                  "numa-split: Pool-0 holds 7 of the host's 8 CPUs");
    OK(keel_cpupool_create(e.host, "p", 0, &m, 0, &id));
    th_assert_err(keel_cpupool_numa_split(e.host), KEEL_EBUSY,
                  "numa-split: CPU pool 'p' exists besides Pool-0");
    ck_assert_uint_eq(n_pools(&e), 2);
    ck_assert_str_eq(pool(&e, 0).name, "Pool-0");
}
END_TEST

/* A Pool-0 domain pinned to node 1 only refuses the whole split. */
START_TEST(split_pinned)
{
    struct env e = env_open("cpus=8,nodes=4,sockets=4");
    uint32_t a = dom_make(&e, "a", NULL, 2, NULL);
    struct keel_cpumap m;

    pin(&e, a, 1, "2-3");
    th_assert_err(keel_cpupool_numa_split(e.host), KEEL_EBUSY,
                  "numa-split: d1v1 is pinned to CPUs 2-3, none of which "
                  "would stay in CPU pool 'Pool-0'");
    ck_assert_uint_eq(n_pools(&e), 1);
    ck_assert_str_eq(pool(&e, 0).name, "Pool-0");
    assert_pool_cpus(&e, 0, "0-7");
    m = hard_of(&e, a, 1);
    assert_map(&m, "2-3");
    assert_record_pool(&e, a, "Pool-0");
}
END_TEST

/* Pinned across nodes: narrowed to node 0, record included. */
START_TEST(split_narrows)
{
    struct env e = env_open("cpus=8,nodes=2");
    uint32_t a = dom_make(&e, "a", NULL, 1, "2-5");
    struct keel_cpumap m;

    OK(keel_cpupool_numa_split(e.host));
    m = hard_of(&e, a, 0);
    assert_map(&m, "2-3");
    assert_record_cpus(&e, a, "2-3");
    assert_record_pool(&e, a, "Pool-node0");
}
END_TEST

/* One node: nothing to split but the name. */
START_TEST(split_1_node)
{
    struct env e = env_open("cpus=4,nodes=1,sockets=1");

    OK(keel_cpupool_numa_split(e.host));
    ck_assert_uint_eq(n_pools(&e), 1);
    ck_assert_str_eq(pool(&e, 0).name, "Pool-node0");
}
END_TEST

static Suite *
cpupool_suite(void)
{
    Suite *s = suite_create("cpupool");
    TCase *tc;

    tc = th_tcase(s, "query");
    tcase_add_test(tc, info_pool0);
    tcase_add_test(tc, lookup);
    tcase_add_test(tc, null_args);

    tc = th_tcase(s, "create");
    tcase_add_loop_test(tc, create_each_sched, 0, (int)ARRAY_LEN(scheds));
    tcase_add_test(tc, create_defaults);
    tcase_add_test(tc, create_by_node);
    tcase_add_test(tc, create_busy_cpu);
    tcase_add_test(tc, create_none_free);
    tcase_add_test(tc, create_name_taken);
    tcase_add_loop_test(tc, create_bad_name, 0, (int)ARRAY_LEN(bad_names));
    tcase_add_test(tc, create_bad_args);

    tc = th_tcase(s, "destroy");
    tcase_add_test(tc, destroy_pool0);
    tcase_add_test(tc, destroy_busy);
    tcase_add_test(tc, destroy_ok);

    tc = th_tcase(s, "rename");
    tcase_add_test(tc, rename_pool);
    tcase_add_test(tc, rename_rollback);

    tc = th_tcase(s, "cpus");
    tcase_add_test(tc, cpu_add);
    tcase_add_test(tc, cpu_remove);
    tcase_add_test(tc, cpu_remove_last);
    tcase_add_test(tc, cpu_remove_strand);
    tcase_add_test(tc, cpu_remove_narrows);
    tcase_add_test(tc, cpu_remove_dom0);

    tc = th_tcase(s, "move");
    tcase_add_test(tc, move_domain);
    tcase_add_test(tc, move_to_rtds);
    tcase_add_test(tc, move_refused);

    tc = th_tcase(s, "numa-split");
    tcase_add_test(tc, split_2_nodes);
    tcase_add_test(tc, split_4_nodes);
    tcase_add_test(tc, split_refused);
    tcase_add_test(tc, split_pinned);
    tcase_add_test(tc, split_narrows);
    tcase_add_test(tc, split_1_node);
    return s;
}

int
main(void)
{
    return th_run(cpupool_suite());
}

/* property.h: what the property test's two files share
 *
 * test-property.c picks and runs the operations; property-check.c takes
 * the views of the host and checks the invariants on them.
 */
#ifndef KEEL_TEST_PROPERTY_H
#define KEEL_TEST_PROPERTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/cpupool.h>
#include <keel/domain.h>
#include <keel/hv.h>

#define MAX_POOLS 64
#define MAX_DOMS 256
#define MAX_VCPU_SLOTS 2048

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

/* property-check.c: reporting */
void prop_expect(const struct world *w, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void prop_say(struct world *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void prop_call_ok(const struct world *w, int rc, const char *what);
const char *prop_map_text(const struct keel_cpumap *map);
void prop_check_rc(struct world *w, int rc);

/* property-check.c: randomness */
uint32_t prop_below(struct world *w, uint32_t n);
bool prop_chance(struct world *w, unsigned int percent);
uint64_t prop_seed_state(uint64_t seed, uint64_t stream);
uint64_t prop_env_u64(const char *name, uint64_t dflt);

/* property-check.c: views */
const struct vdom *prop_view_dom(const struct view *v, uint32_t domid);
const struct keel_hv_poolinfo *prop_view_pool(const struct view *v,
                                              uint32_t poolid);
const struct keel_cpupool_info *prop_view_kpool(const struct view *v,
                                                uint32_t poolid);
const struct keel_cpupool_info *prop_view_kpool_named(const struct view *v,
                                                      const char *name);
bool prop_live(const struct vdom *d);
void prop_view_take(const struct world *w, struct view *v);

/* property-check.c: the invariants */
void prop_invariants(const struct world *w, const struct view *v);
void prop_unchanged(const struct world *w, const struct view *b,
                    const struct view *a);

#endif /* KEEL_TEST_PROPERTY_H */

/* test-sim-domain.c: simulated domains through the keel_hv_* API */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"

static struct keel_hv_domain_spec
small_spec(enum keel_domain_type type)
{
    struct keel_hv_domain_spec spec = {0};

    spec.type = type;
    keel_uuid_generate(spec.uuid);
    spec.max_vcpus = spec.online_vcpus = 2;
    spec.max_kb = spec.mem_kb = 64 * 1024;
    spec.domid = KEEL_DOMID_INVALID;
    return spec;
}

static size_t
count_files(const char *dir, const char *prefix)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    size_t n = 0;

    ck_assert_ptr_nonnull(d);
    while ((de = readdir(d)))
        n += !strncmp(de->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

START_TEST(domain0_exists_at_boot)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct keel_hv_dominfo info;
    char *name;
    size_t len;

    ck_assert_int_eq(keel_hv_domain_info(hv, 0, &info), 0);
    ck_assert_uint_eq(info.domid, 0);
    ck_assert_uint_eq(info.tot_kb, 1024 * 1024);
    ck_assert_uint_eq(info.max_vcpus, 8);
    ck_assert_uint_eq(info.online_vcpus, 8);
    ck_assert_uint_eq(info.poolid, 0);
    ck_assert(info.flags & KEEL_DOMF_BLOCKED);
    ck_assert_int_eq(
        keel_hv_store_read(hv, "/local/domain/0/name", &name, &len), 0);
    ck_assert_str_eq(name, "Domain-0");
    ck_assert_uint_eq(len, 8);
    free(name);
    th_assert_err(keel_hv_domain_destroy(hv, 0), KEEL_EPERM, "Domain-0");
    th_assert_err(keel_hv_domain_pause(hv, 0), KEEL_EPERM, "Domain-0");
    th_assert_err(keel_hv_domain_shutdown(hv, 0, KEEL_SHUTDOWN_POWEROFF),
                  KEEL_EPERM, "Domain-0");
}
END_TEST

START_TEST(create_starts_paused_and_charges_memory)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct keel_hv_domain_spec spec = small_spec(KEEL_DOMAIN_PV);
    struct keel_hv_physinfo before, after;
    struct keel_hv_dominfo info;
    uint32_t domid;

    ck_assert_int_eq(keel_hv_physinfo(hv, &before), 0);
    ck_assert_int_eq(keel_hv_domain_create(hv, &spec, &domid), 0);
    ck_assert_uint_eq(domid, 1);
    ck_assert_int_eq(keel_hv_domain_info(hv, domid, &info), 0);
    ck_assert(info.flags & KEEL_DOMF_PAUSED);
    ck_assert_uint_eq(info.pause_count, 1);
    ck_assert_mem_eq(info.uuid, spec.uuid, 16);
    ck_assert_int_eq(info.type, KEEL_DOMAIN_PV);
    ck_assert_uint_eq(info.tot_kb, 64 * 1024);
    ck_assert_int_eq(keel_hv_physinfo(hv, &after), 0);
    ck_assert_uint_eq(before.free_kb - after.free_kb, 64 * 1024);
    ck_assert_int_eq(keel_hv_domain_unpause(hv, domid), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, domid, &info), 0);
    ck_assert(info.flags & KEEL_DOMF_RUNNING);
    th_assert_err(keel_hv_domain_unpause(hv, domid), KEEL_ESTATE, "not paused");
}
END_TEST

START_TEST(create_rejects_bad_specs_and_leaves_nothing)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    struct keel_hv_domain_spec spec;
    struct keel_hv_dominfo infos[4];
    uint32_t domid;
    size_t n;

    spec = small_spec(7);
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_EINVAL,
                  "type");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.max_vcpus = 0;
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_EINVAL,
                  "max_vcpus");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.online_vcpus = 3;
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_EINVAL,
                  "online_vcpus");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.mem_kb = spec.max_kb + 4;
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_EINVAL,
                  "memory");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.mem_kb = 6;
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_EINVAL,
                  "pages");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.poolid = 9;
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_ENOPOOL, "9");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.max_kb = spec.mem_kb = UINT64_C(15) << 20 | 4; /* 15 GiB + 4 KiB */
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_ENOHOSTMEM,
                  "free");
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.domid = KEEL_DOMID_FIRST_RESERVED;
    th_assert_err(keel_hv_domain_create(hv, &spec, &domid), KEEL_EINVAL,
                  "domid");
    ck_assert_int_eq(keel_hv_domain_list(hv, 0, infos, 4, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(count_files(th_path("sim"), "dom-"), 0);
    /* exactly all the free memory is fine */
    spec = small_spec(KEEL_DOMAIN_HVM);
    spec.max_kb = spec.mem_kb = UINT64_C(15) << 20;
    ck_assert_int_eq(keel_hv_domain_create(hv, &spec, &domid), 0);
}
END_TEST

START_TEST(domids_rotate_without_immediate_reuse)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, KEEL_HV_OPEN_MANUAL_CLOCK);
    struct keel_hv_domain_spec spec = small_spec(KEEL_DOMAIN_PVH);
    struct keel_hv_dominfo info;
    uint32_t a, b, c;

    ck_assert_int_eq(keel_hv_domain_create(hv, &spec, &a), 0);
    ck_assert_int_eq(keel_hv_domain_create(hv, &spec, &b), 0);
    ck_assert_uint_eq(b, a + 1);
    ck_assert_int_eq(keel_hv_domain_destroy(hv, a), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, a, &info), 0);
    ck_assert(info.flags & KEEL_DOMF_DYING);
    ck_assert_uint_eq(info.tot_kb, 0);
    th_assert_err(keel_hv_domain_destroy(hv, a), KEEL_ESTATE, "dying");
    ck_assert_int_eq(keel_sim_clock_advance(hv, 1000), 0);
    th_assert_err(keel_hv_domain_info(hv, a, &info), KEEL_ENODOMAIN, "id");
    th_assert_err(keel_hv_domain_destroy(hv, a), KEEL_ENODOMAIN, "id");
    ck_assert_int_eq(keel_hv_domain_create(hv, &spec, &c), 0);
    ck_assert_uint_eq(c, b + 1);
    spec.domid = b;
    th_assert_err(keel_hv_domain_create(hv, &spec, &c), KEEL_EEXIST, "in use");
    spec.domid = 32751;
    ck_assert_int_eq(keel_hv_domain_create(hv, &spec, &c), 0);
    ck_assert_uint_eq(c, 32751);
}
END_TEST

START_TEST(pause_counts_and_shutdown_reasons)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    uint32_t d = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 16384);
    struct keel_hv_dominfo info;

    ck_assert_int_eq(keel_hv_domain_pause(hv, d), 0);
    ck_assert_int_eq(keel_hv_domain_pause(hv, d), 0);
    ck_assert_int_eq(keel_hv_domain_unpause(hv, d), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert_uint_eq(info.pause_count, 1);
    ck_assert(info.flags & KEEL_DOMF_PAUSED);
    ck_assert_int_eq(keel_hv_domain_unpause(hv, d), 0);
    th_assert_err(keel_hv_domain_shutdown(hv, d, 42), KEEL_EINVAL, "reason");
    ck_assert_int_eq(keel_hv_domain_shutdown(hv, d, KEEL_SHUTDOWN_SUSPEND), 0);
    ck_assert_int_eq(keel_hv_domain_shutdown(hv, d, KEEL_SHUTDOWN_CRASH), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert(info.flags & KEEL_DOMF_SHUTDOWN);
    ck_assert_uint_eq(info.shutdown_reason, KEEL_SHUTDOWN_SUSPEND);
    ck_assert(!(info.flags & (KEEL_DOMF_RUNNING | KEEL_DOMF_BLOCKED)));
    ck_assert_int_eq(keel_hv_domain_resume(hv, d), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert(info.flags & KEEL_DOMF_RUNNING);
    th_assert_err(keel_hv_domain_resume(hv, d), KEEL_ESTATE, "suspended");
    th_assert_err(keel_hv_domain_pause(hv, 77), KEEL_ENODOMAIN, "77");
}
END_TEST

START_TEST(max_memory_and_vcpus)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    uint32_t d = th_sim_domain(hv, KEEL_DOMAIN_PV, 3, 8192);
    struct keel_hv_vcpuinfo vi;
    struct keel_hv_dominfo info;
    struct keel_cpumap hard, soft;
    uint64_t max_pfn;

    ck_assert_int_eq(keel_hv_domain_set_max_mem(hv, d, 16384), 0);
    ck_assert_int_eq(keel_hv_mem_max_pfn(hv, d, &max_pfn), 0);
    ck_assert_uint_eq(max_pfn, 16384 / 4 - 1);
    ck_assert_int_eq(keel_hv_domain_set_max_mem(hv, d, 4096), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert_uint_eq(info.max_kb, 4096);
    ck_assert_uint_eq(info.tot_kb, 8192); /* as Xen: only stops growth */
    th_assert_err(keel_hv_domain_set_max_mem(hv, d, 4097), KEEL_EINVAL,
                  "pages");
    keel_cpumap_zero(&hard);
    keel_cpumap_set(&hard, 5);
    keel_cpumap_fill(&soft, 2);
    ck_assert_int_eq(keel_hv_vcpu_set_affinity(hv, d, 1, &hard, &soft), 0);
    ck_assert_int_eq(keel_hv_vcpu_info(hv, d, 1, &vi), 0);
    ck_assert(keel_cpumap_equal(&vi.hard, &hard));
    ck_assert(keel_cpumap_equal(&vi.soft, &soft));
    ck_assert_uint_eq(vi.cpu, 5);
    ck_assert(vi.flags & KEEL_VCPUF_ONLINE);
    ck_assert_int_eq(keel_hv_vcpu_set_affinity(hv, d, 1, NULL, &hard), 0);
    ck_assert_int_eq(keel_hv_vcpu_info(hv, d, 1, &vi), 0);
    ck_assert(keel_cpumap_equal(&vi.hard, &hard));
    ck_assert(keel_cpumap_equal(&vi.soft, &hard));
    th_assert_err(keel_hv_vcpu_info(hv, d, 3, &vi), KEEL_EINVAL, "vCPU 3");
    keel_cpumap_set(&hard, 8);
    th_assert_err(keel_hv_vcpu_set_affinity(hv, d, 0, &hard, NULL), KEEL_ERANGE,
                  "beyond");
}
END_TEST

START_TEST(context_blobs)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    uint32_t pv = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 8192);
    uint32_t hvm = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 8192);
    uint8_t tsc[24] = {1}, page[4096];
    void *buf;
    size_t len;

    ck_assert_int_eq(
        keel_hv_context_get(hv, pv, KEEL_HV_CTX_VCPU, 1, &buf, &len), 0);
    ck_assert_uint_gt(len, 0);
    free(buf);
    th_assert_err(keel_hv_context_get(hv, pv, KEEL_HV_CTX_HVM, 0, &buf, &len),
                  KEEL_ENOENT, "kind");
    ck_assert_int_eq(
        keel_hv_context_get(hv, hvm, KEEL_HV_CTX_HVM_PARAMS, 0, &buf, &len), 0);
    ck_assert_uint_eq(len % 16, 0);
    free(buf);
    ck_assert_int_eq(
        keel_hv_context_get(hv, hvm, KEEL_HV_CTX_CPUID, 0, &buf, &len), 0);
    ck_assert_uint_eq(len % 24, 0);
    free(buf);
    ck_assert_int_eq(
        keel_hv_context_set(hv, hvm, KEEL_HV_CTX_TSC, 0, tsc, sizeof(tsc)), 0);
    ck_assert_int_eq(
        keel_hv_context_get(hv, hvm, KEEL_HV_CTX_TSC, 0, &buf, &len), 0);
    ck_assert_uint_eq(len, 24);
    ck_assert_mem_eq(buf, tsc, 24);
    free(buf);
    th_assert_err(keel_hv_context_set(hv, hvm, KEEL_HV_CTX_TSC, 0, tsc, 23),
                  KEEL_EINVAL, "23 bytes");
    th_assert_err(keel_hv_context_set(hv, hvm, KEEL_HV_CTX_SHARED_INFO, 0, page,
                                      sizeof(page)),
                  KEEL_EINVAL, "hvm");
    th_assert_err(keel_hv_context_set(hv, pv, KEEL_HV_CTX_VCPU, 2, page, 64),
                  KEEL_EINVAL, "vCPU 2");
    th_assert_err(keel_hv_context_set(hv, pv, KEEL_HV_CTX_CPUID, 0, page, 25),
                  KEEL_EINVAL, "25");
}
END_TEST

START_TEST(memory_mapping_and_page_types)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    uint32_t d = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 4096);
    uint64_t pfns[3] = {7, 2, 1023}, bad = 1024;
    uint32_t types[3];
    char hex1[33], hex2[33];
    uint8_t *p;
    void *addr;

    ck_assert_int_eq(keel_sim_memory_digest(hv, d, hex1), 0);
    ck_assert_int_eq(keel_hv_mem_map(hv, d, pfns, 3, true, &addr), 0);
    p = addr;
    p[0] = 0xAA;
    p[4096 + 5] = 0xBB;
    p[2 * 4096 + 4095] = 0xCC;
    ck_assert_int_eq(keel_hv_mem_unmap(hv, addr, 3), 0);
    ck_assert_int_eq(keel_sim_memory_digest(hv, d, hex2), 0);
    ck_assert_str_ne(hex1, hex2);
    ck_assert_int_eq(keel_hv_mem_map(hv, d, &pfns[1], 1, false, &addr), 0);
    ck_assert_uint_eq(((uint8_t *)addr)[5], 0xBB);
    ck_assert_int_eq(keel_hv_mem_unmap(hv, addr, 1), 0);
    th_assert_err(keel_hv_mem_map(hv, d, &bad, 1, false, &addr), KEEL_ERANGE,
                  "1024");
    th_assert_err(keel_hv_mem_map(hv, 0, pfns, 1, false, &addr), KEEL_ENOTSUP,
                  "not simulated");
    ck_assert_int_eq(keel_hv_mem_page_types(hv, d, pfns, 3, types), 0);
    ck_assert_uint_eq(types[0], KEEL_PAGE_NOTAB);
    ck_assert_uint_eq(types[1], KEEL_PAGE_L3TAB);
    th_assert_err(keel_hv_mem_page_types(hv, d, &bad, 1, types), KEEL_ERANGE,
                  "1024");
}
END_TEST

/* Domain events queued for domid (reads and disposes every event). */
static size_t
domain_events(struct keel_hv *hv, uint32_t domid)
{
    struct keel_hv_event evs[32];
    size_t n, i, found = 0;

    ck_assert_int_eq(keel_hv_event_read(hv, evs, 32, &n), 0);
    for (i = 0; i < n; i++)
        found += evs[i].kind == KEEL_HV_EVENT_DOMAIN && evs[i].domid == domid;
    keel_hv_events_dispose(evs, n);
    return found;
}

START_TEST(soft_reset_restarts_vcpu0_in_place)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, KEEL_HV_OPEN_MANUAL_CLOCK);
    uint32_t d = th_sim_domain(hv, KEEL_DOMAIN_HVM, 3, 16384);
    struct keel_hv_dominfo before, info;
    struct keel_hv_vcpuinfo vi;
    struct keel_cpumap hard;

    keel_cpumap_zero(&hard);
    keel_cpumap_set(&hard, 3);
    ck_assert_int_eq(keel_hv_vcpu_set_affinity(hv, d, 1, &hard, NULL), 0);
    ck_assert_int_eq(keel_hv_domain_pause(hv, d), 0);
    ck_assert_int_eq(keel_hv_domain_shutdown(hv, d, KEEL_SHUTDOWN_SOFT_RESET),
                     0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &before), 0);
    domain_events(hv, d);
    ck_assert_int_eq(keel_hv_domain_soft_reset(hv, d), 0);
    ck_assert_uint_eq(domain_events(hv, d), 1);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert(!(info.flags & KEEL_DOMF_SHUTDOWN));
    ck_assert_uint_eq(info.pause_count, 1); /* kept: still paused */
    ck_assert_uint_eq(info.online_vcpus, 1);
    ck_assert_uint_eq(info.max_vcpus, 3);
    ck_assert_mem_eq(info.uuid, before.uuid, 16);
    ck_assert_uint_eq(info.tot_kb, before.tot_kb);
    ck_assert_uint_eq(info.max_kb, before.max_kb);
    ck_assert_uint_eq(info.poolid, before.poolid);
    ck_assert_int_eq(keel_hv_vcpu_info(hv, d, 0, &vi), 0);
    ck_assert(vi.flags & KEEL_VCPUF_ONLINE);
    ck_assert_int_eq(keel_hv_vcpu_info(hv, d, 1, &vi), 0);
    ck_assert(!(vi.flags & KEEL_VCPUF_ONLINE));
    ck_assert(keel_cpumap_equal(&vi.hard, &hard));

    /* It runs again, on vCPU 0 alone. */
    ck_assert_int_eq(keel_hv_domain_unpause(hv, d), 0);
    ck_assert_int_eq(keel_sim_clock_advance(hv, 1000000000), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert(info.flags & KEEL_DOMF_RUNNING);
    ck_assert_uint_eq(info.cpu_time_ns, before.cpu_time_ns + 1000000000);

    /* ... and after a restart. */
    th_sim_close(hv);
    hv = th_sim_open(NULL, NULL, KEEL_HV_OPEN_MANUAL_CLOCK);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert_uint_eq(info.online_vcpus, 1);
    ck_assert(!(info.flags & KEEL_DOMF_SHUTDOWN));
}
END_TEST

START_TEST(soft_reset_needs_a_soft_reset_shutdown)
{
    /* manual clock: a destroyed domain stays dying until time moves */
    struct keel_hv *hv = th_sim_open(NULL, NULL, KEEL_HV_OPEN_MANUAL_CLOCK);
    uint32_t d = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 8192);
    uint32_t e = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 8192);

    th_assert_err(keel_hv_domain_soft_reset(hv, d), KEEL_ESTATE,
                  "has not shut down");
    ck_assert_int_eq(keel_hv_domain_shutdown(hv, d, KEEL_SHUTDOWN_POWEROFF), 0);
    th_assert_err(keel_hv_domain_soft_reset(hv, d), KEEL_ESTATE,
                  "reason poweroff");
    th_assert_err(keel_hv_domain_soft_reset(hv, 0), KEEL_EPERM, "Domain-0");
    th_assert_err(keel_hv_domain_soft_reset(hv, 99), KEEL_ENODOMAIN, "99");
    ck_assert_int_eq(keel_hv_domain_shutdown(hv, e, KEEL_SHUTDOWN_SOFT_RESET),
                     0);
    ck_assert_int_eq(keel_hv_domain_destroy(hv, e), 0);
    th_assert_err(keel_hv_domain_soft_reset(hv, e), KEEL_ESTATE, "dying");
}
END_TEST

START_TEST(set_uuid_renames_in_place)
{
    struct keel_hv *hv = th_sim_open(NULL, NULL, 0);
    uint32_t d = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 8192);
    struct keel_hv_dominfo info;
    uint8_t uuid[16];

    keel_uuid_generate(uuid);
    ck_assert_int_eq(keel_hv_domain_set_uuid(hv, d, uuid), 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert_mem_eq(info.uuid, uuid, 16);
    th_assert_err(keel_hv_domain_set_uuid(hv, 0, uuid), KEEL_EPERM, "Domain-0");
    th_sim_close(hv);
    hv = th_sim_open(NULL, NULL, 0);
    ck_assert_int_eq(keel_hv_domain_info(hv, d, &info), 0);
    ck_assert_mem_eq(info.uuid, uuid, 16);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("sim-domain");
    TCase *tc = th_tcase(s, "domain");

    tcase_add_test(tc, domain0_exists_at_boot);
    tcase_add_test(tc, create_starts_paused_and_charges_memory);
    tcase_add_test(tc, create_rejects_bad_specs_and_leaves_nothing);
    tcase_add_test(tc, domids_rotate_without_immediate_reuse);
    tcase_add_test(tc, pause_counts_and_shutdown_reasons);
    tcase_add_test(tc, max_memory_and_vcpus);
    tcase_add_test(tc, context_blobs);
    tcase_add_test(tc, memory_mapping_and_page_types);
    tcase_add_test(tc, soft_reset_restarts_vcpu0_in_place);
    tcase_add_test(tc, soft_reset_needs_a_soft_reset_shutdown);
    tcase_add_test(tc, set_uuid_renames_in_place);
    return th_run(s);
}

/* test-sim-guest.c: the sim's guest model, domain life cycle, events and
 * watches, through the public keel_hv_* and keel_sim_* API
 *
 * Every sim here is opened with KEEL_HV_OPEN_MANUAL_CLOCK, so simulated
 * time moves only through keel_sim_clock_advance() and every delay can be
 * checked to the nanosecond: a guest must not act one nanosecond before
 * its delay has passed, and must have acted when it has. Events are read
 * and disposed in every test (ASan's leak checker runs at each exit).
 */
#include "config.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define MAX_EVENTS 64

/* --- helpers ----------------------------------------------------------- */

static struct keel_hv *
open_manual(const char *spec)
{
    return th_sim_open(NULL, spec, KEEL_HV_OPEN_MANUAL_CLOCK);
}

static void
advance(struct keel_hv *hv, uint64_t ns)
{
    OK(keel_sim_clock_advance(hv, ns));
}

/* /local/domain/<domid>/<rel>; four buffers in turn, so a few can be live
 * in one expression. */
static const char *
dpath(uint32_t domid, const char *rel)
{
    static char bufs[4][256];
    static unsigned int next;
    char *b = bufs[next++ % 4];

    snprintf(b, sizeof(bufs[0]), "/local/domain/%" PRIu32 "/%s", domid, rel);
    return b;
}

static void
put(struct keel_hv *hv, const char *path, const char *val)
{
    int rc = keel_hv_store_write_str(hv, path, val);

    ck_assert_msg(rc == 0, "write %s: %s", path, keel_ctx_last_error(th_ctx()));
}

static void
assert_store(struct keel_hv *hv, const char *path, const char *want)
{
    char *val = NULL;
    size_t len = 0;
    int rc = keel_hv_store_read(hv, path, &val, &len);

    ck_assert_msg(rc == 0, "read %s: %s", path, keel_ctx_last_error(th_ctx()));
    ck_assert_str_eq(val, want);
    ck_assert_uint_eq(len, strlen(want));
    free(val);
}

static struct keel_hv_dominfo
dom_info(struct keel_hv *hv, uint32_t domid)
{
    struct keel_hv_dominfo info;

    OK(keel_hv_domain_info(hv, domid, &info));
    ck_assert_uint_eq(info.domid, domid);
    return info;
}

static struct keel_hv_vcpuinfo
vcpu_info(struct keel_hv *hv, uint32_t domid, uint32_t vcpu)
{
    struct keel_hv_vcpuinfo info;

    OK(keel_hv_vcpu_info(hv, domid, vcpu, &info));
    return info;
}

static uint64_t
free_kb(struct keel_hv *hv)
{
    struct keel_hv_physinfo pi;

    OK(keel_hv_physinfo(hv, &pi));
    return pi.free_kb;
}

static struct keel_sim_guest
guest_get(struct keel_hv *hv, uint32_t domid)
{
    struct keel_sim_guest g;

    OK(keel_sim_guest_get(hv, domid, &g));
    return g;
}

static uint64_t
delay_ns(struct keel_hv *hv, uint32_t domid)
{
    uint64_t ns = guest_get(hv, domid).shutdown_delay_ms * MS;

    ck_assert_uint_gt(ns, 1);
    return ns;
}

static void
assert_running(struct keel_hv *hv, uint32_t domid)
{
    struct keel_hv_dominfo info = dom_info(hv, domid);

    ck_assert_msg(!(info.flags & KEEL_DOMF_SHUTDOWN),
                  "domain %u shut down (reason %u)", domid,
                  info.shutdown_reason);
    ck_assert(!(info.flags & KEEL_DOMF_DYING));
}

static void
assert_shutdown(struct keel_hv *hv, uint32_t domid,
                enum keel_shutdown_reason reason)
{
    struct keel_hv_dominfo info = dom_info(hv, domid);

    ck_assert_msg(info.flags & KEEL_DOMF_SHUTDOWN,
                  "domain %u has not shut down (flags 0x%x)", domid,
                  info.flags);
    ck_assert_uint_eq(info.shutdown_reason, (uint32_t)reason);
    ck_assert(!(info.flags & (KEEL_DOMF_RUNNING | KEEL_DOMF_BLOCKED)));
}

/* A domain with max_vcpus vCPUs of which online are up, mem_kb of memory
 * and max_kb of ceiling, in Pool-0, unpaused. */
static uint32_t
dom_create(struct keel_hv *hv, uint32_t max_vcpus, uint32_t online,
           uint64_t mem_kb, uint64_t max_kb)
{
    struct keel_hv_domain_spec spec;
    uint32_t domid = KEEL_DOMID_INVALID;

    memset(&spec, 0, sizeof(spec));
    spec.type = KEEL_DOMAIN_HVM;
    OK(keel_uuid_generate(spec.uuid));
    spec.max_vcpus = max_vcpus;
    spec.online_vcpus = online;
    spec.max_kb = max_kb;
    spec.mem_kb = mem_kb;
    spec.poolid = 0;
    spec.domid = KEEL_DOMID_INVALID;
    OK(keel_hv_domain_create(hv, &spec, &domid));
    OK(keel_hv_domain_unpause(hv, domid));
    return domid;
}

static bool
readable(struct keel_hv *hv)
{
    struct pollfd p;
    int r;

    p.fd = keel_hv_event_fd(hv);
    p.events = POLLIN;
    p.revents = 0;
    ck_assert_int_ge(p.fd, 0);
    r = poll(&p, 1, 0);
    ck_assert_int_ge(r, 0);
    return r == 1 && (p.revents & POLLIN);
}

/* Takes up to max events into evs (the caller disposes them). */
static size_t
take(struct keel_hv *hv, struct keel_hv_event *evs, size_t max)
{
    size_t n = 999;

    OK(keel_hv_event_read(hv, evs, max, &n));
    ck_assert_uint_le(n, max);
    return n;
}

/* Asserts that exactly no events wait. */
static void
assert_no_events(struct keel_hv *hv)
{
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n = take(hv, evs, MAX_EVENTS), i;

    for (i = 0; i < n; i++)
        fprintf(stderr, "unexpected event kind %d domid %u path %s\n",
                evs[i].kind, evs[i].domid,
                evs[i].path ? evs[i].path : "(none)");
    keel_hv_events_dispose(evs, n);
    ck_assert_uint_eq(n, 0);
}

static void
assert_domain_event(const struct keel_hv_event *ev, uint32_t domid)
{
    ck_assert_int_eq(ev->kind, KEEL_HV_EVENT_DOMAIN);
    ck_assert_uint_eq(ev->domid, domid);
    ck_assert_ptr_null(ev->path);
    ck_assert_ptr_null(ev->token);
}

static void
assert_watch_event(const struct keel_hv_event *ev, const char *path,
                   const char *token)
{
    ck_assert_int_eq(ev->kind, KEEL_HV_EVENT_WATCH);
    ck_assert_ptr_nonnull(ev->path);
    ck_assert_ptr_nonnull(ev->token);
    ck_assert_str_eq(ev->path, path);
    ck_assert_str_eq(ev->token, token);
}

/* Asserts that exactly one event waits, a watch event for path/token. */
static void
expect_watch(struct keel_hv *hv, const char *path, const char *token)
{
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n = take(hv, evs, MAX_EVENTS);

    ck_assert_uint_eq(n, 1);
    assert_watch_event(&evs[0], path, token);
    keel_hv_events_dispose(evs, n);
}

static void
drain(struct keel_hv *hv)
{
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n = take(hv, evs, MAX_EVENTS);

    keel_hv_events_dispose(evs, n);
}

static void
logdirty_read(struct keel_hv *hv, uint32_t domid, uint8_t *bm, uint64_t nr_pfns,
              uint64_t *dirty_r)
{
    OK(keel_hv_logdirty_read(hv, domid, bm, nr_pfns, 0, dirty_r));
}

static bool
bit(const uint8_t *bm, uint64_t pfn)
{
    return (bm[pfn / 8] >> (pfn % 8)) & 1;
}

/* --- control/shutdown -------------------------------------------------- */

struct request {
    const char *val;
    enum keel_shutdown_reason reason;
};

static const struct request requests[] = {
    {"poweroff", KEEL_SHUTDOWN_POWEROFF},
    {"halt", KEEL_SHUTDOWN_POWEROFF},
    {"reboot", KEEL_SHUTDOWN_REBOOT},
    {"suspend", KEEL_SHUTDOWN_SUSPEND},
};

/* The guest clears the request at once and shuts down exactly when its
 * delay has passed. */
START_TEST(test_request)
{
    const struct request *r = &requests[_i];
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint64_t delay = delay_ns(hv, domid);

    put(hv, dpath(domid, "control/shutdown"), r->val);
    assert_store(hv, dpath(domid, "control/shutdown"), "");
    assert_running(hv, domid);
    advance(hv, delay - 1);
    assert_running(hv, domid);
    ck_assert(dom_info(hv, domid).flags & KEEL_DOMF_RUNNING);
    advance(hv, 1);
    assert_shutdown(hv, domid, r->reason);
    /* Further time changes nothing. */
    advance(hv, 10 * SEC);
    assert_shutdown(hv, domid, r->reason);
}
END_TEST

START_TEST(test_request_delay)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint32_t quick = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);

    g.shutdown_delay_ms = 2500;
    OK(keel_sim_guest_set(hv, domid, &g));
    ck_assert_uint_eq(guest_get(hv, domid).shutdown_delay_ms, 2500);
    g.shutdown_delay_ms = 0;
    OK(keel_sim_guest_set(hv, quick, &g));

    put(hv, dpath(domid, "control/shutdown"), "reboot");
    put(hv, dpath(quick, "control/shutdown"), "poweroff");
    /* No delay: the guest has acted by the next call. */
    assert_shutdown(hv, quick, KEEL_SHUTDOWN_POWEROFF);
    advance(hv, 2500 * MS - 1);
    assert_running(hv, domid);
    advance(hv, 1);
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_REBOOT);
}
END_TEST

/* A guest told to ignore requests neither acknowledges nor acts. */
START_TEST(test_request_ignored)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);

    g.ignore_shutdown = true;
    OK(keel_sim_guest_set(hv, domid, &g));
    put(hv, dpath(domid, "control/shutdown"), "poweroff");
    assert_store(hv, dpath(domid, "control/shutdown"), "poweroff");
    advance(hv, 3600 * SEC);
    assert_running(hv, domid);
    assert_store(hv, dpath(domid, "control/shutdown"), "poweroff");
    /* It can still shut down by itself. */
    OK(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_CRASH));
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_CRASH);
}
END_TEST

/* Requests a guest does not know are left alone, as Linux leaves them. */
START_TEST(test_request_unknown)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);

    put(hv, dpath(domid, "control/shutdown"), "explode");
    advance(hv, 10 * SEC);
    assert_running(hv, domid);
    assert_store(hv, dpath(domid, "control/shutdown"), "explode");
    put(hv, dpath(domid, "control/shutdown"), "");
    advance(hv, 10 * SEC);
    assert_running(hv, domid);
    /* A key below or beside the request is not the request. */
    put(hv, dpath(domid, "control/shutdown/x"), "poweroff");
    put(hv, dpath(domid, "control/shutdownx"), "poweroff");
    put(hv, dpath(domid, "control/reboot"), "reboot");
    advance(hv, 10 * SEC);
    assert_running(hv, domid);
    /* Domain-0 is not a simulated guest. */
    put(hv, dpath(0, "control/shutdown"), "poweroff");
    advance(hv, 10 * SEC);
    assert_running(hv, 0);
    assert_store(hv, dpath(0, "control/shutdown"), "poweroff");
}
END_TEST

/* Only the guest's own key, /local/domain/<domid>/control/shutdown, is a
 * request: "/local/domain/01/..." is another node of the store, which a
 * real guest does not watch. */
START_TEST(test_request_other_path)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    char path[64];

    snprintf(path, sizeof(path), "/local/domain/0%u/control/shutdown", domid);
    put(hv, path, "poweroff");
    advance(hv, 10 * SEC);
    assert_running(hv, domid);
    assert_store(hv, path, "poweroff");
}
END_TEST

/* A paused guest waits: its delay starts when it runs again. */
START_TEST(test_request_paused)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint64_t delay = delay_ns(hv, domid);

    OK(keel_hv_domain_pause(hv, domid));
    put(hv, dpath(domid, "control/shutdown"), "poweroff");
    advance(hv, 10 * SEC);
    assert_running(hv, domid);
    ck_assert(dom_info(hv, domid).flags & KEEL_DOMF_PAUSED);
    OK(keel_hv_domain_unpause(hv, domid));
    advance(hv, delay - 1);
    assert_running(hv, domid);
    advance(hv, 1);
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_POWEROFF);
}
END_TEST

/* A paused guest cannot run its xenbus handler either: the request stays
 * unacknowledged until the guest runs. */
START_TEST(test_request_paused_unacknowledged)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);

    OK(keel_hv_domain_pause(hv, domid));
    put(hv, dpath(domid, "control/shutdown"), "poweroff");
    assert_store(hv, dpath(domid, "control/shutdown"), "poweroff");
    advance(hv, SEC);
    assert_store(hv, dpath(domid, "control/shutdown"), "poweroff");
}
END_TEST

/* A guest that has shut down does not answer. */
START_TEST(test_request_after_shutdown)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);

    OK(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_CRASH));
    put(hv, dpath(domid, "control/shutdown"), "reboot");
    assert_store(hv, dpath(domid, "control/shutdown"), "reboot");
    advance(hv, 10 * SEC);
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_CRASH);
}
END_TEST

START_TEST(test_resume)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    char msg[64];
    uint64_t t;

    snprintf(msg, sizeof(msg), "domain %u is not suspended", domid);
    th_assert_err(keel_hv_domain_resume(hv, domid), KEEL_ESTATE, msg);
    put(hv, dpath(domid, "control/shutdown"), "suspend");
    advance(hv, delay_ns(hv, domid));
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_SUSPEND);
    t = dom_info(hv, domid).cpu_time_ns;
    advance(hv, SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, t);

    OK(keel_hv_domain_resume(hv, domid));
    assert_running(hv, domid);
    ck_assert(dom_info(hv, domid).flags & KEEL_DOMF_RUNNING);
    advance(hv, SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, t + SEC);
    th_assert_err(keel_hv_domain_resume(hv, domid), KEEL_ESTATE, msg);

    /* Only a suspend can be resumed. */
    OK(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_POWEROFF));
    th_assert_err(keel_hv_domain_resume(hv, domid), KEEL_ESTATE,
                  "is not suspended");
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_POWEROFF);
    th_assert_err(keel_hv_domain_resume(hv, 0), KEEL_EPERM,
                  "Domain-0 cannot be resumed");
}
END_TEST

/* --- the guest acting on its own --------------------------------------- */

static const enum keel_shutdown_reason act_reasons[] = {
    KEEL_SHUTDOWN_CRASH,   KEEL_SHUTDOWN_REBOOT,   KEEL_SHUTDOWN_POWEROFF,
    KEEL_SHUTDOWN_SUSPEND, KEEL_SHUTDOWN_WATCHDOG, KEEL_SHUTDOWN_SOFT_RESET,
};

START_TEST(test_act)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_HVM, 2, 32 * MIB_KB);
    uint32_t other = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 32 * MIB_KB);

    OK(keel_sim_guest_act(hv, domid, act_reasons[_i]));
    assert_shutdown(hv, domid, act_reasons[_i]);
    assert_running(hv, other);
    ck_assert(!(dom_info(hv, domid).flags & KEEL_DOMF_PAUSED));
    th_assert_err(keel_sim_guest_act(hv, domid, act_reasons[_i]), KEEL_ESTATE,
                  "is not running, its guest cannot act");
    assert_shutdown(hv, domid, act_reasons[_i]);
}
END_TEST

START_TEST(test_act_errors)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint32_t dying = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    char msg[64];

    OK(keel_hv_domain_pause(hv, domid));
    snprintf(msg, sizeof(msg), "domain %u is not running", domid);
    th_assert_err(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_CRASH),
                  KEEL_ESTATE, msg);
    assert_running(hv, domid);
    OK(keel_hv_domain_unpause(hv, domid));

    th_assert_err(keel_sim_guest_act(hv, domid, (enum keel_shutdown_reason)99),
                  KEEL_EINVAL, "unknown shutdown reason 99");
    assert_running(hv, domid);
    th_assert_err(keel_sim_guest_act(hv, 4242, KEEL_SHUTDOWN_CRASH),
                  KEEL_ENODOMAIN, "no domain with id 4242");
    th_assert_err(keel_sim_guest_act(hv, 0, KEEL_SHUTDOWN_CRASH), KEEL_ESTATE,
                  "domain 0 is not running");
    assert_running(hv, 0);
    OK(keel_hv_domain_destroy(hv, dying));
    th_assert_err(keel_sim_guest_act(hv, dying, KEEL_SHUTDOWN_CRASH),
                  KEEL_ESTATE, "cannot act");

    OK(keel_hv_domain_shutdown(hv, domid, KEEL_SHUTDOWN_REBOOT));
    th_assert_err(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_CRASH),
                  KEEL_ESTATE, "is not running");
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_REBOOT);
    /* As on Xen, a second shutdown changes nothing. */
    OK(keel_hv_domain_shutdown(hv, domid, KEEL_SHUTDOWN_POWEROFF));
    assert_shutdown(hv, domid, KEEL_SHUTDOWN_REBOOT);
}
END_TEST

/* --- vCPU availability ------------------------------------------------- */

START_TEST(test_availability)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = dom_create(hv, 4, 2, 64 * MIB_KB, 64 * MIB_KB);
    struct keel_hv_vcpuinfo v;

    ck_assert_uint_eq(dom_info(hv, domid).online_vcpus, 2);
    ck_assert_uint_eq(dom_info(hv, domid).max_vcpus, 4);
    ck_assert(!(vcpu_info(hv, domid, 2).flags & KEEL_VCPUF_ONLINE));

    put(hv, dpath(domid, "cpu/2/availability"), "online");
    ck_assert_uint_eq(dom_info(hv, domid).online_vcpus, 3);
    v = vcpu_info(hv, domid, 2);
    ck_assert_uint_eq(v.flags, KEEL_VCPUF_ONLINE | KEEL_VCPUF_RUNNING);
    put(hv, dpath(domid, "cpu/3/availability"), "online");
    ck_assert_uint_eq(dom_info(hv, domid).online_vcpus, 4);
    put(hv, dpath(domid, "cpu/0/availability"), "offline");
    ck_assert_uint_eq(dom_info(hv, domid).online_vcpus, 3);
    v = vcpu_info(hv, domid, 0);
    ck_assert_uint_eq(v.flags, 0);

    /* What a guest cannot follow it ignores. */
    put(hv, dpath(domid, "cpu/4/availability"), "online");
    put(hv, dpath(domid, "cpu/1/availability"), "sleepy");
    put(hv, dpath(domid, "cpu/1/availability/x"), "offline");
    put(hv, dpath(domid, "cpu/x/availability"), "offline");
    ck_assert_uint_eq(dom_info(hv, domid).online_vcpus, 3);
    ck_assert(vcpu_info(hv, domid, 1).flags & KEEL_VCPUF_ONLINE);
    th_assert_err(keel_hv_vcpu_info(hv, domid, 4, &v), KEEL_EINVAL,
                  "has no vCPU 4 (it has 4)");
}
END_TEST

/* --- the balloon ------------------------------------------------------- */

START_TEST(test_balloon)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = dom_create(hv, 1, 1, 512 * MIB_KB, GIB_KB);
    uint64_t host_free = free_kb(hv);

    ck_assert_uint_eq(dom_info(hv, domid).tot_kb, 512 * MIB_KB);
    put(hv, dpath(domid, "memory/target"), "786432");
    ck_assert_uint_eq(dom_info(hv, domid).tot_kb, 768 * MIB_KB);
    ck_assert_uint_eq(free_kb(hv), host_free - 256 * MIB_KB);
    /* Never past the maximum. */
    put(hv, dpath(domid, "memory/target"), "2097152");
    ck_assert_uint_eq(dom_info(hv, domid).tot_kb, GIB_KB);
    ck_assert_uint_eq(dom_info(hv, domid).max_kb, GIB_KB);
    put(hv, dpath(domid, "memory/target"), "262144");
    ck_assert_uint_eq(dom_info(hv, domid).tot_kb, 256 * MIB_KB);
    ck_assert_uint_eq(free_kb(hv), host_free + 256 * MIB_KB);
    /* Whole pages only. */
    put(hv, dpath(domid, "memory/target"), "262147");
    ck_assert_uint_eq(dom_info(hv, domid).tot_kb, 256 * MIB_KB);

    /* What a balloon driver cannot parse or reach it ignores. */
    put(hv, dpath(domid, "memory/target"), "lots");
    put(hv, dpath(domid, "memory/target"), "");
    put(hv, dpath(domid, "memory/target"), "-4096");
    put(hv, dpath(domid, "memory/target"), "0");
    ck_assert_uint_eq(dom_info(hv, domid).tot_kb, 256 * MIB_KB);
    /* Domain-0 is not ballooned by the sim. */
    put(hv, dpath(0, "memory/target"), "524288");
    ck_assert_uint_eq(dom_info(hv, 0).tot_kb, GIB_KB);
}
END_TEST

/* The balloon takes no more than the host has free. */
START_TEST(test_balloon_host_limit)
{
    struct keel_hv *hv = open_manual("memory=4G");
    uint32_t a = dom_create(hv, 1, 1, GIB_KB, 3 * GIB_KB);
    uint32_t b = dom_create(hv, 1, 1, 1536 * MIB_KB, 3 * GIB_KB);

    ck_assert_uint_eq(free_kb(hv), 512 * MIB_KB);
    put(hv, dpath(a, "memory/target"), "3145728");
    ck_assert_uint_eq(dom_info(hv, a).tot_kb, 1536 * MIB_KB);
    ck_assert_uint_eq(free_kb(hv), 0);
    put(hv, dpath(b, "memory/target"), "2097152");
    ck_assert_uint_eq(dom_info(hv, b).tot_kb, 1536 * MIB_KB);

    put(hv, dpath(b, "memory/target"), "524288");
    ck_assert_uint_eq(dom_info(hv, b).tot_kb, 512 * MIB_KB);
    ck_assert_uint_eq(free_kb(hv), GIB_KB);
    put(hv, dpath(a, "memory/target"), "3145728");
    ck_assert_uint_eq(dom_info(hv, a).tot_kb, 2560 * MIB_KB);
    ck_assert_uint_eq(free_kb(hv), 0);
}
END_TEST

/* --- CPU time ---------------------------------------------------------- */

START_TEST(test_cpu_time_busy)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    uint64_t t0 = dom_info(hv, domid).cpu_time_ns;

    ck_assert(guest_get(hv, domid).busy);
    ck_assert(dom_info(hv, domid).flags & KEEL_DOMF_RUNNING);
    ck_assert_uint_eq(t0, 0);
    advance(hv, SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, 2 * SEC);
    ck_assert_uint_eq(vcpu_info(hv, domid, 0).cpu_time_ns, SEC);
    ck_assert_uint_eq(vcpu_info(hv, domid, 1).cpu_time_ns, SEC);
    ck_assert(vcpu_info(hv, domid, 1).flags & KEEL_VCPUF_RUNNING);

    /* Only online vCPUs use time. */
    put(hv, dpath(domid, "cpu/1/availability"), "offline");
    advance(hv, 3 * SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, 5 * SEC);
    ck_assert_uint_eq(vcpu_info(hv, domid, 1).cpu_time_ns, SEC);
}
END_TEST

START_TEST(test_cpu_time_idle)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);
    struct keel_hv_dominfo info;

    g.busy = false;
    OK(keel_sim_guest_set(hv, domid, &g));
    info = dom_info(hv, domid);
    ck_assert(info.flags & KEEL_DOMF_BLOCKED);
    ck_assert(!(info.flags & KEEL_DOMF_RUNNING));
    ck_assert(vcpu_info(hv, domid, 0).flags & KEEL_VCPUF_BLOCKED);
    advance(hv, SEC);
    /* 1% of each online vCPU. */
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, 2 * SEC / 100);
    /* Domain-0 idles too. */
    ck_assert_uint_eq(dom_info(hv, 0).cpu_time_ns, 8 * SEC / 100);
}
END_TEST

START_TEST(test_cpu_time_stopped)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_hv_dominfo info;
    struct keel_hv_domain_spec spec;
    uint32_t fresh;

    OK(keel_hv_domain_pause(hv, domid));
    info = dom_info(hv, domid);
    ck_assert(info.flags & KEEL_DOMF_PAUSED);
    ck_assert(!(info.flags & (KEEL_DOMF_RUNNING | KEEL_DOMF_BLOCKED)));
    ck_assert_uint_eq(info.pause_count, 1);
    advance(hv, 5 * SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, 0);
    ck_assert_uint_eq(vcpu_info(hv, domid, 0).flags, KEEL_VCPUF_ONLINE);
    OK(keel_hv_domain_unpause(hv, domid));
    advance(hv, SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, 2 * SEC);
    OK(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_POWEROFF));
    advance(hv, 5 * SEC);
    ck_assert_uint_eq(dom_info(hv, domid).cpu_time_ns, 2 * SEC);

    /* A new domain starts paused and uses no time until unpaused. */
    memset(&spec, 0, sizeof(spec));
    spec.type = KEEL_DOMAIN_PVH;
    spec.max_vcpus = spec.online_vcpus = 1;
    spec.max_kb = spec.mem_kb = 32 * MIB_KB;
    spec.domid = KEEL_DOMID_INVALID;
    OK(keel_hv_domain_create(hv, &spec, &fresh));
    ck_assert_uint_eq(dom_info(hv, fresh).pause_count, 1);
    advance(hv, SEC);
    ck_assert_uint_eq(dom_info(hv, fresh).cpu_time_ns, 0);
    th_assert_err(keel_hv_domain_unpause(hv, domid), KEEL_ESTATE,
                  "is not paused");
}
END_TEST

/* --- dirtying ---------------------------------------------------------- */

/* A rate at or above the working set dirties all of it, and only it. */
START_TEST(test_dirty_saturated)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 16 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);
    uint8_t bm[512];
    uint64_t dirty = 0, max_pfn = 0, pfn;

    OK(keel_hv_mem_max_pfn(hv, domid, &max_pfn));
    ck_assert_uint_eq(max_pfn, 4095);
    g.dirty_rate = 1000;
    g.ws_start = 1024;
    g.ws_pages = 512;
    OK(keel_sim_guest_set(hv, domid, &g));
    OK(keel_hv_logdirty_enable(hv, domid));
    ck_assert(dom_info(hv, domid).flags & KEEL_DOMF_LOGDIRTY);
    advance(hv, SEC);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_eq(dirty, 512);
    for (pfn = 0; pfn < 4096; pfn++)
        ck_assert_msg(bit(bm, pfn) == (pfn >= 1024 && pfn < 1536),
                      "frame %" PRIu64 " is %s", pfn,
                      bit(bm, pfn) ? "dirty" : "clean");
    /* Read-and-clear: nothing is dirty until time moves. */
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_eq(dirty, 0);
}
END_TEST

/* Below saturation the guest dirties rate pages a second at random in its
 * working set; rewriting a hot page does not make it dirtier, so the
 * count is at most the rate. */
START_TEST(test_dirty_rate)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 16 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);
    uint8_t bm[512];
    uint64_t dirty = 0, pfn, n = 0;

    g.dirty_rate = 64;
    g.ws_start = 2048;
    g.ws_pages = 1024;
    OK(keel_sim_guest_set(hv, domid, &g));
    OK(keel_hv_logdirty_enable(hv, domid));
    advance(hv, SEC);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_le(dirty, 64);
    ck_assert_uint_ge(dirty, 56);
    for (pfn = 0; pfn < 4096; pfn++) {
        if (!bit(bm, pfn))
            continue;
        n++;
        ck_assert_msg(pfn >= 2048 && pfn < 3072,
                      "frame %" PRIu64 " outside the working set", pfn);
    }
    ck_assert_uint_eq(n, dirty);
    /* A quarter second is a quarter of the rate. */
    advance(hv, SEC / 4);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_le(dirty, 16);
    ck_assert_uint_ge(dirty, 14);
}
END_TEST

/* ws_pages 0 is every page the domain holds. */
START_TEST(test_dirty_whole_memory)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 16 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);
    uint8_t bm[512];
    uint64_t dirty = 0;

    ck_assert_uint_eq(g.ws_pages, 0);
    g.dirty_rate = 1000000;
    OK(keel_sim_guest_set(hv, domid, &g));
    OK(keel_hv_logdirty_enable(hv, domid));
    advance(hv, SEC);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_eq(dirty, 4096);
}
END_TEST

/* Only a running guest dirties memory. */
START_TEST(test_dirty_only_running)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 16 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid);
    uint8_t bm[512];
    uint64_t dirty = 0;

    g.dirty_rate = 100;
    g.ws_pages = 4096;
    OK(keel_sim_guest_set(hv, domid, &g));
    OK(keel_hv_logdirty_enable(hv, domid));
    OK(keel_hv_domain_pause(hv, domid));
    advance(hv, 10 * SEC);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_eq(dirty, 0);
    OK(keel_hv_domain_unpause(hv, domid));
    advance(hv, SEC);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_gt(dirty, 0);
    OK(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_SUSPEND));
    advance(hv, 10 * SEC);
    logdirty_read(hv, domid, bm, 4096, &dirty);
    ck_assert_uint_eq(dirty, 0);
}
END_TEST

START_TEST(test_guest_set_range)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_HVM, 1, 16 * MIB_KB);
    struct keel_sim_guest g = guest_get(hv, domid), orig = g, got;

    g.ws_start = 4097;
    g.ws_pages = 0;
    th_assert_err(keel_sim_guest_set(hv, domid, &g), KEEL_ERANGE,
                  "working set 4097+0 lies outside domain 1's 4096 frames");
    g.ws_start = 4000;
    g.ws_pages = 97;
    th_assert_err(keel_sim_guest_set(hv, domid, &g), KEEL_ERANGE,
                  "working set 4000+97 lies outside");
    g.ws_start = 1;
    g.ws_pages = UINT64_MAX;
    th_assert_err(keel_sim_guest_set(hv, domid, &g), KEEL_ERANGE,
                  "lies outside");
    g.ws_pages = 0;
    g.shutdown_delay_ms = 3600001;
    th_assert_err(keel_sim_guest_set(hv, domid, &g), KEEL_ERANGE,
                  "shutdown delay 3600001 ms is over an hour");
    got = guest_get(hv, domid);
    ck_assert_uint_eq(got.ws_start, 0);
    ck_assert_uint_eq(got.ws_pages, 0);
    ck_assert_uint_eq(got.shutdown_delay_ms, orig.shutdown_delay_ms);
    ck_assert_uint_eq(got.dirty_rate, orig.dirty_rate);

    g.ws_start = 4000;
    g.ws_pages = 96;
    g.shutdown_delay_ms = 3600000;
    OK(keel_sim_guest_set(hv, domid, &g));
    got = guest_get(hv, domid);
    ck_assert_uint_eq(got.ws_start, 4000);
    ck_assert_uint_eq(got.ws_pages, 96);
    ck_assert_uint_eq(got.shutdown_delay_ms, 3600000);
    th_assert_err(keel_sim_guest_set(hv, 4242, &g), KEEL_ENODOMAIN,
                  "no domain with id 4242");
    th_assert_err(keel_sim_guest_get(hv, 4242, &got), KEEL_ENODOMAIN,
                  "no domain with id 4242");
}
END_TEST

/* --- the event fd ------------------------------------------------------ */

START_TEST(test_event_fd_idle)
{
    struct keel_hv *hv = open_manual(NULL);
    int fd = keel_hv_event_fd(hv);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(keel_hv_event_fd(hv), fd);
    ck_assert(!readable(hv));
    th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    advance(hv, 10 * SEC);
    ck_assert(!readable(hv));
    assert_no_events(hv);
}
END_TEST

START_TEST(test_event_crash)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    OK(keel_sim_guest_act(hv, domid, KEEL_SHUTDOWN_CRASH));
    ck_assert(readable(hv));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 1);
    assert_domain_event(&evs[0], domid);
    keel_hv_events_dispose(evs, n);
    ck_assert(!readable(hv));
    assert_no_events(hv);
}
END_TEST

START_TEST(test_event_shutdown_request)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint64_t delay = delay_ns(hv, domid);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    put(hv, dpath(domid, "control/shutdown"), "poweroff");
    ck_assert(!readable(hv));
    advance(hv, delay - 1);
    ck_assert(!readable(hv));
    advance(hv, 1);
    ck_assert(readable(hv));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 1);
    assert_domain_event(&evs[0], domid);
    keel_hv_events_dispose(evs, n);
    ck_assert(!readable(hv));
}
END_TEST

START_TEST(test_event_destroy)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    OK(keel_hv_domain_destroy(hv, domid));
    ck_assert(!readable(hv));
    advance(hv, 1);
    ck_assert(readable(hv));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 1);
    assert_domain_event(&evs[0], domid);
    keel_hv_events_dispose(evs, n);
    ck_assert(!readable(hv));
}
END_TEST

/* A reader that takes fewer events than wait leaves the rest, and the fd
 * stays readable until they are gone. */
START_TEST(test_event_partial_read)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t a = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint32_t b = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n = 99;

    OK(keel_hv_domain_shutdown(hv, a, KEEL_SHUTDOWN_POWEROFF));
    OK(keel_sim_guest_act(hv, b, KEEL_SHUTDOWN_REBOOT));
    OK(keel_hv_event_read(hv, NULL, 0, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert(readable(hv));
    n = take(hv, evs, 1);
    ck_assert_uint_eq(n, 1);
    assert_domain_event(&evs[0], a);
    keel_hv_events_dispose(evs, n);
    ck_assert(readable(hv));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 1);
    assert_domain_event(&evs[0], b);
    keel_hv_events_dispose(evs, n);
    ck_assert(!readable(hv));
}
END_TEST

/* --- watches ----------------------------------------------------------- */

START_TEST(test_watch_fires_at_once)
{
    struct keel_hv *hv = open_manual(NULL);

    OK(keel_hv_store_watch(hv, "/vm/a", "tok"));
    ck_assert(readable(hv));
    expect_watch(hv, "/vm/a", "tok");
    ck_assert(!readable(hv));
    assert_no_events(hv);
}
END_TEST

START_TEST(test_watch_paths)
{
    struct keel_hv *hv = open_manual(NULL);

    put(hv, "/vm/a/x", "1");
    put(hv, "/vm/b", "1");
    OK(keel_hv_store_watch(hv, "/vm/a", "tok"));
    drain(hv);

    put(hv, "/vm/a", "v");
    ck_assert(readable(hv));
    expect_watch(hv, "/vm/a", "tok");
    put(hv, "/vm/a/x", "2");
    expect_watch(hv, "/vm/a/x", "tok");
    put(hv, "/vm/a/new/deep", "3");
    expect_watch(hv, "/vm/a/new/deep", "tok");
    OK(keel_hv_store_remove(hv, "/vm/a/new"));
    expect_watch(hv, "/vm/a/new", "tok");

    /* Not for siblings, prefixes of a name, or parents written. */
    put(hv, "/vm/b", "2");
    put(hv, "/vm/ab", "2");
    put(hv, "/vm/a-b/c", "2");
    put(hv, "/vm", "2");
    put(hv, "/other", "2");
    OK(keel_hv_store_remove(hv, "/vm/b"));
    ck_assert(!readable(hv));
    assert_no_events(hv);
}
END_TEST

/* Removing a parent removes the watched node: the watch fires. */
START_TEST(test_watch_remove_parent)
{
    struct keel_hv *hv = open_manual(NULL);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    put(hv, "/vm/a/x", "1");
    OK(keel_hv_store_watch(hv, "/vm/a/x", "tok"));
    OK(keel_hv_store_watch(hv, "/elsewhere", "tok2"));
    drain(hv);
    OK(keel_hv_store_remove(hv, "/vm"));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(evs[0].kind, KEEL_HV_EVENT_WATCH);
    ck_assert_str_eq(evs[0].token, "tok");
    ck_assert_msg(!strcmp(evs[0].path, "/vm/a/x") ||
                      !strcmp(evs[0].path, "/vm"),
                  "watch fired for %s", evs[0].path);
    keel_hv_events_dispose(evs, n);
}
END_TEST

/* Several watches on one path each fire, with their own token. */
START_TEST(test_watch_tokens)
{
    struct keel_hv *hv = open_manual(NULL);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    OK(keel_hv_store_watch(hv, "/vm", "one"));
    OK(keel_hv_store_watch(hv, "/vm", "two"));
    OK(keel_hv_store_watch(hv, "/", "root"));
    drain(hv);
    put(hv, "/vm/x", "1");
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 3);
    assert_watch_event(&evs[0], "/vm/x", "one");
    assert_watch_event(&evs[1], "/vm/x", "two");
    assert_watch_event(&evs[2], "/vm/x", "root");
    keel_hv_events_dispose(evs, n);
}
END_TEST

/* The guest's acknowledgement is a write, and fires like one. */
START_TEST(test_watch_sees_acknowledgement)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    const char *path = dpath(domid, "control/shutdown");
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    OK(keel_hv_store_watch(hv, path, "ctl"));
    drain(hv);
    put(hv, path, "reboot");
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 2);
    assert_watch_event(&evs[0], path, "ctl");
    assert_watch_event(&evs[1], path, "ctl");
    keel_hv_events_dispose(evs, n);
    assert_store(hv, path, "");
}
END_TEST

START_TEST(test_watch_release_domain)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t a = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    uint32_t b = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_event evs[MAX_EVENTS];
    size_t n;

    OK(keel_hv_store_watch(hv, "@releaseDomain", "rel"));
    OK(keel_hv_store_watch(hv, "@introduceDomain", "intro"));
    OK(keel_hv_store_watch(hv, "/", "root"));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 3);
    assert_watch_event(&evs[0], "@releaseDomain", "rel");
    assert_watch_event(&evs[1], "@introduceDomain", "intro");
    assert_watch_event(&evs[2], "/", "root");
    keel_hv_events_dispose(evs, n);

    OK(keel_sim_guest_act(hv, a, KEEL_SHUTDOWN_POWEROFF));
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 2);
    assert_domain_event(&evs[0], a);
    assert_watch_event(&evs[1], "@releaseDomain", "rel");
    keel_hv_events_dispose(evs, n);

    /* A dying domain fires when it is gone. */
    OK(keel_hv_domain_destroy(hv, b));
    assert_no_events(hv);
    advance(hv, 1);
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 2);
    assert_domain_event(&evs[0], b);
    assert_watch_event(&evs[1], "@releaseDomain", "rel");
    keel_hv_events_dispose(evs, n);

    OK(keel_hv_domain_destroy(hv, a));
    advance(hv, 1);
    n = take(hv, evs, MAX_EVENTS);
    ck_assert_uint_eq(n, 2);
    assert_domain_event(&evs[0], a);
    assert_watch_event(&evs[1], "@releaseDomain", "rel");
    keel_hv_events_dispose(evs, n);
}
END_TEST

START_TEST(test_watch_errors)
{
    struct keel_hv *hv = open_manual(NULL);

    OK(keel_hv_store_watch(hv, "/vm", "t"));
    th_assert_err(keel_hv_store_watch(hv, "/vm", "t"), KEEL_EEXIST,
                  "a watch on /vm with token t exists");
    OK(keel_hv_store_watch(hv, "/vm", "u"));
    OK(keel_hv_store_watch(hv, "/vm/x", "t"));
    th_assert_err(keel_hv_store_watch(hv, "vm", "t"), KEEL_EINVAL,
                  "is not absolute");
    th_assert_err(keel_hv_store_watch(hv, "@releaseDomains", "t"), KEEL_EINVAL,
                  "is not absolute");
    th_assert_err(keel_hv_store_watch(hv, "/vm/", "t"), KEEL_EINVAL,
                  "ends with '/'");
    th_assert_err(keel_hv_store_unwatch(hv, "/vm", "zz"), KEEL_ENOENT,
                  "no watch on /vm with token zz");
    th_assert_err(keel_hv_store_unwatch(hv, "/nowhere", "t"), KEEL_ENOENT,
                  "no watch on /nowhere with token t");
    th_assert_err(keel_hv_store_watch(hv, "/vm", NULL), KEEL_EINVAL, "NULL");
    drain(hv);
}
END_TEST

START_TEST(test_unwatch)
{
    struct keel_hv *hv = open_manual(NULL);

    OK(keel_hv_store_watch(hv, "/vm", "t"));
    OK(keel_hv_store_watch(hv, "/vm", "u"));
    drain(hv);
    OK(keel_hv_store_unwatch(hv, "/vm", "t"));
    put(hv, "/vm/x", "1");
    expect_watch(hv, "/vm/x", "u");
    OK(keel_hv_store_unwatch(hv, "/vm", "u"));
    put(hv, "/vm/x", "2");
    assert_no_events(hv);
    th_assert_err(keel_hv_store_unwatch(hv, "/vm", "u"), KEEL_ENOENT,
                  "no watch on /vm with token u");
    /* The same watch may be set again, and fires at once again. */
    OK(keel_hv_store_watch(hv, "/vm", "t"));
    expect_watch(hv, "/vm", "t");
}
END_TEST

/* --- destroy and the protected, the unknown ---------------------------- */

START_TEST(test_destroy)
{
    struct keel_hv *hv = open_manual(NULL);
    uint64_t host_free = free_kb(hv);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 256 * MIB_KB);
    struct keel_hv_dominfo info, list[8];
    char file[4096];
    struct stat st;
    size_t n = 0;

    snprintf(file, sizeof(file), "%s/dom-%u.mem", keel_sim_dir(hv), domid);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert_uint_eq(free_kb(hv), host_free - 256 * MIB_KB);
    OK(keel_hv_domain_destroy(hv, domid));
    info = dom_info(hv, domid);
    ck_assert(info.flags & KEEL_DOMF_DYING);
    ck_assert(!(info.flags & (KEEL_DOMF_RUNNING | KEEL_DOMF_BLOCKED)));
    OK(keel_hv_domain_list(hv, 0, list, 8, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(list[1].domid, domid);
    ck_assert(list[1].flags & KEEL_DOMF_DYING);
    th_assert_err(keel_hv_domain_pause(hv, domid), KEEL_ESTATE, "is dying");
    th_assert_err(keel_hv_domain_unpause(hv, domid), KEEL_ESTATE, "is dying");
    th_assert_err(keel_hv_domain_shutdown(hv, domid, KEEL_SHUTDOWN_POWEROFF),
                  KEEL_ESTATE, "is dying");

    advance(hv, 1);
    th_assert_err(keel_hv_domain_info(hv, domid, &info), KEEL_ENODOMAIN,
                  "no domain with id");
    OK(keel_hv_domain_list(hv, 0, list, 8, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(list[0].domid, 0);
    ck_assert_uint_eq(free_kb(hv), host_free);
    ck_assert_int_ne(stat(file, &st), 0);
    drain(hv);
}
END_TEST

START_TEST(test_destroy_twice)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    char msg[64];

    OK(keel_hv_domain_destroy(hv, domid));
    snprintf(msg, sizeof(msg), "domain %u is dying", domid);
    th_assert_err(keel_hv_domain_destroy(hv, domid), KEEL_ESTATE, msg);
    advance(hv, 1);
    snprintf(msg, sizeof(msg), "no domain with id %u", domid);
    th_assert_err(keel_hv_domain_destroy(hv, domid), KEEL_ENODOMAIN, msg);
    drain(hv);
}
END_TEST

/* A shutdown request still pending dies with its domain. */
START_TEST(test_destroy_pending_request)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 1, 32 * MIB_KB);
    struct keel_hv_dominfo info;

    put(hv, dpath(domid, "control/shutdown"), "poweroff");
    OK(keel_hv_domain_destroy(hv, domid));
    ck_assert(!(dom_info(hv, domid).flags & KEEL_DOMF_SHUTDOWN));
    advance(hv, 10 * SEC);
    th_assert_err(keel_hv_domain_info(hv, domid, &info), KEEL_ENODOMAIN,
                  "no domain");
    drain(hv);
}
END_TEST

START_TEST(test_dom0_protected)
{
    struct keel_hv *hv = open_manual(NULL);
    struct keel_hv_dominfo info;

    th_assert_err(keel_hv_domain_destroy(hv, 0), KEEL_EPERM,
                  "Domain-0 cannot be destroyed");
    th_assert_err(keel_hv_domain_pause(hv, 0), KEEL_EPERM,
                  "Domain-0 cannot be paused");
    th_assert_err(keel_hv_domain_unpause(hv, 0), KEEL_EPERM,
                  "Domain-0 cannot be unpaused");
    th_assert_err(keel_hv_domain_shutdown(hv, 0, KEEL_SHUTDOWN_POWEROFF),
                  KEEL_EPERM, "Domain-0 cannot be shut down");
    info = dom_info(hv, 0);
    ck_assert_uint_eq(info.flags, KEEL_DOMF_BLOCKED);
    ck_assert_uint_eq(info.pause_count, 0);
    ck_assert_uint_eq(info.tot_kb, GIB_KB);
    ck_assert_uint_eq(info.online_vcpus, 8);
}
END_TEST

START_TEST(test_unknown_domid)
{
    struct keel_hv *hv = open_manual(NULL);
    struct keel_hv_dominfo info;
    struct keel_hv_vcpuinfo v;
    struct keel_sim_guest g;
    struct keel_cpumap m;
    const char *needle = "no domain with id 4242";
    char hex[33];

    keel_cpumap_fill(&m, 8);
    th_assert_err(keel_hv_domain_info(hv, 4242, &info), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_domain_pause(hv, 4242), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_domain_unpause(hv, 4242), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_domain_destroy(hv, 4242), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_domain_shutdown(hv, 4242, KEEL_SHUTDOWN_POWEROFF),
                  KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_domain_resume(hv, 4242), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_vcpu_info(hv, 4242, 0, &v), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_vcpu_set_affinity(hv, 4242, 0, &m, &m),
                  KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_domain_set_max_mem(hv, 4242, GIB_KB), KEEL_ENODOMAIN,
                  needle);
    th_assert_err(keel_sim_guest_get(hv, 4242, &g), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_sim_guest_act(hv, 4242, KEEL_SHUTDOWN_CRASH),
                  KEEL_ENODOMAIN, needle);
    th_assert_err(keel_hv_logdirty_enable(hv, 4242), KEEL_ENODOMAIN, needle);
    th_assert_err(keel_sim_memory_digest(hv, 4242, hex), KEEL_ENODOMAIN,
                  needle);
    th_assert_err(keel_hv_domain_info(hv, KEEL_DOMID_INVALID, &info),
                  KEEL_ENODOMAIN, "no domain with id");
}
END_TEST

START_TEST(test_affinity)
{
    struct keel_hv *hv = open_manual(NULL);
    uint32_t domid = th_sim_domain(hv, KEEL_DOMAIN_PV, 2, 32 * MIB_KB);
    struct keel_cpumap hard, soft, all, empty;
    struct keel_hv_vcpuinfo v = vcpu_info(hv, domid, 1);

    keel_cpumap_fill(&all, 8);
    keel_cpumap_zero(&empty);
    ck_assert(keel_cpumap_equal(&v.hard, &all));
    ck_assert(keel_cpumap_equal(&v.soft, &all));
    ck_assert_uint_lt(v.cpu, 8);

    keel_cpumap_zero(&hard);
    keel_cpumap_set(&hard, 2);
    keel_cpumap_set(&hard, 3);
    keel_cpumap_zero(&soft);
    keel_cpumap_set(&soft, 3);
    OK(keel_hv_vcpu_set_affinity(hv, domid, 1, &hard, &soft));
    v = vcpu_info(hv, domid, 1);
    ck_assert(keel_cpumap_equal(&v.hard, &hard));
    ck_assert(keel_cpumap_equal(&v.soft, &soft));
    ck_assert_uint_eq(v.cpu, 3); /* soft affinity is preferred */
    /* NULL leaves a map as it is. */
    OK(keel_hv_vcpu_set_affinity(hv, domid, 1, NULL, &all));
    v = vcpu_info(hv, domid, 1);
    ck_assert(keel_cpumap_equal(&v.hard, &hard));
    ck_assert(keel_cpumap_equal(&v.soft, &all));
    OK(keel_hv_vcpu_set_affinity(hv, domid, 1, NULL, &soft));

    /* Refusals leave both maps as they were. */
    keel_cpumap_set(&hard, 8);
    th_assert_err(keel_hv_vcpu_set_affinity(hv, domid, 1, &hard, NULL),
                  KEEL_ERANGE, "affinity names a CPU beyond the host's 8");
    th_assert_err(keel_hv_vcpu_set_affinity(hv, domid, 1, NULL, &hard),
                  KEEL_ERANGE, "beyond the host's 8");
    th_assert_err(keel_hv_vcpu_set_affinity(hv, domid, 1, &empty, &soft),
                  KEEL_EINVAL, "hard affinity has no CPU of pool 0");
    th_assert_err(keel_hv_vcpu_set_affinity(hv, domid, 1, &all, &empty),
                  KEEL_EINVAL, "soft affinity is empty");
    th_assert_err(keel_hv_vcpu_set_affinity(hv, domid, 2, &all, &all),
                  KEEL_EINVAL, "has no vCPU 2 (it has 2)");
    /* A CPU that left the pool is no CPU of the pool. */
    OK(keel_hv_cpupool_remove_cpu(hv, 0, 7));
    keel_cpumap_zero(&hard);
    keel_cpumap_set(&hard, 7);
    th_assert_err(keel_hv_vcpu_set_affinity(hv, domid, 1, &hard, NULL),
                  KEEL_EINVAL, "hard affinity has no CPU of pool 0");
    v = vcpu_info(hv, domid, 1);
    keel_cpumap_zero(&hard);
    keel_cpumap_set(&hard, 2);
    keel_cpumap_set(&hard, 3);
    ck_assert(keel_cpumap_equal(&v.hard, &hard));
    ck_assert(keel_cpumap_equal(&v.soft, &soft));
}
END_TEST

static Suite *
guest_suite(void)
{
    Suite *s = suite_create("sim-guest");
    TCase *tc;

    tc = th_tcase(s, "shutdown");
    tcase_add_loop_test(tc, test_request, 0,
                        (int)(sizeof(requests) / sizeof(requests[0])));
    tcase_add_test(tc, test_request_delay);
    tcase_add_test(tc, test_request_ignored);
    tcase_add_test(tc, test_request_unknown);
    tcase_add_test(tc, test_request_other_path);
    tcase_add_test(tc, test_request_paused);
    tcase_add_test(tc, test_request_paused_unacknowledged);
    tcase_add_test(tc, test_request_after_shutdown);
    tcase_add_test(tc, test_resume);

    tc = th_tcase(s, "act");
    tcase_add_loop_test(tc, test_act, 0,
                        (int)(sizeof(act_reasons) / sizeof(act_reasons[0])));
    tcase_add_test(tc, test_act_errors);

    tc = th_tcase(s, "resources");
    tcase_add_test(tc, test_availability);
    tcase_add_test(tc, test_balloon);
    tcase_add_test(tc, test_balloon_host_limit);
    tcase_add_test(tc, test_cpu_time_busy);
    tcase_add_test(tc, test_cpu_time_idle);
    tcase_add_test(tc, test_cpu_time_stopped);

    tc = th_tcase(s, "dirty");
    tcase_add_test(tc, test_dirty_saturated);
    tcase_add_test(tc, test_dirty_rate);
    tcase_add_test(tc, test_dirty_whole_memory);
    tcase_add_test(tc, test_dirty_only_running);
    tcase_add_test(tc, test_guest_set_range);

    tc = th_tcase(s, "events");
    tcase_add_test(tc, test_event_fd_idle);
    tcase_add_test(tc, test_event_crash);
    tcase_add_test(tc, test_event_shutdown_request);
    tcase_add_test(tc, test_event_destroy);
    tcase_add_test(tc, test_event_partial_read);

    tc = th_tcase(s, "watches");
    tcase_add_test(tc, test_watch_fires_at_once);
    tcase_add_test(tc, test_watch_paths);
    tcase_add_test(tc, test_watch_remove_parent);
    tcase_add_test(tc, test_watch_tokens);
    tcase_add_test(tc, test_watch_sees_acknowledgement);
    tcase_add_test(tc, test_watch_release_domain);
    tcase_add_test(tc, test_watch_errors);
    tcase_add_test(tc, test_unwatch);

    tc = th_tcase(s, "domains");
    tcase_add_test(tc, test_destroy);
    tcase_add_test(tc, test_destroy_twice);
    tcase_add_test(tc, test_destroy_pending_request);
    tcase_add_test(tc, test_dom0_protected);
    tcase_add_test(tc, test_unknown_domid);
    tcase_add_test(tc, test_affinity);
    return s;
}

int
main(void)
{
    return th_run(guest_suite());
}

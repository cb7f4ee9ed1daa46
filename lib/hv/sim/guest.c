/* guest.c: the simulated guest inside each domain
 *
 * A guest does what a Linux guest does with the store: it acts on
 * control/shutdown (clears the key at once, then shuts down after its
 * delay, unless told to ignore requests), brings vCPUs on and off line as
 * cpu/N/availability says, and balloons to memory/target as far as the
 * host's free memory lets it. While it runs it uses CPU time on every
 * online vCPU (all of it when busy, 1% when idle; timeline.c counts it)
 * and dirties memory at its dirty rate over its working set. Paused or
 * shut down, it does nothing; a delayed shutdown waits while the guest is
 * paused. The timeline calls sim_guest_due() when a delayed shutdown
 * falls due or a request left while the guest was paused can be read.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void
sim_guest_default(struct sim_domain *d)
{
    memset(&d->guest, 0, sizeof(d->guest));
    d->guest.shutdown_delay_ms = 100;
    d->guest.busy = true;
}

static void on_shutdown_request(struct sim *s, struct sim_domain *d,
                                const char *path, const char *val);

/* A request written while the guest was paused is read when it runs. */
static void
reread_request(struct sim *s, struct sim_domain *d)
{
    char path[64], *val = NULL;
    size_t len;

    d->request_waiting = false;
    sim_domain_changed(s, d);
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", d->domid);
    if (sim_store_read(s->ctx, s->store, path, &val, &len) == 0)
        on_shutdown_request(s, d, path, val);
    else
        keel_ctx_clear_error(s->ctx); /* no request any more */
    free(val);
}

/* In the step from start to now: reads a request that waited, then acts
 * on a delayed shutdown that has fallen due, having run (and dirtied) up
 * to that moment. */
void
sim_guest_due(struct sim *s, struct sim_domain *d, uint64_t start, uint64_t now)
{
    uint64_t at;

    if (d->request_waiting && sim_domain_runnable(d))
        reread_request(s, d);
    if (d->pending_action < 0 || !sim_domain_runnable(d) ||
        d->pending_at_ns > now)
        return;
    at = d->pending_at_ns > start ? d->pending_at_ns : start;
    sim_domain_settle(d, at);
    if (d->mem.base && d->guest.dirty_rate)
        sim_mem_dirty(s, d, at - start);
    sim_domain_set_shutdown(s, d, (uint32_t)d->pending_action);
}

static int
request_reason(const char *val)
{
    if (!strcmp(val, "poweroff") || !strcmp(val, "halt"))
        return KEEL_SHUTDOWN_POWEROFF;
    if (!strcmp(val, "reboot"))
        return KEEL_SHUTDOWN_REBOOT;
    if (!strcmp(val, "suspend"))
        return KEEL_SHUTDOWN_SUSPEND;
    return -1;
}

static void
on_shutdown_request(struct sim *s, struct sim_domain *d, const char *path,
                    const char *val)
{
    int reason = request_reason(val);

    if (reason < 0 || d->guest.ignore_shutdown || d->shutdown)
        return;
    if (!sim_domain_runnable(d)) { /* seen once the guest runs again */
        d->request_waiting = true;
        sim_domain_changed(s, d);
        return;
    }
    d->request_waiting = false;
    d->pending_action = reason;
    d->pending_at_ns =
        sim_now(s) + (uint64_t)d->guest.shutdown_delay_ms * 1000000u;
    sim_domain_changed(s, d);
    /* The guest acknowledges by clearing the request, as Linux does. */
    if (sim_store_write(s->ctx, s->store, path, "", 0) == 0)
        sim_watch_fire(s, path, false);
}

static void
on_availability(struct sim *s, struct sim_domain *d, uint32_t vcpu,
                const char *val)
{
    bool online;

    if (vcpu >= d->max_vcpus)
        return;
    if (!strcmp(val, "online"))
        online = true;
    else if (!strcmp(val, "offline"))
        online = false;
    else
        return;
    sim_domain_settle(d, s->last_ns);
    d->vcpus[vcpu].online = online;
    sim_domain_changed(s, d);
}

/* The balloon driver: reach the target as far as free memory allows and
 * never past the domain's maximum. */
static void
on_target(struct sim *s, struct sim_domain *d, const char *val)
{
    uint64_t target, free_kb = sim_free_kb(s);

    if (!keel__parse_u64(val, &target))
        return;
    target &= ~UINT64_C(3);
    if (target > d->max_kb)
        target = d->max_kb;
    if (target > d->tot_kb && target - d->tot_kb > free_kb)
        target = d->tot_kb + free_kb;
    if (target < 4)
        return;
    if (d->mem.base && target / 4 > d->mem.nr_pfns &&
        sim_mem_grow(s, d, target / 4))
        return;
    sim_domain_set_tot_kb(s, d, target);
    sim_domain_changed(s, d);
}

/* Reads a number as the toolstack writes it in a path (decimal, no sign,
 * no leading zero) and returns what follows, or NULL. */
static const char *
parse_id(const char *p, uint32_t *id_r)
{
    uint32_t v = 0;
    int n = 0;

    if (*p == '0' && p[1] >= '0' && p[1] <= '9')
        return NULL;
    for (; *p >= '0' && *p <= '9' && n < 6; p++, n++)
        v = v * 10 + (uint32_t)(*p - '0');
    if (n == 0 || n == 6)
        return NULL;
    *id_r = v;
    return p;
}

/* Called after every store write, with the path and the value written
 * (NUL-terminated). */
void
sim_guest_store_written(struct sim *s, const char *path, const char *val)
{
    static const char prefix[] = "/local/domain/";
    struct sim_domain *d;
    uint32_t domid, vcpu;
    const char *rel, *tail;

    if (strncmp(path, prefix, sizeof(prefix) - 1))
        return;
    rel = parse_id(path + sizeof(prefix) - 1, &domid);
    if (!rel || *rel++ != '/')
        return;
    d = sim_domain_find(s, domid);
    if (!d || d->dying || domid == 0)
        return;
    if (!strcmp(rel, "control/shutdown"))
        on_shutdown_request(s, d, path, val);
    else if (!strncmp(rel, "cpu/", 4) && (tail = parse_id(rel + 4, &vcpu)) &&
             !strcmp(tail, "/availability"))
        on_availability(s, d, vcpu, val);
    else if (!strcmp(rel, "memory/target"))
        on_target(s, d, val);
}

int
sim_guest_set(struct sim *s, uint32_t domid, const struct keel_sim_guest *guest)
{
    struct sim_domain *d = sim_domain_get(s, domid);
    uint64_t pages;

    if (!d)
        return KEEL_ENODOMAIN;
    pages = d->mem.nr_pfns;
    if (guest->ws_start > pages || guest->ws_pages > pages - guest->ws_start)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "working set %" PRIu64 "+%" PRIu64
                          " lies outside domain %u's %" PRIu64 " frames",
                          guest->ws_start, guest->ws_pages, domid, pages);
    if (guest->shutdown_delay_ms > 3600000)
        return keel_error(s->ctx, KEEL_ERANGE,
                          "shutdown delay %u ms is over an hour",
                          guest->shutdown_delay_ms);
    sim_domain_settle(d, s->last_ns);
    d->guest = *guest;
    sim_domain_changed(s, d);
    return 0;
}

int
sim_guest_act(struct sim *s, uint32_t domid, enum keel_shutdown_reason reason)
{
    struct sim_domain *d = sim_domain_get(s, domid);

    if (!d)
        return KEEL_ENODOMAIN;
    if (!keel_shutdown_reason_name(reason))
        return keel_error(s->ctx, KEEL_EINVAL, "unknown shutdown reason %d",
                          reason);
    if (domid == 0 || d->dying || d->shutdown || d->pause_count)
        return keel_error(s->ctx, KEEL_ESTATE,
                          "domain %u is not running, its guest cannot act",
                          domid);
    sim_domain_settle(d, s->last_ns);
    sim_domain_set_shutdown(s, d, reason);
    return 0;
}

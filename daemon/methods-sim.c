/* methods-sim.c: sim.*, the sim backend's test controls
 *
 * What tests need to make a simulated guest do what a real one would on
 * its own: stop (power off, reboot, crash, ...), ignore shutdown
 * requests, dirty memory; and a digest to compare two domains' memory.
 * Every method is KD_M_SIM: rpc.c refuses them on any other backend
 * before a handler runs (and the sim calls would say KEEL_ENOTSUP).
 *
 * Checklist when adding a method: as methods.c; a new guest knob is a
 * member of struct keel_sim_guest (<keel/sim.h>) and a row of
 * guest_u64[] or guest_bool[] below.
 */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <keel/sim.h>

#include "keeld.h"

static const char *const domain_only[] = {"domain", NULL};

static int
m_sim_guest_act(struct kd_call *c)
{
    static const char *const names[] = {"domain", "reason", NULL};
    const char *name;
    uint32_t domid;
    int rc, reason;

    if ((rc = kd_params_only(c, names)) ||
        (rc = kd_param_str(c, "reason", true, &name, NULL)))
        return rc;
    if ((reason = keel_shutdown_reason_parse(name)) < 0)
        return kd_fail(c, KD_EPARAMS,
                       "member 'reason' must be \"poweroff\", \"reboot\", "
                       "\"suspend\", \"crash\", \"watchdog\" or "
                       "\"soft_reset\" (got \"%.40s\")",
                       name);
    if ((rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    rc =
        keel_sim_guest_act(c->kd->hv, domid, (enum keel_shutdown_reason)reason);
    if (rc)
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

/* The members of struct keel_sim_guest that sim.guest_set takes. */
struct guest_u64 {
    const char *name;
    size_t off;
    int64_t max;
    bool u32; /* the member is a uint32_t, else a uint64_t */
};

static const struct guest_u64 guest_u64[] = {
    {"shutdown_delay_ms", offsetof(struct keel_sim_guest, shutdown_delay_ms),
     UINT32_MAX, true},
    {"dirty_rate", offsetof(struct keel_sim_guest, dirty_rate), INT64_MAX,
     false},
    {"ws_start", offsetof(struct keel_sim_guest, ws_start), INT64_MAX, false},
    {"ws_pages", offsetof(struct keel_sim_guest, ws_pages), INT64_MAX, false},
};

struct guest_bool {
    const char *name;
    size_t off;
};

static const struct guest_bool guest_bool[] = {
    {"ignore_shutdown", offsetof(struct keel_sim_guest, ignore_shutdown)},
    {"busy", offsetof(struct keel_sim_guest, busy)},
};

/* Applies the members the call gives to *guest; *any_r says whether it
 * gave one. */
static int
guest_apply(struct kd_call *c, struct keel_sim_guest *guest, bool *any_r)
{
    char *base = (char *)guest;
    bool present, b;
    int64_t v;
    size_t i;
    int rc;

    *any_r = false;
    for (i = 0; i < sizeof(guest_u64) / sizeof(guest_u64[0]); i++) {
        const struct guest_u64 *m = &guest_u64[i];

        if ((rc = kd_param_i64(c, m->name, false, 0, m->max, &v, &present)))
            return rc;
        if (present && m->u32)
            *(uint32_t *)(base + m->off) = (uint32_t)v;
        else if (present)
            *(uint64_t *)(base + m->off) = (uint64_t)v;
        *any_r |= present;
    }
    for (i = 0; i < sizeof(guest_bool) / sizeof(guest_bool[0]); i++) {
        if ((rc = kd_param_bool(c, guest_bool[i].name, false, &b, &present)))
            return rc;
        if (present)
            *(bool *)(base + guest_bool[i].off) = b;
        *any_r |= present;
    }
    return 0;
}

static int
m_sim_guest_set(struct kd_call *c)
{
    static const char *const names[] = {
        "domain",     "shutdown_delay_ms", "ignore_shutdown", "busy",
        "dirty_rate", "ws_start",          "ws_pages",        NULL};
    struct keel_sim_guest guest, given;
    uint32_t domid;
    bool any;
    int rc;

    /* Check the members before touching the guest: a bad one changes
     * nothing. */
    memset(&given, 0, sizeof(given));
    if ((rc = kd_params_only(c, names)) || (rc = guest_apply(c, &given, &any)))
        return rc;
    if (!any)
        return kd_fail(c, KD_EPARAMS, "give at least one member to set");
    if ((rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    /* Read, change, write: the members not given keep their values. The
     * domain's calls are serialised (work.c), so nothing of keeld's runs
     * between the two. */
    if ((rc = keel_sim_guest_get(c->kd->hv, domid, &guest)))
        return kd_fail_keel(c, rc);
    (void)guest_apply(c, &guest, &any);
    if ((rc = keel_sim_guest_set(c->kd->hv, domid, &guest)))
        return kd_fail_keel(c, rc);
    return kd_ok(c);
}

static int
m_sim_memory_digest(struct kd_call *c)
{
    uint32_t domid;
    char hex[33];
    int rc;

    if ((rc = kd_params_only(c, domain_only)) ||
        (rc = kd_param_domain(c, "domain", &domid)))
        return rc;
    if ((rc = keel_sim_memory_digest(c->kd->hv, domid, hex)))
        return kd_fail_keel(c, rc);
    yajl_gen_map_open(c->g);
    kd_gen_kv_str(c->g, "digest", hex);
    yajl_gen_map_close(c->g);
    return 0;
}

const struct kd_method kd_methods_sim[] = {
    {"sim.guest_act", m_sim_guest_act, KD_M_SIM | KD_M_WRITE},
    {"sim.guest_set", m_sim_guest_set, KD_M_SIM | KD_M_WRITE},
    {"sim.memory_digest", m_sim_memory_digest, KD_M_SIM},
    {NULL, NULL, 0},
};

/* events.c: the host's events, on_* actions, and lifecycle notifications
 *
 * The loop polls libkeel's event fd (keel_host_event_fd). When it is
 * readable, a worker runs keel_host_events(), which carries out the on_*
 * actions of guests that stopped, whether or not any client is connected,
 * and returns libkeel's events; back on the loop they become "event"
 * notifications to the subscribed connections. One pump runs at a time;
 * a wake-up during a pump runs another after it.
 *
 * libkeel's event types map to the API's (docs/keeld-api.md): created ->
 * started, unpaused -> resumed, shutdown -> shutdown (crashed when the
 * reason is a crash), destroyed -> stopped, restarted and reset ->
 * rebooted; paused, renamed, saved, restored, migrated keep their names.
 * "defined" and "undefined" come from state.c through kd_events_post.
 * Every event goes to the libvirt connections too (libvirt/conn.c maps
 * it to a lifecycle event and detail).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keeld.h"

#define PUMP_BATCH 64

struct kd_events {
    uv_poll_t poll;
    bool polling;
    bool pumping; /* a worker runs keel_host_events */
    bool again;   /* woken while pumping */
    uv_work_t work;
    struct keel_domain_event *evs; /* the pump's result */
    size_t n_evs, cap_evs;
    int rc;
};

static void
gen_event(yajl_gen g, const char *type, uint32_t domid, const uint8_t uuid[16],
          const char *name, const char *reason)
{
    char u[37];

    yajl_gen_map_open(g);
    kd_gen_kv_str(g, "type", type);
    kd_gen_str(g, "domid");
    if (domid == KEEL_DOMID_INVALID)
        yajl_gen_null(g); /* a defined domain that does not run */
    else
        yajl_gen_integer(g, domid);
    if (uuid) {
        keel_uuid_format(uuid, u);
        kd_gen_kv_str(g, "uuid", u);
    }
    if (name)
        kd_gen_kv_str(g, "name", name);
    kd_gen_str(g, "reason");
    if (reason)
        kd_gen_str(g, reason);
    else
        yajl_gen_null(g);
    yajl_gen_map_close(g);
}

static void
send_event(struct keeld *kd, const char *type, uint32_t domid,
           const uint8_t uuid[16], const char *name, const char *reason)
{
    yajl_gen g = kd_gen_new();
    const unsigned char *buf;
    size_t len;
    char *text;

    gen_event(g, type, domid, uuid, name, reason);
    yajl_gen_get_buf(g, &buf, &len);
    text = strndup((const char *)buf, len);
    if (text)
        kd_notify_subscribers(kd, "event", text);
    free(text);
    yajl_gen_free(g);
    kd_lv_event_post(kd, type, domid, uuid, name, reason);
}

void
kd_events_post(struct keeld *kd, const char *type, uint32_t domid,
               const uint8_t uuid[16], const char *name, const char *reason)
{
    log_info("event: %s %s (domain %u)%s%s", name ? name : "?", type, domid,
             reason ? ": " : "", reason ? reason : "");
    send_event(kd, type, domid, uuid, name, reason);
}

void
kd_events_notify_loop(struct keeld *kd, const char *params_json)
{
    kd_notify_subscribers(kd, "event", params_json);
}

static const char *
api_type(const struct keel_domain_event *ev)
{
    switch (ev->type) {
    case KEEL_DOMAIN_EVENT_CREATED:
        return "started";
    case KEEL_DOMAIN_EVENT_PAUSED:
        return "paused";
    case KEEL_DOMAIN_EVENT_UNPAUSED:
        return "resumed";
    case KEEL_DOMAIN_EVENT_SHUTDOWN:
        return ev->reason == KEEL_SHUTDOWN_CRASH ? "crashed" : "shutdown";
    case KEEL_DOMAIN_EVENT_DESTROYED:
        return "stopped";
    case KEEL_DOMAIN_EVENT_RESTARTED:
    case KEEL_DOMAIN_EVENT_RESET:
        return "rebooted";
    case KEEL_DOMAIN_EVENT_RENAMED:
        return "renamed";
    case KEEL_DOMAIN_EVENT_SAVED:
        return "saved";
    case KEEL_DOMAIN_EVENT_RESTORED:
        return "restored";
    case KEEL_DOMAIN_EVENT_MIGRATED:
        return "migrated";
    }
    return "changed";
}

/* Worker: every waiting event, and the actions they call for. */
static void
pump(uv_work_t *req)
{
    struct keeld *kd = req->data;
    struct kd_events *e = kd->events;
    size_t n;

    e->n_evs = 0;
    e->rc = 0;
    do {
        if (e->n_evs + PUMP_BATCH > e->cap_evs) {
            size_t cap = e->cap_evs ? e->cap_evs * 2 : PUMP_BATCH * 2;
            struct keel_domain_event *p = realloc(e->evs, cap * sizeof(*p));

            if (!p)
                break;
            e->evs = p;
            e->cap_evs = cap;
        }
        n = 0;
        e->rc = keel_host_events(kd->host, e->evs + e->n_evs, PUMP_BATCH, &n);
        if (e->rc)
            log_warnx("host events: %s", keel_ctx_last_error(kd->ctx));
        e->n_evs += n;
    } while (n == PUMP_BATCH);
}

static void start_pump(struct keeld *kd);
static void on_host_fd(uv_poll_t *p, int status, int events);

static void
pumped(uv_work_t *req, int status)
{
    struct keeld *kd = req->data;
    struct kd_events *e = kd->events;
    size_t i;

    (void)status;
    for (i = 0; i < e->n_evs; i++) {
        const struct keel_domain_event *ev = &e->evs[i];
        const char *reason = ev->type == KEEL_DOMAIN_EVENT_SHUTDOWN
                                 ? keel_shutdown_reason_name(ev->reason)
                                 : NULL;

        log_info("event: %s %s (domain %u)%s%s", ev->name, api_type(ev),
                 ev->domid, reason ? ": " : "", reason ? reason : "");
        /* A restart's event names the domain that runs now. */
        send_event(kd, api_type(ev),
                   ev->type == KEEL_DOMAIN_EVENT_RESTARTED &&
                           ev->new_domid != KEEL_DOMID_INVALID
                       ? ev->new_domid
                       : ev->domid,
                   ev->uuid, ev->name, reason);
    }
    e->pumping = false;
    if (e->polling)
        uv_poll_start(&e->poll, UV_READABLE, on_host_fd);
    if (e->again && !kd->stopping) {
        e->again = false;
        start_pump(kd);
    }
}

static void
start_pump(struct keeld *kd)
{
    struct kd_events *e = kd->events;

    if (e->pumping) {
        e->again = true;
        return;
    }
    e->pumping = true;
    e->work.data = kd;
    /* The fd stays readable until the pump has read what woke it: no
     * polling meanwhile, or every loop pass would wake for it. */
    if (e->polling)
        uv_poll_stop(&e->poll);
    if (uv_queue_work(kd->loop, &e->work, pump, pumped) != 0) {
        e->pumping = false;
        if (e->polling)
            uv_poll_start(&e->poll, UV_READABLE, on_host_fd);
    }
}

static void
on_host_fd(uv_poll_t *p, int status, int events)
{
    struct keeld *kd = p->data;

    (void)status;
    (void)events;
    start_pump(kd);
}

int
kd_events_start_loop(struct keeld *kd)
{
    struct kd_events *e = calloc(1, sizeof(*e));
    int fd, r;

    if (!e)
        return -1;
    kd->events = e;
    fd = keel_host_event_fd(kd->host);
    if (fd < 0) {
        log_err("the host has no event descriptor");
        return -1;
    }
    r = uv_poll_init(kd->loop, &e->poll, fd);
    if (r == 0)
        r = uv_poll_start(&e->poll, UV_READABLE, on_host_fd);
    if (r) {
        log_err("polling the host's events: %s", uv_strerror(r));
        return -1;
    }
    e->poll.data = kd;
    e->polling = true;
    start_pump(kd); /* what happened while keeld was down */
    return 0;
}

void
kd_events_stop_loop(struct keeld *kd)
{
    struct kd_events *e = kd->events;

    if (e && e->polling) {
        uv_poll_stop(&e->poll);
        uv_close((uv_handle_t *)&e->poll, NULL);
        e->polling = false;
    }
}

void
kd_events_free(struct keeld *kd)
{
    if (kd->events) {
        free(kd->events->evs);
        free(kd->events);
        kd->events = NULL;
    }
}

/* --- methods --- */

static int
subscribe(struct kd_call *c)
{
    int rc = kd_params_only(c, (const char *const[]){NULL});

    if (rc)
        return rc;
    c->conn->subscribed = true;
    return kd_ok(c);
}

static int
unsubscribe(struct kd_call *c)
{
    int rc = kd_params_only(c, (const char *const[]){NULL});

    if (rc)
        return rc;
    c->conn->subscribed = false;
    return kd_ok(c);
}

const struct kd_method kd_methods_events[] = {
    {"events.subscribe", subscribe, KD_M_LOOP},
    {"events.unsubscribe", unsubscribe, KD_M_LOOP},
    {NULL, NULL, 0},
};

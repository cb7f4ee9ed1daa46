/* conn.c: libvirt packets on keeld's loop: framing, checks, keepalive,
 * dispatch, replies and lifecycle event messages
 *
 * control.c hands over the bytes a libvirt connection sent; whole
 * packets are taken off by their length word. A length under a header's
 * or over the limit (the smaller of libvirt's 32 MiB and keeld's
 * --max-message, plus the header) cannot be resynchronised: the
 * connection is closed, as libvirtd does. Anything else that is wrong
 * with a packet (another program or version, a type that is not a call,
 * arguments that do not decode) gets a REPLY with status ERROR and the
 * connection goes on. Keepalive PINGs get a PONG on the loop.
 *
 * A call becomes a struct kd_call that work.c runs like a JSON-RPC call,
 * keyed by the domain's name so that calls on one domain run in order;
 * the procedures that read or change the connection's own state (open,
 * event callbacks) run here on the loop. Replies may leave out of order,
 * each with its call's serial, as the protocol allows.
 *
 * Events: events.c hands every event to kd_lv_event_post (any thread),
 * which moves it to the loop through control.c's mailbox; there it
 * becomes a DOMAIN_EVENT_CALLBACK_LIFECYCLE message per matching
 * callback of each open connection (and the legacy message 107 for
 * clients that registered the old way). libvirt's lifecycle is coarser
 * than keel's: a guest's shutdown and the destroy its on_poweroff does
 * are one STOPPED/SHUTDOWN; a reboot, which keeps the domain, is only
 * the STARTED/BOOTED of its new domid (map_event, follows_shutdown).
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lv.h"

/* --- errors --- */

int
lv_fail(struct lv_call *lc, int code, const char *fmt, ...)
{
    va_list ap;

    if (lc->vir_code) /* the first error wins */
        return -1;
    lc->vir_code = code;
    va_start(ap, fmt);
    if (vasprintf(&lc->vir_msg, fmt, ap) < 0)
        lc->vir_msg = NULL;
    va_end(ap);
    return -1;
}

int
lv_error_from_keel(int code)
{
    switch (code) {
    case KEEL_ENODOMAIN:
        return VIR_ERR_NO_DOMAIN;
    case KEEL_ESTATE:
        return VIR_ERR_OPERATION_INVALID;
    case KEEL_ESYNTAX:
        return VIR_ERR_XML_ERROR;
    case KEEL_EINVAL:
    case KEEL_ERANGE:
    case KEEL_E2BIG:
    case KD_EPARAMS:
        return VIR_ERR_INVALID_ARG;
    case KEEL_EEXIST:
        return VIR_ERR_OPERATION_FAILED;
    case KEEL_ENOTSUP:
        return VIR_ERR_ARGUMENT_UNSUPPORTED;
    case KEEL_ENOMEM:
        return VIR_ERR_NO_MEMORY;
    case KEEL_ETIMEDOUT:
        return VIR_ERR_OPERATION_TIMEOUT;
    case KD_ESHUTDOWN:
    case KEEL_ENOHOSTMEM:
    case KEEL_EBUSY:
    case KEEL_ELOCKED:
        return VIR_ERR_OPERATION_FAILED;
    default:
        return VIR_ERR_INTERNAL_ERROR;
    }
}

/* Where an error came from (virErrorDomain): the protocol's own faults
 * from RPC, everything about domains and the host from Xen. */
static int
error_domain(int code)
{
    return code == VIR_ERR_RPC ? VIR_FROM_RPC : VIR_FROM_XEN;
}

static struct lv_header
reply_header(const struct lv_header *call, int32_t status)
{
    struct lv_header h = *call;

    h.type = LV_REPLY;
    h.status = status;
    return h;
}

/* An error reply to a packet that never became a call. */
static void
reply_error_loop(struct kd_conn *c, const struct lv_header *call, int code,
                 const char *message)
{
    struct lv_header h = reply_header(call, LV_ERROR);
    struct lv_writer w;

    lv_writer_init(&w);
    lv_packet_begin(&w, &h);
    lv_put_error(&w, code, error_domain(code), message);
    if (lv_packet_end(&w) == 0)
        kd_conn_send_raw_loop(c, w.p, w.len);
    lv_writer_dispose(&w);
}

/* --- connections --- */

struct kd_lv_conn *
kd_lv_conn_new(bool ro)
{
    struct kd_lv_conn *lv = calloc(1, sizeof(*lv));

    if (lv)
        lv->ro = ro;
    return lv;
}

void
kd_lv_conn_free(struct kd_lv_conn *lv)
{
    if (!lv)
        return;
    free(lv->uri);
    free(lv);
}

/* The largest packet, length word included. */
static size_t
packet_limit(const struct keeld *kd)
{
    size_t max = kd->opts.max_message + LV_HEADER_SIZE;

    if (max > LV_MESSAGE_MAX)
        max = LV_MESSAGE_MAX;
    return max + LV_LEN_SIZE;
}

/* --- calls --- */

static void
lv_call_free(struct lv_call *lc)
{
    lv_args_dispose(&lc->args);
    lv_writer_dispose(&lc->out);
    free(lc->vir_msg);
    free(lc);
}

static int
run_proc(struct kd_call *call)
{
    struct lv_call *lc = call->priv;

    return lc->proc->fn(lc);
}

/* What work.c runs for every libvirt call. */
static const struct kd_method lv_method = {"libvirt", run_proc, 0};

/* Replies (the result, or the error in libvirt's terms) and frees the
 * call. Loop thread. */
static void
complete_loop(struct kd_call *call)
{
    struct lv_call *lc = call->priv;
    struct kd_conn *c = call->conn;
    const char *msg = lc->vir_msg;
    int code = lc->vir_code;

    if (!code && call->code) {
        code = lv_error_from_keel(call->code);
        msg = call->message;
    }
    if (!code && lv_packet_end(&lc->out)) {
        code = VIR_ERR_INTERNAL_ERROR;
        msg = "the reply is larger than a libvirt message may be";
    }
    if (code) {
        struct lv_header h = reply_header(&lc->hdr, LV_ERROR);

        lc->out.oom = false;
        lv_packet_begin(&lc->out, &h);
        lv_put_error(&lc->out, code, error_domain(code),
                     msg ? msg : "the call failed");
        lv_packet_end(&lc->out);
    }
    if (!c->closing && !lc->out.oom)
        kd_conn_send_raw_loop(c, lc->out.p, lc->out.len);
    lv_call_free(lc);
    call->priv = NULL;
    kd_conn_unref_loop(c);
    kd_call_free(call);
}

/* Calls on one domain run in arrival order: keyed by its name. */
static void
make_key(struct kd_call *call, const struct lv_call *lc)
{
    call->key[0] = '\0';
    if (lc->args.has_dom && lc->args.dom.name)
        snprintf(call->key, sizeof(call->key), "n:%.127s", lc->args.dom.name);
}

/* Why a call may not run now, as a libvirt error, or 0. */
static int
refusal(struct kd_conn *c, const struct lv_proc *p, const char **msg_r)
{
    if (!c->lv->opened && !(p->flags & LV_P_PREOPEN)) {
        *msg_r = "the connection is not open: CONNECT_OPEN comes first";
        return VIR_ERR_NO_CONNECT;
    }
    if (c->lv->ro && (p->flags & LV_P_WRITE)) {
        *msg_r = "operation forbidden: read only access prevents this";
        return VIR_ERR_OPERATION_DENIED;
    }
    if (c->kd->stopping) {
        *msg_r = "keeld is shutting down";
        return VIR_ERR_OPERATION_FAILED;
    }
    return 0;
}

static void
dispatch_loop(struct kd_conn *c, const struct lv_header *h,
              const struct lv_proc *p, const uint8_t *payload, size_t len)
{
    struct kd_call *call = calloc(1, sizeof(*call));
    struct lv_call *lc = calloc(1, sizeof(*lc));
    struct lv_header rh = reply_header(h, LV_OK);

    if (!call || !lc) {
        free(call);
        free(lc);
        reply_error_loop(c, h, VIR_ERR_NO_MEMORY, "out of memory");
        return;
    }
    if (lv_args_decode(p->layout, payload, len, &lc->args)) {
        lv_call_free(lc);
        free(call);
        reply_error_loop(c, h, VIR_ERR_RPC,
                         "cannot decode the arguments of the call");
        return;
    }
    lc->call = call;
    lc->proc = p;
    lc->hdr = *h;
    lc->ro = c->lv->ro;
    lv_packet_begin(&lc->out, &rh);
    call->kd = c->kd;
    call->conn = c;
    call->conn_id = c->id;
    call->method = &lv_method;
    call->priv = lc;
    call->complete = complete_loop;
    kd_conn_ref_loop(c);
    if (p->flags & LV_P_WRITE)
        log_info("conn %" PRIu64 " (uid %u, pid %d): libvirt %s", c->id,
                 (unsigned)c->uid, (int)c->pid, p->name);
    if (p->flags & LV_P_LOOP) {
        p->fn(lc);
        complete_loop(call);
        return;
    }
    make_key(call, lc);
    kd_work_submit_loop(c->kd, call);
}

static void
keepalive_loop(struct kd_conn *c, const struct lv_header *h)
{
    struct lv_header pong = {LV_KEEPALIVE_PROGRAM,
                             LV_KEEPALIVE_VERSION,
                             LV_KEEPALIVE_PONG,
                             LV_MESSAGE,
                             0,
                             LV_OK};
    struct lv_writer w;

    if (h->proc != LV_KEEPALIVE_PING)
        return; /* a PONG, or nothing we know: the traffic was enough */
    lv_writer_init(&w);
    lv_packet_begin(&w, &pong);
    if (lv_packet_end(&w) == 0)
        kd_conn_send_raw_loop(c, w.p, w.len);
    lv_writer_dispose(&w);
}

/* One whole packet: p is the header, len what follows the length word. */
static void
packet_loop(struct kd_conn *c, const uint8_t *p, size_t len)
{
    const struct lv_proc *proc;
    struct lv_header h;
    const char *msg = NULL;
    char buf[96];
    int code;

    if (lv_header_decode(p, len, &h))
        return; /* cannot happen: the framing checked the size */
    if (h.prog == LV_KEEPALIVE_PROGRAM && h.type == LV_MESSAGE) {
        keepalive_loop(c, &h);
        return;
    }
    if (h.type != LV_CALL && h.type != LV_CALL_WITH_FDS) {
        log_debug("conn %" PRIu64 ": libvirt packet of type %d ignored", c->id,
                  (int)h.type);
        return; /* nothing to answer: only calls get replies */
    }
    if (h.prog != LV_PROGRAM || h.vers != LV_PROGRAM_VERSION) {
        snprintf(buf, sizeof(buf), "unknown program 0x%x version %u",
                 (unsigned)h.prog, (unsigned)h.vers);
        reply_error_loop(c, &h, VIR_ERR_RPC, buf);
        return;
    }
    if (h.type == LV_CALL_WITH_FDS || h.status != LV_OK) {
        reply_error_loop(c, &h, VIR_ERR_RPC,
                         h.status != LV_OK ? "a call must have status OK"
                                           : "keeld takes no file descriptors");
        return;
    }
    if (!(proc = lv_proc_find(h.proc))) {
        snprintf(buf, sizeof(buf),
                 "this function is not supported by keeld: procedure %d",
                 (int)h.proc);
        reply_error_loop(c, &h, VIR_ERR_NO_SUPPORT, buf);
        return;
    }
    if ((code = refusal(c, proc, &msg))) {
        reply_error_loop(c, &h, code, msg);
        return;
    }
    dispatch_loop(c, &h, proc, p + LV_HEADER_SIZE, len - LV_HEADER_SIZE);
}

void
kd_lv_input_loop(struct kd_conn *c)
{
    size_t start = 0, limit = packet_limit(c->kd);
    uint32_t n;

    while (c->in_len - start >= LV_LEN_SIZE) {
        if (c->closing || c->flush_close || c->draining)
            return;
        n = lv_packet_len(c->in + start);
        if (n < LV_LEN_SIZE + LV_HEADER_SIZE || n > limit) {
            log_warnx("conn %" PRIu64 ": libvirt packet of %" PRIu32
                      " bytes (%zu to %zu allowed): closed",
                      c->id, n, (size_t)LV_LEN_SIZE + LV_HEADER_SIZE, limit);
            kd_conn_close_loop(c);
            return;
        }
        if (c->in_len - start < n)
            break;
        packet_loop(c, (const uint8_t *)c->in + start + LV_LEN_SIZE,
                    n - LV_LEN_SIZE);
        start += n;
    }
    if (c->closing)
        return;
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
}

/* --- events --- */

struct lv_event {
    char type[16];   /* events.c's */
    char reason[16]; /* "" for none */
    uint32_t domid;
    int32_t event, detail;
    int32_t id; /* -1: not running */
    uint8_t uuid[16];
    char name[KEEL_NAME_MAX + 1];
};

/* libvirt's event and detail for one of events.c's types; false for an
 * event libvirt's lifecycle has no counterpart for (a rename; a reboot,
 * which keeps the domain; a save or a migration, whose "stopped"
 * follows). */
static bool
map_event(const char *type, const char *reason, int32_t *event_r,
          int32_t *detail_r)
{
    static const struct {
        const char *type;
        int32_t event, detail;
    } map[] = {
        {"defined", VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED},
        {"undefined", VIR_DOMAIN_EVENT_UNDEFINED,
         VIR_DOMAIN_EVENT_UNDEFINED_REMOVED},
        {"started", VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED},
        {"restored", VIR_DOMAIN_EVENT_STARTED,
         VIR_DOMAIN_EVENT_STARTED_RESTORED},
        {"paused", VIR_DOMAIN_EVENT_SUSPENDED,
         VIR_DOMAIN_EVENT_SUSPENDED_PAUSED},
        {"resumed", VIR_DOMAIN_EVENT_RESUMED,
         VIR_DOMAIN_EVENT_RESUMED_UNPAUSED},
        {"shutdown", VIR_DOMAIN_EVENT_STOPPED,
         VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN},
        {"crashed", VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED},
        {"stopped", VIR_DOMAIN_EVENT_STOPPED,
         VIR_DOMAIN_EVENT_STOPPED_DESTROYED},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(type, map[i].type))
            continue;
        if (!strcmp(type, "shutdown") && reason && strcmp(reason, "poweroff"))
            return false; /* a reboot, a suspend, a watchdog: not a stop */
        *event_r = map[i].event;
        *detail_r = map[i].detail;
        if (!strcmp(type, "defined") && reason && !strcmp(reason, "updated"))
            *detail_r = VIR_DOMAIN_EVENT_DEFINED_UPDATED;
        return true;
    }
    return false;
}

static void
send_message_loop(struct kd_conn *c, int32_t proc, int32_t cb_id,
                  const struct lv_event *ev)
{
    /* libvirtd sends its domain events with serial 1; clients ignore it */
    struct lv_header h = {LV_PROGRAM, LV_PROGRAM_VERSION, proc, LV_MESSAGE, 1,
                          LV_OK};
    struct lv_writer w;

    lv_writer_init(&w);
    lv_packet_begin(&w, &h);
    if (proc == LV_DOMAIN_EVENT_CALLBACK_LIFECYCLE)
        lv_put_i32(&w, cb_id);
    lv_put_domain(&w, ev->name, ev->uuid, ev->id);
    lv_put_i32(&w, ev->event);
    lv_put_i32(&w, ev->detail);
    if (lv_packet_end(&w) == 0)
        kd_conn_send_raw_loop(c, w.p, w.len);
    lv_writer_dispose(&w);
}

/* Every callback of c that wants ev. A client that does not read loses
 * its events past --max-queued, as JSON-RPC subscribers do. */
static void
deliver_loop(struct kd_conn *c, const struct lv_event *ev)
{
    struct kd_lv_conn *lv = c->lv;
    unsigned i;

    if (!lv->opened || c->closing || c->flush_close)
        return;
    if (c->queued > c->kd->opts.max_queued) {
        if (c->dropped++ == 0)
            log_warnx("conn %" PRIu64 " does not read: dropping its events",
                      c->id);
        return;
    }
    for (i = 0; i < lv->n_cbs; i++)
        if (!lv->cbs[i].has_dom || !memcmp(lv->cbs[i].uuid, ev->uuid, 16))
            send_message_loop(c, LV_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                              lv->cbs[i].id, ev);
    if (lv->legacy_events)
        send_message_loop(c, LV_DOMAIN_EVENT_LIFECYCLE, 0, ev);
}

/* A guest that shut down (or crashed) is then destroyed by its on_*
 * action: libvirt clients see one event, the shutdown's, so the
 * "stopped" that follows it is swallowed. Returns whether ev is such a
 * "stopped"; remembers the domains that shut down. */
static bool
follows_shutdown(struct keeld *kd, const struct lv_event *ev)
{
    unsigned i, n = kd->n_lv_stopping;

    if (!strcmp(ev->type, "shutdown") || !strcmp(ev->type, "crashed")) {
        if (n == sizeof(kd->lv_stopping) / sizeof(kd->lv_stopping[0]))
            n--; /* forget the oldest */
        memmove(kd->lv_stopping + 1, kd->lv_stopping,
                n * sizeof(kd->lv_stopping[0]));
        kd->lv_stopping[0] = ev->domid;
        kd->n_lv_stopping = n + 1;
        return false;
    }
    if (strcmp(ev->type, "stopped"))
        return false;
    for (i = 0; i < n; i++)
        if (kd->lv_stopping[i] == ev->domid) {
            kd->lv_stopping[i] = kd->lv_stopping[--kd->n_lv_stopping];
            return true;
        }
    return false;
}

static void
event_loop(struct keeld *kd, void *arg)
{
    struct lv_event *ev = arg;
    struct kd_conn *c;

    if (!follows_shutdown(kd, ev) &&
        map_event(ev->type, ev->reason[0] ? ev->reason : NULL, &ev->event,
                  &ev->detail))
        for (c = kd->conns; c; c = c->next)
            if (c->lv)
                deliver_loop(c, ev);
    free(ev);
}

void
kd_lv_event_post(struct keeld *kd, const char *type, uint32_t domid,
                 const uint8_t uuid[16], const char *name, const char *reason)
{
    struct lv_event *ev;

    if (!uuid || !(ev = calloc(1, sizeof(*ev))))
        return;
    snprintf(ev->type, sizeof(ev->type), "%s", type);
    snprintf(ev->reason, sizeof(ev->reason), "%s", reason ? reason : "");
    ev->domid = domid;
    ev->id = !strcmp(type, "stopped") || !strcmp(type, "shutdown") ||
                     !strcmp(type, "crashed") || domid == KEEL_DOMID_INVALID
                 ? -1
                 : (int32_t)domid;
    memcpy(ev->uuid, uuid, 16);
    snprintf(ev->name, sizeof(ev->name), "%s", name ? name : "");
    kd_run_on_loop(kd, event_loop, ev);
}

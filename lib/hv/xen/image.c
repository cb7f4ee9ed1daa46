/* image.c: the domain image of save, restore and migration, written and
 * read by libxenguest
 *
 * keel writes the toolstack's layers of a stream (the xl header with the
 * config, the libxl container and its records) and hands the descriptor
 * to xc_domain_save / xc_domain_restore for the image in between, so
 * keel's files and Xen's are the same bytes where Xen defines them.
 *
 * These ops run without the hv handle's lock (hv.h), beside other ops
 * (a migration within the host runs a save and a restore at once): each
 * opens a xenctrl and a xenstore handle of its own, with a logger of its
 * own, and leaves struct xen alone.
 *
 * Suspending: libxenguest asks (the suspend callback) once the live
 * passes are over, or at once for a plain save. The guest is asked as
 * Xen's toolstack asks it, "suspend" in control/shutdown, and the
 * callback waits until Xen reports it shut down with reason suspend.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen.h"

/* How long a guest may take to suspend itself: Xen's toolstack allows a
 * minute; under emulation a guest is slower still. */
#define SUSPEND_TIMEOUT_MS (120 * 1000)

struct image {
    struct xen *x;
    struct xen_log log; /* libxenguest's messages for this op alone */
    xc_interface *xch;
    struct xs_handle *xsh;
    uint32_t domid;
    bool suspended;
    struct xen_rings rings;
    const struct keel_hv_image_policy *policy; /* save: NULL for Xen's */
    uint64_t written;                          /* pages, by libxenguest */
};

static int
image_open(struct xen *x, uint32_t domid, struct image *im)
{
    memset(im, 0, sizeof(*im));
    im->x = x;
    im->domid = domid;
    xen_log_init(&im->log, x->ctx);
    im->xch = xen_xc_open(&im->log);
    if (!im->xch) {
        xen_log_dispose(&im->log);
        return keel_error_errno(x->ctx, KEEL_EIO,
                                "opening Xen's control interface");
    }
    im->xsh = xs_open(0);
    if (!im->xsh) {
        xc_interface_close(im->xch);
        xen_log_dispose(&im->log);
        return keel_error_errno(x->ctx, KEEL_EIO, "connecting to xenstored");
    }
    return 0;
}

static void
image_close(struct image *im)
{
    xs_close(im->xsh);
    xc_interface_close(im->xch);
    xen_log_dispose(&im->log);
}

/* --- save --- */

/* 0 with *reason_r when shut down, 1 when not (yet), or an error. */
static int
shutdown_state(struct image *im, int *reason_r)
{
    xc_domaininfo_t xi;
    int n = xc_domain_getinfolist(im->xch, im->domid, 1, &xi);

    if (n < 0)
        return -1;
    if (n == 0 || xi.domain != im->domid || (xi.flags & XEN_DOMINF_dying)) {
        errno = ESRCH;
        return -1;
    }
    if (!(xi.flags & XEN_DOMINF_shutdown))
        return 1;
    *reason_r =
        (int)((xi.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
    return 0;
}

static int
suspend_cb(void *data)
{
    struct image *im = data;
    uint64_t end = keel__mono_ms() + SUSPEND_TIMEOUT_MS;
    char path[64];
    int reason = -1, st;

    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown",
             im->domid);
    if (!xs_write(im->xsh, XBT_NULL, path, "suspend", 7)) {
        keel_warn(im->x->ctx, "domain %u: asking it to suspend: %s", im->domid,
                  strerror(errno));
        return 0;
    }
    while ((st = shutdown_state(im, &reason)) == 1 && keel__mono_ms() < end)
        (void)poll(NULL, 0, 10);
    if (st == 0 && reason == SHUTDOWN_suspend) {
        im->suspended = true;
        return 1; /* libxenguest: suspended */
    }
    /* Withdraw the request a guest never took up. */
    (void)xs_rm(im->xsh, XBT_NULL, path);
    if (st == 1)
        keel_warn(im->x->ctx,
                  "domain %u did not suspend within %d s: does its kernel "
                  "handle control/shutdown?",
                  im->domid, SUSPEND_TIMEOUT_MS / 1000);
    else if (st == 0)
        keel_warn(im->x->ctx, "domain %u shut down (%d) instead of suspending",
                  im->domid, reason);
    return 0;
}

static int
qemu_logdirty_cb(uint32_t domid, unsigned enable, void *data)
{
    (void)domid, (void)enable, (void)data;
    return 0; /* no device model runs: nothing to tell */
}

/* Whether libxenguest's last complaint was that log-dirty mode could not
 * be turned on. */
static bool
logdirty_failed(struct image *im)
{
    bool failed;

    pthread_mutex_lock(&im->log.lock);
    failed = im->log.logdirty_failed;
    pthread_mutex_unlock(&im->log.lock);
    return failed;
}

/* libxenguest asks twice an iteration: with the dirty count read (then
 * keel's caller decides, on the pass just ended), and after sending with
 * the count unknown (-1: go on to read it). Its first question, before
 * the full pass, is answered "go on". */
static int
precopy_cb(struct precopy_stats st, void *data)
{
    struct image *im = data;
    enum keel_hv_pass_decision d;
    uint64_t sent;

    if (st.dirty_count < 0 || st.iteration == 0)
        return XGS_POLICY_CONTINUE_PRECOPY;
    sent = st.total_written - im->written;
    im->written = st.total_written;
    d = im->policy->pass(im->policy->opaque, st.iteration - 1, sent,
                         (uint64_t)st.dirty_count);
    return d == KEEL_HV_PASS_ABORT  ? XGS_POLICY_ABORT
           : d == KEEL_HV_PASS_LAST ? XGS_POLICY_STOP_AND_COPY
                                    : XGS_POLICY_CONTINUE_PRECOPY;
}

int
xen_op_image_save(struct keel_hv *hv, uint32_t domid, int fd,
                  unsigned int flags, const struct keel_hv_image_policy *policy)
{
    struct xen *x = xen_of(hv);
    struct save_callbacks cb;
    struct image im;
    int rc = image_open(x, domid, &im);

    if (rc)
        return rc;
    memset(&cb, 0, sizeof(cb));
    cb.suspend = suspend_cb;
    cb.switch_qemu_logdirty = qemu_logdirty_cb;
    if (policy && policy->pass) {
        im.policy = policy;
        cb.precopy_policy = precopy_cb;
    }
    cb.data = &im;
    if (xc_domain_save(im.xch, fd, domid,
                       flags & KEEL_HV_IMAGE_LIVE ? XCFLAGS_LIVE : 0, &cb,
                       XC_STREAM_PLAIN, -1)) {
        if (errno == 0)
            errno = EIO;
        if (!im.suspended && (flags & KEEL_HV_IMAGE_LIVE) &&
            logdirty_failed(&im))
            /* A PV guest's log-dirty is shadow paging, which Debian's
             * Xen leaves out (CONFIG_SHADOW_PAGING). */
            errno = EOPNOTSUPP;
        rc = xen_log_fail(
            &im.log, "xc_domain_save(%u)%s", domid,
            im.suspended ? ""
            : errno == EOPNOTSUPP
                ? ": live migration needs log-dirty mode, which "
                  "this Xen cannot give the domain (for a PV guest "
                  "it needs shadow paging: CONFIG_SHADOW_PAGING); "
                  "the guest runs on"
                : " (the guest was not suspended)");
    } else if (!im.suspended) {
        rc = keel_error(x->ctx, KEEL_EIO,
                        "xc_domain_save(%u) ended without the guest "
                        "suspended",
                        domid);
    }
    image_close(&im);
    return rc;
}

/* --- restore --- */

static int
static_data_done_cb(unsigned int missing, void *data)
{
    struct image *im = data;

    /* A stream from before Xen 4.14 carries no CPU policy: give the
     * domain the one a new domain gets. */
    if ((missing & XGR_SDD_MISSING_CPUID) &&
        xc_cpuid_apply_policy(im->xch, im->domid, true, NULL, 0, true, false,
                              false, NULL, NULL))
        return -1;
    return 0;
}

static void
restore_results_cb(xen_pfn_t store_gfn, xen_pfn_t console_gfn, void *data)
{
    struct image *im = data;

    im->rings.store_mfn = store_gfn;
    im->rings.console_mfn = console_gfn;
}

int
xen_op_image_restore(struct keel_hv *hv, uint32_t domid, int fd,
                     unsigned int flags)
{
    struct xen *x = xen_of(hv);
    struct restore_callbacks cb;
    unsigned long store_mfn = 0, console_mfn = 0;
    struct image im;
    int rc = image_open(x, domid, &im);

    (void)flags;
    if (rc)
        return rc;
    rc = xen_rings_alloc(x, im.xch, im.xsh, domid, &im.rings);
    if (rc == 0) {
        memset(&cb, 0, sizeof(cb));
        cb.static_data_done = static_data_done_cb;
        cb.restore_results = restore_results_cb;
        cb.data = &im;
        if (xc_domain_restore(
                im.xch, fd, domid, im.rings.store_port, &store_mfn,
                im.rings.store_domid, im.rings.console_port, &console_mfn,
                im.rings.console_domid, XC_STREAM_PLAIN, &cb, -1)) {
            if (errno == 0)
                errno = EIO;
            rc = xen_log_fail(&im.log, "xc_domain_restore(%u)", domid);
        }
    }
    if (rc == 0) {
        im.rings.store_mfn = store_mfn;
        im.rings.console_mfn = console_mfn;
        rc = xen_rings_publish(x, im.xsh, domid, &im.rings);
    }
    image_close(&im);
    return rc;
}

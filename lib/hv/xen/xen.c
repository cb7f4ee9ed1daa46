/* xen.c: the xen backend's table, open and close, errors, host info */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen.h"

/* --- the log bridge --- */

static void
log_vmessage(struct xentoollog_logger *logger, xentoollog_level level,
             int errnoval, const char *context, const char *format, va_list al)
{
    struct xen_log *l = (struct xen_log *)logger;
    char msg[256];

    vsnprintf(msg, sizeof(msg), format, al);
    if (level >= XTL_ERROR) {
        pthread_mutex_lock(&l->lock);
        size_t len = strlen(msg);

        /* Kept apart: later messages ("Save failed") overwrite last. */
        if (strstr(msg, "logdirty"))
            l->logdirty_failed = true;

        memcpy(l->last, msg, len + 1); /* both 256 bytes */
        if (errnoval > 0 && len + 4 < sizeof(l->last))
            snprintf(l->last + len, sizeof(l->last) - len, " (%s)",
                     strerror(errnoval));
        pthread_mutex_unlock(&l->lock);
        keel_warn(l->ctx, "%s: %s", context ? context : "xen", l->last);
    } else if (level >= XTL_DETAIL) {
        keel_debug(l->ctx, "%s: %s", context ? context : "xen", msg);
    }
}

static void
log_progress(struct xentoollog_logger *logger, const char *context,
             const char *doing_what, int percent, unsigned long done,
             unsigned long total)
{
    (void)logger, (void)context, (void)doing_what, (void)percent, (void)done,
        (void)total;
}

static void
log_destroy(struct xentoollog_logger *logger)
{
    (void)logger; /* owned by its struct xen or struct image */
}

void
xen_log_init(struct xen_log *l, struct keel_ctx *ctx)
{
    memset(l, 0, sizeof(*l));
    l->vtable.vmessage = log_vmessage;
    l->vtable.progress = log_progress;
    l->vtable.destroy = log_destroy;
    l->ctx = ctx;
    pthread_mutex_init(&l->lock, NULL);
}

void
xen_log_dispose(struct xen_log *l)
{
    pthread_mutex_destroy(&l->lock);
}

void
xen_log_clear(struct xen_log *l)
{
    pthread_mutex_lock(&l->lock);
    l->last[0] = '\0';
    l->logdirty_failed = false;
    pthread_mutex_unlock(&l->lock);
}

static int
code_of(int err)
{
    switch (err) {
    case ESRCH:
        return KEEL_ENODOMAIN;
    case ENOMEM:
        return KEEL_ENOHOSTMEM;
    case EOPNOTSUPP:
        return KEEL_ENOTSUP;
    case EACCES:
    case EPERM:
        return KEEL_EPERM;
    case ENOENT:
        return KEEL_ENOENT;
    case EBUSY:
        return KEEL_EBUSY;
    case EEXIST:
        return KEEL_EEXIST;
    case EINVAL:
        return KEEL_EINVAL;
    case ERANGE:
        return KEEL_ERANGE;
    case EAGAIN:
        return KEEL_EAGAIN;
    case ETIMEDOUT:
        return KEEL_ETIMEDOUT;
    default:
        return KEEL_EIO;
    }
}

static int
fail_v(struct xen_log *l, const char *fmt, va_list ap)
{
    int err = errno;
    char what[256], last[256];

    vsnprintf(what, sizeof(what), fmt, ap);
    pthread_mutex_lock(&l->lock);
    snprintf(last, sizeof(last), "%s", l->last);
    l->last[0] = '\0';
    pthread_mutex_unlock(&l->lock);
    if (last[0])
        return keel_error(l->ctx, code_of(err), "%s: %s (Xen: %s)", what,
                          strerror(err), last);
    return keel_error(l->ctx, code_of(err), "%s: %s", what, strerror(err));
}

int
xen_fail(struct xen *x, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = fail_v(&x->log, fmt, ap);
    va_end(ap);
    return rc;
}

int
xen_log_fail(struct xen_log *l, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = fail_v(l, fmt, ap);
    va_end(ap);
    return rc;
}

xc_interface *
xen_xc_open(struct xen_log *l)
{
    return xc_interface_open(&l->vtable, &l->vtable, 0);
}

/* --- CPU maps --- */

void
xen_cpumap_from_xc(const uint8_t *xc, int max_cpus, struct keel_cpumap *map)
{
    int cpu;

    keel_cpumap_zero(map);
    for (cpu = 0; cpu < max_cpus && cpu < KEEL_MAX_CPUS; cpu++)
        if (xc[cpu / 8] & (1u << (cpu % 8)))
            keel_cpumap_set(map, (unsigned int)cpu);
}

uint8_t *
xen_cpumap_to_xc(const struct keel_cpumap *map, int max_cpus)
{
    uint8_t *xc = calloc((size_t)(max_cpus + 7) / 8 + 1, 1);
    int cpu;

    if (!xc)
        return NULL;
    for (cpu = 0; cpu < max_cpus && cpu < KEEL_MAX_CPUS; cpu++)
        if (keel_cpumap_test(map, (unsigned int)cpu))
            xc[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
    return xc;
}

/* --- open, close --- */

static void
xen_free(struct xen *x)
{
    if (x->xsh)
        xs_close(x->xsh);
    if (x->xch)
        xc_interface_close(x->xch);
    xen_log_dispose(&x->log);
    free(x);
}

static int
xen_op_open(struct keel_hv *hv, const struct keel_hv_open_args *args)
{
    struct keel_ctx *ctx = keel_hv_ctx(hv);
    struct xen *x = calloc(1, sizeof(*x));
    int rc = 0;

    (void)args;
    if (!x)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    x->ctx = ctx;
    xen_log_init(&x->log, ctx);
    x->xch = xen_xc_open(&x->log);
    if (!x->xch)
        rc = keel_error_errno(ctx, KEEL_EPERM,
                              "cannot open Xen's control interface "
                              "(/dev/xen/privcmd): is this Xen's dom0, with "
                              "xenfs mounted, and are we root?");
    if (rc == 0 && !(x->xsh = xs_open(0)))
        rc = keel_error_errno(ctx, KEEL_EIO,
                              "cannot connect to xenstored: is it running?");
    if (rc == 0 && (x->max_cpus = xc_get_max_cpus(x->xch)) <= 0)
        rc = xen_fail(x, "xc_get_max_cpus");
    if (rc == 0 && !xs_watch(x->xsh, "@releaseDomain", XEN_RELEASE_TOKEN))
        rc = keel_error_errno(ctx, KEEL_EIO, "watching @releaseDomain");
    if (rc) {
        xen_free(x);
        return rc;
    }
    keel_hv_set_priv(hv, x);
    return 0;
}

static void
xen_op_close(struct keel_hv *hv)
{
    struct xen *x = xen_of(hv);

    if (x)
        xen_free(x);
    keel_hv_set_priv(hv, NULL);
}

/* --- host --- */

static int
xen_op_physinfo(struct keel_hv *hv, struct keel_hv_physinfo *info)
{
    struct xen *x = xen_of(hv);
    xc_physinfo_t pi = {0};
    xen_extraversion_t extra;
    xen_capabilities_info_t caps;
    int ver;

    if (xc_physinfo(x->xch, &pi))
        return xen_fail(x, "xc_physinfo");
    ver = xc_version(x->xch, XENVER_version, NULL);
    if (ver < 0)
        return xen_fail(x, "xc_version");
    memset(extra, 0, sizeof(extra));
    memset(caps, 0, sizeof(caps));
    if (xc_version(x->xch, XENVER_extraversion, &extra) < 0 ||
        xc_version(x->xch, XENVER_capabilities, &caps) < 0)
        return xen_fail(x, "xc_version");
    memset(info, 0, sizeof(*info));
    info->nr_cpus = pi.nr_cpus;
    info->threads_per_core = pi.threads_per_core;
    info->cores_per_socket = pi.cores_per_socket;
    info->nr_sockets =
        pi.threads_per_core && pi.cores_per_socket
            ? pi.nr_cpus / (pi.threads_per_core * pi.cores_per_socket)
            : 1;
    if (info->nr_sockets == 0)
        info->nr_sockets = 1;
    info->nr_nodes = pi.nr_nodes;
    info->cpu_khz = pi.cpu_khz;
    info->total_kb = (uint64_t)pi.total_pages * (XC_PAGE_SIZE / 1024);
    info->free_kb = (uint64_t)pi.free_pages * (XC_PAGE_SIZE / 1024);
    info->xen_major = (uint32_t)ver >> 16;
    info->xen_minor = (uint32_t)ver & 0xFFFF;
    snprintf(info->xen_extra, sizeof(info->xen_extra), "%.*s",
             (int)sizeof(extra), extra);
    /* As much as fits, cut at a word: "xen-3.0-x86_64 hvm-3.0-x86_32 ..." */
    caps[sizeof(caps) - 1] = '\0';
    if (strlen(caps) >= sizeof(info->capabilities)) {
        char *cut = caps + sizeof(info->capabilities) - 1;

        *cut = '\0';
        if ((cut = strrchr(caps, ' ')))
            *cut = '\0';
    }
    memcpy(info->capabilities, caps, strlen(caps) + 1);
    return 0;
}

static int
xen_op_cputopo(struct keel_hv *hv, struct keel_hv_cputopo *topo, size_t max,
               size_t *n_r)
{
    struct xen *x = xen_of(hv);
    unsigned int n = 0, i;
    xc_cputopo_t *t;

    if (xc_cputopoinfo(x->xch, &n, NULL))
        return xen_fail(x, "xc_cputopoinfo");
    t = calloc(n ? n : 1, sizeof(*t));
    if (!t)
        return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    if (xc_cputopoinfo(x->xch, &n, t)) {
        free(t);
        return xen_fail(x, "xc_cputopoinfo");
    }
    /* Offline CPUs read as XEN_INVALID_*_ID; keel lists online CPUs. */
    for (i = 0; i < n && i < max; i++) {
        topo[i].core = t[i].core == XEN_INVALID_CORE_ID ? 0 : t[i].core;
        topo[i].socket = t[i].socket == XEN_INVALID_SOCKET_ID ? 0 : t[i].socket;
        topo[i].node = t[i].node == XEN_INVALID_NODE_ID ? 0 : t[i].node;
    }
    *n_r = n;
    free(t);
    return 0;
}

static int
xen_op_numainfo(struct keel_hv *hv, struct keel_hv_numainfo *nodes, size_t max,
                size_t *n_r)
{
    struct xen *x = xen_of(hv);
    unsigned int n = 0, i;
    xc_meminfo_t *m;

    if (xc_numainfo(x->xch, &n, NULL, NULL))
        return xen_fail(x, "xc_numainfo");
    m = calloc(n ? n : 1, sizeof(*m));
    if (!m)
        return keel_error(x->ctx, KEEL_ENOMEM, "out of memory");
    if (xc_numainfo(x->xch, &n, m, NULL)) {
        free(m);
        return xen_fail(x, "xc_numainfo");
    }
    for (i = 0; i < n && i < max; i++) {
        nodes[i].size_kb = m[i].memsize >> 10;
        nodes[i].free_kb = m[i].memfree >> 10;
    }
    *n_r = n;
    free(m);
    return 0;
}

/* The migration primitives (mem_map, page types, log-dirty, context
 * blobs) stay NULL: libxenguest writes and reads domain images itself
 * (image_save, image_restore), so libkeel never needs them here. */
const struct keel_hv_ops keel__xen_ops = {
    .name = "xen",
    .open = xen_op_open,
    .close = xen_op_close,
    .physinfo = xen_op_physinfo,
    .cputopo = xen_op_cputopo,
    .numainfo = xen_op_numainfo,
    .domain_create = xen_op_domain_create,
    .domain_destroy = xen_op_domain_destroy,
    .domain_pause = xen_op_domain_pause,
    .domain_unpause = xen_op_domain_unpause,
    .domain_shutdown = xen_op_domain_shutdown,
    .domain_resume = xen_op_domain_resume,
    .domain_soft_reset = xen_op_domain_soft_reset,
    .domain_set_uuid = xen_op_domain_set_uuid,
    .domain_info = xen_op_domain_info,
    .domain_list = xen_op_domain_list,
    .domain_set_max_mem = xen_op_domain_set_max_mem,
    .vcpu_set_affinity = xen_op_vcpu_set_affinity,
    .vcpu_info = xen_op_vcpu_info,
    .cpupool_create = xen_op_cpupool_create,
    .cpupool_destroy = xen_op_cpupool_destroy,
    .cpupool_info = xen_op_cpupool_info,
    .cpupool_list = xen_op_cpupool_list,
    .cpupool_add_cpu = xen_op_cpupool_add_cpu,
    .cpupool_remove_cpu = xen_op_cpupool_remove_cpu,
    .cpupool_move_domain = xen_op_cpupool_move_domain,
    .cpupool_free_cpus = xen_op_cpupool_free_cpus,
    .sched_domain_get = xen_op_sched_domain_get,
    .sched_domain_set = xen_op_sched_domain_set,
    .sched_rtds_get = xen_op_sched_rtds_get,
    .sched_rtds_set = xen_op_sched_rtds_set,
    .sched_pool_get = xen_op_sched_pool_get,
    .sched_pool_set = xen_op_sched_pool_set,
    .store_read = xen_op_store_read,
    .store_write = xen_op_store_write,
    .store_remove = xen_op_store_remove,
    .store_list = xen_op_store_list,
    .store_watch = xen_op_store_watch,
    .store_unwatch = xen_op_store_unwatch,
    .event_fd = xen_op_event_fd,
    .event_read = xen_op_event_read,
    .mem_max_pfn = xen_op_mem_max_pfn,
    .image_save = xen_op_image_save,
    .image_restore = xen_op_image_restore,
};

/* common.c: progress reports, handshake bytes and span mappings that the
 * sending and the receiving side of a migration share
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "migrate-internal.h"

int
keel__mig_progress(struct keel_ctx *ctx, keel_migrate_progress_fn fn,
                   void *opaque, struct keel_migrate_progress *p,
                   uint64_t t0_ns)
{
    bool had = keel__error_isset(ctx);
    int r;

    if (!fn)
        return 0;
    p->elapsed_ns = keel__mono_ns() - t0_ns;
    r = fn(opaque, p);
    /* What the callback's own keel calls recorded is not this call's. */
    keel__error_unrecord(ctx, had);
    if (r)
        return keel_error(ctx, KEEL_ECANCELED, "cancelled by the caller");
    return 0;
}

int
keel__mig_write_byte(struct keel_ctx *ctx, int fd, uint8_t byte,
                     const char *what)
{
    ssize_t r;

    do {
        /* MSG_NOSIGNAL: a peer that went away is an error, not SIGPIPE. */
        r = send(fd, &byte, 1, MSG_NOSIGNAL);
        if (r < 0 && errno == ENOTSOCK)
            r = write(fd, &byte, 1);
    } while (r < 0 && errno == EINTR);
    if (r != 1)
        return keel_error_errno(ctx, KEEL_EIO, "sending the %s byte", what);
    return 0;
}

int
keel__mig_read_byte(struct keel_ctx *ctx, int fd, uint8_t *byte_r,
                    const char *what)
{
    ssize_t r;

    do
        r = read(fd, byte_r, 1);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return keel_error_errno(ctx, KEEL_EIO, "waiting for the %s byte", what);
    if (r == 0)
        return keel_error(ctx, KEEL_EIO,
                          "the peer closed the connection before the %s byte",
                          what);
    return 0;
}

int
keel__mig_map(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
              size_t n, unsigned int flags, bool span_ok, uint64_t *span_buf,
              uint8_t **ptrs, uint8_t **addr_r, size_t *n_map_r)
{
    uint64_t first = pfns[0], span = pfns[n - 1] - first + 1, i;
    bool whole =
        span_ok && pfns[n - 1] >= first && span > n && span <= MIG_SPAN_MAX;
    int rc;

    /* The span is only right for frames in strictly ascending order (a
     * stream may list them in any order, or twice). */
    for (i = 1; whole && i < n; i++)
        whole = pfns[i] > pfns[i - 1];
    for (i = 0; whole && i < span; i++)
        span_buf[i] = first + i;
    *n_map_r = whole ? (size_t)span : n;
    rc = keel_hv_mem_map(hv, domid, whole ? span_buf : pfns, *n_map_r, flags,
                         (void **)addr_r);
    for (i = 0; rc == 0 && i < n; i++)
        ptrs[i] = *addr_r + (whole ? pfns[i] - first : i) * KEEL_PAGE_SIZE;
    return rc;
}

uint32_t
keel__mig_dhdr_type(enum keel_domain_type type)
{
    return type == KEEL_DOMAIN_PV ? KEEL_STREAM_DHDR_X86_PV
                                  : KEEL_STREAM_DHDR_X86_HVM;
}

/* migrate-internal.h: what lib/migrate/send.c and receive.c share
 *
 * The handshake bytes of migrate.h, the progress callback, span mappings and
 * the mapping between domain types and the stream's domain header.
 */
#ifndef KEEL_MIGRATE_INTERNAL_H
#define KEEL_MIGRATE_INTERNAL_H

#include <stdint.h>

#include <keel/migrate.h>

#include "../host-internal.h"

/* Handshake bytes (migrate.h). */
#define MIG_OK 0        /* received / go / done */
#define MIG_GO_PAUSED 1 /* go, but stay paused */
#define MIG_FAILED 0xff

/* Stream bytes per page of PAGE_DATA (data and pfn entry): for estimates. */
#define MIG_PAGE_BYTES (KEEL_PAGE_SIZE + 8)

/* Calls opts' progress callback (if any) with *p after setting
 * elapsed_ns from t0_ns; a non-zero return is KEEL_ECANCELED. */
int keel__mig_progress(struct keel_ctx *ctx, keel_migrate_progress_fn fn,
                       void *opaque, struct keel_migrate_progress *p,
                       uint64_t t0_ns);

/* One handshake byte. read: 0 with *byte_r, or KEEL_EIO naming what was
 * awaited (end of file included). */
int keel__mig_write_byte(struct keel_ctx *ctx, int fd, uint8_t byte,
                         const char *what);
int keel__mig_read_byte(struct keel_ctx *ctx, int fd, uint8_t *byte_r,
                        const char *what);

/* A batch of scattered frames whose span is at most this many frames may
 * be mapped as one range: one mapping instead of one per frame. */
#define MIG_SPAN_MAX 65536

/* Maps the n frames pfns[] of domid with flags: as the whole span from
 * the first to the last when span_ok, the frames are strictly ascending
 * but not consecutive and the span is at most MIG_SPAN_MAX (span_buf has
 * room for that many), else the frames alone, in their order. ptrs[i] gets
 * frame i's address, *addr_r and *n_map_r what to unmap. */
int keel__mig_map(struct keel_hv *hv, uint32_t domid, const uint64_t *pfns,
                  size_t n, unsigned int flags, bool span_ok,
                  uint64_t *span_buf, uint8_t **ptrs, uint8_t **addr_r,
                  size_t *n_map_r);

/* KEEL_STREAM_DHDR_* for a domain type. */
uint32_t keel__mig_dhdr_type(enum keel_domain_type type);

/* receive.c: keel_domain_migrate_receive with the new domain's uuid given
 * (local.c: the copy must not share the source's while both exist). */
int keel__mig_receive(struct keel_host *host, int recv_fd, int send_fd,
                      const struct keel_restore_opts *opts,
                      const uint8_t uuid[16], uint32_t *domid_r);

#endif /* KEEL_MIGRATE_INTERNAL_H */

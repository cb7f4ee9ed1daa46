/* blob.c: a simulated domain's context blobs and DIR/dom-N.ctx
 *
 * A real hypervisor holds vCPU registers, HVM device state, the TSC mode
 * and the CPU policy; a migration moves them as opaque blobs. The sim
 * makes plausible ones when a domain is created (sizes and structure as
 * Xen's where the stream spec gives a layout: TSC info, shared info page,
 * CPUID leaves, MSR entries, HVM params; deterministic filler from the
 * uuid elsewhere) and keeps whatever context_set stores.
 *
 * dom-N.ctx, little-endian: "KEELCTX1", u32 count, u32 zero, then per
 * blob u32 kind, u32 index, u32 length, u32 zero, and the data padded to
 * 8 bytes. Checklist when changing it: blob_file_read/blob_file_write,
 * the version in the magic, tests/unit/test-sim-domain.c.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

#define CTX_MAGIC "KEELCTX1"
#define CTX_MAX_BLOB (1u << 20)

void
sim_blobs_free(struct sim_domain *d)
{
    size_t i;

    for (i = 0; i < d->n_blobs; i++)
        free(d->blobs[i].data);
    free(d->blobs);
    d->blobs = NULL;
    d->n_blobs = 0;
}

static struct sim_blob *
blob_find(struct sim_domain *d, uint32_t kind, uint32_t index)
{
    size_t i;

    for (i = 0; i < d->n_blobs; i++)
        if (d->blobs[i].kind == kind && d->blobs[i].index == index)
            return &d->blobs[i];
    return NULL;
}

static int
blob_put(struct sim *s, struct sim_domain *d, uint32_t kind, uint32_t index,
         const void *data, size_t len)
{
    struct sim_blob *b = blob_find(d, kind, index);
    uint8_t *copy = malloc(len ? len : 1);

    if (!copy)
        return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
    memcpy(copy, data, len);
    if (!b) {
        struct sim_blob *n = realloc(d->blobs, (d->n_blobs + 1) * sizeof(*n));

        if (!n) {
            free(copy);
            return keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
        }
        d->blobs = n;
        b = &n[d->n_blobs++];
        b->kind = kind;
        b->index = index;
        b->data = NULL;
    }
    free(b->data);
    b->data = copy;
    b->len = len;
    return 0;
}

static void
put32(uint8_t *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static void
put64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

static uint32_t
get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return le32toh(v);
}

/* Deterministic filler: the same domain always gets the same bytes. */
static void
fill(const struct sim_domain *d, uint32_t kind, uint32_t index, uint8_t *p,
     size_t len)
{
    uint64_t x = 0x9E3779B97F4A7C15u ^ ((uint64_t)kind << 32 | index);
    size_t i;

    for (i = 0; i < 16; i++)
        x = (x ^ d->uuid[i]) * 0x100000001B3u;
    for (i = 0; i < len; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        p[i] = (uint8_t)((x * 0x2545F4914F6CDD1Du) >> 56);
    }
}

static bool
per_vcpu(uint32_t kind)
{
    return kind >= KEEL_HV_CTX_VCPU && kind <= KEEL_HV_CTX_VCPU_MSRS;
}

/* Whether a domain of type has blobs of kind. */
static bool
kind_applies(enum keel_domain_type type, uint32_t kind)
{
    switch (kind) {
    case KEEL_HV_CTX_VCPU:
    case KEEL_HV_CTX_VCPU_EXTENDED:
    case KEEL_HV_CTX_VCPU_XSAVE:
    case KEEL_HV_CTX_VCPU_MSRS:
    case KEEL_HV_CTX_SHARED_INFO:
        return type == KEEL_DOMAIN_PV;
    case KEEL_HV_CTX_HVM:
    case KEEL_HV_CTX_HVM_PARAMS:
        return type != KEEL_DOMAIN_PV;
    case KEEL_HV_CTX_TSC:
    case KEEL_HV_CTX_CPUID:
    case KEEL_HV_CTX_MSR:
        return true;
    default:
        return false;
    }
}

/* The layout rules of the stream spec for the kinds that have one. */
static int
check_blob(struct sim *s, const struct sim_domain *d, uint32_t kind,
           uint32_t index, size_t len)
{
    static const size_t unit[] = {[KEEL_HV_CTX_HVM_PARAMS] = 16,
                                  [KEEL_HV_CTX_CPUID] = 24,
                                  [KEEL_HV_CTX_MSR] = 16};

    if (!kind_applies(d->type, kind))
        return keel_error(s->ctx, KEEL_EINVAL,
                          "a %s domain has no context of kind %u",
                          keel_domain_type_name(d->type), kind);
    if (per_vcpu(kind) && index >= d->max_vcpus)
        return keel_error(s->ctx, KEEL_EINVAL, "domain %u has no vCPU %u",
                          d->domid, index);
    if (len == 0 || len > CTX_MAX_BLOB)
        return keel_error(s->ctx, KEEL_EINVAL,
                          "context of %zu bytes (must be 1..%u)", len,
                          CTX_MAX_BLOB);
    if ((kind == KEEL_HV_CTX_TSC && len != 24) ||
        (kind == KEEL_HV_CTX_SHARED_INFO && len != KEEL_PAGE_SIZE) ||
        (kind < ARRAY_SIZE(unit) && unit[kind] && len % unit[kind]))
        return keel_error(s->ctx, KEEL_EINVAL,
                          "context kind %u cannot be %zu bytes long", kind,
                          len);
    return 0;
}

static int
init_tsc(struct sim *s, struct sim_domain *d)
{
    uint8_t b[24] = {0};

    put32(b, 0); /* mode: default */
    put32(b + 4, s->spec.cpu_khz);
    put64(b + 8, 0);  /* nsec */
    put32(b + 16, 0); /* incarnation */
    return blob_put(s, d, KEEL_HV_CTX_TSC, 0, b, sizeof(b));
}

static int
init_policy(struct sim *s, struct sim_domain *d)
{
    static const uint32_t leaves[][6] = {
        {0x0, 0xffffffff, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69},
        {0x1, 0xffffffff, 0x000806ec, 0x00100800, 0xfffa3203, 0x178bfbff},
        {0x7, 0x0, 0x0, 0x009c4fbb, 0x0, 0x0},
        {0x80000000, 0xffffffff, 0x80000008, 0x0, 0x0, 0x0},
    };
    static const uint64_t msrs[][2] = {{0xce, 0x0}, {0x10a, 0x0}};
    uint8_t c[sizeof(leaves)], m[sizeof(msrs)];
    size_t i, j;
    int rc;

    for (i = 0; i < ARRAY_SIZE(leaves); i++)
        for (j = 0; j < 6; j++)
            put32(c + i * 24 + j * 4, leaves[i][j]);
    for (i = 0; i < ARRAY_SIZE(msrs); i++) {
        put32(m + i * 16, (uint32_t)msrs[i][0]);
        put32(m + i * 16 + 4, 0);
        put64(m + i * 16 + 8, msrs[i][1]);
    }
    rc = blob_put(s, d, KEEL_HV_CTX_CPUID, 0, c, sizeof(c));
    return rc ? rc : blob_put(s, d, KEEL_HV_CTX_MSR, 0, m, sizeof(m));
}

/* Opaque blobs of plausible sizes: per-vCPU state for PV, the HVM save
 * record and the shared-info page. */
static int
init_opaque(struct sim *s, struct sim_domain *d)
{
    static const struct {
        uint32_t kind;
        size_t len;
    } kinds[] = {
        {KEEL_HV_CTX_VCPU, 1024},        {KEEL_HV_CTX_VCPU_EXTENDED, 128},
        {KEEL_HV_CTX_VCPU_XSAVE, 832},   {KEEL_HV_CTX_VCPU_MSRS, 64},
        {KEEL_HV_CTX_SHARED_INFO, 4096}, {KEEL_HV_CTX_HVM, 1024},
    };
    uint8_t buf[4096];
    uint32_t v, n;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < ARRAY_SIZE(kinds); i++) {
        if (!kind_applies(d->type, kinds[i].kind))
            continue;
        n = per_vcpu(kinds[i].kind) ? d->max_vcpus : 1;
        for (v = 0; rc == 0 && v < n; v++) {
            fill(d, kinds[i].kind, v, buf, kinds[i].len);
            rc = blob_put(s, d, kinds[i].kind, v, buf, kinds[i].len);
        }
    }
    return rc;
}

/* HVM params a restore needs: the store and console rings, placed in the
 * last frames as hvmloader does. */
static int
init_hvm_params(struct sim *s, struct sim_domain *d)
{
    uint8_t b[32];

    uint64_t top = d->mem.nr_pfns;

    if (d->type == KEEL_DOMAIN_PV)
        return 0;
    put64(b, 1); /* HVM_PARAM_STORE_PFN */
    put64(b + 8, top > 1 ? top - 1 : 0);
    put64(b + 16, 17); /* HVM_PARAM_CONSOLE_PFN */
    put64(b + 24, top > 2 ? top - 2 : 0);
    return blob_put(s, d, KEEL_HV_CTX_HVM_PARAMS, 0, b, sizeof(b));
}

static char *
ctx_file(struct sim *s, uint32_t domid)
{
    return keel__sprintf(s->ctx, "%s/dom-%u.ctx", s->dir, domid);
}

static int
write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes every blob to dom-N.ctx.tmp and renames it into place. */
static int
blob_file_write(struct sim *s, struct sim_domain *d)
{
    static const uint8_t zeros[8];
    char *file = ctx_file(s, d->domid), *tmp = NULL;
    uint8_t hdr[16];
    size_t i;
    int fd = -1, rc = 0;

    if (!file || !(tmp = keel__sprintf(s->ctx, "%s.tmp", file))) {
        rc = KEEL_ENOMEM;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    memcpy(hdr, CTX_MAGIC, 8);
    put32(hdr + 8, (uint32_t)d->n_blobs);
    put32(hdr + 12, 0);
    if (fd < 0 || write_all(fd, hdr, 16))
        goto fail;
    for (i = 0; i < d->n_blobs; i++) {
        const struct sim_blob *b = &d->blobs[i];

        put32(hdr, b->kind);
        put32(hdr + 4, b->index);
        put32(hdr + 8, (uint32_t)b->len);
        put32(hdr + 12, 0);
        if (write_all(fd, hdr, 16) || write_all(fd, b->data, b->len) ||
            write_all(fd, zeros, (8 - b->len % 8) % 8))
            goto fail;
    }
    if (close(fd) == 0 && rename(tmp, file) == 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
fail:
    rc = keel_error_errno(s->ctx, 0, "writing %s", tmp);
    unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(tmp);
    free(file);
    return rc;
}

int
sim_blobs_init(struct sim *s, struct sim_domain *d)
{
    int rc = init_tsc(s, d);

    if (rc == 0)
        rc = init_policy(s, d);
    if (rc == 0)
        rc = init_opaque(s, d);
    if (rc == 0)
        rc = init_hvm_params(s, d);
    if (rc == 0)
        rc = blob_file_write(s, d);
    return rc;
}

void
sim_blobs_unlink(struct sim *s, uint32_t domid)
{
    char *file = ctx_file(s, domid);

    if (file)
        unlink(file);
    free(file);
}

static int
corrupt(struct sim *s, const char *file, const char *why)
{
    return keel_error(s->ctx, KEEL_ECORRUPT, "%s: %s", file, why);
}

/* Parses a dom-N.ctx image of len bytes. */
static int
blob_parse(struct sim *s, struct sim_domain *d, const char *file,
           const uint8_t *p, size_t len)
{
    size_t off = 16, i, n;
    int rc;

    if (len < 16 || memcmp(p, CTX_MAGIC, 8))
        return corrupt(s, file, "not a keel context file");
    n = get32(p + 8);
    for (i = 0; i < n; i++) {
        uint32_t kind, index, blen;

        if (len - off < 16)
            return corrupt(s, file, "truncated blob header");
        kind = get32(p + off);
        index = get32(p + off + 4);
        blen = get32(p + off + 8);
        off += 16;
        if (blen > len - off || check_blob(s, d, kind, index, blen))
            return corrupt(s, file, "bad blob");
        rc = blob_put(s, d, kind, index, p + off, blen);
        if (rc)
            return rc;
        off += blen + (8 - blen % 8) % 8;
        if (off > len)
            return corrupt(s, file, "truncated blob");
    }
    return off == len ? 0 : corrupt(s, file, "trailing bytes");
}

int
sim_blobs_load(struct sim *s, struct sim_domain *d)
{
    char *file = ctx_file(s, d->domid);
    uint8_t *buf = NULL;
    struct stat st;
    int fd = -1, rc;

    if (!file)
        return KEEL_ENOMEM;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st)) {
        rc = keel_error_errno(s->ctx, KEEL_ECORRUPT, "opening %s", file);
        goto out;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = keel_error(s->ctx, KEEL_ENOMEM, "out of memory");
        goto out;
    }
    if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
        rc = keel_error_errno(s->ctx, KEEL_ECORRUPT, "reading %s", file);
        goto out;
    }
    rc = blob_parse(s, d, file, buf, (size_t)st.st_size);
    if (rc)
        sim_blobs_free(d);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(file);
    return rc;
}

int
sim_op_context_get(struct keel_hv *hv, uint32_t domid,
                   enum keel_hv_ctx_kind kind, uint32_t index, void **buf_r,
                   size_t *len_r)
{
    struct sim_domain *d;
    struct sim_blob *b;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = sim_domain_get(s, domid)))
        return sim_end(s, rc ? rc : KEEL_ENODOMAIN);
    b = blob_find(d, kind, per_vcpu(kind) ? index : 0);
    if (!b)
        return sim_end(s, keel_error(s->ctx, KEEL_ENOENT,
                                     "domain %u has no context of kind %u "
                                     "index %u",
                                     domid, kind, index));
    *buf_r = malloc(b->len);
    if (!*buf_r)
        return sim_end(s, keel_error(s->ctx, KEEL_ENOMEM, "out of memory"));
    memcpy(*buf_r, b->data, b->len);
    *len_r = b->len;
    return sim_end(s, 0);
}

int
sim_op_context_set(struct keel_hv *hv, uint32_t domid,
                   enum keel_hv_ctx_kind kind, uint32_t index, const void *buf,
                   size_t len)
{
    struct sim_domain *d;
    struct sim *s;
    int rc = sim_begin(hv, &s);

    if (rc || !(d = sim_domain_get(s, domid)))
        return sim_end(s, rc ? rc : KEEL_ENODOMAIN);
    if (d->dying || domid == 0)
        return sim_end(s,
                       keel_error(s->ctx, KEEL_EPERM,
                                  "domain %u's context cannot be set", domid));
    if (!per_vcpu(kind))
        index = 0;
    rc = check_blob(s, d, kind, index, len);
    if (rc == 0 && !buf)
        rc = keel_error(s->ctx, KEEL_EINVAL, "NULL context");
    if (rc == 0)
        rc = blob_put(s, d, kind, index, buf, len);
    if (rc == 0)
        rc = blob_file_write(s, d);
    return sim_end(s, rc);
}

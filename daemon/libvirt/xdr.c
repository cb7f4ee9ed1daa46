/* xdr.c: XDR values, packet headers and argument layouts of libvirt's
 * remote protocol
 *
 * Written for keel rather than taken from libtirpc: the protocol needs a
 * dozen primitives, and a cursor that cannot read past its buffer (every
 * length is checked against what is left before anything is copied or
 * allocated) is easier to fuzz than xdrmem streams. Nothing here trusts
 * a length it read: a string's length is checked against its bound and
 * against the bytes left, so a packet cannot make keeld allocate more
 * than it sent.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "xdr.h"

static size_t
pad4(size_t n)
{
    return (4 - (n & 3)) & 3;
}

/* --- reading --- */

void
lv_reader_init(struct lv_reader *r, const void *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->bad = false;
}

/* n bytes at the cursor (and their padding), or NULL. */
static const uint8_t *
take(struct lv_reader *r, size_t n)
{
    const uint8_t *at;
    size_t padded = n + pad4(n);

    if (r->bad || padded < n || r->len - r->pos < padded) {
        r->bad = true;
        return NULL;
    }
    at = r->p + r->pos;
    r->pos += padded;
    return at;
}

int
lv_get_u32(struct lv_reader *r, uint32_t *v)
{
    const uint8_t *b = take(r, 4);

    if (!b)
        return -1;
    *v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
         b[3];
    return 0;
}

int
lv_get_i32(struct lv_reader *r, int32_t *v)
{
    uint32_t u;

    if (lv_get_u32(r, &u))
        return -1;
    *v = (int32_t)u;
    return 0;
}

int
lv_get_u64(struct lv_reader *r, uint64_t *v)
{
    uint32_t hi, lo;

    if (lv_get_u32(r, &hi) || lv_get_u32(r, &lo))
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

int
lv_get_fixed(struct lv_reader *r, void *buf, size_t n)
{
    const uint8_t *b = take(r, n);

    if (!b)
        return -1;
    memcpy(buf, b, n);
    return 0;
}

int
lv_get_string(struct lv_reader *r, size_t max, char **s_r)
{
    const uint8_t *b;
    uint32_t n;
    char *s;

    *s_r = NULL;
    if (lv_get_u32(r, &n))
        return -1;
    if (n > max || !(b = take(r, n)) || memchr(b, '\0', n)) {
        r->bad = true;
        return -1;
    }
    if (!(s = malloc((size_t)n + 1))) {
        r->bad = true;
        return -1;
    }
    memcpy(s, b, n);
    s[n] = '\0';
    *s_r = s;
    return 0;
}

int
lv_get_opt_string(struct lv_reader *r, size_t max, char **s_r)
{
    uint32_t present;

    *s_r = NULL;
    if (lv_get_u32(r, &present))
        return -1;
    if (present > 1) {
        r->bad = true;
        return -1;
    }
    return present ? lv_get_string(r, max, s_r) : 0;
}

/* --- writing --- */

void
lv_writer_init(struct lv_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void
lv_writer_dispose(struct lv_writer *w)
{
    free(w->p);
    lv_writer_init(w);
}

/* Room for n more bytes, or NULL (oom set). */
static uint8_t *
room(struct lv_writer *w, size_t n)
{
    uint8_t *at;

    if (w->oom || n > LV_MESSAGE_MAX * 2u) {
        w->oom = true;
        return NULL;
    }
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;
        uint8_t *p;

        while (cap - w->len < n)
            cap *= 2;
        if (!(p = realloc(w->p, cap))) {
            w->oom = true;
            return NULL;
        }
        w->p = p;
        w->cap = cap;
    }
    at = w->p + w->len;
    w->len += n;
    return at;
}

void
lv_put_u32(struct lv_writer *w, uint32_t v)
{
    uint8_t *b = room(w, 4);

    if (!b)
        return;
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

void
lv_put_i32(struct lv_writer *w, int32_t v)
{
    lv_put_u32(w, (uint32_t)v);
}

void
lv_put_u64(struct lv_writer *w, uint64_t v)
{
    lv_put_u32(w, (uint32_t)(v >> 32));
    lv_put_u32(w, (uint32_t)v);
}

void
lv_put_fixed(struct lv_writer *w, const void *buf, size_t n)
{
    size_t pad = pad4(n);
    uint8_t *b = room(w, n + pad);

    if (!b)
        return;
    if (n)
        memcpy(b, buf, n);
    memset(b + n, 0, pad);
}

void
lv_put_opaque(struct lv_writer *w, const void *buf, size_t n)
{
    lv_put_u32(w, (uint32_t)n);
    lv_put_fixed(w, buf, n);
}

void
lv_put_string(struct lv_writer *w, const char *s)
{
    lv_put_opaque(w, s, strlen(s));
}

void
lv_put_opt_string(struct lv_writer *w, const char *s)
{
    lv_put_u32(w, s != NULL);
    if (s)
        lv_put_string(w, s);
}

/* --- packets --- */

uint32_t
lv_packet_len(const void *p)
{
    const uint8_t *b = p;

    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

int
lv_header_decode(const void *p, size_t len, struct lv_header *h)
{
    struct lv_reader r;
    uint32_t type, status;

    lv_reader_init(&r, p, len);
    if (lv_get_u32(&r, &h->prog) || lv_get_u32(&r, &h->vers) ||
        lv_get_i32(&r, &h->proc) || lv_get_u32(&r, &type) ||
        lv_get_u32(&r, &h->serial) || lv_get_u32(&r, &status))
        return -1;
    h->type = (int32_t)type;
    h->status = (int32_t)status;
    return 0;
}

void
lv_packet_begin(struct lv_writer *w, const struct lv_header *h)
{
    w->len = 0;
    lv_put_u32(w, 0); /* the length, once known */
    lv_put_u32(w, h->prog);
    lv_put_u32(w, h->vers);
    lv_put_i32(w, h->proc);
    lv_put_i32(w, h->type);
    lv_put_u32(w, h->serial);
    lv_put_i32(w, h->status);
}

int
lv_packet_end(struct lv_writer *w)
{
    uint32_t n = (uint32_t)w->len;

    if (w->oom || w->len < LV_LEN_SIZE + LV_HEADER_SIZE ||
        w->len - LV_LEN_SIZE > LV_MESSAGE_MAX)
        return -1;
    w->p[0] = (uint8_t)(n >> 24);
    w->p[1] = (uint8_t)(n >> 16);
    w->p[2] = (uint8_t)(n >> 8);
    w->p[3] = (uint8_t)n;
    return 0;
}

/* --- common types --- */

int
lv_get_domain(struct lv_reader *r, struct lv_domain *d)
{
    if (lv_get_string(r, LV_STRING_MAX, &d->name) ||
        lv_get_fixed(r, d->uuid, 16) || lv_get_i32(r, &d->id))
        return -1;
    return 0;
}

void
lv_put_domain(struct lv_writer *w, const char *name, const uint8_t uuid[16],
              int32_t id)
{
    lv_put_string(w, name);
    lv_put_fixed(w, uuid, 16);
    lv_put_i32(w, id);
}

void
lv_domain_dispose(struct lv_domain *d)
{
    free(d->name);
    d->name = NULL;
}

/* remote_error: code, domain, message, level (2: error), dom (absent),
 * str1 (the message again, as libvirt fills it), str2, str3 (absent),
 * int1, int2 (-1: unused), net (absent). */
void
lv_put_error(struct lv_writer *w, int code, int domain, const char *message)
{
    lv_put_i32(w, code);
    lv_put_i32(w, domain);
    lv_put_opt_string(w, message);
    lv_put_i32(w, 2);
    lv_put_u32(w, 0);
    lv_put_opt_string(w, message);
    lv_put_u32(w, 0);
    lv_put_u32(w, 0);
    lv_put_i32(w, -1);
    lv_put_i32(w, -1);
    lv_put_u32(w, 0);
}

/* --- argument layouts --- */

static int
get_member(struct lv_reader *r, char kind, struct lv_args *a, int *nstr,
           int *nnum)
{
    uint32_t u, present;
    int32_t i;
    uint64_t h;

    switch (kind) {
    case 'D':
        if (lv_get_u32(r, &present) || present > 1)
            return -1;
        if (!present)
            return 0;
        /* fall through */
    case 'd':
        if (a->has_dom)
            return -1; /* one domain per layout */
        a->has_dom = true;
        return lv_get_domain(r, &a->dom);
    case 's':
    case 'S':
        if (*nstr >= LV_ARGS_STR)
            return -1;
        return kind == 's'
                   ? lv_get_string(r, LV_STRING_MAX, &a->str[(*nstr)++])
                   : lv_get_opt_string(r, LV_STRING_MAX, &a->str[(*nstr)++]);
    case 'x':
        return lv_get_fixed(r, a->uuid, 16);
    default:
        break;
    }
    if (*nnum >= LV_ARGS_NUM)
        return -1;
    if (kind == 'i' && lv_get_i32(r, &i) == 0)
        a->num[(*nnum)++] = i;
    else if (kind == 'u' && lv_get_u32(r, &u) == 0)
        a->num[(*nnum)++] = u;
    else if ((kind == 'h' || kind == 'H') && lv_get_u64(r, &h) == 0)
        a->num[(*nnum)++] = (int64_t)h;
    else
        return -1;
    return 0;
}

int
lv_args_decode(const char *layout, const void *p, size_t len,
               struct lv_args *args)
{
    struct lv_reader r;
    int nstr = 0, nnum = 0;

    memset(args, 0, sizeof(*args));
    lv_reader_init(&r, p, len);
    for (; *layout; layout++)
        if (get_member(&r, *layout, args, &nstr, &nnum))
            return -1;
    return r.pos == r.len ? 0 : -1;
}

void
lv_args_dispose(struct lv_args *args)
{
    int i;

    lv_domain_dispose(&args->dom);
    for (i = 0; i < LV_ARGS_STR; i++) {
        free(args->str[i]);
        args->str[i] = NULL;
    }
    args->has_dom = false;
}

void
lv_args_encode(const char *layout, const struct lv_args *args,
               struct lv_writer *w)
{
    int nstr = 0, nnum = 0;
    const char *s;

    for (; *layout; layout++) {
        switch (*layout) {
        case 'D':
            lv_put_u32(w, args->has_dom);
            if (!args->has_dom)
                break;
            /* fall through */
        case 'd':
            lv_put_domain(w, args->dom.name ? args->dom.name : "",
                          args->dom.uuid, args->dom.id);
            break;
        case 's':
            s = nstr < LV_ARGS_STR ? args->str[nstr++] : NULL;
            lv_put_string(w, s ? s : "");
            break;
        case 'S':
            lv_put_opt_string(w, nstr < LV_ARGS_STR ? args->str[nstr++] : NULL);
            break;
        case 'x':
            lv_put_fixed(w, args->uuid, 16);
            break;
        case 'h':
        case 'H':
            lv_put_u64(w, nnum < LV_ARGS_NUM ? (uint64_t)args->num[nnum++] : 0);
            break;
        default: /* i, u */
            lv_put_u32(w, nnum < LV_ARGS_NUM ? (uint32_t)args->num[nnum++] : 0);
            break;
        }
    }
}

/* xdr.h: libvirt's remote protocol on the wire: XDR values, the packet
 * header, argument layouts, errors
 *
 * libc only (no libuv, no libkeel), so the unit tests and the fuzz
 * target take it as it is. Facts from libvirt's virnetprotocol.x and
 * remote_protocol.x (docs/libvirt.md, reference/libvirt-remote-protocol.md):
 * a packet is a 4-byte big-endian length that counts itself, a header of
 * six 32-bit words, then the XDR payload. XDR is big-endian and pads
 * every item to 4 bytes; char and short take 4 bytes too.
 *
 * Checklist when a layout changes: the procedure's row in procs.c, its
 * argument layout letters (lv_args_decode), tests/unit/test-lv-xdr.c and
 * the seeds in tests/data/fuzz/lv-packet/.
 */
#ifndef KEEL_LV_XDR_H
#define KEEL_LV_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LV_PROGRAM 0x20008086u /* REMOTE_PROGRAM */
#define LV_PROGRAM_VERSION 1u
#define LV_KEEPALIVE_PROGRAM 0x6b656570u /* "keep" */
#define LV_KEEPALIVE_VERSION 1u
#define LV_KEEPALIVE_PING 1
#define LV_KEEPALIVE_PONG 2

#define LV_LEN_SIZE 4
#define LV_HEADER_SIZE 24
/* libvirt's VIR_NET_MESSAGE_MAX: header and payload, without the length
 * word. keeld takes the smaller of this and --max-message. */
#define LV_MESSAGE_MAX 33554432u
#define LV_STRING_MAX 4194304u /* REMOTE_STRING_MAX */
#define LV_DOMAIN_LIST_MAX 16384u
#define LV_CPUMAP_MAX 2048u     /* REMOTE_CPUMAP_MAX */
#define LV_CPUMAPS_MAX 8388608u /* REMOTE_CPUMAPS_MAX */
#define LV_VCPUINFO_MAX 16384u

enum lv_type {
    LV_CALL = 0,
    LV_REPLY = 1,
    LV_MESSAGE = 2,
    LV_STREAM = 3,
    LV_CALL_WITH_FDS = 4,
    LV_REPLY_WITH_FDS = 5,
    LV_STREAM_HOLE = 6,
};

enum lv_status {
    LV_OK = 0,
    LV_ERROR = 1,
    LV_CONTINUE = 2,
};

struct lv_header {
    uint32_t prog;
    uint32_t vers;
    int32_t proc;
    int32_t type;
    uint32_t serial;
    int32_t status;
};

/* --- reading --- */

/* A cursor over an XDR payload. Every get fails (returns -1) once one
 * has failed: callers may check only at the end (bad). */
struct lv_reader {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
};

void lv_reader_init(struct lv_reader *r, const void *p, size_t len);
int lv_get_u32(struct lv_reader *r, uint32_t *v);
int lv_get_i32(struct lv_reader *r, int32_t *v);
int lv_get_u64(struct lv_reader *r, uint64_t *v);
/* opaque[n]: n bytes and their padding. */
int lv_get_fixed(struct lv_reader *r, void *buf, size_t n);
/* string<max>: a new NUL-terminated copy in *s_r (free it). A string
 * holding a NUL byte is refused: libvirt's strings are C strings. */
int lv_get_string(struct lv_reader *r, size_t max, char **s_r);
/* A remote_string (optional): *s_r is NULL when absent. */
int lv_get_opt_string(struct lv_reader *r, size_t max, char **s_r);

/* --- writing --- */

/* A growing buffer; after a failed allocation every put is a no-op and
 * oom stays set. */
struct lv_writer {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

void lv_writer_init(struct lv_writer *w);
void lv_writer_dispose(struct lv_writer *w);
void lv_put_u32(struct lv_writer *w, uint32_t v);
void lv_put_i32(struct lv_writer *w, int32_t v);
void lv_put_u64(struct lv_writer *w, uint64_t v);
void lv_put_fixed(struct lv_writer *w, const void *buf, size_t n);
/* opaque<>: the length, the bytes, the padding. */
void lv_put_opaque(struct lv_writer *w, const void *buf, size_t n);
void lv_put_string(struct lv_writer *w, const char *s);
/* remote_string: absent when s is NULL. */
void lv_put_opt_string(struct lv_writer *w, const char *s);

/* --- packets --- */

/* Reads the length word at p (at least LV_LEN_SIZE bytes): the whole
 * packet's size, length word included. */
uint32_t lv_packet_len(const void *p);
/* Decodes the header that follows the length word; p points at the
 * header, len counts what follows the length word. -1 when len is
 * shorter than a header. */
int lv_header_decode(const void *p, size_t len, struct lv_header *h);
/* Starts a packet in w (cleared first): a length placeholder and h. */
void lv_packet_begin(struct lv_writer *w, const struct lv_header *h);
/* Writes the length word. -1 when w ran out of memory or the packet is
 * over LV_MESSAGE_MAX. */
int lv_packet_end(struct lv_writer *w);

/* --- common types --- */

/* remote_nonnull_domain: id is -1 for a domain that does not run. */
struct lv_domain {
    char *name;
    uint8_t uuid[16];
    int32_t id;
};

int lv_get_domain(struct lv_reader *r, struct lv_domain *d);
void lv_put_domain(struct lv_writer *w, const char *name,
                   const uint8_t uuid[16], int32_t id);
void lv_domain_dispose(struct lv_domain *d);

/* remote_error, the payload of a REPLY with status ERROR. code and
 * domain are libvirt's virErrorNumber and virErrorDomain. */
void lv_put_error(struct lv_writer *w, int code, int domain,
                  const char *message);

/* --- argument layouts --- */

/* A procedure's arguments, decoded by a layout: one letter per member,
 * in order:
 *   d  remote_nonnull_domain      -> dom
 *   D  remote_domain (optional)   -> dom, has_dom
 *   s  remote_nonnull_string      -> str[k++]
 *   S  remote_string (optional)   -> str[k++] (NULL when absent)
 *   i  int    u  unsigned int     -> num[n++]
 *   h  hyper  H  unsigned hyper   -> num[n++] (unsigned as int64_t bits)
 *   x  remote_uuid (opaque[16])   -> uuid
 * Nothing else. Bytes after the last member are refused, as libvirtd's
 * XDR decode of a whole message refuses them. */
#define LV_ARGS_NUM 4
#define LV_ARGS_STR 2

struct lv_args {
    struct lv_domain dom;
    bool has_dom;
    char *str[LV_ARGS_STR];
    int64_t num[LV_ARGS_NUM];
    uint8_t uuid[16];
};

/* 0, or -1 when the payload does not hold the layout (args is left
 * disposable either way). */
int lv_args_decode(const char *layout, const void *p, size_t len,
                   struct lv_args *args);
void lv_args_dispose(struct lv_args *args);
/* The inverse of lv_args_decode, for the tests and the fuzz target: args
 * written by layout (unset strings of 's' as ""). */
void lv_args_encode(const char *layout, const struct lv_args *args,
                    struct lv_writer *w);

#endif /* KEEL_LV_XDR_H */

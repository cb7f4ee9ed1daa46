/* cfg.h: what the configuration model and its codecs share
 *
 * lib/config/ is one model (model.c) and one codec per format:
 * xlcfg-parse.c turns xl.cfg text into a tree of values, xlcfg.c maps the
 * tree onto the model and writes it back, xlspec.c parses the disk, vif
 * and rate specs xl.cfg carries in strings, json.c and xml.c are the
 * JSON and libvirt XML codecs. Every reader fills an initialised, empty
 * model; read.c wraps them with the size cap and file handling.
 */
#ifndef KEEL_CONFIG_CFG_H
#define KEEL_CONFIG_CFG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <keel/config.h>

#include "internal.h"

/* --- codecs: each reads into an initialised, empty cfg (leaving it for
 * the caller to dispose on failure) or writes a new string ------------- */

/* xlcfg.c. overrides: NULL-terminated statements or NULL. */
int keel__xlcfg_read(struct keel_ctx *ctx, const char *file, const char *buf,
                     size_t len, const char *const *overrides,
                     struct keel_domain_config *cfg);
int keel__xlcfg_write(struct keel_ctx *ctx,
                      const struct keel_domain_config *cfg, char **text_r);

/* json.c (reader), json-write.c (writer) */
int keel__cfgjson_read(struct keel_ctx *ctx, const char *file, const char *buf,
                       size_t len, struct keel_domain_config *cfg);
int keel__cfgjson_write(struct keel_ctx *ctx,
                        const struct keel_domain_config *cfg, char **text_r);

/* xml.c */
int keel__cfgxml_read(struct keel_ctx *ctx, const char *file, const char *buf,
                      size_t len, struct keel_domain_config *cfg);
int keel__cfgxml_write(struct keel_ctx *ctx,
                       const struct keel_domain_config *cfg, char **text_r);

/* --- xlspec.c: specs inside xl.cfg strings. file/line/col say where the
 * string started, for messages ("f.cfg:3:8: disk 1: ...") ------------- */
struct keel__where {
    const char *file;
    unsigned int line;
    unsigned int col;
};
/* Records "FILE:LINE:COL: KEY: what" ("KEY: what" when at is NULL) as
 * code; the one error format of the xl.cfg reader and its specs. */
int keel__where_verror(struct keel_ctx *ctx, int code,
                       const struct keel__where *at, const char *key,
                       const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
/* Parses one xl-disk-configuration spec into *disk (initialised). */
int keel__disk_spec_parse(struct keel_ctx *ctx, const struct keel__where *at,
                          const char *spec, struct keel_disk_config *disk);
/* Writes a disk spec that parses back to an equal disk. */
int keel__disk_spec_format(struct keel_ctx *ctx,
                           const struct keel_disk_config *disk, char **spec_r);
/* Parses one xl-network-configuration spec into *vif (initialised). */
int keel__vif_spec_parse(struct keel_ctx *ctx, const struct keel__where *at,
                         const char *spec, struct keel_vif_config *vif);
int keel__vif_spec_format(struct keel_ctx *ctx,
                          const struct keel_vif_config *vif, char **spec_r);
/* "RATE/s[@INTERVAL]" (B, KB, MB, GB bytes or b, Kb, Mb, Gb bits;
 * interval in s, ms or us, default 50ms) to bytes per second and
 * microseconds; and back. */
int keel__rate_parse(struct keel_ctx *ctx, const char *text,
                     int64_t *bytes_per_sec_r, int64_t *interval_us_r);
int keel__rate_format(struct keel_ctx *ctx, int64_t bytes_per_sec,
                      int64_t interval_us, char **text_r);

/* --- model.c ---------------------------------------------------------- */
void keel__disk_config_init(struct keel_disk_config *disk);
void keel__disk_config_dispose(struct keel_disk_config *disk);
void keel__vif_config_init(struct keel_vif_config *vif);
void keel__vif_config_dispose(struct keel_vif_config *vif);
void keel__affinity_dispose(struct keel_affinity_config *aff);

/* Appends an initialised disk (vif) to cfg and returns it in *disk_r.
 * KEEL_ERANGE past KEEL_CONFIG_MAX_ITEMS, KEEL_ENOMEM. */
int keel__config_add_disk(struct keel_ctx *ctx, struct keel_domain_config *cfg,
                          struct keel_disk_config **disk_r);
int keel__config_add_vif(struct keel_ctx *ctx, struct keel_domain_config *cfg,
                         struct keel_vif_config **vif_r);
/* Appends a spec (normalised first) to aff; KEEL_EINVAL names what. */
int keel__affinity_add(struct keel_ctx *ctx, struct keel_affinity_config *aff,
                       const char *spec);

/* NULL-terminated string vectors (bootloader_args). */
int keel__strv_add(struct keel_ctx *ctx, char ***strv, const char *s);
size_t keel__strv_len(char *const *strv);
void keel__strv_free(char **strv);

/* True for a non-zero uuid / mac. */
bool keel__uuid_is_set(const uint8_t uuid[16]);
bool keel__mac_is_set(const uint8_t mac[6]);

/* --- buf.c: a growing string for the writers. An allocation failure is
 * remembered and reported once, by keel__buf_finish ------------------- */
struct keel__buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;
};
void keel__buf_add(struct keel__buf *b, const char *s);
void keel__buf_addn(struct keel__buf *b, const char *s, size_t n);
void keel__buf_printf(struct keel__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the string to *text_r (0), or frees it and returns KEEL_ENOMEM. */
int keel__buf_finish(struct keel_ctx *ctx, struct keel__buf *b, char **text_r);
void keel__buf_dispose(struct keel__buf *b);

#endif /* KEEL_CONFIG_CFG_H */

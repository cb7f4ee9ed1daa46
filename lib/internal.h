/* internal.h: what every part of libkeel shares and nothing outside sees
 *
 * Error recording: keel_error(ctx, code, fmt, ...) stores the message with
 * the function and line that raised it and returns code, so a failure is
 * one line: `return keel_error(ctx, KEEL_EINVAL, "cpu %u out of range",
 * cpu);`. Within one public call the first error wins: a public entry
 * point brackets its work with keel__enter()/keel__leave(), and only the
 * outermost enter clears the thread's previous error.
 */
#ifndef KEEL_INTERNAL_H
#define KEEL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>

#include <keel/keel.h>

#define KEEL_EXPORT __attribute__((visibility("default")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int keel__error(struct keel_ctx *ctx, int code, const char *func, int line,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define keel_error(ctx, code, ...)                                             \
    keel__error((ctx), (code), __func__, __LINE__, __VA_ARGS__)

/* As keel_error, with ": strerror(errno)" appended and -errno as code when
 * code is 0. */
int keel__error_errno(struct keel_ctx *ctx, int code, const char *func,
                      int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
#define keel_error_errno(ctx, code, ...)                                       \
    keel__error_errno((ctx), (code), __func__, __LINE__, __VA_ARGS__)

/* Prepends a formatted prefix ("f.cfg:3:7: cpus: ") to the error the
 * current public call has recorded; a no-op when there is none. */
void keel__error_prefix(struct keel_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void keel__log(struct keel_ctx *ctx, enum keel_log_level level,
               const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define keel_warn(ctx, ...)                                                    \
    keel__log((ctx), KEEL_LOG_WARN, __func__, __VA_ARGS__)
#define keel_info(ctx, ...)                                                    \
    keel__log((ctx), KEEL_LOG_INFO, __func__, __VA_ARGS__)
#define keel_debug(ctx, ...)                                                   \
    keel__log((ctx), KEEL_LOG_DEBUG, __func__, __VA_ARGS__)

/* True when the current call has recorded an error. A step whose failure
 * is not the call's (a clean-up, a probe that may find nothing) notes it
 * first and, afterwards, clears the error only when none was recorded
 * before: keel__error_unrecord(ctx, had). So the first error wins. */
bool keel__error_isset(struct keel_ctx *ctx);
void keel__error_unrecord(struct keel_ctx *ctx, bool had);
void keel__enter(struct keel_ctx *ctx);
void keel__leave(struct keel_ctx *ctx);

/* Backend entry bracket (lib/hv/hv.c): takes the handle's lock and opens
 * a public call; when supported is false records KEEL_ENOTSUP naming op
 * and the backend. keel__hv_end closes the call, unlocks and returns rc.
 * Used by the keel_hv_* wrappers and by backend-specific public calls
 * such as keel_sim_*. */
struct keel_hv;
int keel__hv_begin(struct keel_hv *hv, bool supported, const char *op);
int keel__hv_end(struct keel_hv *hv, int rc);

/* json.c: parses buf (len bytes, NUL-terminated) into a yajl tree,
 * refusing nesting deeper than max_depth, NUL bytes and comments first.
 * Errors are KEEL_ECORRUPT "file:line:col: what". Free *doc_r with
 * yajl_tree_free. */
struct yajl_val_s;
int keel__json_parse(struct keel_ctx *ctx, const char *file, const char *buf,
                     size_t len, size_t max_depth, struct yajl_val_s **doc_r);

/* Names of enum values: tables of {value, name}; NULL / KEEL_EINVAL when
 * absent. */
struct keel__enum_name {
    int value;
    const char *name;
};
const char *keel__enum_to_name(const struct keel__enum_name *tab, size_t n,
                               int value);
int keel__enum_from_name(const struct keel__enum_name *tab, size_t n,
                         const char *name);

/* The value of a hex digit (either case), or -1. */
int keel__hexval(char c);

/* Small helpers. */
char *keel__strdup(struct keel_ctx *ctx, const char *s);
char *keel__sprintf(struct keel_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Parses an unsigned decimal integer that fills the whole string. */
bool keel__parse_u64(const char *s, uint64_t *v_r);

/* util.c: the monotonic clock in ns (for durations) and ms (for
 * timeouts), and the wall clock in ns since the epoch (for start times). */
uint64_t keel__mono_ns(void);
uint64_t keel__mono_ms(void);
uint64_t keel__wall_ns(void);

#endif /* KEEL_INTERNAL_H */

/* ctx.c: the libkeel context, its logger and the per-thread last error
 *
 * The last error is per thread so that a context shared by keeld's loop
 * and its job workers never hands one thread's message to another: each
 * context owns a pthread key whose value is that thread's error slot.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ERRMSG_MAX 1024

struct err_slot {
    unsigned int depth; /* nesting of public calls on this thread */
    bool set;           /* an error was recorded in the current call */
    int code;
    char msg[ERRMSG_MAX];
};

struct keel_ctx {
    pthread_key_t key;
    enum keel_log_level level;
    keel_log_fn *log_fn;
    void *log_opaque;
};

static void
slot_free(void *p)
{
    free(p);
}

KEEL_EXPORT int
keel_ctx_new(struct keel_ctx **ctx_r, unsigned int flags)
{
    struct keel_ctx *ctx;

    *ctx_r = NULL;
    if (flags)
        return KEEL_EINVAL;
    ctx = calloc(1, sizeof(*ctx));
    if (!ctx)
        return KEEL_ENOMEM;
    if (pthread_key_create(&ctx->key, slot_free)) {
        free(ctx);
        return KEEL_ENOMEM;
    }
    ctx->level = KEEL_LOG_WARN;
    *ctx_r = ctx;
    return 0;
}

KEEL_EXPORT void
keel_ctx_free(struct keel_ctx *ctx)
{
    if (!ctx)
        return;
    /* Only this thread's slot can be reached here; other threads' slots
     * are freed by the key destructor when those threads exit. */
    free(pthread_getspecific(ctx->key));
    pthread_setspecific(ctx->key, NULL);
    pthread_key_delete(ctx->key);
    free(ctx);
}

KEEL_EXPORT void
keel_ctx_set_logger(struct keel_ctx *ctx, enum keel_log_level level,
                    keel_log_fn *fn, void *opaque)
{
    ctx->level = level;
    ctx->log_fn = fn;
    ctx->log_opaque = opaque;
}

static struct err_slot *
slot_get(struct keel_ctx *ctx)
{
    struct err_slot *slot = pthread_getspecific(ctx->key);

    if (slot)
        return slot;
    slot = calloc(1, sizeof(*slot));
    if (!slot)
        return NULL;
    if (pthread_setspecific(ctx->key, slot)) {
        free(slot);
        return NULL;
    }
    return slot;
}

KEEL_EXPORT const char *
keel_ctx_last_error(struct keel_ctx *ctx)
{
    struct err_slot *slot = pthread_getspecific(ctx->key);

    return slot && slot->set ? slot->msg : "";
}

KEEL_EXPORT int
keel_ctx_last_code(struct keel_ctx *ctx)
{
    struct err_slot *slot = pthread_getspecific(ctx->key);

    return slot && slot->set ? slot->code : 0;
}

KEEL_EXPORT void
keel_ctx_clear_error(struct keel_ctx *ctx)
{
    struct err_slot *slot = pthread_getspecific(ctx->key);

    if (slot)
        slot->set = false;
}

bool
keel__error_isset(struct keel_ctx *ctx)
{
    struct err_slot *slot = pthread_getspecific(ctx->key);

    return slot && slot->set;
}

void
keel__error_unrecord(struct keel_ctx *ctx, bool had)
{
    if (!had)
        keel_ctx_clear_error(ctx);
}

void
keel__enter(struct keel_ctx *ctx)
{
    struct err_slot *slot = slot_get(ctx);

    if (!slot)
        return;
    if (slot->depth++ == 0)
        slot->set = false;
}

void
keel__leave(struct keel_ctx *ctx)
{
    struct err_slot *slot = pthread_getspecific(ctx->key);

    if (slot && slot->depth > 0)
        slot->depth--;
}

static void
log_stderr(enum keel_log_level level, const char *func, const char *msg)
{
    fprintf(stderr, "keel: %s: %s: %s\n", keel_log_level_name(level), func,
            msg);
}

static void log_va(struct keel_ctx *ctx, enum keel_log_level level,
                   const char *func, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
log_va(struct keel_ctx *ctx, enum keel_log_level level, const char *func,
       const char *fmt, va_list ap)
{
    char msg[ERRMSG_MAX];

    if (level > ctx->level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (ctx->log_fn)
        ctx->log_fn(ctx->log_opaque, level, func, msg);
    else
        log_stderr(level, func, msg);
}

void
keel__log(struct keel_ctx *ctx, enum keel_log_level level, const char *func,
          const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_va(ctx, level, func, fmt, ap);
    va_end(ap);
}

KEEL_EXPORT void
keel_log(struct keel_ctx *ctx, enum keel_log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_va(ctx, level, "keel_log", fmt, ap);
    va_end(ap);
}

static int error_va(struct keel_ctx *ctx, int code, const char *func, int line,
                    const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* Records the first error of the current call; later ones are only logged
 * at debug level so a failing clean-up never hides the cause. */
static int
error_va(struct keel_ctx *ctx, int code, const char *func, int line,
         const char *suffix, const char *fmt, va_list ap)
{
    struct err_slot *slot = slot_get(ctx);
    char msg[ERRMSG_MAX];
    int n;

    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    if (suffix && n >= 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - n, ": %s", suffix);
    if (!slot || slot->set) {
        keel__log(ctx, KEEL_LOG_DEBUG, func, "(later error) %s", msg);
        return code;
    }
    slot->set = true;
    slot->code = code;
    memcpy(slot->msg, msg, sizeof(msg));
    keel__log(ctx, KEEL_LOG_DEBUG, func, "line %d: %s: %s", line,
              keel_strerror(code), msg);
    return code;
}

/* Prepends text to the error the current call recorded, so a caller that
 * knows where (file:line:col, a key) can say so around a helper's reason. */
void
keel__error_prefix(struct keel_ctx *ctx, const char *fmt, ...)
{
    struct err_slot *slot = slot_get(ctx);
    char msg[ERRMSG_MAX];
    va_list ap;
    int n;

    if (!slot || !slot->set)
        return;
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return;
    snprintf(msg + n, sizeof(msg) - n, "%s", slot->msg);
    memcpy(slot->msg, msg, sizeof(msg));
}

int
keel__error(struct keel_ctx *ctx, int code, const char *func, int line,
            const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = error_va(ctx, code, func, line, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int
keel__error_errno(struct keel_ctx *ctx, int code, const char *func, int line,
                  const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    if (code == 0)
        code = saved ? -saved : KEEL_EIO;
    va_start(ap, fmt);
    code = error_va(ctx, code, func, line, strerror(saved), fmt, ap);
    va_end(ap);
    errno = saved;
    return code;
}

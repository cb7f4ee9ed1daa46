/* keel.h: libkeel's context, error codes and logging
 *
 * Every libkeel call takes a struct keel_ctx. The context carries the
 * logger and the last error message; it holds no hypervisor state (that
 * lives in a struct keel_hv opened from the context, see <keel/hv.h>).
 *
 * Errors: every public call that can fail returns an int, 0 (or a count)
 * on success and a negative enum keel_err on failure. keel_strerror()
 * names the code; keel_ctx_last_error() gives the message that the failing
 * call recorded, which says what failed and why (file:line:column for
 * parsers). Within one public call the first error recorded wins, so a
 * clean-up that fails after the real cause does not hide it.
 *
 * Threads: a context may be shared by any number of threads. The logger
 * is read-only once set (set it before handing the context to other
 * threads); the last error is kept per thread, so each thread reads the
 * error of its own last call. libkeel starts no threads and installs no
 * signal handlers.
 */
#ifndef KEEL_KEEL_H
#define KEEL_KEEL_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <keel/cpumap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: -errno where one fits, keel's own from -4000 down.
 * Checklist when adding one: keel_strerror() in lib/error.c, the JSON-RPC
 * error mapping in keeld, the Python exception table, tests/unit/test-core.c.
 */
enum keel_err {
    KEEL_OK = 0,
    KEEL_EPERM = -EPERM,         /* operation not permitted */
    KEEL_ENOENT = -ENOENT,       /* no such object (file, store path) */
    KEEL_EIO = -EIO,             /* I/O error */
    KEEL_E2BIG = -E2BIG,         /* argument list or value too long */
    KEEL_EAGAIN = -EAGAIN,       /* try again (nothing ready yet) */
    KEEL_ENOMEM = -ENOMEM,       /* out of memory in this process */
    KEEL_EBUSY = -EBUSY,         /* object in use */
    KEEL_EEXIST = -EEXIST,       /* object already exists */
    KEEL_EINVAL = -EINVAL,       /* invalid argument */
    KEEL_ENOSPC = -ENOSPC,       /* no space left (file system) */
    KEEL_ERANGE = -ERANGE,       /* value out of range */
    KEEL_ENOTSUP = -ENOTSUP,     /* not supported by this backend */
    KEEL_ETIMEDOUT = -ETIMEDOUT, /* timed out */
    KEEL_ECANCELED = -ECANCELED, /* cancelled by the caller */

    KEEL_ENODOMAIN = -4000,  /* no such domain */
    KEEL_ENOPOOL = -4001,    /* no such CPU pool */
    KEEL_ESTATE = -4002,     /* operation invalid in the object's state */
    KEEL_ECORRUPT = -4003,   /* stored or received data is corrupt */
    KEEL_EFOREIGN = -4004,   /* data belongs to something else */
    KEEL_ENOHOSTMEM = -4005, /* not enough free memory on the host */
    KEEL_ELOCKED = -4006,    /* held by another process */
    KEEL_ESYNTAX = -4007,    /* syntax error in input */
    KEEL_EBACKEND = -4008,   /* no such hypervisor backend */
};

/* Returns a static, human-readable name for an error code (positive or
 * negative); never NULL. Thread: any. */
const char *keel_strerror(int err);

/* The library's version, "MAJOR.MINOR.PATCH". Thread: any. */
const char *keel_version(void);

enum keel_log_level {
    KEEL_LOG_ERROR = 0,
    KEEL_LOG_WARN = 1,
    KEEL_LOG_INFO = 2,
    KEEL_LOG_DEBUG = 3,
};

/* Parses "error", "warn"/"warning", "info" or "debug". Returns the level,
 * or KEEL_EINVAL for anything else. Thread: any. */
int keel_log_level_parse(const char *name);

/* Returns "error", "warn", "info" or "debug". Thread: any. */
const char *keel_log_level_name(enum keel_log_level level);

/* A log sink. Called with one complete message (no trailing newline) on
 * the thread that made the libkeel call being logged. func is the libkeel
 * function that logged. */
typedef void keel_log_fn(void *opaque, enum keel_log_level level,
                         const char *func, const char *msg);

struct keel_ctx;

/* Creates a context that logs warnings and errors to stderr.
 * flags: none defined, must be 0.
 * Returns 0, KEEL_EINVAL (unknown flags) or KEEL_ENOMEM. */
int keel_ctx_new(struct keel_ctx **ctx_r, unsigned int flags);

/* Frees a context; NULL is a no-op. Close every struct keel_hv opened
 * from it first. */
void keel_ctx_free(struct keel_ctx *ctx);

/* Sends messages at or above level (ERROR is the most severe) to fn, or to
 * stderr when fn is NULL. Not thread-safe: call before sharing ctx. */
void keel_ctx_set_logger(struct keel_ctx *ctx, enum keel_log_level level,
                         keel_log_fn *fn, void *opaque);

/* The message recorded by this thread's last failing call on ctx, or ""
 * when there is none. The string stays valid until this thread's next
 * libkeel call on ctx. */
const char *keel_ctx_last_error(struct keel_ctx *ctx);

/* The code that went with keel_ctx_last_error(), or 0. */
int keel_ctx_last_code(struct keel_ctx *ctx);

/* Forgets this thread's last error on ctx. */
void keel_ctx_clear_error(struct keel_ctx *ctx);

/* Logs a message through ctx's logger (for programs built on libkeel that
 * want one log stream). */
void keel_log(struct keel_ctx *ctx, enum keel_log_level level, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif

#endif /* KEEL_KEEL_H */

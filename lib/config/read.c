/* read.c: the public read and write calls, which pick a codec
 *
 * The size cap is enforced here, once, before any codec sees the input:
 * a reader may then assume its input fits in memory several times over.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"

static const char *
input_name(const char *file)
{
    return !file || !strcmp(file, "-") ? "<stdin>" : file;
}

static int
dispatch_read(struct keel_ctx *ctx, enum keel_config_format format,
              const char *file, const char *buf, size_t len,
              const char *const *overrides, struct keel_domain_config *cfg)
{
    switch (format) {
    case KEEL_CONFIG_XL:
        return keel__xlcfg_read(ctx, file, buf, len, overrides, cfg);
    case KEEL_CONFIG_JSON:
        return keel__cfgjson_read(ctx, file, buf, len, cfg);
    case KEEL_CONFIG_XML:
        return keel__cfgxml_read(ctx, file, buf, len, cfg);
    }
    return keel_error(ctx, KEEL_EINVAL, "unknown config format %d", format);
}

KEEL_EXPORT int
keel_domain_config_read(struct keel_ctx *ctx, enum keel_config_format format,
                        const char *file, const char *buf, size_t len,
                        const char *const *overrides, unsigned int flags,
                        struct keel_domain_config *cfg)
{
    int rc;

    keel__enter(ctx);
    keel_domain_config_dispose(cfg);
    file = input_name(file);
    if (flags)
        rc = keel_error(ctx, KEEL_EINVAL, "unknown flags 0x%x", flags);
    else if (len > KEEL_CONFIG_MAX_SIZE)
        rc = keel_error(ctx, KEEL_E2BIG,
                        "%s: %zu bytes is more than a config may hold (%u)",
                        file, len, KEEL_CONFIG_MAX_SIZE);
    else if (overrides && format != KEEL_CONFIG_XL)
        rc = keel_error(ctx, KEEL_EINVAL,
                        "%s: KEY=VALUE overrides apply to xl.cfg input only",
                        file);
    else
        rc = dispatch_read(ctx, format, file, buf, len, overrides, cfg);
    if (rc)
        keel_domain_config_dispose(cfg);
    keel__leave(ctx);
    return rc;
}

/* Reads all of fd, refusing more than KEEL_CONFIG_MAX_SIZE bytes. */
static int
slurp(struct keel_ctx *ctx, int fd, const char *name, char **buf_r,
      size_t *len_r)
{
    size_t cap = KEEL_CONFIG_MAX_SIZE + 1, len = 0;
    char *buf = malloc(cap);
    ssize_t r;

    if (!buf)
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    while (len < cap && (r = read(fd, buf + len, cap - len)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return keel_error_errno(ctx, 0, "%s: cannot read", name);
        }
        len += (size_t)r;
    }
    if (len > KEEL_CONFIG_MAX_SIZE) {
        free(buf);
        return keel_error(ctx, KEEL_E2BIG,
                          "%s: more than %u bytes, more than a config may "
                          "hold",
                          name, KEEL_CONFIG_MAX_SIZE);
    }
    *buf_r = buf;
    *len_r = len;
    return 0;
}

KEEL_EXPORT int
keel_domain_config_read_file(struct keel_ctx *ctx,
                             enum keel_config_format format, const char *path,
                             const char *const *overrides, unsigned int flags,
                             struct keel_domain_config *cfg)
{
    bool is_stdin = !path || !strcmp(path, "-");
    const char *name = input_name(path);
    char *buf = NULL;
    size_t len = 0;
    int fd, rc;

    keel__enter(ctx);
    keel_domain_config_dispose(cfg);
    fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = keel_error_errno(ctx, 0, "%s: cannot open", name);
        goto out;
    }
    rc = slurp(ctx, fd, name, &buf, &len);
    if (!is_stdin)
        close(fd);
    if (!rc)
        rc = keel_domain_config_read(ctx, format, name, buf, len, overrides,
                                     flags, cfg);
out:
    free(buf);
    keel__leave(ctx);
    return rc;
}

KEEL_EXPORT int
keel_domain_config_write(struct keel_ctx *ctx, enum keel_config_format format,
                         const struct keel_domain_config *cfg,
                         unsigned int flags, char **text_r)
{
    int rc;

    keel__enter(ctx);
    *text_r = NULL;
    if (flags)
        rc = keel_error(ctx, KEEL_EINVAL, "unknown flags 0x%x", flags);
    else if (format == KEEL_CONFIG_XL)
        rc = keel__xlcfg_write(ctx, cfg, text_r);
    else if (format == KEEL_CONFIG_JSON)
        rc = keel__cfgjson_write(ctx, cfg, text_r);
    else if (format == KEEL_CONFIG_XML)
        rc = keel__cfgxml_write(ctx, cfg, text_r);
    else
        rc = keel_error(ctx, KEEL_EINVAL, "unknown config format %d", format);
    keel__leave(ctx);
    return rc;
}

/* xlcfg.c: placeholder until the codec lands */
#include "config.h"

#include "cfg.h"

int
keel__xlcfg_read(struct keel_ctx *ctx, const char *file, const char *buf,
                  size_t len, const char *const *overrides, struct keel_domain_config *cfg)
{
    return keel_error(ctx, KEEL_ENOTSUP, "not yet");
}

int
keel__xlcfg_write(struct keel_ctx *ctx, const struct keel_domain_config *cfg,
                   char **text_r)
{
    return keel_error(ctx, KEEL_ENOTSUP, "not yet");
}

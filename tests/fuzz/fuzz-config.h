/* fuzz-config.h: the check every configuration reader's fuzz target makes
 *
 * The input is a document in one format, NUL bytes and all. Whatever it
 * holds, reading must not crash, leak or hang, and then:
 *   - a refused input returns a negative code and leaves that code and a
 *     message on the context;
 *   - an accepted input is written back in the same format. The writer
 *     may refuse only with KEEL_EINVAL and a message, and only when the
 *     format may say less than the model holds (writer_may_refuse: xl.cfg
 *     cannot spell some rates, JSON some libxl values); XML must always
 *     succeed, since its metadata carries what libvirt cannot say.
 *   - what was written reads back to an equal model, which written again
 *     gives the same text.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 * Include after fuzz.h.
 */
#ifndef KEEL_FUZZ_CONFIG_H
#define KEEL_FUZZ_CONFIG_H

#include <keel/config.h>

static inline void
fuzz_config_round_trip(struct keel_ctx *ctx, enum keel_config_format format,
                       bool writer_may_refuse,
                       const struct keel_domain_config *cfg)
{
    struct keel_domain_config again;
    char *text = NULL, *text2 = NULL;
    int rc;

    keel_domain_config_init(&again);
    rc = keel_domain_config_write(ctx, format, cfg, 0, &text);
    if (rc && writer_may_refuse) {
        fuzz_check(rc == KEEL_EINVAL, "a writer refusal is KEEL_EINVAL");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0',
                   "a writer refusal says why");
        goto out;
    }
    if (rc)
        fprintf(stderr, "write: %s\n", keel_ctx_last_error(ctx));
    fuzz_check(rc == 0, "an accepted input can be written back");
    rc = keel_domain_config_read(ctx, format, "again", text, strlen(text), NULL,
                                 0, &again);
    if (rc)
        fprintf(stderr, "re-read: %s\n--\n%s--\n", keel_ctx_last_error(ctx),
                text);
    fuzz_check(rc == 0, "what the writer wrote reads back");
    if (!keel_domain_config_equal(cfg, &again))
        fprintf(stderr, "written:\n%s", text);
    fuzz_check(keel_domain_config_equal(cfg, &again),
               "what the writer wrote reads back equal");
    rc = keel_domain_config_write(ctx, format, &again, 0, &text2);
    fuzz_check(rc == 0 && !strcmp(text, text2),
               "writing the re-read model gives the same text");
out:
    free(text);
    free(text2);
    keel_domain_config_dispose(&again);
}

/* The whole target: read data as format, then check as above. */
static inline int
fuzz_config_one(enum keel_config_format format, bool writer_may_refuse,
                const uint8_t *data, size_t size)
{
    struct keel_domain_config cfg;
    struct keel_ctx *ctx = NULL;
    int rc;

    if (keel_ctx_new(&ctx, 0))
        abort();
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    keel_domain_config_init(&cfg);
    rc = keel_domain_config_read(ctx, format, "fuzz", (const char *)data, size,
                                 NULL, 0, &cfg);
    if (rc == 0) {
        fuzz_config_round_trip(ctx, format, writer_may_refuse, &cfg);
    } else {
        fuzz_check(rc < 0, "a refusal is a negative code");
        fuzz_check(keel_ctx_last_code(ctx) == rc, "the context has the code");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0', "a refusal says why");
    }
    keel_domain_config_dispose(&cfg);
    keel_ctx_free(ctx);
    return 0;
}

#endif /* KEEL_FUZZ_CONFIG_H */

/* fuzz-config-xl.c: fuzz target of the xl.cfg reader and writer
 * (keel_domain_config_read/write with KEEL_CONFIG_XL, lib/config/xlcfg*.c
 * and xlspec.c)
 *
 * The input is xl.cfg text, NUL bytes and all. Whatever it holds, the
 * read must not crash or leak, and then:
 *   - a refused input returns a negative code and leaves that code and a
 *     message on the context;
 *   - an accepted input is written back as xl.cfg, unless the writer
 *     refuses with KEEL_EINVAL (something xl.cfg cannot express, such as
 *     a rate no RATE/s spelling gives), and the text read again gives an
 *     equal model, which written again gives the same text.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "config-xl"
#include "fuzz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>
#include <keel/keel.h>

static void
check_round_trip(struct keel_ctx *ctx, const struct keel_domain_config *cfg)
{
    struct keel_domain_config again;
    char *text = NULL, *text2 = NULL;
    int rc;

    keel_domain_config_init(&again);
    rc = keel_domain_config_write(ctx, KEEL_CONFIG_XL, cfg, 0, &text);
    if (rc) {
        fuzz_check(rc == KEEL_EINVAL, "a writer refusal is KEEL_EINVAL");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0',
                   "a writer refusal says why");
        goto out;
    }
    rc = keel_domain_config_read(ctx, KEEL_CONFIG_XL, "again.cfg", text,
                                 strlen(text), NULL, 0, &again);
    if (rc)
        fprintf(stderr, "re-read failed: %s\n--\n%s--\n",
                keel_ctx_last_error(ctx), text);
    fuzz_check(rc == 0, "what the writer wrote reads back");
    fuzz_check(keel_domain_config_equal(cfg, &again),
               "what the writer wrote reads back equal");
    rc = keel_domain_config_write(ctx, KEEL_CONFIG_XL, &again, 0, &text2);
    fuzz_check(rc == 0 && !strcmp(text, text2),
               "writing the re-read model gives the same text");
out:
    free(text);
    free(text2);
    keel_domain_config_dispose(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keel_domain_config cfg;
    struct keel_ctx *ctx = NULL;
    int rc;

    if (keel_ctx_new(&ctx, 0))
        abort();
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    keel_domain_config_init(&cfg);
    rc = keel_domain_config_read(ctx, KEEL_CONFIG_XL, "fuzz.cfg",
                                 (const char *)data, size, NULL, 0, &cfg);
    if (rc == 0) {
        check_round_trip(ctx, &cfg);
    } else {
        fuzz_check(rc < 0, "a refusal is a negative code");
        fuzz_check(keel_ctx_last_code(ctx) == rc, "the context has the code");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0', "a refusal says why");
    }
    keel_domain_config_dispose(&cfg);
    keel_ctx_free(ctx);
    return 0;
}

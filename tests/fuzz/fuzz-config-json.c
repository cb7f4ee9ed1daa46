/* fuzz-config-json.c: fuzz target of the JSON config codec
 * (keel_domain_config_read/write with KEEL_CONFIG_JSON, lib/config/json.c)
 *
 * The input is a JSON document. Whatever it holds, the read must not
 * crash or leak, and then:
 *   - a refused document returns a negative code and leaves that code and
 *     a message on the context;
 *   - an accepted one writes back as JSON, the text reads back to an
 *     equal model, and writing that model gives the same text again.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "config-json"
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

    keel_domain_config_init(&again);
    fuzz_check(keel_domain_config_write(ctx, KEEL_CONFIG_JSON, cfg, 0,
                                        &text) == 0,
               "an accepted config writes as JSON");
    fuzz_check(text && strlen(text) > 0 && text[strlen(text) - 1] == '\n',
               "the text ends in a newline");
    fuzz_check(keel_domain_config_read(ctx, KEEL_CONFIG_JSON, "again.json",
                                       text, strlen(text), NULL, 0,
                                       &again) == 0,
               "what keel wrote reads back");
    fuzz_check(keel_domain_config_equal(cfg, &again),
               "what keel wrote reads back to an equal model");
    fuzz_check(keel_domain_config_write(ctx, KEEL_CONFIG_JSON, &again, 0,
                                        &text2) == 0 &&
                   strcmp(text, text2) == 0,
               "writing the model read back gives the same text");
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
    rc = keel_domain_config_read(ctx, KEEL_CONFIG_JSON, "fuzz.json",
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

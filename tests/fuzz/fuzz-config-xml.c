/* fuzz-config-xml.c: fuzz target of the libvirt domain XML codec
 * (keel__cfgxml_read / keel__cfgxml_write, lib/config/xml.c)
 *
 * The input is a libvirt domain XML document. Whatever it holds, reading
 * must not crash, leak or hang, and then:
 *   - a refusal returns a negative code and leaves that code and a
 *     message on the context;
 *   - an accepted document is written back as XML, which must succeed
 *     (a model the reader made is one the writer can express), and
 *     reading that text must give an equal model: the writer's promise
 *     that model -> XML -> model is exact.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "config-xml"
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/config.h>
#include <keel/keel.h>

static void
check_round_trip(struct keel_ctx *ctx, const struct keel_domain_config *cfg)
{
    struct keel_domain_config again;
    char *text = NULL;
    int rc;

    keel_domain_config_init(&again);
    rc = keel_domain_config_write(ctx, KEEL_CONFIG_XML, cfg, 0, &text);
    if (rc)
        fprintf(stderr, "write: %s\n", keel_ctx_last_error(ctx));
    fuzz_check(rc == 0, "an accepted document can be written back");
    rc = keel_domain_config_read(ctx, KEEL_CONFIG_XML, "again.xml", text,
                                 strlen(text), NULL, 0, &again);
    if (rc)
        fprintf(stderr, "re-read: %s\n%s", keel_ctx_last_error(ctx), text);
    fuzz_check(rc == 0, "what the writer wrote reads back");
    if (!keel_domain_config_equal(cfg, &again))
        fprintf(stderr, "written:\n%s", text);
    fuzz_check(keel_domain_config_equal(cfg, &again),
               "what the writer wrote reads back equal");
    keel_domain_config_dispose(&again);
    free(text);
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
    rc = keel_domain_config_read(ctx, KEEL_CONFIG_XML, "fuzz.xml",
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

/* fuzz-stream.c: fuzz target of the migration-stream reader (lib/stream/)
 *
 * Reads the input in AUTO format from memory until the stream's end or a
 * fault, describing every item. Invariants: offsets only grow and stay
 * inside the input; a fault is KEEL_ECORRUPT whose message starts with
 * "offset "; after the end the reader keeps returning 0, after a fault
 * the same fault.
 */
#include "config.h"

#define FUZZ_NAME "stream"
#include "fuzz.h"

#include <keel/stream.h>

static void
check_item(const struct keel_stream_item *it, uint64_t prev, size_t size)
{
    char line[256];

    fuzz_check(it->offset >= prev && it->offset < size,
               "item offsets grow inside the input");
    keel_stream_item_describe(it, line, sizeof(line));
    fuzz_check(strlen(line) < sizeof(line) && line[0] == '@',
               "describe gives one line starting with @");
    if (it->kind == KEEL_STREAM_ITEM_IMAGE_RECORD &&
        it->type == KEEL_XC_PAGE_DATA && !it->skipped)
        fuzz_check(it->u.pages.count >= 1 &&
                       it->u.pages.count <= KEEL_STREAM_PAGE_BATCH,
                   "PAGE_DATA count within a batch");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keel_stream_reader *r = NULL;
    struct keel_stream_item it;
    struct keel_ctx *ctx = NULL;
    uint64_t prev = 0;
    int rc;

    if (keel_ctx_new(&ctx, 0))
        return 0;
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    if (keel_stream_reader_new_mem(ctx, data, size, KEEL_STREAM_AUTO, &r))
        goto out;
    while ((rc = keel_stream_read(r, &it)) == 1) {
        check_item(&it, prev, size);
        prev = it.offset;
    }
    fuzz_check(keel_stream_reader_offset(r) <= size, "offset inside input");
    if (rc == 0) {
        fuzz_check(keel_stream_read(r, &it) == 0, "the end stays the end");
    } else {
        fuzz_check(rc == KEEL_ECORRUPT || rc == KEEL_ENOMEM,
                   "a fault is KEEL_ECORRUPT");
        fuzz_check(!strncmp(keel_ctx_last_error(ctx), "offset ", 7),
                   "a fault names its offset");
        fuzz_check(keel_stream_read(r, &it) == rc, "a fault repeats");
    }
out:
    keel_stream_reader_free(r);
    keel_ctx_free(ctx);
    return 0;
}

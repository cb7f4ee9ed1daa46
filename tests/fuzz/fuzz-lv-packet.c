/* fuzz-lv-packet.c: fuzz target of keeld's libvirt packet decoder
 * (daemon/libvirt/xdr.c)
 *
 * The input is a stream of packets as a client would send them. Each
 * whole packet (cut by its length word, as conn.c cuts them; a length
 * under a header ends the stream, as it closes the connection) has its
 * header decoded and its payload decoded by every argument layout keeld
 * serves. Checks: a decode that succeeds consumed the payload exactly;
 * its arguments written back and decoded again give the same arguments
 * (padding aside, the encoding is canonical); the re-encoding is no
 * longer than the payload; a decode that fails can be disposed; a reply
 * built from what was decoded (a header, an error naming a string of the
 * arguments) ends as a well-formed packet.
 */
#include "config.h"

#define FUZZ_NAME "lv-packet"
#include "fuzz.h"

#include "../../daemon/libvirt/xdr.h"

/* Every layout of daemon/libvirt/procs.c's table. */
static const char *const layouts[] = {
    "",  "i",  "Su", "iD", "iiu", "iu",  "s",   "x",
    "d", "du", "di", "su", "dH",  "dHu", "dii", "diiu",
};

static bool
same_args(const struct lv_args *a, const struct lv_args *b)
{
    int i;

    if (a->has_dom != b->has_dom || memcmp(a->uuid, b->uuid, 16) ||
        memcmp(a->num, b->num, sizeof(a->num)))
        return false;
    if (a->has_dom &&
        (strcmp(a->dom.name, b->dom.name) ||
         memcmp(a->dom.uuid, b->dom.uuid, 16) || a->dom.id != b->dom.id))
        return false;
    for (i = 0; i < LV_ARGS_STR; i++)
        if ((a->str[i] == NULL) != (b->str[i] == NULL) ||
            (a->str[i] && strcmp(a->str[i], b->str[i])))
            return false;
    return true;
}

static void
check_layout(const char *layout, const uint8_t *p, size_t len)
{
    struct lv_args a, b;
    struct lv_writer w;

    if (lv_args_decode(layout, p, len, &a)) {
        lv_args_dispose(&a);
        return;
    }
    lv_writer_init(&w);
    lv_args_encode(layout, &a, &w);
    fuzz_check(!w.oom, "re-encoding fits in memory");
    fuzz_check(w.len == len, "a decode consumes the payload exactly");
    fuzz_check(lv_args_decode(layout, w.p, w.len, &b) == 0,
               "the re-encoding decodes");
    fuzz_check(same_args(&a, &b), "the re-encoding decodes the same");
    lv_args_dispose(&b);
    /* an error reply naming what was sent, as conn.c builds them */
    {
        struct lv_header h = {LV_PROGRAM, 1, 23, LV_REPLY, 7, LV_ERROR};

        lv_packet_begin(&w, &h);
        lv_put_error(&w, 42, 1, a.str[0] ? a.str[0] : a.dom.name);
        fuzz_check(lv_packet_end(&w) == 0, "an error reply ends");
        fuzz_check(lv_packet_len(w.p) == w.len, "its length word");
    }
    lv_writer_dispose(&w);
    lv_args_dispose(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lv_header h;
    size_t pos = 0, i;
    uint32_t n;

    while (size - pos >= LV_LEN_SIZE) {
        n = lv_packet_len(data + pos);
        if (n < LV_LEN_SIZE + LV_HEADER_SIZE || n > size - pos)
            break;
        fuzz_check(lv_header_decode(data + pos + LV_LEN_SIZE, n - LV_LEN_SIZE,
                                    &h) == 0,
                   "a whole packet has a header");
        for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
            check_layout(layouts[i], data + pos + LV_LEN_SIZE + LV_HEADER_SIZE,
                         n - LV_LEN_SIZE - LV_HEADER_SIZE);
        pos += n;
    }
    return 0;
}

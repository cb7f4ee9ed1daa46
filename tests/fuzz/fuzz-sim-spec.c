/* fuzz-sim-spec.c: fuzz target of the sim host spec parser
 * (keel_sim_spec_parse, lib/hv/sim/spec.c)
 *
 * The input, cut at its first NUL, is a spec string. Whatever it holds,
 * the parse must not crash, and then:
 *   - a refused spec returns KEEL_ESYNTAX or KEEL_ERANGE and leaves that
 *     code and a message on the context;
 *   - an accepted spec is a host the sim can build: what <keel/sim.h>
 *     promises (cpus divide evenly into sockets and nodes, a socket's
 *     cores into threads; memory in 4 KiB pages, 1 MiB..1 PiB, what
 *     state.json reads back; dom0 a page or more below it, with
 *     1..SIM_MAX_VCPUS vCPUs; cpu_khz > 0), and written back as KEY=VALUE
 *     text it parses to the same spec.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "sim-spec"
#include "fuzz.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>
#include <keel/sim.h>

#include "hv/sim/sim.h"

#define MAX_KB (UINT64_C(1) << 40) /* what state.c reads back */

/* A size as the parser reads it: the largest suffix that is exact. */
static void
format_size(char *buf, size_t len, uint64_t kb)
{
    static const char suffix[] = "tgmk";
    unsigned int shift = 30;
    size_t i;

    for (i = 0; shift > 0 && kb % (UINT64_C(1) << shift) != 0; i++)
        shift -= 10;
    snprintf(buf, len, "%" PRIu64 "%c", kb >> shift, suffix[i]);
}

static void
check_accepted(struct keel_ctx *ctx, const struct keel_sim_spec *sp)
{
    struct keel_sim_spec again;
    char mem[32], dom0[32], text[256];

    fuzz_check(sp->cpus >= 1 && sp->cpus <= KEEL_MAX_CPUS, "cpus in 1..4096");
    fuzz_check(sp->sockets && sp->nodes && sp->threads,
               "sockets, nodes, threads > 0");
    fuzz_check(sp->cpus % sp->sockets == 0 && sp->cpus % sp->nodes == 0,
               "cpus divide into sockets and nodes");
    fuzz_check((sp->cpus / sp->sockets) % sp->threads == 0,
               "a socket's cores divide into threads");
    /* state.c reads sizes back up to 1 PiB: a host it cannot reopen
     * must be refused here. */
    fuzz_check(sp->memory_kb >= 1024 && sp->memory_kb <= MAX_KB &&
                   sp->memory_kb % 4 == 0,
               "memory 1M..1P, in pages");
    fuzz_check(sp->dom0_mem_kb >= 4 && sp->dom0_mem_kb % 4 == 0 &&
                   sp->dom0_mem_kb < sp->memory_kb,
               "dom0_mem at least a page, below memory, in pages");
    fuzz_check(sp->dom0_vcpus >= 1 && sp->dom0_vcpus <= SIM_MAX_VCPUS,
               "dom0_vcpus in 1..SIM_MAX_VCPUS");
    fuzz_check(sp->cpu_khz > 0, "cpu_khz > 0");
    fuzz_check(sim_spec_check(ctx, sp) == 0, "sim_spec_check agrees");

    format_size(mem, sizeof(mem), sp->memory_kb);
    format_size(dom0, sizeof(dom0), sp->dom0_mem_kb);
    snprintf(text, sizeof(text),
             "cpus=%u,sockets=%u,nodes=%u,threads=%u,memory=%s,"
             "dom0_mem=%s,dom0_vcpus=%u,cpu_khz=%u",
             sp->cpus, sp->sockets, sp->nodes, sp->threads, mem, dom0,
             sp->dom0_vcpus, sp->cpu_khz);
    fuzz_check(keel_sim_spec_parse(ctx, text, &again) == 0,
               "an accepted spec, written out, parses");
    fuzz_check(memcmp(&again, sp, sizeof(again)) == 0,
               "an accepted spec, written out, parses to itself");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keel_sim_spec spec;
    struct keel_ctx *ctx = NULL;
    char *text = malloc(size + 1);
    int rc;

    if (!text || keel_ctx_new(&ctx, 0))
        abort();
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&spec, 0, sizeof(spec));
    rc = keel_sim_spec_parse(ctx, text, &spec);
    if (rc == 0) {
        check_accepted(ctx, &spec);
    } else {
        fuzz_check(rc == KEEL_ESYNTAX || rc == KEEL_ERANGE,
                   "a refusal is KEEL_ESYNTAX or KEEL_ERANGE");
        fuzz_check(keel_ctx_last_code(ctx) == rc, "the context has the code");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0', "a refusal says why");
    }
    keel_ctx_free(ctx);
    free(text);
    return 0;
}

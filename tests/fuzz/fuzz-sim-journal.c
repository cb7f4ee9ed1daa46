/* fuzz-sim-journal.c: fuzz target of the sim's journal replay
 * (sim_journal_replay, lib/hv/sim/journal.c)
 *
 * The input, byte for byte, is DIR/journal, replayed over a fixed host as
 * sim_open would have it after reading the snapshots: BASE_STATE (a host
 * of 8 CPUs, Pool-0, Domain-0, journal generation 1) and an empty store.
 * No directory is touched by the replay: it opens no domain memory.
 * Whatever the input holds, the replay must not crash or leak, and then:
 *   - a refused journal returns KEEL_ECORRUPT with a message;
 *   - an accepted one was replayed up to the end of a whole line (a torn
 *     last line is dropped) and leaves a host the rest of the sim may
 *     trust: Pool-0 and Domain-0 present, pools sorted with disjoint CPUs,
 *     domains sorted, unique and found by domid, each in a pool that
 *     exists;
 *   - and it survives a compaction: state.json and store.json are written
 *     (into a directory made once per process) and read back to the same
 *     pools and domains.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "sim-journal"
#include "fuzz.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <keel/keel.h>

#include "hv/sim/sim.h"

/* What a fresh "cpus=8,dom0_vcpus=1" directory's state.json holds. */
static const char BASE_STATE[] =
    "{\"format\":\"keel-sim\",\"version\":2,\"spec\":{\"cpus\":8,"
    "\"sockets\":2,\"nodes\":2,\"threads\":1,\"memory_kb\":16777216,"
    "\"dom0_mem_kb\":1048576,\"dom0_vcpus\":1,\"cpu_khz\":2400000},"
    "\"manual_clock\":true,\"clock_ns\":0,\"next_domid\":1,"
    "\"journal_generation\":1,\"pools\":[{\"poolid\":0,\"sched\":"
    "\"credit2\",\"cpus\":\"0-7\",\"tslice_ms\":0,\"ratelimit_us\":1000}],"
    "\"domains\":[{\"domid\":0,\"uuid\":"
    "\"00000000-0000-0000-0000-000000000000\",\"type\":\"pv\","
    "\"pause_count\":0,\"shutdown\":false,\"shutdown_reason\":0,"
    "\"dying\":false,\"tot_kb\":1048576,\"max_kb\":1048576,\"poolid\":0,"
    "\"weight\":256,\"cap\":0,\"logdirty\":false,\"pending\":0,"
    "\"request_waiting\":false,\"pending_at_ns\":0,\"dirty_seq\":0,"
    "\"guest\":{\"shutdown_delay_ms\":100,\"ignore_shutdown\":false,"
    "\"busy\":false,\"dirty_rate\":0,\"ws_start\":0,\"ws_pages\":0},"
    "\"vcpus\":[{\"online\":true,\"cpu_time_ns\":0,\"hard\":\"0-7\","
    "\"soft\":\"0-7\",\"period_us\":10000,\"budget_us\":4000,"
    "\"extratime\":true}]}]}";

static struct sim *
sim_new(struct keel_ctx *ctx)
{
    struct sim *s = calloc(1, sizeof(*s));

    if (!s || sim_store_new(&s->store))
        abort();
    s->ctx = ctx;
    s->lock_fd = s->timer_fd = -1;
    sim_journal_init(&s->journal);
    s->dir = strdup(fuzz_scratch_dir());
    if (!s->dir)
        abort();
    return s;
}

static struct sim *
base_host(struct keel_ctx *ctx)
{
    struct sim *s = sim_new(ctx);

    fuzz_check(sim_state_parse(s, "base", BASE_STATE) == 0,
               "the base state parses");
    return s;
}

static void
check_pools(struct sim *s)
{
    struct keel_cpumap taken, host;
    size_t i;

    keel_cpumap_zero(&taken);
    keel_cpumap_fill(&host, s->spec.cpus);
    fuzz_check(sim_pool_find(s, 0) != NULL, "Pool-0 exists");
    for (i = 0; i < s->n_pools; i++) {
        const struct sim_pool *p = &s->pools[i];

        fuzz_check(i == 0 || s->pools[i - 1].poolid < p->poolid,
                   "pools sorted by id, no duplicates");
        fuzz_check(keel_cpumap_subset(&p->cpus, &host), "a pool's CPUs exist");
        fuzz_check(!keel_cpumap_intersects(&p->cpus, &taken),
                   "a CPU is in one pool at most");
        keel_cpumap_or(&taken, &taken, &p->cpus);
    }
}

static void
check_domains(struct sim *s)
{
    size_t i, listed = 0;
    uint32_t id;

    fuzz_check(sim_domain_find(s, 0) != NULL, "Domain-0 exists");
    for (i = 0; i < s->n_doms; i++) {
        const struct sim_domain *d = s->doms[i];

        fuzz_check(i == 0 || s->doms[i - 1]->domid < d->domid,
                   "domains sorted by domid, no duplicates");
        fuzz_check(sim_domain_find(s, d->domid) == d, "found by domid");
        fuzz_check(sim_pool_find(s, d->poolid) != NULL,
                   "a domain's pool exists");
        fuzz_check(d->max_vcpus >= 1 && d->max_vcpus <= SIM_MAX_VCPUS,
                   "a domain has 1..SIM_MAX_VCPUS vCPUs");
        fuzz_check(!d->mem.open && d->n_blobs == 0,
                   "replay opens no domain files");
    }
    for (id = 0; id < KEEL_DOMID_FIRST_RESERVED; id++)
        listed += sim_domain_find(s, id) != NULL;
    fuzz_check(listed == s->n_doms, "the domid table holds the domains");
}

/* What a compaction writes reads back to the same host. */
static void
round_trip(struct sim *s)
{
    struct sim *again = sim_new(s->ctx);
    char *state = sim_path(s, "state.json");
    char *store = sim_path(s, "store.json");
    char *text;

    fuzz_check(state && store, "out of memory");
    fuzz_check(sim_state_save(s) == 0, "a replayed state can be saved");
    fuzz_check(sim_store_save(s->ctx, s->store, store) == 0,
               "a replayed store can be saved");
    text = fuzz_slurp(state);
    if (sim_state_parse(again, state, text) != 0 ||
        sim_store_load(s->ctx, again->store, store) != 0) {
        fprintf(stderr, "fuzz-sim-journal: %s\n", keel_ctx_last_error(s->ctx));
        fuzz_check(false, "saved snapshots read back");
    }
    fuzz_check(again->n_doms == s->n_doms && again->n_pools == s->n_pools,
               "the snapshots keep the pools and domains");
    free(text);
    free(state);
    free(store);
    sim_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keel_ctx *ctx = NULL;
    struct sim *s;
    char *text = malloc(size + 1);
    size_t good = 0;
    int rc;

    if (!text || keel_ctx_new(&ctx, 0))
        abort();
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    s = base_host(ctx);
    rc = sim_journal_replay(s, "journal", text, size, &good);
    if (rc == 0) {
        fuzz_check(good <= size && (good == 0 || data[good - 1] == '\n'),
                   "replay stops after a whole line");
        check_pools(s);
        check_domains(s);
        round_trip(s);
    } else {
        fuzz_check(rc == KEEL_ECORRUPT, "a refusal is KEEL_ECORRUPT");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0', "a refusal says why");
    }
    sim_free(s);
    keel_ctx_free(ctx);
    free(text);
    return 0;
}

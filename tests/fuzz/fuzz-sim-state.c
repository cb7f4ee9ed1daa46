/* fuzz-sim-state.c: fuzz target of the sim's state.json reader
 * (sim_state_parse, lib/hv/sim/state.c)
 *
 * The input, cut at its first NUL, is state.json text, parsed into an
 * empty struct sim as sim_open would have it (a context and an empty
 * store; no directory is touched: sim_state_parse opens no domain
 * memory). Whatever it holds, the parse must not crash or leak, and then:
 *   - a refused file returns KEEL_ECORRUPT (KEEL_EFOREIGN when it is not
 *     a sim state file at all) with a message on the context;
 *   - an accepted file gives a host the rest of the sim may trust: a spec
 *     sim_spec_check takes, pools and domains sorted by id with Pool-0
 *     and Domain-0 present, pools' CPUs disjoint and on the host, every
 *     domain in a pool that exists with that pool's scheduler, 1..512
 *     vCPUs, memory in pages;
 *   - and it survives a save: sim_state_save writes it out (into a
 *     directory made once per process) and the file parses back to the
 *     same host, so the writer and the reader cannot drift apart.
 * A broken promise calls abort(), which libFuzzer and replay.c report.
 */
#include "config.h"

#define FUZZ_NAME "sim-state"
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

static struct sim *
sim_new(struct keel_ctx *ctx)
{
    struct sim *s = calloc(1, sizeof(*s));

    if (!s || sim_store_new(&s->store))
        abort();
    s->ctx = ctx;
    s->lock_fd = s->timer_fd = -1;
    sim_journal_init(&s->journal);
    return s;
}

static void
check_pools(struct sim *s, const struct keel_cpumap *host)
{
    struct keel_cpumap taken;
    size_t i;

    keel_cpumap_zero(&taken);
    fuzz_check(sim_pool_find(s, 0) != NULL, "Pool-0 exists");
    for (i = 0; i < s->n_pools; i++) {
        const struct sim_pool *p = &s->pools[i];

        fuzz_check(i == 0 || s->pools[i - 1].poolid < p->poolid,
                   "pools sorted by id, no duplicates");
        fuzz_check(keel_scheduler_name(p->params.sched) != NULL,
                   "a pool's scheduler is known");
        fuzz_check(keel_cpumap_subset(&p->cpus, host), "a pool's CPUs exist");
        fuzz_check(!keel_cpumap_intersects(&p->cpus, &taken),
                   "a CPU is in one pool at most");
        keel_cpumap_or(&taken, &taken, &p->cpus);
    }
}

static void
check_domain(struct sim *s, const struct sim_domain *d,
             const struct keel_cpumap *host)
{
    const struct sim_pool *p = sim_pool_find(s, d->poolid);
    uint32_t i;

    fuzz_check(d->domid < KEEL_DOMID_FIRST_RESERVED, "domid not reserved");
    fuzz_check(keel_domain_type_name(d->type) != NULL, "domain type known");
    fuzz_check(p != NULL, "a domain's pool exists");
    fuzz_check(d->sched.sched == p->params.sched,
               "a domain has its pool's scheduler");
    fuzz_check(d->max_vcpus >= 1 && d->max_vcpus <= SIM_MAX_VCPUS && d->vcpus,
               "a domain has 1..SIM_MAX_VCPUS vCPUs");
    fuzz_check(d->tot_kb % 4 == 0 && d->max_kb % 4 == 0 &&
                   (d->dying || d->tot_kb >= 4),
               "domain memory in pages");
    fuzz_check(d->pending_action >= -1 &&
                   d->pending_action <= KEEL_SHUTDOWN_SOFT_RESET,
               "pending action is none or a shutdown reason");
    fuzz_check(d->mem.base == NULL && d->n_blobs == 0,
               "parsing opens no domain files");
    fuzz_check(d->settled_ns == s->last_ns,
               "a record's CPU time is as of the file's clock");
    for (i = 0; i < d->max_vcpus; i++) {
        fuzz_check(d->vcpus[i].rtds.vcpu == i,
                   "RTDS parameters name their vCPU");
        fuzz_check(keel_cpumap_subset(&d->vcpus[i].hard, host) &&
                       keel_cpumap_subset(&d->vcpus[i].soft, host),
                   "affinity names host CPUs only");
    }
}

static void
check_accepted(struct sim *s)
{
    struct keel_cpumap host;
    size_t i;

    fuzz_check(sim_spec_check(s->ctx, &s->spec) == 0, "the spec is valid");
    keel_cpumap_fill(&host, s->spec.cpus);
    check_pools(s, &host);
    fuzz_check(sim_domain_find(s, 0) != NULL, "Domain-0 exists");
    for (i = 0; i < s->n_doms; i++) {
        fuzz_check(i == 0 || s->doms[i - 1]->domid < s->doms[i]->domid,
                   "domains sorted by domid, no duplicates");
        check_domain(s, s->doms[i], &host);
    }
}

static bool
same_vcpu(const struct sim_vcpu *a, const struct sim_vcpu *b)
{
    return a->online == b->online && a->cpu_time_ns == b->cpu_time_ns &&
           keel_cpumap_equal(&a->hard, &b->hard) &&
           keel_cpumap_equal(&a->soft, &b->soft) &&
           a->rtds.vcpu == b->rtds.vcpu &&
           a->rtds.period_us == b->rtds.period_us &&
           a->rtds.budget_us == b->rtds.budget_us &&
           a->rtds.extratime == b->rtds.extratime;
}

static bool
same_guest(const struct keel_sim_guest *a, const struct keel_sim_guest *b)
{
    return a->shutdown_delay_ms == b->shutdown_delay_ms &&
           a->ignore_shutdown == b->ignore_shutdown && a->busy == b->busy &&
           a->dirty_rate == b->dirty_rate && a->ws_start == b->ws_start &&
           a->ws_pages == b->ws_pages;
}

/* Everything state.json carries; dying_at_ns, dirty_carry and the
 * blobs are not in it, and rng is derived from what is. */
static bool
same_domain(const struct sim_domain *a, const struct sim_domain *b)
{
    uint32_t i;

    if (a->domid != b->domid || memcmp(a->uuid, b->uuid, 16) ||
        a->type != b->type || a->pause_count != b->pause_count ||
        a->shutdown != b->shutdown ||
        a->shutdown_reason != b->shutdown_reason || a->dying != b->dying ||
        a->tot_kb != b->tot_kb || a->max_kb != b->max_kb ||
        a->max_vcpus != b->max_vcpus || a->poolid != b->poolid ||
        a->sched.sched != b->sched.sched ||
        a->sched.weight != b->sched.weight || a->sched.cap != b->sched.cap ||
        !same_guest(&a->guest, &b->guest) || a->logdirty != b->logdirty ||
        a->pending_action != b->pending_action ||
        a->pending_at_ns != b->pending_at_ns || a->dirty_seq != b->dirty_seq ||
        a->rng != b->rng)
        return false;
    for (i = 0; i < a->max_vcpus; i++)
        if (!same_vcpu(&a->vcpus[i], &b->vcpus[i]))
            return false;
    return true;
}

static bool
same_pool(const struct sim_pool *a, const struct sim_pool *b)
{
    return a->poolid == b->poolid && keel_cpumap_equal(&a->cpus, &b->cpus) &&
           a->params.sched == b->params.sched &&
           a->params.tslice_ms == b->params.tslice_ms &&
           a->params.ratelimit_us == b->params.ratelimit_us;
}

static void
check_same(const struct sim *a, const struct sim *b)
{
    size_t i;

    fuzz_check(memcmp(&a->spec, &b->spec, sizeof(a->spec)) == 0,
               "round trip keeps the spec");
    fuzz_check(a->last_ns == b->last_ns && a->next_domid == b->next_domid &&
                   a->journal.generation == b->journal.generation,
               "round trip keeps the clock, next_domid and generation");
    fuzz_check(a->n_pools == b->n_pools, "round trip keeps the pools");
    for (i = 0; i < a->n_pools; i++)
        fuzz_check(same_pool(&a->pools[i], &b->pools[i]),
                   "round trip keeps each pool");
    fuzz_check(a->n_doms == b->n_doms, "round trip keeps the domains");
    for (i = 0; i < a->n_doms; i++)
        fuzz_check(same_domain(a->doms[i], b->doms[i]),
                   "round trip keeps each domain");
}

/* Saves s, parses the file into a fresh sim and compares the two. */
static void
round_trip(struct sim *s)
{
    struct sim *again = sim_new(s->ctx);
    char *file, *text;

    keel_ctx_clear_error(s->ctx);
    s->dir = strdup(fuzz_scratch_dir());
    fuzz_check(s->dir != NULL, "out of memory");
    fuzz_check(sim_state_save(s) == 0, "an accepted state can be saved");
    file = sim_path(s, "state.json");
    fuzz_check(file != NULL, "out of memory");
    text = fuzz_slurp(file);
    if (sim_state_parse(again, file, text) != 0) {
        fprintf(stderr, "fuzz-sim-state: %s\n", keel_ctx_last_error(s->ctx));
        fuzz_check(false, "a saved state parses");
    }
    check_same(s, again);
    free(text);
    free(file);
    sim_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct keel_ctx *ctx = NULL;
    struct sim *s;
    char *text = malloc(size + 1);
    int rc;

    if (!text || keel_ctx_new(&ctx, 0))
        abort();
    keel_ctx_set_logger(ctx, KEEL_LOG_ERROR, fuzz_quiet, NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    s = sim_new(ctx);
    rc = sim_state_parse(s, "state.json", text);
    if (rc == 0) {
        check_accepted(s);
        round_trip(s);
    } else {
        fuzz_check(rc == KEEL_ECORRUPT || rc == KEEL_EFOREIGN,
                   "a refusal is KEEL_ECORRUPT or KEEL_EFOREIGN");
        fuzz_check(keel_ctx_last_error(ctx)[0] != '\0', "a refusal says why");
    }
    sim_free(s);
    keel_ctx_free(ctx);
    free(text);
    return 0;
}

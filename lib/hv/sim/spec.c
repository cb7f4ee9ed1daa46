/* spec.c: the sim host spec ("cpus=256,nodes=8,memory=1T")
 *
 * A spec names the simulated host's shape once, when its directory is
 * first used; afterwards the host is what state.json says.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum spec_kind { SPEC_COUNT, SPEC_SIZE };

/* Each key with its range (sizes in KiB). */
struct spec_key {
    const char *name;
    enum spec_kind kind;
    size_t offset;
    uint64_t min, max;
};

#define MAX_KB (UINT64_C(1) << 40) /* 1 PiB */
#define OFF(f) offsetof(struct keel_sim_spec, f)
static const struct spec_key spec_keys[] = {
    {"cpus", SPEC_COUNT, OFF(cpus), 1, KEEL_MAX_CPUS},
    {"sockets", SPEC_COUNT, OFF(sockets), 1, KEEL_MAX_CPUS},
    {"nodes", SPEC_COUNT, OFF(nodes), 1, 64},
    {"threads", SPEC_COUNT, OFF(threads), 1, 8},
    {"memory", SPEC_SIZE, OFF(memory_kb), 1024, MAX_KB},
    {"dom0_mem", SPEC_SIZE, OFF(dom0_mem_kb), 4, MAX_KB},
    {"dom0_vcpus", SPEC_COUNT, OFF(dom0_vcpus), 1, SIM_MAX_VCPUS},
    {"cpu_khz", SPEC_COUNT, OFF(cpu_khz), 1, UINT32_MAX},
};
#undef OFF

static void
spec_default(struct keel_sim_spec *spec)
{
    spec->cpus = 8;
    spec->sockets = 2;
    spec->nodes = 2;
    spec->threads = 1;
    spec->memory_kb = UINT64_C(16) << 20;
    spec->dom0_mem_kb = UINT64_C(1) << 20;
    spec->dom0_vcpus = 0; /* 0: as many as there are CPUs */
    spec->cpu_khz = 2400000;
}

/* A size in KiB: a number with an optional k/m/g/t suffix, MiB if bare. */
static bool
parse_size(const char *v, uint64_t *kb_r)
{
    char *end;
    unsigned long long n;
    unsigned int shift = 10;

    if (*v < '0' || *v > '9')
        return false;
    n = strtoull(v, &end, 10);
    switch (*end) {
    case 'k':
    case 'K':
        shift = 0;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 10;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 20;
        end++;
        break;
    case 't':
    case 'T':
        shift = 30;
        end++;
        break;
    case '\0':
        break;
    default:
        return false;
    }
    if (*end || n > (UINT64_MAX >> 31))
        return false;
    *kb_r = (uint64_t)n << shift;
    return true;
}

static int
apply_key(struct keel_ctx *ctx, struct keel_sim_spec *spec, const char *key,
          const char *val, size_t col)
{
    const struct spec_key *k = NULL;
    uint64_t n;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(spec_keys); i++)
        if (!strcmp(spec_keys[i].name, key))
            k = &spec_keys[i];
    if (!k)
        return keel_error(ctx, KEEL_ESYNTAX,
                          "sim spec column %zu: unknown key '%s'", col, key);
    if (k->kind == SPEC_SIZE ? !parse_size(val, &n) : !keel__parse_u64(val, &n))
        return keel_error(ctx, KEEL_ESYNTAX,
                          "sim spec column %zu: %s: '%s' is not a %s", col, key,
                          val, k->kind == SPEC_SIZE ? "size" : "number");
    if (n < k->min || n > k->max || (k->kind == SPEC_SIZE && n % 4))
        return keel_error(ctx, KEEL_ERANGE,
                          "sim spec column %zu: %s: %s is not %" PRIu64
                          "..%" PRIu64 "%s",
                          col, key, val, k->min, k->max,
                          k->kind == SPEC_SIZE ? " KiB in 4 KiB pages" : "");
    if (k->kind == SPEC_SIZE)
        *(uint64_t *)((char *)spec + k->offset) = n;
    else
        *(uint32_t *)((char *)spec + k->offset) = (uint32_t)n;
    return 0;
}

KEEL_EXPORT int
keel_sim_spec_parse(struct keel_ctx *ctx, const char *text,
                    struct keel_sim_spec *spec)
{
    char *copy = NULL, *item, *save = NULL;
    int rc = 0;

    keel__enter(ctx);
    spec_default(spec);
    if (!text || !*text)
        goto check;
    copy = keel__strdup(ctx, text);
    if (!copy) {
        rc = KEEL_ENOMEM;
        goto out;
    }
    for (item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        size_t col = (size_t)(item - copy) + 1;

        if (!eq) {
            rc = keel_error(ctx, KEEL_ESYNTAX,
                            "sim spec column %zu: '%s' is not KEY=VALUE", col,
                            item);
            goto out;
        }
        *eq = '\0';
        if ((rc = apply_key(ctx, spec, item, eq + 1, col)))
            goto out;
    }
check:
    if (spec->dom0_vcpus == 0)
        spec->dom0_vcpus =
            spec->cpus < SIM_MAX_VCPUS ? spec->cpus : SIM_MAX_VCPUS;
    rc = sim_spec_check(ctx, spec);
out:
    free(copy);
    keel__leave(ctx);
    return rc;
}

int
sim_spec_check(struct keel_ctx *ctx, const struct keel_sim_spec *spec)
{
    if (spec->cpus < 1 || spec->cpus > KEEL_MAX_CPUS)
        return keel_error(ctx, KEEL_ERANGE, "sim spec: cpus must be 1..%d",
                          KEEL_MAX_CPUS);
    if (spec->nodes > 64 || spec->threads > 8)
        return keel_error(ctx, KEEL_ERANGE,
                          "sim spec: nodes must be 1..64 and threads 1..8");
    if (!spec->sockets || !spec->nodes || !spec->threads ||
        spec->cpus % spec->sockets || spec->cpus % spec->nodes ||
        (spec->cpus / spec->sockets) % spec->threads)
        return keel_error(ctx, KEEL_ERANGE,
                          "sim spec: %u cpus do not divide into %u sockets, "
                          "%u nodes and %u threads per core",
                          spec->cpus, spec->sockets, spec->nodes,
                          spec->threads);
    if (spec->memory_kb < 1024 || spec->memory_kb % 4)
        return keel_error(ctx, KEEL_ERANGE,
                          "sim spec: memory must be at least 1M, in 4K pages");
    if (spec->dom0_mem_kb < 4 || spec->dom0_mem_kb % 4 ||
        spec->dom0_mem_kb >= spec->memory_kb)
        return keel_error(ctx, KEEL_ERANGE,
                          "sim spec: dom0_mem must be below memory, in 4K "
                          "pages");
    if (spec->dom0_vcpus < 1 || spec->dom0_vcpus > SIM_MAX_VCPUS)
        return keel_error(ctx, KEEL_ERANGE,
                          "sim spec: dom0_vcpus must be 1..%d", SIM_MAX_VCPUS);
    if (spec->cpu_khz == 0)
        return keel_error(ctx, KEEL_ERANGE, "sim spec: cpu_khz must be > 0");
    return 0;
}

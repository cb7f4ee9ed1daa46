/* spec.c: the sim host spec ("cpus=256,nodes=8,memory=1T")
 *
 * A spec names the simulated host's shape once, when its directory is
 * first used; afterwards the host is what state.json says.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sim.h"

enum spec_kind { SPEC_COUNT, SPEC_SIZE };

struct spec_key {
    const char *name;
    enum spec_kind kind;
    size_t offset;
};

#define KEY(n, k)                                                              \
    {                                                                          \
#n, k, offsetof(struct keel_sim_spec, n)                               \
    }
static const struct spec_key spec_keys[] = {
    KEY(cpus, SPEC_COUNT),
    KEY(sockets, SPEC_COUNT),
    KEY(nodes, SPEC_COUNT),
    KEY(threads, SPEC_COUNT),
    {"memory", SPEC_SIZE, offsetof(struct keel_sim_spec, memory_kb)},
    {"dom0_mem", SPEC_SIZE, offsetof(struct keel_sim_spec, dom0_mem_kb)},
    KEY(dom0_vcpus, SPEC_COUNT),
    KEY(cpu_khz, SPEC_COUNT),
};
#undef KEY

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
    if (k->kind == SPEC_SIZE) {
        if (!parse_size(val, &n))
            return keel_error(ctx, KEEL_ESYNTAX,
                              "sim spec column %zu: %s: '%s' is not a size",
                              col, key, val);
        *(uint64_t *)((char *)spec + k->offset) = n;
        return 0;
    }
    if (!keel__parse_u64(val, &n) || n > UINT32_MAX)
        return keel_error(ctx, KEEL_ESYNTAX,
                          "sim spec column %zu: %s: '%s' is not a number", col,
                          key, val);
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
    if (spec->dom0_mem_kb % 4 || spec->dom0_mem_kb >= spec->memory_kb)
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

/* cpuspec.c: xl's CPU affinity specs ("all", "0-3,5,^1", "nodes:0-1")
 *
 * A spec is a list of terms applied left to right: a positive term adds
 * CPUs, a "^" term removes them, so "0-7,^3" is 0-2,4-7. Node terms name
 * NUMA nodes, whose CPUs are known only on the host that runs the guest,
 * so the model keeps the spec as text (in one canonical spelling, so two
 * spellings of the same spec compare equal) and resolves it at domain
 * creation. A spec of plain CPU numbers is a set and is spelled as one
 * sorted range list; any other is kept term by term, since order matters
 * once "^" or node terms are involved.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cfg.h"

enum term_kind { T_ALL, T_CPUS, T_NODES };

struct term {
    enum term_kind kind;
    bool neg;
    unsigned int lo, hi;
};

static bool
parse_num(const char **p, unsigned int *v_r)
{
    unsigned long v = 0;
    const char *s = *p;

    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s++ - '0');
        if (v >= KEEL_MAX_CPUS)
            return false;
    }
    *p = s;
    *v_r = (unsigned int)v;
    return true;
}

/* Parses one term of text (ending at ',' or NUL); *why on failure. */
static bool
parse_term(const char **p, struct term *t, const char **why)
{
    const char *s = *p;

    t->neg = *s == '^';
    s += t->neg;
    t->kind = T_CPUS;
    if (!strncmp(s, "all", 3) && (s[3] == ',' || !s[3])) {
        t->kind = T_ALL;
        *p = s + 3;
        *why = "\"^all\" leaves nothing";
        return !t->neg;
    }
    if (!strncmp(s, "nodes:", 6) || !strncmp(s, "node:", 5)) {
        t->kind = T_NODES;
        s += s[4] == 's' ? 6 : 5;
    }
    *why = "expected a number or a range N-M below 4096";
    if (!parse_num(&s, &t->lo))
        return false;
    t->hi = t->lo;
    if (*s == '-' && (s++, !parse_num(&s, &t->hi)))
        return false;
    if (*s && *s != ',')
        return false;
    *why = "a range must not run backwards";
    *p = s;
    return t->lo <= t->hi;
}

/* Calls fn on each term; stops at the first failure. */
static int
each_term(struct keel_ctx *ctx, const char *spec,
          int (*fn)(struct keel_ctx *ctx, const struct term *t, void *opaque),
          void *opaque)
{
    const char *p = spec, *start, *why = NULL;
    struct term t;
    int rc;

    if (!*p)
        return keel_error(ctx, KEEL_EINVAL, "empty CPU list");
    for (;;) {
        start = p;
        if (!parse_term(&p, &t, &why))
            return keel_error(ctx, KEEL_EINVAL,
                              "CPU list \"%s\": term %.*s: %s", spec,
                              (int)strcspn(start, ","), start, why);
        if (t.neg && start == spec)
            return keel_error(ctx, KEEL_EINVAL,
                              "CPU list \"%s\": the first term cannot be "
                              "negated (^)",
                              spec);
        if ((rc = fn(ctx, &t, opaque)))
            return rc;
        if (!*p)
            return 0;
        if (!*++p)
            return keel_error(ctx, KEEL_EINVAL,
                              "CPU list \"%s\": ends in a comma", spec);
    }
}

/* A spec of positive CPU numbers and ranges only is a set: its canonical
 * spelling is the set's sorted range list ("3,0-1,2" is "0-3"). */
struct plain {
    bool plain;
    struct keel_cpumap map;
};

static int
format_term(struct keel_ctx *ctx, const struct term *t, void *opaque)
{
    struct keel__buf *b = opaque;

    if (b->len)
        keel__buf_add(b, ",");
    if (t->neg)
        keel__buf_add(b, "^");
    if (t->kind == T_ALL)
        keel__buf_add(b, "all");
    else if (t->kind == T_NODES)
        keel__buf_add(b, t->lo == t->hi ? "node:" : "nodes:");
    if (t->kind == T_ALL)
        return 0;
    if (t->lo == t->hi)
        keel__buf_printf(b, "%u", t->lo);
    else
        keel__buf_printf(b, "%u-%u", t->lo, t->hi);
    return 0;
}

/* Collects plain CPU terms into a map; any other term makes the spec one
 * whose order matters, which is then kept term by term. */
static int
collect_cpus(struct keel_ctx *ctx, const struct term *t, void *opaque)
{
    struct plain *p = opaque;
    unsigned int i;

    if (t->neg || t->kind != T_CPUS)
        p->plain = false;
    for (i = t->lo; p->plain && i <= t->hi; i++)
        keel_cpumap_set(&p->map, i);
    return 0;
}

KEEL_EXPORT int
keel_cpuspec_normalize(struct keel_ctx *ctx, const char *spec, char **spec_r)
{
    struct plain p = {true, {{0}}};
    struct keel__buf b = {0};
    char text[KEEL_MAX_CPUS * 6];
    int rc;

    keel__enter(ctx);
    *spec_r = NULL;
    keel_cpumap_zero(&p.map);
    rc = each_term(ctx, spec, collect_cpus, &p);
    if (!rc && p.plain) {
        keel_cpumap_format(&p.map, text, sizeof(text));
        keel__buf_add(&b, text);
    } else if (!rc) {
        rc = each_term(ctx, spec, format_term, &b);
    }
    if (!rc)
        rc = keel__buf_finish(ctx, &b, spec_r);
    keel__buf_dispose(&b);
    keel__leave(ctx);
    return rc;
}

struct resolve {
    unsigned int nr_cpus;
    const struct keel_cpumap *node_cpus;
    unsigned int nr_nodes;
    struct keel_cpumap map;
};

static int
resolve_term(struct keel_ctx *ctx, const struct term *t, void *opaque)
{
    struct resolve *r = opaque;
    struct keel_cpumap set;
    unsigned int i;

    keel_cpumap_zero(&set);
    if (t->kind == T_ALL) {
        keel_cpumap_fill(&set, r->nr_cpus);
    } else if (t->kind == T_NODES) {
        if (t->hi >= r->nr_nodes)
            return keel_error(ctx, KEEL_EINVAL,
                              "node %u: the host has %u NUMA node(s)", t->hi,
                              r->nr_nodes);
        for (i = t->lo; i <= t->hi; i++)
            keel_cpumap_or(&set, &set, &r->node_cpus[i]);
    } else {
        if (t->hi >= r->nr_cpus)
            return keel_error(ctx, KEEL_EINVAL,
                              "CPU %u: the host has %u CPU(s)", t->hi,
                              r->nr_cpus);
        for (i = t->lo; i <= t->hi; i++)
            keel_cpumap_set(&set, i);
    }
    if (t->neg)
        keel_cpumap_andnot(&r->map, &r->map, &set);
    else
        keel_cpumap_or(&r->map, &r->map, &set);
    return 0;
}

KEEL_EXPORT int
keel_cpuspec_resolve(struct keel_ctx *ctx, const char *spec,
                     unsigned int nr_cpus, const struct keel_cpumap *node_cpus,
                     unsigned int nr_nodes, struct keel_cpumap *map_r)
{
    struct resolve r = {nr_cpus, node_cpus, nr_nodes, {{0}}};
    int rc;

    keel__enter(ctx);
    keel_cpumap_zero(&r.map);
    rc = each_term(ctx, spec, resolve_term, &r);
    if (!rc && keel_cpumap_is_empty(&r.map))
        rc = keel_error(ctx, KEEL_EINVAL, "CPU list \"%s\" selects no CPU",
                        spec);
    if (!rc)
        *map_r = r.map;
    keel__leave(ctx);
    return rc;
}

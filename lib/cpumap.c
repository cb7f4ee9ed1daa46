/* cpumap.c: fixed-size CPU sets and their range-list text form */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

#define WORDS (KEEL_MAX_CPUS / 64)

KEEL_EXPORT void
keel_cpumap_zero(struct keel_cpumap *map)
{
    memset(map, 0, sizeof(*map));
}

KEEL_EXPORT void
keel_cpumap_fill(struct keel_cpumap *map, unsigned int nr)
{
    unsigned int i;

    keel_cpumap_zero(map);
    if (nr > KEEL_MAX_CPUS)
        nr = KEEL_MAX_CPUS;
    for (i = 0; i < nr / 64; i++)
        map->bits[i] = UINT64_MAX;
    if (nr % 64)
        map->bits[nr / 64] = (UINT64_C(1) << (nr % 64)) - 1;
}

KEEL_EXPORT void
keel_cpumap_set(struct keel_cpumap *map, unsigned int cpu)
{
    if (cpu < KEEL_MAX_CPUS)
        map->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

KEEL_EXPORT void
keel_cpumap_clear(struct keel_cpumap *map, unsigned int cpu)
{
    if (cpu < KEEL_MAX_CPUS)
        map->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

KEEL_EXPORT bool
keel_cpumap_test(const struct keel_cpumap *map, unsigned int cpu)
{
    return cpu < KEEL_MAX_CPUS && (map->bits[cpu / 64] >> (cpu % 64) & 1) != 0;
}

KEEL_EXPORT unsigned int
keel_cpumap_count(const struct keel_cpumap *map)
{
    unsigned int i, n = 0;

    for (i = 0; i < WORDS; i++)
        n += (unsigned int)__builtin_popcountll(map->bits[i]);
    return n;
}

KEEL_EXPORT int
keel_cpumap_next(const struct keel_cpumap *map, unsigned int from)
{
    unsigned int w;
    uint64_t bits;

    if (from >= KEEL_MAX_CPUS)
        return -1;
    w = from / 64;
    bits = map->bits[w] & (UINT64_MAX << (from % 64));
    for (;;) {
        if (bits)
            return (int)(w * 64 + (unsigned int)__builtin_ctzll(bits));
        if (++w == WORDS)
            return -1;
        bits = map->bits[w];
    }
}

KEEL_EXPORT bool
keel_cpumap_is_empty(const struct keel_cpumap *map)
{
    return keel_cpumap_next(map, 0) < 0;
}

KEEL_EXPORT bool
keel_cpumap_equal(const struct keel_cpumap *a, const struct keel_cpumap *b)
{
    return !memcmp(a, b, sizeof(*a));
}

KEEL_EXPORT bool
keel_cpumap_subset(const struct keel_cpumap *sub,
                   const struct keel_cpumap *super)
{
    unsigned int i;

    for (i = 0; i < WORDS; i++)
        if (sub->bits[i] & ~super->bits[i])
            return false;
    return true;
}

KEEL_EXPORT bool
keel_cpumap_intersects(const struct keel_cpumap *a, const struct keel_cpumap *b)
{
    unsigned int i;

    for (i = 0; i < WORDS; i++)
        if (a->bits[i] & b->bits[i])
            return true;
    return false;
}

KEEL_EXPORT void
keel_cpumap_and(struct keel_cpumap *dst, const struct keel_cpumap *a,
                const struct keel_cpumap *b)
{
    unsigned int i;

    for (i = 0; i < WORDS; i++)
        dst->bits[i] = a->bits[i] & b->bits[i];
}

KEEL_EXPORT void
keel_cpumap_or(struct keel_cpumap *dst, const struct keel_cpumap *a,
               const struct keel_cpumap *b)
{
    unsigned int i;

    for (i = 0; i < WORDS; i++)
        dst->bits[i] = a->bits[i] | b->bits[i];
}

KEEL_EXPORT void
keel_cpumap_andnot(struct keel_cpumap *dst, const struct keel_cpumap *a,
                   const struct keel_cpumap *b)
{
    unsigned int i;

    for (i = 0; i < WORDS; i++)
        dst->bits[i] = a->bits[i] & ~b->bits[i];
}

KEEL_EXPORT size_t
keel_cpumap_format(const struct keel_cpumap *map, char *buf, size_t size)
{
    size_t len = 0;
    int first, last;
    char part[32];

    if (size)
        buf[0] = '\0';
    for (first = keel_cpumap_next(map, 0); first >= 0;
         first = keel_cpumap_next(map, (unsigned int)last + 1)) {
        int n;

        last = first;
        while (keel_cpumap_test(map, (unsigned int)last + 1))
            last++;
        if (last == first)
            n = snprintf(part, sizeof(part), "%s%d", len ? "," : "", first);
        else
            n = snprintf(part, sizeof(part), "%s%d-%d", len ? "," : "", first,
                         last);
        if (len + 1 < size) { /* copy what fits, as snprintf would */
            size_t room = size - len - 1;
            size_t take = (size_t)n < room ? (size_t)n : room;

            memcpy(buf + len, part, take);
            buf[len + take] = '\0';
        }
        len += (size_t)n;
    }
    return len;
}

/* Reads a decimal CPU number at *p, advancing it. */
static int
parse_cpu(const char **p, unsigned int *cpu_r)
{
    unsigned long v = 0;
    const char *s = *p;

    if (*s < '0' || *s > '9')
        return KEEL_ESYNTAX;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s++ - '0');
        if (v >= KEEL_MAX_CPUS)
            return KEEL_ERANGE;
    }
    *p = s;
    *cpu_r = (unsigned int)v;
    return 0;
}

KEEL_EXPORT int
keel_cpumap_parse(struct keel_cpumap *map, const char *text, size_t *errpos_r)
{
    const char *p = text;
    unsigned int a, b, i;
    int rc;

    keel_cpumap_zero(map);
    while (*p) {
        if ((rc = parse_cpu(&p, &a)))
            goto out;
        b = a;
        if (*p == '-') {
            p++;
            if ((rc = parse_cpu(&p, &b)))
                goto out;
            if (b < a) {
                rc = KEEL_ESYNTAX;
                goto out;
            }
        }
        for (i = a; i <= b; i++)
            keel_cpumap_set(map, i);
        if (*p == ',' && p[1])
            p++;
        else if (*p) {
            rc = KEEL_ESYNTAX;
            goto out;
        }
    }
    return 0;
out:
    if (errpos_r)
        *errpos_r = (size_t)(p - text);
    keel_cpumap_zero(map);
    return rc;
}

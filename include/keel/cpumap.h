/* cpumap.h: fixed-size sets of physical CPUs
 *
 * A struct keel_cpumap holds up to KEEL_MAX_CPUS bits, one per physical
 * CPU, with no allocation: it can be copied by assignment and needs no
 * dispose. Xen's own limit for x86 is 4096 CPUs, so this covers any host
 * keel can drive.
 */
#ifndef KEEL_CPUMAP_H
#define KEEL_CPUMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KEEL_MAX_CPUS 4096

struct keel_cpumap {
    uint64_t bits[KEEL_MAX_CPUS / 64];
};

/* Empties the map. */
void keel_cpumap_zero(struct keel_cpumap *map);

/* Sets bits 0..nr-1 and clears the rest (nr is clamped to KEEL_MAX_CPUS). */
void keel_cpumap_fill(struct keel_cpumap *map, unsigned int nr);

/* Bit operations; a cpu >= KEEL_MAX_CPUS is ignored by set/clear and is
 * never set for test. */
void keel_cpumap_set(struct keel_cpumap *map, unsigned int cpu);
void keel_cpumap_clear(struct keel_cpumap *map, unsigned int cpu);
bool keel_cpumap_test(const struct keel_cpumap *map, unsigned int cpu);

/* Number of set bits. */
unsigned int keel_cpumap_count(const struct keel_cpumap *map);

/* The lowest set bit at or above from, or -1 when there is none. */
int keel_cpumap_next(const struct keel_cpumap *map, unsigned int from);

bool keel_cpumap_is_empty(const struct keel_cpumap *map);
bool keel_cpumap_equal(const struct keel_cpumap *a,
                       const struct keel_cpumap *b);
/* True when every bit of sub is in super. */
bool keel_cpumap_subset(const struct keel_cpumap *sub,
                        const struct keel_cpumap *super);
bool keel_cpumap_intersects(const struct keel_cpumap *a,
                            const struct keel_cpumap *b);

/* dst = a & b, dst = a | b, dst = a & ~b. dst may alias a or b. */
void keel_cpumap_and(struct keel_cpumap *dst, const struct keel_cpumap *a,
                     const struct keel_cpumap *b);
void keel_cpumap_or(struct keel_cpumap *dst, const struct keel_cpumap *a,
                    const struct keel_cpumap *b);
void keel_cpumap_andnot(struct keel_cpumap *dst, const struct keel_cpumap *a,
                        const struct keel_cpumap *b);

/* Writes the map as a range list ("0-3,6,8-11"; "" when empty) into buf.
 * Returns the length the full string needs (without the NUL), like
 * snprintf: the output is complete when that is < size. */
size_t keel_cpumap_format(const struct keel_cpumap *map, char *buf,
                          size_t size);

/* Parses a range list of the form keel_cpumap_format writes ("", "5",
 * "0-3,6"). Returns 0, or KEEL_ESYNTAX (with *errpos_r set to the byte
 * offset of the fault when errpos_r is not NULL) or KEEL_ERANGE for a CPU
 * >= KEEL_MAX_CPUS. Whitespace is not accepted. */
int keel_cpumap_parse(struct keel_cpumap *map, const char *text,
                      size_t *errpos_r);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_CPUMAP_H */

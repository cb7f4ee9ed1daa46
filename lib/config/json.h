/* json.h: what the JSON codec's files share
 *
 * The format is libxl's libxl_domain_config as `xl list -l` prints it
 * ("c_info", "b_info", "disks", "nics", "on_*"), with libxl's spelling of
 * each kind of value: defbools are "True"/"False"/"<default>", bitmaps are
 * arrays of set bit numbers, enums are lower-case names, the build info's
 * keyed union is one member "type.hvm"/"type.pv"/"type.pvh", and a field
 * at its default is left out. One table per JSON object (keel__jtab) maps
 * each member to a model field; reader and writer walk the same tables,
 * so a field and its range are declared once.
 *
 * json-tree.c parses the text into a tree that knows where each value
 * was; json.c maps the tree onto the model (the reader); json-write.c
 * writes the model with yajl_gen (the writer); json-table.c holds the
 * tables, which name the reader's and the writer's handlers of the fields
 * a table entry cannot describe (keel__jread_* in json.c, keel__jwrite_*
 * in json-write.c).
 *
 * The extension object. What the model holds and libxl's JSON has no
 * place for goes in one top-level object "keel":
 *   "root", "extra"       strings; the model keeps them apart from cmdline
 *   "cpus", "cpus_soft"   a string (one spec for all vCPUs) or an array of
 *                         strings (one per vCPU), when a bitmap cannot say
 *                         it: node terms, "^", "all", a spelling other than
 *                         sorted merged ranges, or cpus_soft as one spec
 *                         (libxl has no all-vCPU soft map)
 *   "firmware", "boot", "pae", "viridian", "hpet"
 *                         the HVM fields of a domain whose type is not hvm
 *                         (libxl has them only inside "type.hvm")
 *   "nics"                array parallel to "nics": {"rate_bytes_per_sec":
 *                         N} where libxl's bytes per interval loses N
 * Checklist when changing it: the keel_tab/keel_nic_tab tables in
 * json-table.c, their readers in json.c and writers in json-write.c, the
 * json-keel-* fixtures in tests/data/config/, the fuzz seeds in
 * tests/data/fuzz/config-json/, docs/man/keel-config.5.
 */
#ifndef KEEL_CONFIG_JSON_H
#define KEEL_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

/* Objects and arrays nest at most this deep, in what is read (deeper is
 * KEEL_ERANGE) and in what is written. */
#define KEEL__JSON_MAX_DEPTH 16
#define KEEL__US_PER_S 1000000

/* --- json-tree.c: the document tree, with positions ------------------ */

enum keel__jt {
    KEEL__JT_NULL,
    KEEL__JT_BOOL,
    KEEL__JT_NUM,
    KEEL__JT_STR,
    KEEL__JT_OBJ,
    KEEL__JT_ARR
};

struct keel__jnode {
    enum keel__jt type;
    bool b;
    size_t off;     /* byte offset of the value */
    size_t key_off; /* and of its key, in an object */
    char *key;      /* NUL-terminated copy; key_len bytes */
    size_t key_len;
    char *str; /* KEEL__JT_STR decoded, KEEL__JT_NUM as written; len bytes */
    size_t len;
    struct keel__jnode *kids, *last, *next;
    size_t n; /* number of kids */
};

/* Why keel__jtree_parse failed: what happened at byte off (placed), or,
 * when not placed, before any byte was read (yajl could not start). */
struct keel__jtree_err {
    bool placed;
    size_t off;
    char what[256];
};

/* Parses the len bytes of buf, whose top level must be an object, into
 * *root_r (free it with keel__jtree_free). Returns 0, or KEEL_ESYNTAX,
 * KEEL_EINVAL (not an object), KEEL_ERANGE (nesting or size limits) or
 * KEEL_ENOMEM with *err_r filled in; records no error on a context. */
int keel__jtree_parse(const char *buf, size_t len,
                      struct keel__jnode **root_r,
                      struct keel__jtree_err *err_r);
/* Frees n, its kids and its siblings; NULL-safe. */
void keel__jtree_free(struct keel__jnode *n);

/* Where the last offset asked for was: start with {0, 1, 1}. */
struct keel__jpos {
    size_t off, line, col;
};
/* Line and column (from 1, in bytes) of offset off in buf (len bytes),
 * resuming from and updating *pos. */
void keel__jtree_where(struct keel__jpos *pos, const char *buf, size_t len,
                       size_t off, size_t *line_r, size_t *col_r);

/* The path of the value being read or written, for messages:
 * "b_info.vcpu_hard_affinity[1]". push returns what pop restores. */
struct keel__jpath {
    char s[192];
    size_t len;
};
size_t keel__jpath_push(struct keel__jpath *p, const char *key, long index);
void keel__jpath_pop(struct keel__jpath *p, size_t old);

/* --- json-table.c: the tables ------------------------------------------ */

enum keel__jk {
    KEEL__JK_STR,     /* char * */
    KEEL__JK_I64,     /* int64_t in min..max */
    KEEL__JK_DEFBOOL, /* int tristate as "True" / "False" */
    KEEL__JK_BOOL,    /* int tristate as true / false */
    KEEL__JK_ENUM,    /* int, by name (aux: struct keel__jname[]) */
    KEEL__JK_UUID,    /* uint8_t[16] */
    KEEL__JK_MAC,     /* uint8_t[6] */
    KEEL__JK_STRV,    /* char **, as an array of strings */
    KEEL__JK_OBJ,     /* a nested object over the same base (aux: jtab) */
    KEEL__JK_SPECIAL, /* read and write say how */
};

#define KEEL__JF_FIRST 1u   /* read before the table's other fields */
#define KEEL__JF_ALIAS 2u   /* libxl's deprecated spelling: never written */
#define KEEL__JF_NOT_HVM 4u /* written only when the type is not hvm */
#define KEEL__JF_NEG1 8u    /* -1 is libxl's "default": read as unset */
#define KEEL__JF_ONCE 16u   /* refused when a libxl field already set it */

struct keel__jrd; /* the reader's state, json.c */
struct keel__jwr; /* the writer's state, json-write.c */

/* A special's read gets the member's node and the table's base; its
 * write writes the member (key and value) or nothing. */
struct keel__jfield {
    const char *key;
    enum keel__jk kind;
    unsigned int flags;
    size_t off;
    int64_t min, max;
    const void *aux;
    int (*read)(struct keel__jrd *rd, const struct keel__jnode *n,
                void *base);
    int (*write)(struct keel__jwr *wr, const void *base);
};

struct keel__jtab {
    const struct keel__jfield *fields;
    size_t n;
    /* libxl's fields keel does not model; "x*" matches a prefix */
    const char *const *libxl;
};

struct keel__jname {
    int value;
    const char *name;
};

/* The model field f describes, in base. */
#define KEEL__JAT(base, f, type) ((type *)((char *)(base) + (f)->off))
#define KEEL__JCAT(base, f, type)                                             \
    ((const type *)((const char *)(base) + (f)->off))

/* the whole document, the domain config */
extern const struct keel__jtab keel__jtab_top;
/* one element of "disks" and of "nics" (keel_disk_config, keel_vif_config) */
extern const struct keel__jtab keel__jtab_disk;
extern const struct keel__jtab keel__jtab_nic;
/* one element of "keel"."nics" (keel_vif_config) */
extern const struct keel__jtab keel__jtab_keel_nic;
extern const struct keel__jname keel__jnames_type[];

/* The table of b_info's "type.*" union for a domain type. */
const struct keel__jtab *keel__jtab_union(int type);
/* The name of value in names, or NULL. */
const char *keel__jname_of(const struct keel__jname *names, int value);
/* Whether a plain (not special or object) field holds a value. */
bool keel__jfield_is_set(const struct keel__jfield *f, const void *base);

/* libxl's rate is bytes per interval; the model's is bytes per second.
 * Reading rounds up and writing rounds down, so JSON -> model -> JSON
 * gives the same bytes per interval; where the model's value does not
 * survive the trip, keel.nics[i] carries it too. */
uint64_t keel__jrate_per_interval(int64_t bps, int64_t us);
unsigned __int128 keel__jrate_per_sec(uint64_t bpi, int64_t us);

/* --- json.c: readers of the special fields ------------------------------ */
int keel__jread_vcpus(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base);
int keel__jread_cpumap(struct keel__jrd *rd, const struct keel__jnode *n,
                       void *base);
int keel__jread_hard(struct keel__jrd *rd, const struct keel__jnode *n,
                     void *base);
int keel__jread_soft(struct keel__jrd *rd, const struct keel__jnode *n,
                     void *base);
int keel__jread_rtc(struct keel__jrd *rd, const struct keel__jnode *n,
                    void *base);
int keel__jread_union(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base);
int keel__jread_disks(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base);
int keel__jread_removable(struct keel__jrd *rd, const struct keel__jnode *n,
                          void *base);
int keel__jread_readwrite(struct keel__jrd *rd, const struct keel__jnode *n,
                          void *base);
int keel__jread_cdrom(struct keel__jrd *rd, const struct keel__jnode *n,
                      void *base);
int keel__jread_rate_bpi(struct keel__jrd *rd, const struct keel__jnode *n,
                         void *base);
int keel__jread_rate_us(struct keel__jrd *rd, const struct keel__jnode *n,
                        void *base);
int keel__jread_nics(struct keel__jrd *rd, const struct keel__jnode *n,
                     void *base);
int keel__jread_keel_cpus(struct keel__jrd *rd, const struct keel__jnode *n,
                          void *base);
int keel__jread_keel_cpus_soft(struct keel__jrd *rd,
                               const struct keel__jnode *n, void *base);
int keel__jread_keel_nics(struct keel__jrd *rd, const struct keel__jnode *n,
                          void *base);
int keel__jread_exact_rate(struct keel__jrd *rd, const struct keel__jnode *n,
                           void *base);

/* --- json-write.c: writers of the special fields ------------------------ */
int keel__jwrite_vcpus(struct keel__jwr *wr, const void *base);
int keel__jwrite_cpumap(struct keel__jwr *wr, const void *base);
int keel__jwrite_hard(struct keel__jwr *wr, const void *base);
int keel__jwrite_soft(struct keel__jwr *wr, const void *base);
int keel__jwrite_rtc(struct keel__jwr *wr, const void *base);
int keel__jwrite_union(struct keel__jwr *wr, const void *base);
int keel__jwrite_disks(struct keel__jwr *wr, const void *base);
int keel__jwrite_removable(struct keel__jwr *wr, const void *base);
int keel__jwrite_readwrite(struct keel__jwr *wr, const void *base);
int keel__jwrite_cdrom(struct keel__jwr *wr, const void *base);
int keel__jwrite_rate(struct keel__jwr *wr, const void *base);
int keel__jwrite_nics(struct keel__jwr *wr, const void *base);
int keel__jwrite_keel_cpus(struct keel__jwr *wr, const void *base);
int keel__jwrite_keel_cpus_soft(struct keel__jwr *wr, const void *base);
int keel__jwrite_keel_nics(struct keel__jwr *wr, const void *base);

#endif /* KEEL_CONFIG_JSON_H */

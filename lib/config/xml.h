/* xml.h: what the libvirt XML codec's files share
 *
 * xml.c parses the document and reads the domain-level elements,
 * xml-dev.c reads <devices> and keel's metadata and holds the metadata
 * vocabulary, xml-write.c writes. The design is described in xml.c.
 */
#ifndef KEEL_CONFIG_XML_H
#define KEEL_CONFIG_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <libxml/tree.h>

#include "cfg.h"

#define KEEL_XMLNS "https://keel.example/xmlns/domain/1"
/* libvirt has no replenish interval: its libxl driver uses xl's 50 ms. */
#define RATE_INTERVAL_US 50000
#define WHITESPACE " \t\n"

/* The reader's state; one per document. */
struct rd {
    struct keel_ctx *ctx;
    const char *file;
    const char *buf;
    size_t len;
    struct keel_domain_config *cfg;
    bool use_meta;    /* false when the writer checks its own output */
    xmlNode *meta;    /* <keel:config>, applied last */
    xmlNode *devices; /* handled once the os type is known */
    xmlChar **owned;  /* strings from libxml2, freed at the end */
    size_t nowned;
    uint32_t seen;  /* top-level elements met, by dom_elems index */
    int64_t mem_kb; /* <memory> and <currentMemory> */
    int64_t cur_kb;
    int64_t vcpu_count; /* <vcpu> text and current= */
    int64_t vcpu_cur;
    const char *cpuset;
    xmlNode *vcpu_node;
    const char *pins[KEEL_CONFIG_MAX_ITEMS]; /* <vcpupin> by vCPU */
    int max_pin;
    xmlNode *pin_node;
    /* the first error libxml2 or a SAX hook reported */
    int hook_code;
    char hook_msg[256];
    long hook_line;
    int hook_col;
};

/* --- xml.c: reading helpers; errors are "FILE:LINE:COL: ELEMENT: what" */
int keel__xml_err(struct rd *rd, int code, const xmlNode *n, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));
/* Re-raises the context's last error (from a model helper) at n. */
int keel__xml_wrap(struct rd *rd, const xmlNode *n, int rc);
/* "ELEMENT: not supported by keel" */
int keel__xml_unsupported(struct rd *rd, const xmlNode *n);
/* Refuses attributes not in the space-separated list allowed. */
int keel__xml_only_attrs(struct rd *rd, const xmlNode *n, const char *allowed);
/* The text of a leaf element, kept until the read ends. */
int keel__xml_text(struct rd *rd, xmlNode *n, const char **s_r);
int keel__xml_set_str(struct rd *rd, char **dst, const char *s);
/* Unsigned decimal up to max, signed decimal, yes|no|on|off; what names
 * the value in messages. */
int keel__xml_num(struct rd *rd, const xmlNode *n, const char *what,
                  const char *s, int64_t max, int64_t *v_r);
int keel__xml_snum(struct rd *rd, const xmlNode *n, const char *what,
                   const char *s, int64_t *v_r);
int keel__xml_yesno(struct rd *rd, const xmlNode *n, const char *what,
                    const char *s, int *v_r);
/* Whether libvirt has a word for action a after event ev. */
bool keel__xml_action_in_xml(enum keel_event ev, int a);
/* Reads buf into cfg; use_meta false ignores keel's metadata (the writer
 * checking what its libvirt part says). */
int keel__xml_read(struct keel_ctx *ctx, const char *file, const char *buf,
                   size_t len, bool use_meta, struct keel_domain_config *cfg);

/* --- xml-dev.c ----------------------------------------------------------- */
int keel__xml_devices(struct rd *rd, xmlNode *n);
int keel__xml_meta_apply(struct rd *rd, xmlNode *conf);
/* Driver name to backend type as libvirt's libxl driver maps it, or
 * KEEL_EINVAL for a name it does not know. */
int keel__xml_driver_backend(const char *name, int format);

/* The metadata vocabulary: one entry per model field. */
enum mkind {
    M_STR,
    M_I64,
    M_TRI,
    M_BOOL,
    M_ACTION,
    M_TSC,
    M_TYPE,
    M_FORMAT,
    M_ACCESS,
    M_BACKEND,
    M_VIFTYPE,
    M_MAC,
    M_AFF,
    M_STRV,
};

struct mfield {
    const char *name;
    enum mkind kind;
    size_t off;
};

extern const struct mfield keel__xml_dom_fields[];
extern const size_t keel__xml_n_dom_fields;
extern const struct mfield keel__xml_disk_fields[];
extern const size_t keel__xml_n_disk_fields;
extern const struct mfield keel__xml_vif_fields[];
extern const size_t keel__xml_n_vif_fields;

#define AT(base, f, T) ((T *)((char *)(base) + (f)->off))
#define CAT(base, f, T) ((const T *)((const char *)(base) + (f)->off))

bool keel__xml_mf_equal(const void *a, const void *b, const struct mfield *f);
/* An enum-kind value's name in the metadata, NULL when it has none. */
const char *keel__xml_enum_name(enum mkind kind, int v);

/* --- small inline helpers ------------------------------------------------ */

static inline xmlNode *
elem_next(xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

#define FOR_EACH_ELEM(c, parent)                                               \
    for ((c) = elem_next((parent)->children); (c); (c) = elem_next((c)->next))

static inline bool
is(const xmlNode *n, const char *name)
{
    return !strcmp((const char *)n->name, name);
}

static inline bool
streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* The value of attribute name (no namespace) or NULL. Without a DTD the
 * parser leaves one text node (or none for ""). */
static inline const char *
attr(const xmlNode *n, const char *name)
{
    const xmlAttr *a;

    for (a = n->properties; a; a = a->next)
        if (!a->ns && !strcmp((const char *)a->name, name))
            return a->children && a->children->content
                       ? (const char *)a->children->content
                       : "";
    return NULL;
}

/* An element in keel's namespace (named name, unless NULL). */
static inline bool
is_keel(const xmlNode *n, const char *name)
{
    return n->ns && streq((const char *)n->ns->href, KEEL_XMLNS) &&
           (!name || is(n, name));
}

#endif /* KEEL_CONFIG_XML_H */

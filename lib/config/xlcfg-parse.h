/* xlcfg-parse.h: the xl.cfg grammar, text to a store of settings
 *
 * xlcfg-parse.c reads xl.cfg text (what libxlu's flex/bison parser
 * accepts, see xlcfg-parse.c) into a store: one setting per key, in the
 * order keys first appear, holding the value of the last assignment with
 * earlier `+=` folded in. xlcfg.c maps the store onto the model. A store
 * may be fed more than one text (the file, then each command-line
 * override), later texts overriding or appending to earlier ones as xl
 * does.
 */
#ifndef KEEL_CONFIG_XLCFG_PARSE_H
#define KEEL_CONFIG_XLCFG_PARSE_H

#include <stddef.h>

#include "cfg.h"

/* Lists nest at most this deep; deeper is KEEL_ESYNTAX. */
#define KEEL__XL_MAX_DEPTH 32
/* A store holds at most this many values, counting every list item ever
 * parsed into it; more is KEEL_ERANGE. Bounds memory and time on hostile
 * input well below what a 1 MiB file could otherwise make us allocate. */
#define KEEL__XL_MAX_VALUES 131072

enum keel__xlv_kind {
    KEEL__XLV_STRING = 1, /* a quoted string, escapes decoded */
    KEEL__XLV_NUMBER = 2, /* a number, as written ("0x1f"): see
                             keel__xlv_number */
    KEEL__XLV_LIST = 3,
};

struct keel__xlv {
    enum keel__xlv_kind kind;
    struct keel__where at;    /* where the value starts */
    char *text;               /* STRING, NUMBER: NUL-free, NUL-terminated */
    size_t len, cap;          /* of text, for += */
    struct keel__xlv **items; /* LIST */
    unsigned int count, alloc;
};

struct keel__xlset {
    char *key;
    struct keel__where at; /* where the last assignment's key is */
    struct keel__xlv *value;
};

struct keel__xlstore {
    struct keel__xlset *sets; /* in order of first appearance */
    unsigned int count, alloc;
    unsigned int *index; /* hash of keys: set number + 1, 0 = free */
    unsigned int index_size;
    unsigned int values; /* values ever parsed into the store */
};

void keel__xlstore_init(struct keel__xlstore *st);
void keel__xlstore_dispose(struct keel__xlstore *st);

/* Parses len bytes of buf (not NUL-terminated) into st. Messages say
 * "file:LINE:COL: ..." with LINE counted from first_line. Returns 0,
 * KEEL_ESYNTAX (lexical or syntax error), KEEL_EINVAL (`+=` joining
 * values of different types, or a number), KEEL_ERANGE (too many values)
 * or KEEL_ENOMEM. file must outlive st. */
int keel__xlstore_parse(struct keel_ctx *ctx, struct keel__xlstore *st,
                        const char *file, unsigned int first_line,
                        const char *buf, size_t len);

/* The setting for key, or NULL. */
const struct keel__xlset *keel__xlstore_find(const struct keel__xlstore *st,
                                             const char *key);

/* Reads a NUMBER value's text as strtol with base 0 would (decimal,
 * 0-prefixed octal, 0x hex), requiring every character to be used.
 * Returns 0, KEEL_EINVAL (not a number: "08", "1e5", a string) or
 * KEEL_ERANGE (over INT64_MAX); records no error. */
int keel__xlv_number(const struct keel__xlv *v, int64_t *n_r);

/* "a string", "a number", "a list": for "expected X, found Y". */
const char *keel__xlv_kind_name(enum keel__xlv_kind kind);

#endif /* KEEL_CONFIG_XLCFG_PARSE_H */

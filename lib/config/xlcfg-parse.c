/* xlcfg-parse.c: the xl.cfg grammar, text to a store of settings
 *
 * What xl accepts (libxlu_cfg_l.l and libxlu_cfg_y.y in Xen), as a
 * hand-written lexer and recursive-descent parser:
 *
 *   file   := { stmt } [ assign ]        stmt := [ assign ] ( NL | ';' )
 *   assign := KEY ( '=' | '+=' ) value
 *   value  := STRING | NUMBER | '[' NL* [ value NL* { ',' NL* value NL* }
 *             [ ',' NL* ] ] ']'
 *
 * KEY is [a-z][._0-9a-z]*, NUMBER [0-9][0-9a-fx]* (kept as text, read
 * with base 0 when mapped), STRING single- or double-quoted on one line
 * with C escapes. `#` starts a comment to the end of the line. Any other
 * character is a lexical error; - + . ( ) : usually mean python syntax,
 * which xl.cfg only resembles, so the message says so, as xl does.
 *
 * Where keel is stricter or looser than xl, on purpose: an escape that
 * would put a NUL byte in a string is refused (keel's strings are C
 * strings); \ooo is octal (xl reads the digits as decimal, a bug); a
 * comment on a last line without a newline is accepted (xl's lexer needs
 * the newline); `+=` with a number is refused when parsed rather than
 * when the key is read.
 *
 * Hostile input: list nesting is bounded (KEEL__XL_MAX_DEPTH) so the
 * recursion cannot exhaust the stack, the number of values is bounded
 * (KEEL__XL_MAX_VALUES), `+=` grows strings and lists geometrically and
 * keys are found through a hash, so no input costs quadratic time.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlcfg-parse.h"

enum tok {
    T_EOF,
    T_NL,
    T_SEMI,
    T_COMMA,
    T_LBRACK,
    T_RBRACK,
    T_EQ,
    T_ADD,
    T_KEY,
    T_NUMBER,
    T_STRING,
};

struct parser {
    struct keel_ctx *ctx;
    struct keel__xlstore *st;
    const char *file;
    const char *p, *end;
    const char *line_start;
    unsigned int line;
    /* the current token */
    enum tok tok;
    struct keel__where at;
    const char *text; /* KEY, NUMBER: in the buffer */
    size_t len;
    char *str; /* STRING: decoded, owned until taken */
    size_t str_len;
};

/* --- lexer ------------------------------------------------------------ */

static void
where_here(struct parser *ps, const char *p, struct keel__where *at)
{
    at->file = ps->file;
    at->line = ps->line;
    at->col = (unsigned int)(p - ps->line_start) + 1;
}

static int
lex_error(struct parser *ps, const char *p, const char *what)
{
    struct keel__where at;

    where_here(ps, p, &at);
    return keel_error(ps->ctx, KEEL_ESYNTAX, "%s:%u:%u: %s", at.file, at.line,
                      at.col, what);
}

/* Why a character cannot start a token. */
static int
bad_char(struct parser *ps, const char *p)
{
    unsigned char c = (unsigned char)*p;
    char what[96];

    if (c == '\0')
        return lex_error(ps, p, "unexpected NUL byte");
    if (c == '\r')
        return lex_error(ps, p,
                         "unexpected carriage return (DOS line "
                         "endings?)");
    if (c >= 'A' && c <= 'Z')
        snprintf(what, sizeof(what),
                 "unexpected character '%c' (keys are lower case)", c);
    else if (strchr("+-.():", c))
        snprintf(what, sizeof(what),
                 "unexpected character '%c' (python syntax?)", c);
    else if (c > ' ' && c < 0x7f)
        snprintf(what, sizeof(what), "unexpected character '%c'", c);
    else
        snprintf(what, sizeof(what), "unexpected byte 0x%02x", c);
    return lex_error(ps, p, what);
}

/* Decodes the escape at *pp (just after the backslash) into *out. */
static int
lex_escape(struct parser *ps, const char **pp, char *out)
{
    static const char plain[] = "\"\"''\\\\a\ab\bf\fn\nr\rt\tv\v";
    const char *p = *pp, *bs = p - 1;
    unsigned int v = 0, n;
    size_t i;

    for (i = 0; plain[i]; i += 2) {
        if (p < ps->end && *p == plain[i]) {
            *out = plain[i + 1];
            *pp = p + 1;
            return 0;
        }
    }
    if (p < ps->end && *p == 'x') {
        if (ps->end - p < 3 || keel__hexval(p[1]) < 0 || keel__hexval(p[2]) < 0)
            return lex_error(ps, bs, "\\x needs two hex digits");
        v = (unsigned int)(keel__hexval(p[1]) << 4 | keel__hexval(p[2]));
        p += 3;
    } else if (p < ps->end && *p >= '0' && *p <= '7') {
        for (n = 0; n < 3 && p < ps->end && *p >= '0' && *p <= '7'; n++)
            v = v * 8 + (unsigned int)(*p++ - '0');
        if (v > 255)
            return lex_error(ps, bs, "octal escape over \\377");
    } else if (p >= ps->end || *p == '\n') {
        return lex_error(ps, bs, "unterminated string");
    } else {
        char what[64];

        if ((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f)
            snprintf(what, sizeof(what), "invalid escape '\\%c' in string", *p);
        else
            snprintf(what, sizeof(what), "invalid escape in string");
        return lex_error(ps, bs, what);
    }
    if (v == 0)
        return lex_error(ps, bs, "escape makes a NUL byte in a string");
    *out = (char)v;
    *pp = p;
    return 0;
}

/* A quoted string starting at ps->p; decoded into ps->str. */
static int
lex_string(struct parser *ps)
{
    const char *start = ps->p, *p = ps->p + 1, *q;
    char quote = *start;
    size_t n = 0;
    int rc;

    /* The decoded string is never longer than the raw text. */
    for (q = p; q < ps->end && *q != quote && *q != '\n'; q++)
        if (*q == '\\' && q + 1 < ps->end && q[1] != '\n')
            q++;
    ps->str = malloc((size_t)(q - p) + 1);
    if (!ps->str)
        return keel_error(ps->ctx, KEEL_ENOMEM, "out of memory");
    while (p < ps->end && *p != quote) {
        if (*p == '\n')
            return lex_error(ps, start, "unterminated string");
        if (*p == '\0')
            return lex_error(ps, p, "unexpected NUL byte");
        if (*p == '\\') {
            p++;
            rc = lex_escape(ps, &p, &ps->str[n++]);
            if (rc)
                return rc;
        } else {
            ps->str[n++] = *p++;
        }
    }
    if (p >= ps->end)
        return lex_error(ps, start, "unterminated string");
    ps->str[n] = '\0';
    ps->str_len = n;
    ps->p = p + 1;
    ps->tok = T_STRING;
    return 0;
}

static bool
is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_';
}

static bool
is_number_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

/* A token that is a run of characters: a key or a number. */
static void
lex_run(struct parser *ps, enum tok tok, bool (*more)(char))
{
    const char *p = ps->p + 1;

    while (p < ps->end && more(*p))
        p++;
    ps->tok = tok;
    ps->text = ps->p;
    ps->len = (size_t)(p - ps->p);
    ps->p = p;
}

static void
skip_blanks_and_comment(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
    if (ps->p < ps->end && *ps->p == '#')
        while (ps->p < ps->end && *ps->p != '\n')
            ps->p++;
}

static int
lex_punct(struct parser *ps, char c)
{
    static const char chars[] = "\n;,[]=";
    static const enum tok toks[] = {T_NL,     T_SEMI,   T_COMMA,
                                    T_LBRACK, T_RBRACK, T_EQ};
    const char *hit = strchr(chars, c);

    if (c == '+' && ps->end - ps->p >= 2 && ps->p[1] == '=') {
        ps->tok = T_ADD;
        ps->p += 2;
        return 0;
    }
    if (c == '\0' || !hit)
        return bad_char(ps, ps->p);
    ps->tok = toks[hit - chars];
    ps->p++;
    if (c == '\n') {
        ps->line++;
        ps->line_start = ps->p;
    }
    return 0;
}

/* Reads the next token into ps. */
static int
lex(struct parser *ps)
{
    char c;

    free(ps->str);
    ps->str = NULL;
    skip_blanks_and_comment(ps);
    where_here(ps, ps->p, &ps->at);
    if (ps->p >= ps->end) {
        ps->tok = T_EOF;
        return 0;
    }
    c = *ps->p;
    if (c >= 'a' && c <= 'z') {
        lex_run(ps, T_KEY, is_key_char);
        return 0;
    }
    if (c >= '0' && c <= '9') {
        lex_run(ps, T_NUMBER, is_number_char);
        return 0;
    }
    if (c == '"' || c == '\'')
        return lex_string(ps);
    return lex_punct(ps, c);
}

/* --- values ----------------------------------------------------------- */

static void
value_free(struct keel__xlv *v)
{
    unsigned int i;

    if (!v)
        return;
    for (i = 0; i < v->count; i++)
        value_free(v->items[i]);
    free(v->items);
    free(v->text);
    free(v);
}

static int
value_new(struct parser *ps, enum keel__xlv_kind kind, struct keel__xlv **v_r)
{
    struct keel__xlv *v;

    if (ps->st->values >= KEEL__XL_MAX_VALUES)
        return keel_error(ps->ctx, KEEL_ERANGE, "%s:%u:%u: more than %u values",
                          ps->at.file, ps->at.line, ps->at.col,
                          KEEL__XL_MAX_VALUES);
    v = calloc(1, sizeof(*v));
    if (!v)
        return keel_error(ps->ctx, KEEL_ENOMEM, "out of memory");
    ps->st->values++;
    v->kind = kind;
    v->at = ps->at;
    *v_r = v;
    return 0;
}

static int
list_append(struct keel_ctx *ctx, struct keel__xlv *list,
            struct keel__xlv *item)
{
    if (list->count == list->alloc) {
        unsigned int alloc = list->alloc ? list->alloc * 2 : 4;
        struct keel__xlv **items = realloc(list->items, alloc * sizeof(*items));

        if (!items)
            return keel_error(ctx, KEEL_ENOMEM, "out of memory");
        list->items = items;
        list->alloc = alloc;
    }
    list->items[list->count++] = item;
    return 0;
}

static const char *
tok_name(enum tok tok)
{
    static const char *const names[] = {
        [T_EOF] = "end of input", [T_NL] = "newline",      [T_SEMI] = "';'",
        [T_COMMA] = "','",        [T_LBRACK] = "'['",      [T_RBRACK] = "']'",
        [T_EQ] = "'='",           [T_ADD] = "'+='",        [T_KEY] = "a key",
        [T_NUMBER] = "a number",  [T_STRING] = "a string",
    };

    return names[tok];
}

static int
syntax_error(struct parser *ps, const char *expected)
{
    return keel_error(ps->ctx, KEEL_ESYNTAX, "%s:%u:%u: expected %s, found %s",
                      ps->at.file, ps->at.line, ps->at.col, expected,
                      tok_name(ps->tok));
}

static int
skip_newlines(struct parser *ps)
{
    int rc = 0;

    while (!rc && ps->tok == T_NL)
        rc = lex(ps);
    return rc;
}

static int parse_value(struct parser *ps, unsigned int depth,
                       struct keel__xlv **v_r);

/* The items of a list, the '[' being the current token. */
static int
parse_list(struct parser *ps, unsigned int depth, struct keel__xlv *list)
{
    struct keel__xlv *item = NULL;
    int rc;

    if (depth >= KEEL__XL_MAX_DEPTH)
        return keel_error(
            ps->ctx, KEEL_ESYNTAX, "%s:%u:%u: lists nested more than %u deep",
            ps->at.file, ps->at.line, ps->at.col, KEEL__XL_MAX_DEPTH);
    rc = lex(ps);
    if (!rc)
        rc = skip_newlines(ps);
    while (!rc && ps->tok != T_RBRACK) {
        rc = parse_value(ps, depth + 1, &item);
        if (!rc)
            rc = list_append(ps->ctx, list, item);
        if (rc) {
            value_free(item);
            break;
        }
        rc = skip_newlines(ps);
        if (rc || ps->tok == T_RBRACK)
            break;
        if (ps->tok != T_COMMA)
            return syntax_error(ps, "',' or ']'");
        rc = lex(ps);
        if (!rc)
            rc = skip_newlines(ps);
    }
    return rc;
}

/* A value starting at the current token; on return the current token is
 * the one after it. */
static int
parse_value(struct parser *ps, unsigned int depth, struct keel__xlv **v_r)
{
    struct keel__xlv *v = NULL;
    int rc;

    *v_r = NULL;
    if (ps->tok == T_STRING || ps->tok == T_NUMBER) {
        rc = value_new(
            ps, ps->tok == T_STRING ? KEEL__XLV_STRING : KEEL__XLV_NUMBER, &v);
        if (rc)
            return rc;
        if (ps->tok == T_STRING) {
            v->text = ps->str;
            v->len = ps->str_len;
            ps->str = NULL;
        } else {
            v->text = strndup(ps->text, ps->len);
            v->len = ps->len;
            if (!v->text)
                rc = keel_error(ps->ctx, KEEL_ENOMEM, "out of memory");
        }
        v->cap = v->len + 1;
    } else if (ps->tok == T_LBRACK) {
        rc = value_new(ps, KEEL__XLV_LIST, &v);
        if (!rc)
            rc = parse_list(ps, depth, v);
    } else {
        return syntax_error(ps, "a value");
    }
    if (!rc)
        rc = lex(ps);
    if (rc) {
        value_free(v);
        return rc;
    }
    *v_r = v;
    return 0;
}

/* --- the store -------------------------------------------------------- */

static uint32_t
key_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

static unsigned int
index_slot(const struct keel__xlstore *st, const char *key)
{
    unsigned int mask = st->index_size - 1;
    unsigned int i = key_hash(key) & mask;

    while (st->index[i] && strcmp(st->sets[st->index[i] - 1].key, key))
        i = (i + 1) & mask;
    return i;
}

/* Keeps the index at most half full. */
static int
index_grow(struct keel_ctx *ctx, struct keel__xlstore *st)
{
    unsigned int size = st->index_size ? st->index_size * 2 : 64, i;
    unsigned int *old = st->index;

    if (st->count * 2 < st->index_size)
        return 0;
    st->index = calloc(size, sizeof(*st->index));
    if (!st->index) {
        st->index = old;
        return keel_error(ctx, KEEL_ENOMEM, "out of memory");
    }
    st->index_size = size;
    for (i = 0; i < st->count; i++)
        st->index[index_slot(st, st->sets[i].key)] = i + 1;
    free(old);
    return 0;
}

const struct keel__xlset *
keel__xlstore_find(const struct keel__xlstore *st, const char *key)
{
    unsigned int slot;

    if (!st->index_size)
        return NULL;
    slot = index_slot(st, key);
    return st->index[slot] ? &st->sets[st->index[slot] - 1] : NULL;
}

void
keel__xlstore_init(struct keel__xlstore *st)
{
    memset(st, 0, sizeof(*st));
}

void
keel__xlstore_dispose(struct keel__xlstore *st)
{
    unsigned int i;

    for (i = 0; i < st->count; i++) {
        free(st->sets[i].key);
        value_free(st->sets[i].value);
    }
    free(st->sets);
    free(st->index);
    keel__xlstore_init(st);
}

/* A new setting for key (not in the store), taking key and value. */
static int
store_add(struct keel_ctx *ctx, struct keel__xlstore *st, char *key,
          const struct keel__where *at, struct keel__xlv *value)
{
    int rc = index_grow(ctx, st);

    if (rc)
        return rc;
    if (st->count == st->alloc) {
        unsigned int alloc = st->alloc ? st->alloc * 2 : 32;
        struct keel__xlset *sets = realloc(st->sets, alloc * sizeof(*sets));

        if (!sets)
            return keel_error(ctx, KEEL_ENOMEM, "out of memory");
        st->sets = sets;
        st->alloc = alloc;
    }
    st->sets[st->count].key = key;
    st->sets[st->count].at = *at;
    st->sets[st->count].value = value;
    st->index[index_slot(st, key)] = ++st->count;
    return 0;
}

static int
string_append(struct keel_ctx *ctx, struct keel__xlv *to,
              const struct keel__xlv *from)
{
    if (to->len + from->len + 1 > to->cap) {
        size_t cap = (to->len + from->len + 1) * 2;
        char *text = realloc(to->text, cap);

        if (!text)
            return keel_error(ctx, KEEL_ENOMEM, "out of memory");
        to->text = text;
        to->cap = cap;
    }
    memcpy(to->text + to->len, from->text, from->len + 1);
    to->len += from->len;
    return 0;
}

/* `key += from`: appends from to to, freeing what from no longer owns. */
static int
value_append(struct keel_ctx *ctx, const char *key, struct keel__xlv *to,
             struct keel__xlv *from)
{
    int rc = 0;

    if (to->kind != from->kind)
        return keel_error(
            ctx, KEEL_EINVAL, "%s:%u:%u: %s: cannot append %s to %s",
            from->at.file, from->at.line, from->at.col, key,
            keel__xlv_kind_name(from->kind), keel__xlv_kind_name(to->kind));
    if (to->kind == KEEL__XLV_STRING)
        return string_append(ctx, to, from);
    while (!rc && from->count > 0) {
        rc = list_append(ctx, to, from->items[0]);
        if (!rc)
            memmove(from->items, from->items + 1,
                    --from->count * sizeof(*from->items));
    }
    return rc;
}

/* Records `key op value` (op T_EQ or T_ADD), taking key and value. */
static int
store_set(struct parser *ps, char *key, const struct keel__where *at,
          enum tok op, struct keel__xlv *value)
{
    struct keel__xlset *set = NULL;
    unsigned int slot;
    int rc = 0;

    if (ps->st->index_size) {
        slot = index_slot(ps->st, key);
        if (ps->st->index[slot])
            set = &ps->st->sets[ps->st->index[slot] - 1];
    }
    if (op == T_ADD && value->kind == KEEL__XLV_NUMBER) {
        rc = keel_error(ps->ctx, KEEL_EINVAL,
                        "%s:%u:%u: %s: cannot use += with a number",
                        value->at.file, value->at.line, value->at.col, key);
    } else if (!set) {
        rc = store_add(ps->ctx, ps->st, key, at, value);
        if (!rc)
            return 0;
    } else if (op == T_ADD) {
        rc = value_append(ps->ctx, key, set->value, value);
    } else {
        value_free(set->value);
        set->value = value;
        value = NULL;
    }
    if (!rc)
        set->at = *at;
    free(key);
    value_free(value);
    return rc;
}

/* --- statements ------------------------------------------------------- */

/* One `key op value`, the key being the current token. */
static int
parse_assignment(struct parser *ps)
{
    struct keel__xlv *value = NULL;
    struct keel__where at = ps->at;
    char *key = strndup(ps->text, ps->len);
    enum tok op;
    int rc;

    if (!key)
        return keel_error(ps->ctx, KEEL_ENOMEM, "out of memory");
    rc = lex(ps);
    if (!rc && ps->tok != T_EQ && ps->tok != T_ADD)
        rc = syntax_error(ps, "'=' or '+='");
    op = ps->tok;
    if (!rc)
        rc = lex(ps);
    if (!rc)
        rc = parse_value(ps, 0, &value);
    if (!rc && ps->tok != T_NL && ps->tok != T_SEMI && ps->tok != T_EOF)
        rc = syntax_error(ps, "newline or ';' after the value");
    if (rc) {
        free(key);
        value_free(value);
        return rc;
    }
    return store_set(ps, key, &at, op, value);
}

int
keel__xlstore_parse(struct keel_ctx *ctx, struct keel__xlstore *st,
                    const char *file, unsigned int first_line, const char *buf,
                    size_t len)
{
    struct parser ps = {
        .ctx = ctx,
        .st = st,
        .file = file,
        .p = buf,
        .end = buf + len,
        .line_start = buf,
        .line = first_line,
    };
    int rc = lex(&ps);

    while (!rc && ps.tok != T_EOF) {
        if (ps.tok == T_KEY)
            rc = parse_assignment(&ps);
        else if (ps.tok != T_NL && ps.tok != T_SEMI)
            rc = syntax_error(&ps, "a key");
        if (!rc && ps.tok != T_EOF)
            rc = lex(&ps);
    }
    free(ps.str);
    return rc;
}

/* --- reading values --------------------------------------------------- */

int
keel__xlv_number(const struct keel__xlv *v, int64_t *n_r)
{
    const char *s = v->text;
    unsigned int base = 10;
    bool over = false;
    uint64_t n = 0;
    int d;

    if (v->kind != KEEL__XLV_NUMBER || !*s)
        return KEEL_EINVAL;
    if (s[0] == '0' && s[1] == 'x') {
        base = 16;
        s += 2;
        if (!*s)
            return KEEL_EINVAL;
    } else if (s[0] == '0') {
        base = 8;
    }
    for (; *s; s++) {
        d = keel__hexval(*s);
        if (d < 0 || (unsigned int)d >= base)
            return KEEL_EINVAL;
        if (n > ((uint64_t)INT64_MAX - (uint64_t)d) / base)
            over = true;
        else
            n = n * base + (uint64_t)d;
    }
    if (over)
        return KEEL_ERANGE;
    *n_r = (int64_t)n;
    return 0;
}

const char *
keel__xlv_kind_name(enum keel__xlv_kind kind)
{
    switch (kind) {
    case KEEL__XLV_STRING:
        return "a string";
    case KEEL__XLV_NUMBER:
        return "a number";
    case KEEL__XLV_LIST:
        return "a list";
    }
    return "a value";
}

/* test-sim-store.c: unit tests of the sim backend's xenstore-like tree
 *
 * Every failing call is checked for its code and for a message that says
 * what went wrong; the error is then cleared, because outside a public
 * call the first recorded error would otherwise stick. Corrupt store files
 * are one loop test per case (corrupt_cases[]), each proving that the
 * tree it failed to replace is untouched.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "hv/sim/sim.h"

#define PATH_MAX_BYTES 3072
#define VALUE_MAX_BYTES 4096
#define MAX_DEPTH 60

/* --- helpers ----------------------------------------------------------- */

#define assert_err(rc, code, needle)                                           \
    assert_err_at((rc), (code), (needle), __FILE__, __LINE__)

/* th_assert_err, then forgets the error so the next one is recorded. */
static void
assert_err_at(int rc, int code, const char *needle, const char *file, int line)
{
    th__assert_err(rc, code, needle, file, line);
    keel_ctx_clear_error(th_ctx());
}

static struct sim_store *
new_store(void)
{
    struct sim_store *store = NULL;

    ck_assert_int_eq(sim_store_new(&store), 0);
    ck_assert_ptr_nonnull(store);
    return store;
}

static void
put(struct sim_store *store, const char *path, const char *val)
{
    int rc = sim_store_write(th_ctx(), store, path, val, strlen(val));

    ck_assert_msg(rc == 0, "write %s: %s", path, keel_ctx_last_error(th_ctx()));
}

/* Asserts that path holds exactly the len bytes at want. */
static void
assert_val(struct sim_store *store, const char *path, const void *want,
           size_t len)
{
    char *val = NULL;
    size_t got = 99;
    int rc;

    rc = sim_store_read(th_ctx(), store, path, &val, &got);
    ck_assert_msg(rc == 0, "read %s: %s", path, keel_ctx_last_error(th_ctx()));
    ck_assert_uint_eq(got, len);
    ck_assert_mem_eq(val, want, len);
    ck_assert_int_eq(val[len], '\0');
    free(val);
}

static void
assert_str(struct sim_store *store, const char *path, const char *want)
{
    assert_val(store, path, want, strlen(want));
}

static void
assert_missing(struct sim_store *store, const char *path)
{
    char *val = (char *)"x";
    size_t len = 99;

    assert_err(sim_store_read(th_ctx(), store, path, &val, &len), KEEL_ENOENT,
               path);
    ck_assert_ptr_null(val);
    ck_assert_uint_eq(len, 0);
}

/* Asserts that path's children are want[0..n), in that order. */
static void
assert_list(struct sim_store *store, const char *path, const char *const *want,
            size_t n)
{
    char **names = NULL;
    size_t got = 99, i;
    int rc;

    rc = sim_store_list(th_ctx(), store, path, &names, &got);
    ck_assert_msg(rc == 0, "list %s: %s", path, keel_ctx_last_error(th_ctx()));
    ck_assert_ptr_nonnull(names);
    ck_assert_uint_eq(got, n);
    for (i = 0; i < n; i++)
        ck_assert_str_eq(names[i], want[i]);
    ck_assert_ptr_null(names[n]);
    free(names);
}

static char *
child_path(const char *parent, const char *name)
{
    char *p = NULL;

    ck_assert_int_gt(
        asprintf(&p, "%s/%s", strcmp(parent, "/") ? parent : "", name), 0);
    return p;
}

/* Walks both trees from path down and asserts they are equal. */
static void
assert_same_tree(struct sim_store *a, struct sim_store *b, const char *path)
{
    char *va = NULL, *vb = NULL, **na = NULL, **nb = NULL;
    size_t la = 0, lb = 0, ca = 0, cb = 0, i;

    ck_assert_int_eq(sim_store_read(th_ctx(), a, path, &va, &la), 0);
    ck_assert_int_eq(sim_store_read(th_ctx(), b, path, &vb, &lb), 0);
    ck_assert_msg(la == lb && memcmp(va, vb, la) == 0, "values of %s differ",
                  path);
    ck_assert_int_eq(sim_store_list(th_ctx(), a, path, &na, &ca), 0);
    ck_assert_int_eq(sim_store_list(th_ctx(), b, path, &nb, &cb), 0);
    ck_assert_msg(ca == cb, "%s: %zu children vs %zu", path, ca, cb);
    for (i = 0; i < ca; i++) {
        char *kid;

        ck_assert_str_eq(na[i], nb[i]);
        kid = child_path(path, na[i]);
        assert_same_tree(a, b, kid);
        free(kid);
    }
    free(va);
    free(vb);
    free(na);
    free(nb);
}

static size_t
count_nodes(struct sim_store *store, const char *path)
{
    char **names = NULL;
    size_t n = 0, i, total = 1;

    ck_assert_int_eq(sim_store_list(th_ctx(), store, path, &names, &n), 0);
    for (i = 0; i < n; i++) {
        char *kid = child_path(path, names[i]);

        total += count_nodes(store, kid);
        free(kid);
    }
    free(names);
    return total;
}

static const uint8_t binary[] = {0x00, 0x01, 'a',  0x00, 0xff, 0x7f,
                                 '"',  '\\', 0x80, 0x0a, 0x00};

/* A tree with a bit of everything a store file must carry. */
static void
fill_sample(struct sim_store *store)
{
    uint8_t all[256];
    size_t i;

    for (i = 0; i < sizeof(all); i++)
        all[i] = (uint8_t)i;
    put(store, "/local/domain/0/name", "Domain-0");
    put(store, "/local/domain/0/memory/target", "1048576");
    put(store, "/local/domain/7/empty", "");
    put(store, "/vm/q", "quote\" back\\slash /slash {}[]:,");
    put(store, "/tool/@odd:name-1.x_y", "v");
    ck_assert_int_eq(sim_store_write(th_ctx(), store, "/local/domain/7/bin",
                                     binary, sizeof(binary)),
                     0);
    ck_assert_int_eq(sim_store_write(th_ctx(), store, "/all", all, sizeof(all)),
                     0);
    ck_assert_int_eq(sim_store_write(th_ctx(), store, "/", "root", 4), 0);
}

static void
write_file(const char *file, const void *data, size_t len)
{
    FILE *f = fopen(file, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static char *
slurp(const char *file, size_t *len_r)
{
    FILE *f = fopen(file, "r");
    char *buf = malloc(1 << 20);
    size_t len;

    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(buf);
    len = fread(buf, 1, (1 << 20) - 1, f);
    ck_assert(feof(f));
    fclose(f);
    buf[len] = '\0';
    *len_r = len;
    return buf;
}

/* "/" followed by n components "a" (a path n deep). */
static char *
deep_path(size_t n)
{
    char *p = malloc(2 * n + 2);
    size_t i;

    ck_assert_ptr_nonnull(p);
    for (i = 0; i < n; i++)
        memcpy(p + 2 * i, "/a", 2);
    p[2 * n] = '\0';
    return p;
}

/* --- paths ------------------------------------------------------------- */

START_TEST(test_path_valid)
{
    static const char *const ok[] = {
        "/",
        "/a",
        "/local/domain/0/name",
        "/A-Z_a-z@0-9.:-",
        "/.",
        "/..",
        "/a/./b",
        "/@",
        "/0/1/2",
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(ok); i++)
        ck_assert_msg(sim_store_check_path(th_ctx(), ok[i]) == 0, "%s: %s",
                      ok[i], keel_ctx_last_error(th_ctx()));
}
END_TEST

START_TEST(test_path_invalid)
{
    struct keel_ctx *ctx = th_ctx();

    assert_err(sim_store_check_path(ctx, NULL), KEEL_EINVAL, "NULL");
    assert_err(sim_store_check_path(ctx, ""), KEEL_EINVAL, "not absolute");
    assert_err(sim_store_check_path(ctx, "a/b"), KEEL_EINVAL,
               "\"a/b\" is not absolute");
    assert_err(sim_store_check_path(ctx, "local"), KEEL_EINVAL, "not absolute");
    assert_err(sim_store_check_path(ctx, "/a//b"), KEEL_EINVAL,
               "\"/a//b\" has an empty component at offset 3");
    assert_err(sim_store_check_path(ctx, "//"), KEEL_EINVAL, "ends with");
    assert_err(sim_store_check_path(ctx, "//a"), KEEL_EINVAL,
               "empty component at offset 1");
    assert_err(sim_store_check_path(ctx, "/a/"), KEEL_EINVAL,
               "\"/a/\" ends with '/'");
    assert_err(sim_store_check_path(ctx, "/a b"), KEEL_EINVAL,
               "invalid character 0x20 at offset 2");
    assert_err(sim_store_check_path(ctx, "/a/b*"), KEEL_EINVAL,
               "invalid character 0x2a at offset 4");
    assert_err(sim_store_check_path(ctx, "/caf\xc3\xa9"), KEEL_EINVAL,
               "invalid character 0xc3");
    /* Control characters are not copied into the message. */
    assert_err(sim_store_check_path(ctx, "/a\nb"), KEEL_EINVAL,
               "\"/a?b\" has invalid character 0x0a");
}
END_TEST

START_TEST(test_path_too_long)
{
    struct sim_store *store = new_store();
    char *path = malloc(PATH_MAX_BYTES + 2);
    char *val = NULL;
    const char *msg;

    ck_assert_ptr_nonnull(path);
    path[0] = '/';
    memset(path + 1, 'p', PATH_MAX_BYTES - 1);
    path[PATH_MAX_BYTES] = '\0';
    ck_assert_int_eq(sim_store_check_path(th_ctx(), path), 0);
    put(store, path, "longest");
    assert_str(store, path, "longest");

    path[PATH_MAX_BYTES] = 'p';
    path[PATH_MAX_BYTES + 1] = '\0';
    ck_assert_int_eq(sim_store_check_path(th_ctx(), path), KEEL_E2BIG);
    msg = keel_ctx_last_error(th_ctx());
    ck_assert_ptr_nonnull(strstr(msg, "longer than 3072 bytes"));
    ck_assert_ptr_nonnull(strstr(msg, "pppp...\""));
    ck_assert_uint_lt(strlen(msg), 200);
    keel_ctx_clear_error(th_ctx());
    assert_err(sim_store_write(th_ctx(), store, path, "x", 1), KEEL_E2BIG,
               "longer than 3072");
    assert_err(sim_store_read(th_ctx(), store, path, &val, NULL), KEEL_E2BIG,
               "longer than 3072");
    ck_assert_ptr_null(val);
    free(path);
    sim_store_free(store);
}
END_TEST

START_TEST(test_path_deep)
{
    struct sim_store *store = new_store();
    char *deepest = deep_path(MAX_DEPTH);
    char *too_deep = deep_path(MAX_DEPTH + 1);
    static const char *const a[] = {"a"};
    size_t i;

    put(store, deepest, "bottom");
    assert_str(store, deepest, "bottom");
    for (i = 1; i < MAX_DEPTH; i++) {
        char *mid = deep_path(i);

        assert_str(store, mid, "");
        assert_list(store, mid, a, 1);
        free(mid);
    }
    assert_list(store, deepest, NULL, 0);
    assert_err(sim_store_write(th_ctx(), store, too_deep, "x", 1), KEEL_E2BIG,
               "more than 60 components");
    assert_err(sim_store_check_path(th_ctx(), too_deep), KEEL_E2BIG,
               "components");
    ck_assert_int_eq(count_nodes(store, "/"), MAX_DEPTH + 1);
    free(deepest);
    free(too_deep);
    sim_store_free(store);
}
END_TEST

/* --- read, write, remove, list ------------------------------------------ */

START_TEST(test_write_read)
{
    struct sim_store *store = new_store();
    char *val = NULL;

    put(store, "/a", "hello");
    assert_str(store, "/a", "hello");
    put(store, "/a", "hi");
    assert_str(store, "/a", "hi");
    put(store, "/a", "a longer value than before");
    assert_str(store, "/a", "a longer value than before");
    /* len_r may be NULL; the copy is the caller's. */
    ck_assert_int_eq(sim_store_read(th_ctx(), store, "/a", &val, NULL), 0);
    ck_assert_str_eq(val, "a longer value than before");
    val[0] = 'X';
    free(val);
    assert_str(store, "/a", "a longer value than before");
    /* Names that only share a prefix are different nodes. */
    put(store, "/ab", "2");
    put(store, "/a.", "3");
    assert_str(store, "/a", "a longer value than before");
    assert_str(store, "/ab", "2");
    assert_str(store, "/a.", "3");
    assert_missing(store, "/b");
    assert_missing(store, "/a/b");
    assert_missing(store, "/a/b/c");
    sim_store_free(store);
}
END_TEST

START_TEST(test_write_creates_parents)
{
    struct sim_store *store = new_store();
    static const char *const y[] = {"y"};
    static const char *const z[] = {"z"};
    static const char *const x[] = {"x"};

    put(store, "/x/y/z", "leaf");
    assert_str(store, "/x/y/z", "leaf");
    assert_val(store, "/x", "", 0);
    assert_val(store, "/x/y", "", 0);
    assert_list(store, "/", x, 1);
    assert_list(store, "/x", y, 1);
    assert_list(store, "/x/y", z, 1);
    /* Writing a parent keeps its children. */
    put(store, "/x", "parent");
    assert_str(store, "/x", "parent");
    assert_str(store, "/x/y/z", "leaf");
    sim_store_free(store);
}
END_TEST

START_TEST(test_root)
{
    struct sim_store *store = new_store();
    static const char *const ab[] = {"a", "b"};

    assert_val(store, "/", "", 0);
    assert_list(store, "/", NULL, 0);
    put(store, "/", "root value");
    assert_str(store, "/", "root value");
    put(store, "/b", "");
    put(store, "/a", "");
    assert_list(store, "/", ab, 2);
    assert_err(sim_store_remove(th_ctx(), store, "/"), KEEL_EPERM,
               "root \"/\" cannot be removed");
    assert_list(store, "/", ab, 2);
    sim_store_free(store);
}
END_TEST

START_TEST(test_value_sizes)
{
    struct sim_store *store = new_store();
    char *big = malloc(VALUE_MAX_BYTES + 1);

    ck_assert_ptr_nonnull(big);
    memset(big, 'v', VALUE_MAX_BYTES + 1);
    ck_assert_int_eq(
        sim_store_write(th_ctx(), store, "/max", big, VALUE_MAX_BYTES), 0);
    assert_val(store, "/max", big, VALUE_MAX_BYTES);
    assert_err(
        sim_store_write(th_ctx(), store, "/over", big, VALUE_MAX_BYTES + 1),
        KEEL_E2BIG, "4097 bytes, more than 4096");
    assert_missing(store, "/over");
    /* A refused write leaves an existing value alone. */
    assert_err(
        sim_store_write(th_ctx(), store, "/max", big, VALUE_MAX_BYTES + 1),
        KEEL_E2BIG, "/max");
    assert_val(store, "/max", big, VALUE_MAX_BYTES);
    /* Empty values: NULL with length 0 is fine, NULL with a length not. */
    ck_assert_int_eq(sim_store_write(th_ctx(), store, "/max", NULL, 0), 0);
    assert_val(store, "/max", "", 0);
    assert_err(sim_store_write(th_ctx(), store, "/n", NULL, 3), KEEL_EINVAL,
               "NULL");
    assert_missing(store, "/n");
    free(big);
    sim_store_free(store);
}
END_TEST

START_TEST(test_binary_values)
{
    struct sim_store *store = new_store();
    uint8_t all[256];
    size_t i;

    for (i = 0; i < sizeof(all); i++)
        all[i] = (uint8_t)(255 - i);
    ck_assert_int_eq(
        sim_store_write(th_ctx(), store, "/bin", binary, sizeof(binary)), 0);
    assert_val(store, "/bin", binary, sizeof(binary));
    ck_assert_int_eq(sim_store_write(th_ctx(), store, "/all", all, sizeof(all)),
                     0);
    assert_val(store, "/all", all, sizeof(all));
    ck_assert_int_eq(sim_store_write(th_ctx(), store, "/nul", "\0", 1), 0);
    assert_val(store, "/nul", "\0", 1);
    sim_store_free(store);
}
END_TEST

START_TEST(test_remove)
{
    struct sim_store *store = new_store();
    static const char *const left[] = {"1", "3"};
    static const char *const dom[] = {"domain"};

    put(store, "/local/domain/1/name", "one");
    put(store, "/local/domain/2/name", "two");
    put(store, "/local/domain/2/device/vif/0/state", "4");
    put(store, "/local/domain/3", "three");
    ck_assert_int_eq(sim_store_remove(th_ctx(), store, "/local/domain/2"), 0);
    assert_missing(store, "/local/domain/2");
    assert_missing(store, "/local/domain/2/name");
    assert_missing(store, "/local/domain/2/device/vif/0/state");
    assert_list(store, "/local/domain", left, 2);
    assert_str(store, "/local/domain/1/name", "one");
    assert_str(store, "/local/domain/3", "three");
    /* Removing a leaf leaves its parent. */
    ck_assert_int_eq(sim_store_remove(th_ctx(), store, "/local/domain/1/name"),
                     0);
    assert_list(store, "/local/domain/1", NULL, 0);
    assert_err(sim_store_remove(th_ctx(), store, "/local/domain/2"),
               KEEL_ENOENT, "no store node /local/domain/2");
    assert_err(sim_store_remove(th_ctx(), store, "/nope/deeper"), KEEL_ENOENT,
               "/nope/deeper");
    assert_err(sim_store_remove(th_ctx(), store, "local"), KEEL_EINVAL,
               "not absolute");
    assert_err(sim_store_remove(th_ctx(), store, "/local/"), KEEL_EINVAL,
               "ends with");
    /* Children removed one by one, then a write puts one back. */
    ck_assert_int_eq(sim_store_remove(th_ctx(), store, "/local/domain/1"), 0);
    ck_assert_int_eq(sim_store_remove(th_ctx(), store, "/local/domain/3"), 0);
    assert_list(store, "/local/domain", NULL, 0);
    put(store, "/local/domain/3", "again");
    assert_str(store, "/local/domain/3", "again");
    assert_list(store, "/local", dom, 1);
    sim_store_free(store);
}
END_TEST

START_TEST(test_list)
{
    struct sim_store *store = new_store();
    static const char *const sorted[] = {"-", "10", "9", "@", "B",
                                         "a", "aa", "b", "c"};
    static const char *const ins[] = {"c",  "a",  "9", "b", "B",
                                      "aa", "10", "@", "-"};
    char **names = (char **)1;
    size_t i, n = 99;

    for (i = 0; i < ARRAY_SIZE(ins); i++) {
        char *p = child_path("/d", ins[i]);

        put(store, p, ins[i]);
        free(p);
    }
    assert_list(store, "/d", sorted, ARRAY_SIZE(sorted));
    /* A leaf lists as an empty, NULL-terminated block. */
    assert_list(store, "/d/aa", NULL, 0);
    assert_err(sim_store_list(th_ctx(), store, "/d/zz", &names, &n),
               KEEL_ENOENT, "no store node /d/zz");
    ck_assert_ptr_null(names);
    ck_assert_uint_eq(n, 0);
    assert_err(sim_store_list(th_ctx(), store, "d", &names, &n), KEEL_EINVAL,
               "not absolute");
    ck_assert_ptr_null(names);
    sim_store_free(store);
}
END_TEST

START_TEST(test_read_missing)
{
    struct sim_store *store = new_store();
    char *val = (char *)"x";

    assert_missing(store, "/nothing");
    put(store, "/some", "x");
    assert_missing(store, "/some/thing");
    assert_err(sim_store_read(th_ctx(), store, "/some//thing", &val, NULL),
               KEEL_EINVAL, "empty component");
    ck_assert_ptr_null(val);
    sim_store_free(store);
}
END_TEST

START_TEST(test_dirty)
{
    struct sim_store *store = new_store();
    char *file = strdup(th_path("store.json"));

    ck_assert(!sim_store_dirty(store));
    put(store, "/a", "1");
    ck_assert(sim_store_dirty(store));
    ck_assert_int_eq(sim_store_save(th_ctx(), store, file), 0);
    ck_assert(!sim_store_dirty(store));
    /* Rewriting the same value changes nothing. */
    put(store, "/a", "1");
    ck_assert(!sim_store_dirty(store));
    /* Failed calls change nothing either. */
    assert_err(sim_store_write(th_ctx(), store, "a", "2", 1), KEEL_EINVAL,
               "not absolute");
    assert_err(sim_store_remove(th_ctx(), store, "/b"), KEEL_ENOENT, "/b");
    ck_assert(!sim_store_dirty(store));
    put(store, "/a", "2");
    ck_assert(sim_store_dirty(store));
    ck_assert_int_eq(sim_store_load(th_ctx(), store, file), 0);
    ck_assert(!sim_store_dirty(store));
    assert_str(store, "/a", "1");
    ck_assert_int_eq(sim_store_remove(th_ctx(), store, "/a"), 0);
    ck_assert(sim_store_dirty(store));
    ck_assert_int_eq(sim_store_save(th_ctx(), store, file), 0);
    put(store, "/new/node", "");
    ck_assert(sim_store_dirty(store));
    free(file);
    sim_store_free(store);
}
END_TEST

/* --- save and load ------------------------------------------------------ */

START_TEST(test_round_trip)
{
    static const char head[] =
        "{\"format\":\"keel-sim-store\",\"version\":1,\"tree\":{";
    struct sim_store *a = new_store(), *b = new_store();
    char *file = strdup(th_path("store.json"));
    char *tmp = strdup(th_path("store.json.tmp"));
    char *text, *deepest = deep_path(MAX_DEPTH);
    size_t len;

    fill_sample(a);
    put(a, deepest, "deep");
    put(b, "/stale", "gone after load");
    ck_assert_int_eq(sim_store_save(th_ctx(), a, file), 0);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(sim_store_load(th_ctx(), b, file), 0);
    assert_same_tree(a, b, "/");
    assert_missing(b, "/stale");
    assert_val(b, "/local/domain/7/bin", binary, sizeof(binary));
    assert_str(b, deepest, "deep");

    text = slurp(file, &len);
    ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "file starts: %.60s",
                  text);
    ck_assert_ptr_nonnull(strstr(text, "\"x\":\"00016100ff7f225c800a00\""));
    ck_assert_ptr_nonnull(strstr(text, "\"name\":{\"v\":\"Domain-0\"}"));
    free(text);

    /* Saving again over the old file, and from the loaded copy. */
    put(a, "/local/domain/0/name", "renamed");
    ck_assert_int_eq(sim_store_save(th_ctx(), a, file), 0);
    ck_assert_int_eq(sim_store_load(th_ctx(), b, file), 0);
    assert_str(b, "/local/domain/0/name", "renamed");
    assert_same_tree(a, b, "/");
    free(deepest);
    free(file);
    free(tmp);
    sim_store_free(a);
    sim_store_free(b);
}
END_TEST

START_TEST(test_round_trip_empty)
{
    struct sim_store *a = new_store(), *b = new_store();
    char *file = strdup(th_path("store.json"));

    put(b, "/x", "y");
    ck_assert_int_eq(sim_store_save(th_ctx(), a, file), 0);
    ck_assert_int_eq(sim_store_load(th_ctx(), b, file), 0);
    assert_same_tree(a, b, "/");
    assert_list(b, "/", NULL, 0);
    free(file);
    sim_store_free(a);
    sim_store_free(b);
}
END_TEST

/* What a person might write by hand: spacing, an empty "c", an empty "x",
 * upper-case hex, children out of order. */
START_TEST(test_load_hand_written)
{
    static const char doc[] =
        "{ \"version\": 1, \"format\": \"keel-sim-store\",\n"
        "  \"tree\": { \"c\": {\n"
        "    \"b\": { \"x\": \"00FF\", \"c\": {} },\n"
        "    \"a\": { \"x\": \"\" },\n"
        "    \"c\": { \"v\": \"see\" } },\n"
        "  \"v\": \"\" } }\n";
    static const char *const abc[] = {"a", "b", "c"};
    struct sim_store *store = new_store();
    char *file = strdup(th_path("hand.json"));

    write_file(file, doc, strlen(doc));
    ck_assert_int_eq(sim_store_load(th_ctx(), store, file), 0);
    assert_list(store, "/", abc, 3);
    assert_val(store, "/a", "", 0);
    assert_val(store, "/b", "\x00\xff", 2);
    assert_str(store, "/c", "see");
    assert_list(store, "/b", NULL, 0);
    free(file);
    sim_store_free(store);
}
END_TEST

START_TEST(test_load_missing)
{
    struct sim_store *store = new_store();
    char *file = strdup(th_path("absent.json"));

    put(store, "/keep", "me");
    assert_err(sim_store_load(th_ctx(), store, file), KEEL_ENOENT, file);
    assert_str(store, "/keep", "me");
    ck_assert(sim_store_dirty(store));
    free(file);
    sim_store_free(store);
}
END_TEST

START_TEST(test_file_errors)
{
    struct sim_store *store = new_store();
    char *nodir = strdup(th_path("no/such/dir/store.json"));
    char *dir = strdup(th_path("adir"));
    char *dirtmp = strdup(th_path("adir.tmp"));

    put(store, "/a", "b");
    assert_err(sim_store_save(th_ctx(), store, nodir), KEEL_EIO,
               "cannot create");
    ck_assert(sim_store_dirty(store));
    /* rename() cannot put a file over a directory; the .tmp goes away. */
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    assert_err(sim_store_save(th_ctx(), store, dir), KEEL_EIO, "cannot rename");
    ck_assert_int_eq(access(dirtmp, F_OK), -1);
    ck_assert(sim_store_dirty(store));
    assert_err(sim_store_load(th_ctx(), store, dir), KEEL_EIO, "cannot read");
    assert_str(store, "/a", "b");
    free(nodir);
    free(dir);
    free(dirtmp);
    sim_store_free(store);
}
END_TEST

/* --- corrupt store files ----------------------------------------------- */

#define DOC(tree)                                                              \
    "{\"format\":\"keel-sim-store\",\"version\":1,\"tree\":" tree "}"

struct corrupt_case {
    const char *json; /* or NULL: gen makes it */
    char *(*gen)(size_t *len_r);
    const char *needle;
};

static char *
gen_long_text(size_t *len_r)
{
    char *s = malloc(VALUE_MAX_BYTES + 64);

    ck_assert_ptr_nonnull(s);
    *len_r =
        (size_t)sprintf(s, DOC("{\"v\":\"%0*d\"}"), VALUE_MAX_BYTES + 1, 0);
    return s;
}

static char *
gen_long_hex(size_t *len_r)
{
    char *s = malloc(2 * VALUE_MAX_BYTES + 64);

    ck_assert_ptr_nonnull(s);
    *len_r =
        (size_t)sprintf(s, DOC("{\"x\":\"%0*d\"}"), 2 * VALUE_MAX_BYTES + 2, 0);
    return s;
}

static char *
gen_nul(size_t *len_r)
{
    static const char doc[] = DOC("{\"v\":\"\"}");
    char *s = malloc(sizeof(doc) + 1);

    ck_assert_ptr_nonnull(s);
    memcpy(s, doc, sizeof(doc));
    s[sizeof(doc) - 1] = '\0';
    s[sizeof(doc)] = 'x';
    *len_r = sizeof(doc) + 1;
    return s;
}

static char *
gen_nesting(size_t *len_r)
{
    char *s = malloc(1000);

    ck_assert_ptr_nonnull(s);
    memset(s, '[', 400);
    memset(s + 400, ']', 400);
    *len_r = 800;
    return s;
}

/* A chain of MAX_DEPTH + 1 nodes below the root. */
static char *
gen_deep_tree(size_t *len_r)
{
    static const char head[] = "{\"format\":\"keel-sim-store\","
                               "\"version\":1,\"tree\":{\"v\":\"\"";
    static const char open[] = ",\"c\":{\"a\":{\"v\":\"\"";
    char *s = malloc(sizeof(head) + (MAX_DEPTH + 1) * (sizeof(open) + 3));
    size_t len = 0, i;

    ck_assert_ptr_nonnull(s);
    memcpy(s, head, sizeof(head) - 1);
    len = sizeof(head) - 1;
    for (i = 0; i < MAX_DEPTH + 1; i++) {
        memcpy(s + len, open, sizeof(open) - 1);
        len += sizeof(open) - 1;
    }
    for (i = 0; i < MAX_DEPTH + 1; i++) {
        memcpy(s + len, "}}", 2);
        len += 2;
    }
    memcpy(s + len, "}}", 2);
    *len_r = len + 2;
    return s;
}

static char *
gen_long_path(size_t *len_r)
{
    char *s = malloc(PATH_MAX_BYTES + 200);

    ck_assert_ptr_nonnull(s);
    *len_r =
        (size_t)sprintf(s, DOC("{\"v\":\"\",\"c\":{\"%0*d\":{\"v\":\"\"}}}"),
                        PATH_MAX_BYTES, 0);
    return s;
}

static const struct corrupt_case corrupt_cases[] = {
    {"", NULL, "premature EOF"},
    {"{\"format\":\"keel-sim-store\",\"version\":1,\"tree\":{\"v\":\"", NULL,
     "premature EOF"},
    {DOC("{\"v\":\"\"}") " x", NULL, "trailing garbage"},
    {"hello", NULL, "lexical error"},
    {"{\"fo\xffrmat\":1}", NULL, "invalid bytes in UTF8"},
    {"[]", NULL, "is not a JSON object"},
    {"\"keel-sim-store\"", NULL, "is not a JSON object"},
    {"{\"format\":\"keel-sim\",\"version\":1,\"tree\":{\"v\":\"\"}}", NULL,
     "not a keel sim store"},
    {"{\"version\":1,\"tree\":{\"v\":\"\"}}", NULL, "not a keel sim store"},
    {"{\"format\":7,\"version\":1,\"tree\":{\"v\":\"\"}}", NULL,
     "not a keel sim store"},
    {"{\"format\":\"keel-sim-store\",\"version\":2,\"tree\":{\"v\":\"\"}}",
     NULL, "version 2, but this keel reads version 1"},
    {"{\"format\":\"keel-sim-store\",\"version\":\"1\",\"tree\":{}}", NULL,
     "\"version\" is missing or not an integer"},
    {"{\"format\":\"keel-sim-store\",\"version\":1.0,\"tree\":{}}", NULL,
     "not an integer"},
    {"{\"format\":\"keel-sim-store\",\"tree\":{\"v\":\"\"}}", NULL,
     "not an integer"},
    {"{\"format\":\"keel-sim-store\",\"version\":1}", NULL, "has no \"tree\""},
    {DOC("{\"v\":\"\"},\"extra\":0"), NULL, "unknown key \"extra\""},
    {DOC("{\"v\":\"\"},\"format\":\"keel-sim-store\""), NULL,
     "key \"format\" appears twice"},
    {DOC("[]"), NULL, "node /: is not an object"},
    {DOC("{}"), NULL, "node /: needs exactly one of \"v\" and \"x\""},
    {DOC("{\"v\":\"\",\"x\":\"\"}"), NULL, "exactly one of"},
    {DOC("{\"v\":1}"), NULL, "\"v\" is not a string"},
    {DOC("{\"v\":null}"), NULL, "\"v\" is not a string"},
    {DOC("{\"v\":\"bell\\u0007\"}"), NULL, "not printable ASCII"},
    {DOC("{\"v\":\"caf\xc3\xa9\"}"), NULL, "not printable ASCII"},
    {DOC("{\"x\":[]}"), NULL, "\"x\" is not a string"},
    {DOC("{\"x\":\"abc\"}"), NULL, "odd number of hex digits"},
    {DOC("{\"x\":\"0g\"}"), NULL, "non-hex character"},
    {DOC("{\"v\":\"\",\"c\":[]}"), NULL, "\"c\" is not an object"},
    {DOC("{\"v\":\"\",\"c\":{\"a\":1}}"), NULL, "node /a: is not an object"},
    {DOC("{\"v\":\"\",\"c\":{\"local\":{\"v\":\"\",\"c\":{\"a b\":"
         "{\"v\":\"\"}}}}}"),
     NULL, "node /local: child name \"a b\" has invalid character 0x20"},
    {DOC("{\"v\":\"\",\"c\":{\"a/b\":{\"v\":\"\"}}}"), NULL,
     "invalid character 0x2f"},
    {DOC("{\"v\":\"\",\"c\":{\"\":{\"v\":\"\"}}}"), NULL,
     "child with an empty name"},
    {DOC("{\"v\":\"\",\"c\":{\"a\":{\"v\":\"1\"},\"b\":{\"v\":\"\"},"
         "\"a\":{\"v\":\"2\"}}}"),
     NULL, "child \"a\" appears twice"},
    {DOC("{\"v\":\"\",\"c\":{\"a\":{\"v\":\"\",\"q\":1}}}"), NULL,
     "node /a: unknown key \"q\""},
    {DOC("{\"v\":\"\",\"v\":\"\"}"), NULL, "key \"v\" appears twice"},
    {DOC("/* hi */{\"v\":\"\"}"), NULL, "a comment"},
    {NULL, gen_long_text, "4097 bytes, more than 4096"},
    {NULL, gen_long_hex, "4097 bytes, more than 4096"},
    {NULL, gen_nul, "a NUL byte"},
    {NULL, gen_nesting, "nesting too deep"},
    {NULL, gen_deep_tree, "deeper than 60 components"},
    {NULL, gen_long_path, "longer than 3072 bytes"},
};

/* Loads corrupt_cases[_i] into a populated, dirty store: KEEL_ECORRUPT
 * naming the file and the fault, and the store exactly as it was. */
START_TEST(test_load_corrupt)
{
    const struct corrupt_case *c = &corrupt_cases[_i];
    struct sim_store *store = new_store(), *ref = new_store();
    char *good = strdup(th_path("good.json"));
    char *bad = strdup(th_path("bad.json"));
    char *json = NULL;
    const char *msg;
    size_t len = 0;
    int rc;

    fill_sample(store);
    ck_assert_int_eq(sim_store_save(th_ctx(), store, good), 0);
    ck_assert_int_eq(sim_store_load(th_ctx(), ref, good), 0);
    put(store, "/unsaved", "change");
    if (c->gen)
        json = c->gen(&len);
    write_file(bad, c->json ? c->json : json, c->json ? strlen(c->json) : len);
    keel_ctx_clear_error(th_ctx());
    rc = sim_store_load(th_ctx(), store, bad);
    msg = keel_ctx_last_error(th_ctx());
    ck_assert_msg(strncmp(msg, bad, strlen(bad)) == 0,
                  "message does not start with the file: %s", msg);
    th_assert_err(rc, KEEL_ECORRUPT, c->needle);
    ck_assert(sim_store_dirty(store));
    assert_str(store, "/unsaved", "change");
    ck_assert_int_eq(sim_store_remove(th_ctx(), store, "/unsaved"), 0);
    assert_same_tree(store, ref, "/");
    free(json);
    free(good);
    free(bad);
    sim_store_free(store);
    sim_store_free(ref);
}
END_TEST

/* Every proper prefix of a saved file is refused. */
START_TEST(test_load_truncated)
{
    struct sim_store *store = new_store(), *ref = new_store();
    char *good = strdup(th_path("good.json"));
    char *bad = strdup(th_path("bad.json"));
    char *text;
    size_t len, cut;

    fill_sample(store);
    ck_assert_int_eq(sim_store_save(th_ctx(), store, good), 0);
    ck_assert_int_eq(sim_store_load(th_ctx(), ref, good), 0);
    text = slurp(good, &len);
    ck_assert_int_eq(text[len - 1], '\n');
    ck_assert_int_eq(text[len - 2], '}');
    for (cut = 0; cut < len - 1; cut++) {
        write_file(bad, text, cut);
        assert_err(sim_store_load(th_ctx(), store, bad), KEEL_ECORRUPT, bad);
    }
    assert_same_tree(store, ref, "/");
    ck_assert(!sim_store_dirty(store));
    free(text);
    free(good);
    free(bad);
    sim_store_free(store);
    sim_store_free(ref);
}
END_TEST

/* --- many children ------------------------------------------------------ */

START_TEST(test_many_children)
{
    enum { N = 10000 };
    struct sim_store *store = new_store(), *copy = new_store();
    char *file = strdup(th_path("store.json"));
    char path[64], want[16], **names = NULL;
    size_t n = 0, i;

    /* Inserted in an order that is neither sorted nor reverse sorted. */
    for (i = 0; i < N; i++) {
        unsigned int id = (unsigned int)((i * 7919) % N);

        snprintf(path, sizeof(path), "/local/domain/%u/name", id);
        snprintf(want, sizeof(want), "dom%u", id);
        put(store, path, want);
    }
    ck_assert_int_eq(
        sim_store_list(th_ctx(), store, "/local/domain", &names, &n), 0);
    ck_assert_uint_eq(n, N);
    for (i = 1; i < n; i++)
        ck_assert_int_lt(strcmp(names[i - 1], names[i]), 0);
    ck_assert_str_eq(names[0], "0");
    ck_assert_str_eq(names[1], "1");
    ck_assert_str_eq(names[2], "10");
    ck_assert_str_eq(names[N - 1], "9999");
    free(names);
    assert_str(store, "/local/domain/4711/name", "dom4711");
    for (i = 0; i < N; i += 2) {
        snprintf(path, sizeof(path), "/local/domain/%zu", i);
        ck_assert_int_eq(sim_store_remove(th_ctx(), store, path), 0);
    }
    ck_assert_int_eq(
        sim_store_list(th_ctx(), store, "/local/domain", &names, &n), 0);
    ck_assert_uint_eq(n, N / 2);
    free(names);
    assert_missing(store, "/local/domain/4710/name");
    assert_str(store, "/local/domain/4711/name", "dom4711");
    ck_assert_int_eq(sim_store_save(th_ctx(), store, file), 0);
    ck_assert_int_eq(sim_store_load(th_ctx(), copy, file), 0);
    ck_assert_uint_eq(count_nodes(copy, "/"), 3 + 2 * (N / 2));
    assert_same_tree(store, copy, "/");
    free(file);
    sim_store_free(store);
    sim_store_free(copy);
}
END_TEST

START_TEST(test_free_null)
{
    sim_store_free(NULL);
}
END_TEST

static Suite *
store_suite(void)
{
    Suite *s = suite_create("sim-store");
    TCase *tc;

    tc = th_tcase(s, "path");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_path_valid);
    tcase_add_test(tc, test_path_invalid);
    tcase_add_test(tc, test_path_too_long);
    tcase_add_test(tc, test_path_deep);

    tc = th_tcase(s, "ops");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_write_read);
    tcase_add_test(tc, test_write_creates_parents);
    tcase_add_test(tc, test_root);
    tcase_add_test(tc, test_value_sizes);
    tcase_add_test(tc, test_binary_values);
    tcase_add_test(tc, test_remove);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_read_missing);
    tcase_add_test(tc, test_dirty);
    tcase_add_test(tc, test_free_null);

    tc = th_tcase(s, "file");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_round_trip_empty);
    tcase_add_test(tc, test_load_hand_written);
    tcase_add_test(tc, test_load_missing);
    tcase_add_test(tc, test_file_errors);
    tcase_add_loop_test(tc, test_load_corrupt, 0, ARRAY_SIZE(corrupt_cases));
    tcase_add_test(tc, test_load_truncated);

    tc = th_tcase(s, "scale");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_many_children);
    return s;
}

int
main(void)
{
    return th_run(store_suite());
}

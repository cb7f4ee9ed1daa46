/* test-lv-xdr.c: keeld's libvirt wire codec (daemon/libvirt/xdr.c)
 *
 * Byte layouts checked against the protocol reference's worked example
 * and XDR's rules (big-endian, 4-byte padding, optional = 0/1 word);
 * every decoder refuses what is short, over its bound, or not a C string,
 * and stays failed once it has failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "xdr.h"

static void
assert_bytes(const struct lv_writer *w, const char *hex)
{
    char got[1024];
    size_t i;

    ck_assert(!w->oom);
    ck_assert_uint_lt(w->len * 2, sizeof(got));
    for (i = 0; i < w->len; i++)
        snprintf(got + 2 * i, 3, "%02x", w->p[i]);
    got[2 * w->len] = '\0';
    ck_assert_str_eq(got, hex);
}

START_TEST(values_round_trip)
{
    struct lv_writer w;
    struct lv_reader r;
    uint32_t u;
    int32_t i;
    uint64_t h;
    uint8_t fixed[5];
    char *s = NULL, *o = NULL, *none = (char *)1;

    lv_writer_init(&w);
    lv_put_u32(&w, 0xdeadbeef);
    lv_put_i32(&w, -2);
    lv_put_u64(&w, UINT64_C(0x0102030405060708));
    lv_put_string(&w, "abcde");
    lv_put_opt_string(&w, "x");
    lv_put_opt_string(&w, NULL);
    lv_put_fixed(&w, "\1\2\3\4\5", 5);
    assert_bytes(&w, "deadbeef"
                     "fffffffe"
                     "0102030405060708"
                     "000000056162636465000000"
                     "000000010000000178000000"
                     "00000000"
                     "0102030405000000");
    lv_reader_init(&r, w.p, w.len);
    ck_assert_int_eq(lv_get_u32(&r, &u), 0);
    ck_assert_uint_eq(u, 0xdeadbeef);
    ck_assert_int_eq(lv_get_i32(&r, &i), 0);
    ck_assert_int_eq(i, -2);
    ck_assert_int_eq(lv_get_u64(&r, &h), 0);
    ck_assert(h == UINT64_C(0x0102030405060708));
    ck_assert_int_eq(lv_get_string(&r, 16, &s), 0);
    ck_assert_str_eq(s, "abcde");
    ck_assert_int_eq(lv_get_opt_string(&r, 16, &o), 0);
    ck_assert_str_eq(o, "x");
    ck_assert_int_eq(lv_get_opt_string(&r, 16, &none), 0);
    ck_assert_ptr_null(none);
    ck_assert_int_eq(lv_get_fixed(&r, fixed, 5), 0);
    ck_assert_mem_eq(fixed, "\1\2\3\4\5", 5);
    ck_assert_uint_eq(r.pos, r.len);
    ck_assert_int_eq(lv_get_u32(&r, &u), -1); /* nothing left */
    free(s);
    free(o);
    lv_writer_dispose(&w);
}
END_TEST

START_TEST(reader_refuses_bad_input)
{
    static const uint8_t too_long[] = {0, 0, 0, 9, 'a', 'b', 'c', 'd'};
    static const uint8_t nul[] = {0, 0, 0, 3, 'a', 0, 'c', 0};
    static const uint8_t flag2[] = {0, 0, 0, 2, 0, 0, 0, 0};
    static const uint8_t big[] = {0, 0, 0, 5, 'a', 'b', 'c', 'd', 'e', 0, 0, 0};
    struct lv_reader r;
    char *s = NULL;
    uint32_t u;

    lv_reader_init(&r, too_long, 3); /* a word cut short */
    ck_assert_int_eq(lv_get_u32(&r, &u), -1);
    lv_reader_init(&r, too_long, sizeof(too_long));
    ck_assert_int_eq(lv_get_string(&r, 100, &s), -1); /* past the end */
    ck_assert_ptr_null(s);
    lv_reader_init(&r, nul, sizeof(nul));
    ck_assert_int_eq(lv_get_string(&r, 100, &s), -1); /* not a C string */
    lv_reader_init(&r, flag2, sizeof(flag2));
    ck_assert_int_eq(lv_get_opt_string(&r, 100, &s), -1); /* not 0 or 1 */
    lv_reader_init(&r, big, sizeof(big));
    ck_assert_int_eq(lv_get_string(&r, 4, &s), -1); /* over its bound */
    ck_assert(r.bad);
    ck_assert_int_eq(lv_get_u32(&r, &u), -1); /* failed stays failed */
    lv_reader_init(&r, big, sizeof(big) - 1); /* padding cut */
    ck_assert_int_eq(lv_get_string(&r, 100, &s), -1);
}
END_TEST

/* The reference's worked example: AUTH_LIST's call, and its reply. */
START_TEST(packet_header)
{
    struct lv_header h = {LV_PROGRAM, 1, 66, LV_CALL, 0, LV_OK}, d;
    struct lv_writer w;

    lv_writer_init(&w);
    lv_packet_begin(&w, &h);
    ck_assert_int_eq(lv_packet_end(&w), 0);
    assert_bytes(&w,
                 "0000001c200080860000000100000042000000000000000000000000");
    ck_assert_uint_eq(lv_packet_len(w.p), 28);
    ck_assert_int_eq(lv_header_decode(w.p + 4, w.len - 4, &d), 0);
    ck_assert(memcmp(&d, &h, sizeof(h)) == 0);
    ck_assert_int_eq(lv_header_decode(w.p + 4, 23, &d), -1);
    h.type = LV_REPLY;
    lv_packet_begin(&w, &h); /* starts over */
    lv_put_u32(&w, 1);
    lv_put_i32(&w, 0);
    ck_assert_int_eq(lv_packet_end(&w), 0);
    assert_bytes(&w, "000000242000808600000001000000420000000100000000"
                     "000000000000000100000000");
    lv_writer_dispose(&w);
}
END_TEST

/* remote_error: code, domain, ?message, level, ?dom, ?str1..3, int1,
 * int2, ?net. */
START_TEST(error_layout)
{
    struct lv_writer w;
    struct lv_reader r;
    int32_t code, dom, level, int1, int2;
    uint32_t absent;
    char *msg = NULL, *str1 = NULL, *str2 = (char *)1, *str3 = (char *)1;

    lv_writer_init(&w);
    lv_put_error(&w, 42, 1, "Domain not found");
    lv_reader_init(&r, w.p, w.len);
    ck_assert_int_eq(lv_get_i32(&r, &code), 0);
    ck_assert_int_eq(lv_get_i32(&r, &dom), 0);
    ck_assert_int_eq(lv_get_opt_string(&r, 100, &msg), 0);
    ck_assert_int_eq(lv_get_i32(&r, &level), 0);
    ck_assert_int_eq(lv_get_u32(&r, &absent), 0);
    ck_assert_uint_eq(absent, 0);
    ck_assert_int_eq(lv_get_opt_string(&r, 100, &str1), 0);
    ck_assert_int_eq(lv_get_opt_string(&r, 100, &str2), 0);
    ck_assert_int_eq(lv_get_opt_string(&r, 100, &str3), 0);
    ck_assert_int_eq(lv_get_i32(&r, &int1), 0);
    ck_assert_int_eq(lv_get_i32(&r, &int2), 0);
    ck_assert_int_eq(lv_get_u32(&r, &absent), 0);
    ck_assert_uint_eq(r.pos, r.len);
    ck_assert_int_eq(code, 42);
    ck_assert_int_eq(dom, 1);
    ck_assert_str_eq(msg, "Domain not found");
    ck_assert_int_eq(level, 2);
    ck_assert_str_eq(str1, "Domain not found");
    ck_assert_ptr_null(str2);
    ck_assert_ptr_null(str3);
    ck_assert_int_eq(int1, -1);
    ck_assert_int_eq(int2, -1);
    free(msg);
    free(str1);
    lv_writer_dispose(&w);
}
END_TEST

START_TEST(args_layouts)
{
    static const uint8_t uuid[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                     9, 10, 11, 12, 13, 14, 15, 16};
    struct lv_args a, b;
    struct lv_writer w;

    memset(&a, 0, sizeof(a));
    a.has_dom = true;
    a.dom.name = "web";
    memcpy(a.dom.uuid, uuid, 16);
    a.dom.id = -1;
    a.num[0] = (int64_t)UINT64_C(0x100000000);
    a.num[1] = 2;
    lv_writer_init(&w);
    lv_args_encode("dHu", &a, &w);
    assert_bytes(&w, "00000003776562000102030405060708090a0b0c0d0e0f10"
                     "ffffffff000000010000000000000002");
    ck_assert_int_eq(lv_args_decode("dHu", w.p, w.len, &b), 0);
    ck_assert_str_eq(b.dom.name, "web");
    ck_assert_mem_eq(b.dom.uuid, uuid, 16);
    ck_assert_int_eq(b.dom.id, -1);
    ck_assert(b.num[0] == (int64_t)UINT64_C(0x100000000) && b.num[1] == 2);
    lv_args_dispose(&b);
    /* trailing bytes, a short payload, a layout with too many members */
    ck_assert_int_eq(lv_args_decode("dH", w.p, w.len, &b), -1);
    lv_args_dispose(&b);
    ck_assert_int_eq(lv_args_decode("dHuu", w.p, w.len, &b), -1);
    lv_args_dispose(&b);
    ck_assert_int_eq(lv_args_decode("iiiii", w.p, w.len, &b), -1);
    lv_args_dispose(&b);
    /* an absent optional domain, then a present one */
    w.len = 0;
    lv_put_i32(&w, 0);
    lv_put_u32(&w, 0);
    ck_assert_int_eq(lv_args_decode("iD", w.p, w.len, &b), 0);
    ck_assert(!b.has_dom);
    lv_args_dispose(&b);
    w.len = 4;
    lv_put_u32(&w, 1);
    lv_put_domain(&w, "x", uuid, 7);
    ck_assert_int_eq(lv_args_decode("iD", w.p, w.len, &b), 0);
    ck_assert(b.has_dom && b.dom.id == 7);
    lv_args_dispose(&b);
    lv_writer_dispose(&w);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("lv-xdr");
    TCase *tc = th_tcase(s, "xdr");

    tcase_add_test(tc, values_round_trip);
    tcase_add_test(tc, reader_refuses_bad_input);
    tcase_add_test(tc, packet_header);
    tcase_add_test(tc, error_layout);
    tcase_add_test(tc, args_layouts);
    return th_run(s);
}

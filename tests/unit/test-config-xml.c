/* test-config-xml.c: placeholder */
#include "config.h"

#include "harness.h"

START_TEST(placeholder)
{
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("test-config-xml");
    TCase *tc = th_tcase(s, "placeholder");

    tcase_add_test(tc, placeholder);
    return th_run(s);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/lib: errbuf, sbuf and hex helpers. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errbuf.h"
#include "lib/text.h"

static void
test_errbuf_set_and_prefix(void **state)
{
    struct errbuf eb;

    (void) state;
    errbuf_clear(&eb);
    assert_false(errbuf_is_set(&eb));
    errbuf_set(&eb, "duplicate key attribute %d", 4);
    assert_string_equal(eb.msg, "duplicate key attribute 4");
    errbuf_prefix(&eb, "in %s: ", "encap()");
    assert_string_equal(eb.msg, "in encap(): duplicate key attribute 4");
    assert_true(errbuf_is_set(&eb));

    /* NULL buffers are accepted everywhere. */
    errbuf_set(NULL, "ignored");
    errbuf_prefix(NULL, "ignored");
    assert_false(errbuf_is_set(NULL));
}

static void
test_errbuf_truncates_long_reasons(void **state)
{
    struct errbuf eb;
    char big[1000];

    (void) state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    errbuf_set(&eb, "%s", big);
    assert_int_equal(strlen(eb.msg), ERRBUF_SIZE - 1);
}

static void
test_sbuf_grows_and_chops(void **state)
{
    struct sbuf sb = SBUF_INIT;

    (void) state;
    assert_string_equal(sbuf_str(&sb), "");
    for (int i = 0; i < 100; i++) {
        sbuf_printf(&sb, "%d,", i);
    }
    assert_int_equal(sb.len, strlen(sb.s));
    sbuf_chop(&sb, 1);
    assert_int_equal(sb.s[sb.len - 1], '9');
    sbuf_clear(&sb);
    sbuf_put(&sb, "eth(");
    sbuf_putc(&sb, ')');
    assert_string_equal(sbuf_str(&sb), "eth()");
    sbuf_chop(&sb, 100);
    assert_string_equal(sbuf_str(&sb), "");
    sbuf_uninit(&sb);
}

static void
test_hex_round_trip(void **state)
{
    const uint8_t bytes[] = { 0x00, 0x01, 0xab, 0xff };
    struct sbuf sb = SBUF_INIT;
    uint8_t out[8];

    (void) state;
    sbuf_put_hex(&sb, bytes, sizeof bytes);
    assert_string_equal(sbuf_str(&sb), "0001abff");
    assert_int_equal(hex_to_bytes(sbuf_str(&sb), out, sizeof out), 4);
    assert_memory_equal(out, bytes, sizeof bytes);
    assert_int_equal(hex_to_bytes("0x00 01\tAB ff", out, sizeof out), 4);
    assert_memory_equal(out, bytes, sizeof bytes);
    sbuf_uninit(&sb);
}

static void
test_hex_rejects_bad_input(void **state)
{
    uint8_t out[2];

    (void) state;
    assert_int_equal(hex_to_bytes("abc", out, sizeof out), -EINVAL);
    assert_int_equal(hex_to_bytes("zz", out, sizeof out), -EINVAL);
    assert_int_equal(hex_to_bytes("010203", out, sizeof out), -EMSGSIZE);
    assert_int_equal(hex_to_bytes("", out, sizeof out), 0);
}

static void
test_hex_digit_value(void **state)
{
    (void) state;
    assert_int_equal(hex_digit_value('0'), 0);
    assert_int_equal(hex_digit_value('9'), 9);
    assert_int_equal(hex_digit_value('a'), 10);
    assert_int_equal(hex_digit_value('F'), 15);

    /* The neighbours of each range, the terminator, EOF and high bytes. */
    assert_int_equal(hex_digit_value('/'), -1);
    assert_int_equal(hex_digit_value(':'), -1);
    assert_int_equal(hex_digit_value('g'), -1);
    assert_int_equal(hex_digit_value('G'), -1);
    assert_int_equal(hex_digit_value('x'), -1);
    assert_int_equal(hex_digit_value('\0'), -1);
    assert_int_equal(hex_digit_value(-1), -1);
    assert_int_equal(hex_digit_value(0xe1), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errbuf_set_and_prefix),
        cmocka_unit_test(test_errbuf_truncates_long_reasons),
        cmocka_unit_test(test_sbuf_grows_and_chops),
        cmocka_unit_test(test_hex_round_trip),
        cmocka_unit_test(test_hex_rejects_bad_input),
        cmocka_unit_test(test_hex_digit_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for codec/ufid.c.  The 16-byte form follows OVS's
 * odp_format_ufid(): four host-order 32-bit words (the host is checked to
 * be little-endian, as the expected strings assume). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "codec/ufid.h"
#include "lib/errbuf.h"
#include "lib/text.h"

static const struct ufid u16 = {
    16, { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
          0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f },
};
static const char u16_text[] = "ufid:03020100-0706-0504-0b0a-09080f0e0d0c";

static void
test_format(void **state)
{
    struct ufid short_ufid = { 2, { 0x01, 0xab } };
    struct ufid bad = { 0, { 0 } };
    struct sbuf sb = SBUF_INIT;
    uint32_t x = 1;

    (void) state;
    assert_int_equal(*(uint8_t *) &x, 1);
    ufid_format(&u16, &sb);
    assert_string_equal(sbuf_str(&sb), u16_text);
    sbuf_clear(&sb);
    ufid_format(&short_ufid, &sb);
    assert_string_equal(sbuf_str(&sb), "ufid:0x01ab");
    sbuf_clear(&sb);
    ufid_format(&bad, &sb);
    assert_string_equal(sbuf_str(&sb), "ufid:<invalid>");
    sbuf_uninit(&sb);
}

static void
test_parse(void **state)
{
    struct ufid u;
    struct errbuf eb;
    size_t used;

    (void) state;
    assert_int_equal(ufid_parse(u16_text, &used, &u, &eb), 0);
    assert_int_equal(used, strlen(u16_text));
    assert_true(ufid_equal(&u, &u16));
    /* Upper case, and text after it. */
    assert_int_equal(ufid_parse("ufid:03020100-0706-0504-0B0A-09080F0E0D0C, "
                                "in_port(1)", &used, &u, &eb), 0);
    assert_int_equal(used, 41);
    assert_true(ufid_equal(&u, &u16));
    assert_int_equal(ufid_parse("ufid:0x01AB", &used, &u, &eb), 0);
    assert_int_equal(used, 11);
    assert_int_equal(u.len, 2);
    assert_int_equal(u.id[1], 0xab);
    assert_int_equal(ufid_parse("ufid:0x000102030405060708090a0b0c0d0e0f",
                                &used, &u, &eb), 0);
    assert_true(ufid_equal(&u, &u16));
}

static void
test_parse_errors(void **state)
{
    struct ufid u;
    struct errbuf eb;
    size_t used;

    (void) state;
    assert_int_equal(ufid_parse("in_port(1)", &used, &u, &eb), -EINVAL);
    assert_string_equal(eb.msg, "expected 'ufid:' at 'in_port(1)'");
    assert_int_equal(ufid_parse("ufid:0x123", &used, &u, &eb), -EINVAL);
    assert_string_equal(eb.msg, "ufid: need 2 to 32 hex digits, an even "
                        "number, after '0x' (got 3)");
    assert_int_equal(ufid_parse("ufid:0x", &used, &u, &eb), -EINVAL);
    assert_int_equal(ufid_parse("ufid:0x"
                                "000102030405060708090a0b0c0d0e0f00",
                                &used, &u, &eb), -EINVAL);
    assert_int_equal(ufid_parse("ufid:03020100-0706-0504-0b0a-09080f0e0d",
                                &used, &u, &eb), -EINVAL);
    assert_int_equal(ufid_parse("ufid:03020100-0706-0504-0b0a-09080f0e0d0c0",
                                &used, &u, &eb), -EINVAL);
    assert_int_equal(ufid_parse("ufid:0302010g-0706-0504-0b0a-09080f0e0d0c",
                                &used, &u, &eb), -EINVAL);
    assert_string_equal(eb.msg,
                        "ufid: bad UUID at '0302010g-0706-0504-0b0a-"
                        "09080f0e0d0c'");
}

static void
test_equal_hash(void **state)
{
    struct ufid a = u16, b = u16;

    (void) state;
    assert_true(ufid_equal(&a, &b));
    assert_int_equal(ufid_hash(&a, 0), ufid_hash(&b, 0));
    b.id[15] ^= 1;
    assert_false(ufid_equal(&a, &b));
    assert_int_not_equal(ufid_hash(&a, 0), ufid_hash(&b, 0));
    b = a;
    b.len = 15;
    assert_false(ufid_equal(&a, &b));
    assert_int_not_equal(ufid_hash(&a, 0), ufid_hash(&a, 1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_equal_hash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

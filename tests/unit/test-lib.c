/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/lib: errbuf, sbuf and hex helpers, and the option
 * parser (lib/options.h). */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/errbuf.h"
#include "lib/options.h"
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

/* ---- opts_parse() ---- */

/* A key of every type, and where their values go.  opts_fill() presets
 * every field to a value no option string can give (or, for 'flag' and
 * the 'seen' flags, a value opts_parse() would overwrite on success), so
 * that a test can tell what was written. */
struct opts {
    bool flag;
    uint32_t n;                 /* 2 to 1000. */
    uint32_t ring;              /* A power of 2 from 64 to 4096. */
    char *name;
    char *file;
    int color;
    uint8_t mac[6];
    bool seen_flag, seen_name, seen_mac;
};

static const char *const colors[] = { "red", "green", "blue", NULL };

static void
opts_fill(struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->flag = true;
    o->n = 1;
    o->ring = 1;
    o->color = -1;
    memset(o->mac, 0xee, sizeof o->mac);
    o->seen_flag = o->seen_name = o->seen_mac = true;
}

/* Parses 'options' into 'o' (preset by opts_fill()) with every key. */
static int
opts_run(const char *options, struct opts *o, struct errbuf *err)
{
    const struct opt_def defs[] = {
        { .key = "flag", .type = OPT_BOOL, .b = &o->flag,
          .seen = &o->seen_flag },
        { .key = "n", .type = OPT_U32, .u32 = &o->n, .min = 2,
          .max = 1000 },
        { .key = "ring", .type = OPT_U32, .u32 = &o->ring, .min = 64,
          .max = 4096, .pow2 = true },
        { .key = "name", .type = OPT_STR, .str = &o->name,
          .seen = &o->seen_name },
        { .key = "file", .type = OPT_STR, .str = &o->file,
          .what = "a file name" },
        { .key = "color", .type = OPT_ENUM, .index = &o->color,
          .names = colors },
        { .key = "mac", .type = OPT_MAC, .mac = o->mac,
          .seen = &o->seen_mac },
    };

    errbuf_clear(err);
    return opts_parse(options, defs, sizeof defs / sizeof *defs, "tests",
                      err);
}

/* Parsing 'options' succeeds; 'o' holds the result, 'err' is untouched. */
static void
opts_ok(const char *options, struct opts *o)
{
    struct errbuf err;

    opts_fill(o);
    errbuf_clear(&err);
    assert_int_equal(0, opts_run(options, o, &err));
    assert_false(errbuf_is_set(&err));
}

/* Parsing 'options' fails with -EINVAL and exactly 'reason', and writes
 * nothing. */
static void
opts_fails(const char *options, const char *reason)
{
    struct opts o, before;
    struct errbuf err;

    opts_fill(&o);
    opts_fill(&before);
    assert_int_equal(-EINVAL, opts_run(options, &o, &err));
    assert_string_equal(reason, err.msg);
    assert_memory_equal(&before, &o, sizeof o);
}

/* NULL and "" set nothing but the 'seen' flags, which say "not given". */
static void
test_opts_none(void **state)
{
    struct opts o, before;

    (void) state;
    opts_fill(&before);
    before.seen_flag = before.seen_name = before.seen_mac = false;
    opts_ok(NULL, &o);
    assert_memory_equal(&before, &o, sizeof o);
    opts_ok("", &o);
    assert_memory_equal(&before, &o, sizeof o);

    /* Nor does a table without keys need anything. */
    assert_int_equal(0, opts_parse(NULL, NULL, 0, "tests", NULL));
    assert_int_equal(0, opts_parse("", NULL, 0, "tests", NULL));
}

/* One key of each type at once; keys not given keep their values. */
static void
test_opts_every_type(void **state)
{
    static const uint8_t mac[6] = { 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f };
    struct opts o;

    (void) state;
    opts_ok("flag=false,n=42,ring=256,name=eth0,file=/tmp/a b,"
            "color=blue,mac=0A:1b:2C:3d:4E:5f", &o);
    assert_false(o.flag);
    assert_true(o.seen_flag);
    assert_int_equal(42, o.n);
    assert_int_equal(256, o.ring);
    assert_string_equal("eth0", o.name);
    assert_true(o.seen_name);
    assert_string_equal("/tmp/a b", o.file);
    assert_int_equal(2, o.color);
    assert_memory_equal(mac, o.mac, 6);
    assert_true(o.seen_mac);
    free(o.name);
    free(o.file);

    /* In any order; the rest as they were. */
    opts_ok("color=red,flag=true", &o);
    assert_true(o.flag);
    assert_true(o.seen_flag);
    assert_int_equal(0, o.color);
    assert_int_equal(1, o.n);
    assert_int_equal(1, o.ring);
    assert_null(o.name);
    assert_false(o.seen_name);
    assert_null(o.file);
    assert_false(o.seen_mac);
    assert_memory_equal("\xee\xee\xee\xee\xee\xee", o.mac, 6);
}

static void
test_opts_bool(void **state)
{
    struct opts o;

    (void) state;
    opts_ok("flag=true", &o);
    assert_true(o.flag);
    opts_ok("flag=false", &o);
    assert_false(o.flag);
    opts_fails("flag=yes", "option 'flag': 'yes' is not true or false");
    opts_fails("flag=TRUE", "option 'flag': 'TRUE' is not true or false");
    opts_fails("flag=1", "option 'flag': '1' is not true or false");
    opts_fails("flag=", "option 'flag': '' is not true or false");
    opts_fails("flag=true ", "option 'flag': 'true ' is not true or false");
}

static void
test_opts_u32(void **state)
{
    struct opts o;

    (void) state;
    opts_ok("n=2", &o);
    assert_int_equal(2, o.n);
    opts_ok("n=1000", &o);
    assert_int_equal(1000, o.n);
    opts_ok("n=007", &o);
    assert_int_equal(7, o.n);
    opts_fails("n=1", "n must be 2 to 1000, not '1'");
    opts_fails("n=1001", "n must be 2 to 1000, not '1001'");
    opts_fails("n=0", "n must be 2 to 1000, not '0'");
    opts_fails("n=", "n must be 2 to 1000, not ''");
    opts_fails("n=-5", "n must be 2 to 1000, not '-5'");
    opts_fails("n=+5", "n must be 2 to 1000, not '+5'");
    opts_fails("n= 5", "n must be 2 to 1000, not ' 5'");
    opts_fails("n=5 ", "n must be 2 to 1000, not '5 '");
    opts_fails("n=5x", "n must be 2 to 1000, not '5x'");
    opts_fails("n=0x10", "n must be 2 to 1000, not '0x10'");
    /* Beyond 32 bits, and far beyond (no wrap-around to a small value). */
    opts_fails("n=4294967298", "n must be 2 to 1000, not '4294967298'");
    opts_fails("n=18446744073709551620",
               "n must be 2 to 1000, not '18446744073709551620'");

    /* Powers of 2. */
    opts_ok("ring=64", &o);
    assert_int_equal(64, o.ring);
    opts_ok("ring=4096", &o);
    assert_int_equal(4096, o.ring);
    opts_fails("ring=100",
               "ring must be a power of 2 from 64 to 4096, not '100'");
    opts_fails("ring=32",
               "ring must be a power of 2 from 64 to 4096, not '32'");
    opts_fails("ring=8192",
               "ring must be a power of 2 from 64 to 4096, not '8192'");
}

/* The whole range of a uint32_t. */
static void
test_opts_u32_limits(void **state)
{
    uint32_t v = 7;
    const struct opt_def defs[] = {
        { .key = "v", .type = OPT_U32, .u32 = &v, .min = 0,
          .max = UINT32_MAX },
    };
    struct errbuf err;

    (void) state;
    assert_int_equal(0, opts_parse("v=0", defs, 1, "tests", NULL));
    assert_int_equal(0, v);
    assert_int_equal(0, opts_parse("v=4294967295", defs, 1, "tests", NULL));
    assert_int_equal(UINT32_MAX, v);
    errbuf_clear(&err);
    assert_int_equal(-EINVAL, opts_parse("v=4294967296", defs, 1, "tests",
                                         &err));
    assert_string_equal("v must be 0 to 4294967295, not '4294967296'",
                        err.msg);
    assert_int_equal(UINT32_MAX, v);
}

static void
test_opts_enum(void **state)
{
    static const char *const two[] = { "on", "off", NULL };
    static const char *const one[] = { "only", NULL };
    int index = -1;
    struct opt_def def = { .key = "sw", .type = OPT_ENUM, .index = &index,
                           .names = two };
    char options[32];
    struct errbuf err;
    struct opts o;

    (void) state;
    for (int i = 0; colors[i]; i++) {
        snprintf(options, sizeof options, "color=%s", colors[i]);
        opts_ok(options, &o);
        assert_int_equal(i, o.color);
    }
    opts_fails("color=pink", "color must be red, green or blue, not 'pink'");
    opts_fails("color=Red", "color must be red, green or blue, not 'Red'");
    opts_fails("color=", "color must be red, green or blue, not ''");

    /* The list of names reads well for two and for one. */
    errbuf_clear(&err);
    assert_int_equal(-EINVAL, opts_parse("sw=x", &def, 1, "tests", &err));
    assert_string_equal("sw must be on or off, not 'x'", err.msg);
    assert_int_equal(-1, index);
    def.names = one;
    assert_int_equal(-EINVAL, opts_parse("sw=x", &def, 1, "tests", &err));
    assert_string_equal("sw must be only, not 'x'", err.msg);
    assert_int_equal(0, opts_parse("sw=only", &def, 1, "tests", &err));
    assert_int_equal(0, index);
}

static void
test_opts_mac(void **state)
{
    static const uint8_t zero[6] = { 0 };
    static const uint8_t ff[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    struct opts o;

    (void) state;
    opts_ok("mac=00:00:00:00:00:00", &o);
    assert_memory_equal(zero, o.mac, 6);
    opts_ok("mac=ff:FF:fF:Ff:ff:ff", &o);
    assert_memory_equal(ff, o.mac, 6);

    opts_fails("mac=02:11:22:33:44", "option 'mac': '02:11:22:33:44' is "
               "not a MAC address (xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=02:11:22:33:44:55:66", "option 'mac': "
               "'02:11:22:33:44:55:66' is not a MAC address "
               "(xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=02:11:22:33:44:5", "option 'mac': '02:11:22:33:44:5' "
               "is not a MAC address (xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=02:11:22:33:44:", "option 'mac': '02:11:22:33:44:' "
               "is not a MAC address (xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=2:11:22:33:44:55", "option 'mac': '2:11:22:33:44:55' "
               "is not a MAC address (xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=02-11-22-33-44-55", "option 'mac': "
               "'02-11-22-33-44-55' is not a MAC address "
               "(xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=0g:11:22:33:44:55", "option 'mac': "
               "'0g:11:22:33:44:55' is not a MAC address "
               "(xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=021122334455", "option 'mac': '021122334455' is not a "
               "MAC address (xx:xx:xx:xx:xx:xx)");
    opts_fails("mac=", "option 'mac': '' is not a MAC address "
               "(xx:xx:xx:xx:xx:xx)");
}

/* An OPT_STR value is a copy the caller owns; an error frees the copies
 * made before it and leaves '*str' alone. */
static void
test_opts_str(void **state)
{
    char *kept = NULL;
    const struct opt_def def = { .key = "s", .type = OPT_STR, .str = &kept };
    const char *options = "s=hello";
    struct errbuf err;
    struct opts o;

    (void) state;
    opts_ok("name=a=b", &o);
    assert_string_equal("a=b", o.name);
    free(o.name);
    opts_ok("name=x,file=y", &o);
    assert_string_equal("x", o.name);
    assert_string_equal("y", o.file);
    free(o.name);
    free(o.file);

    /* Each failure comes after a copy was made: LeakSanitizer sees any
     * copy not freed, and opts_fails() that nothing was written. */
    opts_fails("name=x,file=y,n=1", "n must be 2 to 1000, not '1'");
    opts_fails("name=x,name=y", "option 'name' given twice");
    opts_fails("file=y,nosuch=1", "unknown option 'nosuch' (tests know flag, "
               "n, ring, name, file, color and mac)");
    opts_fails("name=x,file=", "option 'file' needs a file name");
    opts_fails("name=", "option 'name' needs a value");

    /* The copy is not the option string. */
    errbuf_clear(&err);
    assert_int_equal(0, opts_parse(options, &def, 1, "tests", &err));
    assert_string_equal("hello", kept);
    assert_ptr_not_equal(options + 2, kept);
    free(kept);
}

/* The syntax of the string: items, keys and values. */
static void
test_opts_syntax(void **state)
{
    struct opts o;

    (void) state;
    opts_fails(",", "empty option in ','");
    opts_fails("flag=true,", "empty option in 'flag=true,'");
    opts_fails(",flag=true", "empty option in ',flag=true'");
    opts_fails("flag=true,,n=5", "empty option in 'flag=true,,n=5'");
    opts_fails("flag", "option 'flag' has no value (key=value)");
    opts_fails("n=5,flag", "option 'flag' has no value (key=value)");
    opts_fails("flag=true,flag=true", "option 'flag' given twice");
    opts_fails("flag=true,n=5,flag=false", "option 'flag' given twice");
    opts_fails("=true", "unknown option '' (tests know flag, n, ring, name, "
               "file, color and mac)");
    /* An unknown key is named as such, '=' or not. */
    opts_fails("speed", "unknown option 'speed' (tests know flag, n, ring, "
               "name, file, color and mac)");
    opts_fails("FLAG=true", "unknown option 'FLAG' (tests know flag, n, "
               "ring, name, file, color and mac)");
    opts_fails(" flag=true", "unknown option ' flag' (tests know flag, n, "
               "ring, name, file, color and mac)");

    /* The first error is the one reported. */
    opts_fails("n=0,flag=maybe", "n must be 2 to 1000, not '0'");

    /* A value may hold '='. */
    opts_ok("name==", &o);
    assert_string_equal("=", o.name);
    free(o.name);
}

/* The reason for an unknown key lists the keys, however many. */
static void
test_opts_unknown_lists_keys(void **state)
{
    bool a = false, b = false, c = false;
    const struct opt_def defs[] = {
        { .key = "a", .type = OPT_BOOL, .b = &a },
        { .key = "b", .type = OPT_BOOL, .b = &b },
        { .key = "c", .type = OPT_BOOL, .b = &c },
    };
    static const struct {
        const char *options;
        size_t n_defs;          /* The first 'n_defs' of 'defs'. */
        const char *reason;
    } cases[] = {
        { "x=1", 3, "unknown option 'x' (foo ports know a, b and c)" },
        { "x=1", 2, "unknown option 'x' (foo ports know a and b)" },
        { "x=1", 1, "unknown option 'x' (foo ports know a)" },
        { "x=1", 0, "unknown option 'x' (foo ports take no options)" },
        { "x", 0, "unknown option 'x' (foo ports take no options)" },
        { ",", 0, "empty option in ','" },
    };
    struct errbuf err;

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        errbuf_clear(&err);
        assert_int_equal(-EINVAL, opts_parse(cases[i].options, defs,
                                             cases[i].n_defs, "foo ports",
                                             &err));
        assert_string_equal(cases[i].reason, err.msg);
    }

    /* Without an errbuf, the same results. */
    assert_int_equal(-EINVAL, opts_parse("x=1", defs, 3, "foo ports", NULL));
    assert_int_equal(0, opts_parse("a=true", defs, 3, "foo ports", NULL));
    assert_true(a);
}

/* A value too long for the errbuf cuts the reason, nothing more. */
static void
test_opts_long_value(void **state)
{
    char options[1024];
    struct errbuf err;
    struct opts o;

    (void) state;
    memcpy(options, "n=", 2);
    memset(options + 2, '9', sizeof options - 3);
    options[sizeof options - 1] = '\0';
    opts_fill(&o);
    assert_int_equal(-EINVAL, opts_run(options, &o, &err));
    assert_int_equal(ERRBUF_SIZE - 1, strlen(err.msg));
    assert_non_null(strstr(err.msg, "n must be 2 to 1000, not '999"));
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
        cmocka_unit_test(test_opts_none),
        cmocka_unit_test(test_opts_every_type),
        cmocka_unit_test(test_opts_bool),
        cmocka_unit_test(test_opts_u32),
        cmocka_unit_test(test_opts_u32_limits),
        cmocka_unit_test(test_opts_enum),
        cmocka_unit_test(test_opts_mac),
        cmocka_unit_test(test_opts_str),
        cmocka_unit_test(test_opts_syntax),
        cmocka_unit_test(test_opts_unknown_lists_keys),
        cmocka_unit_test(test_opts_long_value),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

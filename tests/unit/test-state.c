/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for weird's state file text (src/daemon/state.c): the
 * parser's callbacks and its reasons for every kind of bad line, the
 * escapes, and the formatter's round trip.  Restoring into a running
 * genl server is tested end to end in tests/system/test_weird.py. */

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

#include "daemon/state.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* Records each callback as a line of text: "dp NAME FEATURES LINE" or
 * "port DP NAME TYPE OPTIONS|- PORT_NO LINE". */
static int
rec_dp(const char *name, uint32_t features, unsigned int line, void *aux,
       struct errbuf *err)
{
    sbuf_printf(aux, "dp %s %#x %u\n", name, features, line);
    return 0;
}

static int
rec_port(const char *dp_name, const char *name, const char *type,
         const char *options, uint32_t port_no, unsigned int line,
         void *aux, struct errbuf *err)
{
    sbuf_printf(aux, "port %s %s %s %s %u %u\n", dp_name, name, type,
                options ? options : "-", port_no, line);
    return 0;
}

/* Parses 'text'; returns what the callbacks saw (caller frees). */
static char *
parse_ok(const char *text)
{
    struct sbuf sb = SBUF_INIT;
    struct state_parse_cbs cbs = { rec_dp, rec_port, &sb };
    struct errbuf err;

    assert_int_equal(0, state_parse(text, strlen(text), &cbs, &err));
    assert_false(errbuf_is_set(&err));
    sbuf_put(&sb, "");
    char *s = strdup(sbuf_str(&sb));
    sbuf_uninit(&sb);
    return s;
}

/* Parsing 'text' fails with -EINVAL and exactly 'reason'. */
static void
parse_fails(const char *text, size_t len, const char *reason)
{
    struct errbuf err;

    assert_int_equal(-EINVAL, state_parse(text, len, NULL, &err));
    assert_string_equal(err.msg, reason);
}

#define FAILS(TEXT, REASON) parse_fails(TEXT, sizeof(TEXT) - 1, REASON)

static void
test_parse_lines(void **state)
{
    char *got;

    (void) state;
    got = parse_ok("# comment\n"
                   "\n"
                   "datapath ovs-system features=0x00000005\n"
                   "  port\tovs-system  eth1 port_no=1 type=system\n"
                   "port ovs-system p0 type=pcap port_no=2 "
                   "options=rx=/tmp/a%20b.pcap,loop=true\n"
                   "port ovs-system p%25 type=dummy port_no=4294967294 "
                   "options=\n"
                   "datapath d2 features=0X0\n"
                   "port d2 x type=dummy port_no=1");
    assert_string_equal(got,
                        "dp ovs-system 0x5 3\n"
                        "port ovs-system eth1 system - 1 4\n"
                        "port ovs-system p0 pcap rx=/tmp/a b.pcap,"
                        "loop=true 2 5\n"
                        "port ovs-system p% dummy - 4294967294 6\n"
                        "dp d2 0 7\n"
                        "port d2 x dummy - 1 8\n");
    free(got);

    /* Nothing at all, and NULL callbacks. */
    got = parse_ok("");
    assert_string_equal(got, "");
    free(got);
    assert_int_equal(0, state_parse("datapath a features=0x1\n", 24, NULL,
                                    NULL));
}

static void
test_parse_errors(void **state)
{
    (void) state;
    FAILS("bridge a\n",
          "line 1: unknown keyword 'bridge' (want datapath or port)");
    FAILS("datapath\n", "line 1: datapath: no name");
    FAILS("datapath a\n", "line 1: datapath: no features=");
    FAILS("datapath a features\n", "line 1: 'features' is not key=value");
    FAILS("datapath a features=5\n",
          "line 1: features: want 0x and 1 to 8 hex digits");
    FAILS("datapath a features=0x123456789\n",
          "line 1: features: want 0x and 1 to 8 hex digits");
    FAILS("datapath a features=0xg\n",
          "line 1: features: want 0x and 1 to 8 hex digits");
    FAILS("datapath a features=0x1 features=0x1\n",
          "line 1: features given twice");
    FAILS("datapath a features=0x1 color=red\n",
          "line 1: datapath: unknown key 'color'");
    FAILS("datapath a features=0x1\ndatapath a features=0x2\n",
          "line 2: datapath a given twice");
    FAILS("# x\nport a b type=dummy port_no=1\n",
          "line 2: port b: datapath a not given before it");
    FAILS("datapath a features=0x1\nport a\n",
          "line 2: port: want a datapath name and a port name");
    FAILS("datapath a features=0x1\nport a b port_no=1\n",
          "line 2: port: no type=");
    FAILS("datapath a features=0x1\nport a b type=dummy\n",
          "line 2: port: no port_no=");
    FAILS("datapath a features=0x1\nport a b type=dummy port_no=0\n",
          "line 2: port_no 0 out of range (1 to 4294967294)");
    FAILS("datapath a features=0x1\nport a b type=x port_no=4294967295\n",
          "line 2: port_no 4294967295 out of range (1 to 4294967294)");
    FAILS("datapath a features=0x1\nport a b type=x port_no=-1\n",
          "line 2: port_no: want a decimal number");
    FAILS("datapath a features=0x1\nport a b type=x port_no=99999999999\n",
          "line 2: port_no: want a decimal number");
    FAILS("datapath a features=0x1\nport a b type=Tap port_no=1\n",
          "line 2: type: want lowercase letters, digits, '_' and '-'");
    FAILS("datapath a features=0x1\nport a b type=x type=x port_no=1\n",
          "line 2: type given twice");
    FAILS("datapath a features=0x1\n"
          "port a b type=x port_no=1 options=a options=b\n",
          "line 2: options given twice");
    FAILS("datapath a features=0x1\nport a b type= port_no=1\n",
          "line 2: empty type");
    FAILS("datapath a%4 features=0x1\n",
          "line 1: datapath name: '%' not followed by two hex digits");
    FAILS("datapath a%zz features=0x1\n",
          "line 1: datapath name: '%' not followed by two hex digits");
    FAILS("datapath a%00 features=0x1\n",
          "line 1: datapath name: %00 (a NUL byte) is not allowed");
    FAILS("datapath a features=0x1\r\n",
          "line 1: byte 0x0d at column 24 (escape it as %0D)");
    FAILS("datapath \xc3\xa9 features=0x1\n",
          "line 1: byte 0xc3 at column 10 (escape it as %C3)");
    FAILS("datapath a\0 features=0x1\n",
          "line 1: byte 0x00 at column 11 (escape it as %00)");
    FAILS("datapath a features=0x1 a=1 b=2 c=3 d=4 e=5 f=6\n",
          "line 1: more than 8 fields");
}

static void
test_parse_limits(void **state)
{
    static char text[STATE_LINE_MAX + 100];
    size_t n;

    (void) state;

    /* A name of 255 bytes is taken, 256 is not. */
    memcpy(text, "datapath ", 9);
    n = 9;
    memset(text + n, 'n', STATE_NAME_MAX);
    n += STATE_NAME_MAX;
    n += (size_t) sprintf(text + n, " features=0x0\n");
    assert_int_equal(0, state_parse(text, n, NULL, NULL));
    memcpy(text, "datapath ", 9);
    n = 9;
    memset(text + n, 'n', STATE_NAME_MAX + 1);
    n += STATE_NAME_MAX + 1;
    n += (size_t) sprintf(text + n, " features=0x0\n");
    parse_fails(text, n, "line 1: datapath name longer than 255 bytes");

    /* A line longer than STATE_LINE_MAX. */
    memset(text, '#', STATE_LINE_MAX + 1);
    text[STATE_LINE_MAX + 1] = '\n';
    parse_fails(text, STATE_LINE_MAX + 2, "line 1: longer than 16384 bytes");
}

/* A callback's error stops the parse, prefixed with the line. */
static int
refuse_port(const char *dp_name, const char *name, const char *type,
            const char *options, uint32_t port_no, unsigned int line,
            void *aux, struct errbuf *err)
{
    errbuf_set(err, "no ports today");
    return -EPERM;
}

static void
test_callback_error(void **state)
{
    struct state_parse_cbs cbs = { NULL, refuse_port, NULL };
    const char *text = "datapath a features=0x1\nport a b type=x port_no=1\n";
    struct errbuf err;

    (void) state;
    assert_int_equal(-EPERM, state_parse(text, strlen(text), &cbs, &err));
    assert_string_equal(err.msg, "line 2: no ports today");
}

static void
test_format_round_trip(void **state)
{
    char line[STATE_LINE_MAX + 2];
    struct sbuf sb = SBUF_INIT;
    char *got;
    size_t n;

    (void) state;
    n = state_format_dp(line, sizeof line, "dp 1%", 0xa5);
    assert_string_equal(line, "datapath dp%201%25 features=0x000000a5\n");
    assert_int_equal(n, strlen(line));
    sbuf_put(&sb, line);
    state_format_port(line, sizeof line, "dp 1%", "p\t\x7f\xff", "afxdp",
                      "mode=native,n_rxq=2", 17);
    assert_string_equal(line, "port dp%201%25 p%09%7F%FF type=afxdp "
                              "port_no=17 options=mode=native,n_rxq=2\n");
    sbuf_put(&sb, line);
    state_format_port(line, sizeof line, "dp 1%", "q", "dummy", NULL, 2);
    assert_string_equal(line, "port dp%201%25 q type=dummy port_no=2\n");
    sbuf_put(&sb, line);
    state_format_port(line, sizeof line, "dp 1%", "r", "dummy", "", 3);
    assert_string_equal(line, "port dp%201%25 r type=dummy port_no=3\n");
    sbuf_put(&sb, line);

    got = parse_ok(sbuf_str(&sb));
    assert_string_equal(got, "dp dp 1% 0xa5 1\n"
                             "port dp 1% p\t\x7f\xff afxdp "
                             "mode=native,n_rxq=2 17 2\n"
                             "port dp 1% q dummy - 2 3\n"
                             "port dp 1% r dummy - 3 4\n");
    free(got);
    sbuf_uninit(&sb);

    /* A buffer too small: cut, NUL-terminated, the full length
     * returned. */
    char small[10];
    n = state_format_dp(small, sizeof small, "abcdef", 1);
    assert_int_equal(n, strlen("datapath abcdef features=0x00000001\n"));
    assert_string_equal(small, "datapath ");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_lines),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_callback_error),
        cmocka_unit_test(test_format_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for src/lib/log.c: level specs, the line format in a log
 * file, reopening after rotation, sanitized and cut text, and the rate
 * limiter's counting. */

#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/log.h"

/* A scratch directory and log file for one test. */
struct logdir {
    char dir[64];
    char path[128];
};

static int
setup(void **state)
{
    struct logdir *ld = calloc(1, sizeof *ld);

    if (!ld) {
        return -1;
    }
    snprintf(ld->dir, sizeof ld->dir, "/tmp/test-log.XXXXXX");
    if (!mkdtemp(ld->dir)) {
        free(ld);
        return -1;
    }
    snprintf(ld->path, sizeof ld->path, "%s/log", ld->dir);
    wlog_set_stderr(false);
    wlog_set_spec("info");
    *state = ld;
    return 0;
}

static int
teardown(void **state)
{
    struct logdir *ld = *state;
    char path[160];

    wlog_set_file(NULL);
    wlog_set_stderr(true);
    wlog_set_spec("info");
    unlink(ld->path);
    snprintf(path, sizeof path, "%s.1", ld->path);
    unlink(path);
    rmdir(ld->dir);
    free(ld);
    return 0;
}

/* Reads 'path' into a malloc'd NUL-terminated string. */
static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    assert_non_null(f);
    buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static size_t
count_lines(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static void
test_level_names(void **state)
{
    (void) state;
    assert_string_equal(wlog_level_name(WLOG_DBG), "DBG");
    assert_string_equal(wlog_level_name(WLOG_INFO), "INFO");
    assert_string_equal(wlog_level_name(WLOG_WARN), "WARN");
    assert_string_equal(wlog_level_name(WLOG_ERR), "ERR");
    assert_string_equal(wlog_level_name(WLOG_OFF), "OFF");
}

static void
test_specs(void **state)
{
    (void) state;

    /* Default: INFO everywhere. */
    assert_true(wlog_enabled("genl", WLOG_INFO));
    assert_false(wlog_enabled("genl", WLOG_DBG));
    assert_true(wlog_enabled("not-a-module", WLOG_INFO));

    /* One module. */
    assert_int_equal(0, wlog_set_spec("genl:dbg"));
    assert_true(wlog_enabled("genl", WLOG_DBG));
    assert_false(wlog_enabled("ctl", WLOG_DBG));
    assert_false(wlog_enabled("not-a-module", WLOG_DBG));

    /* Case-insensitive level names, "debug" as "dbg". */
    assert_int_equal(0, wlog_set_spec("ctl:DEBUG"));
    assert_true(wlog_enabled("ctl", WLOG_DBG));
    assert_int_equal(0, wlog_set_spec("ctl:Warn"));
    assert_false(wlog_enabled("ctl", WLOG_INFO));
    assert_true(wlog_enabled("ctl", WLOG_WARN));

    /* "default" is the level of names outside the table. */
    assert_int_equal(0, wlog_set_spec("default:err"));
    assert_false(wlog_enabled("not-a-module", WLOG_WARN));
    assert_true(wlog_enabled("not-a-module", WLOG_ERR));
    assert_true(wlog_enabled("genl", WLOG_DBG));

    /* "any:" and a bare level set every module. */
    assert_int_equal(0, wlog_set_spec("any:warn"));
    assert_false(wlog_enabled("genl", WLOG_INFO));
    assert_false(wlog_enabled("not-a-module", WLOG_INFO));
    assert_true(wlog_enabled("weird", WLOG_WARN));
    assert_int_equal(0, wlog_set_spec("dbg"));
    assert_true(wlog_enabled("genl", WLOG_DBG));
    assert_true(wlog_enabled("ctl", WLOG_DBG));

    /* "off" silences even errors; OFF is never a message level. */
    assert_int_equal(0, wlog_set_spec("state:off"));
    assert_false(wlog_enabled("state", WLOG_ERR));
    assert_false(wlog_enabled("genl", WLOG_OFF));

    /* Refused, and nothing changed. */
    assert_int_equal(-EINVAL, wlog_set_spec("loud"));
    assert_int_equal(-EINVAL, wlog_set_spec("genl:loud"));
    assert_int_equal(-EINVAL, wlog_set_spec("nosuchmodule:dbg"));
    assert_int_equal(-EINVAL, wlog_set_spec(""));
    assert_int_equal(-EINVAL, wlog_set_spec("genl:"));
    assert_int_equal(-EINVAL, wlog_set_spec(":dbg"));
    assert_int_equal(-EINVAL, wlog_set_spec("genl:dbg:x"));
    assert_int_equal(-EINVAL, wlog_set_spec(NULL));
    assert_true(wlog_enabled("genl", WLOG_DBG));
    assert_false(wlog_enabled("state", WLOG_ERR));
}

static void
test_file_lines(void **state)
{
    struct logdir *ld = *state;
    regex_t re;
    char *text;

    assert_int_equal(0, wlog_set_file(ld->path));
    wlog_set_spec("ctl:dbg");
    wlog("ctl", WLOG_DBG, "hello %d", 42);
    wlog("genl", WLOG_DBG, "not written (genl is at INFO)");
    wlog("genl", WLOG_WARN, "bad request from pid %u", 7u);
    wlog("weird", WLOG_ERR, "line\nforged|weird|ERR|x\ttab");

    text = slurp(ld->path);
    assert_int_equal(3, count_lines(text));
    assert_int_equal(0, regcomp(&re,
                                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
                                "[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z\\|ctl\\|DBG\\|"
                                "hello 42\n"
                                "[^|]+Z\\|genl\\|WARN\\|"
                                "bad request from pid 7\n"
                                "[^|]+Z\\|weird\\|ERR\\|"
                                "line\\?forged\\|weird\\|ERR\\|x\\?tab\n$",
                                REG_EXTENDED));
    assert_int_equal(0, regexec(&re, text, 0, NULL, 0));
    regfree(&re);
    free(text);

    /* A file that cannot be opened: -errno, and the old file stays. */
    assert_int_equal(-ENOENT, wlog_set_file("/nonexistent/dir/log"));
    wlog("ctl", WLOG_INFO, "still here");
    text = slurp(ld->path);
    assert_int_equal(4, count_lines(text));
    assert_non_null(strstr(text, "|ctl|INFO|still here\n"));
    free(text);

    /* Closed: nothing more is written. */
    assert_int_equal(0, wlog_set_file(NULL));
    wlog("ctl", WLOG_ERR, "nowhere");
    text = slurp(ld->path);
    assert_int_equal(4, count_lines(text));
    free(text);
}

static void
test_reopen_after_rotation(void **state)
{
    struct logdir *ld = *state;
    char rotated[160];
    struct stat st;
    char *text;

    assert_int_equal(0, wlog_set_file(ld->path));
    assert_int_equal(0, stat(ld->path, &st));
    assert_int_equal(0640, st.st_mode & 0777);
    wlog("weird", WLOG_INFO, "before");
    snprintf(rotated, sizeof rotated, "%s.1", ld->path);
    assert_int_equal(0, rename(ld->path, rotated));
    wlog("weird", WLOG_INFO, "into the rotated file");
    assert_int_equal(0, wlog_reopen());
    wlog("weird", WLOG_INFO, "after");

    text = slurp(rotated);
    assert_int_equal(2, count_lines(text));
    assert_non_null(strstr(text, "|weird|INFO|before\n"));
    assert_non_null(strstr(text, "|weird|INFO|into the rotated file\n"));
    free(text);
    text = slurp(ld->path);
    assert_int_equal(1, count_lines(text));
    assert_non_null(strstr(text, "|weird|INFO|after\n"));
    free(text);
}

static void
test_long_line_is_cut(void **state)
{
    struct logdir *ld = *state;
    char *big = malloc(10000);
    char *text;
    size_t len;

    assert_non_null(big);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    assert_int_equal(0, wlog_set_file(ld->path));
    wlog("dp", WLOG_INFO, "%s", big);
    wlog("dp", WLOG_INFO, "next");
    free(big);

    text = slurp(ld->path);
    assert_int_equal(2, count_lines(text));
    len = strcspn(text, "\n");
    assert_true(len < 4096);
    assert_true(len > 1000);
    assert_memory_equal(text + len - 3, "...", 3);
    assert_non_null(strstr(text + len, "|dp|INFO|next\n"));
    free(text);
}

static void
test_rate_limit_counts(void **state)
{
    struct logdir *ld = *state;
    static struct wlog_rl rl = WLOG_RL_INIT(3, 60000);
    char *text;

    assert_int_equal(0, wlog_set_file(ld->path));
    for (int i = 0; i < 10; i++) {
        wlog_rl(&rl, "genl", WLOG_WARN, "bad message %d", i);
    }
    assert_int_equal(0, rl.tokens);
    assert_int_equal(7, rl.suppressed);

    /* A disabled level neither writes nor counts. */
    wlog_rl(&rl, "genl", WLOG_DBG, "debug");
    assert_int_equal(7, rl.suppressed);

    /* One interval later: one token, and the line reports the count. */
    rl.last_ms -= 60000;
    wlog_rl(&rl, "genl", WLOG_WARN, "bad message %d", 10);
    assert_int_equal(0, rl.suppressed);
    wlog_rl(&rl, "genl", WLOG_WARN, "bad message %d", 11);
    assert_int_equal(1, rl.suppressed);

    /* A long quiet time refills up to the burst, no more. */
    rl.last_ms -= 100 * 60000;
    for (int i = 12; i < 20; i++) {
        wlog_rl(&rl, "genl", WLOG_WARN, "bad message %d", i);
    }
    assert_int_equal(5, rl.suppressed);

    text = slurp(ld->path);
    assert_int_equal(3 + 1 + 3, count_lines(text));
    assert_non_null(strstr(text, "|genl|WARN|bad message 2\n"));
    assert_null(strstr(text, "bad message 3\n"));
    assert_non_null(strstr(text, "|genl|WARN|bad message 10 "
                                 "(7 similar messages suppressed)\n"));
    assert_null(strstr(text, "bad message 11"));
    assert_non_null(strstr(text, "|genl|WARN|bad message 12 "
                                 "(1 similar messages suppressed)\n"));
    assert_non_null(strstr(text, "|genl|WARN|bad message 14\n"));
    assert_null(strstr(text, "bad message 15"));
    free(text);
}

static void
test_rate_limit_zero_interval(void **state)
{
    struct logdir *ld = *state;
    struct wlog_rl rl = WLOG_RL_INIT(0, 0);
    char *text;

    /* No interval: no limit. */
    assert_int_equal(0, wlog_set_file(ld->path));
    for (int i = 0; i < 5; i++) {
        wlog_rl(&rl, "port", WLOG_INFO, "x");
    }
    text = slurp(ld->path);
    assert_int_equal(5, count_lines(text));
    free(text);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_names),
        cmocka_unit_test_setup_teardown(test_specs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_rotation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_line_is_cut, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_counts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_limit_zero_interval, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

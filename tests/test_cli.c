/*
 * test_cli: the command-line numbers (common/cli.h). Good values in and at the bounds; values out of range,
 * empty, with trailing garbage, overflowing or negative where no sign is allowed refused with the option and
 * the value in the message and the destination left alone; the long option's name as getopt_long matched it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cli.h"
#include "mir_test.h"

static void check_int(void) {
    mir_error e = {{0}};
    int64_t v = -7;
    CHECK_EQ_INT(mir_cli_int("--steps", "40", 1, 1000000000, &v, &e), 0);
    CHECK_EQ_INT(v, 40);
    CHECK_EQ_INT(mir_cli_int("--steps", "1", 1, 10, &v, &e), 0); /* the bounds are in */
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(mir_cli_int("--steps", "10", 1, 10, &v, &e), 0);
    CHECK_EQ_INT(v, 10);
    CHECK_EQ_INT(mir_cli_int("--shift", "-3", -5, 5, &v, &e), 0);
    CHECK_EQ_INT(v, -3);
    CHECK_EQ_INT(mir_cli_int("--big", "9223372036854775807", 0, INT64_MAX, &v, &e), 0);
    CHECK(v == INT64_MAX);
    v = 99;
    CHECK_EQ_INT(mir_cli_int("--steps", "x", 1, 1000000000, &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--steps: expected an integer in [1, 1000000000], got 'x'");
    CHECK_EQ_INT(v, 99);
    CHECK_EQ_INT(mir_cli_int("--steps", "0", 1, 10, &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--steps: expected an integer in [1, 10], got '0'");
    CHECK_EQ_INT(mir_cli_int("--steps", "11", 1, 10, &v, &e), -1);
    CHECK_EQ_INT(mir_cli_int("--steps", "5x", 1, 10, &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--steps: expected an integer in [1, 10], got '5x'");
    CHECK_EQ_INT(mir_cli_int("--steps", "5 ", 1, 10, &v, &e), -1);
    CHECK_EQ_INT(mir_cli_int("--steps", "2.5", 1, 10, &v, &e), -1);
    CHECK_EQ_INT(mir_cli_int("--steps", "", 1, 10, &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--steps: expected an integer in [1, 10], got ''");
    CHECK_EQ_INT(mir_cli_int("--big", "9223372036854775808", 0, INT64_MAX, &v, &e), -1); /* overflows */
    CHECK_EQ_INT(v, 99);
}

static void check_uint64(void) {
    mir_error e = {{0}};
    uint64_t v = 5;
    CHECK_EQ_INT(mir_cli_uint64("--seed", "1234", &v, &e), 0);
    CHECK_EQ_INT(v, 1234);
    CHECK_EQ_INT(mir_cli_uint64("--seed", "18446744073709551615", &v, &e), 0);
    CHECK(v == UINT64_MAX);
    v = 5;
    CHECK_EQ_INT(mir_cli_uint64("--seed", "18446744073709551616", &v, &e), -1);
    CHECK_EQ_INT(mir_cli_uint64("--seed", "-1", &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--seed: expected an integer in [0, 18446744073709551615], got '-1'");
    CHECK_EQ_INT(mir_cli_uint64("--seed", " -1", &v, &e), -1);
    CHECK_EQ_INT(mir_cli_uint64("--seed", "12ab", &v, &e), -1);
    CHECK_EQ_INT(mir_cli_uint64("--seed", "", &v, &e), -1);
    CHECK_EQ_INT(v, 5);
}

static void check_double(void) {
    mir_error e = {{0}};
    double v = -1;
    CHECK_EQ_INT(mir_cli_double("--clip", "0.5", -INFINITY, INFINITY, &v, &e), 0);
    CHECK(v == 0.5);
    CHECK_EQ_INT(mir_cli_double("--clip", "-2e3", -INFINITY, INFINITY, &v, &e), 0);
    CHECK(v == -2000);
    CHECK_EQ_INT(mir_cli_double("--frac", "1", 0, 1, &v, &e), 0);
    CHECK(v == 1);
    v = 7;
    CHECK_EQ_INT(mir_cli_double("--frac", "1.5", 0, 1, &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--frac: expected a number in [0, 1], got '1.5'");
    CHECK_EQ_INT(mir_cli_double("--clip", "1e-3x", -INFINITY, INFINITY, &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--clip: expected a number, got '1e-3x'");
    CHECK_EQ_INT(mir_cli_double("--clip", "nan", -INFINITY, INFINITY, &v, &e), -1);
    CHECK_EQ_INT(mir_cli_double("--clip", "", -INFINITY, INFINITY, &v, &e), -1);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(mir_cli_positive("--lr", "1e-3", &v, &e), 0);
    CHECK(v == 1e-3);
    v = 7;
    CHECK_EQ_INT(mir_cli_positive("--lr", "0", &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--lr: expected a number > 0, got '0'");
    CHECK_EQ_INT(mir_cli_positive("--lr", "-1", &v, &e), -1);
    CHECK_EQ_INT(mir_cli_positive("--lr", "abc", &v, &e), -1);
    CHECK_EQ_STR(e.msg, "--lr: expected a number > 0, got 'abc'");
    CHECK_EQ_INT(v, 7);
}

static void check_name(void) {
    static const struct option lo[] = {{"steps", 1, 0, 256}, {"lr", 1, 0, 257}, {0, 0, 0, 0}};
    char *argv[] = {"prog", "--lr", "0.1", "--steps=4", NULL};
    int li = -1, c, seen = 0;
    optind = 1;
    while ((li = -1, c = getopt_long(4, argv, "", lo, &li)) != -1) {
        if (c == 257) CHECK_EQ_STR(mir_cli_name(lo, li), "--lr");
        if (c == 256) CHECK_EQ_STR(mir_cli_name(lo, li), "--steps");
        seen++;
    }
    CHECK_EQ_INT(seen, 2);
    CHECK_EQ_STR(mir_cli_name(lo, -1), "option");
}

static void check_readout(void) {
    mir_error e = {{0}};
    int r = 7;
    CHECK_EQ_INT(mir_cli_readout("stats", &r, &e), 0);
    CHECK_EQ_INT(r, 1);
    CHECK_EQ_INT(mir_cli_readout("stats-only", &r, &e), 0);
    CHECK_EQ_INT(r, 2);
    CHECK_EQ_INT(mir_cli_readout("embedding", &r, &e), 0);
    CHECK_EQ_INT(r, 0);
    r = 7;
    CHECK_EQ_INT(mir_cli_readout("Stats", &r, &e), -1);
    CHECK_EQ_STR(e.msg, "--readout: 'Stats' is not embedding, stats or stats-only");
    CHECK_EQ_INT(r, 7);
}

static void check_flags(void) {
    const char **flags = calloc(4, sizeof *flags);
    int n = 0;
    mir_cli_flag_append(flags, &n, 'D', "X=1");
    mir_cli_flag_append(flags, &n, 'I', "inc dir");
    mir_cli_flag_append(flags, &n, 'D', "");
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(flags[0], "-DX=1");
    CHECK_EQ_STR(flags[1], "-Iinc dir");
    CHECK_EQ_STR(flags[2], "-D");
    mir_cli_flags_free(flags, n);
}

int main(void) {
    check_int();
    check_readout();
    check_flags();
    check_uint64();
    check_double();
    check_name();
    return mir_test_finish("test_cli");
}

/*
 * cli.h: the numbers of the programs' command lines, read whole and range-checked, with the option and the
 * value named in the message ("--steps: expected an integer in [1, 9223372036854775807], got 'x'"). The
 * programs' main() prints the message (rank 0) and exits with its usage status.
 */
#ifndef MIR_CLI_H
#define MIR_CLI_H

#include <getopt.h>
#include <stdint.h>

#include "mir_common.h"

/* s as a decimal integer in [lo, hi] into *out (strtoll: leading blanks and a sign allowed, nothing after it).
 * 0, or -1 with err "OPT: expected an integer in [LO, HI], got 'S'" and *out unchanged. */
int mir_cli_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out, mir_error *err);
/* s as a decimal integer in [0, 2^64 - 1] (a seed) into *out; no sign. */
int mir_cli_uint64(const char *opt, const char *s, uint64_t *out, mir_error *err);
/* s as a number (strtod: decimals, exponents, inf) in [lo, hi] into *out; NaN is refused. 0, or -1 with err
 * "OPT: expected a number in [LO, HI], got 'S'" ("expected a number" when neither bound is finite). */
int mir_cli_double(const char *opt, const char *s, double lo, double hi, double *out, mir_error *err);
/* s as a number > 0 into *out. */
int mir_cli_positive(const char *opt, const char *s, double *out, mir_error *err);

/* "--NAME" of the long option getopt_long matched (li: the index it stored, -1 when none), for the messages
 * above; "option" when li < 0. The text lives until the next call. */
const char *mir_cli_name(const struct option *longopts, int li);

/* --readout MODE of mir-infer and mir-analyze: "embedding", "stats" or "stats-only" into *out as 0, 1, 2 (the
 * values of MIR_READOUT_EMBEDDING, _STATS, _STATS_ONLY in include/mir/mir.h, which common/ does not include).
 * 0, or -1 with err "--readout: 'S' is not embedding, stats or stats-only" and *out unchanged. */
int mir_cli_readout(const char *s, int *out, mir_error *err);

/* -D MACRO and -I DIR of the programs that pass flags to clang: "-<c><arg>" (c: 'D' or 'I') appended to
 * flags[*n] (room for it is the caller's: argc entries hold every option); the text is malloc'd, for
 * mir_cli_flags_free. */
void mir_cli_flag_append(const char **flags, int *n, int c, const char *arg);
/* The n texts of flags, then flags itself. */
void mir_cli_flags_free(const char **flags, int n);

#endif

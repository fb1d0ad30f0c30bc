/* cli.c: range-checked command-line numbers (see cli.h). */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* strtoll/strtoull/strtod's verdict: all of s read, something read, no overflow. */
static int whole(const char *s, const char *end) { return *s && end != s && !*end && errno != ERANGE; }

int mir_cli_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out, mir_error *err) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!whole(s, end) || v < lo || v > hi)
        return mir_fail(err, "%s: expected an integer in [%lld, %lld], got '%s'", opt, (long long)lo, (long long)hi,
                        s);
    *out = v;
    return 0;
}

int mir_cli_uint64(const char *opt, const char *s, uint64_t *out, mir_error *err) {
    const char *p = s;
    while (isspace((unsigned char)*p)) p++;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*p == '-' || !whole(s, end))
        return mir_fail(err, "%s: expected an integer in [0, %llu], got '%s'", opt, (unsigned long long)UINT64_MAX, s);
    *out = v;
    return 0;
}

int mir_cli_double(const char *opt, const char *s, double lo, double hi, double *out, mir_error *err) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (whole(s, end) && v >= lo && v <= hi) {
        *out = v;
        return 0;
    }
    if (!isfinite(lo) && !isfinite(hi)) return mir_fail(err, "%s: expected a number, got '%s'", opt, s);
    return mir_fail(err, "%s: expected a number in [%g, %g], got '%s'", opt, lo, hi, s);
}

int mir_cli_positive(const char *opt, const char *s, double *out, mir_error *err) {
    double v;
    if (mir_cli_double(opt, s, -INFINITY, INFINITY, &v, NULL) || !(v > 0))
        return mir_fail(err, "%s: expected a number > 0, got '%s'", opt, s);
    *out = v;
    return 0;
}

const char *mir_cli_name(const struct option *longopts, int li) {
    static char name[80];
    if (li < 0) return "option";
    snprintf(name, sizeof name, "--%s", longopts[li].name);
    return name;
}

int mir_cli_readout(const char *s, int *out, mir_error *err) {
    if (!strcmp(s, "stats")) *out = 1;
    else if (!strcmp(s, "stats-only")) *out = 2;
    else if (!strcmp(s, "embedding")) *out = 0;
    else return mir_fail(err, "--readout: '%s' is not embedding, stats or stats-only", s);
    return 0;
}

void mir_cli_flag_append(const char **flags, int *n, int c, const char *arg) {
    size_t len = strlen(arg) + 3;
    char *f = malloc(len);
    snprintf(f, len, "-%c%s", c, arg);
    flags[(*n)++] = f;
}

void mir_cli_flags_free(const char **flags, int n) {
    for (int i = 0; i < n; i++) free((void *)flags[i]);
    free(flags);
}

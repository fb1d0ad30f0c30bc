/* mir_test.h: a minimal assertion kit for the project's test programs. A failed check prints
 * file:line and the expression and makes the program exit non-zero at the end (or at once: CHECK_FATAL). */
#ifndef MIR_TEST_H
#define MIR_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mir_test_failures = 0;
static int mir_test_checks = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        mir_test_checks++;                                                           \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            mir_test_failures++;                                                     \
        }                                                                            \
    } while (0)
#define CHECK_FATAL(cond)                                                                  \
    do {                                                                                   \
        mir_test_checks++;                                                                 \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fatal CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                             \
    do {                                                                                               \
        long long _a = (long long)(a), _b = (long long)(b);                                            \
        mir_test_checks++;                                                                             \
        if (_a != _b) {                                                                                \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, _a, _b); \
            mir_test_failures++;                                                                       \
        }                                                                                              \
    } while (0)
#define CHECK_EQ_STR(a, b)                                                                                 \
    do {                                                                                                   \
        const char *_a = (a), *_b = (b);                                                                   \
        mir_test_checks++;                                                                                 \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                           \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b,       \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                               \
            mir_test_failures++;                                                                           \
        }                                                                                                  \
    } while (0)
#define CHECK_NEAR(a, b, tol)                                                                           \
    do {                                                                                                \
        double _a = (double)(a), _b = (double)(b);                                                      \
        mir_test_checks++;                                                                              \
        if (!(fabs(_a - _b) <= (tol))) {                                                                \
            fprintf(stderr, "%s:%d: |%s - %s| <= %g failed: %g vs %g\n", __FILE__, __LINE__, #a, #b,     \
                    (double)(tol), _a, _b);                                                             \
            mir_test_failures++;                                                                        \
        }                                                                                               \
    } while (0)

static inline int mir_test_finish(const char *name) {
    if (mir_test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, mir_test_failures, mir_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, mir_test_checks);
    return 0;
}
#endif

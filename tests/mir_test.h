/* mir_test.h: a minimal assertion kit for the project's test programs. A failed check prints
 * file:line and the expression and makes the program exit non-zero at the end (or at once: CHECK_FATAL). */
#ifndef MIR_TEST_H
#define MIR_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A fresh folder $TMPDIR/mir-NAME.XXXXXX (or under /tmp) in dir; fatal when it cannot be made. */
static inline void mir_test_tmpdir(char *dir, size_t cap, const char *name) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, cap, "%s/mir-%s.XXXXXX", t && *t ? t : "/tmp", name);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot make a temporary folder %s\n", dir);
        exit(1);
    }
}

/* Removes a folder made by mir_test_tmpdir, with what it holds. */
static inline void mir_test_rmdir(const char *dir) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* The first 255 bytes of a file as text ("" when it is missing); the buffer is reused by the next call. */
static inline const char *mir_test_file_text(const char *path) {
    static char buf[256];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return buf;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static inline int mir_test_finish(const char *name) {
    if (mir_test_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, mir_test_failures, mir_test_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, mir_test_checks);
    return 0;
}
#endif

/* mir_common.c: errors, checked allocation, logging, hashing, clocks (see mir_common.h). */
#include "mir_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int mir_fail(mir_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void mir_error_prefix(mir_error *err, const char *prefix) {
    if (!err) return;
    size_t p = strlen(prefix), m = strlen(err->msg);
    if (p + 2 >= sizeof err->msg) p = sizeof err->msg - 3;
    if (p + 2 + m >= sizeof err->msg) m = sizeof err->msg - p - 3;
    memmove(err->msg + p + 2, err->msg, m);
    memcpy(err->msg, prefix, p);
    err->msg[p] = ':';
    err->msg[p + 1] = ' ';
    err->msg[p + 2 + m] = '\0';
}

static void die_oom(size_t bytes, const char *file, int line) {
    fprintf(stderr, "out of memory: %zu bytes at %s:%d\n", bytes, file, line);
    abort();
}

void *mir_malloc_check(size_t bytes, const char *file, int line) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) die_oom(bytes, file, line);
    return p;
}

void *mir_calloc_check(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) die_oom(n * size, file, line);
    return p;
}

void *mir_realloc_check(void *p, size_t bytes, const char *file, int line) {
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) die_oom(bytes, file, line);
    return q;
}

char *mir_strdup_check(const char *s, const char *file, int line) {
    size_t n = strlen(s) + 1;
    char *d = mir_malloc_check(n, file, line);
    memcpy(d, s, n);
    return d;
}

void mir_grow(void **p, size_t *cap, size_t need, size_t elem, const char *file, int line) {
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    *p = mir_realloc_check(*p, c * elem, file, line);
    *cap = c;
}

static struct {
    char program[64];
    int rank, nranks;
    mir_log_level level;
} g_log = {"mir", 0, 1, MIR_LOG_INFO};

void mir_log_init(const char *program, int rank, int nranks, mir_log_level level) {
    snprintf(g_log.program, sizeof g_log.program, "%s", program);
    g_log.rank = rank;
    g_log.nranks = nranks;
    g_log.level = level;
}

mir_log_level mir_log_get_level(void) { return g_log.level; }

void mir_log(mir_log_level level, const char *fmt, ...) {
    if (level > g_log.level) return;
    static const char *names[] = {"error: ", "warning: ", "", ""};
    char line[2048];
    int n;
    if (g_log.nranks > 1)
        n = snprintf(line, sizeof line, "%s[%d]: %s", g_log.program, g_log.rank, names[level]);
    else
        n = snprintf(line, sizeof line, "%s: %s", g_log.program, names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line); /* one write per line keeps ranks' lines whole */
}

uint64_t mir_hash64_continue(uint64_t h, const void *data, size_t bytes) {
    const unsigned char *p = data;
    for (size_t i = 0; i < bytes; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t mir_hash64(const void *data, size_t bytes) {
    return mir_hash64_continue(0xcbf29ce484222325ULL, data, bytes);
}

double mir_wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double mir_cpu_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t mir_peak_rss_bytes(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return -1;
    return (int64_t)ru.ru_maxrss * 1024;
}

int mir_read_file(const char *path, char **data, size_t *bytes, mir_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return mir_fail(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = mir_malloc(cap);
    for (;;) {
        if (n + 1 >= cap) buf = mir_realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    int saved = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return mir_fail(err, "%s: read error: %s", path, strerror(saved));
    }
    buf[n] = '\0';
    *data = buf;
    *bytes = n;
    return 0;
}

int64_t mir_available_memory_bytes(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    fclose(f);
    return (int64_t)kb * 1024;
}

/*
 * mir_common.h: the few things every stage shares. Error reporting, checked allocation, logging,
 * a growable byte buffer and the content hash. Library functions return a status and fill a
 * mir_error; only a program's main() decides to exit.
 */
#ifndef MIR_COMMON_H
#define MIR_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifndef MIR_ERROR_MAX
#define MIR_ERROR_MAX 512
/* A status message from a library call: empty when all went well (shared with include/mir/mir.h). */
typedef struct mir_error {
    char msg[MIR_ERROR_MAX];
} mir_error;
#endif

/* Fill err (if not NULL) with a printf-style message; returns -1 so callers can `return mir_fail(...)`. */
int mir_fail(mir_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Put "prefix: " in front of err's message (truncating at the end if needed). */
void mir_error_prefix(mir_error *err, const char *prefix);

/* Allocation that never returns NULL: on failure it prints file:line and aborts the process
 * (an allocation failure is not an input error a caller could recover from). */
void *mir_malloc_check(size_t bytes, const char *file, int line);
void *mir_calloc_check(size_t n, size_t size, const char *file, int line);
void *mir_realloc_check(void *p, size_t bytes, const char *file, int line);
char *mir_strdup_check(const char *s, const char *file, int line);
#define mir_malloc(b) mir_malloc_check((b), __FILE__, __LINE__)
#define mir_calloc(n, s) mir_calloc_check((n), (s), __FILE__, __LINE__)
#define mir_realloc(p, b) mir_realloc_check((p), (b), __FILE__, __LINE__)
#define mir_strdup(s) mir_strdup_check((s), __FILE__, __LINE__)

/* Grow *p (an array of elem bytes with capacity *cap) so it holds at least need elements. */
void mir_grow(void **p, size_t *cap, size_t need, size_t elem, const char *file, int line);
#define MIR_GROW(p, cap, need) mir_grow((void **)&(p), &(cap), (need), sizeof(*(p)), __FILE__, __LINE__)

/* Logging to stderr, prefixed with the program name and, under MPI with more than one rank, the rank. */
typedef enum { MIR_LOG_ERROR = 0, MIR_LOG_WARN = 1, MIR_LOG_INFO = 2, MIR_LOG_DEBUG = 3 } mir_log_level;
void mir_log_init(const char *program, int rank, int nranks, mir_log_level level);
void mir_log(mir_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
mir_log_level mir_log_get_level(void);

/* 64-bit FNV-1a of a byte string: the module content hash stored in corpus files. */
uint64_t mir_hash64(const void *data, size_t bytes);
uint64_t mir_hash64_continue(uint64_t h, const void *data, size_t bytes);

/* Monotonic wall time and process CPU time, in seconds. */
double mir_wall_seconds(void);
double mir_cpu_seconds(void);
/* Peak resident set size of this process, in bytes (from getrusage). */
int64_t mir_peak_rss_bytes(void);
/* Memory available to new allocations on this machine (MemAvailable of /proc/meminfo), in bytes; 0 if
 * unknown. */
int64_t mir_available_memory_bytes(void);

/* Read a whole file into a fresh buffer (NUL-terminated, *bytes excludes the NUL). */
int mir_read_file(const char *path, char **data, size_t *bytes, mir_error *err);

#endif

/*
 * test_probe.c: unit test of the phase probe (common/probe.h): wall/CPU timing of a busy phase,
 * call counts, software counters and their PAPI SDE read-back, the export layout, the printed
 * table, the once-only notice, and several probe sets in one process.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mir_common.h"
#include "mir_test.h"
#include "probe.h"

enum { PH_BUSY, PH_IDLE, PH_REPEAT, N_PHASES };
enum { C_MODULES, C_TOKENS, N_COUNTS };
static const char *const phase_names[N_PHASES] = {"busy_phase", "idle_phase", "repeat_phase"};
static const char *const count_names[N_COUNTS] = {"modules", "tokens"};

/* Spin until this process has used `seconds` of CPU time doing floating-point work (CPU time, not wall
 * time, so that a loaded machine cannot make the phase's CPU time fall short; wall time is then at least
 * as long). */
static void busy_wait(double seconds) {
    volatile double x = 1.0;
    double t0 = mir_cpu_seconds();
    while (mir_cpu_seconds() - t0 < seconds)
        for (int i = 0; i < 1000; i++) x = x * 1.0000001 + 1e-9;
}

/* Read the whole of a temporary file back into a NUL-terminated string (caller frees). */
static char *slurp(FILE *f) {
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *s = mir_calloc((size_t)n + 1, 1);
    CHECK_EQ_INT(fread(s, 1, (size_t)n, f), n);
    return s;
}

static int count_occurrences(const char *s, const char *needle) {
    int n = 0;
    for (const char *q = strstr(s, needle); q; q = strstr(q + 1, needle)) n++;
    return n;
}

static void test_bad_arguments(void) {
    const char *const empty_name[1] = {""};
    CHECK(mir_probe_create(NULL, phase_names, N_PHASES, count_names, N_COUNTS, 1) == NULL);
    CHECK(mir_probe_create("", phase_names, N_PHASES, count_names, N_COUNTS, 1) == NULL);
    CHECK(mir_probe_create("x", NULL, 2, count_names, N_COUNTS, 1) == NULL);
    CHECK(mir_probe_create("x", phase_names, MIR_PROBE_MAX_PHASES + 1, NULL, 0, 1) == NULL);
    CHECK(mir_probe_create("x", phase_names, N_PHASES, count_names, -1, 1) == NULL);
    CHECK(mir_probe_create("x", empty_name, 1, NULL, 0, 1) == NULL);
    mir_probe_free(NULL); /* must be a no-op */
}

/* The notice goes to stderr once per process and never from a quiet probe. */
static void test_notice_once(void) {
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = tmpfile();
    CHECK_FATAL(saved >= 0 && capture);
    dup2(fileno(capture), 2);
    mir_probe *q = mir_probe_create("mir_test_notice", phase_names, 1, NULL, 0, 1);
    mir_probe_free(q);
    int hw = 0;
    for (int i = 0; i < 2; i++) {
        mir_probe *p = mir_probe_create("mir_test_notice", phase_names, 1, NULL, 0, 0);
        hw = mir_probe_hw_available(p);
        mir_probe_free(p);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fseek(capture, 0, SEEK_END);
    char *text = slurp(capture);
    fclose(capture);
    CHECK_EQ_INT(count_occurrences(text, "probe: hardware counters unavailable ("), hw ? 0 : 1);
    CHECK(hw || strstr(text, "recording wall and CPU time only") != NULL);
    free(text);
}

static void check_timing(const mir_probe *p) {
    printf("busy phase: wall %.4f s, cpu %.4f s\n", mir_probe_wall(p, PH_BUSY), mir_probe_cpu(p, PH_BUSY));
    CHECK(mir_probe_wall(p, PH_BUSY) >= 0.04);
    CHECK(mir_probe_wall(p, PH_BUSY) < 5.0);
    CHECK(mir_probe_cpu(p, PH_BUSY) >= 0.045);
    CHECK(mir_probe_wall(p, PH_BUSY) >= 0.99 * mir_probe_cpu(p, PH_BUSY));
    CHECK_EQ_INT(mir_probe_calls(p, PH_BUSY), 1);
    CHECK(mir_probe_wall(p, PH_IDLE) == 0.0);
    CHECK(mir_probe_cpu(p, PH_IDLE) == 0.0);
    CHECK_EQ_INT(mir_probe_calls(p, PH_IDLE), 0);
    CHECK_EQ_INT(mir_probe_calls(p, PH_REPEAT), 3);
    CHECK(mir_probe_wall(p, PH_REPEAT) >= 0.003 && mir_probe_wall(p, PH_REPEAT) < mir_probe_wall(p, PH_BUSY));
    /* out of range reads are 0, not a crash */
    CHECK(mir_probe_wall(p, N_PHASES) == 0.0 && mir_probe_wall(p, -1) == 0.0);
    CHECK_EQ_INT(mir_probe_calls(p, 99), 0);
}

static void check_hw(const mir_probe *p) {
    int n_hw = mir_probe_n_hw(p);
    printf("hardware counters: %s%s%s\n", mir_probe_hw_available(p) ? "available" : "unavailable",
           mir_probe_hw_available(p) ? "" : ": ", mir_probe_hw_reason(p));
    if (!mir_probe_hw_available(p)) {
        CHECK_EQ_INT(n_hw, 0);
        CHECK(strlen(mir_probe_hw_reason(p)) > 0);
        CHECK_EQ_STR(mir_probe_hw_name(p, 0), "");
        return;
    }
    CHECK(n_hw >= 1 && n_hw <= MIR_PROBE_MAX_HW);
    CHECK_EQ_STR(mir_probe_hw_reason(p), "");
    for (int k = 0; k < n_hw; k++) {
        printf("  %s: busy %lld, idle %lld\n", mir_probe_hw_name(p, k),
               (long long)mir_probe_hw_value(p, PH_BUSY, k), (long long)mir_probe_hw_value(p, PH_IDLE, k));
        CHECK(strncmp(mir_probe_hw_name(p, k), "PAPI_", 5) == 0);
        CHECK(mir_probe_hw_value(p, PH_BUSY, k) >= 0);
        CHECK_EQ_INT(mir_probe_hw_value(p, PH_IDLE, k), 0);
        if (strcmp(mir_probe_hw_name(p, k), "PAPI_TOT_CYC") == 0 || strcmp(mir_probe_hw_name(p, k), "PAPI_TOT_INS") == 0)
            CHECK(mir_probe_hw_value(p, PH_BUSY, k) > 1000000);
    }
}

/* Returns 1 when the SDE counters could be read back through PAPI. */
static int check_counts(const mir_probe *p) {
    CHECK_EQ_INT(mir_probe_count(p, C_MODULES), 3);
    CHECK_EQ_INT(mir_probe_count(p, C_TOKENS), 1000000007LL * 3);
    CHECK_EQ_INT(mir_probe_count(p, N_COUNTS), 0);
    CHECK_EQ_INT(mir_probe_read_sde(p, N_COUNTS), -1);
    CHECK_EQ_INT(mir_probe_read_sde(p, -1), -1);
    int64_t modules = mir_probe_read_sde(p, C_MODULES);
    int readable = modules != -1;
    printf("SDE read-back through PAPI (sde:::mir_test_probe::modules): %s\n", readable ? "readable" : "NOT readable");
    if (readable) {
        CHECK_EQ_INT(modules, mir_probe_count(p, C_MODULES));
        CHECK_EQ_INT(mir_probe_read_sde(p, C_TOKENS), mir_probe_count(p, C_TOKENS));
    }
    return readable;
}

static void check_export(const mir_probe *p) {
    int n_hw = mir_probe_n_hw(p), per = 2 + n_hw;
    int n = mir_probe_export(p, NULL);
    CHECK_EQ_INT(n, N_PHASES * per + N_COUNTS);
    double *v = mir_malloc(sizeof(double) * (size_t)n);
    CHECK_EQ_INT(mir_probe_export(p, v), n);
    for (int i = 0; i < N_PHASES; i++) {
        CHECK(v[i * per] == mir_probe_wall(p, i));
        CHECK(v[i * per + 1] == mir_probe_cpu(p, i));
        for (int k = 0; k < n_hw; k++) CHECK(v[i * per + 2 + k] == (double)mir_probe_hw_value(p, i, k));
    }
    for (int c = 0; c < N_COUNTS; c++) CHECK(v[N_PHASES * per + c] == (double)mir_probe_count(p, c));
    free(v);
}

static void check_print(const mir_probe *p) {
    FILE *f = tmpfile();
    CHECK_FATAL(f != NULL);
    mir_probe_print(p, f, "== probe test ==", NULL);
    char *text = slurp(f);
    fputs(text, stdout);
    CHECK(strncmp(text, "== probe test ==\n", 17) == 0);
    for (int i = 0; i < N_PHASES; i++) CHECK(strstr(text, phase_names[i]) != NULL);
    CHECK(strstr(text, "wall s") && strstr(text, "cpu s") && strstr(text, "calls"));
    CHECK(strstr(text, "\ncounts:\n") != NULL);
    CHECK(strstr(text, "modules = 3\n") != NULL);
    CHECK(strstr(text, "tokens  = 3000000021\n") != NULL);
    for (int k = 0; k < mir_probe_n_hw(p); k++) CHECK(strstr(text, mir_probe_hw_name(p, k)) != NULL);
    free(text);
    fclose(f);

    /* Given values replace the probe's own (as after an MPI reduction). */
    int n = mir_probe_export(p, NULL);
    double *v = mir_malloc(sizeof(double) * (size_t)n);
    mir_probe_export(p, v);
    v[0] = 1234.5;                    /* busy phase wall */
    v[n - N_COUNTS + C_MODULES] = 77; /* modules */
    f = tmpfile();
    CHECK_FATAL(f != NULL);
    mir_probe_print(p, f, NULL, v);
    text = slurp(f);
    CHECK(strncmp(text, "phase", 5) == 0); /* no title line */
    CHECK(strstr(text, "1234.500000") != NULL);
    CHECK(strstr(text, "modules = 77\n") != NULL);
    CHECK(strstr(text, "modules = 3\n") == NULL);
    free(text);
    fclose(f);
    free(v);
}

/* One probe through a full workload, then every read-out. Returns whether SDE read-back worked. */
static int test_main_probe(void) {
    mir_probe *p = mir_probe_create("mir_test_probe", phase_names, N_PHASES, count_names, N_COUNTS, 1);
    CHECK_FATAL(p != NULL);
    mir_probe_end(p, PH_IDLE); /* unmatched end: ignored */
    mir_probe_begin(p, PH_BUSY);
    busy_wait(0.05);
    mir_probe_end(p, PH_BUSY);
    for (int i = 0; i < 3; i++) {
        mir_probe_begin(p, PH_REPEAT);
        busy_wait(0.002);
        mir_probe_end(p, PH_REPEAT);
        mir_probe_count_add(p, C_MODULES, 1);
        mir_probe_count_add(p, C_TOKENS, 1000000007LL);
    }
    mir_probe_begin(p, 99); /* out of range: ignored */
    mir_probe_count_add(p, N_COUNTS, 5);
    check_timing(p);
    check_hw(p);
    int readable = check_counts(p);
    check_export(p);
    check_print(p);
    mir_probe_free(p);
    return readable;
}

/* Create, free, create again under the same SDE library; and two sets alive at once. */
static void test_several_probes(int sde_readable) {
    mir_probe *a = mir_probe_create("mir_test_probe", phase_names, N_PHASES, count_names, N_COUNTS, 1);
    CHECK_FATAL(a != NULL);
    CHECK_EQ_INT(mir_probe_count(a, C_MODULES), 0);
    CHECK(mir_probe_wall(a, PH_BUSY) == 0.0);
    mir_probe_count_add(a, C_MODULES, 2);
    mir_probe *b = mir_probe_create("mir_test_other", phase_names, 1, count_names, 1, 1);
    CHECK_FATAL(b != NULL);
    mir_probe_count_add(b, C_MODULES, 40);
    mir_probe_begin(b, 0);
    mir_probe_begin(a, PH_BUSY);
    busy_wait(0.01);
    mir_probe_end(a, PH_BUSY);
    mir_probe_end(b, 0);
    CHECK_EQ_INT(mir_probe_count(a, C_MODULES), 2);
    CHECK_EQ_INT(mir_probe_count(b, C_MODULES), 40);
    CHECK_EQ_INT(mir_probe_calls(a, PH_BUSY), 1);
    CHECK_EQ_INT(mir_probe_calls(b, 0), 1);
    CHECK(mir_probe_wall(b, 0) >= mir_probe_wall(a, PH_BUSY));
    CHECK_EQ_INT(mir_probe_export(b, NULL), 1 * (2 + mir_probe_n_hw(b)) + 1);
    CHECK(mir_probe_hw_available(b) || strlen(mir_probe_hw_reason(b)) > 0);
    if (sde_readable) {
        CHECK_EQ_INT(mir_probe_read_sde(a, C_MODULES), 2); /* reset on re-creation, not 3 + 2 */
        CHECK_EQ_INT(mir_probe_read_sde(a, C_TOKENS), 0);
        CHECK_EQ_INT(mir_probe_read_sde(b, C_MODULES), 40);
    }
    mir_probe_free(b);
    mir_probe_free(a);
}

int main(void) {
    test_bad_arguments();
    test_notice_once();
    int readable = test_main_probe();
    test_several_probes(readable);
    return mir_test_finish("test_probe");
}

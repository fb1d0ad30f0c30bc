/*
 * bench_preprocess: what full extraction costs over the bare LLVM parse of the same modules, in one run.
 *
 *   bench_preprocess [--repeat R] INPUT...      (INPUT as for mir-preprocess: files, directories, @lists)
 *
 * Reference: a loop of LLVMContextCreate + LLVMParseIRInContext + dispose over the modules, read into
 * memory beforehand. Measured: mir_preprocess_run on the same inputs (read, parse, tokens, graph,
 * vocabulary, encode, collective HDF5 write to a temporary file), one rank, with the parsing in the
 * supervised worker (the default, pipelined: worker.h) and in-process (--no-isolation), the two
 * alternated. Each is repeated R times (default 3) and the fastest kept. Prints each per module, the ratio
 * full / bare parse (target: <= 2.5), the cost of isolation (target: <= 10 %) as best of R and as a paired
 * interval over the R pairs, in wall time and in CPU time (worker and supervisor together:
 * isolation_cost.h), the phase split of the last
 * full run, the peak memory, and the load average (other work on a small machine takes the worker's core).
 */
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "inputs.h"
#include "isolation_cost.h"
#include "preprocess.h"

static void machine(char *out, size_t cap) {
    snprintf(out, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c += 2;
                c[strcspn(c, "\n")] = 0;
                snprintf(out, cap, "%s, %ld cores", c, sysconf(_SC_NPROCESSORS_ONLN));
            }
            break;
        }
    fclose(f);
}

/* CPU seconds of this process and of its reaped children (the worker, which each run waits for). */
static double cpu_with_children(void) {
    struct rusage ru;
    double c = mir_cpu_seconds();
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        c += (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
             1e-6 * (double)ru.ru_stime.tv_usec;
    return c;
}

/* The 1-minute load average (other work on the machine skews the worker's share of it), -1 if unknown. */
static double load_average(void) {
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f && fscanf(f, "%lf", &l) != 1) l = -1;
    if (f) fclose(f);
    return l;
}

/* --repeat R and the first INPUT's index; 0, or -1 on a usage error. */
static int parse_args(int argc, char **argv, int *repeat, int *first) {
    *repeat = 3;
    *first = 1;
    if (argc > 2 && !strcmp(argv[1], "--repeat")) {
        *repeat = atoi(argv[2]);
        *first = 3;
    }
    return *first >= argc || *repeat < 1 ? -1 : 0;
}

/* The modules in memory for the reference loop, by input index (NULL: unreadable, or a copy). Identical files
 * are parsed once by mir-preprocess (later copies are recorded as duplicates), so the reference skips them
 * too: both sides parse the same modules. Returns the bytes of the distinct modules. */
static size_t read_distinct(const mir_input_list *list, char **data, size_t *bytes, mir_error *err) {
    uint64_t *seen = calloc(list->n + 1, sizeof *seen);
    size_t n_seen = 0, total_bytes = 0;
    for (size_t i = 0; i < list->n; i++) {
        if (mir_read_file(list->items[i].path, &data[i], &bytes[i], err) != 0) continue;
        uint64_t h = mir_hash64(data[i], bytes[i]);
        int dup = 0;
        for (size_t k = 0; k < n_seen && !dup; k++) dup = seen[k] == h;
        if (dup) {
            free(data[i]);
            data[i] = NULL;
            continue;
        }
        seen[n_seen++] = h;
        total_bytes += bytes[i];
    }
    free(seen);
    return total_bytes;
}

/* The reference: the bare LLVM parse of the modules in memory, best of repeat; *parsed: modules it parsed. */
static double bare_parse(char **data, const size_t *bytes, size_t n, int repeat, size_t *parsed) {
    double best_parse = 1e30;
    for (int r = 0; r < repeat; r++) {
        double t0 = mir_wall_seconds();
        *parsed = 0;
        for (size_t i = 0; i < n; i++) {
            if (!data[i] || !bytes[i]) continue;
            LLVMContextRef ctx = LLVMContextCreate();
            LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(data[i], bytes[i], "m", 1);
            LLVMModuleRef m = NULL;
            char *msg = NULL;
            if (!LLVMParseIRInContext(ctx, buf, &m, &msg)) {
                (*parsed)++;
                LLVMDisposeModule(m);
            }
            if (msg) LLVMDisposeMessage(msg);
            LLVMContextDispose(ctx);
        }
        double t = mir_wall_seconds() - t0;
        if (t < best_parse) best_parse = t;
    }
    return best_parse;
}

/* The measured runs of mir_preprocess_run: best of R with the supervised worker and in-process, and each
 * repeat's wall and CPU seconds ([0] in-process, [1] worker), for the paired interval. */
typedef struct full_runs {
    double best_full, best_inproc;
    double *wall[2], *cpus[2];
    mir_pp_summary sum; /* of the last run */
} full_runs;

/* R repeats of the full extraction into a temporary file, worker then in-process in each; the last worker run
 * logs its phase table. 0, or 1 if a run failed (message printed). */
static int full_extraction(char **inputs, int n_inputs, int repeat, full_runs *fr, mir_error *err) {
    char out[] = "/tmp/mir-bench-XXXXXX";
    int fd = mkstemp(out);
    close(fd);
    mir_pp_options o;
    mir_pp_options_default(&o);
    o.output = out;
    o.inputs = inputs;
    o.n_inputs = n_inputs;
    o.progress = 0;
    fr->best_full = 1e30;
    fr->best_inproc = 1e30;
    for (int k = 0; k < 2; k++) {
        fr->wall[k] = calloc((size_t)repeat, sizeof(double));
        fr->cpus[k] = calloc((size_t)repeat, sizeof(double));
    }
    for (int r = 0; r < repeat; r++) {
        for (int iso = 1; iso >= 0; iso--) {
            o.isolation = iso;
            if (r == repeat - 1 && iso) mir_log_init("bench_preprocess", 0, 1, MIR_LOG_INFO); /* phase table */
            double t0 = mir_wall_seconds(), c0 = cpu_with_children();
            if (mir_preprocess_run(&o, MPI_COMM_WORLD, &fr->sum, err)) {
                fprintf(stderr, "preprocess failed: %s\n", err->msg);
                return 1;
            }
            double t = mir_wall_seconds() - t0;
            fr->wall[iso][r] = t;
            fr->cpus[iso][r] = cpu_with_children() - c0;
            double *best = iso ? &fr->best_full : &fr->best_inproc;
            if (t < *best) *best = t;
            mir_log_init("bench_preprocess", 0, 1, MIR_LOG_ERROR);
        }
    }
    unlink(out);
    return 0;
}

static void report(double load0, size_t n_inputs, size_t parsed, size_t total_bytes, int repeat, double best_parse,
                   const full_runs *fr) {
    char cpu[256];
    machine(cpu, sizeof cpu);
    const double best_full = fr->best_full, best_inproc = fr->best_inproc;
    printf("\nbench_preprocess on %s, load average %.2f at the start, %.2f at the end\n", cpu, load0,
           load_average());
    printf("modules: %zu inputs, %zu distinct parsed by LLVM, %.1f MiB of IR; best of %d runs each\n", n_inputs,
           parsed, total_bytes / 1048576.0, repeat);
    printf("bare LLVMParseIRInContext loop : %8.3f s  %7.3f ms/module\n", best_parse, 1e3 * best_parse / (double)parsed);
    printf("full extraction (1 rank)       : %8.3f s  %7.3f ms/module  (%.0f modules/s)\n", best_full,
           1e3 * best_full / (double)parsed, (double)parsed / best_full);
    printf("  the same, in-process           : %8.3f s  %7.3f ms/module  (--no-isolation)\n", best_inproc,
           1e3 * best_inproc / (double)parsed);
    printf("ratio full / bare parse        : %8.2f   (target <= 2.5: %s)\n", best_full / best_parse,
           best_full / best_parse <= 2.5 ? "PASSED" : "FAILED");
    printf("cost of isolation, best of R   : %+7.1f %% (supervised worker vs in-process; target <= 10 %%: %s)\n",
           100.0 * (best_full / best_inproc - 1.0), best_full <= 1.10 * best_inproc ? "PASSED" : "FAILED");
    print_isolation_cost("cost of isolation, wall (paired) ", fr->wall[1], fr->wall[0], repeat);
    print_isolation_cost("cost of isolation, CPU (paired)  ", fr->cpus[1], fr->cpus[0], repeat);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int repeat, first;
    if (parse_args(argc, argv, &repeat, &first)) {
        fprintf(stderr, "usage: bench_preprocess [--repeat R] INPUT...\n");
        MPI_Finalize();
        return 2;
    }
    mir_log_init("bench_preprocess", 0, 1, MIR_LOG_ERROR);
    const double load0 = load_average();
    mir_input_list list;
    mir_error err = {{0}};
    if (mir_inputs_expand(argv + first, argc - first, 0, &list, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char **data = calloc(list.n, sizeof *data);
    size_t *bytes = calloc(list.n, sizeof *bytes);
    const size_t total_bytes = read_distinct(&list, data, bytes, &err);
    size_t parsed = 0;
    const double best_parse = bare_parse(data, bytes, list.n, repeat, &parsed);
    full_runs fr = {0};
    if (full_extraction(argv + first, argc - first, repeat, &fr, &err)) return 1;
    report(load0, list.n, parsed, total_bytes, repeat, best_parse, &fr);
    for (int k = 0; k < 2; k++) {
        free(fr.wall[k]);
        free(fr.cpus[k]);
    }
    printf("tokens %lld, nodes %lld, edges %lld; peak memory %.1f MiB\n", (long long)fr.sum.n_tokens,
           (long long)fr.sum.n_nodes, (long long)fr.sum.n_edges, mir_peak_rss_bytes() / 1048576.0);
    for (size_t i = 0; i < list.n; i++) free(data[i]);
    free(data);
    free(bytes);
    mir_inputs_free(&list);
    MPI_Finalize();
    return 0;
}

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

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int repeat = 3, first = 1;
    if (argc > 2 && !strcmp(argv[1], "--repeat")) {
        repeat = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || repeat < 1) {
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
    /* modules in memory for the reference loop */
    char **data = calloc(list.n, sizeof *data);
    size_t *bytes = calloc(list.n, sizeof *bytes);
    /* identical files are parsed once by mir-preprocess (later copies are recorded as duplicates), so the
     * reference skips them too: both sides parse the same modules */
    uint64_t *seen = calloc(list.n + 1, sizeof *seen);
    size_t n_seen = 0, total_bytes = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (mir_read_file(list.items[i].path, &data[i], &bytes[i], &err) != 0) continue;
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
    double best_parse = 1e30;
    size_t parsed = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = mir_wall_seconds();
        parsed = 0;
        for (size_t i = 0; i < list.n; i++) {
            if (!data[i] || !bytes[i]) continue;
            LLVMContextRef ctx = LLVMContextCreate();
            LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(data[i], bytes[i], "m", 1);
            LLVMModuleRef m = NULL;
            char *msg = NULL;
            if (!LLVMParseIRInContext(ctx, buf, &m, &msg)) {
                parsed++;
                LLVMDisposeModule(m);
            }
            if (msg) LLVMDisposeMessage(msg);
            LLVMContextDispose(ctx);
        }
        double t = mir_wall_seconds() - t0;
        if (t < best_parse) best_parse = t;
    }
    /* the real thing */
    char out[] = "/tmp/mir-bench-XXXXXX";
    int fd = mkstemp(out);
    close(fd);
    mir_pp_options o;
    mir_pp_options_default(&o);
    o.output = out;
    o.inputs = argv + first;
    o.n_inputs = argc - first;
    o.progress = 0;
    double best_full = 1e30, best_inproc = 1e30;
    double *wall[2], *cpus[2]; /* [0] in-process, [1] worker; one per repeat */
    for (int k = 0; k < 2; k++) {
        wall[k] = calloc((size_t)repeat, sizeof(double));
        cpus[k] = calloc((size_t)repeat, sizeof(double));
    }
    mir_pp_summary sum = {0};
    for (int r = 0; r < repeat; r++) {
        for (int iso = 1; iso >= 0; iso--) {
            o.isolation = iso;
            if (r == repeat - 1 && iso) mir_log_init("bench_preprocess", 0, 1, MIR_LOG_INFO); /* phase table */
            double t0 = mir_wall_seconds(), c0 = cpu_with_children();
            if (mir_preprocess_run(&o, MPI_COMM_WORLD, &sum, &err)) {
                fprintf(stderr, "preprocess failed: %s\n", err.msg);
                return 1;
            }
            double t = mir_wall_seconds() - t0;
            wall[iso][r] = t;
            cpus[iso][r] = cpu_with_children() - c0;
            double *best = iso ? &best_full : &best_inproc;
            if (t < *best) *best = t;
            mir_log_init("bench_preprocess", 0, 1, MIR_LOG_ERROR);
        }
    }
    unlink(out);
    char cpu[256];
    machine(cpu, sizeof cpu);
    printf("\nbench_preprocess on %s, load average %.2f at the start, %.2f at the end\n", cpu, load0,
           load_average());
    printf("modules: %zu inputs, %zu distinct parsed by LLVM, %.1f MiB of IR; best of %d runs each\n", list.n, parsed,
           total_bytes / 1048576.0, repeat);
    printf("bare LLVMParseIRInContext loop : %8.3f s  %7.3f ms/module\n", best_parse, 1e3 * best_parse / (double)parsed);
    printf("full extraction (1 rank)       : %8.3f s  %7.3f ms/module  (%.0f modules/s)\n", best_full,
           1e3 * best_full / (double)parsed, (double)parsed / best_full);
    printf("  the same, in-process           : %8.3f s  %7.3f ms/module  (--no-isolation)\n", best_inproc,
           1e3 * best_inproc / (double)parsed);
    printf("ratio full / bare parse        : %8.2f   (target <= 2.5: %s)\n", best_full / best_parse,
           best_full / best_parse <= 2.5 ? "PASSED" : "FAILED");
    printf("cost of isolation, best of R   : %+7.1f %% (supervised worker vs in-process; target <= 10 %%: %s)\n",
           100.0 * (best_full / best_inproc - 1.0), best_full <= 1.10 * best_inproc ? "PASSED" : "FAILED");
    print_isolation_cost("cost of isolation, wall (paired) ", wall[1], wall[0], repeat);
    print_isolation_cost("cost of isolation, CPU (paired)  ", cpus[1], cpus[0], repeat);
    for (int k = 0; k < 2; k++) {
        free(wall[k]);
        free(cpus[k]);
    }
    printf("tokens %lld, nodes %lld, edges %lld; peak memory %.1f MiB\n", (long long)sum.n_tokens,
           (long long)sum.n_nodes, (long long)sum.n_edges, mir_peak_rss_bytes() / 1048576.0);
    for (size_t i = 0; i < list.n; i++) free(data[i]);
    free(data);
    free(bytes);
    mir_inputs_free(&list);
    MPI_Finalize();
    return 0;
}

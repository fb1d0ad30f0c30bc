/*
 * vectorize_label.c: mir-analyze vectorize-label, the labels of the loop-vectorization task measured on
 * the machine at hand (see vectorize.h and docs/analysis.md).
 *
 * Each job is one child process for the compile and one per run (common/child.h: posix_spawn, a wall-clock
 * limit, no shell, so no quoting of paths); the runs' kernel time is what the program's own timed loop
 * measures, the child's wall time (around spawn .. wait4) and CPU time (wait4's rusage) are kept beside it.
 *
 * No rank coordinates the others while they measure: whole programs are dealt round-robin to the ranks,
 * every rank appends its results to its own journal, and the ranks meet only at the end, in an
 * MPI_Ibarrier tested every 50 ms (a rank blocked in MPI_Recv or MPI_Barrier would busy-poll a core that
 * another rank is timing on).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "child.h"
#include "compile.h"
#include "csvread.h"
#include "h5util.h"
#include "mpi_util.h"
#include "probe.h"
#include "report.h"
#include "vectorize.h"

void mir_vec_options_default(mir_vec_options *v, const mir_analyze_options *base) {
    memset(v, 0, sizeof *v);
    v->base = base;
    v->subset = 8;
    v->repeats = 3;
    v->vf_mask = MIR_VEC_DEFAULT_VF_MASK;
    v->if_mask = MIR_VEC_DEFAULT_IF_MASK;
    v->timeout_s = 60;
    v->iter_divisor = 1;
}

/* ---------------- child processes ---------------- */

/* A child run as the study needs it (common/child.h: posix_spawn, a wall-clock limit on a pidfd, wall and CPU
 * time from wait4; no RLIMIT_CPU in the child: an armed process CPU timer makes CLOCK_PROCESS_CPUTIME_ID and
 * CLOCK_THREAD_CPUTIME_ID tick-granular or erratic on Linux 6.x, seen here as loops of 1.3 ms measured as 0).
 * stdout to out_path and stderr to err_path (NULL: /dev/null); -1 with errno when it could not be started. */
static int run_child(char *const argv[], const char *out_path, const char *err_path, int limit_s,
                     mir_child_result *cr) {
    mir_child_io io = {out_path, err_path};
    fflush(stdout);
    fflush(stderr);
    return mir_child_run(argv, &io, limit_s > 0 ? limit_s : 60, cr);
}

static int write_text(const char *path, const char *text, mir_error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write: %s", path, strerror(errno));
    fputs(text, f);
    if (fclose(f)) return mir_fail(err, "%s: write error", path);
    return 0;
}

/* First line of file that contains "error" (else the first line), into out. */
static void first_diagnostic(const char *path, char *out, size_t cap) {
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[512], first[512] = "";
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!first[0] && line[0]) snprintf(first, sizeof first, "%s", line);
        if (strstr(line, "error")) {
            snprintf(out, cap, "%s", line);
            fclose(f);
            return;
        }
    }
    fclose(f);
    snprintf(out, cap, "%s", first);
}

/* ---------------- the bench ---------------- */

static const char *const harness_src =
    "/* mirvec.c: written by mir-analyze vectorize-label: the timer of the programs' BENCH loop. */\n"
    "#include <stdio.h>\n#include <time.h>\n"
    "#ifdef MIRVEC_PAPI\n#include <papi.h>\n"
    "static int mirvec_set = PAPI_NULL, mirvec_n, mirvec_slot[4] = {-1, -1, -1, -1};\n#endif\n"
    "static struct timespec mirvec_t0, mirvec_c0;\nstatic long long mirvec_ns, mirvec_cpu_ns, mirvec_hw[4] = {-1, -1, -1, -1};\n"
    "void mirvec_begin(void) {\n"
    "#ifdef MIRVEC_PAPI\n"
    "    static const int ev[4] = {PAPI_TOT_CYC, PAPI_TOT_INS, PAPI_L1_DCM, PAPI_VEC_INS};\n"
    "    if (PAPI_library_init(PAPI_VER_CURRENT) == PAPI_VER_CURRENT && PAPI_create_eventset(&mirvec_set) == PAPI_OK) {\n"
    "        for (int k = 0; k < 4; k++) if (PAPI_add_event(mirvec_set, ev[k]) == PAPI_OK) mirvec_slot[k] = mirvec_n++;\n"
    "        if (mirvec_n && PAPI_start(mirvec_set) != PAPI_OK) mirvec_n = 0;\n"
    "    }\n"
    "#endif\n"
    "    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mirvec_c0);\n    clock_gettime(CLOCK_MONOTONIC, &mirvec_t0);\n}\n"
    "void mirvec_stop(void) {\n"
    "    struct timespec t1, c1;\n    clock_gettime(CLOCK_MONOTONIC, &t1);\n    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);\n"
    "#ifdef MIRVEC_PAPI\n"
    "    long long v[4];\n"
    "    if (mirvec_n && PAPI_stop(mirvec_set, v) == PAPI_OK)\n"
    "        for (int k = 0; k < 4; k++) if (mirvec_slot[k] >= 0) mirvec_hw[k] = v[mirvec_slot[k]];\n"
    "#endif\n"
    "    mirvec_ns = (long long)(t1.tv_sec - mirvec_t0.tv_sec) * 1000000000LL + (t1.tv_nsec - mirvec_t0.tv_nsec);\n"
    "    mirvec_cpu_ns = (long long)(c1.tv_sec - mirvec_c0.tv_sec) * 1000000000LL + (c1.tv_nsec - mirvec_c0.tv_nsec);\n}\n"
    "void mirvec_report(unsigned digest) {\n"
    "    printf(\"\\nMIRVEC %lld %lld %u %lld %lld %lld %lld\\n\", mirvec_cpu_ns, mirvec_ns, digest, mirvec_hw[0], mirvec_hw[1],\n"
    "           mirvec_hw[2], mirvec_hw[3]);\n}\n";

static const char *const wrapper_header =
    "/* header.h: written by mir-analyze vectorize-label. The data set's header.h (nv_header.h) with its BENCH\n"
    " * macro redefined: the same warm-up call and timed loop of ITER calls, timed by clock_gettime (mirvec.c),\n"
    " * and the digest of the output memory printed rather than discarded. */\n"
    "#include \"nv_header.h\"\n#undef BENCH\n"
    "#ifndef MIRVEC_DIV\n#define MIRVEC_DIV 1\n#endif\n"
    "void mirvec_begin(void);\nvoid mirvec_stop(void);\nvoid mirvec_report(unsigned digest);\n"
    "#define BENCH(NAME, RUN_LINE, ITER, DIGEST_LINE) {\\\n"
    "  RUN_LINE;\\\n"
    "  mirvec_begin();\\\n"
    "  for (int i = 0; i < (ITER) / MIRVEC_DIV; ++i) RUN_LINE;\\\n"
    "  mirvec_stop();\\\n"
    "  unsigned mirvec_digest = DIGEST_LINE;\\\n"
    "  mirvec_report(mirvec_digest);\\\n"
    "}\n";

/* argv for clang: clang, the bench's cflags, then extra (NULL-terminated); a fresh array (free it only). */
static char **clang_argv(const mir_vec_bench *b, const char *const *extra) {
    int n_extra = 0;
    while (extra[n_extra]) n_extra++;
    char **argv = mir_malloc((size_t)(2 + b->n_cflags + n_extra) * sizeof *argv);
    int n = 0;
    argv[n++] = (char *)b->clang;
    for (int i = 0; i < b->n_cflags; i++) argv[n++] = b->cflags[i];
    for (int i = 0; i < n_extra; i++) argv[n++] = (char *)extra[i];
    argv[n] = NULL;
    return argv;
}

static int compile_step(const mir_vec_bench *b, const char *const *extra, const char *what, mir_error *err) {
    char **argv = clang_argv(b, extra);
    char errp[4200];
    snprintf(errp, sizeof errp, "%s/setup.err", b->work);
    mir_child_result cr;
    int rc = run_child(argv, NULL, errp, b->timeout_s, &cr);
    free(argv);
    if (rc)
        return mir_fail(err, "%s: cannot run %s (%s; is clang 16 installed? MIR_CLANG names another)", what, b->clang,
                        strerror(errno));
    if (cr.exit_code != 0) {
        char d[400];
        first_diagnostic(errp, d, sizeof d);
        return mir_fail(err, "%s: %s failed: %s", what, b->clang, d[0] ? d : "(no diagnostic)");
    }
    return 0;
}

int mir_vec_bench_setup(mir_vec_bench *b, const char *work, const char *loops, const char *clang, const char *cflags,
                        int use_papi, int iter_divisor, int timeout_s, int repeats, mir_error *err) {
    memset(b, 0, sizeof *b);
    snprintf(b->work, sizeof b->work, "%s", work);
    snprintf(b->loops, sizeof b->loops, "%s", loops);
    b->clang = clang;
    b->use_papi = use_papi;
    b->iter_divisor = iter_divisor > 0 ? iter_divisor : 1;
    b->timeout_s = timeout_s > 0 ? timeout_s : 60;
    b->repeats = repeats > 0 ? repeats : 1;
    size_t cap = 0;
    /* -DMIRVEC_DIV=k first, then the user's flags (blank-separated) */
    if (b->iter_divisor > 1) {
        MIR_GROW(b->cflags, cap, (size_t)b->n_cflags + 1);
        char d[64];
        snprintf(d, sizeof d, "-DMIRVEC_DIV=%d", b->iter_divisor);
        b->cflags[b->n_cflags++] = mir_strdup(d);
    }
    if (cflags) {
        const char *s = cflags;
        while (*s) {
            while (*s == ' ' || *s == '\t') s++;
            size_t n = strcspn(s, " \t");
            if (!n) break;
            char *w = mir_malloc(n + 1);
            memcpy(w, s, n);
            w[n] = '\0';
            MIR_GROW(b->cflags, cap, (size_t)b->n_cflags + 1);
            b->cflags[b->n_cflags++] = w;
            s += n;
        }
    }
    if (mir_mkdir_p(work, err)) return -1;
    char path[4300], src[4300];
    char *text = NULL;
    size_t bytes;
    snprintf(src, sizeof src, "%s/header.h", loops);
    if (mir_read_file(src, &text, &bytes, err)) return -1;
    snprintf(path, sizeof path, "%s/nv_header.h", work);
    int rc = write_text(path, text, err);
    free(text);
    if (rc) return -1;
    snprintf(path, sizeof path, "%s/header.h", work);
    if (write_text(path, wrapper_header, err)) return -1;
    snprintf(path, sizeof path, "%s/mirvec.c", work);
    if (write_text(path, harness_src, err)) return -1;
    /* header.o from the data set's own header.c and header.h, at -O3 like every program */
    char obj[4300];
    snprintf(src, sizeof src, "%s/header.c", loops);
    snprintf(obj, sizeof obj, "%s/header.o", work);
    const char *hdr[] = {"-O3", "-w", "-c", src, "-o", obj, NULL};
    if (compile_step(b, hdr, src, err)) return -1;
    snprintf(src, sizeof src, "%s/mirvec.c", work);
    snprintf(obj, sizeof obj, "%s/mirvec.o", work);
    const char *hv[] = {"-O2", "-w", "-c", use_papi ? "-DMIRVEC_PAPI" : "-UMIRVEC_PAPI", src, "-o", obj, NULL};
    if (compile_step(b, hv, src, err)) return -1;
    return 0;
}

void mir_vec_bench_free(mir_vec_bench *b) {
    for (int i = 0; i < b->n_cflags; i++) free(b->cflags[i]);
    free(b->cflags);
    b->cflags = NULL;
    b->n_cflags = 0;
}

/* clang's remarks: what it did to the loop, and whether it warned that a pragma could not be applied */
static void read_remarks(const char *path, int *vf, int *ifc, int *pass_failed) {
    *vf = 1;
    *ifc = 1;
    *pass_failed = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        const char *s;
        int a, c;
        if (!found && (s = strstr(line, "vectorized loop (vectorization width: ")) &&
            sscanf(s, "vectorized loop (vectorization width: %d, interleaved count: %d)", &a, &c) == 2) {
            *vf = a;
            *ifc = c;
            found = 1;
        } else if (!found && (s = strstr(line, "interleaved loop (interleaved count: ")) &&
                   sscanf(s, "interleaved loop (interleaved count: %d)", &c) == 1) {
            *ifc = c;
            found = 1;
        }
        if (strstr(line, "-Wpass-failed")) *pass_failed = 1;
    }
    fclose(f);
}

int mir_vec_bench_run(mir_vec_bench *b, const char *program, int kind, int vf, int ifc, mir_vec_result *r,
                      char *why, size_t cap, mir_error *err) {
    memset(r, 0, sizeof *r);
    why[0] = '\0';
    if (strlen(program) >= MIR_VEC_NAME_MAX || strchr(program, ',') || strchr(program, '/') || strchr(program, '\n'))
        return mir_fail(err, "%s: program names must be plain file names under %d bytes without commas", program,
                        MIR_VEC_NAME_MAX);
    snprintf(r->program, sizeof r->program, "%s", program);
    r->kind = kind;
    r->vf = kind == MIR_VEC_PRAGMA ? vf : 0;
    r->ifc = kind == MIR_VEC_PRAGMA ? ifc : 0;
    r->rank = b->rank;
    r->unix_time = (int64_t)time(NULL);
    r->best_s = r->mean_s = r->max_s = r->loop_wall_s = r->wall_s = r->cpu_s = NAN;
    for (int k = 0; k < 4; k++) r->hw[k] = -1;
    char path[4300], src_path[4300], bin[4300], errp[4300], outp[4300];
    snprintf(path, sizeof path, "%s/%s", b->loops, program);
    char *src = NULL, *mod = NULL;
    size_t bytes;
    if (mir_read_file(path, &src, &bytes, err)) return -1;
    int n_loops = 0;
    if (mir_vec_insert_pragma(src, path, kind == MIR_VEC_PRAGMA ? vf : 0, ifc, &mod, &n_loops, NULL, err)) {
        free(src);
        return -1;
    }
    free(src);
    snprintf(src_path, sizeof src_path, "%s/%s", b->work, program);
    int rc = write_text(src_path, mod, err);
    free(mod);
    if (rc) return -1;
    snprintf(bin, sizeof bin, "%s/program.bin", b->work);
    snprintf(errp, sizeof errp, "%s/compile.err", b->work);
    snprintf(outp, sizeof outp, "%s/run.out", b->work);
    char ho[4300], mo[4300];
    snprintf(ho, sizeof ho, "%s/header.o", b->work);
    snprintf(mo, sizeof mo, "%s/mirvec.o", b->work);
    unlink(bin);
    const char *cc[] = {"-O3", "-Rpass=loop-vectorize", src_path, ho, mo, "-o", bin, b->use_papi ? "-lpapi" : NULL, NULL};
    char **argv = clang_argv(b, cc);
    mir_child_result cr;
    rc = run_child(argv, NULL, errp, b->timeout_s, &cr);
    free(argv);
    if (rc) return mir_fail(err, "%s: cannot run %s: %s", program, b->clang, strerror(errno));
    r->compile_s = cr.wall_s;
    if (cr.exit_code != 0) {
        r->status = cr.timed_out ? MIR_VEC_TIMEOUT : MIR_VEC_COMPILE_FAILED;
        first_diagnostic(errp, why, cap);
        return 0;
    }
    read_remarks(errp, &r->applied_vf, &r->applied_if, &r->pass_failed);
    double sum = 0, best = INFINITY, worst = 0;
    char *const run_argv[] = {bin, NULL};
    for (int k = 0; k < b->repeats; k++) {
        if (run_child(run_argv, outp, NULL, b->timeout_s, &cr))
            return mir_fail(err, "%s: cannot run %s: %s", program, bin, strerror(errno));
        if (cr.timed_out) {
            r->status = MIR_VEC_TIMEOUT;
            snprintf(why, cap, "run %d exceeded %d s", k + 1, b->timeout_s);
            return 0;
        }
        if (cr.exit_code != 0) {
            r->status = MIR_VEC_RUN_FAILED;
            snprintf(why, cap, "run %d: %s %d", k + 1, cr.signal ? "signal" : "exit status", cr.signal ? cr.signal : cr.exit_code);
            return 0;
        }
        char *out = NULL;
        const char *line = NULL;
        long long ns = -1, wall_ns = -1, hw[4] = {-1, -1, -1, -1};
        unsigned digest = 0;
        if (mir_read_file(outp, &out, &bytes, NULL) == 0) line = strstr(out, "MIRVEC ");
        int ok = line && sscanf(line, "MIRVEC %lld %lld %u %lld %lld %lld %lld", &ns, &wall_ns, &digest, &hw[0], &hw[1], &hw[2],
                                &hw[3]) == 7 && ns >= 0;
        free(out);
        if (!ok) {
            r->status = MIR_VEC_NO_RESULT;
            snprintf(why, cap, "run %d printed no MIRVEC line", k + 1);
            return 0;
        }
        double s = 1e-9 * (double)ns, ws = 1e-9 * (double)wall_ns;
        if (k == 0 || ws < r->loop_wall_s) r->loop_wall_s = ws;
        if (k > 0 && digest != r->digest) {
            r->status = MIR_VEC_RUN_FAILED;
            snprintf(why, cap, "run %d: digest %u differs from run 1's %u", k + 1, digest, r->digest);
            return 0;
        }
        r->digest = digest;
        sum += s;
        if (s > worst) worst = s;
        if (s < best) {
            best = s;
            r->wall_s = cr.wall_s;
            r->cpu_s = cr.cpu_s;
            for (int q = 0; q < 4; q++) r->hw[q] = hw[q];
        }
        r->repeats = k + 1;
    }
    r->best_s = best;
    r->mean_s = sum / b->repeats;
    r->max_s = worst;
    r->status = MIR_VEC_OK;
    return 0;
}

/* ---------------- data ---------------- */

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int mir_vec_unpack(const char *archive, const char *dest, mir_error *err) {
    if (access(archive, R_OK)) return mir_fail(err, "%s: cannot read: %s", archive, strerror(errno));
    mir_atomic_file unpacked;
    if (mir_atomic_begin(&unpacked, dest, err) || mir_mkdir_p(unpacked.tmp, err)) return -1;
    char *argv[] = {"tar", "-xJf", (char *)archive, "-C", unpacked.tmp, "--no-same-owner", NULL};
    mir_child_result cr;
    int started = run_child(argv, NULL, NULL, 600, &cr) == 0;
    if (!started || cr.exit_code != 0) {
        mir_atomic_abort(&unpacked);
        return mir_fail(err, "tar -xJf %s failed (%s): are tar and xz installed?", archive,
                        !started ? "could not run tar" : "non-zero exit");
    }
    return mir_atomic_commit(&unpacked, err);
}

int mir_vec_loops_dir(const mir_vec_options *v, MPI_Comm comm, char *out, size_t cap, mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    const mir_analyze_options *o = v->base;
    int rc = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (v->loops_dir) {
        snprintf(out, cap, "%s", v->loops_dir);
    } else {
        char dest[4096];
        snprintf(dest, sizeof dest, "%s/data/%s/%s", o->out_dir, MIR_VEC_SUBDIR_LOOPS, MIR_VEC_ARCHIVE_STEM);
        snprintf(out, cap, "%s/training_data", dest);
        if (rank == 0 && !is_dir(out)) {
            char archive[4096], parent[4096];
            snprintf(archive, sizeof archive, "%s/%s/%s.tar.xz", o->data_dir, MIR_VEC_SUBDIR_LOOPS, MIR_VEC_ARCHIVE_STEM);
            snprintf(parent, sizeof parent, "%s/data/%s", o->out_dir, MIR_VEC_SUBDIR_LOOPS);
            mir_error e = {{0}};
            if (access(archive, R_OK)) {
                snprintf(msg, sizeof msg, "%s: cannot read (%s), and %s does not exist: give --data or --loops", archive,
                         strerror(errno), out);
                rc = -1;
            } else if (mir_mkdir_p(parent, &e)) {
                snprintf(msg, sizeof msg, "%s", e.msg);
                rc = -1;
            } else {
                mir_log(MIR_LOG_INFO, "unpacking %s into %s", archive, dest);
                if (is_dir(dest)) { /* an unpacked tree without training_data/: leave it, say so */
                    snprintf(msg, sizeof msg, "%s exists but has no training_data/ folder", dest);
                    rc = -1;
                } else if (mir_vec_unpack(archive, dest, &e)) {
                    snprintf(msg, sizeof msg, "%s", e.msg);
                    rc = -1;
                }
            }
        }
        if (rc) mir_fail(err, "%s", msg); /* rank 0 */
        if (mir_mpi_root_rc(comm, rc, err)) return -1;
    }
    char hdr[4200];
    snprintf(hdr, sizeof hdr, "%s/header.h", out);
    rc = access(hdr, R_OK) ? mir_fail(err, "%s: no header.h: not the NeuroVectorizer training_data folder", out) : 0;
    return mir_mpi_agree(comm, rc, err);
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int mir_vec_list_programs(const char *dir, char ***names, int *n, mir_error *err) {
    *names = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return mir_fail(err, "%s: cannot list: %s", dir, strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") || !strcmp(e->d_name, "header.c") || e->d_name[0] == '.') continue;
        MIR_GROW(*names, cap, (size_t)*n + 1);
        (*names)[(*n)++] = mir_strdup(e->d_name);
    }
    closedir(d);
    if (*n == 0) return mir_fail(err, "%s: no C programs", dir);
    qsort(*names, (size_t)*n, sizeof **names, cmp_name);
    return 0;
}

void mir_vec_free_names(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ---------------- labels files ---------------- */

static const char *const h5_int_names[] = {"kind", "vf", "if", "status", "repeats", "applied_vf", "applied_if",
                                           "pass_failed", "rank"};
static const char *const h5_dbl_names[] = {"best_s", "mean_s", "max_s", "loop_wall_s", "wall_s", "cpu_s", "compile_s"};
static const char *const h5_hw_names[] = {"hw_cycles", "hw_instructions", "hw_l1_dcm", "hw_vec_ins"};
#define N_INT (int)(sizeof h5_int_names / sizeof *h5_int_names)
#define N_DBL (int)(sizeof h5_dbl_names / sizeof *h5_dbl_names)

static int *int_field(mir_vec_result *r, int k) {
    int *f[N_INT] = {&r->kind, &r->vf, &r->ifc, &r->status, &r->repeats, &r->applied_vf, &r->applied_if, &r->pass_failed, &r->rank};
    return f[k];
}
static double *dbl_field(mir_vec_result *r, int k) {
    double *f[N_DBL] = {&r->best_s, &r->mean_s, &r->max_s, &r->loop_wall_s, &r->wall_s, &r->cpu_s, &r->compile_s};
    return f[k];
}

static int write_h5(const char *path, const mir_vec_result *rows, size_t n, const char *note, mir_error *err) {
    mir_h5_quiet();
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return mir_fail(err, "%s: cannot create HDF5 file", path);
    int rc = 0;
    size_t width = 2;
    const char **names = mir_malloc((n ? n : 1) * sizeof *names);
    for (size_t i = 0; i < n; i++) {
        names[i] = rows[i].program;
        if (strlen(names[i]) + 1 > width) width = strlen(names[i]) + 1;
    }
    rc = mir_h5_write_strings(f, "program", n, 0, n, names, width, err);
    free(names);
    int32_t *iv = mir_malloc((n ? n : 1) * sizeof *iv);
    double *dv = mir_malloc((n ? n : 1) * sizeof *dv);
    int64_t *lv = mir_malloc((n ? n : 1) * sizeof *lv);
    uint32_t *uv = mir_malloc((n ? n : 1) * sizeof *uv);
    for (int k = 0; k < N_INT && !rc; k++) {
        for (size_t i = 0; i < n; i++) iv[i] = *int_field((mir_vec_result *)&rows[i], k);
        rc = mir_h5_write_slab(f, h5_int_names[k], H5T_NATIVE_INT32, n, 0, n, iv, err);
    }
    for (int k = 0; k < N_DBL && !rc; k++) {
        for (size_t i = 0; i < n; i++) dv[i] = *dbl_field((mir_vec_result *)&rows[i], k);
        rc = mir_h5_write_slab(f, h5_dbl_names[k], H5T_NATIVE_DOUBLE, n, 0, n, dv, err);
    }
    for (int k = 0; k < 4 && !rc; k++) {
        for (size_t i = 0; i < n; i++) lv[i] = rows[i].hw[k];
        rc = mir_h5_write_slab(f, h5_hw_names[k], H5T_NATIVE_INT64, n, 0, n, lv, err);
    }
    if (!rc) {
        for (size_t i = 0; i < n; i++) lv[i] = rows[i].unix_time;
        rc = mir_h5_write_slab(f, "unix_time", H5T_NATIVE_INT64, n, 0, n, lv, err);
    }
    if (!rc) {
        for (size_t i = 0; i < n; i++) uv[i] = rows[i].digest;
        rc = mir_h5_write_slab(f, "digest", H5T_NATIVE_UINT32, n, 0, n, uv, err);
    }
    if (!rc) rc = mir_h5_attr_string(f, "format", "mir-vectorize-labels 1", err);
    if (!rc) rc = mir_h5_attr_int64(f, "n_rows", (int64_t)n, err);
    if (!rc)
        rc = mir_h5_attr_string(f, "description",
                                "one row per measured job (program, kind 0 pragma / 1 plain -O3 / 2 plain -O3 again, "
                                "vf, if): status 0 ok / 1 compile failed / 2 run failed / 3 timeout / 4 no result; "
                                "best_s, mean_s, max_s: CPU time of the program's timed loop over the runs (the label); "
                                "loop_wall_s: its wall time, best run; wall_s, cpu_s: the best run's whole process; digest: the program's output memory; applied_vf/if: "
                                "clang's remark; hw_*: PAPI counts of the timed loop, -1 where unavailable",
                                err);
    if (!rc && note) rc = mir_h5_attr_string(f, "study", note, err);
    free(iv); free(dv); free(lv); free(uv);
    if (H5Fclose(f) < 0 && !rc) rc = mir_fail(err, "%s: cannot close", path);
    return rc;
}

static int write_csv(const char *path, const mir_vec_result *rows, size_t n, mir_error *err) {
    FILE *f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write: %s", path, strerror(errno));
    fprintf(f, "program,kind,vf,if,status,best_s,max_s,digest,applied_vf,applied_if,pass_failed\n");
    for (size_t i = 0; i < n; i++) {
        const mir_vec_result *r = &rows[i];
        fprintf(f, "%s,%d,%d,%d,%d,%.6g,%.6g,%" PRIu32 ",%d,%d,%d\n", r->program, r->kind, r->vf, r->ifc, r->status,
                r->best_s, r->max_s, r->digest, r->applied_vf, r->applied_if, r->pass_failed);
    }
    if (fclose(f)) return mir_fail(err, "%s: write error", path);
    return 0;
}

int mir_vec_write_labels(const char *path, const mir_vec_result *rows, size_t n, const char *note, mir_error *err) {
    mir_atomic_file out;
    if (mir_atomic_begin(&out, path, err)) return -1;
    size_t len = strlen(path);
    int csv = len > 4 && !strcmp(path + len - 4, ".csv");
    if (csv ? write_csv(out.tmp, rows, n, err) : write_h5(out.tmp, rows, n, note, err)) {
        mir_atomic_abort(&out);
        return -1;
    }
    return mir_atomic_commit(&out, err);
}

static int read_h5(const char *path, mir_vec_result **rows, size_t *n, size_t *cap, mir_error *err) {
    mir_h5_quiet();
    hid_t f = mir_h5_open_serial(path, err);
    if (f < 0) return -1;
    char **names = NULL;
    int64_t m = 0;
    int rc = mir_h5_read_strings(f, "program", &names, &m, err);
    if (rc) {
        H5Fclose(f);
        return mir_fail(err, "%s: no 'program' dataset: not a labels file of vectorize-label", path);
    }
    MIR_GROW(*rows, *cap, *n + (size_t)m + 1);
    mir_vec_result *r = *rows + *n;
    memset(r, 0, (size_t)m * sizeof *r);
    for (int64_t i = 0; i < m; i++) snprintf(r[i].program, sizeof r[i].program, "%s", names[i]);
    mir_h5_free_strings(names, m);
    size_t um = (size_t)m;
    int32_t *iv = mir_malloc((um ? um : 1) * sizeof *iv);
    double *dv = mir_malloc((um ? um : 1) * sizeof *dv);
    int64_t *lv = mir_malloc((um ? um : 1) * sizeof *lv);
    uint32_t *uv = mir_malloc((um ? um : 1) * sizeof *uv);
    for (int k = 0; k < N_INT && !rc; k++) {
        rc = mir_h5_read_slab(f, h5_int_names[k], H5T_NATIVE_INT32, 0, um, iv, err);
        for (size_t i = 0; i < um && !rc; i++) *int_field(&r[i], k) = iv[i];
    }
    for (int k = 0; k < N_DBL && !rc; k++) {
        rc = mir_h5_read_slab(f, h5_dbl_names[k], H5T_NATIVE_DOUBLE, 0, um, dv, err);
        for (size_t i = 0; i < um && !rc; i++) *dbl_field(&r[i], k) = dv[i];
    }
    for (int k = 0; k < 4 && !rc; k++) {
        rc = mir_h5_read_slab(f, h5_hw_names[k], H5T_NATIVE_INT64, 0, um, lv, err);
        for (size_t i = 0; i < um && !rc; i++) r[i].hw[k] = lv[i];
    }
    if (!rc) rc = mir_h5_read_slab(f, "unix_time", H5T_NATIVE_INT64, 0, um, lv, err);
    for (size_t i = 0; i < um && !rc; i++) r[i].unix_time = lv[i];
    if (!rc) rc = mir_h5_read_slab(f, "digest", H5T_NATIVE_UINT32, 0, um, uv, err);
    for (size_t i = 0; i < um && !rc; i++) r[i].digest = uv[i];
    free(iv); free(dv); free(lv); free(uv);
    H5Fclose(f);
    if (rc) {
        mir_error_prefix(err, path);
        return -1;
    }
    *n += um;
    return 0;
}

static int read_csv(const char *path, mir_vec_result **rows, size_t *n, size_t *cap, mir_error *err) {
    mir_csv c;
    if (mir_csv_read(path, &c, err)) return -1;
    static const char *const need[] = {"program", "kind", "vf", "if", "status", "best_s"};
    int col[6];
    for (int k = 0; k < 6; k++)
        if ((col[k] = mir_csv_col(&c, need[k])) < 0) {
            mir_csv_free(&c);
            return mir_fail(err, "%s: no column '%s' (need program, kind, vf, if, status, best_s)", path, need[k]);
        }
    int cmax = mir_csv_col(&c, "max_s"), cdig = mir_csv_col(&c, "digest"), cavf = mir_csv_col(&c, "applied_vf"),
        caif = mir_csv_col(&c, "applied_if"), cpf = mir_csv_col(&c, "pass_failed");
    MIR_GROW(*rows, *cap, *n + (size_t)c.n_rows + 1);
    for (int i = 0; i < c.n_rows; i++) {
        mir_vec_result *r = *rows + *n + i;
        memset(r, 0, sizeof *r);
        const char *name = mir_csv_cell(&c, i, col[0]);
        if (!name[0] || strlen(name) >= MIR_VEC_NAME_MAX) {
            mir_csv_free(&c);
            return mir_fail(err, "%s: line %d: bad program name", path, i + 2);
        }
        snprintf(r->program, sizeof r->program, "%s", name);
        r->kind = atoi(mir_csv_cell(&c, i, col[1]));
        r->vf = atoi(mir_csv_cell(&c, i, col[2]));
        r->ifc = atoi(mir_csv_cell(&c, i, col[3]));
        r->status = atoi(mir_csv_cell(&c, i, col[4]));
        r->best_s = strtod(mir_csv_cell(&c, i, col[5]), NULL);
        r->max_s = cmax >= 0 ? strtod(mir_csv_cell(&c, i, cmax), NULL) : r->best_s;
        r->mean_s = r->loop_wall_s = r->wall_s = r->cpu_s = NAN;
        r->digest = cdig >= 0 ? (uint32_t)strtoul(mir_csv_cell(&c, i, cdig), NULL, 10) : 0;
        r->applied_vf = cavf >= 0 ? atoi(mir_csv_cell(&c, i, cavf)) : 0;
        r->applied_if = caif >= 0 ? atoi(mir_csv_cell(&c, i, caif)) : 0;
        r->pass_failed = cpf >= 0 ? atoi(mir_csv_cell(&c, i, cpf)) : 0;
        for (int k = 0; k < 4; k++) r->hw[k] = -1;
        if (r->kind < 0 || r->kind > MIR_VEC_O3_AGAIN || r->status < 0 || r->status >= MIR_VEC_N_STATUS) {
            mir_csv_free(&c);
            return mir_fail(err, "%s: line %d: kind or status out of range", path, i + 2);
        }
    }
    *n += (size_t)c.n_rows;
    mir_csv_free(&c);
    return 0;
}

int mir_vec_read_labels(const char *path, mir_vec_result **rows, size_t *n, size_t *cap, mir_error *err) {
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".csv")) return read_csv(path, rows, n, cap, err);
    return read_h5(path, rows, n, cap, err);
}

int mir_vec_collect(const char *dir, mir_vec_result **rows, size_t *n, int *n_bad, mir_error *err) {
    *rows = NULL;
    *n = 0;
    if (n_bad) *n_bad = 0;
    size_t cap = 0;
    DIR *d = opendir(dir);
    if (!d) return mir_fail(err, "%s: cannot list: %s", dir, strerror(errno));
    char **files = NULL;
    size_t fcap = 0;
    int nf = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (!strncmp(e->d_name, "journal-", 8) && len > 4 && !strcmp(e->d_name + len - 4, ".csv")) {
            MIR_GROW(files, fcap, (size_t)nf + 1);
            files[nf++] = mir_strdup(e->d_name);
        }
    }
    closedir(d);
    if (nf > 1) qsort(files, (size_t)nf, sizeof *files, cmp_name);
    int rc = 0;
    for (int i = 0; i < nf && !rc; i++) {
        char path[4300], *text = NULL;
        size_t bytes;
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (mir_read_file(path, &text, &bytes, err)) rc = -1;
        else mir_vec_journal_parse(text, rows, n, &cap, n_bad);
        free(text);
    }
    mir_vec_free_names(files, nf);
    if (rc) return -1;
    char h5[4300];
    snprintf(h5, sizeof h5, "%s/labels.h5", dir);
    if (!rc && access(h5, R_OK) == 0 && read_h5(h5, rows, n, &cap, err)) return -1;
    *n = mir_vec_dedupe(*rows, *n);
    return 0;
}

/* ---------------- the study ---------------- */

/* Pack names into one buffer on rank 0 and give every rank a copy. */
static void bcast_names(char ***names, int *n, MPI_Comm comm) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    MPI_Bcast(n, 1, MPI_INT, 0, comm);
    long len = 0;
    if (rank == 0)
        for (int i = 0; i < *n; i++) len += (long)strlen((*names)[i]) + 1;
    MPI_Bcast(&len, 1, MPI_LONG, 0, comm);
    char *buf = mir_malloc((size_t)len + 1), *w = buf;
    if (rank == 0)
        for (int i = 0; i < *n; i++) {
            size_t l = strlen((*names)[i]) + 1;
            memcpy(w, (*names)[i], l);
            w += l;
        }
    MPI_Bcast(buf, (int)len, MPI_CHAR, 0, comm);
    if (rank != 0) {
        *names = mir_malloc((size_t)(*n ? *n : 1) * sizeof **names);
        const char *s = buf;
        for (int i = 0; i < *n; i++) {
            (*names)[i] = mir_strdup(s);
            s += strlen(s) + 1;
        }
    }
    free(buf);
}

/* Wait for every rank without spinning: an Ibarrier tested every 50 ms. */
static void idle_barrier(MPI_Comm comm) {
    MPI_Request req;
    MPI_Ibarrier(comm, &req);
    int done = 0;
    while (!done) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

/* The selected programs sorted by name (indices into sel), for bsearch. */
typedef struct { const char *name; int idx; } name_idx;
static int cmp_name_idx(const void *a, const void *b) {
    return strcmp(((const name_idx *)a)->name, ((const name_idx *)b)->name);
}
static int find_program(const name_idx *ix, int n, const char *name) {
    name_idx key = {name, -1};
    const name_idx *hit = n > 0 ? bsearch(&key, ix, (size_t)n, sizeof *ix, cmp_name_idx) : NULL;
    return hit ? hit->idx : -1;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double quantile(double *v, int n, double q) {
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_dbl);
    int i = (int)(q * (n - 1) + 0.5);
    return v[i];
}

enum { PH_MEASURE, PH_SETUP, PH_MERGE, PH_N };
static const char *const phase_names[PH_N] = {"measure (compile + runs)", "setup", "merge"};

typedef struct { int prog, kind, vf, ifc; } job;

/* Job j of a program: 0 plain -O3, 1..n_cfg the grid, n_cfg + 1 plain -O3 again. */
static job job_of(int prog, int j, int n_cfg, const int *vf, const int *ifc) {
    if (j == 0) return (job){prog, MIR_VEC_O3, 0, 0};
    if (j == n_cfg + 1) return (job){prog, MIR_VEC_O3_AGAIN, 0, 0};
    return (job){prog, MIR_VEC_PRAGMA, vf[j - 1], ifc[j - 1]};
}

static int merge_labels(const char *dir, const char *note, size_t *n_rows, mir_error *err) {
    mir_vec_result *rows = NULL;
    size_t n = 0;
    int bad = 0;
    int rc = mir_vec_collect(dir, &rows, &n, &bad, err);
    if (!rc && n) {
        char path[4300];
        snprintf(path, sizeof path, "%s/labels.h5", dir);
        rc = mir_vec_write_labels(path, rows, n, note, err);
        snprintf(path, sizeof path, "%s/labels.csv", dir);
        if (!rc) rc = mir_vec_write_labels(path, rows, n, note, err);
    }
    if (n_rows) *n_rows = n;
    free(rows);
    return rc;
}

/* The study: the programs, the grid and what was measured before, the same on every rank. */
typedef struct {
    const mir_vec_options *v;
    MPI_Comm comm;
    int rank, size;
    double t0;
    char dir[4096], loops[4096];
    char **all;                 /* every program of the loops folder (n_all) */
    int n_all;
    const char **sel;           /* the selected programs (n_prog) */
    int n_prog;
    name_idx *ix;               /* sel sorted by name */
    int vf[MIR_VEC_N_VF * MIR_VEC_N_IF], ifc[MIR_VEC_N_VF * MIR_VEC_N_IF], n_cfg;
    int J;                      /* jobs per program: -O3, the grid, -O3 again */
    long n_jobs;
    char note[512];             /* the study in words (labels.h5 and summary.md) */
    const char *clang;
    uint8_t *done;              /* (n_jobs) measured before */
    long n_done0;
    mir_probe *probe;
} study;

static void study_free(study *S) {
    mir_probe_free(S->probe);
    free(S->done); free(S->ix); free(S->sel);
    mir_vec_free_names(S->all, S->n_all);
}

/* "VF {1,2,4} x IF {1,2}" of the masks into out (cap bytes). */
static void grid_text(int vf_mask, int if_mask, char *out, size_t cap) {
    char *w = out;
    for (int a = 0; a < MIR_VEC_N_VF; a++)
        if (vf_mask >> a & 1) w += snprintf(w, cap - (size_t)(w - out), "%s%d", w == out ? "VF {" : ",", 1 << a);
    w += snprintf(w, cap - (size_t)(w - out), "} x IF {");
    for (int b = 0, first = 1; b < MIR_VEC_N_IF; b++)
        if (if_mask >> b & 1) {
            w += snprintf(w, cap - (size_t)(w - out), "%s%d", first ? "" : ",", 1 << b);
            first = 0;
        }
    snprintf(w, cap - (size_t)(w - out), "}");
}

/* The programs (rank 0 lists them, every rank gets the names), the selection, the grid and the note. Collective. */
static int plan_study(study *S, mir_error *err) {
    const mir_vec_options *v = S->v;
    int rc = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (S->rank == 0) {
        mir_error e = {{0}};
        rc = mir_vec_list_programs(S->loops, &S->all, &S->n_all, &e);
        snprintf(msg, sizeof msg, "%s", e.msg);
    }
    if (rc) mir_fail(err, "%s", msg); /* rank 0 */
    if (mir_mpi_root_rc(S->comm, rc, err)) return -1;
    bcast_names(&S->all, &S->n_all, S->comm);
    mir_vec_select(S->all, S->n_all, v->subset, &S->sel, &S->n_prog);
    mir_vec_grid(v->vf_mask, v->if_mask, S->vf, S->ifc, &S->n_cfg);
    S->J = S->n_cfg + 2;
    S->n_jobs = (long)S->n_prog * S->J;
    char gridtxt[256], divtxt[64] = "";
    grid_text(v->vf_mask, v->if_mask, gridtxt, sizeof gridtxt);
    if (v->iter_divisor > 1) snprintf(divtxt, sizeof divtxt, ", ITER / %d (a test setting)", v->iter_divisor);
    snprintf(S->note, sizeof S->note, "%s, %d programs (%d per family%s), best of %d runs, cflags '-O3%s%s'%s, %d rank(s)",
             gridtxt, S->n_prog, v->subset, v->subset <= 0 ? ": all" : "", v->repeats, v->cflags ? " " : "",
             v->cflags ? v->cflags : "", divtxt, S->size);
    S->ix = mir_malloc((size_t)(S->n_prog ? S->n_prog : 1) * sizeof *S->ix);
    for (int q = 0; q < S->n_prog; q++) S->ix[q] = (name_idx){S->sel[q], q};
    if (S->n_prog > 1) qsort(S->ix, (size_t)S->n_prog, sizeof *S->ix, cmp_name_idx);
    return 0;
}

/* The setup that makes results comparable, one per study folder: setup.txt written, or checked against the one
 * there (rank 0). Collective. */
static int check_setup(study *S, mir_error *err) {
    const mir_vec_options *v = S->v;
    int rc = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (S->rank == 0) {
        char setup[1024], path[4300], *old = NULL;
        size_t bytes;
        snprintf(setup, sizeof setup, "compiler: %s\nflags: -O3%s%s\niter_divisor: %d\n", S->clang, v->cflags ? " " : "",
                 v->cflags ? v->cflags : "", v->iter_divisor);
        snprintf(path, sizeof path, "%s/setup.txt", S->dir);
        mir_error e = {{0}};
        if (mir_read_file(path, &old, &bytes, NULL) == 0) {
            if (strcmp(old, setup)) {
                snprintf(msg, sizeof msg, "%s: this folder was measured with another setup (%s); give another --out", path, old);
                for (char *c = msg; *c; c++) if (*c == '\n') *c = ' ';
                rc = -1;
            }
            free(old);
        } else if (write_text(path, setup, &e)) {
            snprintf(msg, sizeof msg, "%s", e.msg);
            rc = -1;
        }
    }
    if (rc) mir_fail(err, "%s", msg); /* rank 0 */
    if (mir_mpi_root_rc(S->comm, rc, err)) return -1;
    return 0;
}

/* What is measured already: rank 0 reads the journals and labels.h5, every rank gets S->done. Collective. */
static int find_done(study *S, mir_error *err) {
    S->done = mir_calloc((size_t)(S->n_jobs ? S->n_jobs : 1), 1);
    int rc = 0, n_bad_lines = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (S->rank == 0) {
        mir_vec_result *rows = NULL;
        size_t n = 0;
        mir_error e = {{0}};
        rc = mir_vec_collect(S->dir, &rows, &n, &n_bad_lines, &e);
        snprintf(msg, sizeof msg, "%s", e.msg);
        for (size_t i = 0; i < n && !rc; i++) {
            int p = find_program(S->ix, S->n_prog, rows[i].program);
            if (p < 0) continue;
            for (int j = 0; j < S->J; j++) {
                job jb = job_of(p, j, S->n_cfg, S->vf, S->ifc);
                if (jb.kind == rows[i].kind && jb.vf == rows[i].vf && jb.ifc == rows[i].ifc) S->done[(long)p * S->J + j] = 1;
            }
        }
        free(rows);
        if (n_bad_lines)
            mir_log(MIR_LOG_WARN, "%s: %d torn or foreign journal line(s) ignored (an interrupted write)", S->dir,
                    n_bad_lines);
    }
    if (rc) mir_fail(err, "%s", msg); /* rank 0 */
    if (mir_mpi_root_rc(S->comm, rc, err)) return -1;
    MPI_Bcast(S->done, (int)S->n_jobs, MPI_UINT8_T, 0, S->comm);
    for (long j = 0; j < S->n_jobs; j++) S->n_done0 += S->done[j];
    return 0;
}

/* This rank's bench (work/rankR) and journal (journal-rR.csv, opened for appending, a torn last line ended).
 * Collective: a failure anywhere fails every rank, and closes what this rank opened (*jfd = -1). */
static int open_bench(study *S, mir_vec_bench *b, int *jfd, mir_error *err) {
    const mir_vec_options *v = S->v;
    int hw = mir_probe_hw_available(S->probe), hw_all = 0;
    MPI_Allreduce(&hw, &hw_all, 1, MPI_INT, MPI_MIN, S->comm);
    char work[4300], jpath[4300];
    snprintf(work, sizeof work, "%s/work/rank%d", S->dir, S->rank);
    mir_error e = {{0}};
    mir_probe_begin(S->probe, PH_SETUP);
    int rc = mir_vec_bench_setup(b, work, S->loops, S->clang, v->cflags, hw_all, v->iter_divisor, v->timeout_s,
                                 v->repeats, &e);
    mir_probe_end(S->probe, PH_SETUP);
    b->rank = S->rank;
    snprintf(jpath, sizeof jpath, "%s/journal-r%d.csv", S->dir, S->rank);
    *jfd = rc ? -1 : open(jpath, O_RDWR | O_CREAT | O_APPEND, 0644);
    if (!rc && *jfd < 0) rc = mir_fail(&e, "%s: cannot open for appending: %s", jpath, strerror(errno));
    if (!rc) { /* a line torn by a kill: end it, so the next result starts on a line of its own */
        off_t end = lseek(*jfd, 0, SEEK_END);
        char last = '\n';
        if (end > 0 && (pread(*jfd, &last, 1, end - 1) != 1 || (last != '\n' && write(*jfd, "\n", 1) != 1)))
            rc = mir_fail(&e, "%s: cannot read or end its last line: %s", jpath, strerror(errno));
    }
    if (mir_mpi_agree(S->comm, rc, &e)) {
        if (*jfd >= 0) close(*jfd);
        *jfd = -1;
        mir_vec_bench_free(b);
        return mir_fail(err, "vectorize-label: %s", e.msg);
    }
    return 0;
}

/* This rank's programs: those with work left, dealt round-robin (mine, *n_mine); *my_jobs: their jobs left. */
static int *deal_programs(const study *S, int *n_mine, long *my_jobs) {
    int *mine = mir_malloc((size_t)(S->n_prog ? S->n_prog : 1) * sizeof *mine), k_left = 0;
    *n_mine = 0;
    *my_jobs = 0;
    for (int p = 0; p < S->n_prog; p++) {
        int left = 0;
        for (int j = 0; j < S->J; j++) left += !S->done[(long)p * S->J + j];
        if (!left) continue;
        if (k_left++ % S->size == S->rank) {
            mine[(*n_mine)++] = p;
            *my_jobs += left;
        }
    }
    return mine;
}

/* This rank's measuring: one job of program p after another, each appended to the journal (jfd) and synced; rank 0
 * merges the journals every 2 minutes. Stops at --max-jobs or --time-limit. *my_done, *n_fail: jobs measured, and
 * those that failed. 0, or -1 with e (a bench or journal failure). */
static int measure(study *S, mir_vec_bench *b, int jfd, long *my_done, long *n_fail, mir_error *e) {
    const mir_vec_options *v = S->v;
    int n_mine, rc = 0, stop = 0;
    long my_jobs;
    int *mine = deal_programs(S, &n_mine, &my_jobs);
    double last_merge = mir_wall_seconds(), t_start = mir_wall_seconds();
    const char *stop_why = "";
    char jpath[4300];
    snprintf(jpath, sizeof jpath, "%s/journal-r%d.csv", S->dir, S->rank);
    for (int q = 0; q < n_mine && !stop && !rc; q++) {
        int p = mine[q], jobs_here = 0;
        double tp = mir_wall_seconds();
        for (int j = 0; j < S->J && !rc; j++) {
            if (S->done[(long)p * S->J + j]) continue;
            if (v->max_jobs > 0 && *my_done >= v->max_jobs) { stop = 1; stop_why = "--max-jobs reached"; break; }
            if (v->time_limit_min > 0 && mir_wall_seconds() - S->t0 > 60.0 * v->time_limit_min) {
                stop = 1;
                stop_why = "--time-limit reached";
                break;
            }
            job jb = job_of(p, j, S->n_cfg, S->vf, S->ifc);
            mir_vec_result r;
            char why[400];
            mir_probe_begin(S->probe, PH_MEASURE);
            rc = mir_vec_bench_run(b, S->sel[p], jb.kind, jb.vf, jb.ifc, &r, why, sizeof why, e);
            mir_probe_end(S->probe, PH_MEASURE);
            if (rc) break;
            if (r.status != MIR_VEC_OK) {
                (*n_fail)++;
                mir_log(MIR_LOG_WARN, "%s/%s, VF %d IF %d: %s: %s", S->loops, S->sel[p], jb.vf, jb.ifc,
                        mir_vec_status_name[r.status], why);
            }
            char line[1100];
            int len = mir_vec_result_format(&r, line, sizeof line);
            if (len < 0 || write(jfd, line, (size_t)len) != len || fdatasync(jfd)) {
                rc = mir_fail(e, "%s: cannot append: %s", jpath, strerror(errno));
                break;
            }
            (*my_done)++;
            jobs_here++;
            if (S->rank == 0 && mir_wall_seconds() - last_merge > 120) {
                mir_probe_begin(S->probe, PH_MERGE);
                if (merge_labels(S->dir, S->note, NULL, e)) mir_log(MIR_LOG_WARN, "merge: %s", e->msg);
                mir_probe_end(S->probe, PH_MERGE);
                last_merge = mir_wall_seconds();
            }
        }
        if (!v->base->quiet && jobs_here) {
            double el = mir_wall_seconds() - t_start;
            mir_log(MIR_LOG_INFO, "%s: %d jobs in %.1f s; this rank: %d/%d programs, %ld/%ld jobs, %.1f min, about %.0f min left",
                    S->sel[p], jobs_here, mir_wall_seconds() - tp, q + 1, n_mine, *my_done, my_jobs, el / 60,
                    *my_done ? el / *my_done * (double)(my_jobs - *my_done) / 60 : 0.0);
        }
    }
    if (stop && !v->base->quiet) mir_log(MIR_LOG_INFO, "stopping: %s after %ld jobs; a rerun continues", stop_why, *my_done);
    free(mine);
    return rc;
}

/* What the study's summary reports (rank 0). */
typedef struct {
    long measured, failed;          /* jobs measured now and those that failed, over the ranks */
    size_t n_rows;                  /* rows in labels.h5 */
    int st[MIR_VEC_N_STATUS];       /* the selected programs' rows by status */
    int n_pf, n_mismatch;           /* pragmas clang could not apply; configs it applied otherwise */
    double sp50, sp90, ag50, ag90;  /* spread within jobs; the two -O3 measurements: median, 90th percentile */
    int n_sp, n_ag;
} label_summary;

/* The summary's figures from every row in the folder (the selected programs' only). */
static void summarise(const study *S, label_summary *L) {
    mir_vec_result *rows = NULL;
    size_t n = 0;
    mir_error e = {{0}};
    mir_vec_collect(S->dir, &rows, &n, NULL, &e);
    const size_t np = (size_t)(S->n_prog ? S->n_prog : 1);
    double *spread = mir_malloc((n ? n : 1) * sizeof *spread), *again = mir_malloc(np * sizeof *again);
    double *o3a = mir_malloc(np * sizeof *o3a), *o3b = mir_malloc(np * sizeof *o3b);
    for (int q = 0; q < S->n_prog; q++) o3a[q] = o3b[q] = NAN;
    for (size_t i = 0; i < n; i++) {
        int p = find_program(S->ix, S->n_prog, rows[i].program);
        if (p < 0) continue;
        L->st[rows[i].status]++;
        if (rows[i].status != MIR_VEC_OK) continue;
        if (rows[i].best_s > 0 && rows[i].repeats > 1) spread[L->n_sp++] = (rows[i].max_s - rows[i].best_s) / rows[i].best_s;
        if (rows[i].kind == MIR_VEC_PRAGMA) {
            L->n_pf += rows[i].pass_failed;
            L->n_mismatch += rows[i].applied_vf != rows[i].vf || rows[i].applied_if != rows[i].ifc;
        }
        if (rows[i].kind == MIR_VEC_O3) o3a[p] = rows[i].best_s;
        if (rows[i].kind == MIR_VEC_O3_AGAIN) o3b[p] = rows[i].best_s;
    }
    for (int q = 0; q < S->n_prog; q++)
        if (!isnan(o3a[q]) && !isnan(o3b[q])) again[L->n_ag++] = fabs(o3a[q] - o3b[q]) / (o3a[q] < o3b[q] ? o3a[q] : o3b[q]);
    L->sp50 = quantile(spread, L->n_sp, 0.5);
    L->sp90 = quantile(spread, L->n_sp, 0.9);
    L->ag50 = quantile(again, L->n_ag, 0.5);
    L->ag90 = quantile(again, L->n_ag, 0.9);
    free(o3a); free(o3b); free(spread); free(again); free(rows);
}

/* summary.md but its cost section (rank 0; nothing when it cannot be written, as before). */
static void write_summary(const study *S, const label_summary *L) {
    mir_error e = {{0}};
    FILE *f = mir_report_open(S->dir, "summary.md", "w", &e);
    if (!f) return;
    char machine[512];
    mir_machine_string(machine, sizeof machine);
    mir_md_title(f, "Loop vectorization: the measured labels", S->v->base->command_line);
    fprintf(f, "Programs: `%s`. Study: %s. Compiler: `%s`. Machine: %s.\n\n", S->loops, S->note, S->clang, machine);
    mir_md_table_head(f, 1, "| | jobs |");
    fprintf(f, "| in the study (%d programs x (%d configs + -O3 twice)) | %ld |\n| measured now | %ld |\n"
               "| measured before (skipped) | %ld |\n| rows in labels.h5 (all studies in this folder) | %zu |\n",
            S->n_prog, S->n_cfg, S->n_jobs, L->measured, S->n_done0, L->n_rows);
    for (int s = 0; s < MIR_VEC_N_STATUS; s++) fprintf(f, "| status %s | %d |\n", mir_vec_status_name[s], L->st[s]);
    fprintf(f, "\nThe study is %s.\n\n",
            S->n_done0 + L->measured >= S->n_jobs ? "complete" : "**not complete** (a rerun continues it)");
    fprintf(f, "## Noise\n\nWithin a job (best of %d runs back to back): spread (worst - best) / best, median %.2f %%, "
               "90th percentile %.2f %% over %d jobs. Between the two plain -O3 measurements of a program (before and "
               "after its grid, minutes apart): |difference| / smaller, median %.2f %%, 90th percentile %.2f %% over "
               "%d programs. Differences between configs smaller than these are not measurable here.\n\n",
            S->v->repeats, 100 * L->sp50, 100 * L->sp90, L->n_sp, 100 * L->ag50, 100 * L->ag90, L->n_ag);
    fprintf(f, "Pragmas clang reported it could not apply (-Wpass-failed): %d; pragma configs where clang's remark "
               "names other factors than asked (e.g. VF 1 reported as not vectorized, or a loop it chose not to "
               "interleave): %d.\n", L->n_pf, L->n_mismatch);
    fclose(f);
}

/* After the measuring: rank 0 merges the journals into labels.h5 and labels.csv (e: the merge's error) and writes
 * summary.md, every rank the cost section. Collective; 0, or -1 with msg when the merge failed. */
static int finish_study(study *S, label_summary *L, mir_error *e, char *msg, size_t cap) {
    int rc = 0;
    if (S->rank == 0) {
        mir_probe_begin(S->probe, PH_MERGE);
        rc = merge_labels(S->dir, S->note, &L->n_rows, e);
        mir_probe_end(S->probe, PH_MERGE);
        if (rc) snprintf(msg, cap, "%s", e->msg);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, S->comm);
    if (rc) {
        MPI_Bcast(msg, (int)cap, MPI_CHAR, 0, S->comm);
        return rc;
    }
    if (S->rank == 0) {
        summarise(S, L);
        write_summary(S, L);
    }
    static const char *const items[PH_N] = {"job", "rank", "merge"};
    double n_items[PH_N] = {(double)L->measured, (double)S->size, 0};
    mir_report_cost(S->dir, S->probe, S->comm, phase_names, PH_N, items, n_items,
                    "Child processes (compiles and runs) are timed separately in labels.h5 (compile_s, wall_s, cpu_s). "
                    "Total wall time %.1f s on %d rank(s).\n", mir_wall_seconds() - S->t0, S->size);
    if (S->rank == 0 && !S->v->base->quiet)
        mir_log(MIR_LOG_INFO, "vectorize-label: %ld jobs measured now (%ld failed), %ld before; %zu rows in %s/labels.h5; "
                "%.1f min", L->measured, L->failed, S->n_done0, L->n_rows, S->dir, (mir_wall_seconds() - S->t0) / 60);
    return 0;
}

int mir_analyze_vectorize_label(const mir_vec_options *v, MPI_Comm comm, mir_error *err) {
    const mir_analyze_options *o = v->base;
    study S = {.v = v, .comm = comm, .t0 = mir_wall_seconds()};
    MPI_Comm_rank(comm, &S.rank);
    MPI_Comm_size(comm, &S.size);
    if (mir_task_dir(o, "vectorize-label", comm, S.dir, sizeof S.dir, err)) return -1;
    if (mir_vec_loops_dir(v, comm, S.loops, sizeof S.loops, err)) return -1;
    mir_compile_options co;
    mir_compile_options_default(&co);
    S.clang = v->clang ? v->clang : co.clang;
    if (plan_study(&S, err) || check_setup(&S, err) || find_done(&S, err)) {
        study_free(&S);
        return -1;
    }
    /* probe (says once when hardware counters are unavailable) and the bench */
    S.probe = mir_probe_create("mir_vectorize_label", phase_names, PH_N, NULL, 0, S.rank != 0 || o->quiet);
    mir_vec_bench b;
    int jfd;
    if (open_bench(&S, &b, &jfd, err)) {
        study_free(&S);
        return -1;
    }
    if (S.rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "vectorize-label: %s; %ld jobs, %ld already measured, %ld to do; programs in %s, results in %s",
                S.note, S.n_jobs, S.n_done0, S.n_jobs - S.n_done0, S.loops, S.dir);
    long my_done = 0, n_fail = 0;
    mir_error e = {{0}};
    int rc = measure(&S, &b, jfd, &my_done, &n_fail, &e);
    close(jfd);
    mir_vec_bench_free(&b);
    if (rc) mir_log(MIR_LOG_ERROR, "%s", e.msg);
    idle_barrier(comm);
    mir_error failed = e; /* the lowest failing rank's message; e goes on to the merge */
    int bad = mir_mpi_agree(comm, rc, &failed) != 0;
    long tot[2] = {my_done, n_fail};
    MPI_Allreduce(MPI_IN_PLACE, tot, 2, MPI_LONG, MPI_SUM, comm);
    label_summary L = {.measured = tot[0], .failed = tot[1]};
    char msg[MIR_ERROR_MAX] = "";
    rc = finish_study(&S, &L, &e, msg, sizeof msg);
    study_free(&S);
    if (rc) return mir_fail(err, "%s", msg);
    if (bad) return mir_fail(err, "vectorize-label: %s; what was measured is in %s", failed.msg, S.dir);
    return 0;
}

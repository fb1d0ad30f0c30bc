/* devmap_cl.c: the device-mapping kernels compiled from their OpenCL sources (see devmap_cl.h). */
#include "devmap_cl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "compile.h"
#include "mpi_util.h"

/* The -D flags the benchmarks' host programs pass when they build a kernel, where the source does not
 * compile without them (each was checked: without it clang stops at an undeclared identifier or an #error).
 * Keyed by benchmark-name prefix; every matching entry applies. NPB's CLASS comes from the dataset. The
 * values are the host programs' defaults: NPB's work-group size 64 (CG, FT), the NVIDIA SDK FDTD3d's radius
 * and block limits, 16 x 16 tiles (NVIDIA MatrixMul, Rodinia hotspot, lud, nw), the SDK MersenneTwister's
 * generator count, SHOC S3D's grid points and Stencil2D's 8 x 256 work-group. */
static const struct {
    const char *prefix;
    const char *defs[3];
} cl_defs[] = {
    {"npb-3.3-CG-", {"-DLSIZE=64"}},
    {"npb-3.3-FT-", {"-DLSIZE=64"}},
    {"nvidia-4.2-FDTD3d-", {"-DRADIUS=4", "-DMAXWORKX=32", "-DMAXWORKY=16"}},
    {"nvidia-4.2-MatrixMul-", {"-DBLOCK_SIZE=16"}},
    {"nvidia-4.2-MersenneTwister-", {"-DMT_RNG_COUNT=4096"}},
    {"rodinia-3.1-hotspot-", {"-DBLOCK_SIZE=16"}},
    {"rodinia-3.1-lud-", {"-DBLOCK_SIZE=16"}},
    {"rodinia-3.1-nw-", {"-DBLOCK_SIZE=16"}},
    {"shoc-1.1.5-S3D-", {"-DN_GP=1024"}},
    {"shoc-1.1.5-Stencil2D-", {"-DLROWS=8", "-DLCOLS=256"}},
};

static int starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

void mir_devmap_cl_rule_of(const char *benchmark, const char *dataset, mir_devmap_cl_rule *r) {
    memset(r, 0, sizeof *r);
    snprintf(r->cand[r->n_cand++], sizeof r->cand[0], "%s_%s.cl", benchmark, dataset);
    /* The later archive's npb-3.3-SP-*.cl choose their work-item layout with *_DIM macros and call
     * exact_solution undeclared (an error in OpenCL C); the npb-3.3npb-SP-*.cl of the original archive declare
     * it and have one layout. */
    static const char sp[] = "npb-3.3-SP-";
    if (starts_with(benchmark, sp))
        snprintf(r->cand[r->n_cand++], sizeof r->cand[0], "npb-3.3npb-SP-%s.cl", benchmark + strlen(sp));
    snprintf(r->cand[r->n_cand++], sizeof r->cand[0], "%s.cl", benchmark);
    if (starts_with(benchmark, "npb-"))
        snprintf(r->def[r->n_def++], sizeof r->def[0], "-DCLASS='%s'", dataset);
    for (size_t t = 0; t < sizeof cl_defs / sizeof *cl_defs; t++) {
        if (!starts_with(benchmark, cl_defs[t].prefix)) continue;
        for (int i = 0; i < 3 && cl_defs[t].defs[i] && r->n_def < MIR_DEVMAP_CL_MAX_DEFS; i++)
            snprintf(r->def[r->n_def++], sizeof r->def[0], "%s", cl_defs[t].defs[i]);
    }
}

void mir_devmap_cl_cache_name(const char *source, const mir_devmap_cl_rule *r, char *out, size_t cap) {
    size_t len = strlen(source), used = 0;
    if (len > 3 && !strcmp(source + len - 3, ".cl")) len -= 3;
    used = (size_t)snprintf(out, cap, "%.*s", (int)len, source);
    for (int i = 0; i < r->n_def && used + 2 < cap; i++) {
        /* "-DCLASS='B'" -> ".CLASS-B": file-name characters only */
        out[used++] = '.';
        for (const char *p = r->def[i] + 2; *p && used + 1 < cap; p++) {
            if (*p == '=') out[used++] = '-';
            else if (*p == '_' || *p == '-' || *p == '.' || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= 'a' && *p <= 'z'))
                out[used++] = *p;
        }
        out[used] = '\0';
    }
    if (used < cap) snprintf(out + used, cap - used, ".bc");
}

/* A cached kernel is reused when it starts with a bitcode magic (raw 'BC' 0xC0DE, or the wrapper's): a file
 * cut short by a killed run is renamed into place only when complete, so the magic is enough. */
static int is_bitcode(const char *path) {
    unsigned char m[4];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(m, 1, 4, f);
    fclose(f);
    return n == 4 && ((m[0] == 'B' && m[1] == 'C' && m[2] == 0xC0 && m[3] == 0xDE) ||
                      (m[0] == 0xDE && m[1] == 0xC0 && m[2] == 0x17 && m[3] == 0x0B));
}

/* The sources folder into cl->src_dir (unpacked from task_devmap_kernels.zip when needed) and the cache
 * folder made on rank 0; the outcome on every rank. */
static int prepare_dirs(const mir_analyze_options *o, MPI_Comm comm, mir_devmap_cl *cl, mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (mir_kernels_dir(o, "devmap", "task_devmap_kernels", "kernels_cl", comm, cl->src_dir, sizeof cl->src_dir, err))
        return -1;
    snprintf(cl->cache_dir, sizeof cl->cache_dir, "%s/data/devmap/kernels_cl_ir", o->out_dir);
    mir_error e = {{0}};
    int rc = rank == 0 ? mir_mkdir_p(cl->cache_dir, &e) : 0;
    if (mir_mpi_root_rc(comm, rc, &e)) return mir_fail(err, "%s", e.msg);
    return 0;
}

/* Clang's first diagnostic line out of mir_compile_source's message ("PATH: clang failed (exit 1): LINE | LINE
 * ..."): the first line that says "error:" (an "In file included from" line comes before it), with the
 * sources folder dropped from the paths; the whole message when it is not clang's (a timeout, no clang). */
static void first_diagnostic(const char *msg, const char *src_dir, char *out, size_t cap) {
    const char *p = strstr(msg, "clang failed (");
    p = p ? strstr(p, "): ") : NULL;
    const char *line = p ? p + 3 : msg, *pick = line;
    for (const char *s = line; p && s && *s;) {
        const char *end = strstr(s, " | ");
        const char *e = strstr(s, "error:");
        if (e && (!end || e < end)) { pick = s; break; }
        s = end ? end + 3 : NULL;
    }
    const char *end = p ? strstr(pick, " | ") : NULL;
    size_t len = end ? (size_t)(end - pick) : strlen(pick);
    char prefix[4200];
    size_t plen = (size_t)snprintf(prefix, sizeof prefix, "%s/", src_dir);
    size_t used = 0;
    for (size_t i = 0; i < len && used + 1 < cap;) {
        if (plen < sizeof prefix && i + plen <= len && !strncmp(pick + i, prefix, plen)) { i += plen; continue; }
        out[used++] = pick[i++];
    }
    out[used] = '\0';
}

/* Compile source (in src_dir) with the flags of r into path, through a temporary file renamed into place. */
static int compile_one(const mir_devmap_cl *cl, const char *source, const mir_devmap_cl_rule *r, const char *path,
                       mir_error *err) {
    char src[4700];
    snprintf(src, sizeof src, "%s/%s", cl->src_dir, source);
    const char *flags[2 + MIR_DEVMAP_CL_MAX_DEFS];
    int nf = 0;
    flags[nf++] = "-I";
    flags[nf++] = cl->src_dir;
    for (int i = 0; i < r->n_def; i++) flags[nf++] = r->def[i];
    mir_compile_options cc;
    mir_compile_options_default(&cc);
    cc.opt_level = "1";
    cc.user_flags = flags;
    cc.n_user_flags = nf;
    char *data = NULL;
    size_t bytes = 0;
    if (mir_compile_source(src, MIR_SRC_OPENCL, &cc, &data, &bytes, err)) return -1;
    mir_atomic_file out;
    int rc = mir_atomic_open(&out, path, "wb", err);
    if (!rc && fwrite(data, 1, bytes, out.f) != bytes) {
        rc = mir_fail(err, "%s: write error: %s", out.tmp, strerror(errno));
        mir_atomic_abort(&out);
    } else if (!rc) {
        rc = mir_atomic_commit(&out, err);
    }
    free(data);
    return rc;
}

enum { CL_MSG = 320 }; /* bytes of one kernel's failure message in the gathered buffer */

int mir_devmap_cl_kernels(mir_devmap *d, const mir_analyze_options *o, MPI_Comm comm, mir_devmap_cl *cl,
                          mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    memset(cl, 0, sizeof *cl);
    double t0 = mir_wall_seconds();
    if (prepare_dirs(o, comm, cl, err)) return -1;

    /* rows to (source, flags) kernels, in order of first use; every rank does the same from the same files */
    mir_devmap_cl_rule *rule = mir_calloc((size_t)d->n, sizeof *rule);
    int *src_of = mir_malloc((size_t)d->n * sizeof *src_of); /* row's candidate index, -1 none */
    for (int j = 0; j < d->n; j++) {
        mir_devmap_cl_rule *r = &rule[j];
        mir_devmap_cl_rule_of(d->benchmark[j], d->dataset[j], r);
        src_of[j] = -1;
        char full[4700], name[1024], path[5200];
        for (int c = 0; c < r->n_cand && src_of[j] < 0; c++) {
            snprintf(full, sizeof full, "%s/%s", cl->src_dir, r->cand[c]);
            if (access(full, R_OK) == 0) src_of[j] = c;
        }
        if (src_of[j] >= 0) mir_devmap_cl_cache_name(r->cand[src_of[j]], r, name, sizeof name);
        else snprintf(name, sizeof name, "%s.no-source", d->benchmark[j]); /* no file: fails as unreadable */
        snprintf(path, sizeof path, "%s/%s", cl->cache_dir, name);
        int k = mir_devmap_set_kernel(d, j, path);
        if (k == cl->n_kernels) {
            cl->n_kernels++;
            cl->source = mir_realloc(cl->source, (size_t)cl->n_kernels * sizeof *cl->source);
            cl->flags = mir_realloc(cl->flags, (size_t)cl->n_kernels * sizeof *cl->flags);
            cl->source[k] = mir_strdup(src_of[j] >= 0 ? r->cand[src_of[j]] : "");
            char fl[512] = "";
            for (int i = 0; i < r->n_def; i++)
                snprintf(fl + strlen(fl), sizeof fl - strlen(fl), "%s%s", i ? " " : "", r->def[i]);
            cl->flags[k] = mir_strdup(fl);
        }
    }
    const int K = cl->n_kernels;
    int *first_row = mir_malloc((size_t)K * sizeof *first_row);
    for (int j = d->n - 1; j >= 0; j--) first_row[d->kernel[j]] = j;

    /* compile: kernel k on rank k mod size; the states and messages summed over the ranks (zeros elsewhere) */
    cl->state = mir_calloc((size_t)K, 1);
    unsigned char *msg = mir_calloc((size_t)K, CL_MSG);
    double next_log = t0 + 30;
    for (int k = rank; k < K; k += size) {
        const mir_devmap_cl_rule *r = &rule[first_row[k]];
        char *m = (char *)msg + (size_t)k * CL_MSG;
        if (!cl->source[k][0]) {
            size_t used = (size_t)snprintf(m, CL_MSG, "no source: none of");
            for (int c = 0; c < r->n_cand && used < CL_MSG; c++)
                used += (size_t)snprintf(m + used, CL_MSG - used, "%s %s", c ? "," : "", r->cand[c]);
            continue;
        }
        if (is_bitcode(d->kernel_file[k])) { cl->state[k] = MIR_CL_CACHED; continue; }
        mir_error e = {{0}};
        if (compile_one(cl, cl->source[k], r, d->kernel_file[k], &e)) first_diagnostic(e.msg, cl->src_dir, m, CL_MSG);
        else cl->state[k] = MIR_CL_COMPILED;
        if (rank == 0 && !o->quiet && mir_wall_seconds() > next_log) {
            mir_log(MIR_LOG_INFO, "devmap: compiling the OpenCL sources: kernel %d of %d, %.0f s", k + 1, K,
                    mir_wall_seconds() - t0);
            next_log = mir_wall_seconds() + 30;
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, cl->state, K, MPI_UINT8_T, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, msg, K * CL_MSG, MPI_UNSIGNED_CHAR, MPI_SUM, comm);
    cl->error = mir_calloc((size_t)K, sizeof *cl->error);
    for (int k = 0; k < K; k++) {
        if (cl->state[k] == MIR_CL_COMPILED) cl->n_compiled++;
        else if (cl->state[k] == MIR_CL_CACHED) cl->n_cached++;
        else {
            cl->n_failed++;
            msg[(size_t)k * CL_MSG + CL_MSG - 1] = 0;
            cl->error[k] = mir_strdup((char *)msg + (size_t)k * CL_MSG);
        }
    }
    for (int j = 0; j < d->n; j++) cl->rows_failed += cl->state[d->kernel[j]] == MIR_CL_FAILED;
    cl->seconds = mir_wall_seconds() - t0;
    if (rank == 0 && !o->quiet) {
        mir_log(MIR_LOG_INFO, "devmap: kernels from the OpenCL sources in %s: %d (source, flags) for %d rows: %d compiled, "
                "%d reused from %s, %d failed (%d rows) in %.1f s", cl->src_dir, K, d->n, cl->n_compiled, cl->n_cached,
                cl->cache_dir, cl->n_failed, cl->rows_failed, cl->seconds);
        for (int k = 0; k < K; k++)
            if (cl->error[k])
                mir_log(MIR_LOG_WARN, "devmap: %s%s%s does not compile, its rows get zero features: %s",
                        cl->source[k][0] ? cl->source[k] : d->benchmark[first_row[k]], cl->flags[k][0] ? " " : "",
                        cl->flags[k], cl->error[k]);
    }
    free(msg);
    free(first_row);
    free(src_of);
    free(rule);
    return 0;
}

void mir_devmap_cl_free(mir_devmap_cl *cl) {
    for (int k = 0; k < cl->n_kernels; k++) {
        if (cl->source) free(cl->source[k]);
        if (cl->flags) free(cl->flags[k]);
        if (cl->error) free(cl->error[k]);
    }
    free(cl->source);
    free(cl->flags);
    free(cl->state);
    free(cl->error);
    memset(cl, 0, sizeof *cl);
}

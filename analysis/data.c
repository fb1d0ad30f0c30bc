/* data.c: reading the device-mapping and thread-coarsening data sets (see data.h). */
#include "data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvread.h"

const char *const mir_devmap_platform_name[MIR_DEVMAP_N_PLATFORMS] = {"amd", "nvidia"};
const char *const mir_coarsen_gpu_name[MIR_COARSEN_N_GPUS] = {"Cypress", "Tahiti", "Fermi", "Kepler"};
const int mir_coarsen_factor[MIR_COARSEN_N_FACTORS] = {1, 2, 4, 8, 16, 32};

void mir_devmap_candidates(const char *benchmark, const char *dataset, char cand[3][512]) {
    snprintf(cand[0], 512, "%s-%s.ll", benchmark, dataset);
    snprintf(cand[1], 512, "%s.ll", benchmark);
    snprintf(cand[2], 512, "%s_%s.ll", benchmark, dataset);
}

void mir_devmap_suite(const char *benchmark, char *out, size_t cap) {
    const char *p = benchmark, *end = NULL;
    for (;;) {
        const char *dash = strchr(p, '-');
        if (isdigit((unsigned char)*p)) { end = dash ? dash : p + strlen(p); break; }
        if (!dash) break;
        p = dash + 1;
    }
    if (!end) { /* no version part: the first part */
        const char *dash = strchr(benchmark, '-');
        end = dash ? dash : benchmark + strlen(benchmark);
    }
    size_t len = (size_t)(end - benchmark);
    if (len >= cap) len = cap - 1;
    memcpy(out, benchmark, len);
    out[len] = '\0';
}

static int parse_double(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    while (*end == ' ') end++;
    return end != s && *end == '\0' && errno == 0 ? 0 : -1;
}

static int find_cols(const mir_csv *c, const char *path, const char *const *names, int n, int *cols, mir_error *err) {
    for (int i = 0; i < n; i++) {
        cols[i] = mir_csv_col(c, names[i]);
        if (cols[i] < 0) return mir_fail(err, "%s: no column '%s'", path, names[i]);
    }
    return 0;
}

static int str_index(char ***list, int *n, const char *s) {
    for (int i = 0; i < *n; i++)
        if (!strcmp((*list)[i], s)) return i;
    *list = mir_realloc(*list, (size_t)(*n + 1) * sizeof **list);
    (*list)[*n] = mir_strdup(s);
    return (*n)++;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the columns of cgo17-PLATFORM.csv that are read */
static const char *const devmap_cols[7] = {"benchmark", "dataset", "transfer", "wgsize", "oracle", "runtime_cpu",
                                           "runtime_gpu"};

/* The per-row arrays of d for n rows, zeroed. */
static void alloc_rows(mir_devmap *d, int n) {
    d->n = n;
    d->benchmark = mir_calloc((size_t)n, sizeof *d->benchmark);
    d->dataset = mir_calloc((size_t)n, sizeof *d->dataset);
    d->kernel = mir_calloc((size_t)n, sizeof *d->kernel);
    d->group = mir_calloc((size_t)n, sizeof *d->group);
    d->suite = mir_calloc((size_t)n, sizeof *d->suite);
    d->csv_row = mir_calloc((size_t)n, sizeof *d->csv_row);
    for (int p = 0; p < MIR_DEVMAP_N_PLATFORMS; p++) {
        d->transfer[p] = mir_calloc((size_t)n, sizeof(double));
        d->wgsize[p] = mir_calloc((size_t)n, sizeof(double));
        d->runtime_cpu[p] = mir_calloc((size_t)n, sizeof(double));
        d->runtime_gpu[p] = mir_calloc((size_t)n, sizeof(double));
        d->label[p] = mir_calloc((size_t)n, sizeof(int));
    }
}

/* The kernel file of row j (the data set's CSV row, csv_path's): the first of its candidate names found in
 * kernels_dir. */
static int find_kernel(mir_devmap *d, int j, const char *kernels_dir, const char *csv_path, int row, mir_error *err) {
    const char *bench = d->benchmark[j], *ds = d->dataset[j];
    char cand[3][512], full[1200];
    mir_devmap_candidates(bench, ds, cand);
    int found = -1;
    for (int c = 0; c < 3 && found < 0; c++) {
        snprintf(full, sizeof full, "%s/%s", kernels_dir, cand[c]);
        if (access(full, R_OK) == 0) found = c;
    }
    if (found < 0)
        return mir_fail(err, "%s row %d (%s, %s): none of %s, %s, %s in %s", csv_path, row + 1, bench, ds, cand[0],
                        cand[1], cand[2], kernels_dir);
    mir_devmap_set_kernel(d, j, full);
    return 0;
}

/* Row j's figures on platform p from CSV row row (cols: the columns of devmap_cols): transfer, wgsize, the two
 * runtimes, and the label, which must agree with the oracle column. */
static int read_numbers(mir_devmap *d, int p, int j, const mir_csv *csv, int row, const int *cols, const char *path,
                        mir_error *err) {
    double v[4];
    for (int q = 0; q < 4; q++) {
        const char *cell = mir_csv_cell(csv, row, cols[q == 0 ? 2 : q == 1 ? 3 : q + 3]);
        if (parse_double(cell, &v[q]))
            return mir_fail(err, "%s row %d: '%s' is not a number (column %s)", path, row + 1, cell,
                            devmap_cols[q == 0 ? 2 : q == 1 ? 3 : q + 3]);
    }
    d->transfer[p][j] = v[0];
    d->wgsize[p][j] = v[1];
    d->runtime_cpu[p][j] = v[2];
    d->runtime_gpu[p][j] = v[3];
    if (!(v[2] > 0) || !(v[3] > 0)) return mir_fail(err, "%s row %d: runtimes must be positive", path, row + 1);
    d->label[p][j] = v[3] < v[2] ? MIR_GPU : MIR_CPU;
    const char *oracle = mir_csv_cell(csv, row, cols[4]);
    if (strcmp(oracle, d->label[p][j] == MIR_GPU ? "GPU" : "CPU"))
        return mir_fail(err, "%s row %d: oracle '%s' disagrees with the runtimes", path, row + 1, oracle);
    return 0;
}

int mir_devmap_load(mir_devmap *d, const char *data_dir, const char *kernels_dir, int limit, mir_error *err) {
    memset(d, 0, sizeof *d);
    mir_csv csv[MIR_DEVMAP_N_PLATFORMS] = {{0}};
    char path[MIR_DEVMAP_N_PLATFORMS][1024];
    int cols[MIR_DEVMAP_N_PLATFORMS][7];
    int rc = -1;
    for (int p = 0; p < MIR_DEVMAP_N_PLATFORMS; p++) {
        snprintf(path[p], sizeof path[p], "%s/devmap/cgo17-%s.csv", data_dir, mir_devmap_platform_name[p]);
        if (mir_csv_read(path[p], &csv[p], err)) goto done;
        if (find_cols(&csv[p], path[p], devmap_cols, 7, cols[p], err)) goto done;
    }
    int total = csv[0].n_rows;
    if (csv[1].n_rows != total) {
        mir_fail(err, "%s has %d rows, %s has %d: the two platforms must list the same rows", path[0], total, path[1],
                 csv[1].n_rows);
        goto done;
    }
    if (total == 0) { mir_fail(err, "%s: no rows", path[0]); goto done; }
    int n = limit > 0 && limit < total ? limit : total;
    alloc_rows(d, n);
    char **groups = NULL, **suites = NULL;
    int n_groups = 0, n_suites = 0;
    char *suite_of_row_buf = mir_calloc((size_t)n, 256);
    for (int j = 0; j < n; j++) {
        int row = (int)((int64_t)j * total / n);
        d->csv_row[j] = row;
        const char *bench = mir_csv_cell(&csv[0], row, cols[0][0]), *ds = mir_csv_cell(&csv[0], row, cols[0][1]);
        if (strcmp(bench, mir_csv_cell(&csv[1], row, cols[1][0])) || strcmp(ds, mir_csv_cell(&csv[1], row, cols[1][1]))) {
            mir_fail(err, "row %d: %s says %s/%s, %s says %s/%s: the two platforms must list the same rows", row + 1,
                     path[0], bench, ds, path[1], mir_csv_cell(&csv[1], row, cols[1][0]),
                     mir_csv_cell(&csv[1], row, cols[1][1]));
            goto done_rows;
        }
        d->benchmark[j] = mir_strdup(bench);
        d->dataset[j] = mir_strdup(ds);
        d->kernel[j] = -1;
        if (kernels_dir && find_kernel(d, j, kernels_dir, path[0], row, err)) goto done_rows;
        d->group[j] = str_index(&groups, &n_groups, bench);
        mir_devmap_suite(bench, suite_of_row_buf + (size_t)j * 256, 256);
        str_index(&suites, &n_suites, suite_of_row_buf + (size_t)j * 256);
        for (int p = 0; p < MIR_DEVMAP_N_PLATFORMS; p++)
            if (read_numbers(d, p, j, &csv[p], row, cols[p], path[p], err)) goto done_rows;
    }
    /* suites sorted by name; rows point into the sorted list */
    qsort(suites, (size_t)n_suites, sizeof *suites, cmp_str);
    d->suite_name = suites;
    d->n_suites = n_suites;
    suites = NULL;
    for (int j = 0; j < n; j++)
        for (int s = 0; s < d->n_suites; s++)
            if (!strcmp(d->suite_name[s], suite_of_row_buf + (size_t)j * 256)) d->suite[j] = s;
    d->n_groups = n_groups;
    rc = 0;
done_rows:
    for (int i = 0; i < n_groups; i++) free(groups[i]);
    free(groups);
    if (suites) {
        for (int i = 0; i < n_suites; i++) free(suites[i]);
        free(suites);
    }
    free(suite_of_row_buf);
done:
    for (int p = 0; p < MIR_DEVMAP_N_PLATFORMS; p++) mir_csv_free(&csv[p]);
    if (rc) mir_devmap_free(d);
    return rc;
}

int mir_devmap_set_kernel(mir_devmap *d, int j, const char *path) {
    return d->kernel[j] = str_index(&d->kernel_file, &d->n_kernels, path);
}

void mir_devmap_free(mir_devmap *d) {
    for (int j = 0; j < d->n; j++) {
        if (d->benchmark) free(d->benchmark[j]);
        if (d->dataset) free(d->dataset[j]);
    }
    for (int k = 0; k < d->n_kernels; k++) free(d->kernel_file[k]);
    for (int s = 0; s < d->n_suites; s++) free(d->suite_name[s]);
    free(d->benchmark); free(d->dataset); free(d->kernel); free(d->group); free(d->suite); free(d->csv_row);
    free(d->kernel_file); free(d->suite_name);
    for (int p = 0; p < MIR_DEVMAP_N_PLATFORMS; p++) {
        free(d->transfer[p]); free(d->wgsize[p]); free(d->runtime_cpu[p]); free(d->runtime_gpu[p]); free(d->label[p]);
    }
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------------------------------------ */

static int factor_index(double cf) {
    for (int f = 0; f < MIR_COARSEN_N_FACTORS; f++)
        if (cf == mir_coarsen_factor[f]) return f;
    return -1;
}

int mir_coarsen_load(mir_coarsen *c, const char *data_dir, const char *kernels_dir, mir_error *err) {
    memset(c, 0, sizeof *c);
    char path[1024], opath[1024];
    snprintf(path, sizeof path, "%s/thread_coarsening/pact-2014-runtimes.csv", data_dir);
    snprintf(opath, sizeof opath, "%s/thread_coarsening/pact-2014-oracles.csv", data_dir);
    mir_csv rt = {0}, orc = {0};
    int rc = -1;
    if (mir_csv_read(path, &rt, err)) return -1;
    static const char *const names[] = {"kernel", "cf", "runtime_Cypress", "runtime_Tahiti", "runtime_Fermi", "runtime_Kepler"};
    int cols[6];
    if (find_cols(&rt, path, names, 6, cols, err)) goto done;
    /* kernels, sorted */
    for (int i = 0; i < rt.n_rows; i++) str_index(&c->kernel, &c->n, mir_csv_cell(&rt, i, cols[0]));
    qsort(c->kernel, (size_t)c->n, sizeof *c->kernel, cmp_str);
    c->kernel_file = mir_calloc((size_t)c->n, sizeof *c->kernel_file);
    for (int g = 0; g < MIR_COARSEN_N_GPUS; g++) {
        c->runtime[g] = mir_malloc((size_t)c->n * MIR_COARSEN_N_FACTORS * sizeof(double));
        for (int i = 0; i < c->n * MIR_COARSEN_N_FACTORS; i++) c->runtime[g][i] = NAN;
    }
    for (int k = 0; k < c->n; k++) {
        char full[1200];
        snprintf(full, sizeof full, "%s/%s.ll", kernels_dir, c->kernel[k]);
        if (access(full, R_OK)) { mir_fail(err, "%s: kernel %s: no file %s", path, c->kernel[k], full); goto done; }
        c->kernel_file[k] = mir_strdup(full);
    }
    for (int i = 0; i < rt.n_rows; i++) {
        int k = 0;
        while (strcmp(c->kernel[k], mir_csv_cell(&rt, i, cols[0]))) k++;
        double cf;
        int f = parse_double(mir_csv_cell(&rt, i, cols[1]), &cf) ? -1 : factor_index(cf);
        if (f < 0) { mir_fail(err, "%s row %d: coarsening factor '%s' not one of 1..32", path, i + 1, mir_csv_cell(&rt, i, cols[1])); goto done; }
        for (int g = 0; g < MIR_COARSEN_N_GPUS; g++) {
            const char *cell = mir_csv_cell(&rt, i, cols[2 + g]);
            double v;
            if (!*cell) continue; /* not measured */
            if (parse_double(cell, &v) || !(v > 0)) { mir_fail(err, "%s row %d: bad runtime '%s'", path, i + 1, cell); goto done; }
            c->runtime[g][k * MIR_COARSEN_N_FACTORS + f] = v;
        }
    }
    for (int k = 0; k < c->n; k++)
        for (int g = 0; g < MIR_COARSEN_N_GPUS; g++)
            if (isnan(c->runtime[g][k * MIR_COARSEN_N_FACTORS])) {
                mir_fail(err, "%s: kernel %s has no runtime at factor 1 on %s", path, c->kernel[k], mir_coarsen_gpu_name[g]);
                goto done;
            }
    /* the oracle file must agree with the lowest runtime */
    if (mir_csv_read(opath, &orc, err)) goto done;
    for (int i = 0; i < orc.n_rows; i++) {
        int kc = mir_csv_col(&orc, "kernel");
        if (kc < 0) { mir_fail(err, "%s: no column 'kernel'", opath); goto done; }
        const char *kn = mir_csv_cell(&orc, i, kc);
        int k = -1;
        for (int j = 0; j < c->n; j++)
            if (!strcmp(c->kernel[j], kn)) k = j;
        if (k < 0) { mir_fail(err, "%s: kernel %s not in %s", opath, kn, path); goto done; }
        for (int g = 0; g < MIR_COARSEN_N_GPUS; g++) {
            char col[64];
            snprintf(col, sizeof col, "cf_%s", mir_coarsen_gpu_name[g]);
            int cc = mir_csv_col(&orc, col);
            double cf;
            if (cc < 0 || parse_double(mir_csv_cell(&orc, i, cc), &cf)) { mir_fail(err, "%s: bad or missing %s", opath, col); goto done; }
            int best = -1;
            for (int f = 0; f < MIR_COARSEN_N_FACTORS; f++) {
                double v = c->runtime[g][k * MIR_COARSEN_N_FACTORS + f];
                if (!isnan(v) && (best < 0 || v < c->runtime[g][k * MIR_COARSEN_N_FACTORS + best])) best = f;
            }
            if (factor_index(cf) != best) {
                mir_fail(err, "%s: %s on %s: oracle factor %g, but the lowest runtime is at %d", opath, kn,
                         mir_coarsen_gpu_name[g], cf, mir_coarsen_factor[best]);
                goto done;
            }
        }
    }
    rc = 0;
done:
    mir_csv_free(&rt);
    mir_csv_free(&orc);
    if (rc) mir_coarsen_free(c);
    return rc;
}

void mir_coarsen_free(mir_coarsen *c) {
    for (int k = 0; k < c->n; k++) {
        free(c->kernel[k]);
        if (c->kernel_file) free(c->kernel_file[k]);
    }
    free(c->kernel);
    free(c->kernel_file);
    for (int g = 0; g < MIR_COARSEN_N_GPUS; g++) free(c->runtime[g]);
    memset(c, 0, sizeof *c);
}

double mir_devmap_speedup(const mir_devmap *d, int plat, int j, int device) {
    double stat = plat == MIR_DEVMAP_AMD ? d->runtime_cpu[plat][j] : d->runtime_gpu[plat][j];
    return stat / (device == MIR_GPU ? d->runtime_gpu[plat][j] : d->runtime_cpu[plat][j]);
}

double mir_coarsen_speedup(const mir_coarsen *c, int g, int k, int f) {
    return c->runtime[g][(size_t)k * MIR_COARSEN_N_FACTORS] / c->runtime[g][(size_t)k * MIR_COARSEN_N_FACTORS + f];
}

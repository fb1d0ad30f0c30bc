/*
 * vectorize_eval.c: the label table of the loop-vectorization study and its evaluation arithmetic (see
 * vectorize.h). Pure C: no MPI, LLVM or HDF5.
 *
 * A config is valid for a program when it compiled, ran, and left the same digest of the program's output
 * memory as plain -O3 did. Times are the best of the runs of the program's own timed loop.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vectorize.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Index of s in the sorted array v (n), or -1. */
static int find_sorted(char *const *v, int n, const char *s) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(v[mid], s);
        if (!c) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* Sorted distinct copies of the n strings (fresh array of fresh strings). */
static char **distinct(char *const *s, int n, int *n_out) {
    char **v = mir_malloc((size_t)(n ? n : 1) * sizeof *v);
    if (n > 0) {
        memcpy(v, s, (size_t)n * sizeof *v);
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!m || strcmp(v[m - 1], v[i])) v[m++] = v[i];
    for (int i = 0; i < m; i++) v[i] = mir_strdup(v[i]);
    *n_out = m;
    return v;
}

/* The configs of the table: those of the full grid that any pragma row measured, in grid order. */
static void table_configs(const mir_vec_result *rows, size_t n_rows, mir_vec_table *t) {
    int vf[MIR_VEC_N_VF * MIR_VEC_N_IF], ifc[MIR_VEC_N_VF * MIR_VEC_N_IF], n_all;
    mir_vec_grid(0x7f, 0x1f, vf, ifc, &n_all);
    uint8_t seen[MIR_VEC_N_VF * MIR_VEC_N_IF] = {0};
    for (size_t i = 0; i < n_rows; i++)
        if (rows[i].kind == MIR_VEC_PRAGMA)
            for (int c = 0; c < n_all; c++)
                if (rows[i].vf == vf[c] && rows[i].ifc == ifc[c]) seen[c] = 1;
    t->vf = mir_malloc(sizeof vf);
    t->ifc = mir_malloc(sizeof ifc);
    for (int c = 0; c < n_all; c++)
        if (seen[c]) {
            t->vf[t->n_cfg] = vf[c];
            t->ifc[t->n_cfg] = ifc[c];
            t->n_cfg++;
        }
}

/* What the rows measured, per program (sorted by name) and config of the table. */
typedef struct {
    char **prog;
    int n_prog;
    double *o3, *o3b;        /* (n_prog) the -O3 time and the second one (NaN: no valid row) */
    double *tt, *sp;         /* (n_prog, C) best time and spread (worst - best) / best (NaN: none or failed) */
    uint8_t *present;        /* (n_prog, C) the config has a row, failed or not */
    uint32_t *dig, *dig_o3;  /* (n_prog, C) and (n_prog): output digests */
    int *ovf, *oif;          /* (n_prog) the VF and IF clang reported at plain -O3 */
} measured;

static void measured_free(measured *m) {
    for (int p = 0; p < m->n_prog; p++) free(m->prog[p]);
    free(m->prog); free(m->o3); free(m->o3b); free(m->tt); free(m->sp); free(m->dig); free(m->dig_o3);
    free(m->ovf); free(m->oif); free(m->present);
}

/* The rows sorted into m by program and config; failed config rows counted in t->n_failed. */
static void collect(mir_vec_result *rows, size_t n_rows, mir_vec_table *t, measured *m) {
    char **names = mir_malloc((n_rows ? n_rows : 1) * sizeof *names);
    for (size_t i = 0; i < n_rows; i++) names[i] = rows[i].program;
    m->prog = distinct(names, (int)n_rows, &m->n_prog);
    free(names);
    const int C = t->n_cfg;
    const size_t np = (size_t)(m->n_prog ? m->n_prog : 1), nc = (size_t)(C ? C : 1);
    m->o3 = mir_malloc(np * sizeof *m->o3);
    m->o3b = mir_malloc(np * sizeof *m->o3b);
    m->tt = mir_malloc(np * nc * sizeof *m->tt);
    m->sp = mir_malloc(np * nc * sizeof *m->sp);
    m->present = mir_calloc(np * nc, 1);
    m->dig = mir_calloc(np * nc, sizeof *m->dig);
    m->dig_o3 = mir_calloc(np, sizeof *m->dig_o3);
    m->ovf = mir_calloc(np, sizeof *m->ovf);
    m->oif = mir_calloc(np, sizeof *m->oif);
    for (int p = 0; p < m->n_prog; p++) m->o3[p] = m->o3b[p] = NAN;
    for (int i = 0; i < m->n_prog * C; i++) m->tt[i] = m->sp[i] = NAN;
    for (size_t i = 0; i < n_rows; i++) {
        const mir_vec_result *r = &rows[i];
        int p = find_sorted(m->prog, m->n_prog, r->program);
        int ok = r->status == MIR_VEC_OK && isfinite(r->best_s) && r->best_s > 0;
        if (r->kind == MIR_VEC_O3) {
            if (ok) {
                m->o3[p] = r->best_s;
                m->dig_o3[p] = r->digest;
                m->ovf[p] = r->applied_vf;
                m->oif[p] = r->applied_if;
            }
        } else if (r->kind == MIR_VEC_O3_AGAIN) {
            if (ok) m->o3b[p] = r->best_s;
        } else {
            int c = mir_vec_config_index(t, r->vf, r->ifc);
            if (c < 0) continue;
            m->present[(size_t)p * C + c] = 1;
            if (!ok) {
                t->n_failed++;
                continue;
            }
            m->tt[(size_t)p * C + c] = r->best_s;
            m->sp[(size_t)p * C + c] = r->best_s > 0 ? (r->max_s - r->best_s) / r->best_s : NAN;
            m->dig[(size_t)p * C + c] = r->digest;
        }
    }
}

/* The usable programs into keep (their number returned): every config has a row, the -O3 time is valid and one
 * config at least is valid; a config whose digest differs from -O3's is made invalid. The others are counted in t. */
static int usable(measured *m, mir_vec_table *t, int *keep) {
    const int C = t->n_cfg;
    int n = 0;
    for (int p = 0; p < m->n_prog; p++) {
        int any = 0, complete = 1;
        for (int c = 0; c < C; c++) complete &= m->present[(size_t)p * C + c];
        if (!complete) {
            t->n_incomplete++;
            t->n_dropped++;
            continue;
        }
        for (int c = 0; c < C; c++) {
            double *x = &m->tt[(size_t)p * C + c];
            if (isnan(*x)) continue;
            if (!isnan(m->o3[p]) && m->dig[(size_t)p * C + c] != m->dig_o3[p]) {
                t->n_wrong_digest++;
                *x = NAN;
                m->sp[(size_t)p * C + c] = NAN;
                continue;
            }
            any = 1;
        }
        if (!isnan(m->o3[p]) && any) keep[n++] = p;
        else t->n_dropped++;
    }
    return n;
}

/* The table's programs: keep[0..n) of m (their names move into t), their times, best config, family and base
 * family. */
static void fill_programs(measured *m, const int *keep, int n, mir_vec_table *t) {
    const int C = t->n_cfg;
    t->n = n;
    t->program = mir_malloc((size_t)n * sizeof *t->program);
    t->family = mir_malloc((size_t)n * sizeof *t->family);
    t->t_o3 = mir_malloc((size_t)n * sizeof *t->t_o3);
    t->t_o3_again = mir_malloc((size_t)n * sizeof *t->t_o3_again);
    t->t = mir_malloc((size_t)n * C * sizeof *t->t);
    t->spread = mir_malloc((size_t)n * C * sizeof *t->spread);
    t->best = mir_malloc((size_t)n * sizeof *t->best);
    t->o3_vf = mir_malloc((size_t)n * sizeof *t->o3_vf);
    t->o3_if = mir_malloc((size_t)n * sizeof *t->o3_if);
    char **base = mir_malloc((size_t)n * sizeof *base);
    for (int i = 0; i < n; i++) {
        int p = keep[i];
        t->program[i] = m->prog[p];
        m->prog[p] = NULL;
        char f[64];
        mir_vec_family(t->program[i], f, sizeof f);
        t->family[i] = mir_strdup(f);
        mir_vec_base_family(t->program[i], f, sizeof f);
        base[i] = mir_strdup(f);
        t->t_o3[i] = m->o3[p];
        t->t_o3_again[i] = m->o3b[p];
        t->o3_vf[i] = m->ovf[p];
        t->o3_if[i] = m->oif[p];
        memcpy(t->t + (size_t)i * C, m->tt + (size_t)p * C, (size_t)C * sizeof *t->t);
        memcpy(t->spread + (size_t)i * C, m->sp + (size_t)p * C, (size_t)C * sizeof *t->spread);
        int b = -1;
        for (int c = 0; c < C; c++)
            if (!isnan(t->t[(size_t)i * C + c]) && (b < 0 || t->t[(size_t)i * C + c] < t->t[(size_t)i * C + b])) b = c;
        t->best[i] = b;
    }
    t->family_name = distinct(t->family, n, &t->n_families);
    t->base_name = distinct(base, n, &t->n_bases);
    t->family_id = mir_malloc((size_t)n * sizeof *t->family_id);
    t->base_id = mir_malloc((size_t)n * sizeof *t->base_id);
    for (int i = 0; i < n; i++) {
        t->family_id[i] = find_sorted(t->family_name, t->n_families, t->family[i]);
        t->base_id[i] = find_sorted(t->base_name, t->n_bases, base[i]);
        free(base[i]);
    }
    free(base);
}

int mir_vec_table_build(const mir_vec_result *rows_in, size_t n_rows, mir_vec_table *t, mir_error *err) {
    memset(t, 0, sizeof *t);
    mir_vec_result *rows = mir_malloc((n_rows ? n_rows : 1) * sizeof *rows);
    if (n_rows) memcpy(rows, rows_in, n_rows * sizeof *rows);
    n_rows = mir_vec_dedupe(rows, n_rows);
    table_configs(rows, n_rows, t);
    measured m;
    collect(rows, n_rows, t, &m);
    int *keep = mir_malloc((size_t)(m.n_prog ? m.n_prog : 1) * sizeof *keep);
    int n = usable(&m, t, keep);
    if (n) fill_programs(&m, keep, n, t);
    measured_free(&m);
    free(keep);
    free(rows);
    if (n == 0) {
        mir_vec_table_free(t);
        return mir_fail(err, "labels: no program has a -O3 time and a valid measured config (%zu result rows)", n_rows);
    }
    return 0;
}

void mir_vec_table_free(mir_vec_table *t) {
    for (int i = 0; i < t->n; i++) {
        if (t->program) free(t->program[i]);
        if (t->family) free(t->family[i]);
    }
    for (int i = 0; i < t->n_families; i++) free(t->family_name[i]);
    for (int i = 0; i < t->n_bases; i++) free(t->base_name[i]);
    free(t->program); free(t->family); free(t->family_name); free(t->base_name); free(t->family_id); free(t->base_id);
    free(t->vf); free(t->ifc); free(t->t_o3); free(t->t_o3_again); free(t->t); free(t->spread); free(t->best);
    free(t->o3_vf); free(t->o3_if);
    memset(t, 0, sizeof *t);
}

int mir_vec_config_index(const mir_vec_table *t, int vf, int ifc) {
    for (int c = 0; c < t->n_cfg; c++)
        if (t->vf[c] == vf && t->ifc[c] == ifc) return c;
    return -1;
}

int mir_vec_valid(const mir_vec_table *t, int p, int c) {
    return c >= 0 && c < t->n_cfg && !isnan(t->t[(size_t)p * t->n_cfg + c]);
}

double mir_vec_speedup(const mir_vec_table *t, int p, int c) {
    return mir_vec_valid(t, p, c) ? t->t_o3[p] / t->t[(size_t)p * t->n_cfg + c] : NAN;
}

/* Time of choice c for program p; an invalid choice costs the program's slowest valid time. */
static double time_of(const mir_vec_table *t, int p, int c) {
    if (mir_vec_valid(t, p, c)) return t->t[(size_t)p * t->n_cfg + c];
    double worst = 0;
    for (int k = 0; k < t->n_cfg; k++)
        if (mir_vec_valid(t, p, k) && t->t[(size_t)p * t->n_cfg + k] > worst) worst = t->t[(size_t)p * t->n_cfg + k];
    return worst;
}

void mir_vec_stats_of(const mir_vec_table *t, const int *rows, const int *pred, int m, mir_vec_stats *s) {
    double lsp = 0, sum = 0, lfr = 0;
    int hit = 0, near = 0;
    for (int i = 0; i < m; i++) {
        int p = rows[i];
        double tp = time_of(t, p, pred[i]), tb = t->t[(size_t)p * t->n_cfg + t->best[p]];
        lsp += log(t->t_o3[p] / tp);
        sum += t->t_o3[p] / tp;
        lfr += log(tb / tp);
        hit += pred[i] == t->best[p];
        near += tp <= 1.05 * tb;
    }
    s->geomean = m ? exp(lsp / m) : NAN;
    s->mean = m ? sum / m : NAN;
    s->fraction = m ? exp(lfr / m) : NAN;
    s->accuracy = m ? 100.0 * hit / m : NAN;
    s->within5 = m ? 100.0 * near / m : NAN;
}

int mir_vec_best_fixed(const mir_vec_table *t, const int *rows, int m) {
    int best = 0;
    double best_l = -INFINITY;
    for (int c = 0; c < t->n_cfg; c++) {
        double l = 0;
        for (int i = 0; i < m; i++) l += log(t->t_o3[rows[i]] / time_of(t, rows[i], c));
        if (l > best_l + 1e-12) {
            best_l = l;
            best = c;
        }
    }
    return best;
}

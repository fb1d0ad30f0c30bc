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

int mir_vec_table_build(const mir_vec_result *rows_in, size_t n_rows, mir_vec_table *t, mir_error *err) {
    memset(t, 0, sizeof *t);
    mir_vec_result *rows = mir_malloc((n_rows ? n_rows : 1) * sizeof *rows);
    if (n_rows) memcpy(rows, rows_in, n_rows * sizeof *rows);
    n_rows = mir_vec_dedupe(rows, n_rows);
    /* configs */
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
    /* programs */
    char **names = mir_malloc((n_rows ? n_rows : 1) * sizeof *names);
    for (size_t i = 0; i < n_rows; i++) names[i] = rows[i].program;
    int n_prog;
    char **prog = distinct(names, (int)n_rows, &n_prog);
    free(names);
    const int C = t->n_cfg;
    const size_t np = (size_t)(n_prog ? n_prog : 1), nc = (size_t)(C ? C : 1);
    double *o3 = mir_malloc(np * sizeof *o3), *o3b = mir_malloc(np * sizeof *o3b);
    double *tt = mir_malloc(np * nc * sizeof *tt), *sp = mir_malloc(np * nc * sizeof *sp);
    uint8_t *present = mir_calloc(np * nc, 1);
    uint32_t *dig = mir_calloc(np * nc, sizeof *dig), *dig_o3 = mir_calloc(np, sizeof *dig_o3);
    int *ovf = mir_calloc(np, sizeof *ovf), *oif = mir_calloc(np, sizeof *oif);
    for (int p = 0; p < n_prog; p++) o3[p] = o3b[p] = NAN;
    for (int i = 0; i < n_prog * C; i++) tt[i] = sp[i] = NAN;
    for (size_t i = 0; i < n_rows; i++) {
        const mir_vec_result *r = &rows[i];
        int p = find_sorted(prog, n_prog, r->program);
        int ok = r->status == MIR_VEC_OK && isfinite(r->best_s) && r->best_s > 0;
        if (r->kind == MIR_VEC_O3) {
            if (ok) {
                o3[p] = r->best_s;
                dig_o3[p] = r->digest;
                ovf[p] = r->applied_vf;
                oif[p] = r->applied_if;
            }
        } else if (r->kind == MIR_VEC_O3_AGAIN) {
            if (ok) o3b[p] = r->best_s;
        } else {
            int c = mir_vec_config_index(t, r->vf, r->ifc);
            if (c < 0) continue;
            present[(size_t)p * C + c] = 1;
            if (!ok) {
                t->n_failed++;
                continue;
            }
            tt[(size_t)p * C + c] = r->best_s;
            sp[(size_t)p * C + c] = r->best_s > 0 ? (r->max_s - r->best_s) / r->best_s : NAN;
            dig[(size_t)p * C + c] = r->digest;
        }
    }
    /* keep the usable programs */
    int n = 0;
    int *keep = mir_malloc(np * sizeof *keep);
    for (int p = 0; p < n_prog; p++) {
        int any = 0, complete = 1;
        for (int c = 0; c < C; c++) complete &= present[(size_t)p * C + c];
        if (!complete) {
            t->n_incomplete++;
            t->n_dropped++;
            continue;
        }
        for (int c = 0; c < C; c++) {
            double *x = &tt[(size_t)p * C + c];
            if (isnan(*x)) continue;
            if (!isnan(o3[p]) && dig[(size_t)p * C + c] != dig_o3[p]) {
                t->n_wrong_digest++;
                *x = NAN;
                sp[(size_t)p * C + c] = NAN;
                continue;
            }
            any = 1;
        }
        if (!isnan(o3[p]) && any) keep[n++] = p;
        else t->n_dropped++;
    }
    if (n == 0) {
        for (int p = 0; p < n_prog; p++) free(prog[p]);
        free(prog); free(o3); free(o3b); free(tt); free(sp); free(dig); free(dig_o3); free(ovf); free(oif); free(keep);
        free(present); free(rows);
        mir_vec_table_free(t);
        return mir_fail(err, "labels: no program has a -O3 time and a valid measured config (%zu result rows)", n_rows);
    }
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
    char **fam = mir_malloc((size_t)n * sizeof *fam), **base = mir_malloc((size_t)n * sizeof *base);
    for (int i = 0; i < n; i++) {
        int p = keep[i];
        t->program[i] = prog[p];
        prog[p] = NULL;
        char f[64];
        mir_vec_family(t->program[i], f, sizeof f);
        t->family[i] = mir_strdup(f);
        fam[i] = t->family[i];
        mir_vec_base_family(t->program[i], f, sizeof f);
        base[i] = mir_strdup(f);
        t->t_o3[i] = o3[p];
        t->t_o3_again[i] = o3b[p];
        t->o3_vf[i] = ovf[p];
        t->o3_if[i] = oif[p];
        memcpy(t->t + (size_t)i * C, tt + (size_t)p * C, (size_t)C * sizeof *t->t);
        memcpy(t->spread + (size_t)i * C, sp + (size_t)p * C, (size_t)C * sizeof *t->spread);
        int b = -1;
        for (int c = 0; c < C; c++)
            if (!isnan(t->t[(size_t)i * C + c]) && (b < 0 || t->t[(size_t)i * C + c] < t->t[(size_t)i * C + b])) b = c;
        t->best[i] = b;
    }
    t->family_name = distinct(fam, n, &t->n_families);
    t->base_name = distinct(base, n, &t->n_bases);
    t->family_id = mir_malloc((size_t)n * sizeof *t->family_id);
    t->base_id = mir_malloc((size_t)n * sizeof *t->base_id);
    for (int i = 0; i < n; i++) {
        t->family_id[i] = find_sorted(t->family_name, t->n_families, fam[i]);
        t->base_id[i] = find_sorted(t->base_name, t->n_bases, base[i]);
        free(base[i]);
    }
    free(fam); free(base);
    for (int p = 0; p < n_prog; p++) free(prog[p]);
    free(prog); free(o3); free(o3b); free(tt); free(sp); free(dig); free(dig_o3); free(ovf); free(oif); free(keep);
    free(present); free(rows);
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

/*
 * eval.c: the held-out evaluation (see eval.h).
 */
#include "eval.h"

#include <stdlib.h>

#include "datastream.h"
#include "trainer_impl.h"

typedef struct scored {
    float s, y;
} scored;
static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* Area under the ROC curve by the rank-sum formula (ties get the mean rank). */
static double auc(scored *v, int64_t n) {
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    double pos = 0, neg = 0, ranksum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && v[j].s == v[i].s) j++;
        double r = 0.5 * (double)(i + 1 + j);
        for (int64_t k = i; k < j; k++)
            if (v[k].y > 0.5f) ranksum += r;
        i = j;
    }
    for (int64_t i = 0; i < n; i++) {
        if (v[i].y > 0.5f) pos += 1;
        else neg += 1;
    }
    if (pos == 0 || neg == 0) return 0.5;
    return (ranksum - pos * (pos + 1) / 2) / (pos * neg);
}

int mir_evaluate(trainer *t, eval_result *er, mir_error *err) {
    const int m = t->st.micro_batch, V = t->cfg.vocab_size;
    int64_t n = t->n_eval;
    if (t->o->eval_modules > 0 && n > t->o->eval_modules) n = t->o->eval_modules;
    int64_t G = (n + m - 1) / m;
    double sums[11] = {0}; /* mlm hits, mlm n, node hits, node n, match hits, match n, loss sum, micro count, stat sum,
                              contrastive hits, contrastive anchors */
    int64_t *tcount = mir_calloc((size_t)V, sizeof *tcount);
    scored *sc = NULL;
    size_t nsc = 0, csc = 0;
    mir_batch_options bo;
    mir_batch_options_default(&bo);
    bo.train = 0;
    const int D = t->grid.n_groups;
    MPI_Comm across = t->grid.across;
    /* rounds of D micro-batches, one per data-parallel group: every rank takes part in every round's agreement
     * on the reading, also a group without a micro-batch in the last round (G need not be a multiple of D) */
    for (int64_t round = 0; round < (G + D - 1) / D; round++) {
        int64_t k = round * D + t->grid.group_id;
        int mm = k < G ? (int)((k + 1) * m <= n ? m : n - k * m) : 0;
        mir_rng rng;
        mir_rng_seed(&rng, t->st.seed ^ 0xE7A1ULL, (uint64_t)k);
        if (mir_mpi_agree(t->comm, mm ? mir_load_micro(t, t->eval_ids + k * m, mm, &rng, &bo, err) : 0, err)) {
            free(tcount);
            free(sc);
            return -1;
        }
        if (!mm) continue;
        mir_losses l;
        mir_model_forward_f32(&t->model, &t->batch, &l);
        sums[0] += l.mlm_acc * l.n_mlm;
        sums[1] += l.n_mlm;
        sums[2] += l.node_acc * l.n_node;
        sums[3] += l.n_node;
        sums[4] += l.match_acc * l.n_match;
        sums[5] += l.n_match;
        sums[6] += l.total;
        sums[7] += 1;
        sums[8] += l.stat;
        sums[9] += l.contrast_acc * l.n_contrast;
        sums[10] += l.n_contrast;
        for (int i = 0; i < t->batch.B * t->batch.T; i++)
            if (t->batch.tok_target[i] >= 0) tcount[t->batch.tok_target[i]]++;
        if (t->cfg.statements) /* per masked statement, each of its distinct pieces once (mlm_acc's hit) */
            for (int i = 0; i < t->batch.B * t->batch.T; i++) {
                const int32_t *tg = t->batch.stmt_target;
                const int32_t lo = t->batch.stmt_tgt_off[i], hi = t->batch.stmt_tgt_off[i + 1];
                for (int32_t j = lo; j < hi; j++) {
                    int seen = 0;
                    for (int32_t k = lo; k < j && !seen; k++) seen = tg[k] == tg[j];
                    if (!seen) tcount[tg[j]]++;
                }
            }
        int np;
        const float *s = mir_model_last_edge_scores_f32(&t->model, &np);
        MIR_GROW(sc, csc, nsc + (size_t)np + 1);
        for (int i = 0; i < np; i++) sc[nsc++] = (scored){s[i], t->batch.pair_label[i]};
    }
    /* every rank of a group computed the same; sum over the groups */
    MPI_Allreduce(MPI_IN_PLACE, sums, 11, MPI_DOUBLE, MPI_SUM, across);
    MPI_Allreduce(MPI_IN_PLACE, tcount, V, MPI_INT64_T, MPI_SUM, across);
    /* edge scores to every rank for the AUC */
    size_t bytes;
    scored *all = mir_mpi_gather_bytes(across, sc, nsc * sizeof *sc, MIR_MPI_ALL, NULL, &bytes);
    int64_t best = 0, total = 0;
    for (int32_t i = 0; i < V; i++) {
        total += tcount[i];
        if (tcount[i] > best) best = tcount[i];
    }
    if (t->cfg.statements) total = (int64_t)sums[1]; /* masked statements: best / total is the accuracy of always
                                                         predicting the piece found in most of them */
    er->mlm_acc = sums[1] ? sums[0] / sums[1] : 0;
    er->mlm_baseline = total ? (double)best / (double)total : 0;
    er->node_acc = sums[3] ? sums[2] / sums[3] : 0;
    er->match_acc = sums[5] ? sums[4] / sums[5] : 0;
    er->loss = sums[7] ? sums[6] / sums[7] : 0;
    er->stat_mse = sums[7] ? sums[8] / sums[7] : 0;
    er->contrast_acc = sums[10] ? sums[9] / sums[10] : 0;
    er->edge_auc = auc(all, (int64_t)(bytes / sizeof *all));
    free(all);
    free(sc);
    free(tcount);
    return 0;
}

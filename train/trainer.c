/*
 * trainer.c: data-parallel pre-training (see trainer.h for the scheme): configuration files, signals, the
 * model's set-up (configuration, layout, parameters), checkpoints and the training loop. The data (units,
 * held-out split, stream, micro-batches) are datastream.c's, the held-out evaluation eval.c's, the
 * learning-rate schedule and AdamW optim.c's; the state they share is trainer_impl.h's.
 */
#include "trainer.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datastream.h"
#include "eval.h"
#include "optim.h"
#include "trainer_impl.h"
#include "wordpiece.h"

void mir_train_options_default(mir_train_options *o) {
    memset(o, 0, sizeof *o);
    o->config = NULL; /* "small" for a new model; a resumed one keeps its own */
    o->steps = 1000;
    o->global_batch = 16;
    o->micro_batch = 4;
    o->lr = 1e-3;
    o->lr_min = 1e-4;
    o->weight_decay = 0.01;
    o->clip = 1.0;
    o->warmup = 50;
    o->seed = 1234;
    o->checkpoint_every = 200;
    o->block = 64;
    o->eval_every = 0;
    o->eval_modules = 256;
    o->max_graph_nodes = 200000;
    o->progress_interval_s = 10.0;
}

/* ------------------------------------------------------------------------------------------------ */
/* configuration files: "key = value" lines, '#' comments; keys as in mir_config                      */

int mir_config_parse(const char *spec, mir_config *c, mir_error *err) {
    int32_t V = c->vocab_size;
    if (mir_config_preset(c, spec, V) == 0) return 0;
    FILE *f = fopen(spec, "r");
    if (!f) return mir_fail(err, "--config %s: not a preset (tiny, small, base) and not a readable file", spec);
    mir_config_preset(c, "small", V);
    char line[256];
    int ln = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        ln++;
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char key[64];
        long val;
        if (sscanf(line, " %63[a-z_] = %ld", key, &val) != 2) {
            char *s = line;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
            if (*s) rc = mir_fail(err, "%s:%d: expected \"key = integer\"", spec, ln);
            continue;
        }
        int32_t *field = !strcmp(key, "max_seq")          ? &c->max_seq
                         : !strcmp(key, "d_model")        ? &c->d_model
                         : !strcmp(key, "n_heads")        ? &c->n_heads
                         : !strcmp(key, "n_layers")       ? &c->n_layers
                         : !strcmp(key, "d_ff")           ? &c->d_ff
                         : !strcmp(key, "n_graph_layers") ? &c->n_graph_layers
                         : !strcmp(key, "max_nodes")      ? &c->max_nodes
                         : !strcmp(key, "stats")          ? &c->stats
                         : !strcmp(key, "contrastive")    ? &c->contrastive
                         : !strcmp(key, "statements")     ? &c->statements
                                                          : NULL;
        if (!field) rc = mir_fail(err, "%s:%d: unknown key %s", spec, ln, key);
        else *field = (int32_t)val;
    }
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) { g_stop = sig; }

/* The checkpoint holds full tensors whatever the layout: group 0 gathers them on world rank 0. */
static int save(trainer *t, mir_error *err) {
    int rc = 0;
    float *full[3] = {NULL, NULL, NULL};
    const float *local[3] = {t->model.params, t->m1, t->m2};
    if (t->grid.group_id == 0)
        for (int i = 0; i < 3; i++) {
            if (t->rank == 0) full[i] = mir_malloc(t->dist.n_full * sizeof(float));
            mir_dist_gather(&t->dist, local[i], full[i]);
        }
    if (t->rank == 0)
        rc = mir_checkpoint_save(t->o->output, &t->cfg, t->corpus.vocab, t->corpus.vocab_count, full[0], full[1],
                                 full[2], &t->st, t->o->corpus, err);
    for (int i = 0; i < 3; i++) free(full[i]);
    rc = mir_mpi_root_rc(t->comm, rc, err);
    return rc;
}

/* ---- setup ---- */

/* The configuration and the optimiser's settings: a resumed checkpoint's (--steps may lengthen the run), or
 * --config's and the options'; checked, against the corpus too, and against the memory of all ranks. */
static int setup_config(trainer *t, int have, mir_error *err) {
    const mir_train_options *o = t->o;
    mir_train_state st = {0};
    if (have) {
        if (mir_checkpoint_read_config(o->output, &t->cfg, &st, err)) return -1;
        if (t->cfg.vocab_size != t->corpus.vocab_size)
            return mir_fail(err, "%s: vocabulary of %d tokens, but corpus %s has %d: not the corpus it was trained on",
                            o->output, t->cfg.vocab_size, o->corpus, t->corpus.vocab_size);
        mir_config want = {.vocab_size = t->corpus.vocab_size};
        if (o->config && mir_config_parse(o->config, &want, err) == 0 && memcmp(&want, &t->cfg, sizeof want) != 0)
            return mir_fail(err, "%s: saved with another configuration than --config %s (d_model %d vs %d, layers %d vs %d)",
                            o->output, o->config, t->cfg.d_model, want.d_model, t->cfg.n_layers, want.n_layers);
        t->st = st;
        t->st.total_steps = o->steps > st.total_steps ? o->steps : st.total_steps;
    } else {
        t->cfg.vocab_size = t->corpus.vocab_size;
        if (mir_config_parse(o->config ? o->config : "small", &t->cfg, err)) return -1;
        t->cfg.vocab_size = t->corpus.vocab_size;
        t->st = (mir_train_state){0, o->steps, o->seed, 0, o->global_batch, o->micro_batch, o->lr, o->lr_min,
                                  o->weight_decay, 0.9, 0.999, 1e-8, o->clip, o->warmup};
    }
    char msg[256];
    if (mir_config_check(&t->cfg, msg, sizeof msg))
        return mir_fail(err, "%s%sconfiguration: %s", have ? o->output : "", have ? ": " : "", msg);
    /* a statement-level model needs the corpus's statement boundaries, and only such a model reads them */
    if (mir_corpus_check_config(&t->corpus, &t->cfg, err)) return -1;
    /* a model file edited or corrupted into an absurd size is refused before anything is allocated for it */
    size_t n_full = 0;
    mir_params_table(&t->cfg, NULL, &n_full);
    double need = (double)n_full * 16.0, avail = (double)mir_available_memory_bytes() * t->nranks;
    if (avail > 0 && need > avail)
        return mir_fail(err, "%s%sd_model %d, %d layers, d_ff %d, vocabulary %d: %.3g parameters need %.3g GiB with "
                        "gradients and AdamW moments, more than the %.3g GiB of all ranks together",
                        have ? o->output : "", have ? ": " : "", t->cfg.d_model, t->cfg.n_layers, t->cfg.d_ff,
                        t->cfg.vocab_size, (double)n_full, need / 1073741824.0, avail / 1073741824.0);
    return 0;
}

/* The layout: the grid (by memory, unless --grid), checked against the batch sizes, and the distributed
 * tensors. */
static int setup_layout(trainer *t, int have, mir_error *err) {
    const mir_train_options *o = t->o;
    int P = o->grid_p, Q = o->grid_q;
    char why[512] = "";
    if (P == 0 || Q == 0) {
        MPI_Comm node;
        MPI_Comm_split_type(t->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
        int per_node = 1;
        MPI_Comm_size(node, &per_node);
        MPI_Comm_free(&node);
        double avail = (double)mir_available_memory_bytes();
        MPI_Allreduce(MPI_IN_PLACE, &avail, 1, MPI_DOUBLE, MPI_MIN, t->comm);
        mir_train_choose_grid(&t->cfg, t->nranks, avail / per_node, &P, &Q, why, sizeof why);
    } else {
        snprintf(why, sizeof why, "as --grid asked");
    }
    if (mir_grid_init(&t->grid, t->comm, P, Q, o->block, err)) return -1;
    t->have_grid = 1;
    const int D = t->grid.n_groups;
    if (t->st.micro_batch < 1 || t->st.global_batch % (t->st.micro_batch * D) != 0)
        return mir_fail(err, "--batch %d must be a multiple of --micro-batch %d times the number of data-parallel "
                        "groups %d (%d ranks / grid %dx%d)%s", t->st.global_batch, t->st.micro_batch, D, t->nranks, P, Q,
                        have ? "; these are the batch sizes stored in the checkpoint, which a resumed run keeps "
                               "whatever --batch says: resume on a rank count that divides them" : "");
    mir_dist_init(&t->dist, &t->grid, &t->cfg);
    if (t->rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "layout: %d data-parallel group%s x grid %dx%d (block %d): %s; rank 0 holds %zu of "
                "the %zu parameters (%.1f of %.1f MiB with gradients and AdamW moments)", D, D > 1 ? "s" : "", P, Q,
                o->block, why, t->dist.n_local, t->dist.n_full, t->dist.n_local * 16.0 / 1048576.0,
                t->dist.n_full * 16.0 / 1048576.0);
    return 0;
}

/* The local model and its AdamW moments: a checkpoint's (checked) or fresh parameters. */
static int setup_params(trainer *t, int have, mir_error *err) {
    const mir_train_options *o = t->o;
    if (mir_model_create_layout_f32(&t->model, &t->cfg, t->dist.table, t->dist.n_local))
        return mir_fail(err, "cannot create the model");
    mir_dist_attach(&t->dist, &t->model);
    t->m1 = mir_calloc(t->model.n_params, sizeof(float));
    t->m2 = mir_calloc(t->model.n_params, sizeof(float));
    /* parameters (and moments) in the full layout first, then each rank keeps its pieces */
    float *full = mir_malloc(t->dist.n_full * sizeof(float));
    if (have) {
        float *fm = mir_malloc(t->dist.n_full * sizeof(float)), *fv = mir_malloc(t->dist.n_full * sizeof(float));
        int lrc = mir_checkpoint_load(o->output, &t->cfg, full, fm, fv, err);
        if (!lrc) {
            mir_dist_scatter(&t->dist, fm, t->m1);
            mir_dist_scatter(&t->dist, fv, t->m2);
        }
        /* a resumed run must not train on a damaged checkpoint: every value finite, else name the tensor */
        if (!lrc) lrc = mir_model_params_check(o->output, &t->cfg, full, err);
        if (!lrc) lrc = mir_model_tensors_check(o->output, &t->cfg, "/optim/m", fm, err);
        if (!lrc) lrc = mir_model_tensors_check(o->output, &t->cfg, "/optim/v", fv, err);
        free(fm);
        free(fv);
        if (lrc) {
            free(full);
            return -1;
        }
        if (t->rank == 0 && !o->quiet)
            mir_log(MIR_LOG_INFO, "resuming %s at step %lld of %lld", o->output, (long long)t->st.step,
                    (long long)t->st.total_steps);
    } else {
        mir_model_f32 tmp;
        if (mir_model_create_f32(&tmp, &t->cfg)) {
            free(full);
            return mir_fail(err, "cannot create the model");
        }
        mir_rng r;
        mir_rng_seed(&r, t->st.seed, 0x1417ULL);
        mir_model_init_params_f32(&tmp, &r);
        memcpy(full, tmp.params, t->dist.n_full * sizeof(float));
        mir_model_free_f32(&tmp);
    }
    mir_dist_scatter(&t->dist, full, t->model.params);
    free(full);
    return 0;
}

/* The model: configuration, layout, parameters; from the checkpoint OUTPUT when resuming and it exists. */
static int setup_model(trainer *t, mir_error *err) {
    struct stat sb;
    int have = t->o->resume && stat(t->o->output, &sb) == 0;
    int rc = setup_config(t, have, err);
    if (!rc) rc = setup_layout(t, have, err);
    if (!rc) rc = setup_params(t, have, err);
    return rc;
}

/* Before the first step: the micro-batch buffers; on rank 0 the metrics and eval CSVs (appended to when
 * resuming) and the model's summary; $MIR_TRACE_BATCHES.RANK when asked. */
static void open_run(trainer *t) {
    const mir_train_options *o = t->o;
    const int m = t->st.micro_batch, G = t->st.global_batch / m;
    t->bufs = mir_calloc((size_t)m, sizeof *t->bufs);
    t->views = mir_calloc((size_t)m, sizeof *t->views);
    mir_batch_init(&t->batch);
    if (t->rank == 0) {
        char path[4096];
        const char *mode = t->st.step > 0 ? "a" : "w";
        snprintf(path, sizeof path, "%s", o->metrics ? o->metrics : o->output);
        if (!o->metrics) snprintf(path + strlen(path), sizeof path - strlen(path), ".metrics.csv");
        t->metrics = fopen(path, mode);
        if (t->metrics && t->st.step == 0)
            fprintf(t->metrics, "step,lr,loss,mlm,node,edge,match,mlm_acc,node_acc,match_acc,grad_norm,tokens_per_s,elapsed_s,stat,contrast,contrast_acc\n");
        /* OUTPUT.eval.csv beside OUTPUT.metrics.csv, or METRICS.eval.csv beside --metrics METRICS */
        snprintf(path, sizeof path, "%s.eval.csv", o->metrics ? o->metrics : o->output);
        t->evalcsv = fopen(path, mode);
        if (t->evalcsv && t->st.step == 0)
            fprintf(t->evalcsv, "step,heldout_loss,mlm_acc,mlm_baseline,node_acc,edge_auc,match_acc,stat_mse,contrast_acc\n");
        if (!o->quiet) {
            mir_log(MIR_LOG_INFO,
                    "model: d_model %d, %d heads, %d layers, d_ff %d, %d graph layers, window %d, vocabulary %d: "
                    "%.2f M parameters; batch %d = %d micro-batches of %d on %d data-parallel group%s",
                    t->cfg.d_model, t->cfg.n_heads, t->cfg.n_layers, t->cfg.d_ff, t->cfg.n_graph_layers, t->cfg.max_seq,
                    t->cfg.vocab_size, t->dist.n_full / 1e6, t->st.global_batch, G, m, t->grid.n_groups,
                    t->grid.n_groups > 1 ? "s" : "");
        }
    }
    const char *trace = getenv("MIR_TRACE_BATCHES");
    if (trace && *trace) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", trace, t->rank);
        t->trace = fopen(path, "w");
    }
}

/* "step k module... | partner..." for micro-batch k of step `step` (tests) */
static void trace_micro(trainer *t, int64_t step, int k, const int64_t *ids, int mm) {
    fprintf(t->trace, "%lld %d", (long long)step, k);
    for (int j = 0; j < mm; j++) fprintf(t->trace, " %lld", (long long)ids[j]);
    fprintf(t->trace, " |");
    for (int j = 0; j < t->batch.B; j++) fprintf(t->trace, " %d", t->batch.partner ? t->batch.partner[j] : -1);
    fprintf(t->trace, "\n");
}

/* This group's micro-batches of step `step` (k = group, group + D, ... below G): forward and backward, the
 * gradients summed into the model's, the losses (and tokens) into loss_sum[12]. */
static int step_grads(trainer *t, int64_t step, int G, int64_t *ids, const mir_batch_options *bo, double *loss_sum,
                      mir_error *err) {
    int rc = 0;
    memset(t->model.grads, 0, t->model.n_params * sizeof(float));
    memset(loss_sum, 0, 12 * sizeof *loss_sum);
    for (int k = t->grid.group_id; k < G; k += t->grid.n_groups) {
        int mm = mir_micro_ids(t, step, k, G, ids);
        mir_rng rng;
        mir_rng_seed(&rng, t->st.seed ^ mir_mix64((uint64_t)step), (uint64_t)k);
        /* every rank agrees before the forward: ranks of a grid meet in its collective products */
        if ((rc = mir_mpi_agree(t->comm, mir_load_micro(t, ids, mm, &rng, bo, err), err))) break;
        if (t->trace) trace_micro(t, step, k, ids, mm);
        mir_losses l;
        mir_model_forward_f32(&t->model, &t->batch, &l);
        mir_model_backward_f32(&t->model, &t->batch, 1.0f / (float)G);
        double parts[12] = {l.total,   l.mlm,      l.node,         l.edge, l.match, l.mlm_acc, l.node_acc,
                            l.match_acc, 0 /* tokens */, l.stat, l.contrast, l.contrast_acc};
        for (int i = 0; i < t->batch.B * t->batch.T; i++) parts[8] += t->batch.tok_valid[i];
        for (int i = 0; i < 12; i++) loss_sum[i] += parts[i];
    }
    return rc;
}

/* The update of step `step` from the summed gradients: clipped to the global norm (*norm, before clipping),
 * AdamW at the step's learning rate (returned); the step counts as done, loss_sum becomes the means over the
 * G micro-batches (the tokens stay a sum). */
static double step_update(trainer *t, int64_t step, int G, double *loss_sum, double *norm, mir_train_result *res) {
    /* ranks at one grid position hold the same pieces: sum them over the groups */
    double c0 = mir_wall_seconds();
    MPI_Allreduce(MPI_IN_PLACE, t->model.grads, (int)t->model.n_params, MPI_FLOAT, MPI_SUM, t->grid.across);
    MPI_Allreduce(MPI_IN_PLACE, loss_sum, 12, MPI_DOUBLE, MPI_SUM, t->grid.across);
    *norm = sqrt(mir_dist_norm2(&t->dist, t->model.grads));
    res->allreduce_s += mir_wall_seconds() - c0;
    if (t->st.clip > 0 && *norm > t->st.clip) {
        float s = (float)(t->st.clip / *norm);
        for (size_t i = 0; i < t->model.n_params; i++) t->model.grads[i] *= s;
    }
    double lr = mir_lr_at(&t->st, step);
    mir_adamw(&t->st, &t->model, t->m1, t->m2, lr, step);
    t->st.step++;
    t->st.cursor = t->st.step * t->st.global_batch;
    for (int i = 0; i < 12; i++)
        if (i != 8) loss_sum[i] /= G;
    return lr;
}

/* Rank 0, after each step: the metrics CSV's line, and the progress line every progress_interval_s (and at
 * the first and the last step). */
static void log_step(trainer *t, double lr, double norm, const double *loss_sum, double tps, double now, double t0,
                     int64_t start_step, double *last_print) {
    const mir_train_options *o = t->o;
    if (t->metrics)
        fprintf(t->metrics, "%lld,%.6g,%.5f,%.5f,%.5f,%.5f,%.5f,%.4f,%.4f,%.4f,%.4g,%.0f,%.2f,%.5f,%.5f,%.4f\n",
                (long long)t->st.step, lr, loss_sum[0], loss_sum[1], loss_sum[2], loss_sum[3], loss_sum[4],
                loss_sum[5], loss_sum[6], loss_sum[7], norm, tps, now - t0, loss_sum[9], loss_sum[10],
                loss_sum[11]);
    if (!o->quiet && (now - *last_print >= o->progress_interval_s || t->st.step == t->st.total_steps ||
                      t->st.step == start_step + 1)) {
        double per = (now - t0) / (double)(t->st.step - start_step);
        mir_log(MIR_LOG_INFO,
                "step %lld/%lld  loss %.4f (mlm %.3f node %.3f edge %.3f match %.3f)  mlm acc %.3f  "
                "lr %.2e  %.0f tokens/s  ETA %.0f s",
                (long long)t->st.step, (long long)t->st.total_steps, loss_sum[0], loss_sum[1], loss_sum[2],
                loss_sum[3], loss_sum[4], loss_sum[5], lr, tps, per * (double)(t->st.total_steps - t->st.step));
        *last_print = now;
    }
}

/* rank 0: the evaluation's line of the eval CSV */
static void write_eval(trainer *t, const eval_result *er) {
    if (t->rank == 0 && t->evalcsv)
        fprintf(t->evalcsv, "%lld,%.5f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", (long long)t->st.step, er->loss,
                er->mlm_acc, er->mlm_baseline, er->node_acc, er->edge_auc, er->match_acc, er->stat_mse,
                er->contrast_acc);
}

/* The steps up to total_steps, each followed by its checkpoint and evaluation when due; a signal (or
 * --stop-after) on any rank ends the loop with a checkpoint (res->interrupted). */
static int train_loop(trainer *t, mir_train_result *res, mir_error *err) {
    const mir_train_options *o = t->o;
    const int m = t->st.micro_batch, G = t->st.global_batch / m;
    int rc = 0;
    mir_batch_options bo;
    mir_batch_options_default(&bo);
    int64_t *ids = mir_malloc((size_t)m * sizeof *ids);
    double t0 = mir_wall_seconds(), last_print = t0, tokens_window = 0, window_t0 = t0;
    int64_t start_step = t->st.step;
    res->first_step = start_step;
    double loss_sum[12]; /* the 8 losses and accuracies, tokens, stat, contrast, contrast_acc */
    while (t->st.step < t->st.total_steps) {
        int64_t step = t->st.step;
        /* a micro-batch could not be read: every rank stops here with its message */
        if ((rc = step_grads(t, step, G, ids, &bo, loss_sum, err))) break;
        double norm;
        double lr = step_update(t, step, G, loss_sum, &norm, res);
        res->final_loss = loss_sum[0];
        tokens_window += loss_sum[8];
        double now = mir_wall_seconds();
        double tps = tokens_window / (now - window_t0 > 1e-9 ? now - window_t0 : 1e-9);
        if (t->rank == 0) log_step(t, lr, norm, loss_sum, tps, now, t0, start_step, &last_print);
        res->tokens_per_s = tps;
        /* a signal (or --stop-after) on any rank: checkpoint and leave */
        int stop = g_stop != 0 || (o->stop_after > 0 && t->st.step - start_step >= o->stop_after), any = 0;
        MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, t->comm);
        if (any) {
            if (t->rank == 0 && !o->quiet)
                mir_log(MIR_LOG_INFO, "stop requested: checkpointing at step %lld and exiting", (long long)t->st.step);
            rc = save(t, err);
            res->interrupted = 1;
            break;
        }
        if (o->checkpoint_every > 0 && t->st.step % o->checkpoint_every == 0 && t->st.step < t->st.total_steps &&
            (rc = save(t, err)))
            break;
        if (o->eval_every > 0 && t->st.step % o->eval_every == 0 && t->n_eval > 0 && t->st.step < t->st.total_steps) {
            eval_result er;
            if ((rc = mir_evaluate(t, &er, err))) break;
            write_eval(t, &er);
        }
        if (t->metrics) fflush(t->metrics);
        if (t->evalcsv) fflush(t->evalcsv);
    }
    res->steps_done = t->st.step;
    res->seconds = mir_wall_seconds() - t0;
    free(ids);
    return rc;
}

/* The end of a run that went to total_steps: the final checkpoint, then the held-out figures (res, the eval
 * CSV, the log). */
static int finish(trainer *t, mir_train_result *res, mir_error *err) {
    const mir_train_options *o = t->o;
    int rc = save(t, err);
    if (rc || t->n_eval == 0) return rc;
    eval_result er;
    if ((rc = mir_evaluate(t, &er, err))) return rc;
    res->heldout_mlm_acc = er.mlm_acc;
    res->heldout_mlm_baseline = er.mlm_baseline;
    res->heldout_node_acc = er.node_acc;
    res->heldout_edge_auc = er.edge_auc;
    res->heldout_match_acc = er.match_acc;
    write_eval(t, &er);
    if (t->rank == 0 && !o->quiet) {
        char extra[128] = ""; /* the optional objectives' figures, only when they are on */
        int k = t->cfg.stats ? snprintf(extra, sizeof extra, ", opcode-statistics MSE %.4f", er.stat_mse) : 0;
        if (t->cfg.contrastive)
            snprintf(extra + k, sizeof extra - (size_t)k, ", pair retrieval accuracy %.3f", er.contrast_acc);
        mir_log(MIR_LOG_INFO,
                "held out (%lld modules): masked-%s accuracy %.3f (most-frequent-token baseline %.3f), "
                "node-text accuracy %.3f, edge AUC %.3f, matching accuracy %.3f%s",
                (long long)(t->n_eval < o->eval_modules || !o->eval_modules ? t->n_eval : o->eval_modules),
                t->cfg.statements ? "statement" : "token", er.mlm_acc, er.mlm_baseline, er.node_acc,
                er.edge_auc, er.match_acc, extra);
    }
    return 0;
}

/* Everything the run holds, whatever stage it reached; the layout's figures into res. */
static void release(trainer *t, mir_train_result *res) {
    if (t->metrics) fclose(t->metrics);
    if (t->evalcsv) fclose(t->evalcsv);
    if (t->bufs)
        for (int j = 0; j < t->st.micro_batch; j++) mir_module_buf_free(&t->bufs[j]);
    free(t->bufs);
    free(t->views);
    free(t->starts);
    mir_batch_free(&t->batch);
    if (t->model.params) mir_model_free_f32(&t->model);
    res->pgemm_s = t->dist.t_gemm;
    res->grid_comm_s = t->dist.t_comm;
    res->grid_p = t->grid.P;
    res->grid_q = t->grid.Q;
    res->n_local_params = t->dist.n_local;
    mir_dist_free(&t->dist);
    if (t->have_grid) mir_grid_free(&t->grid);
    free(t->m1);
    free(t->m2);
    free(t->train_ids);
    free(t->eval_ids);
    free(t->unit_a);
    free(t->unit_b);
    free(t->train_units);
    free(t->pair_key);
    free(t->data.perm);
    if (t->trace) fclose(t->trace);
    mir_corpus_close(&t->corpus);
}

int mir_train_run(const mir_train_options *o, MPI_Comm comm, mir_train_result *res, mir_error *err) {
    trainer t = {.o = o, .comm = comm};
    MPI_Comm_rank(comm, &t.rank);
    MPI_Comm_size(comm, &t.nranks);
    memset(res, 0, sizeof *res);
    /* first, so that a signal during set-up (reading a large corpus) also ends in a checkpoint, not a kill */
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    int rc = mir_corpus_open(&t.corpus, o->corpus, comm, err);
    if (!rc) rc = mir_setup_data(&t, err);
    if (!rc) rc = setup_model(&t, err);
    if (!rc && t.cfg.contrastive && (t.st.micro_batch % 2 || t.st.micro_batch < 4))
        rc = mir_fail(err, "--micro-batch %d: the contrastive objective takes pairs, so it must be even, and at least 4: "
                      "an anchor's negatives are the other pairs of its micro-batch (2 leaves none, and a loss of 0)",
                      t.st.micro_batch);
    if (!rc) mir_setup_stream(&t);
    if (!(rc = mir_mpi_agree(t.comm, rc, err))) {
        open_run(&t);
        rc = train_loop(&t, res, err);
        if (!rc && !res->interrupted) rc = finish(&t, res, err);
    }
    release(&t, res);
    return rc;
}

void mir_train_choose_grid(const mir_config *c, int n, double memory_per_rank, int *P, int *Q, char *why,
                           size_t why_size) {
    size_t n_params = 0;
    mir_params_table(c, NULL, &n_params);
    /* parameters, gradients, two moments, and as much again for activations and buffers */
    double need = 2.0 * 16.0 * (double)n_params;
    *P = *Q = 1;
    if (memory_per_rank <= 0 || need <= 0.5 * memory_per_rank) {
        snprintf(why, why_size,
                 "data parallelism, since the model with its optimiser state (%.0f MiB with room for activations) "
                 "fits in half a rank's share of memory (%.0f MiB), and data parallelism is the faster layout on "
                 "the machines measured (docs/performance.md); --grid PxQ overrides",
                 need / 1048576.0, memory_per_rank / 1048576.0);
        return;
    }
    for (int q = 2; q <= n; q++) {
        if (n % q) continue;
        if (need / q <= 0.5 * memory_per_rank || q == n) {
            *Q = q;
            snprintf(why, why_size,
                     "the model with its optimiser state (%.0f MiB with room for activations) does not fit in half "
                     "a rank's share of memory (%.0f MiB): its wide matrices are split over %d ranks%s",
                     need / 1048576.0, memory_per_rank / 1048576.0, q,
                     need / q <= 0.5 * memory_per_rank ? "" : " (all of them, and it may still not fit)");
            return;
        }
    }
}

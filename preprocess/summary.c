/*
 * summary.c: the end of a mir-preprocess run: the failed modules, gathered to rank 0 (logged, and the
 * --failures file), and the printed summary (the phases summed over ranks, the counts, time and memory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_util.h"
#include "preprocess_impl.h"
#include "probe.h"

/* Failed modules, gathered to rank 0 in global order: logged (first 20) and written to --failures. */
void mir_pp_report_failures(run_state *s, const block *b) {
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (int64_t i = 0; i < b->hi - b->lo; i++) {
        const mir_corpus_record *r = &b->views[i];
        if (!is_failure(r->status)) continue;
        size_t need = strlen(s->names[b->lo + i]) + strlen(r->error) + 32;
        MIR_GROW(text, cap, len + need);
        len += (size_t)snprintf(text + len, cap - len, "%s\t%s\t%s\n", s->names[b->lo + i],
                                mir_status_name(r->status), r->error);
    }
    size_t tot;
    char *all = mir_mpi_gather_bytes(s->comm, text, len, 0, NULL, &tot);
    free(text);
    if (s->rank == 0) {
        if (s->o->failures_file) {
            FILE *f = fopen(s->o->failures_file, "w");
            if (f) {
                fputs("module\tstatus\terror\n", f);
                fwrite(all, 1, tot, f);
                fclose(f);
            } else {
                mir_log(MIR_LOG_WARN, "%s: cannot write the failure list", s->o->failures_file);
            }
        }
        int shown = 0;
        for (char *line = all; *line && shown < 20; shown++) {
            char *nl = strchr(line, '\n');
            *nl = 0;
            char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
            if (tab1 && tab2) {
                *tab2 = 0;
                mir_log(MIR_LOG_WARN, "failed (%s): %s", tab1 + 1, tab2 + 1);
            }
            line = nl + 1;
        }
        free(all);
    }
}

void mir_pp_print_summary(run_state *s, const mir_pp_summary *sum) {
    int n = mir_probe_export(s->probe, NULL);
    double *v = mir_malloc((size_t)n * sizeof *v), *tot = mir_malloc((size_t)n * sizeof *v);
    mir_probe_export(s->probe, v);
    MPI_Reduce(v, tot, n, MPI_DOUBLE, MPI_SUM, 0, s->comm);
    double rss = (double)mir_peak_rss_bytes(), rss_max = 0, rss_sum = 0;
    MPI_Reduce(&rss, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, s->comm);
    MPI_Reduce(&rss, &rss_sum, 1, MPI_DOUBLE, MPI_SUM, 0, s->comm);
    if (s->rank == 0 && mir_log_get_level() >= MIR_LOG_INFO) {
        char title[128];
        snprintf(title, sizeof title, "phases (summed over %d rank%s)", s->nranks, s->nranks > 1 ? "s" : "");
        mir_probe_print(s->probe, stderr, title, tot);
        fprintf(stderr,
                "summary: %lld modules: %lld ok, %lld failed, %lld duplicates; %lld tokens (%lld UNK, %.4f%%), "
                "%lld nodes, %lld edges; vocabulary %d; %.2f s, %.1f modules/s; peak memory per rank %.1f MiB max, "
                "%.1f MiB mean\n",
                (long long)sum->n_modules, (long long)sum->n_ok, (long long)sum->n_failed,
                (long long)sum->n_duplicates, (long long)sum->n_tokens, (long long)sum->n_unk,
                sum->n_tokens ? 100.0 * (double)sum->n_unk / (double)sum->n_tokens : 0.0, (long long)sum->n_nodes,
                (long long)sum->n_edges, sum->vocab_size, sum->seconds,
                sum->seconds > 0 ? (double)sum->n_modules / sum->seconds : 0.0, rss_max / 1048576.0,
                rss_sum / s->nranks / 1048576.0);
    }
    free(v);
    free(tot);
}

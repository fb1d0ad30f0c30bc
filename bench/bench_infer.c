/*
 * bench_infer: embeddings per second for one rank, split into parse / tokens / graph / encode / forward,
 * beside a bare LLVM parse of the same files measured in the same run.
 *
 *   bench_infer [--fast] MODEL.h5 INPUT...   (INPUT as for mir-preprocess: .ll/.bc files, directories, @lists;
 *                                             --fast: the fast reading mode only, no cosine, for profiling)
 *
 * Files are read into memory first. Reference: LLVMContextCreate + LLVMParseIRInContext + dispose per
 * module. Measured: parse, extraction (tokens: printing and normalising statements; graph: ProGraML
 * graph), vocabulary encoding, and the model's forward (mir_embed_view) per module in eight reading modes
 * (mir_embed_options: from exact to fast), each with its GFLOP per module and the cosine similarity of its
 * embeddings to the exact ones. Extraction is measured once in full (every statement: what the exact and
 * multi-window modes read) and once per word limit of the one-window modes (mir_embed_word_limit: the first
 * T words, as mir-infer and the C API extract for them), module by module in alternating order; each mode's
 * total is its own extraction plus its forward, over its own encodings, and the limited encodings' first
 * tokens are checked against the full ones (exit status 1 if they differ; the speed target only prints
 * PASSED or FAILED). Target: >= 100 modules/s per rank on the device-mapping IR
 * with the default model.
 *
 * Cost of isolation (issue 17): mir-infer --fast's whole path per module (bytes in memory to embedding:
 * parse, extract, encode, forward), in a supervised worker forked from this process with two requests in
 * flight (as mir-infer runs it) and in-process (--no-isolation), alternated, 5 pairs: best of 5 each and
 * the paired interval (isolation_cost.h);
 * target <= 10 %. The two must give the same embeddings, bit for bit (exit status 1 if not).
 */
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>

#include "embed.h"
#include "inputs.h"
#include "irmodule.h"
#include "isolation_cost.h"
#include "probe.h"
#include "sgemm_peak.h"


enum { P_PARSE, P_TOKENS, P_GRAPH, P_ENCODE, NP }; /* phases of one extraction pass */
enum { N_MODES = 8, MAX_PASSES = N_MODES + 1 }; /* reading modes; a pass per mode at most, and the full one */

/* One extraction pass over the modules: a word limit (0: every statement), its phases' times (phases
 * NP * pass .. NP * pass + NP - 1 of the probe) and its encoded modules, by input index. */
typedef struct extraction {
    int64_t max_words;
    mir_encoded *enc; /* (inputs) */
    int64_t tokens;   /* over the modules every pass extracted */
} extraction;

/* Floating-point operations of the matrix products of one module's forward pass in reading mode o (the
 * windows mir_embed_view reads, one at a time, and the graph or its window), as mir_model_flops counts
 * them (a third of its figure: forward only). */
static double mode_flops(const mir_config *c, const mir_module_view *v, const mir_embed_options *o) {
    mir_config cfg = *c;
    cfg.max_nodes = o->max_nodes ? o->max_nodes : MIR_INFER_MAX_NODES;
    if (o->window) cfg.max_seq = o->window;
    const int64_t T = cfg.max_seq, n_all = (v->n_tokens + T - 1) / T;
    const int64_t n_win = o->max_windows && o->max_windows < n_all ? o->max_windows : n_all;
    mir_batch_options bo = {0.0f, 0, 0};
    mir_rng rng;
    mir_rng_seed(&rng, 0, 0);
    mir_batch b;
    mir_batch_init(&b);
    double f = 0;
    for (int64_t j = 0; j < n_win; j++) {
        int64_t first = mir_embed_window_index(j, n_win, n_all) * T;
        int64_t len = v->n_tokens - first < T ? v->n_tokens - first : T;
        mir_module_view tok = {v->tokens + first, len, NULL, NULL, 0, NULL, NULL, NULL, 0, -1};
        mir_batch_build(&b, &tok, 1, &cfg, &bo, &rng);
        f += mir_model_flops(&cfg, &b) / 3;
    }
    mir_module_view g = *v;
    g.n_tokens = 0;
    mir_batch_build(&b, &g, 1, &cfg, &bo, &rng);
    f += mir_model_flops(&cfg, &b) / 3;
    mir_batch_free(&b);
    return f;
}

/* Seconds to embed the modules idx[0..n-1] as mir-infer does, in w's child with two in flight,
 * or here when w is NULL; out is (n, D). *failed: modules that did not embed. */
static double embed_pass(const mir_model *m, mir_worker *w, char **data, const size_t *bytes,
                         const mir_input_list *list, const size_t *idx, size_t n, float *out, size_t *failed) {
    const size_t D = mir_embedding_dim(m);
    *failed = 0;
    double t0 = mir_wall_seconds();
    if (w && n) mir_worker_submit(w, list->items[idx[0]].path, data[idx[0]], bytes[idx[0]]);
    for (size_t k = 0; k < n; k++) {
        const size_t i = idx[k];
        const char *name = list->items[i].path;
        mir_error err = {{0}};
        int st = 0, rc;
        if (w) {
            if (k + 1 < n) mir_worker_submit(w, list->items[idx[k + 1]].path, data[idx[k + 1]], bytes[idx[k + 1]]);
            rc = mir_embed_collect(w, m, name, out + k * D, &st, &err);
        } else {
            rc = mir_embed_bytes_supervised(NULL, m, data[i], bytes[i], name, out + k * D, &st, &err);
        }
        *failed += rc != 0;
    }
    return mir_wall_seconds() - t0;
}

/* The cost of isolation in the fast mode (see the top): prints it; returns 0, or 1 if the worker's embeddings
 * differ from the in-process ones. */
static int isolation_cost(mir_model *m, char **data, const size_t *bytes, const mir_input_list *list,
                          const uint8_t *ok) {
    mir_error err = {{0}};
    mir_embed_options fast = mir_embed_options_fast(m);
    mir_model_set_options(m, &fast, &err);
    const size_t D = mir_embedding_dim(m);
    size_t n = 0, failed[2] = {0, 0};
    size_t *idx = malloc((list->n + 1) * sizeof *idx);
    for (size_t i = 0; i < list->n; i++)
        if (ok[i]) idx[n++] = i;
    float *e[2] = {malloc((n + 1) * D * sizeof(float)), malloc((n + 1) * D * sizeof(float))};
    mir_worker_limits l = mir_worker_limits_default();
    mir_worker *w = mir_embed_worker_create(m, &l); /* forked at its first request: after the options are set */
    enum { R = 5 };
    double best[2] = {1e30, 1e30}, t[2][R]; /* [0] worker, [1] in-process */
    for (int r = 0; r < R; r++)
        for (int k = 0; k < 2; k++) {
            t[k][r] = embed_pass(m, k ? NULL : w, data, bytes, list, idx, n, e[k], &failed[k]);
            if (t[k][r] < best[k]) best[k] = t[k][r];
        }
    int same = failed[0] == 0 && failed[1] == 0 && !memcmp(e[0], e[1], n * D * sizeof(float));
    printf("isolation, mir-infer --fast per module (parse, extract, encode, forward; best of 5, alternated):\n"
           "  supervised worker (2 in flight) %.3f ms/module, in-process (--no-isolation) %.3f ms/module: "
           "cost %+.1f %% (target <= 10 %%: %s); embeddings identical: %s\n",
           1e3 * best[0] / (double)n, 1e3 * best[1] / (double)n, 100.0 * (best[0] / best[1] - 1.0),
           best[0] <= 1.10 * best[1] ? "PASSED" : "FAILED", same ? "yes" : "NO");
    print_isolation_cost("  cost of isolation, wall (paired)", t[0], t[1], R);
    mir_worker_free(w);
    free(e[0]);
    free(e[1]);
    free(idx);
    return same ? 0 : 1;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int fast_only = argc > 1 && !strcmp(argv[1], "--fast");
    if (fast_only) {
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: bench_infer [--fast] MODEL.h5 INPUT...\n");
        return 2;
    }
    mir_log_init("bench_infer", 0, 1, MIR_LOG_INFO);
    mir_error err = {{0}};
    mir_model *m = mir_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double peak = sgemm_peak(2048);
    printf("SGEMM 2048^3 peak: %.1f GFLOP/s (OpenBLAS %s)\n", peak, mir_blas_core());
    mir_input_list list;
    if (mir_inputs_expand(argv + 2, argc - 2, 0, &list, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    char **data = calloc(list.n, sizeof *data);
    size_t *bytes = calloc(list.n, sizeof *bytes);
    for (size_t i = 0; i < list.n; i++) mir_read_file(list.items[i].path, &data[i], &bytes[i], &err);
    /* reference: bare parse */
    double t0 = mir_wall_seconds();
    size_t parsed = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (!data[i]) continue;
        LLVMContextRef ctx = LLVMContextCreate();
        LLVMModuleRef mod = NULL;
        char *msg = NULL;
        if (!LLVMParseIRInContext(ctx, LLVMCreateMemoryBufferWithMemoryRange(data[i], bytes[i], "m", 1), &mod, &msg)) {
            parsed++;
            LLVMDisposeModule(mod);
        }
        if (msg) LLVMDisposeMessage(msg);
        LLVMContextDispose(ctx);
    }
    double bare = mir_wall_seconds() - t0;
    /* the forward pass in each reading mode (mir.h: mir_embed_options); the exact mode is the reference of
     * the approximations' cosine similarity */
    mir_embed_options fast = mir_embed_options_fast(m);
    struct { const char *name; mir_embed_options o; } modes[N_MODES] = {
        {"exact (all windows, whole graph)", {0, 0, 0, 0}},
        {"4 windows, whole graph", {4, 0, 0, 0}},
        {"2 windows, graph window", {2, fast.max_nodes, 0, 0}},
        {"1 window, whole graph", {1, 0, 0, 0}},
        {"4 windows, graph window", {4, fast.max_nodes, 0, 0}},
        {"1 window, graph window", {1, fast.max_nodes, 0, 0}},
        {"1 window of 128, 128-node window", {1, 128, 128, 0}},
        {"fast (1 window of 128, graph win.)", fast},
    };
    const size_t n_modes = N_MODES, first_mode = fast_only ? n_modes - 1 : 0;
    /* extraction passes: full, then each word limit the modes run use (the one mir-infer would extract with) */
    extraction x[MAX_PASSES] = {{0}};
    int n_pass = 1, pass_of[N_MODES] = {0};
    for (size_t k = first_mode; k < n_modes; k++) {
        mir_model_set_options(m, &modes[k].o, &err);
        int64_t L = mir_embed_word_limit(m);
        int j = 0;
        while (j < n_pass && x[j].max_words != L) j++;
        if (j == n_pass) x[n_pass++].max_words = L;
        pass_of[k] = j;
    }
    static const char *const phase[NP] = {"parse", "tokens", "graph", "encode"};
    char names[MAX_PASSES * NP][48];
    const char *name_ptr[MAX_PASSES * NP];
    for (int j = 0; j < n_pass; j++)
        for (int q = 0; q < NP; q++) {
            snprintf(names[j * NP + q], sizeof names[0], "%s (limit %lld)", phase[q], (long long)x[j].max_words);
            name_ptr[j * NP + q] = names[j * NP + q];
        }
    mir_probe *p = mir_probe_create("mir_bench_infer", name_ptr, n_pass * NP, NULL, 0, 0);
    size_t D = mir_embedding_dim(m), done = 0;
    const mir_vocab *v = mir_model_vocab(m);
    uint8_t *ok = calloc(list.n + 1, 1);
    for (int j = 0; j < n_pass; j++) x[j].enc = calloc(list.n + 1, sizeof *x[j].enc);
    int64_t nodes = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (!data[i]) continue;
        int all = 1;
        for (int r = 0; r < n_pass; r++) {
            int j = (int)((i + (size_t)r) % (size_t)n_pass); /* alternate which pass goes first */
            mir_probe_begin(p, j * NP + P_PARSE);
            LLVMContextRef ctx = LLVMContextCreate();
            LLVMModuleRef mod = NULL;
            int rc = mir_parse_ir(ctx, data[i], bytes[i], list.items[i].path, &mod, &err);
            mir_probe_end(p, j * NP + P_PARSE);
            if (!rc) {
                mir_extract xt;
                mir_extract_init(&xt);
                mir_extract_probe xp = {p, j * NP + P_TOKENS, j * NP + P_GRAPH};
                rc = mir_extract_module_limited(mod, x[j].max_words, &xt, &xp, &err);
                if (!rc) {
                    mir_probe_begin(p, j * NP + P_ENCODE);
                    mir_encode_extract(v, &xt, &x[j].enc[i]);
                    mir_probe_end(p, j * NP + P_ENCODE);
                }
                mir_extract_free(&xt);
                LLVMDisposeModule(mod);
            }
            LLVMContextDispose(ctx);
            all &= rc == 0;
        }
        if (!all) continue;
        ok[i] = 1;
        done++;
        nodes += x[0].enc[i].n_nodes;
        for (int j = 0; j < n_pass; j++) x[j].tokens += x[j].enc[i].n_tokens;
    }
    /* a limited pass must hold the full one's first tokens: all that a one-window mode reads */
    size_t prefix_bad = 0;
    for (int j = 1; j < n_pass; j++)
        for (size_t i = 0; i < list.n; i++) {
            if (!ok[i]) continue;
            const mir_encoded *a = &x[j].enc[i], *f = &x[0].enc[i];
            int64_t need = f->n_tokens < x[j].max_words ? f->n_tokens : x[j].max_words;
            prefix_bad += a->n_tokens < need || a->n_tokens > f->n_tokens ||
                          memcmp(a->tokens, f->tokens, (size_t)a->n_tokens * sizeof *a->tokens) != 0;
        }
    double extract[MAX_PASSES];
    for (int j = 0; j < n_pass; j++) {
        extract[j] = 0;
        for (int q = 0; q < NP; q++) extract[j] += mir_probe_wall(p, j * NP + q);
    }
    const mir_config *c = mir_model_config(m);
    printf("\nbench_infer: model d_model %d, %d layers, window %d, %d graph layers (%s); OpenBLAS %s\n", c->d_model,
           c->n_layers, c->max_seq, c->n_graph_layers, argv[1], mir_blas_core());
    printf("modules: %zu inputs, %zu parsed, %zu extracted; %.0f tokens and %.0f graph nodes per module\n", list.n,
           parsed, done, (double)x[0].tokens / (double)done, (double)nodes / (double)done);
    printf("bare LLVMParseIRInContext: %.3f ms/module\n", 1e3 * bare / (double)parsed);
    for (int j = 0; j < n_pass; j++) {
        char what[64];
        if (x[j].max_words)
            snprintf(what, sizeof what, "first %lld words (one-window modes)", (long long)x[j].max_words);
        else
            snprintf(what, sizeof what, "full (every statement)");
        printf("extraction per module (ms), %s: parse %.3f, tokens %.3f, graph %.3f, encode %.3f; total %.3f (%.1fx "
               "the bare parse); %.0f tokens\n", what, 1e3 * mir_probe_wall(p, j * NP + P_PARSE) / done,
               1e3 * mir_probe_wall(p, j * NP + P_TOKENS) / done, 1e3 * mir_probe_wall(p, j * NP + P_GRAPH) / done,
               1e3 * mir_probe_wall(p, j * NP + P_ENCODE) / done, 1e3 * extract[j] / done,
               extract[j] / bare * (double)parsed / (double)done, (double)x[j].tokens / (double)done);
    }
    if (n_pass > 1)
        printf("limited encodings hold the full ones' first tokens: %s (%zu of %zu modules differ)\n",
               prefix_bad ? "FAILED" : "PASSED", prefix_bad, done * (size_t)(n_pass - 1));
    float *ref = malloc(done * D * sizeof *ref), *out = malloc(done * D * sizeof *out);
    printf("%-34s %10s %10s %10s %12s %10s %10s\n", "mode", "extract ms", "fwd ms", "total ms", "modules/s", "cos mean",
           "cos min");
    for (size_t k = first_mode; k < n_modes; k++) {
        mir_model_set_options(m, &modes[k].o, &err);
        float *dst = k == 0 || fast_only ? ref : out;
        const extraction *xk = &x[pass_of[k]];
        double f0 = mir_wall_seconds();
        for (size_t i = 0, r = 0; i < list.n; i++) {
            if (!ok[i]) continue;
            mir_module_view view = mir_encoded_view(&xk->enc[i]);
            mir_embed_view(m, &view, dst + r++ * D, &err);
        }
        double fwd = mir_wall_seconds() - f0;
        double cs = 0, cmin = 1;
        for (size_t i = 0; i < done; i++) {
            double ab = 0, aa = 0, bb = 0;
            for (size_t j = 0; j < D; j++) {
                ab += (double)ref[i * D + j] * dst[i * D + j];
                aa += (double)ref[i * D + j] * ref[i * D + j];
                bb += (double)dst[i * D + j] * dst[i * D + j];
            }
            double cij = aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 1.0;
            cs += cij;
            cmin = cij < cmin ? cij : cmin;
        }
        double per = (extract[pass_of[k]] + fwd) / (double)done, flops = 0;
        for (size_t i = 0; i < list.n; i++) {
            if (!ok[i]) continue;
            mir_module_view view = mir_encoded_view(&xk->enc[i]);
            flops += mode_flops(c, &view, &modes[k].o);
        }
        const double ext_ms = 1e3 * extract[pass_of[k]] / (double)done;
        if (fast_only)
            printf("%-34s %10.3f %10.3f %10.3f %12.1f %10s %10s\n", modes[k].name, ext_ms, 1e3 * fwd / done, 1e3 * per,
                   1.0 / per, "-", "-");
        else
            printf("%-34s %10.3f %10.3f %10.3f %12.1f %10.4f %10.4f\n", modes[k].name, ext_ms, 1e3 * fwd / done,
                   1e3 * per, 1.0 / per, cs / (double)done, cmin);
        if (k == 0) printf("  exact mode: %.1f modules/s\n", 1.0 / per);
        printf("  %s: %.3f GFLOP per module in matrix products, %.1f GFLOP/s = %.0f %% of the SGEMM peak\n",
               modes[k].name, flops / (double)done / 1e9, flops / fwd / 1e9, 100 * flops / fwd / 1e9 / peak);
        if (k + 1 == n_modes)
            printf("fast mode: %.1f embeddings per second per rank (target >= 100: %s)\n", 1.0 / per,
                   1.0 / per >= 100 ? "PASSED" : "FAILED");
    }
    int iso_bad = isolation_cost(m, data, bytes, &list, ok);
    printf("peak memory: %.1f MiB\n", mir_peak_rss_bytes() / 1048576.0);
    for (int j = 0; j < n_pass; j++) {
        for (size_t i = 0; i < list.n; i++) mir_encoded_free(&x[j].enc[i]);
        free(x[j].enc);
    }
    free(ok);
    free(ref);
    mir_probe_free(p);
    free(out);
    for (size_t i = 0; i < list.n; i++) free(data[i]);
    free(data);
    free(bytes);
    mir_inputs_free(&list);
    mir_model_free(m);
    MPI_Finalize();
    /* a limited encoding that lost tokens, or an isolated embedding unlike the in-process one, is a bug, not a
     * slow run */
    return prefix_bad || iso_bad ? 1 : 0;
}

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
 * embeddings to the exact ones. Target: >= 100 modules/s per rank on the device-mapping IR with the
 * default model.
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
#include "probe.h"
#include "sgemm_peak.h"

extern char *openblas_get_corename(void);

enum { P_PARSE, P_TOKENS, P_GRAPH, P_ENCODE, P_FORWARD, NP };

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
        mir_module_view tok = {v->tokens + first, len, NULL, NULL, 0, NULL, NULL, NULL, 0};
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
    printf("SGEMM 2048^3 peak: %.1f GFLOP/s (OpenBLAS %s)\n", peak, openblas_get_corename());
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
    /* extraction, phase by phase; the encoded modules are kept for the forward passes below */
    static const char *const names[NP] = {"parse", "tokens", "graph", "encode", "forward"};
    mir_probe *p = mir_probe_create("mir_bench_infer", names, NP, NULL, 0, 0);
    size_t D = mir_embedding_dim(m), done = 0;
    const mir_vocab *v = mir_model_vocab(m);
    mir_encoded *enc = calloc(list.n + 1, sizeof *enc);
    int64_t tokens = 0, nodes = 0;
    for (size_t i = 0; i < list.n; i++) {
        if (!data[i]) continue;
        mir_probe_begin(p, P_PARSE);
        LLVMContextRef ctx = LLVMContextCreate();
        LLVMModuleRef mod = NULL;
        int rc = mir_parse_ir(ctx, data[i], bytes[i], list.items[i].path, &mod, &err);
        mir_probe_end(p, P_PARSE);
        if (!rc) {
            mir_extract x;
            mir_extract_init(&x);
            mir_extract_probe xp = {p, P_TOKENS, P_GRAPH};
            if (mir_extract_module(mod, &x, &xp, &err) == 0) {
                mir_probe_begin(p, P_ENCODE);
                mir_encode_extract(v, &x, &enc[done]);
                mir_probe_end(p, P_ENCODE);
                tokens += enc[done].n_tokens;
                nodes += enc[done].n_nodes;
                done++;
            }
            mir_extract_free(&x);
            if (mod) LLVMDisposeModule(mod);
        }
        LLVMContextDispose(ctx);
    }
    double w_parse = mir_probe_wall(p, P_PARSE), w_tok = mir_probe_wall(p, P_TOKENS), w_graph = mir_probe_wall(p, P_GRAPH);
    double w_enc = mir_probe_wall(p, P_ENCODE), extract = w_parse + w_tok + w_graph + w_enc;
    const mir_config *c = mir_model_config(m);
    printf("\nbench_infer: model d_model %d, %d layers, window %d, %d graph layers (%s); OpenBLAS %s\n", c->d_model,
           c->n_layers, c->max_seq, c->n_graph_layers, argv[1], openblas_get_corename());
    printf("modules: %zu inputs, %zu parsed, %zu extracted; %.0f tokens and %.0f graph nodes per module\n", list.n,
           parsed, done, (double)tokens / (double)done, (double)nodes / (double)done);
    printf("bare LLVMParseIRInContext: %.3f ms/module\n", 1e3 * bare / (double)parsed);
    printf("extraction per module (ms): parse %.3f, tokens %.3f, graph %.3f, encode %.3f; total %.3f (%.1fx the bare "
           "parse)\n", 1e3 * w_parse / done, 1e3 * w_tok / done, 1e3 * w_graph / done, 1e3 * w_enc / done,
           1e3 * extract / done, extract / bare * (double)parsed / (double)done);
    /* the forward pass in each reading mode (mir.h: mir_embed_options); the exact mode is the reference of
     * the approximations' cosine similarity */
    mir_embed_options fast = mir_embed_options_fast(m);
    struct { const char *name; mir_embed_options o; } modes[] = {
        {"exact (all windows, whole graph)", {0, 0, 0}},
        {"4 windows, whole graph", {4, 0, 0}},
        {"2 windows, graph window", {2, fast.max_nodes, 0}},
        {"1 window, whole graph", {1, 0, 0}},
        {"4 windows, graph window", {4, fast.max_nodes, 0}},
        {"1 window, graph window", {1, fast.max_nodes, 0}},
        {"1 window of 128, 128-node window", {1, 128, 128}},
        {"fast (1 window of 128, graph win.)", fast},
    };
    float *ref = malloc(done * D * sizeof *ref), *out = malloc(done * D * sizeof *out);
    printf("%-34s %10s %10s %12s %10s %10s\n", "mode", "fwd ms", "total ms", "modules/s", "cos mean", "cos min");
    for (size_t k = fast_only ? sizeof modes / sizeof *modes - 1 : 0; k < sizeof modes / sizeof *modes; k++) {
        mir_model_set_options(m, &modes[k].o, &err);
        float *dst = k == 0 || fast_only ? ref : out;
        double f0 = mir_wall_seconds();
        for (size_t i = 0; i < done; i++) {
            mir_module_view view = mir_encoded_view(&enc[i]);
            mir_embed_view(m, &view, dst + i * D, &err);
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
        double per = (extract + fwd) / (double)done, flops = 0;
        for (size_t i = 0; i < done; i++) {
            mir_module_view view = mir_encoded_view(&enc[i]);
            flops += mode_flops(c, &view, &modes[k].o);
        }
        if (fast_only)
            printf("%-34s %10.3f %10.3f %12.1f %10s %10s\n", modes[k].name, 1e3 * fwd / done, 1e3 * per, 1.0 / per,
                   "-", "-");
        else
            printf("%-34s %10.3f %10.3f %12.1f %10.4f %10.4f\n", modes[k].name, 1e3 * fwd / done, 1e3 * per,
                   1.0 / per, cs / (double)done, cmin);
        if (k == 0) printf("  exact mode: %.1f modules/s\n", 1.0 / per);
        printf("  %s: %.3f GFLOP per module in matrix products, %.1f GFLOP/s = %.0f %% of the SGEMM peak\n",
               modes[k].name, flops / (double)done / 1e9, flops / fwd / 1e9, 100 * flops / fwd / 1e9 / peak);
        if (k + 1 == sizeof modes / sizeof *modes)
            printf("fast mode: %.1f embeddings per second per rank (target >= 100: %s)\n", 1.0 / per,
                   1.0 / per >= 100 ? "PASSED" : "FAILED");
    }
    printf("peak memory: %.1f MiB\n", mir_peak_rss_bytes() / 1048576.0);
    for (size_t i = 0; i < done; i++) mir_encoded_free(&enc[i]);
    free(enc);
    free(ref);
    mir_probe_free(p);
    free(out);
    for (size_t i = 0; i < list.n; i++) free(data[i]);
    free(data);
    free(bytes);
    mir_inputs_free(&list);
    mir_model_free(m);
    MPI_Finalize();
    return 0;
}

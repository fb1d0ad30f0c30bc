/*
 * bench_infer: embeddings per second for one rank, split into parse / tokens / graph / encode / forward,
 * beside a bare LLVM parse of the same files measured in the same run.
 *
 *   bench_infer MODEL.h5 INPUT...      (INPUT as for mir-preprocess: .ll/.bc files, directories, @lists)
 *
 * Files are read into memory first. Reference: LLVMContextCreate + LLVMParseIRInContext + dispose per
 * module. Measured: parse, extraction (tokens: printing and normalising statements; graph: ProGraML
 * graph), vocabulary encoding, and the model's forward (mir_embed_view) per module. Target: >= 100
 * modules/s per rank on the device-mapping IR with the default model.
 */
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed.h"
#include "inputs.h"
#include "irmodule.h"
#include "probe.h"

enum { P_PARSE, P_TOKENS, P_GRAPH, P_ENCODE, P_FORWARD, NP };

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    if (argc < 3) {
        fprintf(stderr, "usage: bench_infer MODEL.h5 INPUT...\n");
        return 2;
    }
    mir_log_init("bench_infer", 0, 1, MIR_LOG_INFO);
    mir_error err = {{0}};
    mir_model *m = mir_model_load(argv[1], &err);
    if (!m) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
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
    /* the real thing, phase by phase */
    static const char *const names[NP] = {"parse", "tokens", "graph", "encode", "forward"};
    mir_probe *p = mir_probe_create("mir_bench_infer", names, NP, NULL, 0, 0);
    size_t D = mir_embedding_dim(m), done = 0;
    float *out = malloc(D * sizeof *out);
    const mir_vocab *v = mir_model_vocab(m);
    t0 = mir_wall_seconds();
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
                mir_encoded e;
                mir_probe_begin(p, P_ENCODE);
                mir_encode_extract(v, &x, &e);
                mir_probe_end(p, P_ENCODE);
                mir_probe_begin(p, P_FORWARD);
                mir_module_view view = mir_encoded_view(&e);
                mir_embed_view(m, &view, out, &err);
                mir_probe_end(p, P_FORWARD);
                mir_encoded_free(&e);
                done++;
            }
            mir_extract_free(&x);
            if (mod) LLVMDisposeModule(mod);
        }
        LLVMContextDispose(ctx);
    }
    double total = mir_wall_seconds() - t0;
    double w_parse = mir_probe_wall(p, P_PARSE), w_tok = mir_probe_wall(p, P_TOKENS), w_graph = mir_probe_wall(p, P_GRAPH);
    double w_enc = mir_probe_wall(p, P_ENCODE), w_fwd = mir_probe_wall(p, P_FORWARD);
    double one = w_parse + w_tok + w_graph + w_enc + w_fwd;
    const mir_config *c = mir_model_config(m);
    printf("\nbench_infer: model d_model %d, %d layers, window %d, %d graph layers (%s)\n", c->d_model, c->n_layers,
           c->max_seq, c->n_graph_layers, argv[1]);
    printf("modules: %zu inputs, %zu parsed, %zu embedded\n", list.n, parsed, done);
    printf("bare LLVMParseIRInContext: %.3f ms/module\n", 1e3 * bare / (double)parsed);
    printf("per module (ms): parse %.3f, tokens %.3f, graph %.3f, encode %.3f, forward %.3f; total %.3f\n",
           1e3 * w_parse / done, 1e3 * w_tok / done, 1e3 * w_graph / done, 1e3 * w_enc / done, 1e3 * w_fwd / done,
           1e3 * one / done);
    printf("embeddings per second per rank: %.1f (target >= 100: %s); %.1fx the bare parse time\n", done / one,
           done / one >= 100 ? "PASSED" : "FAILED", one / bare * (double)parsed / (double)done);
    printf("wall of the whole loop: %.2f s (%.1f modules/s)\n", total, done / total);
    printf("peak memory: %.1f MiB\n", mir_peak_rss_bytes() / 1048576.0);
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

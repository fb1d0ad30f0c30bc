/*
 * model.h: the MIREncoder model. Two encoders and three pre-training tasks:
 *
 *   tokens (B,T) --wte+wpe--> pre-LayerNorm transformer (n_layers) --LN--> xf (B,T,C)
 *        masked-token prediction: rows of xf at masked positions @ w_mlm (C,V) -> softmax cross-entropy
 *        (cfg.statements: position (b,s) is a statement, x = mean of wte over its pieces + wpe[s]; a masked
 *        statement's row predicts the multiset of its pieces: -(1/n_s) sum_p log softmax(xf[b,s] @ w_mlm)[p])
 *        pooled over valid positions -> u (B,C)
 *   graph (N nodes, 6 relations) --wne[text]+wkind[kind]--> relational message passing (n_graph_layers):
 *        h <- h + GELU( LN(h) @ w_self + b + sum_r mean_r(LN(h)) @ w_rel[r] ) --LN--> hf (N,C)
 *        masked node text prediction: rows of hf at masked nodes @ w_node (C,V) -> cross-entropy
 *        edge reconstruction: score(a,b) = (hf[a] @ w_edge) . hf[b], BCE against sampled non-edges
 *        pooled per graph -> v (B,C)
 *   IR-graph matching: logit = [u_i, v_j, u_i*v_j] @ w_match (3C,1) + b, BCE (j = i: 1, j != i: 0)
 *   statistics auto-encoding (cfg.stats): [u_b, v_b] @ w_stat (2C,V) + b_stat -> log(1 + number of instruction
 *        nodes with text t in graph b's window), squared error over the texts present in the micro-batch
 *   contrastive (cfg.contrastive): InfoNCE on the embedding between modules compiled from the same source file:
 *        z_b = e_b / ||e_b||, e_b = [u_b, v_b]; s_ab = z_a . z_b / MIR_CONTRAST_TAU; every anchor a with a partner p
 *        in the micro-batch: -s_ap + log sum_{b != a} exp(s_ab), mean over anchors (no parameters of its own)
 *   embedding of a module: [u, v] (2C)
 *
 * Parameters, gradients and optimiser moments each live in ONE flat allocation (mir_params_point lays the
 * named tensors out in a fixed order), so zeroing or all-reducing gradients is one call. The numerical
 * code is generic (model.inc.c) and exists as float (_f32, training and inference) and double (_f64, the
 * whole-model finite-difference test).
 */
#ifndef MIR_MODEL_H
#define MIR_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "graphops.h"
#include "rng.h"
#include "schema.h" /* special token ids MIR_TOK_*, node kinds MIR_NODE_* */

typedef struct mir_config {
    int32_t vocab_size;     /* V (from the corpus) */
    int32_t max_seq;        /* T: token window (positions) */
    int32_t d_model;        /* C */
    int32_t n_heads;        /* NH, divides C */
    int32_t n_layers;       /* transformer blocks */
    int32_t d_ff;           /* F: feed-forward width */
    int32_t n_graph_layers; /* message-passing rounds */
    int32_t max_nodes;      /* nodes per module graph in a training batch (larger graphs are windowed) */
    int32_t stats;          /* 1: statistics auto-encoding, a head (head/w_stat (2C,V), head/b_stat (V)) that
                               regresses each opcode's log(1 + count) in the graph window from [u, v]; 2: the same
                               head, each instruction counted MIR_STAT_LOOP_WEIGHT^(its loop depth) times; 0: off */
    int32_t contrastive;    /* 1: contrastive objective (InfoNCE, no parameters) pulling together the embeddings of
                               modules of one micro-batch compiled from the same source (mir_module_view.source),
                               their training windows aligned; 0: off */
    int32_t statements;     /* 1: a position of the token encoder is an IR statement (the mean of its sub-word pieces'
                               wte rows + wpe), read from a corpus whose statements end in [SEP] (mir-preprocess
                               --statement-sep); max_seq counts statements and masked prediction is per statement
                               (mir_batch.stmt_*); 0: a position is a sub-word token (the original model) */
} mir_config;

/* Temperature of the contrastive objective: similarities are cosines / MIR_CONTRAST_TAU, so they span [-10, 10]
 * (SimCLR's and CLIP's order of magnitude: sharp enough to separate a partner from the other sequences of a
 * micro-batch, not so sharp that the loss saturates at initialisation, where all cosines are close). */
#define MIR_CONTRAST_TAU 0.1

/* stats = 2: an instruction inside d nested natural loops counts MIR_STAT_LOOP_WEIGHT^min(d, MIR_STAT_LOOP_MAX_DEPTH)
 * times in the statistics targets (an assumed ten iterations per loop level, the depth capped so that the largest
 * weight, 10^4, stays far inside float; the targets are log(1 + weighted count)). */
#define MIR_STAT_LOOP_WEIGHT 10.0
#define MIR_STAT_LOOP_MAX_DEPTH 4

/* Statement positions (cfg.statements). The corpus separates statements with [SEP] (MIR_TOK_SEP, schema.h):
 * s1 pieces, SEP, s2 pieces, SEP, ...; a missing final SEP ends the last statement, empty statements (two SEPs in
 * a row) are skipped. A statement keeps its first MIR_STMT_MAX_PIECES pieces (input and target alike); the rest
 * are dropped. A masked statement's input is [MASK] (MIR_TOK_MASK), as for tokens. */
#define MIR_STMT_MAX_PIECES 64

/* Presets: "tiny" (tests), "small" (default: pre-trains on two cores in under an hour), "base" (clusters). */
int mir_config_preset(mir_config *c, const char *name, int32_t vocab_size);
/* Checks the configuration; returns 0 or -1 with a message in msg (cap bytes). */
int mir_config_check(const mir_config *c, char *msg, size_t cap);

/* Description of one named parameter tensor. */
typedef struct mir_tensor_info {
    char name[48];
    int32_t rows, cols;     /* shape (rows, cols); vectors have rows = 1 */
    size_t offset;          /* in elements from the start of the flat buffer */
} mir_tensor_info;

/* Number of parameter tensors and of parameter elements for a configuration; info (may be NULL) receives
 * the table, in the order of the flat buffer. */
int mir_params_table(const mir_config *c, mir_tensor_info *info, size_t *n_elements);
/* The same table in a new array (free() it): *n_tensors its length, *n_elements (may be NULL) as above. */
mir_tensor_info *mir_params_table_new(const mir_config *c, int *n_tensors, size_t *n_elements);

/* Model parallelism (train/dist.h): a model whose wide weight matrices are distributed over a process grid
 * routes their products through this hook. `w` is the weight as the model's parameter pointer names it (a
 * local piece when distributed); matrices are row-major as in the layers: inp (N,C), w (C,OC), out (N,OC).
 * Only the float model takes a hook. */
typedef struct mir_linear_hook {
    void *ctx;
    int (*owns)(void *ctx, const void *w);  /* 1: w is distributed, use the functions below */
    /* out (N,OC) = inp @ W (accumulate 0), or out += inp @ W (accumulate 1); no bias */
    void (*forward)(void *ctx, void *out, const void *inp, const void *w, int N, int C, int OC, int accumulate);
    /* dinp (N,C) += dout @ W^T;  dw (local piece of W's gradient) += inp^T @ dout */
    void (*backward)(void *ctx, void *dinp, void *dw, const void *dout, const void *inp, const void *w, int N,
                     int C, int OC);
} mir_linear_hook;

/* ---- a micro-batch: m modules, built from corpus data; type-independent ---- */
typedef struct mir_batch {
    int B, T;                 /* sequences and padded window length */
    int32_t *tok_in;          /* (B,T) input ids after masking; [PAD] in padding */
    int32_t *tok_target;      /* (B,T) original id at masked positions, -1 elsewhere */
    uint8_t *tok_valid;       /* (B,T) */
    int N;                    /* nodes of the batched graph */
    int32_t *node_in;         /* (N) text ids after masking */
    int8_t *node_kind;        /* (N) */
    int32_t *node_target;     /* (N) original text id of masked nodes, -1 elsewhere */
    int64_t *node_offset;     /* (B+1) graph b owns nodes [node_offset[b], node_offset[b+1]) */
    mir_csr rel[MIR_N_RELATIONS];
    int n_pairs;              /* edge reconstruction pairs */
    int32_t *pair_a, *pair_b; /* (n_pairs) node ids in the batched graph */
    float *pair_label;        /* (n_pairs) 1 edge, 0 sampled non-edge */
    int n_match;              /* matching pairs */
    int32_t *match_tok, *match_graph; /* (n_match) sequence index, graph index */
    float *match_label;       /* (n_match) */
    float *stat_target;       /* (B,V) with cfg.stats: log(1 + instruction nodes of text t in graph b's window,
                                 the root excepted), counted before masking (stats = 2: weighted by loop depth); NULL
                                 without */
    uint8_t *node_depth;      /* (N) with stats = 2: loop depth of each node in its whole module (mir_loop_depth) */
    int32_t *stat_ids;        /* (n_stat) the texts t that occur in some graph of the batch (the regressed slots) */
    int n_stat;
    int32_t *partner;         /* (B) with cfg.contrastive: the other sequence of the micro-batch compiled from the same
                                 source (the first two of a source pair up), else -1; all -1 without */
    /* cfg.statements (else unused, NULL): position i = b*T + s is a statement. tok_in holds its first input piece (0 in
     * padding), tok_target is -1 everywhere (the token path predicts nothing), tok_valid marks the statements. */
    int32_t *stmt_off;        /* (B*T+1) the input pieces of position i are stmt_piece[stmt_off[i] .. stmt_off[i+1]),
                                 after masking ([MASK] alone, another statement's pieces, or its own); none in padding */
    int32_t *stmt_piece;      /* (n_piece) */
    int32_t *stmt_tgt_off;    /* (B*T+1) the target pieces of position i, stmt_target[stmt_tgt_off[i] .. [i+1]): the
                                 original pieces of a masked statement, none for the others (masked iff non-empty) */
    int32_t *stmt_target;     /* (n_stmt_target) */
    int n_piece, n_stmt_target, n_stmt_masked;
    size_t cap_stmt_off, cap_piece, cap_stmt_target;
    size_t cap_bt, cap_n, cap_pairs, cap_match, cap_stat;
} mir_batch;

void mir_batch_init(mir_batch *b);
void mir_batch_free(mir_batch *b);

/* One module as read from a corpus (arrays owned by the caller). */
typedef struct mir_module_view {
    const int32_t *tokens; int64_t n_tokens;
    const int8_t *node_kind; const int32_t *node_text; int64_t n_nodes;
    const int32_t *edge_src, *edge_dst; const int8_t *edge_flow; int64_t n_edges;
    int64_t source;           /* modules compiled from the same source file share it (cfg.contrastive pairs them);
                                 -1: no partner. Last, so that views written positionally without it compile, but
                                 they read as source 0: set -1 where no source is known */
} mir_module_view;

typedef struct mir_batch_options {
    float mask_prob;          /* 0.15: tokens and nodes chosen for prediction */
    int max_pairs;            /* positive edges sampled per graph (as many non-edges) */
    int train;                /* 1: mask, window at random, sample; 0: no masking, window from the start */
} mir_batch_options;
void mir_batch_options_default(mir_batch_options *o);

/* Build a micro-batch from m modules with the random stream rng (BERT's 80/10/10 masking of tokens,
 * [MASK] for 15 % of node texts, random token windows of at most max_seq, graph windows of at most
 * max_nodes, edge pairs, and matching pairs (i,i) -> 1 and (i, i+1 mod m) -> 0). With cfg.contrastive, partners
 * (b->partner) from mods[].source, and when training one fraction f in [0,1) drawn per pair (before anything else
 * of the batch) places both partners' token and graph windows at the same relative position
 * (mir_window_start); without it the random stream and the batch are those of a model without the switch.
 * With cfg.statements, mods[i].tokens are statements ended by MIR_TOK_SEP and a position is a statement: a window of
 * at most max_seq statements (random start when training, else the first ones), each statement chosen with
 * mask_prob (at least one per sequence when mask_prob > 0) and then 80 % [MASK] alone, 10 % the pieces of another
 * statement of the same window drawn uniformly (a random piece of the vocabulary when the window holds one
 * statement), 10 % unchanged; its target is its own pieces (mir_batch.stmt_*). */
void mir_batch_build(mir_batch *b, const mir_module_view *mods, int m, const mir_config *c,
                     const mir_batch_options *o, mir_rng *rng);

/* Loop depth of every node of module mv (model/loops.c): the number of natural loops of the control-flow graph
 * (instruction nodes, control edges; dominators from the function entries) that contain it; 0 for nodes that are not
 * instructions, for instructions outside loops and in irreducible cycles; saturated at 255. depth (mv->n_nodes). */
void mir_loop_depth(const mir_module_view *mv, uint8_t *depth);

/* Start of a window of w items in n at the fraction f in [0,1) of the possible starts: floor(f * (n - w + 1)),
 * within [0, n - w]; 0 when n <= w. (Partners' windows, and the trainer's reading window, use it.) */
int64_t mir_window_start(double f, int64_t n, int64_t w);

/* Floating-point operations of the matrix products (GEMMs, attention products, heads) of one forward +
 * backward over batch b (backward counted as twice the forward); elementwise work is not counted. The contrastive
 * objective counts its similarity product (B,2C) @ (2C,B) when the batch has anchors. With cfg.statements, T counts
 * statements, the head's rows are the masked statements, and the statement embedding adds n_piece * C. */
double mir_model_flops(const mir_config *c, const mir_batch *b);

/* Losses of one micro-batch (means over their items), and accuracies. */
typedef struct mir_losses {
    double mlm, node, edge, match, stat, total; /* stat: mean squared error per (module, regressed slot) */
    double mlm_acc, node_acc, match_acc; /* cfg.statements: mlm is the mean over masked statements of
                                            -(1/n_s) sum_p log softmax[p]; mlm_acc the fraction of masked statements
                                            whose arg-max piece is one of theirs (not comparable to token accuracy);
                                            n_mlm counts masked statements */
    int n_mlm, n_node, n_pairs, n_match;
    double contrast, contrast_acc; /* InfoNCE per anchor; fraction of anchors most similar to their partner */
    int n_contrast;                /* anchors: sequences with a partner (0: contrast = 0, no gradient) */
} mir_losses;

#define MIR_REAL_DOUBLE 0
#include "real.h"
#include "model_decl.h"
#undef MIR_REAL_DOUBLE
#define MIR_REAL_DOUBLE 1
#include "real.h"
#include "model_decl.h"
#undef MIR_REAL_DOUBLE
#undef real
#undef R
#endif

/* model_decl.h: the generic part of model.h (included once per type; see real.h). */

/* Pointers to the named tensors inside one flat buffer (parameters, or their gradients, or a moment). */
typedef struct R(mir_params) {
    real *wte, *wpe;                          /* (V,C) token embedding, (T,C) positions */
    real **ln1_g, **ln1_b, **w_qkv, **b_qkv;  /* per layer: (C) (C) (C,3C) (3C) */
    real **w_proj, **b_proj, **ln2_g, **ln2_b;/* (C,C) (C) (C) (C) */
    real **w_fc, **b_fc, **w_fc2, **b_fc2;    /* (C,F) (F) (F,C) (C) */
    real *lnf_g, *lnf_b;                      /* (C) */
    real *w_mlm, *b_mlm;                      /* (C,V) (V) */
    real *wne, *wkind;                        /* (V,C) node text embedding, (3,C) node kind */
    real **gln_g, **gln_b, **w_self, **b_g;   /* per graph layer: (C) (C) (C,C) (C) */
    real **w_rel;                             /* per graph layer and relation: [g*6+r] (C,C) */
    real *glnf_g, *glnf_b;                    /* (C) */
    real *w_node, *b_node;                    /* (C,V) (V) */
    real *w_edge;                             /* (C,C) */
    real *w_match, *b_match;                  /* (3C,1) (1) */
    real *w_stat, *b_stat;                    /* (2C,V) (V) with cfg.stats, else NULL */
} R(mir_params);

typedef struct R(mir_model) {
    mir_config cfg;
    size_t n_params;
    real *params, *grads;         /* flat (n_params) each */
    R(mir_params) p, g;           /* pointers into params and grads */
    void *acts;                   /* activations of the last forward (opaque) */
    const mir_linear_hook *hook;  /* distributed weights' products (model parallelism), or NULL */
} R(mir_model);

/* Allocate a model for cfg (parameters zero; call mir_model_init_params to draw them). */
int R(mir_model_create)(R(mir_model) *m, const mir_config *cfg);
/* The same with another layout of the flat buffers: table[i].offset (i in mir_params_table order) and n
 * elements in all (model parallelism keeps only local pieces of distributed tensors). */
int R(mir_model_create_layout)(R(mir_model) *m, const mir_config *cfg, const mir_tensor_info *table, size_t n);
void R(mir_model_free)(R(mir_model) *m);
/* Weights ~ N(0, 0.02^2) (output projections scaled by 1/sqrt(2 n_layers)), biases 0, LayerNorm gains 1. */
void R(mir_model_init_params)(R(mir_model) *m, mir_rng *rng);
/* Point a params struct into a flat buffer laid out by mir_params_table. 0, or -1 when the table and the struct
 * disagree on the number of tensors (a defect of this code, never of the input; the pointers are then unusable). */
int R(mir_params_point)(R(mir_params) *p, real *base, const mir_config *c);
int R(mir_params_point_table)(R(mir_params) *p, real *base, const mir_config *c, const mir_tensor_info *t);
void R(mir_params_release)(R(mir_params) *p);

/* Forward over a micro-batch: fills *loss; keeps the activations for backward. */
void R(mir_model_forward)(R(mir_model) *m, const mir_batch *b, mir_losses *loss);
/* Backward of (loss->total * scale): ACCUMULATES into m->grads (zero them with memset once per step). */
void R(mir_model_backward)(R(mir_model) *m, const mir_batch *b, real scale);
/* Backward of scale * sum(dembed * embed) from the last forward, embed (B,2C) = [u, v] as mir_model_embed gives
 * it and dembed (B,2C) its gradient from a downstream head: ACCUMULATES into m->grads through both encoders;
 * the pre-training losses (and their heads) take no part. Meant for a batch built with train = 0 (fine-tuning). */
void R(mir_model_backward_embed)(R(mir_model) *m, const mir_batch *b, const real *dembed, real scale);
/* Embeddings of the B modules of a batch built with train = 0: out (B, 2C) = [pooled tokens, pooled graph]. */
void R(mir_model_embed)(R(mir_model) *m, const mir_batch *b, real *out);

/* Edge scores of the last forward (n_pairs of them, in batch order), for evaluation (AUC). */
const real *R(mir_model_last_edge_scores)(const R(mir_model) *m, int *n);

/* Free the activation memory of the last forward (a model shared read-only between threads uses a
 * shallow copy per call, then releases the copy's activations with this). */
void R(mir_model_release_acts)(R(mir_model) *m);
/* Bytes held by the activation memory of the last forward (0 when released). */
size_t R(mir_model_acts_bytes)(const R(mir_model) *m);

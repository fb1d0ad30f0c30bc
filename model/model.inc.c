/*
 * model.inc.c: forward and backward of the whole model, generic over `real` (see real.h, model.h).
 * Included by model_f32.c and model_f64.c. Every step of the forward is undone, in reverse order, in
 * the backward; the shapes are in the comments.
 */
/* (the including file provides the headers: model.h, layers.h, cblas.h, mir_common.h) */

/* ------------------------------------------------------------------------------------------------ */
/* parameters                                                                                       */

int R(mir_params_point)(R(mir_params) *p, real *base, const mir_config *c) {
    int nt = mir_params_table(c, NULL, NULL);
    mir_tensor_info *t = mir_malloc((size_t)nt * sizeof *t);
    mir_params_table(c, t, NULL);
    int rc = R(mir_params_point_table)(p, base, c, t);
    free(t);
    return rc;
}

int R(mir_params_point_table)(R(mir_params) *p, real *base, const mir_config *c, const mir_tensor_info *t) {
    int nt = mir_params_table(c, NULL, NULL);
    int k = 0;
    const int L = c->n_layers, G = c->n_graph_layers;
#define NEXT() (base + t[k++].offset)
#define ARR(n) ((real **)mir_calloc((size_t)(n) + 1, sizeof(real *)))
    memset(p, 0, sizeof *p);
    p->wte = NEXT();
    p->wpe = NEXT();
    p->ln1_g = ARR(L); p->ln1_b = ARR(L); p->w_qkv = ARR(L); p->b_qkv = ARR(L);
    p->w_proj = ARR(L); p->b_proj = ARR(L); p->ln2_g = ARR(L); p->ln2_b = ARR(L);
    p->w_fc = ARR(L); p->b_fc = ARR(L); p->w_fc2 = ARR(L); p->b_fc2 = ARR(L);
    for (int l = 0; l < L; l++) {
        p->ln1_g[l] = NEXT(); p->ln1_b[l] = NEXT(); p->w_qkv[l] = NEXT(); p->b_qkv[l] = NEXT();
        p->w_proj[l] = NEXT(); p->b_proj[l] = NEXT(); p->ln2_g[l] = NEXT(); p->ln2_b[l] = NEXT();
        p->w_fc[l] = NEXT(); p->b_fc[l] = NEXT(); p->w_fc2[l] = NEXT(); p->b_fc2[l] = NEXT();
    }
    p->lnf_g = NEXT(); p->lnf_b = NEXT();
    p->w_mlm = NEXT(); p->b_mlm = NEXT();
    p->wne = NEXT(); p->wkind = NEXT();
    p->gln_g = ARR(G); p->gln_b = ARR(G); p->w_self = ARR(G); p->b_g = ARR(G);
    p->w_rel = ARR(G * MIR_N_RELATIONS);
    for (int g = 0; g < G; g++) {
        p->gln_g[g] = NEXT(); p->gln_b[g] = NEXT(); p->w_self[g] = NEXT(); p->b_g[g] = NEXT();
        for (int r = 0; r < MIR_N_RELATIONS; r++) p->w_rel[g * MIR_N_RELATIONS + r] = NEXT();
    }
    p->glnf_g = NEXT(); p->glnf_b = NEXT();
    p->w_node = NEXT(); p->b_node = NEXT();
    p->w_edge = NEXT();
    p->w_match = NEXT(); p->b_match = NEXT();
    if (c->stats) { p->w_stat = NEXT(); p->b_stat = NEXT(); }
#undef NEXT
#undef ARR
    return k == nt ? 0 : -1;
}

void R(mir_params_release)(R(mir_params) *p) {
    real **arrays[] = {p->ln1_g, p->ln1_b, p->w_qkv, p->b_qkv, p->w_proj, p->b_proj, p->ln2_g, p->ln2_b,
                       p->w_fc, p->b_fc, p->w_fc2, p->b_fc2, p->gln_g, p->gln_b, p->w_self, p->b_g, p->w_rel};
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) free(arrays[i]);
    memset(p, 0, sizeof *p);
}

/* ------------------------------------------------------------------------------------------------ */
/* activations                                                                                      */

typedef struct R(acts) {
    real *mem; size_t cap;        /* forward arena */
    real *gmem; size_t gcap;      /* backward arena */
    int B, T, N, Mt, Mn, P, Q;
    /* token encoder */
    real *x;                      /* (L+1,B,T,C) residual stream entering each block; x[L] leaves the last */
    real *ln1, *mean1, *rstd1;    /* (L,B,T,C) (L,B,T) (L,B,T) */
    real *qkv;                    /* (L,B,T,3C) */
    real *att;                    /* (L,B,NH,T,T) */
    real *atty;                   /* (L,B,T,C) */
    real *xmid;                   /* (L,B,T,C) */
    real *ln2, *mean2, *rstd2;    /* (L,B,T,C) (L,B,T) (L,B,T) */
    real *fch, *fchg;             /* (L,B,T,F) before and after GELU */
    real *xf, *meanf, *rstdf;     /* (B,T,C) (B,T) (B,T) */
    real *mt_x, *mt_logits, *mt_probs; /* (Mt,C) (Mt,V) (Mt,V) */
    int32_t *mt_row, *mt_target;  /* (Mt) row in (B*T), target id; cfg.statements: Mt masked statements, and mt_target
                                     (Mt+1) the offsets of their target pieces in the batch's stmt_target */
    real *u;                      /* (B,C) pooled tokens */
    /* graph encoder */
    real *h;                      /* (G+1,N,C) */
    real *gln, *gmean, *grstd;    /* (G,N,C) (G,N) (G,N) */
    real *agg;                    /* (G,6,N,C): relation r's aggregation in compact form, (rel[r].n_rows,C) */
    real *gtmp;                   /* (N,C) scratch: a relation's product before it is scattered into z */
    real *z;                      /* (G,N,C) */
    real *hf, *hmean, *hrstd;     /* (N,C) (N) (N) */
    real *mn_x, *mn_logits, *mn_probs; /* (Mn,C) (Mn,V) (Mn,V) */
    int32_t *mn_row, *mn_target;  /* (Mn) */
    int32_t *kind_id;             /* (N) node kind as int32 for the embedding */
    real *e;                      /* (N,C) hf @ w_edge */
    real *score, *pair_label;     /* (P) */
    real *v;                      /* (B,C) pooled graph */
    real *mfeat, *mlogit, *mlabel;/* (Q,3C) (Q) (Q) */
    real *sfeat, *spred;          /* (S,2C) [u, v], (S,V) statistics predictions; S = B with cfg.stats, else 0 */
    int S;
    real *cz, *cnorm;             /* (K,2C) [u, v] / ||[u, v]||, (K) the norms; K = B with cfg.contrastive and an
                                     anchor in the batch, else 0 */
    real *csim, *cprob;           /* (K,K) similarities / tau; softmax of each anchor's row over b != a (0 elsewhere) */
    int K;
} R(acts);

static size_t R(acts_layout)(R(acts) *a, const mir_config *c, real *base) {
    const size_t B = (size_t)a->B, T = (size_t)a->T, C = (size_t)c->d_model, F = (size_t)c->d_ff,
                 L = (size_t)c->n_layers, NH = (size_t)c->n_heads, V = (size_t)c->vocab_size, N = (size_t)a->N,
                 G = (size_t)c->n_graph_layers, Mt = (size_t)a->Mt, Mn = (size_t)a->Mn, P = (size_t)a->P,
                 Q = (size_t)a->Q, BT = B * T;
    size_t off = 0;
#define TAKE(field, n)                        \
    do {                                      \
        a->field = base ? base + off : NULL;  \
        off += (size_t)(n);                   \
    } while (0)
#define TAKE_I(field, n)                                       \
    do {                                                       \
        a->field = base ? (int32_t *)(void *)(base + off) : NULL; \
        off += ((size_t)(n) * sizeof(int32_t) + sizeof(real) - 1) / sizeof(real); \
    } while (0)
    TAKE(x, (L + 1) * BT * C);
    TAKE(ln1, L * BT * C); TAKE(mean1, L * BT); TAKE(rstd1, L * BT);
    TAKE(qkv, L * BT * 3 * C);
    TAKE(att, L * B * NH * T * T);
    TAKE(atty, L * BT * C); TAKE(xmid, L * BT * C);
    TAKE(ln2, L * BT * C); TAKE(mean2, L * BT); TAKE(rstd2, L * BT);
    TAKE(fch, L * BT * F); TAKE(fchg, L * BT * F);
    TAKE(xf, BT * C); TAKE(meanf, BT); TAKE(rstdf, BT);
    TAKE(mt_x, Mt * C); TAKE(mt_logits, Mt * V); TAKE(mt_probs, Mt * V);
    TAKE_I(mt_row, Mt); TAKE_I(mt_target, Mt + (c->statements ? 1 : 0));
    TAKE(u, B * C);
    TAKE(h, (G + 1) * N * C);
    TAKE(gln, G * N * C); TAKE(gmean, G * N); TAKE(grstd, G * N);
    TAKE(agg, G * MIR_N_RELATIONS * N * C);
    TAKE(gtmp, N * C);
    TAKE(z, G * N * C);
    TAKE(hf, N * C); TAKE(hmean, N); TAKE(hrstd, N);
    TAKE(mn_x, Mn * C); TAKE(mn_logits, Mn * V); TAKE(mn_probs, Mn * V);
    TAKE_I(mn_row, Mn); TAKE_I(mn_target, Mn); TAKE_I(kind_id, N);
    TAKE(e, N * C);
    TAKE(score, P); TAKE(pair_label, P);
    TAKE(v, B * C);
    TAKE(mfeat, Q * 3 * C); TAKE(mlogit, Q); TAKE(mlabel, Q);
    TAKE(sfeat, (size_t)a->S * 2 * C); TAKE(spred, (size_t)a->S * V);
    TAKE(cz, (size_t)a->K * 2 * C); TAKE(cnorm, (size_t)a->K);
    TAKE(csim, (size_t)a->K * a->K); TAKE(cprob, (size_t)a->K * a->K);
#undef TAKE
#undef TAKE_I
    return off;
}

static R(acts) *R(acts_prepare)(R(mir_model) *m, const mir_batch *b) {
    R(acts) *a = m->acts;
    if (!a) a = m->acts = mir_calloc(1, sizeof *a);
    a->B = b->B;
    a->T = b->T;
    a->N = b->N;
    a->Mt = 0;
    for (int i = 0; i < b->B * b->T; i++) a->Mt += b->tok_target[i] >= 0;
    if (m->cfg.statements) a->Mt = b->n_stmt_masked;
    a->Mn = 0;
    for (int i = 0; i < b->N; i++) a->Mn += b->node_target[i] >= 0;
    a->P = b->n_pairs;
    a->Q = b->n_match;
    a->S = m->cfg.stats && b->stat_target && b->n_stat > 0 ? b->B : 0;
    a->K = 0;
    for (int i = 0; m->cfg.contrastive && b->partner && i < b->B; i++)
        if (b->partner[i] >= 0) a->K = b->B;
    size_t need = R(acts_layout)(a, &m->cfg, NULL) + 1;
    if (need > a->cap) {
        free(a->mem);
        a->mem = mir_malloc(need * sizeof(real));
        a->cap = need;
    }
    R(acts_layout)(a, &m->cfg, a->mem);
    return a;
}

int R(mir_model_create)(R(mir_model) *m, const mir_config *cfg) {
    memset(m, 0, sizeof *m);
    char msg[256];
    if (mir_config_check(cfg, msg, sizeof msg)) return -1;
    m->cfg = *cfg;
    mir_params_table(cfg, NULL, &m->n_params);
    m->params = mir_calloc(m->n_params, sizeof(real));
    m->grads = mir_calloc(m->n_params, sizeof(real));
    if (R(mir_params_point)(&m->p, m->params, cfg) || R(mir_params_point)(&m->g, m->grads, cfg)) {
        R(mir_model_free)(m);
        return -1;
    }
    return 0;
}

int R(mir_model_create_layout)(R(mir_model) *m, const mir_config *cfg, const mir_tensor_info *table, size_t n) {
    memset(m, 0, sizeof *m);
    char msg[256];
    if (mir_config_check(cfg, msg, sizeof msg)) return -1;
    m->cfg = *cfg;
    m->n_params = n;
    m->params = mir_calloc(n, sizeof(real));
    m->grads = mir_calloc(n, sizeof(real));
    if (R(mir_params_point_table)(&m->p, m->params, cfg, table) ||
        R(mir_params_point_table)(&m->g, m->grads, cfg, table)) {
        R(mir_model_free)(m);
        return -1;
    }
    return 0;
}

void R(mir_model_free)(R(mir_model) *m) {
    R(acts) *a = m->acts;
    if (a) {
        free(a->mem);
        free(a->gmem);
        free(a);
    }
    R(mir_params_release)(&m->p);
    R(mir_params_release)(&m->g);
    free(m->params);
    free(m->grads);
    memset(m, 0, sizeof *m);
}

void R(mir_model_init_params)(R(mir_model) *m, mir_rng *rng) {
    const mir_config *c = &m->cfg;
    int nt = mir_params_table(c, NULL, NULL);
    mir_tensor_info *t = mir_malloc((size_t)nt * sizeof *t);
    mir_params_table(c, t, NULL);
    double proj_scale = 1.0 / sqrt(2.0 * (c->n_layers > 0 ? c->n_layers : 1));
    for (int k = 0; k < nt; k++) {
        real *w = m->params + t[k].offset;
        size_t n = (size_t)t[k].rows * (size_t)t[k].cols;
        const char *name = strrchr(t[k].name, '/') + 1;
        if (!strncmp(name, "ln", 2) && name[strlen(name) - 1] == 'g') {
            for (size_t i = 0; i < n; i++) w[i] = 1;
        } else if (t[k].rows == 1 || !strcmp(name, "b_match")) {
            for (size_t i = 0; i < n; i++) w[i] = 0;
        } else {
            double sd = 0.02;
            if (!strcmp(name, "w_proj") || !strcmp(name, "w_fc2")) sd *= proj_scale;
            for (size_t i = 0; i < n; i++) w[i] = (real)(sd * mir_rng_normal(rng));
        }
    }
    free(t);
}

/* ------------------------------------------------------------------------------------------------ */
/* forward                                                                                          */

#ifndef CONTRAST_EPS
#define CONTRAST_EPS 1e-12 /* the contrastive objective normalises e / max(||e||, eps) */
#endif

static void R(add_inplace)(real *y, const real *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

static int R(argmax_row)(const real *row, int V) {
    int best = 0;
    for (int j = 1; j < V; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

/* The products with weight matrices: through the model-parallel hook when the weight is distributed
 * (the bias, replicated, is added here), else the plain layer. */
static void R(lin_fwd)(const R(mir_model) *m, real *out, const real *inp, const real *w, const real *bias, int N,
                       int C, int OC) {
    if (!m->hook || !m->hook->owns(m->hook->ctx, w)) {
        R(mir_linear_forward)(out, inp, w, bias, N, C, OC);
        return;
    }
    m->hook->forward(m->hook->ctx, out, inp, w, N, C, OC, 0);
    if (bias)
        for (int i = 0; i < N; i++)
            for (int o = 0; o < OC; o++) out[(size_t)i * OC + o] += bias[o];
}

/* out (N,OC) += inp @ w */
static void R(lin_acc)(const R(mir_model) *m, real *out, const real *inp, const real *w, int N, int C, int OC) {
    if (m->hook && m->hook->owns(m->hook->ctx, w))
        m->hook->forward(m->hook->ctx, out, inp, w, N, C, OC, 1);
    else
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, OC, C, 1, inp, C, w, OC, 1, out, OC);
}

static void R(lin_bwd)(const R(mir_model) *m, real *dinp, real *dw, real *dbias, const real *dout, const real *inp,
                       const real *w, int N, int C, int OC) {
    if (!m->hook || !m->hook->owns(m->hook->ctx, w)) {
        R(mir_linear_backward)(dinp, dw, dbias, dout, inp, w, N, C, OC);
        return;
    }
    m->hook->backward(m->hook->ctx, dinp, dw, dout, inp, w, N, C, OC);
    if (dbias)
        for (int i = 0; i < N; i++)
            for (int o = 0; o < OC; o++) dbias[o] += dout[(size_t)i * OC + o];
}

/* Masked-token prediction: the rows of xf at masked tokens @ w_mlm (C,V) + b_mlm, softmax cross-entropy. */
static void R(token_mlm_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, BT = b->B * b->T;
    int k = 0;
    for (int i = 0; i < BT; i++)
        if (b->tok_target[i] >= 0) {
            a->mt_row[k] = i;
            a->mt_target[k] = b->tok_target[i];
            memcpy(a->mt_x + (size_t)k * C, a->xf + (size_t)i * C, (size_t)C * sizeof(real));
            k++;
        }
    if (a->Mt > 0) {
        int counted = 0;
        R(lin_fwd)(m, a->mt_logits, a->mt_x, m->p.w_mlm, m->p.b_mlm, a->Mt, C, V);
        real sum = R(mir_xent_forward)(a->mt_probs, a->mt_logits, a->mt_target, a->Mt, V, &counted);
        loss->mlm = counted ? (double)sum / counted : 0.0;
        int hits = 0;
        for (int i = 0; i < a->Mt; i++) hits += R(argmax_row)(a->mt_logits + (size_t)i * V, V) == a->mt_target[i];
        loss->mlm_acc = (double)hits / a->Mt;
        loss->n_mlm = a->Mt;
    }
}

/* Masked-statement prediction (cfg.statements): the rows of xf at masked statements @ w_mlm (C,V) + b_mlm, each
 * against the multiset of its pieces (mir_bag_xent); mlm_acc: the fraction whose arg-max piece is one of theirs. */
static void R(stmt_mlm_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, BT = b->B * b->T;
    int k = 0;
    for (int i = 0; i < BT; i++)
        if (b->stmt_tgt_off[i + 1] > b->stmt_tgt_off[i]) {
            a->mt_row[k] = i;
            a->mt_target[k] = b->stmt_tgt_off[i];
            memcpy(a->mt_x + (size_t)k * C, a->xf + (size_t)i * C, (size_t)C * sizeof(real));
            k++;
        }
    a->mt_target[k] = b->stmt_tgt_off[BT]; /* the masked rows' pieces are contiguous: k = Mt closes the last */
    if (a->Mt == 0) return;
    int counted = 0;
    R(lin_fwd)(m, a->mt_logits, a->mt_x, m->p.w_mlm, m->p.b_mlm, a->Mt, C, V);
    real sum = R(mir_bag_xent_forward)(a->mt_probs, a->mt_logits, a->mt_target, b->stmt_target, a->Mt, V, &counted);
    loss->mlm = counted ? (double)sum / counted : 0.0;
    int hits = 0;
    for (int r = 0; r < a->Mt; r++) {
        const int best = R(argmax_row)(a->mt_logits + (size_t)r * V, V);
        int hit = 0;
        for (int j = a->mt_target[r]; j < a->mt_target[r + 1] && !hit; j++) hit = b->stmt_target[j] == best;
        hits += hit;
    }
    loss->mlm_acc = (double)hits / a->Mt;
    loss->n_mlm = a->Mt;
}

/* One pre-LayerNorm transformer block l: xmid = x_l + proj(attention(qkv(LN1(x_l)))), then
 * x_{l+1} = xmid + fc2(gelu(fc(LN2(xmid)))). */
static void R(block_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, int l) {
    const mir_config *c = &m->cfg;
    const R(mir_params) *p = &m->p;
    const int B = b->B, T = b->T, C = c->d_model, F = c->d_ff, NH = c->n_heads, BT = B * T;
    real *x = a->x + (size_t)l * BT * C, *xn = a->x + (size_t)(l + 1) * BT * C;
    real *ln1 = a->ln1 + (size_t)l * BT * C, *qkv = a->qkv + (size_t)l * BT * 3 * C;
    real *att = a->att + (size_t)l * B * NH * T * T, *atty = a->atty + (size_t)l * BT * C;
    real *xmid = a->xmid + (size_t)l * BT * C, *ln2 = a->ln2 + (size_t)l * BT * C;
    real *fch = a->fch + (size_t)l * BT * F, *fchg = a->fchg + (size_t)l * BT * F;
    R(mir_layernorm_forward)(ln1, a->mean1 + (size_t)l * BT, a->rstd1 + (size_t)l * BT, x, p->ln1_g[l],
                             p->ln1_b[l], BT, C);
    R(lin_fwd)(m, qkv, ln1, p->w_qkv[l], p->b_qkv[l], BT, C, 3 * C);
    R(mir_attention_forward)(atty, att, qkv, b->tok_valid, B, T, C, NH);
    R(lin_fwd)(m, xmid, atty, p->w_proj[l], p->b_proj[l], BT, C, C);
    R(add_inplace)(xmid, x, (size_t)BT * C);
    R(mir_layernorm_forward)(ln2, a->mean2 + (size_t)l * BT, a->rstd2 + (size_t)l * BT, xmid, p->ln2_g[l],
                             p->ln2_b[l], BT, C);
    R(lin_fwd)(m, fch, ln2, p->w_fc[l], p->b_fc[l], BT, C, F);
    R(mir_gelu_forward)(fchg, fch, (long)BT * F);
    R(lin_fwd)(m, xn, fchg, p->w_fc2[l], p->b_fc2[l], BT, F, C);
    R(add_inplace)(xn, xmid, (size_t)BT * C);
}

/* The token encoder: embedding (of tokens, or of statements), the n_layers blocks, the final LayerNorm -> xf. */
static void R(token_encoder_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b) {
    const mir_config *c = &m->cfg;
    const R(mir_params) *p = &m->p;
    const int T = b->T, C = c->d_model, L = c->n_layers, BT = b->B * T;
    if (c->statements) /* x[b,s] = mean of wte over the statement's pieces + wpe[s] */
        R(mir_bag_embedding_forward)(a->x, b->stmt_off, b->stmt_piece, p->wte, p->wpe, BT, T, C);
    else
        R(mir_embedding_forward)(a->x, b->tok_in, p->wte, p->wpe, BT, T, C);
    for (int l = 0; l < L; l++) R(block_forward)(m, a, b, l);
    R(mir_layernorm_forward)(a->xf, a->meanf, a->rstdf, a->x + (size_t)L * BT * C, p->lnf_g, p->lnf_b, BT, C);
}

/* One message-passing round g: h_{g+1} = h_g + GELU(LN(h_g) @ w_self + b + sum_r mean_r(LN(h_g)) @ w_rel[r]). */
static void R(graph_layer_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, int g) {
    const R(mir_params) *p = &m->p;
    const int C = m->cfg.d_model, N = b->N;
    real *h = a->h + (size_t)g * N * C, *hn = a->h + (size_t)(g + 1) * N * C;
    real *ln = a->gln + (size_t)g * N * C, *z = a->z + (size_t)g * N * C;
    R(mir_layernorm_forward)(ln, a->gmean + (size_t)g * N, a->grstd + (size_t)g * N, h, p->gln_g[g], p->gln_b[g],
                             N, C);
    R(lin_fwd)(m, z, ln, p->w_self[g], p->b_g[g], N, C, C);
    for (int r = 0; r < MIR_N_RELATIONS; r++) {
        /* only the rows that receive messages through r: the others add nothing to z */
        const mir_csr *rel = &b->rel[r];
        const real *w = p->w_rel[g * MIR_N_RELATIONS + r];
        real *agg = a->agg + ((size_t)g * MIR_N_RELATIONS + r) * N * C;
        R(mir_spmm_mean_rows_forward)(agg, ln, rel, C);
        if (rel->n_rows == N) {
            R(lin_acc)(m, z, agg, w, N, C, C);
        } else if (rel->n_rows > 0) {
            R(lin_fwd)(m, a->gtmp, agg, w, NULL, rel->n_rows, C, C);
            for (int k = 0; k < rel->n_rows; k++)
                R(add_inplace)(z + (size_t)rel->rows[k] * C, a->gtmp + (size_t)k * C, (size_t)C);
        }
    }
    R(mir_gelu_forward)(hn, z, (long)N * C);
    R(add_inplace)(hn, h, (size_t)N * C);
}

/* The graph encoder (N > 0): node text + kind embedding, the n_graph_layers rounds, the final LayerNorm -> hf. */
static void R(graph_encoder_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b) {
    const R(mir_params) *p = &m->p;
    const int C = m->cfg.d_model, G = m->cfg.n_graph_layers, N = b->N;
    R(mir_embedding_forward)(a->h, b->node_in, p->wne, NULL, N, N, C);
    for (int i = 0; i < N; i++) {
        a->kind_id[i] = b->node_kind[i];
        R(add_inplace)(a->h + (size_t)i * C, p->wkind + (size_t)b->node_kind[i] * C, (size_t)C);
    }
    for (int g = 0; g < G; g++) R(graph_layer_forward)(m, a, b, g);
    R(mir_layernorm_forward)(a->hf, a->hmean, a->hrstd, a->h + (size_t)G * N * C, p->glnf_g, p->glnf_b, N, C);
}

/* Masked node text prediction: the rows of hf at masked nodes @ w_node (C,V) + b_node, softmax cross-entropy. */
static void R(node_mlm_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size, N = b->N;
    int k = 0;
    for (int i = 0; i < N; i++)
        if (b->node_target[i] >= 0) {
            a->mn_row[k] = i;
            a->mn_target[k] = b->node_target[i];
            memcpy(a->mn_x + (size_t)k * C, a->hf + (size_t)i * C, (size_t)C * sizeof(real));
            k++;
        }
    if (a->Mn > 0) {
        int counted = 0;
        R(lin_fwd)(m, a->mn_logits, a->mn_x, m->p.w_node, m->p.b_node, a->Mn, C, V);
        real sum = R(mir_xent_forward)(a->mn_probs, a->mn_logits, a->mn_target, a->Mn, V, &counted);
        loss->node = counted ? (double)sum / counted : 0.0;
        int hits = 0;
        for (int i = 0; i < a->Mn; i++) hits += R(argmax_row)(a->mn_logits + (size_t)i * V, V) == a->mn_target[i];
        loss->node_acc = (double)hits / a->Mn;
        loss->n_node = a->Mn;
    }
}

/* Edge reconstruction (P > 0): score(a,b) = (hf[a] @ w_edge) . hf[b], binary cross-entropy against the labels. */
static void R(edge_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int C = m->cfg.d_model, N = b->N;
    R(lin_fwd)(m, a->e, a->hf, m->p.w_edge, NULL, N, C, C);
    R(mir_edge_score_forward)(a->score, a->e, b->pair_a, b->pair_b, a->P, C);
    for (int i = 0; i < a->P; i++) a->pair_label[i] = (real)b->pair_label[i];
    loss->edge = (double)R(mir_bce_forward)(a->score, a->pair_label, a->P) / a->P;
    loss->n_pairs = a->P;
}

/* IR-graph matching (Q > 0): logit = [u_i, v_j, u_i*v_j] @ w_match + b_match, binary cross-entropy. */
static void R(match_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int C = m->cfg.d_model;
    for (int q = 0; q < a->Q; q++) {
        const real *u = a->u + (size_t)b->match_tok[q] * C, *v = a->v + (size_t)b->match_graph[q] * C;
        real *f = a->mfeat + (size_t)q * 3 * C;
        for (int j = 0; j < C; j++) {
            f[j] = u[j];
            f[C + j] = v[j];
            f[2 * C + j] = u[j] * v[j];
        }
        a->mlabel[q] = (real)b->match_label[q];
    }
    R(lin_fwd)(m, a->mlogit, a->mfeat, m->p.w_match, m->p.b_match, a->Q, 3 * C, 1);
    loss->match = (double)R(mir_bce_forward)(a->mlogit, a->mlabel, a->Q) / a->Q;
    int hits = 0;
    for (int q = 0; q < a->Q; q++) hits += (a->mlogit[q] > 0) == (a->mlabel[q] > (real)0.5);
    loss->match_acc = (double)hits / a->Q;
    loss->n_match = a->Q;
}

/* Statistics auto-encoding (S > 0): [u_b, v_b] @ w_stat + b_stat, squared error over the regressed slots. */
static void R(stat_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int B = b->B, C = m->cfg.d_model, V = m->cfg.vocab_size;
    for (int i = 0; i < B; i++) {
        memcpy(a->sfeat + (size_t)i * 2 * C, a->u + (size_t)i * C, (size_t)C * sizeof(real));
        memcpy(a->sfeat + (size_t)i * 2 * C + C, a->v + (size_t)i * C, (size_t)C * sizeof(real));
    }
    R(lin_fwd)(m, a->spred, a->sfeat, m->p.w_stat, m->p.b_stat, B, 2 * C, V);
    double sq = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < b->n_stat; k++) {
            size_t j = (size_t)i * V + (size_t)b->stat_ids[k];
            double d = (double)a->spred[j] - (double)b->stat_target[j];
            sq += d * d;
        }
    loss->stat = sq / ((double)B * b->n_stat);
}

/* Contrastive (K > 0): InfoNCE between partners on the normalised embedding z = [u, v] / ||[u, v]||. */
static void R(contrast_forward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, mir_losses *loss) {
    const int B = b->B, C = m->cfg.d_model, D = 2 * C;
    for (int i = 0; i < B; i++) {
        real *z = a->cz + (size_t)i * D;
        memcpy(z, a->u + (size_t)i * C, (size_t)C * sizeof(real));
        memcpy(z + C, a->v + (size_t)i * C, (size_t)C * sizeof(real));
        double ss = 0;
        for (int t = 0; t < D; t++) ss += (double)z[t] * z[t];
        a->cnorm[i] = (real)sqrt(ss);
        const real inv = (real)(1.0 / fmax(sqrt(ss), CONTRAST_EPS));
        for (int t = 0; t < D; t++) z[t] *= inv;
    }
    GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, B, B, D, (real)(1.0 / MIR_CONTRAST_TAU), a->cz, D, a->cz, D, 0,
         a->csim, B);
    double sum = 0;
    int n = 0, hits = 0;
    for (int i = 0; i < B; i++) {
        const int pi = b->partner[i];
        const real *sr = a->csim + (size_t)i * B;
        real *pr = a->cprob + (size_t)i * B;
        memset(pr, 0, (size_t)B * sizeof(real));
        if (pi < 0) continue;
        int best = -1; /* the most similar other sequence (the first of ties) */
        for (int j = 0; j < B; j++)
            if (j != i && (best < 0 || sr[j] > sr[best])) best = j;
        double zsum = 0;
        for (int j = 0; j < B; j++)
            if (j != i) zsum += (double)(pr[j] = (real)exp((double)sr[j] - (double)sr[best]));
        for (int j = 0; j < B; j++) pr[j] = (real)((double)pr[j] / zsum);
        sum += (double)sr[best] + log(zsum) - (double)sr[pi];
        hits += best == pi;
        n++;
    }
    loss->contrast = sum / n;
    loss->contrast_acc = (double)hits / n;
    loss->n_contrast = n;
}

void R(mir_model_forward)(R(mir_model) *m, const mir_batch *b, mir_losses *loss) {
    const mir_config *c = &m->cfg;
    R(acts) *a = R(acts_prepare)(m, b);
    const int B = b->B, T = b->T, C = c->d_model;
    memset(loss, 0, sizeof *loss);

    /* ---- token encoder ---- */
    R(token_encoder_forward)(m, a, b);
    /* masked-token prediction on the masked rows only (cfg.statements: on the masked statements) */
    if (c->statements)
        R(stmt_mlm_forward)(m, a, b, loss);
    else
        R(token_mlm_forward)(m, a, b, loss);
    R(mir_pool_forward)(a->u, a->xf, b->tok_valid, B, T, C);

    /* ---- graph encoder ---- */
    if (b->N > 0) {
        R(graph_encoder_forward)(m, a, b);
        R(node_mlm_forward)(m, a, b, loss);
        if (a->P > 0) R(edge_forward)(m, a, b, loss);
        R(mir_segment_mean_forward)(a->v, a->hf, b->node_offset, B, C);
    } else {
        memset(a->v, 0, (size_t)B * C * sizeof(real));
    }

    /* ---- IR-graph matching, statistics auto-encoding, contrastive: heads on the embedding [u, v] ---- */
    if (a->Q > 0) R(match_forward)(m, a, b, loss);
    if (a->S > 0) R(stat_forward)(m, a, b, loss);
    if (a->K > 0) R(contrast_forward)(m, a, b, loss);
    loss->total = loss->mlm + loss->node + loss->edge + loss->match + loss->stat + loss->contrast;
}

/* ------------------------------------------------------------------------------------------------ */
/* backward                                                                                         */

/* The backward's gradient buffers, carved out of one arena (a->gmem) that is zeroed at every backward. */
typedef struct R(bwd_ws) {
    real *dx, *dxf, *dln, *datty;       /* (B,T,C) each: token encoder */
    real *dfch, *dfchg;                 /* (B,T,F) */
    real *dqkv;                         /* (B,T,3C) */
    real *scratch;                      /* (B,NH,T,T) attention backward's workspace */
    real *dlogits, *drows;              /* (max(Mt,Mn),V) (max(Mt,Mn),C): a masked-prediction head's */
    real *dh, *dhf, *dz, *dln_g, *dagg; /* (N,C) each: graph encoder */
    real *dscore;                       /* (P) */
    real *dmfeat, *dmlogit;             /* (Q,3C) (Q) */
    real *du, *dv;                      /* (B,C) the pooled tokens and graph */
    real *dspred, *dsfeat;              /* (S,V) (S,2C) */
    real *dcsim, *dcz;                  /* (K,K) (K,2C) */
} R(bwd_ws);

/* Size a->gmem for batch b (growing it when needed), zero it and lay the gradient buffers out in it. */
static void R(bwd_ws_prepare)(R(mir_model) *m, R(acts) *a, const mir_batch *b, R(bwd_ws) *w) {
    const mir_config *c = &m->cfg;
    const int B = b->B, T = b->T, C = c->d_model, F = c->d_ff, NH = c->n_heads, V = c->vocab_size, N = b->N,
              BT = B * T;
    const size_t BTC = (size_t)BT * C, NC = (size_t)N * C;
    size_t big = (size_t)a->Mt * V;
    if ((size_t)a->Mn * V > big) big = (size_t)a->Mn * V;
    size_t need = 4 * BTC + 2 * (size_t)BT * F + 3 * (size_t)BT * C + (size_t)B * NH * T * T + big +
                  (size_t)(a->Mt > a->Mn ? a->Mt : a->Mn) * C + 5 * NC + (size_t)a->P + (size_t)a->Q * 4 * C +
                  (size_t)a->Q + 2 * (size_t)B * C + (size_t)a->S * ((size_t)V + 2 * C) +
                  (size_t)a->K * ((size_t)a->K + 2 * C) + 16;
    if (need > a->gcap) {
        free(a->gmem);
        a->gmem = mir_malloc(need * sizeof(real));
        a->gcap = need;
    }
    memset(a->gmem, 0, need * sizeof(real));
    real *q = a->gmem;
#define GRAB(n) (q += (n), q - (n))
    w->dx = GRAB(BTC); w->dxf = GRAB(BTC); w->dln = GRAB(BTC); w->datty = GRAB(BTC);
    w->dfch = GRAB((size_t)BT * F); w->dfchg = GRAB((size_t)BT * F);
    w->dqkv = GRAB(3 * BTC);
    w->scratch = GRAB((size_t)B * NH * T * T);
    w->dlogits = GRAB(big);
    w->drows = GRAB((size_t)(a->Mt > a->Mn ? a->Mt : a->Mn) * C);
    w->dh = GRAB(NC); w->dhf = GRAB(NC); w->dz = GRAB(NC); w->dln_g = GRAB(NC); w->dagg = GRAB(NC);
    w->dscore = GRAB((size_t)a->P);
    w->dmfeat = GRAB((size_t)a->Q * 3 * C); w->dmlogit = GRAB((size_t)a->Q);
    w->du = GRAB((size_t)B * C); w->dv = GRAB((size_t)B * C);
    w->dspred = GRAB((size_t)a->S * V); w->dsfeat = GRAB((size_t)a->S * 2 * C);
    w->dcsim = GRAB((size_t)a->K * a->K); w->dcz = GRAB((size_t)a->K * 2 * C);
#undef GRAB
}

/* ---- statistics auto-encoding: loss = sum over (i, regressed slot) of (pred - target)^2 / (B n_stat) ---- */
static void R(stat_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, real scale, R(bwd_ws) *w) {
    const int B = b->B, C = m->cfg.d_model, V = m->cfg.vocab_size;
    const real k2 = (real)(2.0 / ((double)B * b->n_stat)) * scale;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < b->n_stat; k++) {
            size_t j = (size_t)i * V + (size_t)b->stat_ids[k];
            w->dspred[j] = k2 * (a->spred[j] - (real)b->stat_target[j]);
        }
    R(lin_bwd)(m, w->dsfeat, m->g.w_stat, m->g.b_stat, w->dspred, a->sfeat, m->p.w_stat, B, 2 * C, V);
    for (int i = 0; i < B; i++)
        for (int t = 0; t < C; t++) {
            w->du[(size_t)i * C + t] += w->dsfeat[(size_t)i * 2 * C + t];
            w->dv[(size_t)i * C + t] += w->dsfeat[(size_t)i * 2 * C + C + t];
        }
}

/* ---- contrastive: d loss / d s_ab = (P_ab - [b = partner of a]) / n_anchors for anchors a; s = Z Z^T / tau,
 * so dZ = (dS + dS^T) Z / tau; z = e / ||e||: de = (dz - z (z . dz)) / ||e||; e = [u, v] ---- */
static void R(contrast_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, real scale, R(bwd_ws) *w) {
    const int B = b->B, C = m->cfg.d_model, D = 2 * C;
    real *dcsim = w->dcsim, *dcz = w->dcz;
    int n = 0;
    for (int i = 0; i < B; i++) n += b->partner[i] >= 0;
    const real k1 = (real)(1.0 / ((double)n * MIR_CONTRAST_TAU)) * scale;
    for (int i = 0; i < B; i++) {
        const int pi = b->partner[i];
        if (pi < 0) continue;
        for (int j = 0; j < B; j++) dcsim[(size_t)i * B + j] = k1 * (a->cprob[(size_t)i * B + j] - (real)(j == pi));
    }
    GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, B, 1, dcsim, B, a->cz, D, 0, dcz, D);
    GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, B, D, B, 1, dcsim, B, a->cz, D, 1, dcz, D);
    for (int i = 0; i < B; i++) {
        const real *z = a->cz + (size_t)i * D, *dz = dcz + (size_t)i * D;
        real dot = 0;
        for (int t = 0; t < D; t++) dot += z[t] * dz[t];
        const double nrm = (double)a->cnorm[i];
        const real inv = (real)(1.0 / fmax(nrm, CONTRAST_EPS));
        if (nrm < CONTRAST_EPS) dot = 0; /* z = e / eps is linear in e there */
        for (int t = 0; t < C; t++) {
            w->du[(size_t)i * C + t] += inv * (dz[t] - z[t] * dot);
            w->dv[(size_t)i * C + t] += inv * (dz[C + t] - z[C + t] * dot);
        }
    }
}

/* ---- matching ---- */
static void R(match_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, real scale, R(bwd_ws) *w) {
    const int C = m->cfg.d_model;
    R(mir_bce_backward)(w->dmlogit, a->mlogit, a->mlabel, a->Q, scale / a->Q);
    R(lin_bwd)(m, w->dmfeat, m->g.w_match, m->g.b_match, w->dmlogit, a->mfeat, m->p.w_match, a->Q, 3 * C, 1);
    for (int k = 0; k < a->Q; k++) {
        int i = b->match_tok[k], j = b->match_graph[k];
        const real *u = a->u + (size_t)i * C, *v = a->v + (size_t)j * C, *df = w->dmfeat + (size_t)k * 3 * C;
        for (int t = 0; t < C; t++) {
            w->du[(size_t)i * C + t] += df[t] + df[2 * C + t] * v[t];
            w->dv[(size_t)j * C + t] += df[C + t] + df[2 * C + t] * u[t];
        }
    }
}

/* ---- edge reconstruction: into dhf ---- */
static void R(edge_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, real scale, R(bwd_ws) *w) {
    const int C = m->cfg.d_model, N = b->N;
    R(mir_bce_backward)(w->dscore, a->score, a->pair_label, a->P, scale / a->P);
    memset(w->dz, 0, (size_t)N * C * sizeof(real));
    R(mir_edge_score_backward)(w->dz, w->dscore, a->e, b->pair_a, b->pair_b, a->P, C); /* dz: d e */
    R(lin_bwd)(m, w->dhf, m->g.w_edge, NULL, w->dz, a->hf, m->p.w_edge, N, C, C);
}

/* ---- masked node text prediction: into dhf ---- */
static void R(node_mlm_backward)(R(mir_model) *m, R(acts) *a, real scale, R(bwd_ws) *w) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size;
    memset(w->dlogits, 0, (size_t)a->Mn * V * sizeof(real));
    memset(w->drows, 0, (size_t)a->Mn * C * sizeof(real));
    R(mir_xent_backward)(w->dlogits, a->mn_probs, a->mn_target, a->Mn, V, scale / a->Mn);
    R(lin_bwd)(m, w->drows, m->g.w_node, m->g.b_node, w->dlogits, a->mn_x, m->p.w_node, a->Mn, C, V);
    for (int k = 0; k < a->Mn; k++)
        R(add_inplace)(w->dhf + (size_t)a->mn_row[k] * C, w->drows + (size_t)k * C, (size_t)C);
}

/* ---- one message-passing round g: dh holds d h_{g+1} on entry, d h_g on return ---- */
static void R(graph_layer_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, int g, R(bwd_ws) *w) {
    const R(mir_params) *p = &m->p;
    R(mir_params) *gp = &m->g;
    const int C = m->cfg.d_model, N = b->N;
    const size_t NC = (size_t)N * C;
    const real *h = a->h + (size_t)g * NC, *ln = a->gln + (size_t)g * NC, *z = a->z + (size_t)g * NC;
    real *dz = w->dz, *dln_g = w->dln_g, *dagg = w->dagg;
    memset(dz, 0, NC * sizeof(real));
    memset(dln_g, 0, NC * sizeof(real));
    R(mir_gelu_backward)(dz, z, w->dh, (long)NC); /* h_{g+1} = h_g + gelu(z): dh flows on unchanged too */
    R(lin_bwd)(m, dln_g, gp->w_self[g], gp->b_g[g], dz, ln, p->w_self[g], N, C, C);
    for (int r = 0; r < MIR_N_RELATIONS; r++) {
        /* compact, as in the forward: dz's rows that r feeds are gathered first */
        const mir_csr *rel = &b->rel[r];
        const int nr = rel->n_rows;
        const real *agg = a->agg + ((size_t)g * MIR_N_RELATIONS + r) * NC;
        if (nr == 0) continue;
        const real *dzr = dz;
        if (nr < N) {
            for (int k = 0; k < nr; k++)
                memcpy(a->gtmp + (size_t)k * C, dz + (size_t)rel->rows[k] * C, (size_t)C * sizeof(real));
            dzr = a->gtmp;
        }
        memset(dagg, 0, (size_t)nr * C * sizeof(real));
        R(lin_bwd)(m, dagg, gp->w_rel[g * MIR_N_RELATIONS + r], NULL, dzr, agg, p->w_rel[g * MIR_N_RELATIONS + r], nr,
                   C, C);
        R(mir_spmm_mean_rows_backward)(dln_g, dagg, rel, C);
    }
    R(mir_layernorm_backward)(w->dh, gp->gln_g[g], gp->gln_b[g], dln_g, h, p->gln_g[g], a->gmean + (size_t)g * N,
                              a->grstd + (size_t)g * N, N, C);
}

/* ---- the graph encoder (N > 0), from dhf: final LayerNorm, the rounds in reverse, the node embeddings ---- */
static void R(graph_encoder_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, R(bwd_ws) *w) {
    const int C = m->cfg.d_model, G = m->cfg.n_graph_layers, N = b->N;
    R(mir_layernorm_backward)(w->dh, m->g.glnf_g, m->g.glnf_b, w->dhf, a->h + (size_t)G * N * C, m->p.glnf_g,
                              a->hmean, a->hrstd, N, C);
    for (int g = G - 1; g >= 0; g--) R(graph_layer_backward)(m, a, b, g, w);
    R(mir_embedding_backward)(m->g.wne, NULL, w->dh, b->node_in, N, N, C);
    R(mir_embedding_backward)(m->g.wkind, NULL, w->dh, a->kind_id, N, N, C);
}

/* ---- masked-token prediction (cfg.statements: masked statements): into dxf ---- */
static void R(mlm_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, real scale, R(bwd_ws) *w) {
    const int C = m->cfg.d_model, V = m->cfg.vocab_size;
    memset(w->dlogits, 0, (size_t)a->Mt * V * sizeof(real));
    memset(w->drows, 0, (size_t)a->Mt * C * sizeof(real));
    if (m->cfg.statements)
        R(mir_bag_xent_backward)(w->dlogits, a->mt_probs, a->mt_target, b->stmt_target, a->Mt, V, scale / a->Mt);
    else
        R(mir_xent_backward)(w->dlogits, a->mt_probs, a->mt_target, a->Mt, V, scale / a->Mt);
    R(lin_bwd)(m, w->drows, m->g.w_mlm, m->g.b_mlm, w->dlogits, a->mt_x, m->p.w_mlm, a->Mt, C, V);
    for (int k = 0; k < a->Mt; k++)
        R(add_inplace)(w->dxf + (size_t)a->mt_row[k] * C, w->drows + (size_t)k * C, (size_t)C);
}

/* ---- one transformer block l: dx holds d x_{l+1} on entry, d x_l on return ---- */
static void R(block_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, int l, R(bwd_ws) *w) {
    const mir_config *c = &m->cfg;
    const R(mir_params) *p = &m->p;
    R(mir_params) *gp = &m->g;
    const int B = b->B, T = b->T, C = c->d_model, F = c->d_ff, NH = c->n_heads, BT = B * T;
    const size_t BTC = (size_t)BT * C;
    const real *x = a->x + (size_t)l * BTC, *ln1 = a->ln1 + (size_t)l * BTC;
    const real *qkv = a->qkv + (size_t)l * 3 * BTC, *att = a->att + (size_t)l * B * NH * T * T;
    const real *atty = a->atty + (size_t)l * BTC, *xmid = a->xmid + (size_t)l * BTC;
    const real *ln2 = a->ln2 + (size_t)l * BTC, *fch = a->fch + (size_t)l * BT * F, *fchg = a->fchg + (size_t)l * BT * F;
    real *dx = w->dx, *dln = w->dln;
    /* x_{l+1} = xmid + fc2(gelu(fc(LN2(xmid)))) : dx holds d x_{l+1} */
    memset(w->dfchg, 0, (size_t)BT * F * sizeof(real));
    memset(w->dfch, 0, (size_t)BT * F * sizeof(real));
    memset(dln, 0, BTC * sizeof(real));
    R(lin_bwd)(m, w->dfchg, gp->w_fc2[l], gp->b_fc2[l], dx, fchg, p->w_fc2[l], BT, F, C);
    R(mir_gelu_backward)(w->dfch, fch, w->dfchg, (long)BT * F);
    R(lin_bwd)(m, dln, gp->w_fc[l], gp->b_fc[l], w->dfch, ln2, p->w_fc[l], BT, C, F);
    R(mir_layernorm_backward)(dx, gp->ln2_g[l], gp->ln2_b[l], dln, xmid, p->ln2_g[l], a->mean2 + (size_t)l * BT,
                              a->rstd2 + (size_t)l * BT, BT, C);
    /* xmid = x + proj(attention(qkv(LN1(x)))) : dx now holds d xmid */
    memset(w->datty, 0, BTC * sizeof(real));
    memset(w->dqkv, 0, 3 * BTC * sizeof(real));
    memset(dln, 0, BTC * sizeof(real));
    R(lin_bwd)(m, w->datty, gp->w_proj[l], gp->b_proj[l], dx, atty, p->w_proj[l], BT, C, C);
    R(mir_attention_backward)(w->dqkv, w->scratch, w->datty, qkv, att, b->tok_valid, B, T, C, NH);
    R(lin_bwd)(m, dln, gp->w_qkv[l], gp->b_qkv[l], w->dqkv, ln1, p->w_qkv[l], BT, C, 3 * C);
    R(mir_layernorm_backward)(dx, gp->ln1_g[l], gp->ln1_b[l], dln, x, p->ln1_g[l], a->mean1 + (size_t)l * BT,
                              a->rstd1 + (size_t)l * BT, BT, C);
}

/* ---- the token encoder, from dxf: final LayerNorm, the blocks in reverse, the (token or statement) embedding ---- */
static void R(token_encoder_backward)(R(mir_model) *m, R(acts) *a, const mir_batch *b, R(bwd_ws) *w) {
    const int T = b->T, C = m->cfg.d_model, L = m->cfg.n_layers, BT = b->B * T;
    R(mir_layernorm_backward)(w->dx, m->g.lnf_g, m->g.lnf_b, w->dxf, a->x + (size_t)L * BT * C, m->p.lnf_g, a->meanf,
                              a->rstdf, BT, C);
    for (int l = L - 1; l >= 0; l--) R(block_backward)(m, a, b, l, w);
    if (m->cfg.statements)
        R(mir_bag_embedding_backward)(m->g.wte, m->g.wpe, w->dx, b->stmt_off, b->stmt_piece, BT, T, C);
    else
        R(mir_embedding_backward)(m->g.wte, m->g.wpe, w->dx, b->tok_in, BT, T, C);
}

/* The backward pass. dembed NULL: of loss->total * scale. dembed (B,2C): of scale * sum(dembed * [u, v]) alone,
 * the pre-training losses left out (mir_model_backward_embed). Every head first adds its gradient to du, dv (the
 * pooled embedding) or to dhf, dxf (the encoders' outputs); the encoders then carry them down to the parameters. */
static void R(backward_impl)(R(mir_model) *m, const mir_batch *b, real scale, const real *dembed) {
    R(acts) *a = m->acts;
    const int B = b->B, T = b->T, C = m->cfg.d_model;
    R(bwd_ws) w;
    R(bwd_ws_prepare)(m, a, b, &w);
    const int pretrain = dembed == NULL; /* 0: only the external gradient of the embedding flows */
    if (dembed)
        for (int i = 0; i < B; i++)
            for (int t = 0; t < C; t++) {
                w.du[(size_t)i * C + t] = scale * dembed[(size_t)i * 2 * C + t];
                w.dv[(size_t)i * C + t] = scale * dembed[(size_t)i * 2 * C + C + t];
            }
    /* the heads on the embedding, in this order (du and dv sum their gradients) */
    if (pretrain && a->S > 0) R(stat_backward)(m, a, b, scale, &w);
    if (pretrain && a->K > 0) R(contrast_backward)(m, a, b, scale, &w);
    if (pretrain && a->Q > 0) R(match_backward)(m, a, b, scale, &w);

    /* ---- graph encoder ---- */
    if (b->N > 0) {
        R(mir_segment_mean_backward)(w.dhf, w.dv, b->node_offset, B, C);
        if (pretrain && a->P > 0) R(edge_backward)(m, a, b, scale, &w);
        if (pretrain && a->Mn > 0) R(node_mlm_backward)(m, a, scale, &w);
        R(graph_encoder_backward)(m, a, b, &w);
    }

    /* ---- token encoder ---- */
    R(mir_pool_backward)(w.dxf, w.du, b->tok_valid, B, T, C);
    if (pretrain && a->Mt > 0) R(mlm_backward)(m, a, b, scale, &w);
    R(token_encoder_backward)(m, a, b, &w);
}

void R(mir_model_backward)(R(mir_model) *m, const mir_batch *b, real scale) { R(backward_impl)(m, b, scale, NULL); }

void R(mir_model_backward_embed)(R(mir_model) *m, const mir_batch *b, const real *dembed, real scale) {
    R(backward_impl)(m, b, scale, dembed);
}

void R(mir_model_embed)(R(mir_model) *m, const mir_batch *b, real *out) {
    mir_losses l;
    R(mir_model_forward)(m, b, &l);
    R(acts) *a = m->acts;
    const int C = m->cfg.d_model;
    for (int i = 0; i < b->B; i++) {
        memcpy(out + (size_t)i * 2 * C, a->u + (size_t)i * C, (size_t)C * sizeof(real));
        memcpy(out + (size_t)i * 2 * C + C, a->v + (size_t)i * C, (size_t)C * sizeof(real));
    }
}

const real *R(mir_model_last_edge_scores)(const R(mir_model) *m, int *n) {
    const R(acts) *a = m->acts;
    *n = a ? a->P : 0;
    return a ? a->score : NULL;
}

size_t R(mir_model_acts_bytes)(const R(mir_model) *m) {
    const R(acts) *a = m->acts;
    return a ? (a->cap + a->gcap) * sizeof(real) + sizeof *a : 0;
}

void R(mir_model_release_acts)(R(mir_model) *m) {
    R(acts) *a = m->acts;
    if (a) {
        free(a->mem);
        free(a->gmem);
        free(a);
    }
    m->acts = NULL;
}

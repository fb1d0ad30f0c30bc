/*
 * layers_decl.h: the dense layers, each a forward and a backward (included twice by layers.h, once per
 * type; see real.h). Conventions, as in llm.c:
 *  - shapes in the comments, row-major; N rows of C channels; B sequences of T positions.
 *  - backward functions ACCUMULATE (+=) into every gradient they are given (dinp, dweight, dbias), so a
 *    tensor used twice gets the sum, and the caller zeroes gradients once per step. A NULL gradient
 *    pointer means "not needed".
 *  - forward functions overwrite their outputs; anything backward needs is passed back to it.
 * Matrix products go through cblas (OpenBLAS).
 */
/* out (N,OC) = inp (N,C) @ w (C,OC) + bias (OC) [bias may be NULL] */
void R(mir_linear_forward)(real *out, const real *inp, const real *w, const real *bias, int N, int C, int OC);
/* dinp (N,C) += dout @ w^T;  dw (C,OC) += inp^T @ dout;  dbias (OC) += column sums of dout */
void R(mir_linear_backward)(real *dinp, real *dw, real *dbias, const real *dout, const real *inp, const real *w,
                            int N, int C, int OC);

/* out (N,C) = (inp - mean) * rstd * gamma + beta, per row; mean (N), rstd (N) saved for backward */
void R(mir_layernorm_forward)(real *out, real *mean, real *rstd, const real *inp, const real *gamma,
                              const real *beta, int N, int C);
void R(mir_layernorm_backward)(real *dinp, real *dgamma, real *dbeta, const real *dout, const real *inp,
                               const real *gamma, const real *mean, const real *rstd, int N, int C);

/* GELU, tanh approximation, elementwise over n values */
void R(mir_gelu_forward)(real *out, const real *inp, long n);
void R(mir_gelu_backward)(real *dinp, const real *inp, const real *dout, long n);

/* out (N,C) = table[ids[i]] (+ pos[i % T] when pos is not NULL: positions restart every T rows) */
void R(mir_embedding_forward)(real *out, const int32_t *ids, const real *table, const real *pos, int N, int T,
                              int C);
/* dtable (V,C) += rows of dout by ids;  dpos (T,C) += rows of dout by position (if not NULL) */
void R(mir_embedding_backward)(real *dtable, real *dpos, const real *dout, const int32_t *ids, int N, int T, int C);

/* Bag embedding (statement positions): out (N,C) row i = mean of table rows ids[off[i] .. off[i+1]) (zeros for an
 * empty bag) + pos[i % T] (if not NULL). off (N+1). */
void R(mir_bag_embedding_forward)(real *out, const int32_t *off, const int32_t *ids, const real *table, const real *pos,
                                  int N, int T, int C);
/* dtable (V,C) += dout[i] / n_i on each of bag i's rows (a repeated id gets it once per occurrence);
 * dpos (T,C) += dout[i] at i % T (if not NULL) */
void R(mir_bag_embedding_backward)(real *dtable, real *dpos, const real *dout, const int32_t *off, const int32_t *ids,
                                   int N, int T, int C);

/* Multi-head self-attention over B sequences of T positions, NH heads of C/NH channels.
 * qkv (B,T,3C): queries, keys, values side by side. valid (B,T): 1 for a real token, 0 for padding: padded
 * keys get no attention, padded queries output zeros. att (B,NH,T,T): softmax probabilities, saved.
 * out (B,T,C). Scale 1/sqrt(C/NH). */
void R(mir_attention_forward)(real *out, real *att, const real *qkv, const uint8_t *valid, int B, int T, int C,
                              int NH);
/* dqkv (B,T,3C) +=; scratch: B*NH*T*T reals of workspace */
void R(mir_attention_backward)(real *dqkv, real *scratch, const real *dout, const real *qkv, const real *att,
                               const uint8_t *valid, int B, int T, int C, int NH);

/* Softmax cross-entropy over V classes for N rows. targets[i] < 0: row ignored (loss 0, no gradient).
 * probs (N,V) saved. Returns the SUM of losses over the counted rows; *n_counted receives their number. */
real R(mir_xent_forward)(real *probs, const real *logits, const int32_t *targets, int N, int V, int *n_counted);
/* dlogits (N,V) += scale * (probs - onehot(target)) for counted rows (scale: e.g. 1/n_counted) */
void R(mir_xent_backward)(real *dlogits, const real *probs, const int32_t *targets, int N, int V, real scale);

/* Bag cross-entropy (masked statements): row i's target is the multiset of ids targets[off[i] .. off[i+1]), n_i of
 * them; loss_i = -(1/n_i) sum over them of log softmax(logits[i])[id]. Rows with an empty bag are ignored. probs (N,V)
 * saved. Returns the SUM of losses over the counted rows; *n_counted receives their number. */
real R(mir_bag_xent_forward)(real *probs, const real *logits, const int32_t *off, const int32_t *targets, int N, int V,
                             int *n_counted);
/* dlogits (N,V) += scale * (probs - (counts of the bag's ids) / n_i) for counted rows */
void R(mir_bag_xent_backward)(real *dlogits, const real *probs, const int32_t *off, const int32_t *targets, int N, int V,
                              real scale);

/* Binary cross-entropy with logits: loss_i = softplus(x) - y x. Returns the sum over n. */
real R(mir_bce_forward)(const real *logits, const real *targets, int n);
/* dlogits += scale * (sigmoid(x) - y) */
void R(mir_bce_backward)(real *dlogits, const real *logits, const real *targets, int n, real scale);

/* Masked mean over positions: out (B,C) = mean of inp (B,T,C) over t with valid[b,t] (zeros if none) */
void R(mir_pool_forward)(real *out, const real *inp, const uint8_t *valid, int B, int T, int C);
void R(mir_pool_backward)(real *dinp, const real *dout, const uint8_t *valid, int B, int T, int C);

/*
 * graphops_decl.h: sparse operations of the graph encoder (included twice by graphops.h; see real.h).
 * A batch of graphs is one big graph of N nodes (node ids offset per graph); each relation r is a CSR
 * matrix over destinations: the sources of the messages node n receives through r are
 * src[row_ptr[n] .. row_ptr[n+1]). Backward functions accumulate (+=), as in layers_decl.h.
 */
/* out (N,C) = for each node n, mean of inp[src] over its in-neighbours in the relation (0 if none) */
void R(mir_spmm_mean_forward)(real *out, const real *inp, const mir_csr *rel, int C);
/* dinp (N,C) += transpose of the above applied to dout */
void R(mir_spmm_mean_backward)(real *dinp, const real *dout, const mir_csr *rel, int C);
/* The same aggregation in compact form, the one the model uses: out (n_rows,C) holds only the rows that
 * receive messages, row k being node rel->rows[k] (the others are zero and need no storage, and their
 * products with the relation's weights need no time: a third to a half of the graph encoder's products on
 * the data sets' graphs). The backward reads dout in the same compact form. */
void R(mir_spmm_mean_rows_forward)(real *out, const real *inp, const mir_csr *rel, int C);
void R(mir_spmm_mean_rows_backward)(real *dinp, const real *dout, const mir_csr *rel, int C);

/* Per-graph mean pooling: graph g owns nodes [node_offset[g], node_offset[g+1]); out (G,C) */
void R(mir_segment_mean_forward)(real *out, const real *inp, const int64_t *node_offset, int G, int C);
void R(mir_segment_mean_backward)(real *dinp, const real *dout, const int64_t *node_offset, int G, int C);

/* Edge scores: score[k] = dot(h[a[k]], h[b[k]]) for k < n (used with BCE for edge reconstruction). */
void R(mir_edge_score_forward)(real *score, const real *h, const int32_t *a, const int32_t *b, int n, int C);
/* dh (N,C) += dscore[k] * h[b[k]] into row a[k], and dscore[k] * h[a[k]] into row b[k] */
void R(mir_edge_score_backward)(real *dh, const real *dscore, const real *h, const int32_t *a, const int32_t *b,
                                int n, int C);

/*
 * layers.inc.c: the dense layers, written once against `real` (see real.h) and compiled twice, by
 * layers_f32.c (float) and layers_f64.c (double). The contract (shapes, accumulation) is layers_decl.h.
 *
 * The includer has included layers.h, <assert.h>, <cblas.h>, <math.h>, <string.h>, then defined MIR_REAL_DOUBLE and
 * included real.h. Like llm.c's CPU layers, but matrix products go through cblas (row-major), and the
 * attention is bidirectional (an encoder) with a padding mask instead of a causal one.
 */

/* Layer norm epsilon added to the variance (as llm.c). */
#define MIR_LN_EPS ((real)1e-5)

#undef LOG1P
#if MIR_REAL_DOUBLE
#define LOG1P log1p
#else
#define LOG1P log1pf
#endif

/* ------------------------------------------------------------------------------------------------ */
/* linear */

void R(mir_linear_forward)(real *out, const real *inp, const real *w, const real *bias, int N, int C, int OC) {
    if (N <= 0 || OC <= 0) return;
    /* start from the bias (or zeros), then out += inp @ w */
    for (int i = 0; i < N; i++) {
        real *o = out + (size_t)i * OC;
        if (bias)
            memcpy(o, bias, (size_t)OC * sizeof(real));
        else
            memset(o, 0, (size_t)OC * sizeof(real));
    }
    if (C <= 0) return;
    GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, OC, C, (real)1, inp, C, w, OC, (real)1, out, OC);
}

void R(mir_linear_backward)(real *dinp, real *dw, real *dbias, const real *dout, const real *inp, const real *w,
                            int N, int C, int OC) {
    if (N <= 0 || OC <= 0) return;
    if (C > 0) {
        /* dinp (N,C) += dout (N,OC) @ w^T (OC,C) */
        if (dinp)
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, OC, (real)1, dout, OC, w, OC, (real)1, dinp, C);
        /* dw (C,OC) += inp^T (C,N) @ dout (N,OC) */
        if (dw)
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, N, (real)1, inp, C, dout, OC, (real)1, dw, OC);
    }
    if (dbias) {
        for (int i = 0; i < N; i++) {
            const real *d = dout + (size_t)i * OC;
            for (int o = 0; o < OC; o++) dbias[o] += d[o];
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* layer norm */

/* sum of x[i] (squared 0) or of (x[i] - m)^2 (squared 1), in LANES independent partial sums so that the
 * loop vectorises without -ffast-math */
enum { LANES = 16 };
static real R(sum_lanes)(const real *x, real m, int squared, int n) {
    real s[LANES] = {0};
    int i = 0;
    if (squared) {
        for (; i + LANES <= n; i += LANES)
            for (int j = 0; j < LANES; j++) s[j] += (x[i + j] - m) * (x[i + j] - m);
        for (int j = 0; i + j < n; j++) s[j] += (x[i + j] - m) * (x[i + j] - m);
    } else {
        for (; i + LANES <= n; i += LANES)
            for (int j = 0; j < LANES; j++) s[j] += x[i + j];
        for (int j = 0; i + j < n; j++) s[j] += x[i + j];
    }
    real t = 0;
    for (int j = 0; j < LANES; j++) t += s[j];
    return t;
}

void R(mir_layernorm_forward)(real *out, real *mean, real *rstd, const real *inp, const real *gamma,
                              const real *beta, int N, int C) {
    if (C <= 0) return;
    for (int i = 0; i < N; i++) {
        const real *x = inp + (size_t)i * C;
        real *o = out + (size_t)i * C;
        real m = R(sum_lanes)(x, 0, 0, C) / (real)C;
        real v = R(sum_lanes)(x, m, 1, C) / (real)C;
        real s = (real)1 / SQRT(v + MIR_LN_EPS);
        for (int c = 0; c < C; c++) {
            real n = s * (x[c] - m);
            real g = gamma ? gamma[c] : (real)1;
            real b = beta ? beta[c] : (real)0;
            o[c] = n * g + b;
        }
        if (mean) mean[i] = m;
        if (rstd) rstd[i] = s;
    }
}

void R(mir_layernorm_backward)(real *dinp, real *dgamma, real *dbeta, const real *dout, const real *inp,
                               const real *gamma, const real *mean, const real *rstd, int N, int C) {
    if (C <= 0) return;
    for (int i = 0; i < N; i++) {
        const real *d = dout + (size_t)i * C;
        const real *x = inp + (size_t)i * C;
        real m = mean[i], s = rstd[i];
        /* two reductions: mean of dnorm and mean of dnorm * norm, where dnorm = dout * gamma */
        real dnorm_mean = 0, dnorm_norm_mean = 0;
        for (int c = 0; c < C; c++) {
            real n = (x[c] - m) * s;
            real dn = d[c] * (gamma ? gamma[c] : (real)1);
            dnorm_mean += dn;
            dnorm_norm_mean += dn * n;
        }
        dnorm_mean /= (real)C;
        dnorm_norm_mean /= (real)C;
        for (int c = 0; c < C; c++) {
            real n = (x[c] - m) * s;
            real dn = d[c] * (gamma ? gamma[c] : (real)1);
            if (dbeta) dbeta[c] += d[c];
            if (dgamma) dgamma[c] += n * d[c];
            if (dinp) dinp[(size_t)i * C + c] += (dn - dnorm_mean - n * dnorm_norm_mean) * s;
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* GELU (tanh approximation) */

#define MIR_GELU_K ((real)0.7978845608028654) /* sqrt(2/pi) */
#define MIR_GELU_A ((real)0.044715)

void R(mir_gelu_forward)(real *out, const real *inp, long n) {
    for (long i = 0; i < n; i++) {
        real x = inp[i];
        real u = MIR_GELU_K * (x + MIR_GELU_A * x * x * x);
        out[i] = x / ((real)1 + EXP((real)-2 * u)); /* = 0.5 x (1 + tanh u), one exponential */
    }
}

void R(mir_gelu_backward)(real *dinp, const real *inp, const real *dout, long n) {
    if (!dinp) return;
    for (long i = 0; i < n; i++) {
        real x = inp[i];
        real u = MIR_GELU_K * (x + MIR_GELU_A * x * x * x);
        real th = TANH(u);
        real sech2 = (real)1 - th * th;
        real local = (real)0.5 * ((real)1 + th) +
                     (real)0.5 * x * sech2 * MIR_GELU_K * ((real)1 + (real)3 * MIR_GELU_A * x * x);
        dinp[i] += local * dout[i];
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* embedding */

void R(mir_embedding_forward)(real *out, const int32_t *ids, const real *table, const real *pos, int N, int T,
                              int C) {
    for (int i = 0; i < N; i++) {
        real *o = out + (size_t)i * C;
        const real *e = table + (size_t)ids[i] * C;
        if (pos) {
            const real *p = pos + (size_t)(i % T) * C;
            for (int c = 0; c < C; c++) o[c] = e[c] + p[c];
        } else {
            memcpy(o, e, (size_t)C * sizeof(real));
        }
    }
}

void R(mir_embedding_backward)(real *dtable, real *dpos, const real *dout, const int32_t *ids, int N, int T, int C) {
    for (int i = 0; i < N; i++) {
        const real *d = dout + (size_t)i * C;
        if (dtable) {
            real *e = dtable + (size_t)ids[i] * C;
            for (int c = 0; c < C; c++) e[c] += d[c];
        }
        if (dpos) {
            real *p = dpos + (size_t)(i % T) * C;
            for (int c = 0; c < C; c++) p[c] += d[c];
        }
    }
}

/* bag embedding: the mean of a bag's rows (an IR statement from its sub-word pieces) */

void R(mir_bag_embedding_forward)(real *out, const int32_t *off, const int32_t *ids, const real *table, const real *pos,
                                  int N, int T, int C) {
    for (int i = 0; i < N; i++) {
        real *o = out + (size_t)i * C;
        memset(o, 0, (size_t)C * sizeof(real));
        const int n = off[i + 1] - off[i];
        for (int k = off[i]; k < off[i + 1]; k++) {
            const real *e = table + (size_t)ids[k] * C;
            for (int c = 0; c < C; c++) o[c] += e[c];
        }
        if (n > 1) {
            const real inv = (real)1 / (real)n;
            for (int c = 0; c < C; c++) o[c] *= inv;
        }
        if (pos) {
            const real *p = pos + (size_t)(i % T) * C;
            for (int c = 0; c < C; c++) o[c] += p[c];
        }
    }
}

void R(mir_bag_embedding_backward)(real *dtable, real *dpos, const real *dout, const int32_t *off, const int32_t *ids,
                                   int N, int T, int C) {
    for (int i = 0; i < N; i++) {
        const real *d = dout + (size_t)i * C;
        const int n = off[i + 1] - off[i];
        if (dtable && n > 0) {
            const real inv = (real)1 / (real)n;
            for (int k = off[i]; k < off[i + 1]; k++) {
                real *e = dtable + (size_t)ids[k] * C;
                for (int c = 0; c < C; c++) e[c] += inv * d[c];
            }
        }
        if (dpos) {
            real *p = dpos + (size_t)(i % T) * C;
            for (int c = 0; c < C; c++) p[c] += d[c];
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* attention: per sequence b and head h, the head's Q, K, V are (T, hs) views of qkv with row stride 3C:
 * Q at column h*hs, K at C + h*hs, V at 2C + h*hs. The output head is a (T, hs) view of out, stride C. */

/* The softmax's reductions, in LANES independent partial results as sum_lanes (a single running max or
 * sum is a loop-carried dependence the compiler must keep in order). a[i] += mask[i], returning the max; a[i] = exp(a[i] - max), returning the sum. */

static real R(add_max)(real *a, const real *mask, int n) {
    real m[LANES];
    for (int j = 0; j < LANES; j++) m[j] = (real)-1e30;
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            real v = a[i + j] + mask[i + j];
            a[i + j] = v;
            m[j] = v > m[j] ? v : m[j];
        }
    for (int j = 0; i + j < n; j++) { /* the tail keeps its lanes: padding a row never reorders its sums */
        a[i + j] += mask[i + j];
        m[j] = a[i + j] > m[j] ? a[i + j] : m[j];
    }
    real mx = m[0];
    for (int j = 1; j < LANES; j++) mx = m[j] > mx ? m[j] : mx;
    return mx;
}

static real R(exp_sum)(real *a, real maxv, int n) {
    real s[LANES] = {0};
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            a[i + j] = EXP(a[i + j] - maxv);
            s[j] += a[i + j];
        }
    for (int j = 0; i + j < n; j++) {
        a[i + j] = EXP(a[i + j] - maxv);
        s[j] += a[i + j];
    }
    real sum = 0;
    for (int j = 0; j < LANES; j++) sum += s[j];
    return sum;
}

void R(mir_attention_forward)(real *out, real *att, const real *qkv, const uint8_t *valid, int B, int T, int C,
                              int NH) {
    if (B <= 0 || T <= 0 || C <= 0 || NH <= 0) return;
    assert(C % NH == 0);
    const int hs = C / NH;
    const int C3 = 3 * C;
    const real scale = (real)1 / SQRT((real)hs);
    real *kmask = malloc((size_t)T * sizeof *kmask); /* (T) 0 for a real key, -1e30 for padding */
    for (int b = 0; b < B; b++) {
        const uint8_t *vb = valid + (size_t)b * T;
        const real *qkv_b = qkv + (size_t)b * T * C3;
        for (int t2 = 0; t2 < T; t2++) kmask[t2] = vb[t2] ? (real)0 : (real)-1e30;
        for (int h = 0; h < NH; h++) {
            const real *Q = qkv_b + (size_t)h * hs;
            const real *K = qkv_b + C + (size_t)h * hs;
            const real *V = qkv_b + 2 * (size_t)C + (size_t)h * hs;
            real *A = att + ((size_t)b * NH + h) * T * T;
            real *O = out + (size_t)b * T * C + (size_t)h * hs;
            /* A (T,T) = scale * Q K^T */
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, scale, Q, C3, K, C3, (real)0, A, T);
            /* masked softmax per query row: masked keys get -1e30 added, whose exponential is exactly 0;
             * the exponentials run in their own loop so that it vectorises */
            for (int t = 0; t < T; t++) {
                real *a = A + (size_t)t * T;
                if (!vb[t]) {
                    memset(a, 0, (size_t)T * sizeof(real));
                    continue;
                }
                real maxv = R(add_max)(a, kmask, T);
                if (maxv <= (real)-1e29) { /* every key masked */
                    memset(a, 0, (size_t)T * sizeof(real));
                    continue;
                }
                real sum = R(exp_sum)(a, maxv, T);
                real inv = (real)1 / sum; /* sum >= 1: the max term is exp(0) */
                for (int t2 = 0; t2 < T; t2++) a[t2] *= inv;
            }
            /* O (T,hs) = A @ V; padded query rows of A are zero, so their output is zero */
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, (real)1, A, T, V, C3, (real)0, O, C);
        }
    }
    free(kmask);
}

void R(mir_attention_backward)(real *dqkv, real *scratch, const real *dout, const real *qkv, const real *att,
                               const uint8_t *valid, int B, int T, int C, int NH) {
    if (!dqkv || B <= 0 || T <= 0 || C <= 0 || NH <= 0) return;
    assert(C % NH == 0);
    const int hs = C / NH;
    const int C3 = 3 * C;
    const real scale = (real)1 / SQRT((real)hs);
    for (int b = 0; b < B; b++) {
        const real *qkv_b = qkv + (size_t)b * T * C3;
        real *dqkv_b = dqkv + (size_t)b * T * C3;
        for (int h = 0; h < NH; h++) {
            const real *Q = qkv_b + (size_t)h * hs;
            const real *K = qkv_b + C + (size_t)h * hs;
            const real *V = qkv_b + 2 * (size_t)C + (size_t)h * hs;
            real *dQ = dqkv_b + (size_t)h * hs;
            real *dK = dqkv_b + C + (size_t)h * hs;
            real *dV = dqkv_b + 2 * (size_t)C + (size_t)h * hs;
            const real *A = att + ((size_t)b * NH + h) * T * T;
            const real *dO = dout + (size_t)b * T * C + (size_t)h * hs;
            real *dA = scratch + ((size_t)b * NH + h) * T * T;
            /* dA (T,T) = dO V^T;  dV += A^T dO */
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hs, (real)1, dO, C, V, C3, (real)0, dA, T);
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, (real)1, A, T, dO, C, (real)1, dV, C3);
            /* softmax backward in place: dS = A * (dA - rowsum(A * dA)). Padded query rows and masked
             * keys have A == 0, so they get dS == 0 (no gradient), whatever dout holds there. */
            for (int t = 0; t < T; t++) {
                const real *a = A + (size_t)t * T;
                real *d = dA + (size_t)t * T;
                if (!valid[(size_t)b * T + t]) {
                    memset(d, 0, (size_t)T * sizeof(real));
                    continue;
                }
                real dot = 0;
                for (int t2 = 0; t2 < T; t2++) dot += a[t2] * d[t2];
                for (int t2 = 0; t2 < T; t2++) d[t2] = a[t2] * (d[t2] - dot);
            }
            /* S = scale * Q K^T:  dQ += scale * dS K;  dK += scale * dS^T Q */
            GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hs, T, scale, dA, T, K, C3, (real)1, dQ, C3);
            GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, T, hs, T, scale, dA, T, Q, C3, (real)1, dK, C3);
        }
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* softmax cross-entropy. A row counts when 0 <= target < V; any other target (negative: ignored by
 * contract; >= V: a caller bug) gives that row no loss and no gradient. probs is filled for every row. */

/* p (V) = softmax of the row x (V), V > 0; *maxv: max of x, *sum: sum of exp(x - max) (>= 1), for the log-sum-exp */
static inline void R(softmax_row)(real *p, const real *x, int V, real *maxv, real *sum) {
    real m = x[0];
    for (int v = 1; v < V; v++)
        if (x[v] > m) m = x[v];
    real s = 0;
    for (int v = 0; v < V; v++) {
        p[v] = EXP(x[v] - m);
        s += p[v];
    }
    real inv = (real)1 / s;
    for (int v = 0; v < V; v++) p[v] *= inv;
    *maxv = m;
    *sum = s;
}

real R(mir_xent_forward)(real *probs, const real *logits, const int32_t *targets, int N, int V, int *n_counted) {
    double total = 0;
    int counted = 0;
    if (V <= 0) N = 0;
    for (int i = 0; i < N; i++) {
        const real *x = logits + (size_t)i * V;
        real *p = probs + (size_t)i * V;
        real maxv, sum;
        R(softmax_row)(p, x, V, &maxv, &sum);
        int t = targets[i];
        if (t < 0 || t >= V) continue;
        /* -log softmax = logsumexp - x_t = log(sum) + max - x_t  (log of a sum >= 1: no underflow) */
        total += (double)(LOG(sum) + maxv - x[t]);
        counted++;
    }
    if (n_counted) *n_counted = counted;
    return (real)total;
}

void R(mir_xent_backward)(real *dlogits, const real *probs, const int32_t *targets, int N, int V, real scale) {
    if (!dlogits) return;
    for (int i = 0; i < N; i++) {
        int t = targets[i];
        if (t < 0 || t >= V) continue;
        const real *p = probs + (size_t)i * V;
        real *d = dlogits + (size_t)i * V;
        for (int v = 0; v < V; v++) d[v] += scale * (p[v] - (v == t ? (real)1 : (real)0));
    }
}

/* bag cross-entropy: -(1/n) sum over the bag's ids of log softmax = logsumexp - (1/n) sum of the bag's logits */

real R(mir_bag_xent_forward)(real *probs, const real *logits, const int32_t *off, const int32_t *targets, int N, int V,
                             int *n_counted) {
    double total = 0;
    int counted = 0;
    if (V <= 0) N = 0;
    for (int i = 0; i < N; i++) {
        const real *x = logits + (size_t)i * V;
        real *p = probs + (size_t)i * V;
        real maxv, sum;
        R(softmax_row)(p, x, V, &maxv, &sum);
        const int n = off[i + 1] - off[i];
        if (n <= 0) continue;
        double xs = 0;
        for (int k = off[i]; k < off[i + 1]; k++) xs += (double)x[targets[k]];
        total += (double)(LOG(sum) + maxv) - xs / n;
        counted++;
    }
    if (n_counted) *n_counted = counted;
    return (real)total;
}

void R(mir_bag_xent_backward)(real *dlogits, const real *probs, const int32_t *off, const int32_t *targets, int N, int V,
                              real scale) {
    if (!dlogits) return;
    for (int i = 0; i < N; i++) {
        const int n = off[i + 1] - off[i];
        if (n <= 0) continue;
        const real *p = probs + (size_t)i * V;
        real *d = dlogits + (size_t)i * V;
        for (int v = 0; v < V; v++) d[v] += scale * p[v];
        const real share = scale / (real)n;
        for (int k = off[i]; k < off[i + 1]; k++) d[targets[k]] -= share;
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* binary cross-entropy with logits: softplus(x) - y x = max(x, 0) - y x + log1p(exp(-|x|)) */

real R(mir_bce_forward)(const real *logits, const real *targets, int n) {
    double total = 0;
    for (int i = 0; i < n; i++) {
        real x = logits[i], y = targets[i];
        /* max(x, 0) - y x, written so a confident right answer (x >> 0, y = 1) gives an exact 0 */
        real lin = x > 0 ? x * ((real)1 - y) : -x * y;
        total += (double)(lin + LOG1P(EXP(-FABS(x))));
    }
    return (real)total;
}

void R(mir_bce_backward)(real *dlogits, const real *logits, const real *targets, int n, real scale) {
    if (!dlogits) return;
    for (int i = 0; i < n; i++) {
        real x = logits[i];
        real sig;
        if (x >= 0) {
            sig = (real)1 / ((real)1 + EXP(-x));
        } else {
            real e = EXP(x);
            sig = e / ((real)1 + e);
        }
        dlogits[i] += scale * (sig - targets[i]);
    }
}

/* ------------------------------------------------------------------------------------------------ */
/* masked mean pooling */

void R(mir_pool_forward)(real *out, const real *inp, const uint8_t *valid, int B, int T, int C) {
    for (int b = 0; b < B; b++) {
        real *o = out + (size_t)b * C;
        memset(o, 0, (size_t)C * sizeof(real));
        int cnt = 0;
        for (int t = 0; t < T; t++) {
            if (!valid[(size_t)b * T + t]) continue;
            const real *x = inp + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++) o[c] += x[c];
            cnt++;
        }
        if (cnt) {
            real inv = (real)1 / (real)cnt;
            for (int c = 0; c < C; c++) o[c] *= inv;
        }
    }
}

void R(mir_pool_backward)(real *dinp, const real *dout, const uint8_t *valid, int B, int T, int C) {
    if (!dinp) return;
    for (int b = 0; b < B; b++) {
        int cnt = 0;
        for (int t = 0; t < T; t++) cnt += valid[(size_t)b * T + t] ? 1 : 0;
        if (!cnt) continue;
        real inv = (real)1 / (real)cnt;
        const real *d = dout + (size_t)b * C;
        for (int t = 0; t < T; t++) {
            if (!valid[(size_t)b * T + t]) continue;
            real *x = dinp + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++) x[c] += d[c] * inv;
        }
    }
}

#undef LOG1P
#undef MIR_LN_EPS
#undef MIR_GELU_K
#undef MIR_GELU_A

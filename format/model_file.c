/* model_file.c: saving and loading model files, their vocabulary, a fresh random model (see model_file.h). */
#include "model_file.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "h5util.h"

#ifndef MIR_VERSION_STRING
#define MIR_VERSION_STRING "0.0.0"
#endif

uint64_t mir_params_hash(const float *params, size_t n) { return mir_hash64(params, n * sizeof *params); }

static int write_matrix(hid_t f, const char *path, const float *data, int32_t rows, int32_t cols) {
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t space = H5Screate_simple(2, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t d = H5Dcreate2(f, path, H5T_IEEE_F32LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0) H5Dclose(d);
    H5Pclose(lcpl);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

static int read_matrix(hid_t f, const char *path, float *data, int32_t rows, int32_t cols, const char *file,
                       mir_error *err) {
    hid_t d = H5Lexists(f, path, H5P_DEFAULT) > 0 ? H5Dopen2(f, path, H5P_DEFAULT) : -1;
    if (d < 0) return mir_fail(err, "%s: tensor %s missing", file, path);
    hid_t s = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    int nd = H5Sget_simple_extent_ndims(s);
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    int rc = 0;
    if (nd != 2 || dims[0] != (hsize_t)rows || dims[1] != (hsize_t)cols)
        rc = mir_fail(err, "%s: tensor %s has shape (%llu, %llu), the configuration needs (%d, %d)", file, path,
                      (unsigned long long)dims[0], (unsigned long long)dims[1], rows, cols);
    else if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = mir_fail(err, "%s: tensor %s unreadable", file, path);
    H5Dclose(d);
    return rc;
}

/* The configuration's attributes; the first N_CONFIG_REQUIRED must be present, the others (added later) read
 * as 0 when a file predates them. */
static const char *const config_keys[] = {"vocab_size", "max_seq", "d_model", "n_heads",  "n_layers",
                                          "d_ff",       "n_graph_layers", "max_nodes", "stats",
                                          "contrastive", "statements"};
enum { N_CONFIG_KEYS = 11, N_CONFIG_REQUIRED = 8 };

static int32_t *config_field(mir_config *c, int k) {
    int32_t *f[] = {&c->vocab_size, &c->max_seq, &c->d_model, &c->n_heads, &c->n_layers,
                    &c->d_ff,       &c->n_graph_layers, &c->max_nodes, &c->stats,
                    &c->contrastive, &c->statements};
    return f[k];
}

/* ------------------------------------------------------------------------------------------------ */
/* saving                                                                                           */

/* The root attributes: format, versions, the corpus, the configuration, the parameters' hash and count. */
static int write_root_attrs(hid_t f, const mir_config *c, const float *params, const char *corpus_path,
                            mir_error *e) {
    int rc = 0;
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    rc |= mir_h5_attr_string(root, "format", MIR_MODEL_FORMAT, e);
    rc |= mir_h5_attr_int64(root, "format_version", MIR_MODEL_VERSION, e);
    rc |= mir_h5_attr_string(root, "tool_version", MIR_VERSION_STRING, e);
    rc |= mir_h5_attr_string(root, "corpus", corpus_path ? corpus_path : "", e);
    mir_config cc = *c;
    for (int k = 0; k < N_CONFIG_KEYS; k++) rc |= mir_h5_attr_int64(root, config_keys[k], *config_field(&cc, k), e);
    size_t n = 0;
    mir_params_table(c, NULL, &n);
    char hex[32];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)mir_params_hash(params, n));
    rc |= mir_h5_attr_string(root, "model_hash", hex, e);
    rc |= mir_h5_attr_int64(root, "n_params", (int64_t)n, e);
    H5Gclose(root);
    if (rc) snprintf(e->msg, sizeof e->msg, "attributes");
    return rc;
}

static int write_vocab(hid_t f, const mir_config *c, char *const *vocab, const int64_t *vocab_count, mir_error *e) {
    size_t w = 1;
    for (int32_t i = 0; i < c->vocab_size; i++)
        if (strlen(vocab[i]) + 1 > w) w = strlen(vocab[i]) + 1;
    int rc = mir_h5_write_strings(f, "/vocab/token", (uint64_t)c->vocab_size, 0, (uint64_t)c->vocab_size,
                                  (const char *const *)vocab, w, e);
    if (!rc && vocab_count)
        rc |= mir_h5_write_slab(f, "/vocab/count", H5T_NATIVE_INT64, (uint64_t)c->vocab_size, 0,
                                (uint64_t)c->vocab_size, vocab_count, e);
    return rc;
}

/* /params/<name>, and /optim/m/<name>, /optim/v/<name> when m and v are given. */
static int write_tensors(hid_t f, const mir_config *c, const float *params, const float *m, const float *v,
                         mir_error *e) {
    int nt;
    mir_tensor_info *t = mir_params_table_new(c, &nt, NULL);
    char name[128];
    int rc = 0;
    for (int k = 0; k < nt && !rc; k++) {
        snprintf(name, sizeof name, "/params/%s", t[k].name);
        snprintf(e->msg, sizeof e->msg, "tensor %s", t[k].name);
        rc |= write_matrix(f, name, params + t[k].offset, t[k].rows, t[k].cols);
        if (m && v) {
            snprintf(name, sizeof name, "/optim/m/%s", t[k].name);
            rc |= write_matrix(f, name, m + t[k].offset, t[k].rows, t[k].cols);
            snprintf(name, sizeof name, "/optim/v/%s", t[k].name);
            rc |= write_matrix(f, name, v + t[k].offset, t[k].rows, t[k].cols);
        }
    }
    free(t);
    return rc;
}

static int write_state(hid_t f, const mir_train_state *st, mir_error *e) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t g = H5Gcreate2(f, "/state", lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    int rc = 0;
    rc |= mir_h5_attr_int64(g, "step", st->step, e);
    rc |= mir_h5_attr_int64(g, "total_steps", st->total_steps, e);
    rc |= mir_h5_attr_int64(g, "seed", (int64_t)st->seed, e);
    rc |= mir_h5_attr_int64(g, "cursor", st->cursor, e);
    rc |= mir_h5_attr_int64(g, "global_batch", st->global_batch, e);
    rc |= mir_h5_attr_int64(g, "micro_batch", st->micro_batch, e);
    rc |= mir_h5_attr_int64(g, "warmup", st->warmup, e);
    rc |= mir_h5_attr_double(g, "lr", st->lr, e);
    rc |= mir_h5_attr_double(g, "lr_min", st->lr_min, e);
    rc |= mir_h5_attr_double(g, "weight_decay", st->weight_decay, e);
    rc |= mir_h5_attr_double(g, "beta1", st->beta1, e);
    rc |= mir_h5_attr_double(g, "beta2", st->beta2, e);
    rc |= mir_h5_attr_double(g, "eps", st->eps, e);
    rc |= mir_h5_attr_double(g, "clip", st->clip, e);
    H5Gclose(g);
    return rc;
}

int mir_checkpoint_save(const char *path, const mir_config *c, char *const *vocab, const int64_t *vocab_count,
                        const float *params, const float *m, const float *v, const mir_train_state *st,
                        const char *corpus_path, mir_error *err) {
    mir_atomic_file out;
    if (mir_atomic_begin(&out, path, err)) return -1;
    mir_h5_quiet();
    hid_t f = H5Fcreate(out.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return mir_fail(err, "%s: cannot create (directory missing or not writable?)", out.tmp);
    mir_error e = {{0}};
    int rc = write_root_attrs(f, c, params, corpus_path, &e);
    if (!rc) rc = write_vocab(f, c, vocab, vocab_count, &e);
    if (!rc) rc = write_tensors(f, c, params, m, v, &e);
    if (!rc && st) rc = write_state(f, st, &e);
    if (H5Fclose(f) < 0) rc = -1;
    if (rc) {
        mir_atomic_abort(&out);
        return mir_fail(err, "%s: writing the model file failed at %s (disk full?)", out.tmp, e.msg);
    }
    return mir_atomic_commit(&out, err);
}

/* ------------------------------------------------------------------------------------------------ */
/* loading                                                                                          */

/* The root's format, version and configuration into c. */
static int read_root_config(hid_t root, const char *path, mir_config *c, mir_error *err) {
    char fmt[64] = "";
    int64_t version = 0, x = 0;
    mir_error e;
    if (mir_h5_read_attr_string(root, "format", fmt, sizeof fmt, &e) || strcmp(fmt, MIR_MODEL_FORMAT) != 0)
        return mir_fail(err, "%s: not a MIREncoder model file (format \"%s\")", path, fmt);
    if (mir_h5_read_attr_int64(root, "format_version", &version, &e) || version != MIR_MODEL_VERSION)
        return mir_fail(err, "%s: model format_version %lld, this tool reads %d", path, (long long)version,
                        MIR_MODEL_VERSION);
    memset(c, 0, sizeof *c);
    for (int k = 0; k < N_CONFIG_KEYS; k++) {
        if (k >= N_CONFIG_REQUIRED && H5Aexists(root, config_keys[k]) <= 0) continue; /* stays 0 */
        if (mir_h5_read_attr_int64(root, config_keys[k], &x, &e))
            return mir_fail(err, "%s: configuration attribute %s missing", path, config_keys[k]);
        *config_field(c, k) = (int32_t)x;
    }
    return 0;
}

/* The attributes of /state into st (zeroed first). */
static int read_state(hid_t f, const char *path, mir_train_state *st, mir_error *err) {
    memset(st, 0, sizeof *st);
    if (H5Lexists(f, "/state", H5P_DEFAULT) <= 0)
        return mir_fail(err, "%s: no training state (an inference-only model file cannot be resumed)", path);
    hid_t g = H5Gopen2(f, "/state", H5P_DEFAULT);
    int64_t seed = 0, gb = 0, mb = 0, wu = 0;
    mir_error e;
    int rc = 0;
    rc |= mir_h5_read_attr_int64(g, "step", &st->step, &e);
    rc |= mir_h5_read_attr_int64(g, "total_steps", &st->total_steps, &e);
    rc |= mir_h5_read_attr_int64(g, "seed", &seed, &e);
    rc |= mir_h5_read_attr_int64(g, "cursor", &st->cursor, &e);
    rc |= mir_h5_read_attr_int64(g, "global_batch", &gb, &e);
    rc |= mir_h5_read_attr_int64(g, "micro_batch", &mb, &e);
    rc |= mir_h5_read_attr_int64(g, "warmup", &wu, &e);
    st->seed = (uint64_t)seed;
    st->global_batch = (int32_t)gb;
    st->micro_batch = (int32_t)mb;
    st->warmup = (int32_t)wu;
    double *d[] = {&st->lr, &st->lr_min, &st->weight_decay, &st->beta1, &st->beta2, &st->eps, &st->clip};
    const char *dn[] = {"lr", "lr_min", "weight_decay", "beta1", "beta2", "eps", "clip"};
    for (int k = 0; k < 7; k++) {
        hid_t a = H5Aexists(g, dn[k]) > 0 ? H5Aopen(g, dn[k], H5P_DEFAULT) : -1;
        if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, d[k]) < 0) rc = -1;
        if (a >= 0) H5Aclose(a);
    }
    H5Gclose(g);
    if (rc) mir_fail(err, "%s: training state incomplete", path);
    return rc;
}

int mir_checkpoint_read_config(const char *path, mir_config *c, mir_train_state *st, mir_error *err) {
    mir_h5_quiet();
    hid_t f = mir_h5_open_serial(path, err);
    if (f < 0) return -1;
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    int rc = read_root_config(root, path, c, err);
    H5Gclose(root);
    if (!rc && st) rc = read_state(f, path, st, err);
    H5Fclose(f);
    return rc;
}

int mir_checkpoint_load(const char *path, const mir_config *c, float *params, float *m, float *v, mir_error *err) {
    mir_h5_quiet();
    hid_t f = mir_h5_open_serial(path, err);
    if (f < 0) return -1;
    int nt;
    mir_tensor_info *t = mir_params_table_new(c, &nt, NULL);
    int rc = 0;
    char name[128];
    for (int k = 0; k < nt && !rc; k++) {
        snprintf(name, sizeof name, "/params/%s", t[k].name);
        rc = read_matrix(f, name, params + t[k].offset, t[k].rows, t[k].cols, path, err);
        if (!rc && m && v) {
            snprintf(name, sizeof name, "/optim/m/%s", t[k].name);
            rc = read_matrix(f, name, m + t[k].offset, t[k].rows, t[k].cols, path, err);
            snprintf(name, sizeof name, "/optim/v/%s", t[k].name);
            if (!rc) rc = read_matrix(f, name, v + t[k].offset, t[k].rows, t[k].cols, path, err);
        }
    }
    free(t);
    H5Fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* the vocabulary, and a fresh model                                                                */

/* /vocab/count when it has one count per token, else NULL (a vocabulary without counts). */
static int64_t *read_vocab_counts(hid_t f, int64_t n) {
    mir_error e;
    if (mir_h5_length(f, "/vocab/count", &e) != n) return NULL;
    int64_t *counts = mir_malloc((size_t)(n + 1) * sizeof *counts);
    if (mir_h5_read_slab(f, "/vocab/count", H5T_NATIVE_INT64, 0, (uint64_t)n, counts, &e)) {
        free(counts);
        return NULL;
    }
    return counts;
}

mir_vocab *mir_vocab_load(const char *path, mir_error *err) {
    hid_t f = mir_h5_open_serial(path, err);
    if (f < 0) return NULL;
    char **tokens = NULL;
    int64_t n = 0;
    mir_vocab *v = NULL;
    if (mir_h5_read_strings(f, "/vocab/token", &tokens, &n, err) == 0) {
        int64_t *counts = read_vocab_counts(f, n);
        char msg[256] = "";
        v = mir_vocab_from_tokens((const char *const *)tokens, counts, (int32_t)n, msg, sizeof msg);
        if (!v) mir_fail(err, "%s: /vocab is not a valid vocabulary: %s", path, msg);
        free(counts);
        mir_h5_free_strings(tokens, n);
    } else {
        char prefix[MIR_ERROR_MAX];
        snprintf(prefix, sizeof prefix, "%s: no vocabulary", path);
        mir_error_prefix(err, prefix);
    }
    H5Fclose(f);
    return v;
}

int mir_model_file_write_random(const mir_config *cfg, const mir_vocab *v, const char *path, uint64_t seed,
                                mir_error *err) {
    mir_model_f32 net;
    if (mir_model_create_f32(&net, cfg)) return mir_fail(err, "%s: cannot create a model", path);
    mir_rng r;
    mir_rng_seed(&r, seed, MIR_RANDOM_MODEL_STREAM);
    mir_model_init_params_f32(&net, &r);
    int32_t V = mir_vocab_size(v);
    char **tok = mir_malloc((size_t)V * sizeof *tok);
    int64_t *cnt = mir_malloc((size_t)V * sizeof *cnt);
    for (int32_t i = 0; i < V; i++) {
        tok[i] = (char *)mir_vocab_token(v, i);
        cnt[i] = mir_vocab_count(v, i);
    }
    mir_train_state st;
    memset(&st, 0, sizeof st);
    st.seed = seed;
    int rc = mir_checkpoint_save(path, cfg, tok, cnt, net.params, NULL, NULL, &st, "(random weights, not trained)",
                                 err);
    free(tok);
    free(cnt);
    mir_model_free_f32(&net);
    return rc;
}

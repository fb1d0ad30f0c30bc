/* model_check.c: a model file checked against named limits, tensor by tensor (see model_file.h). */
#include "model_file.h"

#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"

typedef struct config_limit {
    const char *name;
    int64_t lo, hi;
    const char *limit_name;
} config_limit;

/* In the order of mir_config's fields. */
static const config_limit limits[8] = {
    {"vocab_size", MIR_TOK_NSPECIAL + 1, MIR_MODEL_MAX_VOCAB, "MIR_MODEL_MAX_VOCAB"},
    {"max_seq", 2, MIR_MODEL_MAX_SEQ, "MIR_MODEL_MAX_SEQ"},
    {"d_model", 2, MIR_MODEL_MAX_D_MODEL, "MIR_MODEL_MAX_D_MODEL"},
    {"n_heads", 1, MIR_MODEL_MAX_HEADS, "MIR_MODEL_MAX_HEADS"},
    {"n_layers", 0, MIR_MODEL_MAX_LAYERS, "MIR_MODEL_MAX_LAYERS"},
    {"d_ff", 1, MIR_MODEL_MAX_D_FF, "MIR_MODEL_MAX_D_FF"},
    {"n_graph_layers", 0, MIR_MODEL_MAX_LAYERS, "MIR_MODEL_MAX_LAYERS"},
    {"max_nodes", 4, MIR_MODEL_MAX_NODES, "MIR_MODEL_MAX_NODES"},
};

static int32_t *field(mir_config *c, int k) {
    int32_t *f[8] = {&c->vocab_size, &c->max_seq, &c->d_model, &c->n_heads,
                     &c->n_layers, &c->d_ff, &c->n_graph_layers, &c->max_nodes};
    return f[k];
}

static int read_config(hid_t f, const char *path, mir_config *c, mir_error *err) {
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    int rc = 0;
    memset(c, 0, sizeof *c);
    for (int k = 0; k < 8 && !rc; k++) {
        int64_t x = 0;
        mir_error e;
        if (mir_h5_read_attr_int64(root, limits[k].name, &x, &e))
            rc = mir_fail(err, "%s: configuration attribute %s missing or not an integer", path, limits[k].name);
        else if (x < limits[k].lo || x > limits[k].hi)
            rc = mir_fail(err, "%s: configuration attribute %s = %lld outside [%lld, %lld] (%s)", path,
                          limits[k].name, (long long)x, (long long)limits[k].lo, (long long)limits[k].hi,
                          limits[k].limit_name);
        else
            *field(c, k) = (int32_t)x;
    }
    H5Gclose(root);
    char msg[256];
    if (!rc && mir_config_check(c, msg, sizeof msg)) rc = mir_fail(err, "%s: invalid configuration: %s", path, msg);
    return rc;
}

/* Every group on the way exists (H5Lexists needs its parents) and the last link too. */
static int path_exists(hid_t f, const char *name) {
    char buf[160];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (H5Lexists(f, buf, H5P_DEFAULT) <= 0) return 0;
            *p = c;
            if (!c) return 1;
        }
    }
}

/* Dataset name exists, is 2-d float of (rows, cols). */
static int check_tensor(hid_t f, const char *path, const char *name, int64_t rows, int64_t cols, mir_error *err) {
    if (!path_exists(f, name)) return mir_fail(err, "%s: tensor %s missing", path, name);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    if (d < 0) return mir_fail(err, "%s: %s is not a dataset", path, name);
    hid_t s = H5Dget_space(d), t = H5Dget_type(d);
    hsize_t dims[2] = {0, 0};
    int nd = H5Sget_simple_extent_ndims(s);
    if (nd == 2) H5Sget_simple_extent_dims(s, dims, NULL);
    int rc = 0;
    if (H5Tget_class(t) != H5T_FLOAT)
        rc = mir_fail(err, "%s: tensor %s is not floating point", path, name);
    else if (nd != 2 || (int64_t)dims[0] != rows || (int64_t)dims[1] != cols)
        rc = mir_fail(err, "%s: tensor %s has %d dimensions (%llu, %llu), the configuration needs (%lld, %lld)", path,
                      name, nd, (unsigned long long)dims[0], (unsigned long long)dims[1], (long long)rows,
                      (long long)cols);
    H5Tclose(t);
    H5Sclose(s);
    H5Dclose(d);
    return rc;
}

static int check_tensors(hid_t f, const char *path, const mir_config *c, mir_error *err) {
    size_t n_el = 0;
    mir_params_table(c, NULL, &n_el);
    if ((int64_t)n_el > MIR_MODEL_MAX_PARAMS)
        return mir_fail(err, "%s: the configuration makes %zu parameters, over MIR_MODEL_MAX_PARAMS (%lld)", path, n_el,
                        (long long)MIR_MODEL_MAX_PARAMS);
    int nt;
    mir_tensor_info *t = mir_params_table_new(c, &nt, NULL);
    int rc = 0;
    char name[128];
    for (int k = 0; k < nt && !rc; k++) {
        snprintf(name, sizeof name, "/params/%s", t[k].name);
        rc = check_tensor(f, path, name, t[k].rows, t[k].cols, err);
    }
    free(t);
    return rc;
}

static int check_vocab(hid_t f, const char *path, const mir_config *c, mir_error *err) {
    if (!path_exists(f, "/vocab/token")) return mir_fail(err, "%s: /vocab/token missing", path);
    mir_error e;
    int64_t n = mir_h5_length(f, "/vocab/token", &e);
    if (n != c->vocab_size)
        return mir_fail(err, "%s: /vocab/token has %lld entries, configuration attribute vocab_size says %d", path,
                        (long long)n, c->vocab_size);
    return 0;
}

int mir_model_file_check(const char *path, mir_config *c, mir_error *err) {
    mir_h5_quiet();
    hid_t f = mir_h5_open_serial(path, err);
    if (f < 0) return -1;
    int rc = read_config(f, path, c, err);
    if (!rc) rc = check_tensors(f, path, c, err);
    if (!rc) rc = check_vocab(f, path, c, err);
    H5Fclose(f);
    return rc;
}

int mir_model_tensors_check(const char *path, const mir_config *c, const char *group, const float *values,
                            mir_error *err) {
    int nt;
    mir_tensor_info *t = mir_params_table_new(c, &nt, NULL);
    int rc = 0;
    for (int k = 0; k < nt && !rc; k++) {
        const float *p = values + t[k].offset;
        size_t n = (size_t)t[k].rows * (size_t)t[k].cols;
        for (size_t i = 0; i < n; i++)
            if (!isfinite(p[i])) {
                rc = mir_fail(err, "%s: tensor %s/%s holds %s at row %zu, column %zu", path, group, t[k].name,
                              isnan(p[i]) ? "NaN" : "an infinity", i / (size_t)t[k].cols, i % (size_t)t[k].cols);
                break;
            }
    }
    free(t);
    return rc;
}

int mir_model_params_check(const char *path, const mir_config *c, const float *params, mir_error *err) {
    return mir_model_tensors_check(path, c, "/params", params, err);
}

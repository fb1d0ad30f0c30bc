/* embeddings_file.c: embeddings.h5 and its CSV form (see embeddings_file.h). */
#include "embeddings_file.h"

#include <hdf5.h>
#include <string.h>

#include "atomic_file.h"
#include "h5util.h"

#ifndef MIR_VERSION_STRING
#define MIR_VERSION_STRING "0.0.0"
#endif

static int write_rows(hid_t f, const mir_embeddings *x, mir_error *e) {
    size_t nw = 2, ew = 2;
    for (int64_t i = 0; i < x->n; i++) {
        if (strlen(x->names[i]) + 1 > nw) nw = strlen(x->names[i]) + 1;
        if (strlen(x->errors[i]) + 1 > ew) ew = strlen(x->errors[i]) + 1;
    }
    const uint64_t n = (uint64_t)x->n;
    int rc = 0;
    rc |= mir_h5_write_strings(f, "/names", n, 0, n, (const char *const *)x->names, nw, e);
    rc |= mir_h5_write_slab(f, "/status", H5T_NATIVE_INT32, n, 0, n, x->status, e);
    rc |= mir_h5_write_strings(f, "/error", n, 0, n, (const char *const *)x->errors, ew, e);
    hsize_t dims[2] = {(hsize_t)x->n, (hsize_t)x->dim};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "/embeddings", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0 || (x->n > 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x->values) < 0)) rc = -1;
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    if (x->n_stat > 0) {
        size_t w = 2;
        for (int k = 0; k < x->n_stat; k++)
            if (strlen(x->stat_names[k]) + 1 > w) w = strlen(x->stat_names[k]) + 1;
        const uint64_t ns = (uint64_t)x->n_stat;
        rc |= mir_h5_write_strings(f, "/stat_columns", ns, 0, ns, x->stat_names, w, e);
    }
    return rc;
}

static int write_attrs(hid_t f, const mir_embeddings *x, const mir_embeddings_meta *m, mir_error *e) {
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    const mir_config *c = m->cfg;
    int rc = 0;
    rc |= mir_h5_attr_string(root, "format", MIR_EMBEDDINGS_FORMAT, e);
    rc |= mir_h5_attr_int64(root, "format_version", MIR_EMBEDDINGS_VERSION, e);
    rc |= mir_h5_attr_string(root, "tool_version", MIR_VERSION_STRING, e);
    rc |= mir_h5_attr_string(root, "model", m->model_path, e);
    rc |= mir_h5_attr_string(root, "model_hash", m->model_hash, e);
    rc |= mir_h5_attr_int64(root, "dim", x->dim, e);
    rc |= mir_h5_attr_string(root, "readout", x->n_stat == 0 ? "embedding" : x->n_stat == x->dim ? "stats-only" : "stats", e);
    rc |= mir_h5_attr_int64(root, "d_model", c->d_model, e);
    rc |= mir_h5_attr_int64(root, "n_layers", c->n_layers, e);
    rc |= mir_h5_attr_int64(root, "n_graph_layers", c->n_graph_layers, e);
    rc |= mir_h5_attr_int64(root, "max_seq", c->max_seq, e);
    rc |= mir_h5_attr_int64(root, "vocab_size", c->vocab_size, e);
    rc |= mir_h5_attr_int64(root, "max_windows", m->max_windows, e);
    rc |= mir_h5_attr_int64(root, "max_nodes", m->max_nodes, e);
    rc |= mir_h5_attr_int64(root, "window_tokens", m->window, e);
    /* a statement-level model's windows count statements (window_tokens is then in statements) */
    if (c->statements) rc |= mir_h5_attr_int64(root, "statements", 1, e);
    H5Gclose(root);
    return rc;
}

int mir_embeddings_write_h5(const char *path, const mir_embeddings *x, const mir_embeddings_meta *meta,
                            mir_error *err) {
    mir_atomic_file out;
    if (mir_atomic_begin(&out, path, err)) return -1;
    hid_t f = H5Fcreate(out.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) return mir_fail(err, "%s: cannot create", out.tmp);
    mir_error e;
    int rc = write_rows(f, x, &e);
    rc |= write_attrs(f, x, meta, &e);
    if (H5Fclose(f) < 0) rc = -1;
    if (rc) mir_atomic_abort(&out);
    if (rc || mir_atomic_commit(&out, err)) return mir_fail(err, "%s: writing embeddings failed", path);
    return 0;
}

int mir_embeddings_write_csv(const char *path, const mir_embeddings *x, mir_error *err) {
    mir_atomic_file out;
    if (mir_atomic_open(&out, path, "w", err)) return -1;
    FILE *f = out.f;
    const int D = x->dim;
    fprintf(f, "name");
    for (int j = 0; j < D - x->n_stat; j++) fprintf(f, ",e%d", j);
    for (int k = 0; k < x->n_stat; k++) fprintf(f, ",stat_%s", x->stat_names[k]);
    fputc('\n', f);
    for (int64_t i = 0; i < x->n; i++) {
        if (x->status[i] != MIR_STATUS_OK) continue; /* failed modules are listed in the log, not in the matrix */
        fprintf(f, "\"%s\"", x->names[i]);
        for (int j = 0; j < D; j++) fprintf(f, ",%.8g", x->values[(size_t)i * D + j]);
        fputc('\n', f);
    }
    if (mir_atomic_commit(&out, err)) return mir_fail(err, "%s: writing embeddings failed", path);
    return 0;
}

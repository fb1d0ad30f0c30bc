/* h5util.c: HDF5 helpers (see h5util.h). */
#include "h5util.h"

#include <stdlib.h>
#include <string.h>

void mir_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

hid_t mir_h5_open_serial(const char *path, mir_error *err) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) mir_fail(err, "%s: cannot open as HDF5 (missing, unreadable or not an HDF5 file)", path);
    return f;
}

static hid_t create_dataset(hid_t file, const char *path, hid_t type, uint64_t n) {
    hsize_t dim = n;
    hid_t space = H5Screate_simple(1, &dim, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t dset = H5Dcreate2(file, path, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    H5Sclose(space);
    return dset;
}

/* Collective transfers on files opened with the MPI-IO driver; plain ones otherwise (a model file that
 * one rank writes alone, and every file of the serial HDF5). */
#ifdef H5_HAVE_PARALLEL
static int is_mpio(hid_t obj) {
    hid_t f = H5Iget_file_id(obj);
    hid_t fapl = H5Fget_access_plist(f);
    int mpio = H5Pget_driver(fapl) == H5FD_MPIO;
    H5Pclose(fapl);
    H5Fclose(f);
    return mpio;
}
#endif

static int write_selected(hid_t dset, hid_t type, uint64_t n, uint64_t offset, uint64_t count, const void *data) {
    hsize_t dim = n, off = offset, cnt = count;
    hid_t fspace = H5Screate_simple(1, &dim, NULL);
    hid_t mspace = H5Screate_simple(1, &cnt, NULL);
    if (count)
        H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL);
    else {
        H5Sselect_none(fspace);
        H5Sselect_none(mspace);
    }
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
#ifdef H5_HAVE_PARALLEL
    if (is_mpio(dset)) H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
#endif
    herr_t st = H5Dwrite(dset, type, mspace, fspace, dxpl, data);
    H5Pclose(dxpl);
    H5Sclose(mspace);
    H5Sclose(fspace);
    return st < 0 ? -1 : 0;
}

int mir_h5_write_slab(hid_t file, const char *path, hid_t type, uint64_t n, uint64_t offset, uint64_t count,
                      const void *data, mir_error *err) {
    hid_t dset = create_dataset(file, path, type, n);
    if (dset < 0) return mir_fail(err, "cannot create dataset %s", path);
    /* an empty dataset has nothing to transfer (and HDF5 refuses the transfer); n is global, so every
     * rank skips it alike */
    int rc = n ? write_selected(dset, type, n, offset, count, data) : 0;
    H5Dclose(dset);
    return rc ? mir_fail(err, "cannot write dataset %s", path) : 0;
}

int mir_h5_write_strings(hid_t file, const char *path, uint64_t n, uint64_t offset, uint64_t count,
                         const char *const *strings, size_t width, mir_error *err) {
    if (width < 2) width = 2;
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, width);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    char *buf = mir_calloc(count ? count : 1, width);
    for (uint64_t i = 0; i < count; i++) {
        size_t len = strlen(strings[i]);
        memcpy(buf + i * width, strings[i], len < width - 1 ? len : width - 1);
    }
    int rc = mir_h5_write_slab(file, path, type, n, offset, count, buf, err);
    free(buf);
    H5Tclose(type);
    return rc;
}

static int write_attr(hid_t obj, const char *name, hid_t type, const void *value, mir_error *err) {
    hid_t space = H5Screate(H5S_SCALAR);
    if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
    hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = a < 0 ? -1 : H5Awrite(a, type, value);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return st < 0 ? mir_fail(err, "cannot write attribute %s", name) : 0;
}

int mir_h5_attr_string(hid_t obj, const char *name, const char *value, mir_error *err) {
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, strlen(value) + 1);
    H5Tset_strpad(type, H5T_STR_NULLTERM);
    int rc = write_attr(obj, name, type, value, err);
    H5Tclose(type);
    return rc;
}

int mir_h5_attr_int64(hid_t obj, const char *name, int64_t value, mir_error *err) {
    return write_attr(obj, name, H5T_NATIVE_INT64, &value, err);
}

int mir_h5_attr_double(hid_t obj, const char *name, double value, mir_error *err) {
    return write_attr(obj, name, H5T_NATIVE_DOUBLE, &value, err);
}

int mir_h5_read_attr_int64(hid_t obj, const char *name, int64_t *value, mir_error *err) {
    if (H5Aexists(obj, name) <= 0) return mir_fail(err, "attribute %s missing", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    herr_t st = H5Aread(a, H5T_NATIVE_INT64, value);
    H5Aclose(a);
    return st < 0 ? mir_fail(err, "attribute %s unreadable as integer", name) : 0;
}

int mir_h5_read_attr_string(hid_t obj, const char *name, char *out, size_t cap, mir_error *err) {
    if (H5Aexists(obj, name) <= 0) return mir_fail(err, "attribute %s missing", name);
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    hid_t ftype = H5Aget_type(a);
    int rc = 0;
    if (H5Tget_class(ftype) != H5T_STRING) {
        rc = mir_fail(err, "attribute %s is not a string", name);
    } else if (H5Tis_variable_str(ftype) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char *s = NULL;
        if (H5Aread(a, mt, &s) < 0) rc = mir_fail(err, "attribute %s unreadable", name);
        else snprintf(out, cap, "%s", s ? s : "");
        if (s) H5free_memory(s);
        H5Tclose(mt);
    } else {
        size_t sz = H5Tget_size(ftype);
        char *buf = mir_calloc(sz + 1, 1);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, sz + 1);
        if (H5Aread(a, mt, buf) < 0) rc = mir_fail(err, "attribute %s unreadable", name);
        else snprintf(out, cap, "%s", buf);
        H5Tclose(mt);
        free(buf);
    }
    H5Tclose(ftype);
    H5Aclose(a);
    return rc;
}

int64_t mir_h5_length(hid_t file, const char *path, mir_error *err) {
    if (H5Lexists(file, path, H5P_DEFAULT) <= 0) {
        /* H5Lexists needs every intermediate group to exist: check step by step */
        mir_fail(err, "dataset %s missing", path);
        return -1;
    }
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) {
        mir_fail(err, "dataset %s missing", path);
        return -1;
    }
    hid_t s = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(s);
    hsize_t dims[2] = {0, 0};
    H5Sget_simple_extent_dims(s, dims, NULL);
    H5Sclose(s);
    H5Dclose(d);
    if (nd != 1) {
        mir_fail(err, "dataset %s has %d dimensions, expected 1", path, nd);
        return -1;
    }
    return (int64_t)dims[0];
}

int mir_h5_read_slab(hid_t file, const char *path, hid_t mem_type, uint64_t offset, uint64_t count, void *data,
                     mir_error *err) {
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) return mir_fail(err, "dataset %s missing", path);
    hid_t fspace = H5Dget_space(d);
    hsize_t off = offset, cnt = count;
    hid_t mspace = H5Screate_simple(1, &cnt, NULL);
    int rc = 0;
    if (count) {
        if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0)
            rc = mir_fail(err, "dataset %s: range [%llu, %llu) out of bounds", path, (unsigned long long)offset,
                          (unsigned long long)(offset + count));
    } else {
        H5Sselect_none(fspace);
        H5Sselect_none(mspace);
    }
    if (!rc && H5Dread(d, mem_type, mspace, fspace, H5P_DEFAULT, data) < 0)
        rc = mir_fail(err, "dataset %s: read failed", path);
    H5Sclose(mspace);
    H5Sclose(fspace);
    H5Dclose(d);
    return rc;
}

int mir_h5_read_strings(hid_t file, const char *path, char ***strings, int64_t *n, mir_error *err) {
    int64_t len = mir_h5_length(file, path, err);
    if (len < 0) return -1;
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    hid_t ftype = H5Dget_type(d);
    char **out = mir_calloc((size_t)len + 1, sizeof *out);
    int rc = 0;
    if (H5Tget_class(ftype) != H5T_STRING) {
        rc = mir_fail(err, "dataset %s is not a string dataset", path);
    } else if (H5Tis_variable_str(ftype) > 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        char **tmp = mir_calloc((size_t)len + 1, sizeof *tmp);
        if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, tmp) < 0) rc = mir_fail(err, "dataset %s unreadable", path);
        for (int64_t i = 0; i < len; i++) {
            out[i] = mir_strdup(tmp[i] ? tmp[i] : "");
            if (tmp[i]) H5free_memory(tmp[i]);
        }
        free(tmp);
        H5Tclose(mt);
    } else {
        size_t w = H5Tget_size(ftype);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, w + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        char *buf = mir_calloc((size_t)len + 1, w + 1);
        if (len && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
            rc = mir_fail(err, "dataset %s unreadable", path);
        for (int64_t i = 0; i < len; i++) out[i] = mir_strdup(buf + (size_t)i * (w + 1));
        free(buf);
        H5Tclose(mt);
    }
    H5Tclose(ftype);
    H5Dclose(d);
    if (rc) {
        mir_h5_free_strings(out, len);
        return -1;
    }
    *strings = out;
    *n = len;
    return 0;
}

void mir_h5_free_strings(char **strings, int64_t n) {
    if (!strings) return;
    for (int64_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
}

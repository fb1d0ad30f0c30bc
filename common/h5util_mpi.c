/* h5util_mpi.c: HDF5 files on a communicator (see h5util_mpi.h). */
#include "h5util_mpi.h"

hid_t mir_h5_create(const char *path, MPI_Comm comm, mir_error *err) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    H5Pset_all_coll_metadata_ops(fapl, 1);
    H5Pset_coll_metadata_write(fapl, 1);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (f < 0) mir_fail(err, "%s: cannot create HDF5 file", path);
    return f;
}

hid_t mir_h5_open_read(const char *path, MPI_Comm comm, mir_error *err) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) mir_fail(err, "%s: cannot open as HDF5 (missing, unreadable or not an HDF5 file)", path);
    return f;
}

/*
 * h5util_mpi.h: HDF5 files opened with the MPI-IO driver on a communicator (parallel HDF5 only: the library
 * mir_h5). Datasets and attributes are then written and read with h5util.h, collectively where h5util.h says.
 */
#ifndef MIR_H5UTIL_MPI_H
#define MIR_H5UTIL_MPI_H

#include <mpi.h>

#include "h5util.h"

/* Create (truncate) / open read-only a file collectively over comm. Returns < 0 with err filled on failure. */
hid_t mir_h5_create(const char *path, MPI_Comm comm, mir_error *err);
hid_t mir_h5_open_read(const char *path, MPI_Comm comm, mir_error *err);

#endif

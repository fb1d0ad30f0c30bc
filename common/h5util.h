/*
 * h5util.h: the HDF5 idioms every stage uses. Datasets are 1-D (or 2-D for matrices), created with their
 * global size, and each rank writes one contiguous slab [offset, offset + count) of it (count may be 0): with a
 * collective transfer on a file opened with the MPI-IO driver (h5util_mpi.h), a plain one otherwise.
 * Attributes are written by all ranks with identical values (HDF5 metadata is collective).
 *
 * No MPI here: h5util.c compiles against the parallel HDF5 (mir_h5, with h5util_mpi.c) and against the serial
 * one (mir_h5_serial, for libmirencoder.so, which must not link MPI).
 */
#ifndef MIR_H5UTIL_H
#define MIR_H5UTIL_H

#include <hdf5.h>
#include <stdint.h>

#include "mir_common.h"

/* Open read-only without MPI-IO (one process, e.g. a library user or a test). */
hid_t mir_h5_open_serial(const char *path, mir_error *err);

/* Create a 1-D dataset of global length n (intermediate groups are created) and write this rank's slab. */
int mir_h5_write_slab(hid_t file, const char *path, hid_t type, uint64_t n, uint64_t offset, uint64_t count,
                      const void *data, mir_error *err);
/* Fixed-length string dataset (width = max length + 1, NUL-terminated) from this rank's count strings. */
int mir_h5_write_strings(hid_t file, const char *path, uint64_t n, uint64_t offset, uint64_t count,
                         const char *const *strings, size_t width, mir_error *err);

int mir_h5_attr_string(hid_t obj, const char *name, const char *value, mir_error *err);
int mir_h5_attr_int64(hid_t obj, const char *name, int64_t value, mir_error *err);
int mir_h5_attr_double(hid_t obj, const char *name, double value, mir_error *err);
int mir_h5_read_attr_int64(hid_t obj, const char *name, int64_t *value, mir_error *err);
/* Reads a string attribute (fixed or variable length) into out (cap bytes). */
int mir_h5_read_attr_string(hid_t obj, const char *name, char *out, size_t cap, mir_error *err);

/* Length of a 1-D dataset, or -1 (err filled) if missing. */
int64_t mir_h5_length(hid_t file, const char *path, mir_error *err);
/* Read [offset, offset+count) of a 1-D dataset into data, converting to mem_type. Independent transfer. */
int mir_h5_read_slab(hid_t file, const char *path, hid_t mem_type, uint64_t offset, uint64_t count, void *data,
                     mir_error *err);
/* Read a whole fixed- or variable-length string dataset: *strings is an array of n malloc'd strings. */
int mir_h5_read_strings(hid_t file, const char *path, char ***strings, int64_t *n, mir_error *err);
void mir_h5_free_strings(char **strings, int64_t n);

/* Silence HDF5's automatic error stack printing (we report our own messages). */
void mir_h5_quiet(void);

#endif

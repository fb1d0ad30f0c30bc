/*
 * mpi_util.h: the MPI idioms the stages share. A step that can fail on some ranks and not on others ends with
 * mir_mpi_agree before the next collective, so that no rank waits in a collective the others skipped and every
 * rank (rank 0 prints) can name the reason.
 */
#ifndef MIR_MPI_UTIL_H
#define MIR_MPI_UTIL_H

#include <mpi.h>

#include "mir_common.h"

/* Collective over comm. Returns 0 when local_rc is 0 on every rank, else -1 on every rank. On failure err (local,
 * may be NULL) holds the message of the lowest failing rank N: unchanged on rank N, "rank N: MESSAGE" on the
 * others ("rank N: failed (no message)" where rank N's err was empty or NULL). */
int mir_mpi_agree(MPI_Comm comm, int local_rc, mir_error *err);

/* Collective over comm, for work that rank 0 did alone (a file it wrote, a table it read): returns rank 0's
 * root_rc on every rank; when it is not 0, err (may be NULL) receives rank 0's message, as it is. */
int mir_mpi_root_rc(MPI_Comm comm, int root_rc, mir_error *err);

/* The root argument of mir_mpi_gather_bytes that gives every rank the bytes (an all-gather). */
#define MIR_MPI_ALL (-1)

/* Collective over comm: every rank's `bytes` bytes at `mine` (NULL allowed when bytes is 0), end to end in rank
 * order. Returns, on root (on every rank for MIR_MPI_ALL), a new buffer (free it) of the total length with a NUL
 * one past the end, so that gathered text is a string; NULL on the other ranks. offsets_out (may be NULL): on a
 * rank that receives, a new array of size + 1 (free it), rank r's bytes at [offsets[r], offsets[r + 1]); NULL
 * elsewhere. total_out (may be NULL): the total length, on every rank.
 * Any lengths: MPI counts and displacements are int, so when the total passes INT_MAX the bytes travel in rounds
 * of at most INT_MAX bytes in all (INT_MAX / size from each rank a round) through a buffer of that size on the
 * receiving ranks; below it, in one MPI_Gatherv (MPI_Allgatherv) straight into place. */
void *mir_mpi_gather_bytes(MPI_Comm comm, const void *mine, size_t bytes, int root, size_t **offsets_out,
                           size_t *total_out);

/* mir_mpi_gather_bytes with max_per_call in place of INT_MAX (the rounds start above it; at least 1 byte from
 * each rank a round): for tests, which reach the rounds with small buffers. */
void *mir_mpi_gather_bytes_limit(MPI_Comm comm, const void *mine, size_t bytes, int root, size_t **offsets_out,
                                 size_t *total_out, size_t max_per_call);

#endif

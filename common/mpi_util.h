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

#endif

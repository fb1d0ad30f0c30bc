/* mpi_util.c: failure agreed across ranks (see mpi_util.h). */
#include "mpi_util.h"

#include <string.h>

int mir_mpi_agree(MPI_Comm comm, int local_rc, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int who = local_rc ? rank : size, first = size;
    MPI_Allreduce(&who, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size) return 0;
    char msg[MIR_ERROR_MAX] = "";
    if (rank == first && err) memcpy(msg, err->msg, sizeof msg);
    msg[MIR_ERROR_MAX - 1] = '\0';
    MPI_Bcast(msg, MIR_ERROR_MAX, MPI_CHAR, first, comm);
    if (rank == first || !err) return -1;
    if (msg[0]) memcpy(err->msg, msg, sizeof msg);
    else mir_fail(err, "failed (no message)");
    char who_text[32];
    snprintf(who_text, sizeof who_text, "rank %d", first);
    mir_error_prefix(err, who_text);
    return -1;
}

int mir_mpi_root_rc(MPI_Comm comm, int root_rc, mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    MPI_Bcast(&root_rc, 1, MPI_INT, 0, comm);
    if (!root_rc) return 0;
    char msg[MIR_ERROR_MAX] = "";
    if (rank == 0 && err) memcpy(msg, err->msg, sizeof msg);
    msg[MIR_ERROR_MAX - 1] = '\0';
    MPI_Bcast(msg, MIR_ERROR_MAX, MPI_CHAR, 0, comm);
    if (err) memcpy(err->msg, msg, sizeof msg);
    return root_rc;
}

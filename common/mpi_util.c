/* mpi_util.c: failure agreed across ranks, bytes of any length gathered (see mpi_util.h). */
#include "mpi_util.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
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

void *mir_mpi_gather_bytes(MPI_Comm comm, const void *mine, size_t bytes, int root, size_t **offsets_out,
                           size_t *total_out) {
    return mir_mpi_gather_bytes_limit(comm, mine, bytes, root, offsets_out, total_out, INT_MAX);
}

void *mir_mpi_gather_bytes_limit(MPI_Comm comm, const void *mine, size_t bytes, int root, size_t **offsets_out,
                                 size_t *total_out, size_t max_per_call) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const int all_ranks = root == MIR_MPI_ALL, receives = all_ranks || rank == root;
    /* every rank learns every length, so that all take the same path and the same rounds */
    uint64_t my = bytes, *len = mir_malloc((size_t)size * sizeof *len);
    MPI_Allgather(&my, 1, MPI_UINT64_T, len, 1, MPI_UINT64_T, comm);
    size_t *off = mir_malloc(((size_t)size + 1) * sizeof *off), longest = 0;
    off[0] = 0;
    for (int r = 0; r < size; r++) {
        off[r + 1] = off[r] + (size_t)len[r];
        if ((size_t)len[r] > longest) longest = (size_t)len[r];
    }
    const size_t total = off[size];
    char *out = receives ? mir_malloc(total + 1) : NULL;
    int *counts = mir_malloc((size_t)size * sizeof *counts), *displs = mir_malloc((size_t)size * sizeof *displs);
    if (total <= max_per_call) { /* one call, straight into place */
        for (int r = 0; r < size; r++) {
            counts[r] = (int)len[r];
            displs[r] = (int)off[r];
        }
        if (all_ranks) MPI_Allgatherv(mine, (int)bytes, MPI_BYTE, out, counts, displs, MPI_BYTE, comm);
        else MPI_Gatherv(mine, (int)bytes, MPI_BYTE, out, counts, displs, MPI_BYTE, root, comm);
    } else { /* rounds: each rank's next piece of at most `piece` bytes, staged, then copied into place */
        size_t piece = max_per_call / (size_t)size;
        if (piece == 0) piece = 1;
        char *stage = receives ? mir_malloc(piece * (size_t)size) : NULL;
        for (size_t done = 0; done < longest; done += piece) {
            int at = 0;
            for (int r = 0; r < size; r++) {
                size_t left = (size_t)len[r] > done ? (size_t)len[r] - done : 0;
                counts[r] = (int)(left < piece ? left : piece);
                displs[r] = at;
                at += counts[r];
            }
            const char *send = counts[rank] ? (const char *)mine + done : mine;
            if (all_ranks) MPI_Allgatherv(send, counts[rank], MPI_BYTE, stage, counts, displs, MPI_BYTE, comm);
            else MPI_Gatherv(send, counts[rank], MPI_BYTE, stage, counts, displs, MPI_BYTE, root, comm);
            for (int r = 0; receives && r < size; r++)
                if (counts[r]) memcpy(out + off[r] + done, stage + displs[r], (size_t)counts[r]);
        }
        free(stage);
    }
    if (out) out[total] = '\0';
    free(counts);
    free(displs);
    free(len);
    if (total_out) *total_out = total;
    if (offsets_out) *offsets_out = receives ? off : NULL;
    if (!offsets_out || !receives) free(off);
    return out;
}

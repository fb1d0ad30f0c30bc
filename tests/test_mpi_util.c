/*
 * test_mpi_util: mir_mpi_agree (common/mpi_util.h) at 2 ranks, under mpirun:
 *   mpirun -np 2 test_mpi_util
 * Neither rank failing leaves both messages alone; rank 1 failing gives rank 0 "rank 1: " and rank 1's message;
 * both failing gives rank 1 rank 0's message (the lowest failing rank wins) while rank 0 keeps its own; an empty
 * message or a NULL err on the failing rank, and a message that fills the buffer, are still reported whole.
 * mir_mpi_root_rc hands rank 0's status and message to rank 1. Every rank checks its own side; the exit status is rank 0's verdict over both.
 */
#include <mpi.h>
#include <string.h>

#include "mir_test.h"
#include "mpi_util.h"

static int rank;

/* Run mir_mpi_agree with this rank's (failing, message); check the status and the message it leaves. */
static void agree_case(int fails0, const char *msg0, int fails1, const char *msg1, const char *want0,
                       const char *want1) {
    mir_error e;
    snprintf(e.msg, sizeof e.msg, "%s", rank == 0 ? msg0 : msg1);
    int fails = rank == 0 ? fails0 : fails1;
    int rc = mir_mpi_agree(MPI_COMM_WORLD, fails ? -1 : 0, &e);
    CHECK_EQ_INT(rc, fails0 || fails1 ? -1 : 0);
    CHECK_EQ_STR(e.msg, rank == 0 ? want0 : want1);
}

static void check_null_err(void) {
    /* rank 1 fails with no err at all; rank 0 passes NULL too in the second round */
    mir_error e = {{0}};
    int rc = mir_mpi_agree(MPI_COMM_WORLD, rank == 1, rank == 0 ? &e : NULL);
    CHECK_EQ_INT(rc, -1);
    if (rank == 0) CHECK_EQ_STR(e.msg, "rank 1: failed (no message)");
    rc = mir_mpi_agree(MPI_COMM_WORLD, rank == 1, rank == 1 ? &e : NULL);
    CHECK_EQ_INT(rc, -1);
}

static void check_long_message(void) {
    mir_error e;
    memset(e.msg, 'x', sizeof e.msg - 1);
    e.msg[sizeof e.msg - 1] = '\0';
    if (rank == 0) snprintf(e.msg, sizeof e.msg, "fine");
    int rc = mir_mpi_agree(MPI_COMM_WORLD, rank == 1, &e);
    CHECK_EQ_INT(rc, -1);
    CHECK_EQ_INT(strlen(e.msg), sizeof e.msg - 1);
    if (rank == 0) {
        CHECK(strncmp(e.msg, "rank 1: xxxx", 12) == 0);
        CHECK(e.msg[sizeof e.msg - 2] == 'x');
    }
}

/* mir_mpi_root_rc: rank 0's status and message reach rank 1 as they are; rank 1's own status does not count. */
static void check_root_rc(void) {
    mir_error e;
    snprintf(e.msg, sizeof e.msg, "%s", rank == 0 ? "out/x: cannot create: No space left on device" : "stale");
    int rc = mir_mpi_root_rc(MPI_COMM_WORLD, rank == 0 ? 3 : 0, &e);
    CHECK_EQ_INT(rc, 3);
    CHECK_EQ_STR(e.msg, "out/x: cannot create: No space left on device");
    snprintf(e.msg, sizeof e.msg, "untouched %d", rank);
    rc = mir_mpi_root_rc(MPI_COMM_WORLD, rank == 0 ? 0 : -1, &e);
    CHECK_EQ_INT(rc, 0);
    char want[32];
    snprintf(want, sizeof want, "untouched %d", rank);
    CHECK_EQ_STR(e.msg, want);
    rc = mir_mpi_root_rc(MPI_COMM_WORLD, rank == 0 ? -1 : 0, rank == 0 ? &e : NULL); /* a NULL err is allowed */
    CHECK_EQ_INT(rc, -1);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK_FATAL(size == 2);
    agree_case(0, "stale 0", 0, "stale 1", "stale 0", "stale 1");
    check_root_rc();
    agree_case(0, "", 1, "cannot read b.h5", "rank 1: cannot read b.h5", "cannot read b.h5");
    agree_case(1, "cannot read a.h5", 0, "", "cannot read a.h5", "rank 0: cannot read a.h5");
    agree_case(1, "zero failed", 1, "one failed", "zero failed", "rank 0: zero failed");
    agree_case(0, "", 1, "", "rank 1: failed (no message)", "");
    check_null_err();
    check_long_message();
    /* rank 0 speaks for both */
    int failures = mir_test_failures, total = 0;
    MPI_Reduce(&failures, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 1 && failures) fprintf(stderr, "rank 1: %d checks failed\n", failures);
    if (rank == 0) mir_test_failures = total;
    int status = rank == 0 ? mir_test_finish("test_mpi_util") : 0;
    MPI_Finalize();
    return status;
}

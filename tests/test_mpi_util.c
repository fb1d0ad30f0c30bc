/*
 * test_mpi_util: mir_mpi_agree (common/mpi_util.h) at 2 ranks, under mpirun:
 *   mpirun -np 2 test_mpi_util
 * Neither rank failing leaves both messages alone; rank 1 failing gives rank 0 "rank 1: " and rank 1's message;
 * both failing gives rank 1 rank 0's message (the lowest failing rank wins) while rank 0 keeps its own; an empty
 * message or a NULL err on the failing rank, and a message that fills the buffer, are still reported whole.
 * mir_mpi_root_rc hands rank 0's status and message to rank 1. mir_mpi_gather_bytes puts both ranks' bytes (either
 * may be empty) end to end on the root, or on both ranks, as a buffer built here from the same pattern says, with
 * the offsets and total; the other rank gets NULL; in one call and, through mir_mpi_gather_bytes_limit with small
 * limits, in rounds. Every rank checks its own side; the exit status is rank 0's verdict over both.
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

/* Byte i of rank r's buffer: every value, NUL included, and different on the two ranks. */
static unsigned char pattern(int r, size_t i) { return (unsigned char)(i * 7 + (size_t)r * 131 + i / 256); }

/* Rank r sends len[r] bytes of pattern(r, .) (NULL when empty); check what each rank gets against the buffer
 * built here: the two patterns end to end. limit 0: mir_mpi_gather_bytes itself. */
static void gather_case(size_t len0, size_t len1, int root, size_t limit) {
    const size_t len[2] = {len0, len1}, total = len0 + len1;
    unsigned char *mine = len[rank] ? malloc(len[rank]) : NULL;
    for (size_t i = 0; i < len[rank]; i++) mine[i] = pattern(rank, i);
    unsigned char *want = malloc(total + 1);
    for (size_t i = 0; i < len0; i++) want[i] = pattern(0, i);
    for (size_t i = 0; i < len1; i++) want[len0 + i] = pattern(1, i);
    static size_t stale[3];
    size_t *off = stale, got_total = 12345; /* to be overwritten on every rank */
    MPI_Comm w = MPI_COMM_WORLD;
    unsigned char *got = limit ? mir_mpi_gather_bytes_limit(w, mine, len[rank], root, &off, &got_total, limit)
                               : mir_mpi_gather_bytes(w, mine, len[rank], root, &off, &got_total);
    CHECK_EQ_INT(got_total, total);
    if (root == MIR_MPI_ALL || root == rank) {
        CHECK_FATAL(got && off);
        CHECK(memcmp(got, want, total) == 0);
        CHECK_EQ_INT(got[total], 0);
        CHECK_EQ_INT(off[0], 0);
        CHECK_EQ_INT(off[1], len0);
        CHECK_EQ_INT(off[2], total);
    } else {
        CHECK(got == NULL);
        CHECK(off == NULL);
    }
    CHECK(off != stale);
    free(got);
    if (off != stale) free(off);
    /* the NULL outputs are optional */
    got = limit ? mir_mpi_gather_bytes_limit(w, mine, len[rank], root, NULL, NULL, limit)
                : mir_mpi_gather_bytes(w, mine, len[rank], root, NULL, NULL);
    CHECK((got != NULL) == (root == MIR_MPI_ALL || root == rank));
    if (got) CHECK(memcmp(got, want, total) == 0 && got[total] == 0);
    free(got);
    free(want);
    free(mine);
}

static void check_gather_bytes(void) {
    static const size_t lens[][2] = {{0, 0}, {7, 0}, {0, 5}, {1, 1}, {13, 1000}, {1000, 13}, {4096, 4097}};
    static const int roots[] = {0, 1, MIR_MPI_ALL};
    static const size_t limits[] = {0, 1, 2, 3, 7, 100, 20000}; /* 1: each rank 1 byte a round */
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++)
        for (size_t r = 0; r < sizeof roots / sizeof *roots; r++)
            for (size_t k = 0; k < sizeof limits / sizeof *limits; k++)
                gather_case(lens[l][0], lens[l][1], roots[r], limits[k]);
    /* text, as the stages gather it */
    const char *line = rank == 0 ? "a.ll\tparse error\tbad\n" : "";
    size_t tot = 0;
    char *all = mir_mpi_gather_bytes(MPI_COMM_WORLD, line, strlen(line), 0, NULL, &tot);
    if (rank == 0) CHECK_EQ_STR(all, "a.ll\tparse error\tbad\n");
    else CHECK(all == NULL);
    CHECK_EQ_INT(tot, strlen("a.ll\tparse error\tbad\n"));
    free(all);
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
    check_gather_bytes();
    /* rank 0 speaks for both */
    int failures = mir_test_failures, total = 0;
    MPI_Reduce(&failures, &total, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 1 && failures) fprintf(stderr, "rank 1: %d checks failed\n", failures);
    if (rank == 0) mir_test_failures = total;
    int status = rank == 0 ? mir_test_finish("test_mpi_util") : 0;
    MPI_Finalize();
    return status;
}

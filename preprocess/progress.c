/*
 * progress.c: progress messages (see progress.h): workers send their count to rank 0 (tiny eager messages);
 * rank 0 drains and prints.
 */
#include "progress.h"

#include <stdlib.h>
#include <string.h>

#include "mir_common.h"

enum { TAG_PROGRESS = 101 };

void mir_pp_progress_init(progress *p, MPI_Comm comm, int64_t total, double interval, int enabled) {
    memset(p, 0, sizeof *p);
    MPI_Comm_dup(comm, &p->comm);
    MPI_Comm_rank(p->comm, &p->rank);
    MPI_Comm_size(p->comm, &p->nranks);
    p->total = total;
    p->interval = interval;
    p->enabled = enabled;
    p->t0 = p->last_print = p->last_send = mir_wall_seconds();
    if (p->rank == 0) p->seen = mir_calloc((size_t)p->nranks, sizeof *p->seen);
}

static void progress_drain(progress *p, int block_until_all_done) {
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (block_until_all_done && p->n_done < p->nranks - 1) {
            MPI_Probe(MPI_ANY_SOURCE, TAG_PROGRESS, p->comm, &st);
            flag = 1;
        } else {
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROGRESS, p->comm, &flag, &st);
        }
        if (!flag) return;
        int64_t msg[2];
        MPI_Recv(msg, 2, MPI_INT64_T, st.MPI_SOURCE, TAG_PROGRESS, p->comm, MPI_STATUS_IGNORE);
        p->seen[st.MPI_SOURCE] = msg[0];
        if (msg[1]) p->n_done++;
        if (block_until_all_done) {
            double now = mir_wall_seconds();
            if (p->enabled && now - p->last_print >= p->interval) {
                int64_t done = p->mine;
                for (int r = 1; r < p->nranks; r++) done += p->seen[r];
                double rate = done / (now - p->t0 > 1e-9 ? now - p->t0 : 1e-9);
                mir_log(MIR_LOG_INFO, "%lld/%lld modules, %.1f modules/s, ETA %.0f s", (long long)done,
                        (long long)p->total, rate, rate > 0 ? (p->total - done) / rate : 0.0);
                p->last_print = now;
            }
        }
    }
}

void mir_pp_progress_step(progress *p) {
    p->mine++;
    double now = mir_wall_seconds();
    if (p->rank != 0) {
        if (now - p->last_send >= 0.5 * p->interval) {
            int64_t msg[2] = {p->mine, 0};
            MPI_Send(msg, 2, MPI_INT64_T, 0, TAG_PROGRESS, p->comm);
            p->last_send = now;
        }
        return;
    }
    progress_drain(p, 0);
    if (p->enabled && now - p->last_print >= p->interval) {
        int64_t done = p->mine;
        for (int r = 1; r < p->nranks; r++) done += p->seen[r];
        double rate = done / (now - p->t0);
        mir_log(MIR_LOG_INFO, "%lld/%lld modules, %.1f modules/s, ETA %.0f s", (long long)done, (long long)p->total,
                rate, rate > 0 ? (p->total - done) / rate : 0.0);
        p->last_print = now;
    }
}

void mir_pp_progress_finish(progress *p) {
    if (p->rank != 0) {
        int64_t msg[2] = {p->mine, 1};
        MPI_Send(msg, 2, MPI_INT64_T, 0, TAG_PROGRESS, p->comm);
    } else {
        progress_drain(p, 1);
    }
    free(p->seen);
    MPI_Comm_free(&p->comm);
}

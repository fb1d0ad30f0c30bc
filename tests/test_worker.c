/* test_worker: the supervised worker's pipelined requests (preprocess/worker.h).
 *
 * A crash of the child while other requests wait behind it: every request is answered once, in the order
 * submitted, the one the child died on is the one reported crashed (with the signal or the limit in its
 * message), and the ones behind it are answered by the fresh child. Checked with two in flight (as
 * mir-infer runs it), three, MIR_WORKER_DEPTH (mir-preprocess at most) and every request queued at once,
 * against the answers of the same requests made one at a time. Also: the time limit is per request, not
 * counted from its submission; large requests and replies in flight both ways do not block; misuse is a
 * clean failure. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mir_test.h"
#include "worker.h"

/* The job: replies with the name and then the data; "fail*" fails cleanly (status 7), "sleep*" takes 0.4 s,
 * "crash_*" are the test hook's (MIR_TEST_CRASH_ON, set in main). */
static int echo_job(void *arg, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                    mir_error *err) {
    (void)arg;
    if (!strncmp(name, "fail", 4)) {
        *status = 7;
        return mir_fail(err, "%s: refused", name);
    }
    if (!strncmp(name, "sleep", 5)) usleep(400000);
    mir_wbuf_put(reply, name, strlen(name));
    mir_wbuf_put(reply, data, bytes);
    return 0;
}

typedef struct answer {
    int kind, status;
    char text[512]; /* the reply, or the message */
} answer;

static void take(mir_worker *w, answer *a) {
    mir_error e = {{0}};
    mir_wbuf *r = mir_worker_reply_buffer(w);
    a->kind = mir_worker_collect(w, r, &a->status, &e);
    snprintf(a->text, sizeof a->text, "%s", a->kind == MIR_WORKER_OK ? r->p : e.msg);
}

/* Requests made one at a time (mir_worker_call): the reference. */
static void serial(const char *const *names, int n, answer *out) {
    mir_worker *w = mir_worker_create(echo_job, NULL, NULL);
    for (int i = 0; i < n; i++) {
        mir_error e = {{0}};
        mir_wbuf *r = mir_worker_reply_buffer(w);
        out[i].kind = mir_worker_call(w, names[i], "", 0, r, &out[i].status, &e);
        snprintf(out[i].text, sizeof out[i].text, "%s", out[i].kind == MIR_WORKER_OK ? r->p : e.msg);
    }
    mir_worker_free(w);
}

/* depth requests in flight at most (n: all at once); returns the children started. */
static int pipelined(const char *const *names, int n, int depth, answer *out) {
    mir_worker *w = mir_worker_create(echo_job, NULL, NULL);
    int next = 0;
    for (int i = 0; i < n; i++) {
        while (next < n && next < i + depth) {
            mir_worker_submit(w, names[next], "", 0);
            next++;
        }
        CHECK_EQ_INT(mir_worker_pending(w), next - i);
        take(w, &out[i]);
    }
    CHECK_EQ_INT(mir_worker_pending(w), 0);
    int starts = mir_worker_starts(w);
    mir_worker_free(w);
    return starts;
}

static void test_crash_while_queued(void) {
    static const char *const names[] = {"m0", "m1", "crash_segv2", "m3", "crash_abort4", "crash_segv5",
                                        "m6", "fail7", "m8", "crash_segv9"};
    enum { N = sizeof names / sizeof *names };
    const int want_kind[N] = {0, 0, MIR_WORKER_CRASHED, 0, MIR_WORKER_CRASHED, MIR_WORKER_CRASHED, 0,
                              MIR_WORKER_FAILED, 0, MIR_WORKER_CRASHED};
    answer ref[N], got[N];
    serial(names, N, ref);
    for (int i = 0; i < N; i++) {
        CHECK_EQ_INT(ref[i].kind, want_kind[i]);
        if (want_kind[i] == MIR_WORKER_OK) CHECK_EQ_STR(ref[i].text, names[i]);
        if (want_kind[i] == MIR_WORKER_CRASHED) CHECK(strstr(ref[i].text, names[i]) && strstr(ref[i].text, "crashed"));
    }
    CHECK(strstr(ref[2].text, "SIGSEGV") && strstr(ref[4].text, "SIGABRT") && strstr(ref[5].text, "SIGSEGV"));
    CHECK_EQ_INT(ref[7].status, 7);
    const int depths[] = {2, 3, MIR_WORKER_DEPTH, N};
    for (size_t d = 0; d < sizeof depths / sizeof *depths; d++) {
        memset(got, 0, sizeof got);
        int starts = pipelined(names, N, depths[d], got);
        CHECK_EQ_INT(starts, 4); /* the first child, and one after each crash but the last (nothing behind it) */
        for (int i = 0; i < N; i++) {
            CHECK_EQ_INT(got[i].kind, ref[i].kind);
            CHECK_EQ_INT(got[i].status, ref[i].status);
            CHECK_EQ_STR(got[i].text, ref[i].text);
        }
    }
}

/* Four requests of 0.4 s each under a limit of 1 s, all queued at once: none over its limit; a hang among
 * queued requests is killed at its own limit and the ones behind it are answered. */
static void test_time_limit_per_request(void) {
    mir_worker_limits l = {0, 1.0};
    mir_worker *w = mir_worker_create(echo_job, NULL, &l);
    static const char *const names[] = {"sleep_a", "sleep_b", "crash_hang", "sleep_c", "sleep_d"};
    for (int i = 0; i < 5; i++) mir_worker_submit(w, names[i], "", 0);
    double t0 = mir_wall_seconds();
    for (int i = 0; i < 5; i++) {
        answer a;
        take(w, &a);
        if (i == 2) {
            CHECK_EQ_INT(a.kind, MIR_WORKER_CRASHED);
            CHECK(strstr(a.text, "crash_hang") && strstr(a.text, "time limit of 1 s"));
        } else {
            CHECK_EQ_INT(a.kind, MIR_WORKER_OK);
            CHECK_EQ_STR(a.text, names[i]);
        }
    }
    double t = mir_wall_seconds() - t0;
    CHECK(t > 2.5 && t < 10); /* 4 x 0.4 s and the 1 s limit */
    CHECK_EQ_INT(mir_worker_starts(w), 2);
    mir_worker_free(w);
}

/* Requests and replies of 3 MiB each (more than a socket holds), eight queued at once: the supervisor sends
 * while it receives, so neither side waits on the other for ever. */
static void test_large_both_ways(void) {
    enum { K = 8 };
    const size_t bytes = (size_t)3 << 20;
    char *data = malloc(bytes + 1);
    mir_worker *w = mir_worker_create(echo_job, NULL, NULL);
    char names[K][16];
    for (int i = 0; i < K; i++) {
        memset(data, 'a' + i, bytes);
        snprintf(names[i], sizeof names[i], "big%d", i);
        mir_worker_submit(w, names[i], data, bytes);
    }
    for (int i = 0; i < K; i++) {
        mir_error e = {{0}};
        int status;
        mir_wbuf *r = mir_worker_reply_buffer(w);
        CHECK_EQ_INT(mir_worker_collect(w, r, &status, &e), MIR_WORKER_OK);
        size_t nl = strlen(names[i]);
        CHECK_EQ_INT(r->n, nl + bytes);
        int same = r->n == nl + bytes && !memcmp(r->p, names[i], nl);
        for (size_t k = nl; same && k < r->n; k++) same = r->p[k] == 'a' + i;
        CHECK(same);
    }
    mir_worker_free(w);
    free(data);
}

static void test_misuse(void) {
    mir_worker *w = mir_worker_create(echo_job, NULL, NULL);
    answer a;
    take(w, &a);
    CHECK_EQ_INT(a.kind, MIR_WORKER_FAILED);
    CHECK(strstr(a.text, "no request submitted") != NULL);
    mir_worker_submit(w, "m0", "", 0);
    mir_error e = {{0}};
    int status;
    CHECK_EQ_INT(mir_worker_call(w, "m1", "", 0, mir_worker_reply_buffer(w), &status, &e), MIR_WORKER_FAILED);
    take(w, &a);
    CHECK_EQ_INT(a.kind, MIR_WORKER_OK);
    CHECK_EQ_STR(a.text, "m0");
    mir_worker_submit(w, "sleep_x", "", 0); /* freed with a request left: no wait for it */
    mir_worker_submit(w, "crash_hang", "", 0);
    double t0 = mir_wall_seconds();
    mir_worker_free(w);
    CHECK(mir_wall_seconds() - t0 < 2);
}

int main(void) {
    setenv("MIR_TEST_CRASH_ON", "segv:crash_segv,abort:crash_abort,hang:crash_hang", 1);
    test_crash_while_queued();
    test_time_limit_per_request();
    test_large_both_ways();
    test_misuse();
    return mir_test_finish("test_worker");
}

/*
 * worker.h: untrusted input handled in a supervised child process, a fork server kept alive across requests.
 *
 * LLVM's readers trust their input: a corrupt bitcode file can segfault inside the reader, abort with
 * "LLVM ERROR: out of memory", or run for ever. A mir_worker forks once (at the first request); the child
 * loops reading requests (a name and some bytes) from a socketpair, runs the job given at creation
 * (parse, extract, encode...), and writes back a reply (bytes, or a clean failure with a status and a
 * message). The supervisor waits with poll() under a time limit per request, and the child runs under an
 * address-space limit (RLIMIT_AS: what it had at fork plus the memory limit). When the child dies or
 * overstays, the request is reported as MIR_WORKER_CRASHED with a message naming the signal or the limit
 * (and the child's last line on stderr, e.g. "LLVM ERROR: ..."), the child is reaped, and the next request
 * forks a fresh one.
 *
 * Pipelining: mir_worker_submit queues a request and mir_worker_collect takes the oldest one's reply, so a
 * caller can submit module i+1 (and more) before it unpacks module i's reply and keep the child busy
 * meanwhile. mir-preprocess keeps up to MIR_WORKER_DEPTH in flight while they hold under
 * MIR_WORKER_QUEUE_BYTES (two at least); mir-infer and mir-analyze, whose work per module is mostly the
 * child's forward pass, keep two.
 * The child answers in order, so a death is always the oldest request's doing: that one is reported crashed
 * and the requests behind it are sent again, whole, to the fresh child. The time limit of a request counts
 * from when the child could start on it (the previous reply came in), not from its submission.
 *
 * The child never calls MPI and leaves with _exit only: it may be forked from an MPI rank. Its stderr is a
 * pipe the supervisor drains while it waits (copied through to the supervisor's stderr).
 *
 * Test hook: MIR_TEST_CRASH_ON="KIND:SUBSTRING[,KIND:SUBSTRING...]" (read in the child only) makes the child
 * fail on any request whose name contains SUBSTRING, KIND one of segv (raises SIGSEGV), abort, oom
 * (allocates until the memory limit stops it), hang (sleeps past the time limit).
 */
#ifndef MIR_WORKER_H
#define MIR_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "mir_common.h"

#define MIR_WORKER_MEMORY_DEFAULT ((int64_t)4 << 30) /* bytes a worker may add to what it had at fork */
#define MIR_WORKER_TIMEOUT_DEFAULT 120.0             /* seconds per request */

typedef struct mir_worker_limits {
    int64_t memory_bytes; /* <= 0: no limit */
    double timeout_s;     /* <= 0: no limit */
} mir_worker_limits;
mir_worker_limits mir_worker_limits_default(void);

/* A growable byte buffer: requests and replies are serialised into one. */
typedef struct mir_wbuf {
    char *p;
    size_t n, cap;
} mir_wbuf;
void mir_wbuf_put(mir_wbuf *b, const void *data, size_t bytes);
void mir_wbuf_free(mir_wbuf *b);
/* Reading side: a cursor over bytes; every get fails (-1) rather than read past the end. */
typedef struct mir_rbuf {
    const char *p;
    size_t n, at;
} mir_rbuf;
int mir_rbuf_get(mir_rbuf *r, void *out, size_t bytes);
const void *mir_rbuf_take(mir_rbuf *r, size_t bytes); /* a pointer to the next bytes, NULL if short */

/* The job, run in the child for each request: name and data (data[bytes] == '\0') to reply. Returns 0, or
 * -1 with *status (the caller's status code) and err for a clean failure. */
typedef int (*mir_worker_job)(void *arg, const char *name, const char *data, size_t bytes, mir_wbuf *reply,
                              int *status, mir_error *err);

typedef struct mir_worker mir_worker;
/* arg is read by the child (which has a copy of the parent's memory as it was at fork). */
mir_worker *mir_worker_create(mir_worker_job job, void *arg, const mir_worker_limits *limits);
/* Stops the child (end of input, then SIGKILL if it does not leave) and frees. */
void mir_worker_free(mir_worker *w);

enum { MIR_WORKER_OK = 0, MIR_WORKER_FAILED = 1, MIR_WORKER_CRASHED = 2 };
/* One request. MIR_WORKER_OK: reply holds the job's bytes (reply is cleared first). MIR_WORKER_FAILED: the
 * job failed cleanly (*status, err). MIR_WORKER_CRASHED: the child died, overstayed or could not be started
 * (err says which; the next request starts a fresh child). */
int mir_worker_call(mir_worker *w, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                    mir_error *err);
/* Pipelined requests (see the top of this file). submit copies name and data and sends what the socket takes
 * without waiting; collect waits for the oldest request not yet collected and returns as mir_worker_call
 * does for it (MIR_WORKER_FAILED with err when nothing is queued). mir_worker_call is a submit and a collect
 * with nothing else queued. mir_worker_free drops requests not collected. */
enum { MIR_WORKER_DEPTH = 4 };
#define MIR_WORKER_QUEUE_BYTES ((size_t)64 << 20)
size_t mir_worker_pending_bytes(const mir_worker *w); /* the requests' bytes held until they are answered */
void mir_worker_submit(mir_worker *w, const char *name, const char *data, size_t bytes);
int mir_worker_collect(mir_worker *w, mir_wbuf *reply, int *status, mir_error *err);
int mir_worker_pending(const mir_worker *w); /* submitted and not yet collected */
/* A reply buffer the worker owns (freed with it), for callers that make many calls: reused, it grows once. */
mir_wbuf *mir_worker_reply_buffer(mir_worker *w);
/* Children started so far (1 + restarts after crashes), for tests and summaries. */
int mir_worker_starts(const mir_worker *w);

#endif

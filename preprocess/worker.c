/* worker.c: the supervised fork server (see worker.h). */
#define _GNU_SOURCE
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <llvm-c/ErrorHandling.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { TAIL_BYTES = 2048, EXIT_LLVM_FATAL = 70, SOCKET_BYTES = 4 << 20, KEEP_BYTES = 16 << 20 };

/* One request submitted and not yet collected: its bytes as sent (kept until its reply is in, to be sent
 * again to a fresh child when an earlier request crashes the one that had them). */
typedef struct wreq {
    mir_wbuf wire; /* head (name bytes, data bytes), name, data */
    char *name;
} wreq;

struct mir_worker {
    mir_worker_job job;
    void *arg;
    mir_worker_limits limits;
    pid_t pid;       /* -1: none running */
    int sock;        /* supervisor's end of the socketpair */
    int errfd;       /* read end of the child's stderr */
    int starts;
    mir_wbuf reply;  /* mir_worker_reply_buffer */
    char tail[TAIL_BYTES + 1]; /* the child's stderr since the last reply came in (its last bytes) */
    size_t tail_n;
    /* the pipeline: q[0] is the request the child works on, the rest wait in the socket or in q */
    wreq *q;
    size_t q_n, q_cap;
    size_t sent_req, sent_off; /* q[0 .. sent_req-1] are sent whole, and sent_off bytes of q[sent_req] */
    int send_broken;           /* a send failed: the child is gone, its replies may still be read */
    double head_since;         /* when the child could start on q[0] (the time limit counts from here) */
};

mir_worker_limits mir_worker_limits_default(void) {
    return (mir_worker_limits){MIR_WORKER_MEMORY_DEFAULT, MIR_WORKER_TIMEOUT_DEFAULT};
}

/* ------------------------------------------------------------------------------------------------ */
/* buffers                                                                                          */

void mir_wbuf_put(mir_wbuf *b, const void *data, size_t bytes) {
    MIR_GROW(b->p, b->cap, b->n + bytes + 1);
    if (bytes) memcpy(b->p + b->n, data, bytes);
    b->n += bytes;
}

void mir_wbuf_free(mir_wbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

const void *mir_rbuf_take(mir_rbuf *r, size_t bytes) {
    if (bytes > r->n - r->at) return NULL;
    const void *p = r->p + r->at;
    r->at += bytes;
    return p;
}

int mir_rbuf_get(mir_rbuf *r, void *out, size_t bytes) {
    const void *p = mir_rbuf_take(r, bytes);
    if (!p) return -1;
    memcpy(out, p, bytes);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* the child                                                                                        */

/* Blocking full read/write on the child's side. read_full: 1 read, 0 clean EOF before any byte, -1 error. */
static int read_full(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return got == 0 && r == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

static int write_full(int fd, const void *buf, size_t n) {
    size_t put = 0;
    while (put < n) {
        ssize_t r = send(fd, (const char *)buf + put, n - put, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        put += (size_t)r;
    }
    return 0;
}

static void child_llvm_fatal(const char *reason) {
    dprintf(2, "LLVM ERROR: %s\n", reason);
    _exit(EXIT_LLVM_FATAL);
}

/* Address space now (bytes), from /proc/self/statm; 0 if unknown. */
static int64_t address_space_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld", &pages) != 1) pages = 0;
    fclose(f);
    return (int64_t)pages * sysconf(_SC_PAGESIZE);
}

static void child_set_limits(const mir_worker_limits *l) {
    if (l->memory_bytes <= 0) return;
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    rlim_t want = (rlim_t)(address_space_bytes() + l->memory_bytes);
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) want = rl.rlim_max;
    rl.rlim_cur = want;
    setrlimit(RLIMIT_AS, &rl);
}

/* One MIR_TEST_CRASH_ON item, KIND:SUBSTRING of len bytes: fail as KIND says when name contains SUBSTRING. */
static void child_test_item(const char *item, size_t len, const char *name, const mir_worker_limits *l) {
    const char *colon = memchr(item, ':', len);
    if (!colon || colon + 1 == item + len) return;
    char sub[256];
    size_t n = (size_t)(item + len - colon - 1);
    if (n >= sizeof sub) return;
    memcpy(sub, colon + 1, n);
    sub[n] = '\0';
    if (!strstr(name, sub)) return;
    size_t k = (size_t)(colon - item);
    if (k == 4 && !strncmp(item, "segv", 4)) raise(SIGSEGV);
    if (k == 5 && !strncmp(item, "abort", 5)) abort();
    if (k == 4 && !strncmp(item, "hang", 4))
        for (;;) pause();
    if (k == 3 && !strncmp(item, "oom", 3)) {
        if (l->memory_bytes <= 0) abort(); /* no limit to reach: do not eat the machine */
        for (;;) (void)mir_malloc((size_t)64 << 20); /* untouched pages: the address space limit stops it */
    }
}

/* MIR_TEST_CRASH_ON=KIND:SUBSTRING[,KIND:SUBSTRING...] (worker.h). */
static void child_test_hook(const char *name, const mir_worker_limits *l) {
    const char *spec = getenv("MIR_TEST_CRASH_ON");
    while (spec && *spec) {
        size_t len = strcspn(spec, ",");
        child_test_item(spec, len, name, l);
        spec += len + (spec[len] == ',');
    }
}

typedef struct reply_head {
    int32_t kind;   /* MIR_WORKER_OK or MIR_WORKER_FAILED */
    int32_t status;
    uint64_t bytes; /* payload: the reply, or the message */
} reply_head;

static void child_loop(mir_worker *w) {
    mir_wbuf reply = {0};
    for (;;) {
        uint64_t head[2];
        int r = read_full(w->sock, head, sizeof head);
        if (r <= 0) _exit(r == 0 ? 0 : 1);
        char *name = malloc(head[0] + 1), *data = malloc(head[1] + 1);
        if (!name || !data || read_full(w->sock, name, head[0]) != 1 ||
            (head[1] && read_full(w->sock, data, head[1]) != 1))
            _exit(1);
        name[head[0]] = data[head[1]] = '\0';
        child_test_hook(name, &w->limits);
        mir_error err = {{0}};
        int status = 0;
        reply.n = 0;
        reply_head h = {MIR_WORKER_OK, 0, 0};
        if (w->job(w->arg, name, data, (size_t)head[1], &reply, &status, &err)) {
            h = (reply_head){MIR_WORKER_FAILED, status, 0};
            reply.n = 0;
            mir_wbuf_put(&reply, err.msg, strlen(err.msg));
        }
        h.bytes = reply.n;
        free(name);
        free(data);
        if (write_full(w->sock, &h, sizeof h) || write_full(w->sock, reply.p, reply.n)) _exit(1);
    }
}

/* In the child after fork: only the socket and the stderr pipe stay open; never returns. */
static void child_main(mir_worker *w, int sock, int errw) {
    dup2(errw, 2);
    if (sock != 3) {
        dup2(sock, 3);
        sock = 3;
    }
    close_range(4, ~0U, 0);
    w->sock = sock;
    /* MPI libraries catch fatal signals to print their own report: the child dies plainly instead, so that
     * the supervisor sees the signal and the child's own last line */
    const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM, SIGINT};
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++) signal(fatal[i], SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    LLVMInstallFatalErrorHandler(child_llvm_fatal);
    child_set_limits(&w->limits);
    child_loop(w);
    _exit(0);
}

/* ------------------------------------------------------------------------------------------------ */
/* the supervisor                                                                                   */

mir_worker *mir_worker_create(mir_worker_job job, void *arg, const mir_worker_limits *limits) {
    mir_worker *w = mir_calloc(1, sizeof *w);
    w->job = job;
    w->arg = arg;
    w->limits = limits ? *limits : mir_worker_limits_default();
    w->pid = -1;
    w->sock = w->errfd = -1;
    return w;
}

int mir_worker_starts(const mir_worker *w) { return w->starts; }
mir_wbuf *mir_worker_reply_buffer(mir_worker *w) { return &w->reply; }

static int worker_start(mir_worker *w, mir_error *err) {
    int sv[2], ep[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) return mir_fail(err, "socketpair: %s", strerror(errno));
    if (pipe2(ep, O_CLOEXEC)) {
        close(sv[0]);
        close(sv[1]);
        return mir_fail(err, "pipe: %s", strerror(errno));
    }
    /* room for a few requests and replies in the socket, so that neither side waits for the other to read
     * (the kernel caps it at net.core.wmem_max / rmem_max) */
    const int buf_bytes = SOCKET_BYTES;
    for (int k = 0; k < 2; k++) {
        setsockopt(sv[k], SOL_SOCKET, SO_SNDBUF, &buf_bytes, sizeof buf_bytes);
        setsockopt(sv[k], SOL_SOCKET, SO_RCVBUF, &buf_bytes, sizeof buf_bytes);
    }
    fflush(stdout);
    fflush(stderr);
#ifdef __GLIBC__
    /* Hand the heap's free pages back to the kernel first: a page shared copy-on-write with the child costs
     * the supervisor a copy and, in a threaded MPI rank, a TLB shoot-down to the other cores when it next
     * writes there (docs/performance.md, isolation); a page given back costs only a zero-fill fault. */
    malloc_trim(0);
#endif
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]); close(sv[1]); close(ep[0]); close(ep[1]);
        return mir_fail(err, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        close(ep[0]);
        child_main(w, sv[1], ep[1]);
    }
    close(sv[1]);
    close(ep[1]);
    w->pid = pid;
    w->sock = sv[0];
    w->errfd = ep[0];
    fcntl(w->sock, F_SETFL, fcntl(w->sock, F_GETFL) | O_NONBLOCK);
    fcntl(w->errfd, F_SETFL, fcntl(w->errfd, F_GETFL) | O_NONBLOCK);
    w->starts++;
    return 0;
}

/* Copy what the child wrote on stderr through to ours, keeping the last TAIL_BYTES of it. */
static void drain_stderr(mir_worker *w) {
    char buf[4096];
    ssize_t r;
    if (w->errfd < 0) return;
    while ((r = read(w->errfd, buf, sizeof buf)) > 0) {
        if (write(2, buf, (size_t)r) < 0) { /* nothing to do: our stderr is gone */ }
        size_t n = (size_t)r;
        if (n >= TAIL_BYTES) {
            memcpy(w->tail, buf + n - TAIL_BYTES, TAIL_BYTES);
            w->tail_n = TAIL_BYTES;
        } else {
            if (w->tail_n + n > TAIL_BYTES) {
                size_t drop = w->tail_n + n - TAIL_BYTES;
                memmove(w->tail, w->tail + drop, w->tail_n - drop);
                w->tail_n -= drop;
            }
            memcpy(w->tail + w->tail_n, buf, n);
            w->tail_n += n;
        }
    }
}

/* The child's last words: its last line that starts "LLVM ERROR" if any, else its last non-empty line,
 * made printable, into out. */
static void last_words(const mir_worker *w, char *out, size_t cap) {
    size_t best_s = 0, best_e = 0, end = w->tail_n;
    int llvm = 0;
    while (end > 0 && !llvm) {
        while (end > 0 && (w->tail[end - 1] == '\n' || w->tail[end - 1] == '\r')) end--;
        size_t start = end;
        while (start > 0 && w->tail[start - 1] != '\n') start--;
        llvm = end - start >= 10 && !memcmp(w->tail + start, "LLVM ERROR", 10);
        if (end > start && (best_e == 0 || llvm)) {
            best_s = start;
            best_e = end;
        }
        end = start;
    }
    size_t n = best_e - best_s < cap - 1 ? best_e - best_s : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w->tail[best_s + i];
        out[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
    }
    out[n] = '\0';
}

static void worker_stop(mir_worker *w, int kill_now) {
    if (w->pid < 0) return;
    if (kill_now) kill(w->pid, SIGKILL);
    close(w->sock);
    int st;
    if (!kill_now) {
        /* the child leaves at end of input; give it a moment, then kill */
        for (int i = 0; i < 200 && waitpid(w->pid, &st, WNOHANG) == 0; i++) usleep(5000);
        kill(w->pid, SIGKILL);
    }
    waitpid(w->pid, &st, 0);
    if (w->errfd >= 0) close(w->errfd);
    w->pid = -1;
    w->sock = w->errfd = -1;
}

void mir_worker_free(mir_worker *w) {
    if (!w) return;
    worker_stop(w, w->q_n > 0); /* requests left uncollected: the child need not finish them */
    mir_wbuf_free(&w->reply);
    for (size_t i = 0; i < w->q_cap; i++) {
        mir_wbuf_free(&w->q[i].wire);
        free(w->q[i].name);
    }
    free(w->q);
    free(w);
}

/* The child is gone (or must go): reap it and say why in err. timed_out: it overstayed the time limit. */
static int worker_died(mir_worker *w, const char *name, int timed_out, mir_error *err) {
    if (timed_out) kill(w->pid, SIGKILL);
    int st = 0;
    waitpid(w->pid, &st, 0);
    drain_stderr(w);
    close(w->sock);
    if (w->errfd >= 0) close(w->errfd);
    w->pid = -1;
    w->sock = w->errfd = -1;
    char last[256];
    last_words(w, last, sizeof last);
    char why[512];
    w->tail[w->tail_n] = 0;
    int mem = strstr(w->tail, "out of memory") != NULL || strstr(w->tail, "bad_alloc") != NULL;
    if (timed_out)
        snprintf(why, sizeof why, "over the time limit of %g s (--module-timeout): worker killed", w->limits.timeout_s);
    else if (WIFSIGNALED(st))
        snprintf(why, sizeof why, "worker killed by signal %d (SIG%s)", WTERMSIG(st),
                 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
    else if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_LLVM_FATAL)
        snprintf(why, sizeof why, "LLVM fatal error in the worker");
    else
        snprintf(why, sizeof why, "worker exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    char lim[128] = "";
    if (mem && w->limits.memory_bytes > 0)
        snprintf(lim, sizeof lim, ", out of memory under the limit of %lld MiB (--worker-memory)",
                 (long long)(w->limits.memory_bytes >> 20));
    if (last[0] && !timed_out)
        return mir_fail(err, "%s: crashed: %s%s (its last words: %s)", name, why, lim, last);
    return mir_fail(err, "%s: crashed: %s%s", name, why, lim);
}

/* Wait until the socket is ready for events, or the deadline (0: none); drains the child's stderr meanwhile.
 * 1 ready, 0 deadline passed. Past the deadline the socket is still looked at once: a reply that came in while
 * the caller was busy elsewhere is not a timeout. */
static int wait_ready(mir_worker *w, short events, double deadline) {
    for (;;) {
        int ms = -1, last = 0;
        if (deadline > 0) {
            double left = deadline - mir_wall_seconds();
            last = left <= 0;
            ms = last ? 0 : (int)(left * 1000.0) + 1;
        }
        struct pollfd p[2] = {{w->sock, events, 0}, {w->errfd, POLLIN, 0}};
        int r = poll(p, w->errfd >= 0 ? 2 : 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (p[1].revents & (POLLIN | POLLHUP)) drain_stderr(w);
        if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[1].revents & POLLIN)) {
            close(w->errfd); /* the child closed its stderr: stop watching it */
            w->errfd = -1;
        }
        if (p[0].revents) return 1;
        if (r == 0 || last) return 0;
    }
}

/* Send what the socket takes now of the queued requests, without waiting. A failed send means the child is
 * gone: sending stops, and the replies it wrote before it went are still read (recv_pumping). */
static void send_some(mir_worker *w) {
    while (!w->send_broken && w->sent_req < w->q_n) {
        const mir_wbuf *b = &w->q[w->sent_req].wire;
        ssize_t r = send(w->sock, b->p + w->sent_off, b->n - w->sent_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (r < 0) {
            w->send_broken = 1;
            return;
        }
        w->sent_off += (size_t)r;
        if (w->sent_off == b->n) {
            w->sent_req++;
            w->sent_off = 0;
        }
    }
}

/* Receive n bytes of the oldest request's reply while sending the requests queued behind it as the child
 * takes them (so that neither side blocks on a full socket). 0 received, -1 the child went away, -2 deadline. */
static int recv_pumping(mir_worker *w, void *buf, size_t n, double deadline) {
    size_t got = 0;
    while (got < n) {
        send_some(w);
        ssize_t r = recv(w->sock, (char *)buf + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int more = !w->send_broken && w->sent_req < w->q_n;
            if (!wait_ready(w, (short)(POLLIN | (more ? POLLOUT : 0)), deadline)) return -2;
            continue;
        }
        return -1; /* EOF or error: the child is gone */
    }
    return 0;
}

void mir_worker_submit(mir_worker *w, const char *name, const char *data, size_t bytes) {
    if (w->q_n == w->q_cap) {
        size_t cap = w->q_cap ? 2 * w->q_cap : 4;
        w->q = mir_realloc(w->q, cap * sizeof *w->q);
        memset(w->q + w->q_cap, 0, (cap - w->q_cap) * sizeof *w->q);
        w->q_cap = cap;
    }
    wreq *q = &w->q[w->q_n++]; /* a slot reused: its buffer already grown */
    uint64_t head[2] = {strlen(name), bytes};
    q->wire.n = 0;
    mir_wbuf_put(&q->wire, head, sizeof head);
    mir_wbuf_put(&q->wire, name, head[0]);
    mir_wbuf_put(&q->wire, data, bytes);
    free(q->name);
    q->name = mir_strdup(name);
    if (w->q_n == 1) w->head_since = mir_wall_seconds();
    if (w->pid >= 0) send_some(w);
}

int mir_worker_pending(const mir_worker *w) { return (int)w->q_n; }

size_t mir_worker_pending_bytes(const mir_worker *w) {
    size_t n = 0;
    for (size_t i = 0; i < w->q_n; i++) n += w->q[i].wire.n;
    return n;
}

/* The oldest request is answered (or crashed): its slot moves to the end, for reuse. The next one's time
 * starts now: the child takes it as soon as it has sent this reply. */
static void pop_head(mir_worker *w) {
    wreq done = w->q[0];
    if (done.wire.cap > KEEP_BYTES) mir_wbuf_free(&done.wire); /* a large module's copy is not kept for reuse */
    memmove(w->q, w->q + 1, (w->q_n - 1) * sizeof *w->q);
    w->q[--w->q_n] = done;
    if (w->sent_req > 0) w->sent_req--;
    w->head_since = mir_wall_seconds();
    w->tail_n = 0;
}

/* The child died on q[0]: reap it, say why in err, drop q[0]; the others go whole to the next child
 * (ensure_started sends the queue from its start). */
static int head_crashed(mir_worker *w, int timed_out, mir_error *err) {
    worker_died(w, w->q[0].name, timed_out, err);
    pop_head(w);
    return MIR_WORKER_CRASHED;
}

/* Start a child for the queued requests; on failure q[0] is reported as crashed (err says why). */
static int ensure_started(mir_worker *w, mir_error *err) {
    if (w->pid >= 0) return 0;
    if (worker_start(w, err)) {
        mir_error_prefix(err, w->q[0].name);
        pop_head(w);
        return -1;
    }
    w->sent_req = w->sent_off = 0;
    w->send_broken = 0;
    w->head_since = mir_wall_seconds();
    w->tail_n = 0;
    return 0;
}

int mir_worker_collect(mir_worker *w, mir_wbuf *reply, int *status, mir_error *err) {
    reply->n = 0;
    *status = 0;
    if (w->q_n == 0) {
        mir_fail(err, "mir_worker_collect: no request submitted");
        return MIR_WORKER_FAILED;
    }
    if (ensure_started(w, err)) return MIR_WORKER_CRASHED;
    double limit = w->limits.timeout_s;
    reply_head h;
    int rc = recv_pumping(w, &h, sizeof h, limit > 0 ? w->head_since + limit : 0);
    if (!rc) {
        /* the job is done: what is left is the transfer, with a fresh allowance */
        MIR_GROW(reply->p, reply->cap, (size_t)h.bytes + 1);
        rc = recv_pumping(w, reply->p, (size_t)h.bytes, limit > 0 ? mir_wall_seconds() + limit : 0);
    }
    if (rc) return head_crashed(w, rc == -2, err);
    drain_stderr(w); /* what the child wrote for this request stays out of the next one's last words */
    pop_head(w);
    reply->n = (size_t)h.bytes;
    reply->p[reply->n] = '\0';
    if (h.kind == MIR_WORKER_FAILED) {
        *status = h.status;
        mir_fail(err, "%s", reply->p);
        reply->n = 0;
        return MIR_WORKER_FAILED;
    }
    return MIR_WORKER_OK;
}

int mir_worker_call(mir_worker *w, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                    mir_error *err) {
    if (w->q_n) {
        reply->n = 0;
        *status = 0;
        mir_fail(err, "%s: mir_worker_call with %zu requests not collected", name, w->q_n);
        return MIR_WORKER_FAILED;
    }
    mir_worker_submit(w, name, data, bytes);
    return mir_worker_collect(w, reply, status, err);
}

/*
 * child.h: one way to run another program as a child process, with a wall-clock limit. The compiler driver
 * (preprocess/compile.c: clang per source), the vectorization study (analysis/vectorize_label.c: a compile and
 * timed runs per job) and the data unpacking (analysis/util.c: unzip) all use it; the supervised LLVM worker
 * (preprocess/worker.h) is a fork server of our own code and has its own protocol.
 *
 * The child is started with posix_spawnp (PATH searched; no copy of the caller's memory), stdin from /dev/null,
 * stdout and stderr to files, /dev/null or the caller's own. The parent waits on a pidfd with poll() up to the
 * limit (Linux 5.3+; elsewhere a 2 ms polling wait), kills the child with SIGKILL past it, and reaps it with wait4, so that its
 * wall time and CPU time (user + system) are known. No signal handler, no alarm(), no global state.
 */
#ifndef MIR_CHILD_H
#define MIR_CHILD_H

typedef struct mir_child_result {
    int exit_code; /* when it exited, else -1 (a program that cannot be started fails mir_child_run instead) */
    int signal;    /* the signal that ended it, else 0 */
    int timed_out; /* killed by us after the wall-clock limit */
    double wall_s, cpu_s;
} mir_child_result;

typedef struct mir_child_io {
    const char *out_path; /* stdout to this file (created or truncated); NULL: /dev/null */
    const char *err_path; /* stderr likewise; the same path as out_path: both into one file */
} mir_child_io;

/* Runs argv (argv[0] found on PATH) with stdin from /dev/null and its output as io says (NULL: stdout and stderr
 * are the caller's), killed after limit_s seconds of wall time (<= 0: no limit). Returns 0 when the child was
 * started and reaped (cr says how it ended), else -1 with errno (it could not be started; cr->exit_code is -1). */
int mir_child_run(char *const argv[], const mir_child_io *io, double limit_s, mir_child_result *cr);

#endif

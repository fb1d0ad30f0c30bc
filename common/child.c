/* child.c: a program run as a child process with a wall-clock limit (see child.h). */
#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mir_common.h"

extern char **environ;

static int spawn(pid_t *pid, char *const argv[], const mir_child_io *io) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (io) { /* else stdout and stderr are the caller's */
        const char *out = io->out_path ? io->out_path : "/dev/null";
        posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (io->err_path && io->out_path && !strcmp(io->err_path, io->out_path)) {
            posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
        } else {
            const char *er = io->err_path ? io->err_path : "/dev/null";
            posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, er, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        }
    }
    int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Waits until the child has ended or the deadline (wall seconds; 0: none) has passed; 1 if it passed. */
static int wait_until(pid_t pid, double deadline) {
    if (deadline <= 0) return 0;
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    for (;;) {
        double left = deadline - mir_wall_seconds();
        if (left <= 0) break;
        if (fd >= 0) {
            struct pollfd p = {fd, POLLIN, 0};
            int ms = left > 3600.0 ? 3600000 : (int)(left * 1000.0) + 1;
            int r = poll(&p, 1, ms);
            if (r > 0) break; /* ended: wait4 reaps it */
            if (r < 0 && errno != EINTR) { close(fd); fd = -1; }
        } else {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) break;
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    if (fd >= 0) close(fd);
    return mir_wall_seconds() >= deadline;
}

int mir_child_run(char *const argv[], const mir_child_io *io, double limit_s, mir_child_result *cr) {
    memset(cr, 0, sizeof *cr);
    cr->exit_code = -1;
    double t0 = mir_wall_seconds();
    pid_t pid;
    int sp = spawn(&pid, argv, io);
    if (sp) {
        errno = sp;
        return -1;
    }
    if (wait_until(pid, limit_s > 0 ? t0 + limit_s : 0)) {
        /* still running at the deadline, unless it ended in the last instant: kill is harmless then */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (!(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)) {
            kill(pid, SIGKILL);
            cr->timed_out = 1;
        }
    }
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) return -1;
    cr->wall_s = mir_wall_seconds() - t0;
    cr->cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
                1e-6 * (double)ru.ru_stime.tv_usec;
    if (WIFEXITED(status)) cr->exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) cr->signal = WTERMSIG(status);
    return 0;
}

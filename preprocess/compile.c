/* compile.c: clang 16 as a child process per source (see compile.h). */
#include "compile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef MIR_CLANG_DEFAULT
#define MIR_CLANG_DEFAULT "clang-16"
#endif
#ifndef MIR_CUDA_PRELUDE_DEFAULT
#define MIR_CUDA_PRELUDE_DEFAULT "cuda_prelude.h"
#endif

void mir_compile_options_default(mir_compile_options *o) {
    memset(o, 0, sizeof *o);
    const char *env = getenv("MIR_CLANG");
    o->clang = env && *env ? env : MIR_CLANG_DEFAULT;
    env = getenv("MIR_CUDA_PRELUDE");
    o->cuda_prelude = env && *env ? env : MIR_CUDA_PRELUDE_DEFAULT;
    o->opt_level = "1";
    o->timeout_s = 120;
}

static int make_temp(char *path, size_t cap, const char *suffix) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/mir-cc-XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    return mkstemps(path, (int)strlen(suffix));
}

/* First lines of clang's stderr, joined with " | ", for the error message. */
static void summarize_diagnostics(const char *file, char *out, size_t cap) {
    out[0] = 0;
    FILE *f = fopen(file, "r");
    if (!f) return;
    char line[512];
    size_t used = 0;
    int lines = 0;
    while (lines < 4 && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (!n) continue;
        int w = snprintf(out + used, cap - used, "%s%s", lines ? " | " : "", line);
        if (w < 0 || (size_t)w >= cap - used) break;
        used += (size_t)w;
        lines++;
    }
    fclose(f);
}

int mir_compile_source(const char *path, mir_source_lang lang, const mir_compile_options *o, char **data,
                       size_t *bytes, mir_error *err) {
    char out_path[4096], log_path[4096];
    int ofd = make_temp(out_path, sizeof out_path, ".bc");
    if (ofd < 0) return mir_fail(err, "%s: cannot create a temporary file: %s", path, strerror(errno));
    close(ofd);
    int lfd = make_temp(log_path, sizeof log_path, ".log");
    if (lfd < 0) {
        unlink(out_path);
        return mir_fail(err, "%s: cannot create a temporary file: %s", path, strerror(errno));
    }

    const char *argv[64 + 256];
    int n = 0;
    char opt[16];
    snprintf(opt, sizeof opt, "-O%s", o->opt_level ? o->opt_level : "1");
    argv[n++] = o->clang;
    switch (lang) {
    case MIR_SRC_C: argv[n++] = "-x"; argv[n++] = "c"; break;
    case MIR_SRC_CXX: argv[n++] = "-x"; argv[n++] = "c++"; argv[n++] = "-std=c++17"; break;
    case MIR_SRC_OPENCL:
        argv[n++] = "-x"; argv[n++] = "cl"; argv[n++] = "-cl-std=CL1.2";
        argv[n++] = "-Xclang"; argv[n++] = "-finclude-default-header";
        argv[n++] = "-target"; argv[n++] = "spir64";
        break;
    case MIR_SRC_CUDA:
        argv[n++] = "-x"; argv[n++] = "cuda"; argv[n++] = "--cuda-device-only";
        argv[n++] = "-nocudainc"; argv[n++] = "-nocudalib"; argv[n++] = "--cuda-gpu-arch=sm_70";
        argv[n++] = "-include"; argv[n++] = o->cuda_prelude;
        break;
    default: argv[n++] = "-x"; argv[n++] = "ir"; break;
    }
    argv[n++] = opt;
    argv[n++] = "-g0";
    argv[n++] = "-Wno-everything";
    argv[n++] = "-emit-llvm";
    argv[n++] = "-c";
    for (int i = 0; i < o->n_user_flags && n < 64 + 240; i++) argv[n++] = o->user_flags[i];
    argv[n++] = "-o";
    argv[n++] = out_path;
    argv[n++] = path;
    argv[n] = NULL;

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, lfd, STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&fa, lfd, STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, lfd);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int sp = posix_spawnp(&pid, o->clang, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(lfd);
    int rc = 0;
    if (sp != 0) {
        rc = mir_fail(err, "%s: cannot run %s: %s", path, o->clang, strerror(sp));
    } else {
        int status = 0;
        double t0 = mir_wall_seconds();
        int timed_out = 0;
        for (;;) {
            pid_t w = waitpid(pid, &status, WNOHANG);
            if (w == pid) break;
            if (w < 0 && errno != EINTR) break;
            if (o->timeout_s > 0 && mir_wall_seconds() - t0 > o->timeout_s && !timed_out) {
                kill(pid, SIGKILL);
                timed_out = 1;
            }
            struct timespec ts = {0, 2 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (timed_out) {
            rc = mir_fail(err, "%s: clang timed out after %d s", path, o->timeout_s);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char diag[400];
            summarize_diagnostics(log_path, diag, sizeof diag);
            rc = mir_fail(err, "%s: clang failed (%s %d): %s", path, WIFEXITED(status) ? "exit" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), diag[0] ? diag : "no diagnostics");
        } else {
            rc = mir_read_file(out_path, data, bytes, err);
        }
    }
    unlink(out_path);
    unlink(log_path);
    return rc;
}

/* compile.c: clang 16 as a child process per source (see compile.h). */
#include "compile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"

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

    close(lfd);
    mir_child_io io = {log_path, log_path}; /* clang's stdout and stderr, for the diagnostics */
    mir_child_result cr;
    int rc = 0;
    if (mir_child_run((char *const *)argv, &io, o->timeout_s, &cr)) {
        rc = mir_fail(err, "%s: cannot run %s: %s", path, o->clang, strerror(errno));
    } else if (cr.timed_out) {
        rc = mir_fail(err, "%s: clang timed out after %d s", path, o->timeout_s);
    } else if (cr.exit_code != 0) {
        char diag[400];
        summarize_diagnostics(log_path, diag, sizeof diag);
        rc = mir_fail(err, "%s: clang failed (%s %d): %s", path, cr.signal ? "signal" : "exit",
                      cr.signal ? cr.signal : cr.exit_code, diag[0] ? diag : "no diagnostics");
    } else {
        rc = mir_read_file(out_path, data, bytes, err);
    }
    unlink(out_path);
    unlink(log_path);
    return rc;
}

/*
 * compile.h: sources (.c, .cpp, .cl, .cu) to LLVM bitcode with clang 16, one child process per source.
 * Flags per language (docs/formats.md lists them):
 *   C:      -x c
 *   C++:    -x c++ -std=c++17
 *   OpenCL: -x cl -cl-std=CL1.2 -Xclang -finclude-default-header -target spir64
 *   CUDA:   -x cuda --cuda-device-only -nocudainc -nocudalib --cuda-gpu-arch=sm_70 -include <prelude>
 * all with -emit-llvm -c -g0 -Wno-everything, the user's -D/-I flags, and -o a temporary file.
 */
#ifndef MIR_COMPILE_H
#define MIR_COMPILE_H

#include <stddef.h>

#include "inputs.h"
#include "mir_common.h"

typedef struct mir_compile_options {
    const char *clang;          /* clang executable (default: the clang-16 found at build time, or $MIR_CLANG) */
    const char *cuda_prelude;   /* header included before CUDA sources */
    const char *opt_level;      /* "0", "1", "2", "3", "s" (default "1") */
    const char *const *user_flags; /* -D/-I and other flags passed through, n_user_flags of them */
    int n_user_flags;
    int timeout_s;              /* per source (default 120) */
} mir_compile_options;

void mir_compile_options_default(mir_compile_options *o);

/* Compile path (language lang) to bitcode; on success *data (NUL-terminated) / *bytes hold it.
 * On failure err holds the first lines of clang's diagnostics. */
int mir_compile_source(const char *path, mir_source_lang lang, const mir_compile_options *o, char **data,
                       size_t *bytes, mir_error *err);

#endif

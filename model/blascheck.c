/* blascheck.c: see blascheck.h. */
#include "blascheck.h"

#include <stdlib.h>
#include <strings.h>

#include "mir_common.h"

extern char *openblas_get_corename(void);

/* OpenBLAS x86-64 kernels that use AVX2 or AVX-512 (DYNAMIC_ARCH core names) */
static const char *const wide_cores[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids"};

const char *mir_blas_better_core(const char *core, int avx2, int avx512f, int amd) {
    if (!core || !*core || !(avx2 || avx512f)) return NULL;
    for (size_t i = 0; i < sizeof wide_cores / sizeof *wide_cores; i++)
        if (!strcasecmp(core, wide_cores[i])) return NULL;
    if (avx512f) return "SkylakeX";
    return amd ? "Zen" : "Haswell";
}

const char *mir_blas_core(void) {
    const char *c = openblas_get_corename();
    return c ? c : "";
}

int mir_blas_check(void) {
    int avx2 = 0, avx512f = 0, amd = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2") != 0;
    avx512f = __builtin_cpu_supports("avx512f") != 0;
    amd = __builtin_cpu_is("amd") != 0;
#endif
    const char *core = mir_blas_core(), *better = mir_blas_better_core(core, avx2, avx512f, amd);
    if (!better) return 0;
    const char *env = getenv("OPENBLAS_CORETYPE");
    mir_log(MIR_LOG_WARN,
            "OpenBLAS runs its '%s' kernels on a CPU with %s (OPENBLAS_CORETYPE %s%s): matrix products may run "
            "several times slower than they could; set OPENBLAS_CORETYPE=%s (with mpirun: -x OPENBLAS_CORETYPE)",
            core, avx512f ? "AVX-512" : "AVX2", env ? "is " : "is unset", env ? env : "", better);
    return 1;
}

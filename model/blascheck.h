/* blascheck.h: is OpenBLAS running a kernel that suits this CPU?
 *
 * OpenBLAS (DYNAMIC_ARCH, as Debian builds it) picks its kernels from the CPU's family and model when the
 * library loads. A CPU newer than the library (Debian 12's OpenBLAS 0.3.21 on a recent Xeon), or one a
 * virtual machine describes vaguely, gets the generic "Prescott" (SSE3) kernels: on a 16-core Xeon lent to
 * this project SGEMM ran at 18.7 GFLOP/s with them and at 154 GFLOP/s with OPENBLAS_CORETYPE=SkylakeX
 * (docs/performance.md). The choice is made before main() and cannot be changed afterwards, so the
 * programs only say so, once, and name the setting that fixes it. */
#ifndef MIR_BLASCHECK_H
#define MIR_BLASCHECK_H

/* The OPENBLAS_CORETYPE to suggest when kernel `core` (openblas_get_corename()) uses neither AVX2 nor
 * AVX-512 on a CPU that has AVX2 (`avx2`) or AVX-512F (`avx512f`); `amd`: the CPU is AMD's. NULL when the
 * kernel suits the CPU, or when nothing better can be named. Pure: no CPU or library queries. */
const char *mir_blas_better_core(const char *core, int avx2, int avx512f, int amd);

/* The running OpenBLAS kernel's name ("Zen", "SkylakeX", "Prescott", ...). */
const char *mir_blas_core(void);

/* Compare the running kernel with this CPU's features; when mir_blas_better_core names something, log one
 * warning (MIR_LOG_WARN) saying so. Returns 1 if it warned, else 0. Call on one rank. */
int mir_blas_check(void);

#endif

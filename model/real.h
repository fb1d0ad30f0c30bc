/*
 * real.h: the model's numerical code is written once against `real` and compiled twice: as float (the
 * production build, suffix _f32) and as double (suffix _f64, used by the finite-difference tests, which
 * need double precision to check gradients tightly).
 *
 * A file that holds generic code (*.inc.c) is included by two small files that first define
 * MIR_REAL_DOUBLE to 0 or 1 and then include this header:
 *     real   the scalar type           R(name)  name with the type suffix (mir_linear_forward_f32)
 *     GEMM   cblas_sgemm/cblas_dgemm   RSQRT/EXP/LOG/TANH/SQRT/FABS  libm for the type
 * Declarations for both types come from *_decl.h headers included twice the same way.
 */
#ifndef MIR_REAL_DOUBLE
#error "define MIR_REAL_DOUBLE to 0 or 1 before including real.h"
#endif
#undef real
#undef R
#undef R_CAT
#undef R_CAT2
#undef GEMM
#undef GEMV
#undef EXP
#undef LOG
#undef TANH
#undef SQRT
#undef FABS
#undef REAL_EPS
#define R_CAT2(a, b) a##b
#define R_CAT(a, b) R_CAT2(a, b)
#if MIR_REAL_DOUBLE
#define real double
#define R(name) R_CAT(name, _f64)
#define GEMM cblas_dgemm
#define GEMV cblas_dgemv
#define EXP exp
#define LOG log
#define TANH tanh
#define SQRT sqrt
#define FABS fabs
#define REAL_EPS 1e-12
#else
#include "fastmath.h"
#define real float
#define R(name) R_CAT(name, _f32)
#define GEMM cblas_sgemm
#define GEMV cblas_sgemv
#define EXP mir_expf
#define LOG logf
#define TANH mir_tanhf
#define SQRT sqrtf
#define FABS fabsf
#define REAL_EPS 1e-6f
#endif

/*
 * cuda_prelude.h: what a CUDA kernel file needs to compile to device IR with clang alone (no CUDA toolkit):
 * the execution-space and memory-space qualifiers, the built-in index variables from clang's own header,
 * the C library headers that nvcc's runtime header brings in, the vector types, and declarations of the
 * device math, intrinsic, atomic, warp, cuRAND and texture functions kernels commonly call. Included with
 * -include by mir-preprocess --compile for .cu files.
 *
 * Written for this project from the CUDA programming guide's description of the API (names, parameter
 * types, vector-type alignments); no text comes from NVIDIA's or LLVM's headers. Device functions are
 * declared, not defined: the IR keeps a call to the named function (as it keeps @sqrtf), which is what an
 * IR embedding needs, and a kernel that defines a function of the same name and signature simply supplies
 * the body. Only trivial helpers (make_<vector>, dim3, the index-variable conversions) are defined inline.
 * docs/data.md lists what still fails on LS-CAT and why.
 */
#ifndef MIR_CUDA_PRELUDE_H
#define MIR_CUDA_PRELUDE_H
#define __host__ __attribute__((host))
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __shared__ __attribute__((shared))
#define __constant__ __attribute__((constant))
#define __managed__ __attribute__((managed))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#ifndef __CUDACC__
#define __CUDACC__ 1 /* kernels and their headers test it to enable __host__ __device__ code */
#endif

#include <__clang_cuda_builtin_vars.h>

/* nvcc's runtime header pulls in the C library's headers, so kernels use uint, uint32_t, INT_MAX, FLT_MAX,
 * M_PI, INFINITY, isnan and std::size_t without including anything. The light headers come from the host
 * system as they would with nvcc; <math.h> (with <cmath>, it triples the compile time of a small kernel)
 * is replaced by the few names below, which a kernel's own later #include <math.h> agrees with. */
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <float.h>
#include <sys/types.h>
namespace std { typedef decltype(sizeof(0)) size_t; }
typedef long clock_t;
typedef float float_t;
typedef double double_t;
#ifndef INFINITY
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))
#define HUGE_VALF (__builtin_huge_valf())
#define HUGE_VAL (__builtin_huge_val())
#endif
#ifndef M_PI
#define M_E 2.7182818284590452354
#define M_LOG2E 1.4426950408889634074
#define M_LOG10E 0.43429448190325182765
#define M_LN2 0.69314718055994530942
#define M_LN10 2.30258509299404568402
#define M_PI 3.14159265358979323846
#define M_PI_2 1.57079632679489661923
#define M_PI_4 0.78539816339744830962
#define M_1_PI 0.31830988618379067154
#define M_2_PI 0.63661977236758134308
#define M_2_SQRTPI 1.12837916709551257390
#define M_SQRT2 1.41421356237309504880
#define M_SQRT1_2 0.70710678118654752440
#endif
/* classification: templates, so that <cmath>'s own overloads, when a kernel includes it, are preferred */
template <class T> static __device__ __forceinline__ bool isnan(T x) { return __builtin_isnan(x); }
template <class T> static __device__ __forceinline__ bool isinf(T x) { return __builtin_isinf(x); }
template <class T> static __device__ __forceinline__ bool isfinite(T x) { return __builtin_isfinite(x); }
template <class T> static __device__ __forceinline__ bool signbit(T x) { return __builtin_signbit(x); }

/* ---- vector types: CUDA's alignments (1- and 3-element: the element's; 2: twice it; 4: four times it, at
 * most 16 bytes) and make_<type>() constructors */
#define MIR_VEC_TYPES(T, N, A1, A2, A4)                                                                     \
    struct __attribute__((aligned(A1))) N##1 { T x; };                                                      \
    struct __attribute__((aligned(A2))) N##2 { T x, y; };                                                   \
    struct N##3 { T x, y, z; };                                                                              \
    struct __attribute__((aligned(A4))) N##4 { T x, y, z, w; };                                             \
    static __inline__ __host__ __device__ N##1 make_##N##1(T x) { N##1 r; r.x = x; return r; }              \
    static __inline__ __host__ __device__ N##2 make_##N##2(T x, T y) { N##2 r; r.x = x; r.y = y; return r; } \
    static __inline__ __host__ __device__ N##3 make_##N##3(T x, T y, T z) {                                 \
        N##3 r; r.x = x; r.y = y; r.z = z; return r;                                                         \
    }                                                                                                        \
    static __inline__ __host__ __device__ N##4 make_##N##4(T x, T y, T z, T w) {                            \
        N##4 r; r.x = x; r.y = y; r.z = z; r.w = w; return r;                                                \
    }
MIR_VEC_TYPES(signed char, char, 1, 2, 4)
MIR_VEC_TYPES(unsigned char, uchar, 1, 2, 4)
MIR_VEC_TYPES(short, short, 2, 4, 8)
MIR_VEC_TYPES(unsigned short, ushort, 2, 4, 8)
MIR_VEC_TYPES(int, int, 4, 8, 16)
MIR_VEC_TYPES(unsigned int, uint, 4, 8, 16)
MIR_VEC_TYPES(long, long, 8, 16, 16)
MIR_VEC_TYPES(unsigned long, ulong, 8, 16, 16)
MIR_VEC_TYPES(long long, longlong, 8, 16, 16)
MIR_VEC_TYPES(unsigned long long, ulonglong, 8, 16, 16)
MIR_VEC_TYPES(float, float, 4, 8, 16)
MIR_VEC_TYPES(double, double, 8, 16, 16)
#undef MIR_VEC_TYPES

struct dim3 {
    unsigned int x, y, z;
    __host__ __device__ constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
        : x(vx), y(vy), z(vz) {}
    __host__ __device__ constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
    __host__ __device__ operator uint3() const { uint3 r; r.x = x; r.y = y; r.z = z; return r; }
};
/* threadIdx, blockIdx, blockDim and gridDim convert to dim3 and uint3 (clang's header declares these) */
#define MIR_BUILTIN_VAR_CONVERSIONS(T)                                                                      \
    __device__ inline T::operator dim3() const { return dim3(x, y, z); }                                   \
    __device__ inline T::operator uint3() const { uint3 r; r.x = x; r.y = y; r.z = z; return r; }
MIR_BUILTIN_VAR_CONVERSIONS(__cuda_builtin_threadIdx_t)
MIR_BUILTIN_VAR_CONVERSIONS(__cuda_builtin_blockIdx_t)
MIR_BUILTIN_VAR_CONVERSIONS(__cuda_builtin_blockDim_t)
MIR_BUILTIN_VAR_CONVERSIONS(__cuda_builtin_gridDim_t)
#undef MIR_BUILTIN_VAR_CONVERSIONS

/* ---- runtime API types and the host calls kernel files make around their kernels (host code is parsed
 * but not emitted in a device-only compile, so declarations suffice) */
enum cudaError { cudaSuccess = 0, cudaErrorNotReady = 600 };
typedef enum cudaError cudaError_t;
enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0, cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3, cudaMemcpyDefault = 4
};
typedef struct mir_cuda_stream *cudaStream_t;
typedef struct mir_cuda_event *cudaEvent_t;
__host__ __device__ cudaError_t cudaGetLastError(void);
__host__ __device__ cudaError_t cudaPeekAtLastError(void);
__host__ __device__ const char *cudaGetErrorString(cudaError_t);
__host__ __device__ cudaError_t cudaDeviceSynchronize(void);
__host__ cudaError_t cudaThreadSynchronize(void);
__host__ __device__ cudaError_t cudaMalloc(void **, size_t);
template <class T> __host__ cudaError_t cudaMalloc(T **p, size_t n) { return cudaMalloc((void **)p, n); }
__host__ cudaError_t cudaMallocManaged(void **, size_t, unsigned int = 1);
template <class T> __host__ cudaError_t cudaMallocManaged(T **p, size_t n, unsigned int f = 1) {
    return cudaMallocManaged((void **)p, n, f);
}
__host__ __device__ cudaError_t cudaFree(void *);
__host__ cudaError_t cudaMemcpy(void *, const void *, size_t, enum cudaMemcpyKind);
__host__ __device__ cudaError_t cudaMemcpyAsync(void *, const void *, size_t, enum cudaMemcpyKind, cudaStream_t = 0);
__host__ cudaError_t cudaMemset(void *, int, size_t);
__host__ cudaError_t cudaEventCreate(cudaEvent_t *);
__host__ cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t = 0);
__host__ cudaError_t cudaEventSynchronize(cudaEvent_t);
__host__ cudaError_t cudaEventQuery(cudaEvent_t);
__host__ cudaError_t cudaEventElapsedTime(float *, cudaEvent_t, cudaEvent_t);
__host__ cudaError_t cudaEventDestroy(cudaEvent_t);
__host__ cudaError_t cudaStreamCreate(cudaStream_t *);
__host__ cudaError_t cudaStreamSynchronize(cudaStream_t);
__host__ cudaError_t cudaStreamDestroy(cudaStream_t);
/* what a kernel launch (k<<<grid, block>>>(...)) in host code is lowered to */
extern "C" __host__ int cudaConfigureCall(dim3, dim3, size_t = 0, cudaStream_t = 0);
extern "C" __host__ unsigned __cudaPushCallConfiguration(dim3, dim3, size_t = 0, void * = 0);

/* ---- device math (C linkage, as CUDA declares them, so calls keep their plain names: @sqrtf) */
extern "C" {
#define MIR_DEV_MATH1(name) __device__ float name##f(float); __device__ double name(double);
#define MIR_DEV_MATH2(name) __device__ float name##f(float, float); __device__ double name(double, double);
MIR_DEV_MATH1(sqrt) MIR_DEV_MATH1(rsqrt) MIR_DEV_MATH1(cbrt) MIR_DEV_MATH1(rcbrt) MIR_DEV_MATH1(exp)
MIR_DEV_MATH1(exp2) MIR_DEV_MATH1(exp10) MIR_DEV_MATH1(expm1) MIR_DEV_MATH1(log) MIR_DEV_MATH1(log2)
MIR_DEV_MATH1(log10) MIR_DEV_MATH1(log1p) MIR_DEV_MATH1(logb) MIR_DEV_MATH1(sin) MIR_DEV_MATH1(cos)
MIR_DEV_MATH1(tan) MIR_DEV_MATH1(sinpi) MIR_DEV_MATH1(cospi) MIR_DEV_MATH1(asin) MIR_DEV_MATH1(acos)
MIR_DEV_MATH1(atan) MIR_DEV_MATH1(sinh) MIR_DEV_MATH1(cosh) MIR_DEV_MATH1(tanh) MIR_DEV_MATH1(asinh)
MIR_DEV_MATH1(acosh) MIR_DEV_MATH1(atanh) MIR_DEV_MATH1(fabs) MIR_DEV_MATH1(floor) MIR_DEV_MATH1(ceil)
MIR_DEV_MATH1(round) MIR_DEV_MATH1(trunc) MIR_DEV_MATH1(rint) MIR_DEV_MATH1(nearbyint) MIR_DEV_MATH1(erf)
MIR_DEV_MATH1(erfc) MIR_DEV_MATH1(erfinv) MIR_DEV_MATH1(erfcinv) MIR_DEV_MATH1(erfcx) MIR_DEV_MATH1(lgamma)
MIR_DEV_MATH1(tgamma) MIR_DEV_MATH1(normcdf) MIR_DEV_MATH1(normcdfinv) MIR_DEV_MATH1(j0) MIR_DEV_MATH1(j1)
MIR_DEV_MATH1(y0) MIR_DEV_MATH1(y1)
MIR_DEV_MATH2(pow) MIR_DEV_MATH2(fmin) MIR_DEV_MATH2(fmax) MIR_DEV_MATH2(fmod) MIR_DEV_MATH2(remainder)
MIR_DEV_MATH2(atan2) MIR_DEV_MATH2(hypot) MIR_DEV_MATH2(rhypot) MIR_DEV_MATH2(copysign) MIR_DEV_MATH2(fdim)
MIR_DEV_MATH2(nextafter)
#undef MIR_DEV_MATH1
#undef MIR_DEV_MATH2
__device__ float fmaf(float, float, float); __device__ double fma(double, double, double);
__device__ float fdividef(float, float);
__device__ float modff(float, float *); __device__ double modf(double, double *);
__device__ float frexpf(float, int *); __device__ double frexp(double, int *);
__device__ float ldexpf(float, int); __device__ double ldexp(double, int);
__device__ float scalbnf(float, int); __device__ double scalbn(double, int);
__device__ int ilogbf(float); __device__ int ilogb(double);
__device__ float remquof(float, float, int *); __device__ double remquo(double, double, int *);
__device__ void sincosf(float, float *, float *); __device__ void sincos(double, double *, double *);
__device__ void sincospif(float, float *, float *); __device__ void sincospi(double, double *, double *);
__device__ long lroundf(float); __device__ long lround(double);
__device__ long long llroundf(float); __device__ long long llround(double);
__device__ long lrintf(float); __device__ long lrint(double);
__device__ long long llrintf(float); __device__ long long llrint(double);
__device__ float norm3df(float, float, float); __device__ double norm3d(double, double, double);
__device__ float rnorm3df(float, float, float); __device__ double rnorm3d(double, double, double);
__device__ float nanf(const char *); __device__ double nan(const char *);
__device__ int abs(int); __device__ long labs(long); __device__ long long llabs(long long);

/* intrinsics: fast approximations, explicit rounding modes, conversions and reinterpretations */
__device__ float __expf(float); __device__ float __exp10f(float); __device__ float __logf(float);
__device__ float __log2f(float); __device__ float __log10f(float); __device__ float __sinf(float);
__device__ float __cosf(float); __device__ float __tanf(float); __device__ void __sincosf(float, float *, float *);
__device__ float __powf(float, float); __device__ float __fdividef(float, float); __device__ float __saturatef(float);
#define MIR_ROUNDED(rm)                                                                                     \
    __device__ float __fadd_##rm(float, float); __device__ float __fsub_##rm(float, float);                 \
    __device__ float __fmul_##rm(float, float); __device__ float __fdiv_##rm(float, float);                 \
    __device__ float __frcp_##rm(float); __device__ float __fsqrt_##rm(float);                              \
    __device__ float __fmaf_##rm(float, float, float);                                                      \
    __device__ double __dadd_##rm(double, double); __device__ double __dsub_##rm(double, double);           \
    __device__ double __dmul_##rm(double, double); __device__ double __ddiv_##rm(double, double);           \
    __device__ double __drcp_##rm(double); __device__ double __dsqrt_##rm(double);                         \
    __device__ double __fma_##rm(double, double, double);                                                   \
    __device__ int __float2int_##rm(float); __device__ unsigned int __float2uint_##rm(float);               \
    __device__ long long __float2ll_##rm(float); __device__ unsigned long long __float2ull_##rm(float);     \
    __device__ float __int2float_##rm(int); __device__ float __uint2float_##rm(unsigned int);               \
    __device__ float __ll2float_##rm(long long); __device__ float __ull2float_##rm(unsigned long long);     \
    __device__ int __double2int_##rm(double); __device__ unsigned int __double2uint_##rm(double);           \
    __device__ long long __double2ll_##rm(double); __device__ unsigned long long __double2ull_##rm(double); \
    __device__ float __double2float_##rm(double); __device__ double __ll2double_##rm(long long);            \
    __device__ double __ull2double_##rm(unsigned long long);
MIR_ROUNDED(rn) MIR_ROUNDED(rz) MIR_ROUNDED(ru) MIR_ROUNDED(rd)
#undef MIR_ROUNDED
__device__ float __frsqrt_rn(float);
__device__ double __int2double_rn(int); __device__ double __uint2double_rn(unsigned int);
__device__ float __int_as_float(int); __device__ int __float_as_int(float);
__device__ float __uint_as_float(unsigned int); __device__ unsigned int __float_as_uint(float);
__device__ double __longlong_as_double(long long); __device__ long long __double_as_longlong(double);
__device__ int __double2hiint(double); __device__ int __double2loint(double); __device__ double __hiloint2double(int, int);

/* integer intrinsics */
__device__ int __mul24(int, int); __device__ unsigned int __umul24(unsigned int, unsigned int);
__device__ int __mulhi(int, int); __device__ unsigned int __umulhi(unsigned int, unsigned int);
__device__ long long __mul64hi(long long, long long);
__device__ unsigned long long __umul64hi(unsigned long long, unsigned long long);
__device__ int __popc(unsigned int); __device__ int __popcll(unsigned long long);
__device__ int __clz(int); __device__ int __clzll(long long);
__device__ int __ffs(int); __device__ int __ffsll(long long);
__device__ unsigned int __brev(unsigned int); __device__ unsigned long long __brevll(unsigned long long);
__device__ unsigned int __byte_perm(unsigned int, unsigned int, unsigned int);
__device__ unsigned int __funnelshift_l(unsigned int, unsigned int, unsigned int);
__device__ unsigned int __funnelshift_r(unsigned int, unsigned int, unsigned int);
__device__ unsigned int __sad(int, int, unsigned int); __device__ unsigned int __usad(unsigned int, unsigned int, unsigned int);
__device__ int __hadd(int, int); __device__ int __rhadd(int, int);
__device__ unsigned int __uhadd(unsigned int, unsigned int); __device__ unsigned int __urhadd(unsigned int, unsigned int);

/* C library functions with device versions; assert() ends in __assert_fail */
__device__ int printf(const char *, ...);
__device__ void *malloc(size_t); __device__ void free(void *);
__device__ void *memcpy(void *, const void *, size_t); __device__ void *memset(void *, int, size_t);
__device__ void __assert_fail(const char *, const char *, unsigned int, const char *);
__device__ clock_t clock(void);
/* host versions of what host code in kernel files calls without including the C headers nvcc brings in;
 * declared as the C library declares them, so a later #include <stdio.h> or <stdlib.h> agrees */
__host__ int printf(const char *, ...) noexcept(false);
__host__ void exit(int) noexcept(true) __attribute__((noreturn));
__host__ void *malloc(size_t) noexcept(true); __host__ void free(void *) noexcept(true);
}
#ifndef EXIT_SUCCESS
#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1
#endif

/* C++ overloads CUDA provides besides the C names */
__device__ int min(int, int); __device__ int max(int, int);
__device__ unsigned int min(unsigned int, unsigned int); __device__ unsigned int max(unsigned int, unsigned int);
__device__ unsigned int min(int, unsigned int); __device__ unsigned int max(int, unsigned int);
__device__ unsigned int min(unsigned int, int); __device__ unsigned int max(unsigned int, int);
__device__ long long min(long long, long long); __device__ long long max(long long, long long);
__device__ unsigned long long min(unsigned long long, unsigned long long);
__device__ unsigned long long max(unsigned long long, unsigned long long);
__device__ float min(float, float); __device__ float max(float, float);
__device__ double min(double, double); __device__ double max(double, double);
__device__ double min(float, double); __device__ double max(float, double);
__device__ double min(double, float); __device__ double max(double, float);
__device__ unsigned int umin(unsigned int, unsigned int); __device__ unsigned int umax(unsigned int, unsigned int);
__device__ long long llmin(long long, long long); __device__ long long llmax(long long, long long);
__device__ unsigned long long ullmin(unsigned long long, unsigned long long);
__device__ unsigned long long ullmax(unsigned long long, unsigned long long);
__device__ long long clock64(void);
__device__ void __trap(void);
__device__ void __nanosleep(unsigned int);

/* ---- synchronisation and memory fences */
__device__ void __syncthreads(void);
__device__ int __syncthreads_count(int); __device__ int __syncthreads_and(int); __device__ int __syncthreads_or(int);
__device__ void __threadfence(void); __device__ void __threadfence_block(void); __device__ void __threadfence_system(void);
__device__ void __syncwarp(unsigned int = 0xffffffffu);

/* ---- atomics: every operand type CUDA offers */
#define MIR_ATOMIC(op, T) __device__ T op(T *, T);
#define MIR_ATOMIC_INTS(op) MIR_ATOMIC(op, int) MIR_ATOMIC(op, unsigned int) MIR_ATOMIC(op, unsigned long long)
MIR_ATOMIC_INTS(atomicAdd) MIR_ATOMIC(atomicAdd, float) MIR_ATOMIC(atomicAdd, double)
MIR_ATOMIC(atomicSub, int) MIR_ATOMIC(atomicSub, unsigned int)
MIR_ATOMIC_INTS(atomicExch) MIR_ATOMIC(atomicExch, float)
MIR_ATOMIC_INTS(atomicMin) MIR_ATOMIC(atomicMin, long long)
MIR_ATOMIC_INTS(atomicMax) MIR_ATOMIC(atomicMax, long long)
MIR_ATOMIC_INTS(atomicAnd) MIR_ATOMIC_INTS(atomicOr) MIR_ATOMIC_INTS(atomicXor)
#undef MIR_ATOMIC
#undef MIR_ATOMIC_INTS
__device__ unsigned int atomicInc(unsigned int *, unsigned int);
__device__ unsigned int atomicDec(unsigned int *, unsigned int);
__device__ int atomicCAS(int *, int, int); __device__ unsigned int atomicCAS(unsigned int *, unsigned int, unsigned int);
__device__ unsigned long long atomicCAS(unsigned long long *, unsigned long long, unsigned long long);

/* ---- warp vote and shuffle (width defaults to the warp size) */
__device__ unsigned int __ballot_sync(unsigned int, int); __device__ int __any_sync(unsigned int, int);
__device__ int __all_sync(unsigned int, int); __device__ unsigned int __activemask(void);
__device__ unsigned int __ballot(int); __device__ int __any(int); __device__ int __all(int);
#define MIR_SHFL(T)                                                                                         \
    __device__ T __shfl_sync(unsigned int, T, int, int = 32);                                               \
    __device__ T __shfl_up_sync(unsigned int, T, unsigned int, int = 32);                                   \
    __device__ T __shfl_down_sync(unsigned int, T, unsigned int, int = 32);                                 \
    __device__ T __shfl_xor_sync(unsigned int, T, int, int = 32);                                           \
    __device__ T __shfl(T, int, int = 32);                                                                  \
    __device__ T __shfl_up(T, unsigned int, int = 32);                                                      \
    __device__ T __shfl_down(T, unsigned int, int = 32);                                                    \
    __device__ T __shfl_xor(T, int, int = 32);
MIR_SHFL(int) MIR_SHFL(unsigned int) MIR_SHFL(long long) MIR_SHFL(unsigned long long) MIR_SHFL(float)
MIR_SHFL(double)
#undef MIR_SHFL
/* read-only data cache load */
template <class T> __device__ T __ldg(const T *);

/* ---- cuRAND device API (curand_kernel.h): the state types under their API names (so mangled names match
 * nvcc's) with a layout of our own, and the generator functions declared */
struct curandStateXORWOW { unsigned int d, v[5]; int flags[2]; float extra_f; double extra_d; };
struct curandStatePhilox4_32_10 { unsigned int ctr[4], output[4], key[2]; unsigned int pos; int flags[2]; float extra_f; double extra_d; };
struct curandStateMRG32k3a { unsigned int s1[3], s2[3]; int flags[2]; float extra_f; double extra_d; };
typedef struct curandStateXORWOW curandStateXORWOW_t, curandState_t, curandState;
typedef struct curandStatePhilox4_32_10 curandStatePhilox4_32_10_t;
typedef struct curandStateMRG32k3a curandStateMRG32k3a_t;
#define MIR_CURAND(S)                                                                                       \
    __device__ void curand_init(unsigned long long, unsigned long long, unsigned long long, S *);           \
    __device__ unsigned int curand(S *);                                                                    \
    __device__ float curand_uniform(S *); __device__ double curand_uniform_double(S *);                     \
    __device__ float curand_normal(S *); __device__ double curand_normal_double(S *);                       \
    __device__ float2 curand_normal2(S *); __device__ double2 curand_normal2_double(S *);                   \
    __device__ float curand_log_normal(S *, float, float);                                                  \
    __device__ double curand_log_normal_double(S *, double, double);                                        \
    __device__ unsigned int curand_poisson(S *, double);
MIR_CURAND(curandStateXORWOW_t) MIR_CURAND(curandStatePhilox4_32_10_t) MIR_CURAND(curandStateMRG32k3a_t)
#undef MIR_CURAND
__device__ float4 curand_uniform4(curandStatePhilox4_32_10_t *);
__device__ float4 curand_normal4(curandStatePhilox4_32_10_t *);
__device__ uint4 curand4(curandStatePhilox4_32_10_t *);

/* ---- textures: texture objects (cudaTextureObject_t) and the older texture references (texture<T, dim,
 * mode> globals); fetches are declared templates */
typedef unsigned long long cudaTextureObject_t;
typedef unsigned long long cudaSurfaceObject_t;
enum cudaTextureReadMode { cudaReadModeElementType = 0, cudaReadModeNormalizedFloat = 1 };
template <class T, int dim = 1, enum cudaTextureReadMode mode = cudaReadModeElementType>
struct __attribute__((device_builtin_texture_type)) texture {
    int normalized;
};
template <class T, int d, enum cudaTextureReadMode m> __device__ T tex1Dfetch(texture<T, d, m>, int);
template <class T, int d, enum cudaTextureReadMode m> __device__ T tex1D(texture<T, d, m>, float);
template <class T, int d, enum cudaTextureReadMode m> __device__ T tex2D(texture<T, d, m>, float, float);
template <class T, int d, enum cudaTextureReadMode m> __device__ T tex3D(texture<T, d, m>, float, float, float);
template <class T> __device__ T tex1Dfetch(cudaTextureObject_t, int);
template <class T> __device__ T tex1D(cudaTextureObject_t, float);
template <class T> __device__ T tex2D(cudaTextureObject_t, float, float);
template <class T> __device__ T tex3D(cudaTextureObject_t, float, float, float);
#endif

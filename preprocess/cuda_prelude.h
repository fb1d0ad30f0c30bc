/*
 * cuda_prelude.h: what a CUDA kernel file needs to compile to device IR with clang alone (no CUDA toolkit):
 * the execution-space and memory-space qualifiers, the built-in index variables from clang's own header,
 * and declarations of the device math and intrinsic functions kernels commonly call. Included with
 * -include by mir-preprocess --compile for .cu files.
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

#include <__clang_cuda_builtin_vars.h>

typedef unsigned long size_t;
typedef struct { float x, y; } float2;
typedef struct { float x, y, z; } float3;
typedef struct { float x, y, z, w; } float4;
typedef struct { double x, y; } double2;
typedef struct { double x, y, z; } double3;
typedef struct { double x, y, z, w; } double4;
typedef struct { int x, y; } int2;
typedef struct { int x, y, z; } int3;
typedef struct { int x, y, z, w; } int4;
typedef struct { unsigned int x, y; } uint2;
typedef struct { unsigned int x, y, z, w; } uint4;
typedef struct { unsigned char x, y, z, w; } uchar4;

/* C linkage, as CUDA's own math header declares them, so calls keep their plain names (@sqrtf). */
extern "C" {
#define MIR_DEV_MATH1(name) __device__ float name##f(float); __device__ double name(double);
#define MIR_DEV_MATH2(name) __device__ float name##f(float, float); __device__ double name(double, double);
MIR_DEV_MATH1(sqrt) MIR_DEV_MATH1(rsqrt) MIR_DEV_MATH1(exp) MIR_DEV_MATH1(exp2) MIR_DEV_MATH1(log)
MIR_DEV_MATH1(log2) MIR_DEV_MATH1(log10) MIR_DEV_MATH1(sin) MIR_DEV_MATH1(cos) MIR_DEV_MATH1(tan)
MIR_DEV_MATH1(asin) MIR_DEV_MATH1(acos) MIR_DEV_MATH1(atan) MIR_DEV_MATH1(sinh) MIR_DEV_MATH1(cosh)
MIR_DEV_MATH1(tanh) MIR_DEV_MATH1(fabs) MIR_DEV_MATH1(floor) MIR_DEV_MATH1(ceil) MIR_DEV_MATH1(round)
MIR_DEV_MATH1(trunc) MIR_DEV_MATH1(erf) MIR_DEV_MATH1(cbrt) MIR_DEV_MATH1(expm1) MIR_DEV_MATH1(log1p)
MIR_DEV_MATH2(pow) MIR_DEV_MATH2(fmin) MIR_DEV_MATH2(fmax) MIR_DEV_MATH2(fmod) MIR_DEV_MATH2(atan2)
MIR_DEV_MATH2(hypot) MIR_DEV_MATH2(copysign)
__device__ float fmaf(float, float, float);
__device__ double fma(double, double, double);
__device__ float __expf(float); __device__ float __logf(float); __device__ float __sinf(float);
__device__ float __cosf(float); __device__ float __powf(float, float); __device__ float __fdividef(float, float);
__device__ float __saturatef(float); __device__ float __int_as_float(int); __device__ int __float_as_int(float);
__device__ int __float2int_rn(float); __device__ int __float2int_rz(float); __device__ float __int2float_rn(int);
__device__ int abs(int);
}
__device__ int min(int, int); __device__ int max(int, int);
__device__ unsigned int umin(unsigned int, unsigned int); __device__ unsigned int umax(unsigned int, unsigned int);
__device__ int __mul24(int, int); __device__ unsigned int __umul24(unsigned int, unsigned int);
__device__ int __popc(unsigned int); __device__ int __clz(int); __device__ int __ffs(int);
__device__ void __syncthreads(void); __device__ int __syncthreads_count(int); __device__ void __threadfence(void);
__device__ void __threadfence_block(void);
__device__ int atomicAdd(int *, int); __device__ unsigned int atomicAdd(unsigned int *, unsigned int);
__device__ float atomicAdd(float *, float); __device__ double atomicAdd(double *, double);
__device__ unsigned long long atomicAdd(unsigned long long *, unsigned long long);
__device__ int atomicSub(int *, int); __device__ int atomicExch(int *, int); __device__ float atomicExch(float *, float);
__device__ int atomicMin(int *, int); __device__ int atomicMax(int *, int); __device__ unsigned int atomicMax(unsigned int *, unsigned int);
__device__ int atomicCAS(int *, int, int); __device__ unsigned int atomicCAS(unsigned int *, unsigned int, unsigned int);
__device__ unsigned long long atomicCAS(unsigned long long *, unsigned long long, unsigned long long);
__device__ int atomicAnd(int *, int); __device__ int atomicOr(int *, int); __device__ int atomicXor(int *, int);
__device__ int atomicInc(unsigned int *, unsigned int);
__device__ int __shfl_sync(unsigned, int, int, int); __device__ float __shfl_sync(unsigned, float, int, int);
__device__ int __shfl_down_sync(unsigned, int, unsigned, int); __device__ float __shfl_down_sync(unsigned, float, unsigned, int);
__device__ int __shfl_xor_sync(unsigned, int, int, int); __device__ float __shfl_xor_sync(unsigned, float, int, int);
__device__ int __shfl_down(int, unsigned, int); __device__ float __shfl_down(float, unsigned, int);
__device__ unsigned __ballot_sync(unsigned, int); __device__ int __any_sync(unsigned, int); __device__ int __all_sync(unsigned, int);
__device__ long long clock64(void); __device__ int clock(void);
extern "C" __device__ int printf(const char *, ...);
extern "C" __device__ void *malloc(size_t); extern "C" __device__ void free(void *);
extern "C" __device__ void *memcpy(void *, const void *, size_t); extern "C" __device__ void *memset(void *, int, size_t);
#endif

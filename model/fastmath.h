/*
 * fastmath.h: exp and tanh for the float model, written so that the compiler can vectorise the loops that
 * call them (no libm calls: glibc's expf/tanhf were a third of a training step's time). Range reduction
 * x = n ln2 + r with ln2 split in two (Cody-Waite), a degree-6 polynomial for e^r on |r| <= ln2/2, and 2^n
 * put together in the exponent bits. Relative error below 2e-7 over the float range (tested against libm
 * in tests/test_layers.c's float/double comparisons and in tests/test_fastmath.c); inputs below -87.3
 * give 0, above 88.7 give +inf, NaN stays NaN. Loops vectorise with -O3 -fno-trapping-math (set for the model).
 */
#ifndef MIR_FASTMATH_H
#define MIR_FASTMATH_H
#include <stdint.h>
#include <string.h>

static inline float mir_expf(float x) {
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f, log2e = 1.44269504088896341f;
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding and subtracting it rounds to an integer */
    /* clamp, written so that a NaN lands inside the range too (its result is replaced below): the
     * float-to-int conversion of 2^n must never see a NaN or an out-of-range value */
    float xc = x > -87.33654f ? x : -87.33654f;
    xc = xc < 88.72283f ? xc : 88.72283f;
    float n = (xc * log2e + shifter) - shifter;
    float r = xc - n * ln2_hi - n * ln2_lo;
    /* e^r, |r| <= ln2/2: minimax coefficients (Cephes expf) */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale; /* 2^n; n in [-126, 128] after the clamp (a union, not memcpy: */
    scale.i = ((int32_t)n + 127) << 23;  /* gcc vectorises this form) */
    float y = n > 127.5f ? p * 2.0f * 1.70141183e38f : p * scale.f; /* n = 128 only at the top clamp */
    /* selects, not branches, so that loops over this vectorise */
    y = x < -87.33654f ? 0.0f : y;
    y = x > 88.72283f ? __builtin_inff() : y;
    return x != x ? x : y;
}

static inline float mir_tanhf(float x) {
    float xc = x < -9.0f ? -9.0f : (x > 9.0f ? 9.0f : x);
    float e = mir_expf(2.0f * xc);
    float big = (e - 1.0f) / (e + 1.0f);
    float x2 = xc * xc; /* near 0, the odd series avoids the cancellation in e - 1 */
    float small = xc * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.0539682540f)));
    return __builtin_fabsf(xc) < 0.0625f ? small : big; /* no &&: it would be a branch */
}
#endif

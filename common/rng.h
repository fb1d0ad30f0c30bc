/*
 * rng.h: the project's random numbers: xoshiro256** seeded by splitmix64. Four 64-bit words of state,
 * saved in checkpoints so a resumed run draws the same numbers. Deterministic on every platform.
 */
#ifndef MIR_RNG_H
#define MIR_RNG_H
#include <stdint.h>

typedef struct mir_rng {
    uint64_t s[4];
} mir_rng;

/* Seed from a 64-bit value and a stream id (e.g. the rank), so streams do not overlap in practice. */
void mir_rng_seed(mir_rng *r, uint64_t seed, uint64_t stream);
uint64_t mir_rng_next(mir_rng *r);
/* Uniform in [0, n) without modulo bias (n > 0). */
uint64_t mir_rng_below(mir_rng *r, uint64_t n);
/* Uniform in [0, 1) with 53 bits (double) / 24 bits (float). */
double mir_rng_uniform(mir_rng *r);
float mir_rng_uniformf(mir_rng *r);
/* Standard normal (Box-Muller; one value per call). */
double mir_rng_normal(mir_rng *r);

#endif

/* Counter-based random numbers and dropout (lk_ops.h). Element i draws from hash(seed, offset + i), so the
 * values depend only on (seed, offset, i): reproducible and independent of the thread count. */
#include <math.h>
#include "lk_ops.h"
#include "ops_rows.h"

/* splitmix64-style mixing of (seed, counter); full 64-bit avalanche. */
static inline uint64_t rng_hash(uint64_t seed, uint64_t counter) {
    uint64_t z = counter * 0x9E3779B97F4A7C15ull + (seed ^ 0xD1B54A32D192ED03ull) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z = (z ^ (z >> 32)) * 0xD6E8FEB86659FD93ull;
    return z ^ (z >> 32);
}

/* 24 random bits -> [0,1) */
static inline float rng_u24(uint64_t h) { return (float)(h >> 40) * 0x1.0p-24f; }

float lk_rng_uniform(uint64_t seed, uint64_t counter) { return rng_u24(rng_hash(seed, counter)); }

void lk_rng_fill_uniform(float *out, int64_t n, float lo, float hi, uint64_t seed, uint64_t offset, int n_threads) {
    int nt = ops_threads(n_threads, n);
    float w = hi - lo;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = lo + w * rng_u24(rng_hash(seed, offset + (uint64_t)i));
}

/* Box-Muller on the two 32-bit halves of one hash (one normal per counter). */
void lk_rng_fill_normal(float *out, int64_t n, float mean, float std, uint64_t seed, uint64_t offset, int n_threads) {
    int nt = ops_threads(n_threads, n / 8);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        uint64_t h = rng_hash(seed, offset + (uint64_t)i);
        double u1 = ((double)(h >> 32) + 1.0) * 0x1.0p-32; /* (0,1] */
        double u2 = (double)(h & 0xFFFFFFFFull) * 0x1.0p-32;
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        out[i] = (float)(mean + std * z);
    }
}

/* keep iff u >= p; p <= 0 keeps all, p >= 1 drops all */
static inline float dropout_factor(uint64_t seed, uint64_t counter, float p, float scale) {
    return lk_rng_uniform(seed, counter) >= p ? scale : 0.0f;
}

void lk_dropout_forward(float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset,
                        int n_threads) {
    int nt = ops_threads(n_threads, n);
    if (p >= 1.0f) {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    float scale = 1.0f / (1.0f - p);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = in[i] * dropout_factor(seed, offset + (uint64_t)i, p, scale);
}

void lk_dropout_backward(float *din, const float *dout, int64_t n, float p, uint64_t seed, uint64_t offset,
                         int n_threads) {
    if (p >= 1.0f) return;
    int nt = ops_threads(n_threads, n);
    float scale = 1.0f / (1.0f - p);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) din[i] += dout[i] * dropout_factor(seed, offset + (uint64_t)i, p, scale);
}

void lk_dropout_forward_ref(float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset) {
    for (int64_t i = 0; i < n; i++) {
        int keep = p < 1.0f && lk_rng_uniform(seed, offset + (uint64_t)i) >= p;
        out[i] = keep ? in[i] * (1.0f / (1.0f - p)) : 0.0f;
    }
}

void lk_dropout_backward_ref(float *din, const float *dout, int64_t n, float p, uint64_t seed, uint64_t offset) {
    for (int64_t i = 0; i < n; i++) {
        int keep = p < 1.0f && lk_rng_uniform(seed, offset + (uint64_t)i) >= p;
        din[i] += keep ? dout[i] * (1.0f / (1.0f - p)) : 0.0f;
    }
}

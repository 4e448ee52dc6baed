/* Counter-based random numbers and dropout (lk_ops.h). Element i draws from hash(seed, offset + i), so the
 * values depend only on (seed, offset, i): reproducible and independent of the thread count. */
#include <math.h>
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"

float lk_rng_uniform(uint64_t seed, uint64_t counter) { return ops_rng_u24(ops_rng_hash(seed, counter)); }

void lk_rng_fill_uniform_isa(int isa, float *out, int64_t n, float lo, float hi, uint64_t seed, uint64_t offset,
                             int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, n);
    int64_t nb = ops_ew_blocks(n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->fill_uniform(out + i0, len, lo, hi - lo, seed, offset + (uint64_t)i0);
    }
}

/* Box-Muller on the two 32-bit halves of one hash (one normal per counter). */
void lk_rng_fill_normal(float *out, int64_t n, float mean, float std, uint64_t seed, uint64_t offset, int n_threads) {
    int nt = ops_threads(n_threads, n / 8);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        uint64_t h = ops_rng_hash(seed, offset + (uint64_t)i);
        double u1 = ((double)(h >> 32) + 1.0) * 0x1.0p-32; /* (0,1] */
        double u2 = (double)(h & 0xFFFFFFFFull) * 0x1.0p-32;
        double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
        out[i] = (float)(mean + std * z);
    }
}

/* keep iff u >= p; p <= 0 keeps all, p >= 1 drops all */
static void dropout_run(int isa, float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset,
                        int acc, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    float scale = 1.0f / (1.0f - p);
    int nt = ops_threads(n_threads, n);
    int64_t nb = ops_ew_blocks(n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->dropout(out + i0, in + i0, len, p, scale, seed, offset + (uint64_t)i0, acc);
    }
}

void lk_dropout_forward_isa(int isa, float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset,
                            int n_threads) {
    if (p >= 1.0f) {
        int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t i = 0; i < n; i++) out[i] = 0.0f;
        return;
    }
    dropout_run(isa, out, in, n, p, seed, offset, 0, n_threads);
}

void lk_dropout_backward_isa(int isa, float *din, const float *dout, int64_t n, float p, uint64_t seed,
                             uint64_t offset, int n_threads) {
    if (p >= 1.0f) return;
    dropout_run(isa, din, dout, n, p, seed, offset, 1, n_threads);
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

/* ---- the active ISA (lk_isa.h), chosen once ----------------------------------------------------- */
void lk_rng_fill_uniform(float *out, int64_t n, float lo, float hi, uint64_t seed, uint64_t offset, int n_threads) {
    lk_rng_fill_uniform_isa(lk_isa_active(), out, n, lo, hi, seed, offset, n_threads);
}
void lk_dropout_forward(float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset,
                        int n_threads) {
    lk_dropout_forward_isa(lk_isa_active(), out, in, n, p, seed, offset, n_threads);
}
void lk_dropout_backward(float *din, const float *dout, int64_t n, float p, uint64_t seed, uint64_t offset,
                         int n_threads) {
    lk_dropout_backward_isa(lk_isa_active(), din, dout, n, p, seed, offset, n_threads);
}

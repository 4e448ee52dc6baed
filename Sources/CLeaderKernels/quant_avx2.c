/* AVX2 row dequantiser (Q8_0, Q4_0, Q4_1, F16, BF16; F32 is a copy). Same values as
 * lk_dequantize_row_ref, bit for bit (see quant_avx512.c). */
#include "lk_quant.h"
#include "quant_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#include "avx2_sums.h"

/* One f16 scale to f32 with F16C (exact, like lk_f16_to_f32; a signalling-NaN scale would come back
 * quietened). The scalar converter is a function call with a loop; per block it cost more than the block. */
static inline float h2f(const uint8_t *p) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128((int)lk_load_u16(p))));
}


/* 8 nibbles (low or high halves of 8 bytes) as 8 floats. */
static inline __m256 nibbles8(const uint8_t *qs8, int high) {
    __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)qs8));
    v = high ? _mm256_srli_epi32(v, 4) : _mm256_and_si256(v, _mm256_set1_epi32(15));
    return _mm256_cvtepi32_ps(v);
}

/* out (n) <- in (n values of dtype); n a multiple of 32 for the Q types. */
void lk_dequantize_row_avx2(float *out, const void *in, int64_t n, int dtype) {
    const uint8_t *p = in;
    switch (dtype) {
    case LK_DTYPE_F16: {
        int64_t i = 0;
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * i))));
        for (; i < n; i++) out[i] = lk_f16_to_f32(lk_load_u16(p + 2 * i));
        return;
    }
    case LK_DTYPE_BF16: {
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) {
            __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * i)));
            _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
        }
        for (; i < n; i++) out[i] = lk_bf16_to_f32(lk_load_u16(p + 2 * i));
        return;
    }
    case LK_DTYPE_Q8_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q8_0_BYTES, out += QK) {
            const __m256 d = _mm256_set1_ps(h2f(p));
            for (int h = 0; h < 4; h++) {
                __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * h))));
                _mm256_storeu_ps(out + 8 * h, _mm256_mul_ps(d, q));
            }
        }
        return;
    case LK_DTYPE_Q4_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_0_BYTES, out += QK) {
            const __m256 d = _mm256_set1_ps(h2f(p));
            for (int h = 0; h < 4; h++) {   /* out[8h..8h+8): bytes (h&1)*8.., low nibbles for h<2 */
                __m256 q = _mm256_sub_ps(nibbles8(p + 2 + 8 * (h & 1), h >> 1), _mm256_set1_ps(8.0f));
                _mm256_storeu_ps(out + 8 * h, _mm256_mul_ps(d, q));
            }
        }
        return;
    case LK_DTYPE_Q4_1:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_1_BYTES, out += QK) {
            const __m256 d = _mm256_set1_ps(h2f(p));
            const __m256 m = _mm256_set1_ps(h2f(p + 2));
            for (int h = 0; h < 4; h++)
                _mm256_storeu_ps(out + 8 * h, _mm256_add_ps(_mm256_mul_ps(d, nibbles8(p + 4 + 8 * (h & 1), h >> 1)), m));
        }
        return;
    default:
        lk_dequantize_row_ref(out, in, n, dtype);
        return;
    }
}

/* Codes [8h, 8h+8) of one Q8_0/Q4_0/Q4_1 block (p: its bytes) as floats: q for Q8_0, the nibble for Q4_1, the
 * nibble - 8 for Q4_0 (so the block's values are d*q, d*q and d*q + m). */
static inline __attribute__((always_inline)) __m256 block_codes(const uint8_t *p, int dtype, int h) {
    if (dtype == LK_DTYPE_Q8_0)
        return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2 + 8 * h))));
    if (dtype == LK_DTYPE_Q4_0) return _mm256_sub_ps(nibbles8(p + 2 + 8 * (h & 1), h >> 1), _mm256_set1_ps(8.0f));
    return nibbles8(p + 4 + 8 * (h & 1), h >> 1);
}

/* Y[i, j] (i < M, a constant 1..3) for R (a constant) W rows j at a time, without dequantising: per block,
 * Σ x·(d·q + m) = d·(Σ x·q) + m·(Σ x), with the 8-lane partial sums Σ x·q and Σ x formed in registers (the codes
 * are exact small integers), folded into one 8-lane accumulator per element in K order, and reduced by the
 * hadd tree of gemm_avx2.c's dot products (an element's value does not depend on its neighbours or on R).
 * Q4_0 / Q4_1 rows go four per pass (shared x loads), Q8_0 rows one: on AMD Zen 4 under LEADER_ISA=avx2, for
 * SmolLM2-135M's shapes, four Q4_1 rows per pass were 0-10 % faster than one, and four rows of its 49,152-row
 * Q8_0 head 3x slower (read from memory; one row is one sequential stream). */
static inline __attribute__((always_inline)) void qdot_columns(const int M, const int R, int64_t K,
                                                               const float *restrict x, const uint8_t *W,
                                                               int64_t row_bytes, int dtype, float *restrict Y,
                                                               int64_t ldy, int64_t j, float beta) {
    const int64_t bb = lk_dtype_block_bytes(dtype);
    const int has_min = dtype == LK_DTYPE_Q4_1;
    __m256 acc[3][4];
    for (int i = 0; i < M; i++)
        for (int c = 0; c < 4; c++) acc[i][c] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k += QK) {
        __m256 xs[3];   /* Σ x over the block, 8 lanes */
        if (has_min)
            for (int i = 0; i < M; i++) {
                const float *xr = x + i * K + k;
                xs[i] = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xr), _mm256_loadu_ps(xr + 8)),
                                      _mm256_add_ps(_mm256_loadu_ps(xr + 16), _mm256_loadu_ps(xr + 24)));
            }
        for (int c = 0; c < R; c++) {
            const uint8_t *blk = W + (j + c) * row_bytes + (k / QK) * bb;
            const __m256 q0 = block_codes(blk, dtype, 0), q1 = block_codes(blk, dtype, 1),
                         q2 = block_codes(blk, dtype, 2), q3 = block_codes(blk, dtype, 3);
            const __m256 d = _mm256_set1_ps(h2f(blk)), mn = _mm256_set1_ps(has_min ? h2f(blk + 2) : 0.0f);
            for (int i = 0; i < M; i++) {
                const float *xr = x + i * K + k;
                __m256 t = _mm256_mul_ps(_mm256_loadu_ps(xr), q0);
                t = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 8), q1, t);
                t = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 16), q2, t);
                t = _mm256_fmadd_ps(_mm256_loadu_ps(xr + 24), q3, t);
                acc[i][c] = _mm256_fmadd_ps(d, t, acc[i][c]);
                if (has_min) acc[i][c] = _mm256_fmadd_ps(mn, xs[i], acc[i][c]);
            }
        }
    }
    for (int i = 0; i < M; i++) avx2_store_sums4(acc[i], Y + i * ldy + j, R, beta);
}

static inline __attribute__((always_inline)) void qdot_m(const int M, int64_t K, const float *x, const uint8_t *W,
                                                         int64_t row_bytes, int dtype, float *Y, int64_t ldy,
                                                         int64_t j0, int64_t j1, float beta) {
    int64_t j = j0;
    if (dtype != LK_DTYPE_Q8_0)
        for (; j + 4 <= j1; j += 4) qdot_columns(M, 4, K, x, W, row_bytes, dtype, Y, ldy, j, beta);
    for (; j < j1; j++) qdot_columns(M, 1, K, x, W, row_bytes, dtype, Y, ldy, j, beta);
}

int lk_qdot_rows_avx2(int m, int64_t K, const float *x, const void *W, int64_t row_bytes, int dtype, float *Y,
                      int64_t ldy, int64_t j0, int64_t j1, float beta) {
    if (dtype != LK_DTYPE_Q8_0 && dtype != LK_DTYPE_Q4_0 && dtype != LK_DTYPE_Q4_1) return 0;
    if (m == 1) qdot_m(1, K, x, W, row_bytes, dtype, Y, ldy, j0, j1, beta);
    else if (m == 2) qdot_m(2, K, x, W, row_bytes, dtype, Y, ldy, j0, j1, beta);
    else qdot_m(3, K, x, W, row_bytes, dtype, Y, ldy, j0, j1, beta);
    return 1;
}

#pragma clang attribute pop
#endif

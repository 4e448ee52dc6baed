/* AVX-512 row dequantiser (Q8_0, Q4_0, Q4_1, F16, BF16; F32 is a copy). Same values as
 * lk_dequantize_row_ref, bit for bit: q*d is one rounded multiply, q*d + m a multiply then an add. */
#include "lk_quant.h"
#include "quant_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,f16c"))), \
                             apply_to = function)

/* One f16 scale to f32 with F16C (exact, like lk_f16_to_f32; a signalling-NaN scale would come back
 * quietened). The scalar converter is a function call with a loop; per block it cost more than the block. */
static inline float h2f(const uint8_t *p) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128((int)lk_load_u16(p))));
}


/* 16 nibbles (low or high halves of qs[16]) as 16 floats. */
static inline __m512 nibbles(__m128i qs, int high) {
    __m512i v = _mm512_cvtepu8_epi32(qs);
    v = high ? _mm512_srli_epi32(v, 4) : _mm512_and_si512(v, _mm512_set1_epi32(15));
    return _mm512_cvtepi32_ps(v);
}

/* out (n) <- in (n values of dtype); n a multiple of 32 for the Q types. */
void lk_dequantize_row_avx512(float *out, const void *in, int64_t n, int dtype) {
    const uint8_t *p = in;
    switch (dtype) {
    case LK_DTYPE_F16: {
        int64_t i = 0;
        for (; i + 16 <= n; i += 16)
            _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 2 * i))));
        for (; i < n; i++) out[i] = lk_f16_to_f32(lk_load_u16(p + 2 * i));
        return;
    }
    case LK_DTYPE_BF16: {
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p + 2 * i)));
            _mm512_storeu_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
        }
        for (; i < n; i++) out[i] = lk_bf16_to_f32(lk_load_u16(p + 2 * i));
        return;
    }
    case LK_DTYPE_Q8_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q8_0_BYTES, out += QK) {
            const __m512 d = _mm512_set1_ps(h2f(p));
            for (int h = 0; h < 2; h++) {
                __m512 q = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2 + 16 * h))));
                _mm512_storeu_ps(out + 16 * h, _mm512_mul_ps(d, q));
            }
        }
        return;
    case LK_DTYPE_Q4_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_0_BYTES, out += QK) {
            const __m512 d = _mm512_set1_ps(h2f(p));
            const __m128i qs = _mm_loadu_si128((const __m128i *)(p + 2));
            for (int h = 0; h < 2; h++) {
                __m512 q = _mm512_sub_ps(nibbles(qs, h), _mm512_set1_ps(8.0f));   /* exact: small integers */
                _mm512_storeu_ps(out + 16 * h, _mm512_mul_ps(d, q));
            }
        }
        return;
    case LK_DTYPE_Q4_1:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_1_BYTES, out += QK) {
            const __m512 d = _mm512_set1_ps(h2f(p));
            const __m512 m = _mm512_set1_ps(h2f(p + 2));
            const __m128i qs = _mm_loadu_si128((const __m128i *)(p + 4));
            for (int h = 0; h < 2; h++)
                _mm512_storeu_ps(out + 16 * h, _mm512_add_ps(_mm512_mul_ps(d, nibbles(qs, h)), m));
        }
        return;
    default:
        lk_dequantize_row_ref(out, in, n, dtype);
        return;
    }
}

/* Y[i, j] (i < M, a constant 1..3) for one W row j, without dequantising (the 512-bit form of
 * lk_qdot_rows_avx2): per block, Σ x·(d·q + m) = d·(Σ x·q) + m·(Σ x), where the 16-lane Σ x·q pairs elements
 * k and k + 16 (for Q4 the low and the high nibble of byte k: vpmovzxbd, then vpermps from a 16-entry table of
 * the codes' values, which reads only an index's low 4 bits) and Σ x is formed once per block; folded into one
 * 16-lane accumulator per element in K order, then summed by a fixed tree. One W row per call: on AMD Zen 4, for
 * the SmolLM2-135M decoding shapes, 2 or 4 rows per pass (sharing the x loads) were 1.2-2.0x slower, as for
 * lk_q8_gemv_avx512vnni (the weight streams from memory, and one row is one sequential read). */
static inline __attribute__((always_inline)) void qdot16(const int M, int64_t K, const float *restrict x,
                                                         const uint8_t *w, const int dtype, float *restrict y,
                                                         int64_t ldy, float beta) {
    const int64_t bb = dtype == LK_DTYPE_Q8_0 ? 34 : (dtype == LK_DTYPE_Q4_0 ? 18 : 20);
    const int has_min = dtype == LK_DTYPE_Q4_1, qoff = has_min ? 4 : 2;
    const __m512 tab = _mm512_sub_ps(_mm512_set_ps(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                     _mm512_set1_ps(dtype == LK_DTYPE_Q4_0 ? 8.0f : 0.0f));
    __m512 acc[3];
    for (int i = 0; i < M; i++) acc[i] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += QK) {
        const uint8_t *blk = w + (k / QK) * bb;
        __m512 q0, q1;
        if (dtype == LK_DTYPE_Q8_0) {
            q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 2))));
            q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 18))));
        } else {
            const __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(blk + qoff)));
            q0 = _mm512_permutexvar_ps(v, tab);
            q1 = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), tab);
        }
        const __m512 d = _mm512_set1_ps(h2f(blk));
        const __m512 mn = _mm512_set1_ps(has_min ? h2f(blk + 2) : 0.0f);
        for (int i = 0; i < M; i++) {
            const __m512 x0 = _mm512_loadu_ps(x + i * K + k), x1 = _mm512_loadu_ps(x + i * K + k + 16);
            acc[i] = _mm512_fmadd_ps(d, _mm512_fmadd_ps(x1, q1, _mm512_mul_ps(x0, q0)), acc[i]);
            if (has_min) acc[i] = _mm512_fmadd_ps(mn, _mm512_add_ps(x0, x1), acc[i]);
        }
    }
    for (int i = 0; i < M; i++) {
        const float s = _mm512_reduce_add_ps(acc[i]);
        y[i * ldy] = beta != 0.0f ? __builtin_fmaf(beta, y[i * ldy], s) : s;
    }
}

static inline __attribute__((always_inline)) void qdot_dtype(const int M, const int dtype, int64_t K, const float *x,
                                                             const uint8_t *W, int64_t row_bytes, float *Y,
                                                             int64_t ldy, int64_t j0, int64_t j1, float beta) {
    for (int64_t j = j0; j < j1; j++) qdot16(M, K, x, W + j * row_bytes, dtype, Y + j, ldy, beta);
}

static inline __attribute__((always_inline)) void qdot_m(const int M, int64_t K, const float *x, const uint8_t *W,
                                                         int64_t row_bytes, int dtype, float *Y, int64_t ldy,
                                                         int64_t j0, int64_t j1, float beta) {
    if (dtype == LK_DTYPE_Q4_1) qdot_dtype(M, LK_DTYPE_Q4_1, K, x, W, row_bytes, Y, ldy, j0, j1, beta);
    else if (dtype == LK_DTYPE_Q4_0) qdot_dtype(M, LK_DTYPE_Q4_0, K, x, W, row_bytes, Y, ldy, j0, j1, beta);
    else qdot_dtype(M, LK_DTYPE_Q8_0, K, x, W, row_bytes, Y, ldy, j0, j1, beta);
}

int lk_qdot_rows_avx512(int m, int64_t K, const float *x, const void *W, int64_t row_bytes, int dtype, float *Y,
                        int64_t ldy, int64_t j0, int64_t j1, float beta) {
    if (dtype != LK_DTYPE_Q8_0 && dtype != LK_DTYPE_Q4_0 && dtype != LK_DTYPE_Q4_1) return 0;
    if (m == 1) qdot_m(1, K, x, W, row_bytes, dtype, Y, ldy, j0, j1, beta);
    else if (m == 2) qdot_m(2, K, x, W, row_bytes, dtype, Y, ldy, j0, j1, beta);
    else qdot_m(3, K, x, W, row_bytes, dtype, Y, ldy, j0, j1, beta);
    return 1;
}

#pragma clang attribute pop
#endif

/* AVX2 row dequantiser (Q8_0, Q4_0, Q4_1, F16, BF16; F32 is a copy). Same values as
 * lk_dequantize_row_ref, bit for bit (see quant_avx512.c). */
#include "lk_quant.h"
#include "quant_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

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

#pragma clang attribute pop
#endif

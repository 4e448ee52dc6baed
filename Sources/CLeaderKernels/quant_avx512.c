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

#pragma clang attribute pop
#endif

/* AVX2 + F16C f32 <-> f16 conversions, bit for bit the scalar lk_f32_to_f16 / lk_f16_to_f32 (lk_convert.h):
 * vcvtps2ph with round-to-nearest-even has the same rounding, overflow, subnormal and NaN results (a NaN
 * becomes quiet and keeps the top payload bits, exactly as the scalar does; ConvertTests checks every case).
 * vcvtph2ps quietens signalling NaNs, which the scalar keeps, so groups of 8 that contain a NaN go through
 * the scalar converter. */
#include "convert_kernels.h"
#include "lk_quant.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

void lk_convert_f32_to_f16_avx2(uint16_t *out, const float *in, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) out[i] = lk_f32_to_f16(in[i]);
}

void lk_convert_f16_to_f32_avx2(float *out, const uint16_t *in, int64_t n) {
    const __m128i abs_mask = _mm_set1_epi16(0x7fff), inf = _mm_set1_epi16(0x7c00);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128((const __m128i *)(in + i));
        /* |h| > 0x7c00 (signed 16-bit compare is fine: |h| <= 0x7fff) marks a NaN. */
        if (_mm_movemask_epi8(_mm_cmpgt_epi16(_mm_and_si128(h, abs_mask), inf))) {
            for (int j = 0; j < 8; j++) out[i + j] = lk_f16_to_f32(in[i + j]);
            continue;
        }
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) out[i] = lk_f16_to_f32(in[i]);
}

#pragma clang attribute pop
#endif

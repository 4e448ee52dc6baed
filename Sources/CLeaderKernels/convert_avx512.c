/* AVX-512 f32 <-> f16 conversions (16 lanes; the same contract and NaN handling as convert_avx2.c). */
#include "convert_kernels.h"
#include "lk_quant.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma,f16c"))), \
                             apply_to = function)

void lk_convert_f32_to_f16_avx512(uint16_t *out, const float *in, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) out[i] = lk_f32_to_f16(in[i]);
}

void lk_convert_f16_to_f32_avx512(float *out, const uint16_t *in, int64_t n) {
    const __m256i abs_mask = _mm256_set1_epi16(0x7fff), inf = _mm256_set1_epi16(0x7c00);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256((const __m256i *)(in + i));
        if (_mm256_cmpgt_epi16_mask(_mm256_and_si256(h, abs_mask), inf)) {
            for (int j = 0; j < 16; j++) out[i + j] = lk_f16_to_f32(in[i + j]);
            continue;
        }
        _mm512_storeu_ps(out + i, _mm512_cvtph_ps(h));
    }
    for (; i < n; i++) out[i] = lk_f16_to_f32(in[i]);
}

#pragma clang attribute pop
#endif

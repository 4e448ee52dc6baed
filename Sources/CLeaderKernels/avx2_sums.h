/* Private, AVX2 builds only (include inside a target("avx2,fma") region): the end of the four-column dot
 * products of gemm_avx2.c and quant_avx2.c. One tree for both, so every element is reduced alike. */
#ifndef LK_AVX2_SUMS_H
#define LK_AVX2_SUMS_H
#include <immintrin.h>

/* p[c] (c < nc <= 4) = the lane sum of acc[c] (+ beta * p[c] unless beta == 0, then p is not read). The sum of
 * column c is ((l0+l1)+(l2+l3)) + ((l4+l5)+(l6+l7)) whatever the other columns are. */
static inline void avx2_store_sums4(const __m256 acc[4], float *p, int nc, float beta) {
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    float s[4];
    _mm_storeu_ps(s, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
    for (int c = 0; c < nc; c++) p[c] = beta != 0.0f ? __builtin_fmaf(beta, p[c], s[c]) : s[c];
}
#endif

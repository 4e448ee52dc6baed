/* The AVX-512 conversions of the bf16 products (bf16_kernels.h, page docs/kernels/bf16.md): rounding rows of
 * X to bf16 and packing weights into bf16 panels, bitwise the portable loops of bf16.c. Plain AVX-512 (F, BW, VL,
 * DQ): used by every bf16 path on a CPU with AVX-512, whichever multiplies. */
#include "bf16_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"))), apply_to = function)
#include "bf16_avx512_impl.h"

void lk_bf16_convert_rows_avx512(uint16_t *A, int64_t lda, const float *X, int64_t ldx, int rows, int64_t K) {
    for (int r = 0; r < rows; r++) {
        const float *x = X + r * ldx;
        uint16_t *a = A + r * lda;
        int64_t k = 0;
        for (; k + 16 <= K; k += 16) _mm256_storeu_si256((__m256i *)(a + k), bf16_round16(_mm512_loadu_ps(x + k)));
        if (k < K) {
            const __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
            _mm256_mask_storeu_epi16(a + k, m, bf16_round16(_mm512_maskz_loadu_ps(m, x + k)));
        }
        if (lda > K) memset(a + K, 0, (size_t)(lda - K) * sizeof(uint16_t));
    }
}

void lk_bf16_pack_panel_avx512(uint16_t *panel, const float *W, int64_t ldw, int rows, int64_t K) {
    const int64_t Kp = (K + 31) / 32 * 32;
    if (rows < 16) memset(panel, 0, (size_t)(16 * Kp) * sizeof(uint16_t));
    const __m512i pair_rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                 _mm512_set1_epi32(16));   /* tile row p at 16 pairs apart */
    for (int n = 0; n < rows; n++) {
        const float *w = W + n * ldw;
        for (int64_t k0 = 0; k0 < Kp; k0 += 32) {
            const int64_t left = K - k0;
            const __mmask16 m0 = left >= 16 ? (__mmask16)0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
            const __mmask16 m1 = left >= 32 ? (__mmask16)0xffff : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            const __m256i lo = bf16_round16(_mm512_maskz_loadu_ps(m0, w + k0));
            const __m256i hi = bf16_round16(_mm512_maskz_loadu_ps(m1, w + k0 + 16));
            const __m512i pairs = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            _mm512_i32scatter_epi32(panel + k0 * 16 + n * 2, pair_rows, pairs, 4);
        }
    }
}

void lk_bf16_pack_tile_t_avx512(uint16_t *panels, int64_t panel_stride, const float *Wr, int64_t ldw, int rows,
                                int64_t K) {
    for (int p = 0; p < 16; p++) {
        const int r0 = 2 * p, r1 = 2 * p + 1;
        for (int64_t q = 0; q * 16 < K; q++) {
            const int64_t left = K - q * 16;
            const __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            const __m512 a = r0 < rows ? _mm512_maskz_loadu_ps(m, Wr + r0 * ldw + q * 16) : _mm512_setzero_ps();
            const __m512 b = r1 < rows ? _mm512_maskz_loadu_ps(m, Wr + r1 * ldw + q * 16) : _mm512_setzero_ps();
            const __m512i lo = _mm512_cvtepu16_epi32(bf16_round16(a)), hi = _mm512_cvtepu16_epi32(bf16_round16(b));
            _mm512_storeu_si512((void *)(panels + q * panel_stride + p * 32), _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
        }
    }
}

#pragma clang attribute pop
#endif

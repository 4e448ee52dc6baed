/* AVX512-BF16 leaf of the bf16 products (bf16_kernels.h, page docs/kernels/bf16.md): VDPBF16PS on the same
 * bf16 panels the AMX tiles read, for CPUs with AVX512-BF16 and no AMX (AMD Zen 4 and later, Intel Cooper Lake).
 * A panel row of 64 bytes is one k-pair of 16 columns, (W[n][2q], W[n][2q + 1]) for n < 16, so a panel is Kp/2
 * such rows in order: one VDPBF16PS adds, for 16 columns at once, the two products of a broadcast pair of X to
 * their sums. Register block: up to 6 rows × 4 panels (24 sums of 16 columns, 4 panel rows, one broadcast).
 * Each sum runs over the pairs in k order, whatever the block shape, so a row gives the same bits alone or in
 * a batch. bf16.c calls in here only after checking CPUID for AVX512-BF16. */
#include "bf16_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512bf16,avx512f,avx512vl,avx512bw,avx512dq"))), \
                             apply_to = function)
#include "bf16_avx512_impl.h"

enum { MAX_R = 6, MAX_P = 4 };

/* R rows × P panels (R, P constants at each call site, so the sums live in registers): rows of A (lda apart),
 * panels ps apart, npairs = Kp/2 pair rows each; the results of columns col0 .. col0 + 16P - 1 (those below
 * ncols) go through the epilogue, into Y (ldy) or added to rowp[r]. */
static inline __attribute__((always_inline)) void dp_tile(int R, int P, float *Y, int64_t ldy, float *const *rowp,
                                                          const uint16_t *A, int64_t lda, const uint16_t *B, int64_t ps,
                                                          int64_t npairs, int64_t col0, int64_t ncols,
                                                          const float *bias, float beta, int gelu) {
    __m512 acc[MAX_R][MAX_P];
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) acc[r][p] = _mm512_setzero_ps();
    for (int64_t q = 0; q < npairs; q++) {
        __m512bh b[MAX_P];
        for (int p = 0; p < P; p++) b[p] = (__m512bh)_mm512_loadu_si512((const void *)(B + p * ps + q * 32));
        for (int r = 0; r < R; r++) {
            int32_t pair;
            memcpy(&pair, A + r * lda + 2 * q, sizeof pair);
            const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
            for (int p = 0; p < P; p++) acc[r][p] = _mm512_dpbf16_ps(acc[r][p], a, b[p]);
        }
    }
    /* The epilogue indexes its sums at run time, so they go to memory once here; the sums of the loop above are
     * only ever indexed by constants and stay in registers (one array for both had the compiler keep the sums
     * on the stack: cleared by memset and loaded before the loop). */
    __m512 sums[MAX_R][MAX_P];
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++) sums[r][p] = acc[r][p];
    __mmask16 m[MAX_P];
    __m512 vb[MAX_P];
    for (int p = 0; p < P; p++) {
        m[p] = bf16_cols_mask(ncols - col0 - 16 * p);
        vb[p] = bias ? _mm512_maskz_loadu_ps(m[p], bias + col0 + 16 * p) : _mm512_setzero_ps();
    }
    for (int r = 0; r < R; r++) {   /* rows in order: with rowp, several rows may add to one destination */
        float *y = (rowp ? rowp[r] : Y + r * ldy) + col0;
        for (int p = 0; p < P; p++)
            if (m[p]) bf16_finish16(y + 16 * p, m[p], sums[r][p], vb[p], beta, gelu, rowp != NULL);
    }
}

void lk_bf16_dp_block(float *Y, int64_t ldy, const uint16_t *A, int64_t lda, int rows, const uint16_t *panels,
                      int64_t npan, int64_t ncols, int64_t Kp, const float *bias, float beta, int gelu,
                      float *const *rowp) {
    const int64_t ps = 16 * Kp, npairs = Kp / 2;
    for (int64_t p0 = 0; p0 < npan; p0 += MAX_P) {
        const int P = npan - p0 < MAX_P ? (int)(npan - p0) : MAX_P;
        const uint16_t *B = panels + p0 * ps;
        for (int r0 = 0; r0 < rows; r0 += MAX_R) {
            const int R = rows - r0 < MAX_R ? rows - r0 : MAX_R;
            float *y = Y ? Y + r0 * ldy : NULL;
            float *const *rp = rowp ? rowp + r0 : NULL;
            const uint16_t *a = A + r0 * lda;
#define DP_TILE(r, p)                                                                                     \
    case (r) * 8 + (p):                                                                                   \
        dp_tile(r, p, y, ldy, rp, a, lda, B, ps, npairs, p0 * 16, ncols, bias, beta, gelu);               \
        break;
            switch (R * 8 + P) {
                DP_TILE(1, 1) DP_TILE(1, 2) DP_TILE(1, 3) DP_TILE(1, 4)
                DP_TILE(2, 1) DP_TILE(2, 2) DP_TILE(2, 3) DP_TILE(2, 4)
                DP_TILE(3, 1) DP_TILE(3, 2) DP_TILE(3, 3) DP_TILE(3, 4)
                DP_TILE(4, 1) DP_TILE(4, 2) DP_TILE(4, 3) DP_TILE(4, 4)
                DP_TILE(5, 1) DP_TILE(5, 2) DP_TILE(5, 3) DP_TILE(5, 4)
                DP_TILE(6, 1) DP_TILE(6, 2) DP_TILE(6, 3) DP_TILE(6, 4)
            default: break;
            }
#undef DP_TILE
        }
    }
}

#pragma clang attribute pop
#endif

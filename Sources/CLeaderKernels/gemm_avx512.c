/* AVX-512 leaves of the SGEMM: 8 x 32 micro-kernel (16 zmm accumulators; edge tiles compute only their rows)
 * and the GEMV-like rows.
 * Everything in this file is compiled for AVX-512 through the pragma below; the rest of the target stays
 * baseline x86-64 and only reaches these functions through lk_gemm_kernels_avx512 (gemm.c checks the CPU). */
#include "gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))), \
                             apply_to = function)

enum { MR = 8, NR = 32 };

static inline __mmask16 lane_mask(int n) {     /* first n (0..16) lanes */
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n < 0 ? 0 : n)) - 1u);
}

/* C (R,nr; ldc) op= Ap (kc,8) * Bp (kc,32; ldbp) for a constant R <= 8: an edge tile of R rows computes only
 * those rows (the same FMAs per element as the full tile, so an element does not depend on R; a single row
 * costs an eighth of a full tile). See lk_gemm_ukr_fn for the store rule. */
static inline __attribute__((always_inline)) void ukr_rows(const int R, int64_t kc, const float *restrict Ap,
                                                           const float *restrict Bp, int64_t ldbp, float *restrict C,
                                                           int64_t ldc, int nr, int first, float beta) {
    __m512 c0[MR], c1[MR];
    for (int i = 0; i < R; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    for (int i = 0; i < R; i++) {
        _mm_prefetch((const char *)(C + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + i * ldc + NR - 1), _MM_HINT_T0);
    }
#define UKR_STEP                                                                                           \
    do {                                                                                                   \
        __m512 b0 = _mm512_loadu_ps(Bp), b1 = _mm512_loadu_ps(Bp + 16);                                    \
        for (int i = 0; i < R; i++) {                                                                      \
            __m512 a = _mm512_set1_ps(Ap[i]);                                                              \
            c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);                                                         \
            c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);                                                         \
        }                                                                                                  \
        Ap += MR;                                                                                          \
        Bp += ldbp;                                                                                        \
    } while (0)
    if (ldbp == NR) {
        for (int64_t k = 0; k < kc; k++) UKR_STEP;
    } else {          /* B read in place, rows ldbp apart: prefetch 8 rows ahead */
        for (int64_t k = 0; k < kc; k++) {
            _mm_prefetch((const char *)(Bp + 8 * ldbp), _MM_HINT_T0);
            _mm_prefetch((const char *)(Bp + 8 * ldbp + 16), _MM_HINT_T0);
            UKR_STEP;
        }
    }
#undef UKR_STEP
    const __mmask16 m0 = lane_mask(nr), m1 = lane_mask(nr - 16);
    const __m512 vb = _mm512_set1_ps(beta);
    for (int i = 0; i < R; i++) {
        float *p = C + i * ldc;
        if (!first) {
            c0[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, p), c0[i]);
            c1[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, p + 16), c1[i]);
        } else if (beta != 0.0f) {
            c0[i] = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, p), c0[i]);
            c1[i] = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, p + 16), c1[i]);
        }
        _mm512_mask_storeu_ps(p, m0, c0[i]);
        _mm512_mask_storeu_ps(p + 16, m1, c1[i]);
    }
}

/* C (mr,nr; ldc) op= Ap (kc,8) * Bp (kc,32; ldbp). See lk_gemm_ukr_fn for the store rule. */
static void ukr_8x32(int64_t kc, const float *restrict Ap, const float *restrict Bp, int64_t ldbp,
                     float *restrict C, int64_t ldc, int mr, int nr, int first, float beta) {
    switch (mr) {
    case 1: ukr_rows(1, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 2: ukr_rows(2, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 3: ukr_rows(3, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 4: ukr_rows(4, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 5: ukr_rows(5, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 6: ukr_rows(6, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 7: ukr_rows(7, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    default: ukr_rows(MR, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    }
}

/* One strip of 16*V columns [j, j+w) for m rows: acc[i][v] += a[i,k] * B[k, j+16v..], k in order. */
static inline __attribute__((always_inline)) void gemv_strip(int m, int V, int64_t K, const float *restrict a,
                                                             const float *restrict B, int64_t ldb,
                                                             float *restrict C, int64_t ldc, int64_t j, int w,
                                                             float beta) {
    __mmask16 mk[16];
    __m512 acc[3][16];
    for (int v = 0; v < V; v++) mk[v] = lane_mask(w - 16 * v);
    for (int i = 0; i < m; i++)
        for (int v = 0; v < V; v++) acc[i][v] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        const float *b = B + k * ldb + j;
        __m512 ai[3];
        for (int i = 0; i < m; i++) ai[i] = _mm512_set1_ps(a[i * K + k]);
        for (int v = 0; v < V; v++) {
            __m512 bv = _mm512_maskz_loadu_ps(mk[v], b + 16 * v);
            for (int i = 0; i < m; i++) acc[i][v] = _mm512_fmadd_ps(ai[i], bv, acc[i][v]);
        }
    }
    const __m512 vb = _mm512_set1_ps(beta);
    for (int i = 0; i < m; i++)
        for (int v = 0; v < V; v++) {
            float *p = C + i * ldc + j + 16 * v;
            __m512 r = acc[i][v];
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk[v], p), r);
            _mm512_mask_storeu_ps(p, mk[v], r);
        }
}

/* C (m,·) columns [j0,j1) = a (m,K) * B. See lk_gemv_fn. */
static void gemv_rows(int m, int64_t K, const float *restrict a, const float *restrict B, int64_t ldb,
                      int trans_b, float *restrict C, int64_t ldc, int64_t j0, int64_t j1, float beta) {
    if (!trans_b) {   /* C row i += a[i,k] * B row k, in equal strips of at most 256 (m = 1) or 128 columns */
        const int64_t maxw = m == 1 ? 256 : 128, cols = j1 - j0;
        const int64_t nstrips = (cols + maxw - 1) / maxw;
        const int64_t sw = ((cols + nstrips - 1) / nstrips + 63) / 64 * 64;    /* 64, 128, 192 or 256 */
        for (int64_t j = j0; j < j1; j += sw) {
            const int w = (int)(j1 - j < sw ? j1 - j : sw);
            const int V = (w + 63) / 64 * 4;                                     /* 4, 8, 12 or 16 */
            if (m == 1) {
                if (V == 16) gemv_strip(1, 16, K, a, B, ldb, C, ldc, j, w, beta);
                else if (V == 12) gemv_strip(1, 12, K, a, B, ldb, C, ldc, j, w, beta);
                else if (V == 8) gemv_strip(1, 8, K, a, B, ldb, C, ldc, j, w, beta);
                else gemv_strip(1, 4, K, a, B, ldb, C, ldc, j, w, beta);
            } else if (m == 2) {
                if (V == 8) gemv_strip(2, 8, K, a, B, ldb, C, ldc, j, w, beta);
                else gemv_strip(2, 4, K, a, B, ldb, C, ldc, j, w, beta);
            } else {
                if (V == 8) gemv_strip(3, 8, K, a, B, ldb, C, ldc, j, w, beta);
                else gemv_strip(3, 4, K, a, B, ldb, C, ldc, j, w, beta);
            }
        }
        return;
    }
    /* trans_b: C[i,j] = dot(a row i, B row j); 4 zmm partial sums per element, then a fixed reduction */
    for (int64_t j = j0; j < j1; j++) {
        const float *b = B + j * ldb;
        __m512 acc[3][4];
        for (int i = 0; i < 3; i++)
            for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
        for (int64_t k = 0; k < K; k += 64) {
            int w = (int)(K - k < 64 ? K - k : 64);
            __m512 bv[4];
            for (int v = 0; v < 4; v++) bv[v] = _mm512_maskz_loadu_ps(lane_mask(w - 16 * v), b + k + 16 * v);
            for (int i = 0; i < m; i++)
                for (int v = 0; v < 4; v++)
                    acc[i][v] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lane_mask(w - 16 * v), a + i * K + k + 16 * v),
                                                bv[v], acc[i][v]);
        }
        for (int i = 0; i < m; i++) {
            __m512 s = _mm512_add_ps(_mm512_add_ps(acc[i][0], acc[i][1]), _mm512_add_ps(acc[i][2], acc[i][3]));
            __m128 r = _mm_set_ss(_mm512_reduce_add_ps(s));
            float *p = C + i * ldc + j;
            if (beta != 0.0f) r = _mm_fmadd_ss(_mm_set_ss(beta), _mm_load_ss(p), r);
            _mm_store_ss(p, r);
        }
    }
}

#pragma clang attribute pop

const lk_gemm_kernels lk_gemm_kernels_avx512 = {MR, NR, ukr_8x32, gemv_rows, 1};
#endif

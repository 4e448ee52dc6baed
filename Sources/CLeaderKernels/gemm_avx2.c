/* AVX2 + FMA leaves of the SGEMM: 6 x 16 micro-kernel (12 ymm accumulators; edge tiles of fewer rows compute
 * only those) and the GEMV-like rows.
 * Compiled for AVX2 through the pragma below; reached only via lk_gemm_kernels_avx2 (see gemm_avx512.c). */
#include "gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "avx2_sums.h"

enum { MR = 6, NR = 16 };

static inline __m256i lane_mask(int n) {       /* first n (<= 0 .. >= 8) of 8 int32 lanes all-ones */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* C (R,nr; ldc) op= Ap (kc,6) * Bp (kc,16; ldbp) for a constant R <= 6: an edge tile of R rows computes only
 * those rows (the same FMAs per element as the full tile, so an element does not depend on R). See
 * lk_gemm_ukr_fn for the store rule. */
static inline __attribute__((always_inline)) void ukr_rows(const int R, int64_t kc, const float *restrict Ap,
                                                           const float *restrict Bp, int64_t ldbp, float *restrict C,
                                                           int64_t ldc, int nr, int first, float beta) {
    __m256 c0[MR], c1[MR];
    for (int i = 0; i < R; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    for (int i = 0; i < R; i++) _mm_prefetch((const char *)(C + i * ldc), _MM_HINT_T0);
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
        for (int i = 0; i < R; i++) {
            __m256 a = _mm256_broadcast_ss(Ap + i);
            c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
        }
        Ap += MR;
        Bp += ldbp;
    }
    const __m256 vb = _mm256_set1_ps(beta);
    if (nr == NR) {   /* full width: plain loads and stores (masked ones are slow on AMD Zen) */
        for (int i = 0; i < R; i++) {
            float *p = C + i * ldc;
            if (!first) {
                c0[i] = _mm256_add_ps(_mm256_loadu_ps(p), c0[i]);
                c1[i] = _mm256_add_ps(_mm256_loadu_ps(p + 8), c1[i]);
            } else if (beta != 0.0f) {
                c0[i] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(p), c0[i]);
                c1[i] = _mm256_fmadd_ps(vb, _mm256_loadu_ps(p + 8), c1[i]);
            }
            _mm256_storeu_ps(p, c0[i]);
            _mm256_storeu_ps(p + 8, c1[i]);
        }
        return;
    }
    const __m256i m0 = lane_mask(nr), m1 = lane_mask(nr - 8);
    for (int i = 0; i < R; i++) {
        float *p = C + i * ldc;
        if (!first) {
            c0[i] = _mm256_add_ps(_mm256_maskload_ps(p, m0), c0[i]);
            c1[i] = _mm256_add_ps(_mm256_maskload_ps(p + 8, m1), c1[i]);
        } else if (beta != 0.0f) {
            c0[i] = _mm256_fmadd_ps(vb, _mm256_maskload_ps(p, m0), c0[i]);
            c1[i] = _mm256_fmadd_ps(vb, _mm256_maskload_ps(p + 8, m1), c1[i]);
        }
        _mm256_maskstore_ps(p, m0, c0[i]);
        _mm256_maskstore_ps(p + 8, m1, c1[i]);
    }
}

/* C (mr,nr; ldc) op= Ap (kc,6) * Bp (kc,16; ldbp). See lk_gemm_ukr_fn for the store rule. */
static void ukr_6x16(int64_t kc, const float *restrict Ap, const float *restrict Bp, int64_t ldbp,
                     float *restrict C, int64_t ldc, int mr, int nr, int first, float beta) {
    switch (mr) {
    case 1: ukr_rows(1, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 2: ukr_rows(2, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 3: ukr_rows(3, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 4: ukr_rows(4, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    case 5: ukr_rows(5, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    default: ukr_rows(MR, kc, Ap, Bp, ldbp, C, ldc, nr, first, beta); return;
    }
}

/* C[i, j] = dot(a row i, B row j) for i < M (a constant 1..3), j in [j0, j1). Four B rows at a time share each
 * load of a; one 8-lane partial sum per element over K (unmasked loads, the K % 8 tail masked once), reduced
 * by the same hadd tree for every column, so an element's value does not depend on its neighbours. */
static inline __attribute__((always_inline)) void dot_columns(const int M, int64_t K, const float *restrict a,
                                                              const float *restrict B, int64_t ldb, float *restrict C,
                                                              int64_t ldc, int64_t j0, int64_t j1, float beta) {
    const int64_t k8 = K / 8 * 8;
    const __m256i tail = lane_mask((int)(K - k8));
    for (int64_t j = j0; j < j1; j += 4) {
        const int nc = (int)(j1 - j < 4 ? j1 - j : 4);
        const float *b[4];
        for (int c = 0; c < 4; c++) b[c] = B + (j + (c < nc ? c : nc - 1)) * ldb;   /* edge: repeat the last */
        __m256 acc[3][4];
        for (int i = 0; i < M; i++)
            for (int c = 0; c < 4; c++) acc[i][c] = _mm256_setzero_ps();
        for (int64_t k = 0; k < k8; k += 8) {
            __m256 bv[4];
            for (int c = 0; c < 4; c++) bv[c] = _mm256_loadu_ps(b[c] + k);
            for (int i = 0; i < M; i++) {
                const __m256 av = _mm256_loadu_ps(a + i * K + k);
                for (int c = 0; c < 4; c++) acc[i][c] = _mm256_fmadd_ps(av, bv[c], acc[i][c]);
            }
        }
        if (k8 < K) {
            __m256 bv[4];
            for (int c = 0; c < 4; c++) bv[c] = _mm256_maskload_ps(b[c] + k8, tail);
            for (int i = 0; i < M; i++) {
                const __m256 av = _mm256_maskload_ps(a + i * K + k8, tail);
                for (int c = 0; c < 4; c++) acc[i][c] = _mm256_fmadd_ps(av, bv[c], acc[i][c]);
            }
        }
        for (int i = 0; i < M; i++) avx2_store_sums4(acc[i], C + i * ldc + j, nc, beta);
    }
}

/* C[i, j:j+w] (i < M, a constant 1..3; w <= 32) = sum over k of a[i,k] * B[k, j:j+w], k in order. FULL (w == 32):
 * plain loads and stores; otherwise masked ones (slow on AMD Zen, so only at the strip that needs them). */
static inline __attribute__((always_inline)) void axpy_strip(const int M, const int FULL, int64_t K,
                                                             const float *restrict a, const float *restrict B,
                                                             int64_t ldb, float *restrict C, int64_t ldc, int64_t j,
                                                             int w, float beta) {
    __m256i mk[4];
    for (int v = 0; v < 4; v++) mk[v] = lane_mask(w - 8 * v);
    __m256 acc[3][4];
    for (int i = 0; i < M; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        const float *b = B + k * ldb + j;
        __m256 bv[4];
        for (int v = 0; v < 4; v++) bv[v] = FULL ? _mm256_loadu_ps(b + 8 * v) : _mm256_maskload_ps(b + 8 * v, mk[v]);
        for (int i = 0; i < M; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i * K + k);
            for (int v = 0; v < 4; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    const __m256 vb = _mm256_set1_ps(beta);
    for (int i = 0; i < M; i++)
        for (int v = 0; v < 4; v++) {
            float *p = C + i * ldc + j + 8 * v;
            __m256 r = acc[i][v];
            if (beta != 0.0f) r = _mm256_fmadd_ps(vb, FULL ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mk[v]), r);
            if (FULL) _mm256_storeu_ps(p, r);
            else _mm256_maskstore_ps(p, mk[v], r);
        }
}

/* C (m,·) columns [j0,j1) = a (m,K) * B. See lk_gemv_fn. */
static void gemv_rows(int m, int64_t K, const float *restrict a, const float *restrict B, int64_t ldb,
                      int trans_b, float *restrict C, int64_t ldc, int64_t j0, int64_t j1, float beta) {
    if (!trans_b) {   /* C row i += a[i,k] * B row k, 32 columns at a time */
        for (int64_t j = j0; j < j1; j += 32) {
            const int w = (int)(j1 - j < 32 ? j1 - j : 32);
            if (w == 32) {
                if (m == 1) axpy_strip(1, 1, K, a, B, ldb, C, ldc, j, w, beta);
                else if (m == 2) axpy_strip(2, 1, K, a, B, ldb, C, ldc, j, w, beta);
                else axpy_strip(3, 1, K, a, B, ldb, C, ldc, j, w, beta);
            } else {
                if (m == 1) axpy_strip(1, 0, K, a, B, ldb, C, ldc, j, w, beta);
                else if (m == 2) axpy_strip(2, 0, K, a, B, ldb, C, ldc, j, w, beta);
                else axpy_strip(3, 0, K, a, B, ldb, C, ldc, j, w, beta);
            }
        }
        return;
    }
    /* trans_b: C[i,j] = dot(a row i, B row j), four columns at a time */
    if (m == 1) dot_columns(1, K, a, B, ldb, C, ldc, j0, j1, beta);
    else if (m == 2) dot_columns(2, K, a, B, ldb, C, ldc, j0, j1, beta);
    else dot_columns(3, K, a, B, ldb, C, ldc, j0, j1, beta);
}

#pragma clang attribute pop

const lk_gemm_kernels lk_gemm_kernels_avx2 = {MR, NR, ukr_6x16, gemv_rows, 1};
#endif

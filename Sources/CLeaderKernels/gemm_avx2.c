/* AVX2 + FMA leaves of the SGEMM: 6 x 16 micro-kernel (12 ymm accumulators) and the GEMV-like rows.
 * Compiled for AVX2 through the pragma below; reached only via lk_gemm_kernels_avx2 (see gemm_avx512.c). */
#include "gemm_kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

enum { MR = 6, NR = 16 };

static inline __m256i lane_mask(int n) {       /* first n (<= 0 .. >= 8) of 8 int32 lanes all-ones */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* C (mr,nr; ldc) op= Ap (kc,6) * Bp (kc,16; ldbp). See lk_gemm_ukr_fn for the store rule. */
static void ukr_6x16(int64_t kc, const float *restrict Ap, const float *restrict Bp, int64_t ldbp,
                     float *restrict C, int64_t ldc, int mr, int nr, int first, float beta) {
    __m256 c0[MR], c1[MR];
    for (int i = 0; i < MR; i++) { c0[i] = _mm256_setzero_ps(); c1[i] = _mm256_setzero_ps(); }
    for (int i = 0; i < mr; i++) _mm_prefetch((const char *)(C + i * ldc), _MM_HINT_T0);
    for (int64_t k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
        for (int i = 0; i < MR; i++) {
            __m256 a = _mm256_broadcast_ss(Ap + i);
            c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
            c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
        }
        Ap += MR;
        Bp += ldbp;
    }
    const __m256i m0 = lane_mask(nr), m1 = lane_mask(nr - 8);
    const __m256 vb = _mm256_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
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

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* C (m,·) columns [j0,j1) = a (m,K) * B. See lk_gemv_fn. */
static void gemv_rows(int m, int64_t K, const float *restrict a, const float *restrict B, int64_t ldb,
                      int trans_b, float *restrict C, int64_t ldc, int64_t j0, int64_t j1, float beta) {
    const __m256 vb = _mm256_set1_ps(beta);
    if (!trans_b) {   /* C row i += a[i,k] * B row k, 32 columns at a time */
        for (int64_t j = j0; j < j1; j += 32) {
            int w = (int)(j1 - j < 32 ? j1 - j : 32);
            __m256i mk[4];
            for (int v = 0; v < 4; v++) mk[v] = lane_mask(w - 8 * v);
            __m256 acc[3][4];
            for (int i = 0; i < 3; i++)
                for (int v = 0; v < 4; v++) acc[i][v] = _mm256_setzero_ps();
            for (int64_t k = 0; k < K; k++) {
                const float *b = B + k * ldb + j;
                __m256 bv[4];
                for (int v = 0; v < 4; v++) bv[v] = _mm256_maskload_ps(b + 8 * v, mk[v]);
                for (int i = 0; i < m; i++) {
                    __m256 ai = _mm256_broadcast_ss(a + i * K + k);
                    for (int v = 0; v < 4; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
                }
            }
            for (int i = 0; i < m; i++)
                for (int v = 0; v < 4; v++) {
                    float *p = C + i * ldc + j + 8 * v;
                    __m256 r = acc[i][v];
                    if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_maskload_ps(p, mk[v]), r);
                    _mm256_maskstore_ps(p, mk[v], r);
                }
        }
        return;
    }
    /* trans_b: C[i,j] = dot(a row i, B row j); 4 ymm partial sums per element, then a fixed reduction */
    for (int64_t j = j0; j < j1; j++) {
        const float *b = B + j * ldb;
        __m256 acc[3][4];
        for (int i = 0; i < 3; i++)
            for (int v = 0; v < 4; v++) acc[i][v] = _mm256_setzero_ps();
        for (int64_t k = 0; k < K; k += 32) {
            int w = (int)(K - k < 32 ? K - k : 32);
            __m256 bv[4];
            for (int v = 0; v < 4; v++) bv[v] = _mm256_maskload_ps(b + k + 8 * v, lane_mask(w - 8 * v));
            for (int i = 0; i < m; i++)
                for (int v = 0; v < 4; v++)
                    acc[i][v] = _mm256_fmadd_ps(_mm256_maskload_ps(a + i * K + k + 8 * v, lane_mask(w - 8 * v)),
                                                bv[v], acc[i][v]);
        }
        for (int i = 0; i < m; i++) {
            __m256 s = _mm256_add_ps(_mm256_add_ps(acc[i][0], acc[i][1]), _mm256_add_ps(acc[i][2], acc[i][3]));
            __m128 r = _mm_set_ss(hsum(s));
            float *p = C + i * ldc + j;
            if (beta != 0.0f) r = _mm_fmadd_ss(_mm_set_ss(beta), _mm_load_ss(p), r);
            _mm_store_ss(p, r);
        }
    }
}

#pragma clang attribute pop

const lk_gemm_kernels lk_gemm_kernels_avx2 = {MR, NR, ukr_6x16, gemv_rows};
#endif

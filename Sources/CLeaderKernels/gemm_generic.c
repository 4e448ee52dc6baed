/* Portable C leaves of the SGEMM: 4 x 16 micro-kernel (the compiler vectorises it for the baseline ISA)
 * and the GEMV-like rows. Used on CPUs without AVX2+FMA and when LEADER_ISA=generic. Multiplies and adds
 * are separate statements, so results do not depend on whether the compiler may contract them. */
#include "gemm_kernels.h"

enum { MR = 4, NR = 16 };

/* C (mr,nr; ldc) op= Ap (kc,4) * Bp (kc,16; ldbp). See lk_gemm_ukr_fn for the store rule. */
static void ukr_4x16(int64_t kc, const float *restrict Ap, const float *restrict Bp, int64_t ldbp,
                     float *restrict C, int64_t ldc, int mr, int nr, int first, float beta) {
    float acc[MR][NR] = {{0}};
    for (int64_t k = 0; k < kc; k++) {
        for (int i = 0; i < MR; i++) {
            float a = Ap[i];
            for (int j = 0; j < NR; j++) {
                float t = a * Bp[j];
                acc[i][j] += t;
            }
        }
        Ap += MR;
        Bp += ldbp;
    }
    for (int i = 0; i < mr; i++) {
        float *p = C + i * ldc;
        for (int j = 0; j < nr; j++) {
            float r = acc[i][j];
            if (!first) r = p[j] + r;
            else if (beta != 0.0f) { float t = beta * p[j]; r = t + r; }
            p[j] = r;
        }
    }
}

/* C (m,·) columns [j0,j1) = a (m,K) * B. See lk_gemv_fn. */
static void gemv_rows(int m, int64_t K, const float *restrict a, const float *restrict B, int64_t ldb,
                      int trans_b, float *restrict C, int64_t ldc, int64_t j0, int64_t j1, float beta) {
    enum { W = 16 };
    for (int64_t j = j0; j < j1; j += W) {
        int w = (int)(j1 - j < W ? j1 - j : W);
        float acc[3][W] = {{0}};
        if (!trans_b) {
            for (int64_t k = 0; k < K; k++) {
                const float *b = B + k * ldb + j;
                for (int i = 0; i < m; i++) {
                    float ai = a[i * K + k];
                    for (int jj = 0; jj < w; jj++) { float t = ai * b[jj]; acc[i][jj] += t; }
                }
            }
        } else {
            for (int jj = 0; jj < w; jj++) {
                const float *b = B + (j + jj) * ldb;
                for (int i = 0; i < m; i++) {
                    float s = 0.0f;
                    for (int64_t k = 0; k < K; k++) { float t = a[i * K + k] * b[k]; s += t; }
                    acc[i][jj] = s;
                }
            }
        }
        for (int i = 0; i < m; i++)
            for (int jj = 0; jj < w; jj++) {
                float *p = C + i * ldc + j + jj;
                float r = acc[i][jj];
                if (beta != 0.0f) { float t = beta * *p; r = t + r; }
                *p = r;
            }
    }
}

const lk_gemm_kernels lk_gemm_kernels_generic = {MR, NR, ukr_4x16, gemv_rows, 0};

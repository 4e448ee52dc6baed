/* Naive references for lk_gemm.h: the test oracle (double accumulation, no blocking). */
#include "lk_gemm.h"

void lk_sgemm_ref(float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
                  int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta) {
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double acc = 0.0;
            for (int64_t p = 0; p < K; p++) {
                float a = trans_a ? A[p * lda + i] : A[i * lda + p];
                float b = trans_b ? B[j * ldb + p] : B[p * ldb + j];
                acc += (double)a * (double)b;
            }
            float prev = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
            C[i * ldc + j] = (float)(alpha * acc) + prev;
        }
    }
}

void lk_sgemm_batched_ref(float *C, int64_t ldc, int64_t stride_c, const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b, int64_t batch, int64_t M, int64_t N,
                          int64_t K, int trans_a, int trans_b, float alpha, float beta) {
    for (int64_t b = 0; b < batch; b++)
        lk_sgemm_ref(C + b * stride_c, ldc, A + b * stride_a, lda, B + b * stride_b, ldb, M, N, K, trans_a,
                     trans_b, alpha, beta);
}

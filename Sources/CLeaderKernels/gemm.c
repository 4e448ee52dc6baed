/* TEMPORARY: forwards to the reference until the packed kernel lands (issue 2, GEMM work). */
#include "lk_gemm.h"
#include "lk_isa.h"
void lk_sgemm_isa(int isa, float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
                  int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta,
                  int n_threads) {
    (void)isa; (void)n_threads;
    lk_sgemm_ref(C, ldc, A, lda, B, ldb, M, N, K, trans_a, trans_b, alpha, beta);
}
void lk_sgemm(float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
              int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta, int n_threads) {
    lk_sgemm_isa(lk_isa_active(), C, ldc, A, lda, B, ldb, M, N, K, trans_a, trans_b, alpha, beta, n_threads);
}

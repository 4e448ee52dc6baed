/* Single-precision matrix multiply, row-major.
 *
 *   C = alpha * op(A) * op(B) + beta * C        op(X) = X or X^T
 *
 * op(A) is (M,K), op(B) is (K,N), C is (M,N). A is stored (M,K) with leading dimension lda when
 * trans_a == 0, (K,M) when trans_a != 0; same for B ((K,N) or (N,K)). beta == 0 overwrites C without
 * reading it (NaNs in C do not propagate). M, N or K == 0 are valid (K == 0 gives C = beta*C).
 * Results do not depend on n_threads (each C element is computed by one thread, in a fixed order).
 * Callers validate sizes; kernels never fail. */
#ifndef LK_GEMM_H
#define LK_GEMM_H
#include <stdint.h>

void lk_sgemm(float *C, int64_t ldc,            /* C is (M,N) */
              const float *A, int64_t lda,      /* A is (M,K) or (K,M) */
              const float *B, int64_t ldb,      /* B is (K,N) or (N,K) */
              int64_t M, int64_t N, int64_t K, int trans_a, int trans_b,
              float alpha, float beta, int n_threads);

/* Same with an explicit ISA (LK_ISA_*; clamped to what the CPU has). */
void lk_sgemm_isa(int isa, float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
                  int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta,
                  int n_threads);

/* Naive triple loop with double accumulation: the test oracle. */
void lk_sgemm_ref(float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
                  int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta);

/* Strided batch: for b in [0,batch): C + b*stride_c = alpha*op(A + b*stride_a)*op(B + b*stride_b) + beta*C.
 * Used by attention ((B*H) batches of (T,T) or (T,D) products). Parallel over batches and tiles. */
void lk_sgemm_batched(float *C, int64_t ldc, int64_t stride_c,
                      const float *A, int64_t lda, int64_t stride_a,
                      const float *B, int64_t ldb, int64_t stride_b,
                      int64_t batch, int64_t M, int64_t N, int64_t K, int trans_a, int trans_b,
                      float alpha, float beta, int n_threads);
void lk_sgemm_batched_isa(int isa, float *C, int64_t ldc, int64_t stride_c,
                          const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b,
                          int64_t batch, int64_t M, int64_t N, int64_t K, int trans_a, int trans_b,
                          float alpha, float beta, int n_threads);
void lk_sgemm_batched_ref(float *C, int64_t ldc, int64_t stride_c,
                          const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b,
                          int64_t batch, int64_t M, int64_t N, int64_t K, int trans_a, int trans_b,
                          float alpha, float beta);
#endif

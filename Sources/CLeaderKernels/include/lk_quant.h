/* Reduced-precision weights in GGUF block layouts, and matrix products that read them directly.
 *
 *   F16   IEEE binary16                          2 bytes / value
 *   BF16  bfloat16 (upper half of an f32)        2 bytes / value
 *   Q8_0  blocks of 32: f16 d, int8 q[32]        x = d*q                      34 bytes / block
 *   Q4_0  blocks of 32: f16 d, uint8 qs[16]      x = d*(nib-8); element j<16 is the low nibble of qs[j],
 *                                                element j+16 the high nibble   18 bytes / block
 *   Q4_1  blocks of 32: f16 d, f16 m, uint8 qs[16]  x = d*nib + m (same nibble order)  20 bytes / block
 *
 * A quantised matrix W of shape (N,K) is N rows of K values each, row-major; K must be a multiple of the
 * block size (32) for the Q types. Callers validate sizes; kernels never fail. */
#ifndef LK_QUANT_H
#define LK_QUANT_H
#include <stddef.h>
#include <stdint.h>

enum { LK_DTYPE_F32 = 0, LK_DTYPE_F16 = 1, LK_DTYPE_BF16 = 2, LK_DTYPE_Q8_0 = 3, LK_DTYPE_Q4_0 = 4,
       LK_DTYPE_Q4_1 = 5 };

int64_t lk_dtype_block_size(int dtype);   /* values per block: 1 for F32/F16/BF16, 32 for Q types; 0 unknown */
int64_t lk_dtype_block_bytes(int dtype);  /* bytes per block; 0 unknown */

float lk_f16_to_f32(uint16_t h);
uint16_t lk_f32_to_f16(float f);          /* round to nearest even, overflow -> inf, NaN kept */
float lk_bf16_to_f32(uint16_t h);
uint16_t lk_f32_to_bf16(float f);         /* round to nearest even */

/* out (n) <- one row of n values of dtype at in. */
void lk_dequantize_row(float *out, const void *in, int64_t n, int dtype);
void lk_dequantize_row_ref(float *out, const void *in, int64_t n, int dtype);
/* Same as lk_dequantize_row with an explicit ISA (LK_ISA_*; clamped). Bit-identical to the _ref for all ISAs. */
void lk_dequantize_row_isa(int isa, float *out, const void *in, int64_t n, int dtype);
/* out (rows, cols) <- rows consecutive quantised rows. */
void lk_dequantize(float *out, const void *in, int64_t rows, int64_t cols, int dtype, int n_threads);
/* Quantise one row (reference rounding as ggml's *_ref functions); used for tests and conversion. */
void lk_quantize_row_ref(void *out, const float *in, int64_t n, int dtype);

/* Y (M,N) = X (M,K) * W^T + beta*Y, W is (N,K) in dtype. Blocks are dequantised on the fly, a few rows
 * at a time; the whole matrix is never materialised. beta == 0 overwrites Y. */
void lk_qgemm(float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W,
              int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads);
void lk_qgemm_isa(int isa, float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W,
                  int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads);
void lk_qgemm_ref(float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W,
                  int64_t M, int64_t N, int64_t K, int dtype, float beta);
/* Input gradient of lk_qgemm: dX (M,K) += dY (M,N) * W (N,K). Accumulates. */
void lk_qgemm_backward_input(float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                             int64_t M, int64_t N, int64_t K, int dtype, int n_threads);
void lk_qgemm_backward_input_isa(int isa, float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                                 int64_t M, int64_t N, int64_t K, int dtype, int n_threads);
void lk_qgemm_backward_input_ref(float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                                 int64_t M, int64_t N, int64_t K, int dtype);
#endif

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
/* ---- int8 activations (Q8A) and integer-dot products -------------------------------------------------
 * Q8A: an activation row of K values (K a multiple of 32) as K/32 blocks of 40 bytes:
 *   [0,4) f32 d = max|x|/127 | [4,8) f32 s = d * sum(q) | [8,40) int8 q[32] = x/d rounded to nearest even
 * (computed as x*(1/d); an all-zero block has d = 0 and q = 0). Inputs must be finite. A matrix (M,K) is M such
 * rows back to back (M * K/32 * 40 bytes). The value the product sees is x^ = d*q, |x - x^| <= d/2.
 *
 * lk_qgemm_q8: Y (M,N) = X^ (M,K) * W^T + beta*Y for W (N,K) in Q8_0, Q4_0 or Q4_1 (other dtypes: Y untouched).
 * Per block b it takes the exact integer dot idot = sum_j u_j q_j of the unsigned weight codes u (Q4: the
 * nibble; Q8_0: q_w + 128) with the activation codes and combines in f32:
 *   y += (dw*dx)*idot + c*s   with c = m (Q4_1), -8*dw (Q4_0), -128*dw (Q8_0),
 * which equals sum_j w^_j x^_j of the block. The _ref does the same integer dot products with plain loops and
 * the combine in double; the optimised builds agree with it to f32 rounding of that combine (docs/kernels/
 * int8-gemm.md). Results do not depend on n_threads. */
enum { LK_Q8A_BLOCK_BYTES = 40 };
int64_t lk_q8a_row_bytes(int64_t K);      /* K/32 * 40 (K a multiple of 32) */
/* Xq (M rows of Q8A) <- X (M,K; ldx). Bit-identical to the _ref for every ISA. */
void lk_quantize_q8a(void *Xq, const float *X, int64_t ldx, int64_t M, int64_t K, int n_threads);
void lk_quantize_q8a_isa(int isa, void *Xq, const float *X, int64_t ldx, int64_t M, int64_t K, int n_threads);
void lk_quantize_q8a_ref(void *Xq, const float *X, int64_t ldx, int64_t M, int64_t K);
/* X^ (M,K) <- Xq: the values the integer product sees (tests, error bounds). */
void lk_dequantize_q8a_ref(float *X, const void *Xq, int64_t M, int64_t K);
int lk_qgemm_q8_supports(int dtype);      /* 1 for Q8_0, Q4_0, Q4_1 */
void lk_qgemm_q8(float *Y, int64_t ldy, const void *Xq, const void *W,
                 int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads);
void lk_qgemm_q8_ref(float *Y, int64_t ldy, const void *Xq, const void *W,
                     int64_t M, int64_t N, int64_t K, int dtype, float beta);
/* Explicit code path (tests): the ISA's best integer path, clamped to what the CPU has. */
void lk_qgemm_q8_isa(int isa, float *Y, int64_t ldy, const void *Xq, const void *W,
                     int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads);
/* Integer paths: 0 generic C, 1 AVX2 vpmaddubsw, 2 AVX-VNNI (256-bit vpdpbusd), 3 AVX512-VNNI. A path the
 * CPU lacks falls back to the next lower one it has (Q8_0 on path 1 runs path 0: its codes reach 255 and
 * vpmaddubsw would saturate). lk_qgemm_q8_path_name(lk_qgemm_q8_path_clamp(p)) names what runs. */
enum { LK_Q8_PATH_GENERIC = 0, LK_Q8_PATH_AVX2 = 1, LK_Q8_PATH_AVX_VNNI = 2, LK_Q8_PATH_AVX512_VNNI = 3 };
int lk_qgemm_q8_path_clamp(int path);
int lk_qgemm_q8_path_active(void);        /* the path lk_qgemm_q8 takes (follows LEADER_ISA) */
const char *lk_qgemm_q8_path_name(int path);
void lk_qgemm_q8_path(int path, float *Y, int64_t ldy, const void *Xq, const void *W,
                      int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads);
#endif

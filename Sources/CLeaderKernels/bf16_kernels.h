/* Internal to the bf16 products (lk_bf16.h): the AVX-512 conversions (bf16_avx512.c), the AMX leaf functions
 * (bf16_amx.c) and the VDPBF16PS leaf (bf16_dpbf16.c), each reached from bf16.c only once the CPU was checked
 * for it (lk_bf16_path_clamp). */
#ifndef LK_BF16_KERNELS_H
#define LK_BF16_KERNELS_H
#include <stdint.h>

/* A (rows, lda) bf16 <- X (rows, K) f32 rounded to nearest even; columns K..lda-1 are set to 0. */
void lk_bf16_convert_rows_avx512(uint16_t *A, int64_t lda, const float *X, int64_t ldx, int rows, int64_t K);

/* One 16-column panel (lk_bf16.h layout) from `rows` (<= 16) rows of W; bitwise the portable packer. */
void lk_bf16_pack_panel_avx512(uint16_t *panel, const float *W, int64_t ldw, int rows, int64_t K);

/* Transposed packing (input gradients, the reduction runs over W's rows): the 32-deep tile of every 16-column
 * panel of Wᵀ from `rows` (<= 32) consecutive rows of W (K wide, ldw apart; missing rows are zero): for panel
 * q (at panels + q·panel_stride) row p holds the pairs (W[2p][16q + c], W[2p+1][16q + c]), c < 16 (zero past K). */
void lk_bf16_pack_tile_t_avx512(uint16_t *panels, int64_t panel_stride, const float *Wr, int64_t ldw, int rows,
                                int64_t K);

/* One block of up to 32 rows against npan packed panels (columns 0..ncols-1 of Y are valid):
 *   Y[r][n] = g(beta·Y[r][n] + (Σ_k A[r][k]·B[k][n] + bias[n]))    for r < rows, n < ncols
 * with g = GELU (tanh form) when gelu != 0, else the identity; or, when rowp != NULL (Y, ldy, beta unused),
 *   rowp[r][n] += g(Σ_k A[r][k]·B[k][n] + bias[n])      (rows in order: several rows may share a destination)
 * A: 32 rows of lda bf16 (rows >= `rows` are read but their results discarded); panels: consecutive
 * 16-column panels of Kp/32 tiles; cbuf: 32 × 32 f32 scratch. Loads the tile configuration
 * on entry unless it is already loaded; leaves the tile state in use (lk_bf16_amx_release ends it). */
void lk_bf16_amx_block(float *Y, int64_t ldy, const uint16_t *A, int64_t lda, int rows, const uint16_t *panels,
                       int64_t npan, int64_t ncols, int64_t Kp, const float *bias, float beta, int gelu,
                       float *const *rowp, float *cbuf);
/* The same block on AVX512-BF16 (VDPBF16PS; no tile state, no cbuf): any number of rows (they are taken 6 at a
 * time; A holds exactly `rows` rows). */
void lk_bf16_dp_block(float *Y, int64_t ldy, const uint16_t *A, int64_t lda, int rows, const uint16_t *panels,
                      int64_t npan, int64_t ncols, int64_t Kp, const float *bias, float beta, int gelu,
                      float *const *rowp);
/* TILERELEASE: the thread's tile registers back to their initial state. */
void lk_bf16_amx_release(void);
#endif

/* bf16 products: Y = bf16(X) · bf16(W)^T, products of bf16 operands accumulated in f32 (the arithmetic of
 * PyTorch's bf16 autocast on CPU), on Intel AMX tiles (TDPBF16PS) where the CPU and the kernel allow it, else
 * with AVX512-BF16 dot products (VDPBF16PS) where the CPU has them, else on a portable loop with the same
 * rounding of the operands. An opt-in precision: the fp32 kernels stay the default. Page:
 * docs/kernels/bf16.md.
 *
 * bf16(v) is lk_f32_to_bf16 (lk_quant.h: nearest even; inputs must be finite). Each output element is
 * one dot product over K in a fixed order whatever M, N or n_threads are, so results are reproducible; the
 * AMX and portable paths differ only in f32 rounding of that sum (both are within (K/2 + 2)·2^-24·Σ|a·b| of
 * the exact sum of the rounded products: tests). VDPBF16PS also treats subnormal bf16 inputs and f32 sums as
 * zero (below 1.2e-38 in magnitude).
 *
 * Packed weight ("bf16 panels", the TDPBF16PS B operand): W (N,K) as ceil(N/16) panels of 16 columns; K is
 * padded with zeros to Kp = a multiple of 32 and N to a multiple of 16 with zero columns. A panel is Kp/32
 * tiles of 16 rows × 64 bytes; row p of tile t holds, for each column n of the panel, the pair
 * (W[n][32t + 2p], W[n][32t + 2p + 1]). Kernels never fail and allocate only lk_thread_workspace. */
#ifndef LK_BF16_H
#define LK_BF16_H
#include <stdint.h>

/* The paths (LK_KFAM_BF16's numbers in lk_paths.h): portable C everywhere; AMX tiles; VDPBF16PS (AVX512-BF16:
 * AMD Zen 4 and later, Intel Cooper Lake). Same operand rounding, same error bound. */
enum { LK_BF16_PATH_PORTABLE = 0, LK_BF16_PATH_AMX = 1, LK_BF16_PATH_AVX512_BF16 = 2 };

/* 1 when this process can run AMX-BF16: CPUID has AMX-TILE and AMX-BF16, the OS enables the tile state
 * (XCR0) and grants it to the process (Linux arch_prctl ARCH_REQ_XCOMP_PERM, asked once, process-wide).
 * LEADER_ISA below avx512 or LEADER_AMX=0 turn it off. Fixed after the first call. */
int lk_amx_available(void);
/* `path` when this process can run it, else LK_BF16_PATH_PORTABLE. AVX512-BF16 needs CPUID's flag and
 * LEADER_ISA at avx512 (the default where the CPU has AVX-512). Fixed after the first call. */
int lk_bf16_path_clamp(int path);
/* The path the plain kernels take: AMX where available, else AVX512-BF16, else portable. */
int lk_bf16_path_active(void);
/* "portable", "amx" or "avx512-bf16" (anything else: "portable"). */
const char *lk_bf16_path_name(int path);
/* Ends the calling thread's use of the tile registers (TILERELEASE; no-op without AMX). The serial
 * lk_bf16_linear_forward leaves them configured so that the next call skips the ~200-cycle configuration: a
 * caller that makes a burst of calls (an inference session's pass) calls this when the burst is over, so an
 * idle thread holds no tile state. The OpenMP drivers release on their own. */
void lk_amx_release(void);

int64_t lk_bf16_padded_k(int64_t K);             /* Kp: K rounded up to 32 */
int64_t lk_bf16_packed_elems(int64_t N, int64_t K);   /* uint16 elements of a packed (N,K) weight */
/* packed <- W (N,K), rows ldw apart. */
void lk_bf16_pack(uint16_t *packed, const float *W, int64_t ldw, int64_t N, int64_t K);

/* Serial (no OpenMP region; for inference sessions): Y (M,N) (rows ldy apart) = g(beta·Y + bf16(X) bf16(W)^T
 * + bias) with bias (N) may be NULL, X (M,K) rows ldx apart, W packed by lk_bf16_pack; beta 0: Y is not read.
 * g = GELU, tanh form (x / (1 + exp(-2·sqrt(2/pi)·(x + 0.044715 x³)))) when gelu != 0, else the identity; the
 * AMX and AVX512-BF16 epilogue evaluates it to ~1e-4 relative (fast exp2 and reciprocal: below the 2^-9 bf16 rounding the next
 * product applies), the portable path with libm's expf.
 * scratch: lk_bf16_scratch_bytes(K) bytes (any alignment). */
int64_t lk_bf16_scratch_bytes(int64_t K);
void lk_bf16_linear_forward(float *Y, int64_t ldy, const float *X, int64_t ldx, const uint16_t *packed,
                            const float *bias, int64_t M, int64_t N, int64_t K, float beta, int gelu, void *scratch);
/* The same with an explicit LK_BF16_PATH_* (tests, benchmarks), clamped by lk_bf16_path_clamp. */
void lk_bf16_linear_forward_path(int path, float *Y, int64_t ldy, const float *X, int64_t ldx,
                                 const uint16_t *packed, const float *bias, int64_t M, int64_t N, int64_t K,
                                 float beta, int gelu, void *scratch);
/* A FFN's first layer and the pooling after it in one pass (serial): P (n_sets, N) (rows ldp apart) = the mean
 * over each ragged set's rows of GELU(bf16(X) bf16(W)^T + bias); set s is rows offsets[s] - offsets[0] ..
 * offsets[s+1] - offsets[0] of X (n_sets + 1 non-decreasing offsets; X points at row offsets[0] of the ragged
 * batch, so a slice of a larger offsets array can be passed as is); an empty set gives 0. Bitwise what lk_bf16_linear_forward with
 * gelu followed by lk_segment_mean_forward gives (same sums in row order, then × 1/len), without writing the
 * (rows, N) activations. scratch: lk_bf16_scratch_bytes(K). */
void lk_bf16_linear_gelu_mean(float *P, int64_t ldp, const float *X, int64_t ldx, const uint16_t *packed,
                              const float *bias, const int32_t *offsets, int64_t n_sets, int64_t N, int64_t K,
                              void *scratch);
void lk_bf16_linear_gelu_mean_path(int path, float *P, int64_t ldp, const float *X, int64_t ldx, const uint16_t *packed,
                                   const float *bias, const int32_t *offsets, int64_t n_sets, int64_t N, int64_t K,
                                   void *scratch);
/* Oracle: W unpacked (N,K; ldw), both operands rounded to bf16, products, bias, beta·Y and GELU in double. */
void lk_bf16_linear_forward_ref(float *Y, int64_t ldy, const float *X, int64_t ldx, const float *W, int64_t ldw,
                                const float *bias, int64_t M, int64_t N, int64_t K, float beta, int gelu);

/* Quantised weights (lk_quant.h dtypes F32 … Q4_1): Y (M,N) = beta·Y + bf16(X) bf16(W^)^T, W^ the dequantised
 * weight (N,K) in dtype, never dequantised as a whole: each thread turns its 16-column panels into bf16 tiles
 * in its lk_thread_workspace slice, then runs every row of X against them (QLoRA-style storage). OpenMP over
 * panels. When no workspace can be had it falls back to lk_qgemm (exact f32 products). */
void lk_qgemm_bf16(float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W, int64_t M, int64_t N,
                   int64_t K, int dtype, float beta, int n_threads);
void lk_qgemm_bf16_path(int path, float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W, int64_t M,
                        int64_t N, int64_t K, int dtype, float beta, int n_threads);
/* Input gradient through a quantised weight: dX (M,K) += bf16(dY) (M,N) · bf16(W^) (N,K) (accumulates; the
 * rounding, sums and determinism as above, the reduction now over N). W^ is converted per call, as a whole,
 * into transposed bf16 panels (N·K·2 bytes of workspace, rows split over the threads), then threads split the
 * columns of dX. Falls back to lk_qgemm_backward_input when no workspace can be had. */
void lk_qgemm_bf16_backward_input(float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W, int64_t M,
                                  int64_t N, int64_t K, int dtype, int n_threads);
void lk_qgemm_bf16_backward_input_path(int path, float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                                       int64_t M, int64_t N, int64_t K, int dtype, int n_threads);
#endif

/* Serial kernels for inference sessions (one thread each; no OpenMP region is entered, so a session costs no
 * runtime overhead per call). They work on ragged ("packed") rows: the tokens of many sets or sequences are
 * stored back to back and `offsets` (n+1 increasing values, offsets[0] = 0) delimit them, so there is no
 * padding anywhere. Used by the student's serving forward pass (LeaderCore/Student/PackedStudent.swift,
 * StudentForwardPass.swift).
 *
 * Linear layers with pre-packed weights: lk_linear_pack_isa rearranges a PyTorch-layout weight W (N,K) once into
 * the GEMM micro-kernel's panel layout for an ISA (LK_ISA_*, clamped); lk_linear_packed_forward_isa then computes
 * Y = X W^T + bias without packing W again. The packed buffer is only valid with the ISA it was packed for.
 * Callers validate sizes; kernels never fail. */
#ifndef LK_INFER_H
#define LK_INFER_H
#include <stdint.h>

/* Floats of a packed (N,K) weight for `isa`. */
int64_t lk_linear_packed_floats_isa(int isa, int64_t N, int64_t K);
/* Floats of the scratch lk_linear_packed_forward_isa needs for K inputs (any ISA). */
int64_t lk_linear_scratch_floats(int64_t K);
void lk_linear_pack_isa(int isa, float *packed /* lk_linear_packed_floats_isa */, const float *W /* (N,K) */,
                        int64_t N, int64_t K);
/* Y (M,N) (rows ldy apart) = X (M,K) (rows ldx apart) W^T + bias (N, may be NULL), or Y += ... when
 * accumulate != 0. Each Y element is one fixed-order dot product over K, whatever M is. */
void lk_linear_packed_forward_isa(int isa, float *Y, int64_t ldy, const float *X, int64_t ldx,
                                  const float *packed, const float *bias, int64_t M, int64_t N, int64_t K,
                                  int accumulate, float *scratch /* lk_linear_scratch_floats(K) */);
/* P (n_sets, N) (rows ldp apart) = the mean over each set's rows of GELU_tanh(X W^T + bias), the sets given by
 * n_sets + 1 increasing offsets into X's rows (the first may be nonzero: X is its row); P of an empty set is 0.
 * Bitwise the same as lk_linear_packed_forward_isa, lk_activation_forward (GELU) and lk_segment_mean_forward_isa
 * in turn, without the (rows, N) intermediates. */
int64_t lk_linear_gelu_mean_scratch_floats(int64_t N, int64_t K);
void lk_linear_gelu_mean_packed_isa(int isa, float *P, int64_t ldp, const float *X, int64_t ldx, const float *packed,
                                    const float *bias, const int32_t *offsets, int64_t n_sets, int64_t N, int64_t K,
                                    float *scratch /* lk_linear_gelu_mean_scratch_floats(N, K) */);
/* Oracle: the same with the unpacked W (N,K), double accumulation. */
void lk_linear_forward_ref(float *Y, int64_t ldy, const float *X, int64_t ldx, const float *W, const float *bias,
                           int64_t M, int64_t N, int64_t K, int accumulate);

/* Multi-head attention inside each of n_sets ragged sets (every token attends to every token of its set, no
 * mask needed): token t's q | k | v (each H*D wide) is row t of qkv, or row rows[t] when rows != NULL (read in
 * place from a table, e.g. the student's per-code q|k|v, instead of gathered first); rows are ldq apart. out
 * rows (offsets[n_sets], ldo) get the H heads side by side. Softmax of scale * q.k. Empty sets are skipped.
 * The `_isa` twin runs the given ISA's build (lk_isa.h). scratch: lk_set_attention_scratch_floats(longest set, D). */
int64_t lk_set_attention_scratch_floats(int64_t max_len, int64_t D);
void lk_set_attention_forward(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                              const int32_t *offsets, int64_t n_sets, int64_t H, int64_t D, float scale,
                              float *scratch);
void lk_set_attention_forward_isa(int isa, float *out, int64_t ldo, const float *qkv, int64_t ldq,
                                  const int32_t *rows, const int32_t *offsets, int64_t n_sets, int64_t H, int64_t D,
                                  float scale, float *scratch);
void lk_set_attention_forward_ref(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                                  const int32_t *offsets, int64_t n_sets, int64_t H, int64_t D, float scale);

/* out (n_sets, C) = mean over each set's rows of in (offsets[n_sets], C); an empty set gives 0. */
void lk_segment_mean_forward(float *out, const float *in, const int32_t *offsets, int64_t n_sets, int64_t C);
void lk_segment_mean_forward_isa(int isa, float *out, const float *in, const int32_t *offsets, int64_t n_sets,
                                 int64_t C);
void lk_segment_mean_forward_ref(float *out, const float *in, const int32_t *offsets, int64_t n_sets, int64_t C);

/* Gathers, LayerNorm and activations come from lk_ops.h with n_threads = 1: those kernels enter no OpenMP
 * region for one thread. (Give them distinct out and in: in place is correct but runs the compiler's scalar
 * fallback loop.) */
#endif

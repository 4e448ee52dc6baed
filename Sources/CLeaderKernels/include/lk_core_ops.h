/* Layout and pooling kernels used by the autodiff layer (LeaderCore/NN): fill, column copies for concat/split,
 * the (A,B,C,D) <-> (A,C,B,D) axis swap used by attention, masked mean-pool over right-padded sets, and the
 * per-row valid lengths that turn key-padding and causal masks into lk_softmax_forward's row_len.
 *
 * Conventions as lk_ops.h: outputs first, then inputs, then dims, then n_threads (< 1 means 1); each kernel
 * has a naive `_ref` twin (the test oracle); backward kernels ACCUMULATE (+=); results are bitwise identical
 * for any n_threads (every output element is written by exactly one thread, in a fixed order); kernels
 * never allocate, log or fail; callers validate sizes. Lengths are clamped to [0, T]. */
#ifndef LK_CORE_OPS_H
#define LK_CORE_OPS_H
#include <stdint.h>

/* out[i] = value for i in [0,n). */
void lk_fill(float *out, float value, int64_t n, int n_threads);
void lk_fill_ref(float *out, float value, int64_t n);

/* out[i] = i for i in [0,n) (targets of InfoNCE: the diagonal). */
void lk_iota_i32(int32_t *out, int64_t n, int n_threads);
void lk_iota_i32_ref(int32_t *out, int64_t n);

/* Index of the first x[i] outside [lo, hi), or -1 when all are inside (validating ids, lengths, targets
 * without a Swift loop). Serial: the answer is the first index whatever the thread count. */
int64_t lk_find_out_of_range_i32(const int32_t *x, int64_t n, int32_t lo, int32_t hi);

/* Column block copy: out[r*ld_out + c] = in[r*ld_in + c] for r<rows, c<cols (concat / split along the last
 * dim: pass pointers already offset to the column block). accumulate != 0 adds instead (the backward). */
void lk_copy_cols(float *out, int64_t ld_out, const float *in, int64_t ld_in, int64_t rows, int64_t cols,
                  int accumulate, int n_threads);
void lk_copy_cols_ref(float *out, int64_t ld_out, const float *in, int64_t ld_in, int64_t rows, int64_t cols,
                      int accumulate);

/* Swap axes 1 and 2: out (A,C,B,D)[a,c,b,d] = in (A,B,C,D)[a,b,c,d]. With (B,T,H,D) in this gives (B,H,T,D).
 * Backward: din (A,B,C,D)[a,b,c,d] += dout (A,C,B,D)[a,c,b,d]. */
void lk_swap12_forward(float *out, const float *in, int64_t A, int64_t B, int64_t C, int64_t D, int n_threads);
void lk_swap12_backward(float *din, const float *dout, int64_t A, int64_t B, int64_t C, int64_t D,
                        int n_threads);
void lk_swap12_forward_ref(float *out, const float *in, int64_t A, int64_t B, int64_t C, int64_t D);
void lk_swap12_backward_ref(float *din, const float *dout, int64_t A, int64_t B, int64_t C, int64_t D);

/* Masked mean over the first len[b] rows of each (T,C) set: out (B,C)[b] = sum_{t<len[b]} in[b,t] / max(len[b],1)
 * (a set of length 0 gives zeros). Backward: din[b,t] += dout[b] / max(len[b],1) for t < len[b]. */
void lk_masked_mean_forward(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C,
                            int n_threads);
void lk_masked_mean_backward(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T, int64_t C,
                             int n_threads);
void lk_masked_mean_forward_ref(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C);
void lk_masked_mean_backward_ref(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T,
                                 int64_t C);

/* Row L2 normalisation (PyTorch F.normalize, p=2): out[r] = in[r] / max(|in[r]|, eps); norm (rows) saved.
 * Backward: din[r] += (dout[r] - out[r]*<out[r],dout[r]>) / norm[r] when norm[r] > eps, else dout[r]/eps. */
void lk_l2_normalize_forward(float *out, float *norm, const float *in, int64_t rows, int64_t C, float eps,
                             int n_threads);
void lk_l2_normalize_backward(float *din, const float *dout, const float *out, const float *norm, int64_t rows,
                              int64_t C, float eps, int n_threads);
void lk_l2_normalize_forward_ref(float *out, float *norm, const float *in, int64_t rows, int64_t C, float eps);
void lk_l2_normalize_backward_ref(float *din, const float *dout, const float *out, const float *norm,
                                  int64_t rows, int64_t C, float eps);

/* Softmax row lengths for attention scores laid out (B,H,T,T): row (b,h,t) gets len[b] (key padding), or
 * min(t+1, len[b]) when causal != 0. row_len is (B*H*T). */
void lk_attention_row_len(int32_t *row_len, const int32_t *len, int64_t B, int64_t H, int64_t T, int causal,
                          int n_threads);
void lk_attention_row_len_ref(int32_t *row_len, const int32_t *len, int64_t B, int64_t H, int64_t T, int causal);
#endif

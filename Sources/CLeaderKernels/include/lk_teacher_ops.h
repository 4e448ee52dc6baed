/* Kernels of the LLM teacher (LeaderCore/Teacher): token embedding lookup from a quantised table, and the
 * gather of one row per sequence (the last prompt token) with its backward. Each parallel loop splits over
 * independent output rows with schedule(static); results do not depend on n_threads. Callers validate
 * sizes; kernels never fail. */
#ifndef LK_TEACHER_OPS_H
#define LK_TEACHER_OPS_H
#include <stddef.h>
#include <stdint.h>

/* out (n_ids,dim) <- rows ids[i] of table (vocab,dim) stored in dtype (lk_quant.h layouts), dequantised.
 * ids[i] < 0 gives a zero row. dim must be a multiple of the dtype's block size. */
void lk_qembedding_forward(float *out, const void *table, const int32_t *ids, int64_t n_ids, int64_t dim,
                           int dtype, int n_threads);
void lk_qembedding_forward_ref(float *out, const void *table, const int32_t *ids, int64_t n_ids, int64_t dim,
                               int dtype);

/* out (B,C) <- in[b, len[b]-1, :] of in (B,T,C); len[b] is clamped to [0,T], a length 0 gives a zero row.
 * Backward: din[b, len[b]-1, :] += dout[b, :] (accumulates). */
void lk_gather_last_forward(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C,
                            int n_threads);
void lk_gather_last_backward(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T, int64_t C,
                             int n_threads);
void lk_gather_last_forward_ref(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C);
void lk_gather_last_backward_ref(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T,
                                 int64_t C);
/* out[r] <- the index of the largest value of row r of x (rows,n) (the first one on ties; NaN never wins
 * unless the whole row is NaN, then 0). */
void lk_argmax_rows(int32_t *out, const float *x, int64_t rows, int64_t n, int n_threads);
void lk_argmax_rows_ref(int32_t *out, const float *x, int64_t rows, int64_t n);
#endif

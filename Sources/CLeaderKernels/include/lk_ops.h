/* Neural-network kernels other than GEMM: normalisation, activations, softmax, embeddings, RoPE, losses,
 * optimiser, dropout.
 *
 * Conventions (STYLE.md §1):
 *  - outputs first, then inputs, then saved activations, then dims, then n_threads (< 1 means 1);
 *  - every `_forward`/`_backward` has a `_ref` twin with the same arguments minus n_threads: naive loops,
 *    the test oracle;
 *  - backward functions ACCUMULATE (+=) into every gradient buffer; zeroing is the caller's job;
 *  - results are bitwise identical for any n_threads (work is split over independent outputs; reductions
 *    run over fixed-size chunks combined in a fixed order);
 *  - kernels never allocate, do I/O, log or fail; callers validate sizes.
 * Shapes are given in comments as (rows, C) etc.; everything is contiguous row-major. */
#ifndef LK_OPS_H
#define LK_OPS_H
#include <stdint.h>

/* ---- ISA selection -----------------------------------------------------------------------------------
 * The optimised kernels below dispatch their row-level math to an AVX-512, AVX2+FMA or portable build
 * (lk_isa.h). Each such kernel has an `_isa` twin taking the build (LK_ISA_*, clamped with lk_isa_clamp);
 * the plain function is the twin with lk_isa_active(). The choice is made once per call, in the calling
 * thread, and handed to the OpenMP workers. */

/* ---- LayerNorm over the last dim: out = (x-mean)*rstd*weight + bias -------------------------------- */
void lk_layernorm_forward(float *out,             /* (rows,C) */
                          float *mean, float *rstd, /* (rows) saved for backward */
                          const float *in,        /* (rows,C) */
                          const float *weight, const float *bias, /* (C); bias may be NULL */
                          int64_t rows, int64_t C, float eps, int n_threads);
void lk_layernorm_forward_isa(int isa, float *out, float *mean, float *rstd, const float *in, const float *weight,
                              const float *bias, int64_t rows, int64_t C, float eps, int n_threads);
void lk_layernorm_backward(float *din,            /* (rows,C) += */
                           float *dweight, float *dbias, /* (C) +=; dbias may be NULL */
                           const float *dout, const float *in, const float *weight,
                           const float *mean, const float *rstd,
                           int64_t rows, int64_t C, int n_threads);
void lk_layernorm_backward_isa(int isa, float *din, float *dweight, float *dbias, const float *dout, const float *in,
                               const float *weight, const float *mean, const float *rstd, int64_t rows, int64_t C,
                               int n_threads);
void lk_layernorm_forward_ref(float *out, float *mean, float *rstd, const float *in, const float *weight,
                              const float *bias, int64_t rows, int64_t C, float eps);
void lk_layernorm_backward_ref(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                               const float *weight, const float *mean, const float *rstd,
                               int64_t rows, int64_t C);

/* ---- RMSNorm: out = x * rstd * weight, rstd = 1/sqrt(mean(x^2)+eps) --------------------------------- */
void lk_rmsnorm_forward(float *out, float *rstd /* (rows) */, const float *in, const float *weight,
                        int64_t rows, int64_t C, float eps, int n_threads);
void lk_rmsnorm_forward_isa(int isa, float *out, float *rstd, const float *in, const float *weight, int64_t rows,
                            int64_t C, float eps, int n_threads);
void lk_rmsnorm_backward(float *din, float *dweight /* may be NULL (frozen) */, const float *dout,
                         const float *in, const float *weight, const float *rstd,
                         int64_t rows, int64_t C, int n_threads);
void lk_rmsnorm_backward_isa(int isa, float *din, float *dweight, const float *dout, const float *in,
                             const float *weight, const float *rstd, int64_t rows, int64_t C, int n_threads);
void lk_rmsnorm_forward_ref(float *out, float *rstd, const float *in, const float *weight,
                            int64_t rows, int64_t C, float eps);
void lk_rmsnorm_backward_ref(float *din, float *dweight, const float *dout, const float *in,
                             const float *weight, const float *rstd, int64_t rows, int64_t C);

/* ---- Pointwise activations: out = f(in); backward din += dout * f'(in) ---------------------------- */
enum { LK_ACT_RELU = 0, LK_ACT_GELU_TANH = 1, LK_ACT_SILU = 2, LK_ACT_TANH = 3, LK_ACT_SIGMOID = 4 };
void lk_activation_forward(float *out, const float *in, int64_t n, int act, int n_threads);
void lk_activation_forward_isa(int isa, float *out, const float *in, int64_t n, int act, int n_threads);
void lk_activation_backward(float *din, const float *dout, const float *in, int64_t n, int act, int n_threads);
void lk_activation_backward_isa(int isa, float *din, const float *dout, const float *in, int64_t n, int act,
                                int n_threads);
void lk_activation_forward_ref(float *out, const float *in, int64_t n, int act);
void lk_activation_backward_ref(float *din, const float *dout, const float *in, int64_t n, int act);

/* SwiGLU: out = silu(gate) * up; backward dgate += dout*up*silu'(gate), dup += dout*silu(gate). */
void lk_swiglu_forward(float *out, const float *gate, const float *up, int64_t n, int n_threads);
void lk_swiglu_forward_isa(int isa, float *out, const float *gate, const float *up, int64_t n, int n_threads);
void lk_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                        int64_t n, int n_threads);
void lk_swiglu_backward_isa(int isa, float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            int64_t n, int n_threads);
void lk_swiglu_forward_ref(float *out, const float *gate, const float *up, int64_t n);
void lk_swiglu_backward_ref(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            int64_t n);

/* ---- Softmax over the last dim of (rows,n), of in*scale -------------------------------------------
 * row_len (rows) may be NULL; otherwise row r uses only its first row_len[r] entries (key padding and
 * causal masks both reduce to this for right-padded sequences) and writes 0 to the rest; a row with
 * length <= 0 is all zeros. Backward: din += scale * out * (dout - sum(dout*out)). */
void lk_softmax_forward(float *out, const float *in, const int32_t *row_len,
                        int64_t rows, int64_t n, float scale, int n_threads);
void lk_softmax_forward_isa(int isa, float *out, const float *in, const int32_t *row_len, int64_t rows, int64_t n,
                            float scale, int n_threads);
void lk_softmax_backward(float *din, const float *dout, const float *out,
                         int64_t rows, int64_t n, float scale, int n_threads);
void lk_softmax_backward_isa(int isa, float *din, const float *dout, const float *out, int64_t rows, int64_t n,
                             float scale, int n_threads);
void lk_softmax_forward_ref(float *out, const float *in, const int32_t *row_len, int64_t rows, int64_t n,
                            float scale);
void lk_softmax_backward_ref(float *din, const float *dout, const float *out, int64_t rows, int64_t n,
                             float scale);

/* ---- Embedding: out[i,:] = table[ids[i],:]; ids[i] < 0 gives a zero row (padding) ------------------
 * Backward scatter-adds dout rows into dtable rows (skipping negative ids); split over columns and id ranges,
 * each part visiting the ids in order, so the order of additions per element is fixed. */
void lk_embedding_forward(float *out /* (n_ids,dim) */, const float *table /* (vocab,dim) */,
                          const int32_t *ids, int64_t n_ids, int64_t dim, int n_threads);
void lk_embedding_backward(float *dtable /* (vocab,dim) += */, const float *dout /* (n_ids,dim) */,
                           const int32_t *ids, int64_t n_ids, int64_t dim, int n_threads);
void lk_embedding_forward_ref(float *out, const float *table, const int32_t *ids, int64_t n_ids, int64_t dim);
void lk_embedding_backward_ref(float *dtable, const float *dout, const int32_t *ids, int64_t n_ids, int64_t dim);

/* ---- Rotary position embedding on x (B,T,H,D), position of token t = pos[b*T+t] --------------------
 * angle(p, i) = p * theta^(-2i/D), i in [0, D/2).
 * LK_ROPE_ADJACENT rotates pairs (x[2i], x[2i+1]) (GGUF / Meta layout);
 * LK_ROPE_HALF rotates pairs (x[i], x[i+D/2]) (Hugging Face rotate_half layout).
 * Backward applies the inverse rotation to dout and accumulates into din. In-place forward (out == in) is
 * allowed. */
enum { LK_ROPE_ADJACENT = 0, LK_ROPE_HALF = 1 };
void lk_rope_forward(float *out, const float *in, const int32_t *pos /* (B*T) */,
                     int64_t B, int64_t T, int64_t H, int64_t D, float theta, int layout, int n_threads);
void lk_rope_backward(float *din, const float *dout, const int32_t *pos,
                      int64_t B, int64_t T, int64_t H, int64_t D, float theta, int layout, int n_threads);
void lk_rope_forward_ref(float *out, const float *in, const int32_t *pos, int64_t B, int64_t T, int64_t H,
                         int64_t D, float theta, int layout);
void lk_rope_backward_ref(float *din, const float *dout, const int32_t *pos, int64_t B, int64_t T, int64_t H,
                          int64_t D, float theta, int layout);

/* ---- Losses (forward writes the MEAN over elements / rows into *loss) ------------------------------ */
/* BCE with logits: mean_i w_i*[ max(x,0) - x*t + log(1+exp(-|x|)) ]; weights (n) may be NULL (all 1).
 * Backward: dlogits += dloss * w_i * (sigmoid(x_i) - t_i) / n. */
void lk_bce_logits_forward(float *loss, const float *logits, const float *targets, const float *weights,
                           int64_t n, int n_threads);
void lk_bce_logits_forward_isa(int isa, float *loss, const float *logits, const float *targets, const float *weights,
                               int64_t n, int n_threads);
void lk_bce_logits_backward(float *dlogits, float dloss, const float *logits, const float *targets,
                            const float *weights, int64_t n, int n_threads);
void lk_bce_logits_backward_isa(int isa, float *dlogits, float dloss, const float *logits, const float *targets,
                                const float *weights, int64_t n, int n_threads);
void lk_bce_logits_forward_ref(float *loss, const float *logits, const float *targets, const float *weights,
                               int64_t n);
void lk_bce_logits_backward_ref(float *dlogits, float dloss, const float *logits, const float *targets,
                                const float *weights, int64_t n);

/* MSE: mean (a-b)^2. Backward: da += dloss*2(a-b)/n; db (may be NULL) -= the same. */
void lk_mse_forward(float *loss, const float *a, const float *b, int64_t n, int n_threads);
void lk_mse_backward(float *da, float *db, float dloss, const float *a, const float *b, int64_t n, int n_threads);
void lk_mse_forward_ref(float *loss, const float *a, const float *b, int64_t n);
void lk_mse_backward_ref(float *da, float *db, float dloss, const float *a, const float *b, int64_t n);

/* DDI penalty (SafeDrug-style) over (rows,M) logits and a symmetric interaction graph in CSR form (offsets (M+1),
 * neighbours: the ids each medication interacts with, both directions listed). probs (rows,M) = sigmoid(logits)
 * is saved for backward. loss = mean over rows of sum over pairs i < j of p_i * p_j.
 * Backward: dlogits[r,i] += dloss * (sum over neighbours j of p_rj) * p_ri * (1 - p_ri) / rows. */
void lk_ddi_penalty_forward(float *loss, float *probs, const float *logits, const int32_t *offsets,
                            const int32_t *neighbours, int64_t rows, int64_t M, int n_threads);
void lk_ddi_penalty_backward(float *dlogits, float dloss, const float *probs, const int32_t *offsets,
                             const int32_t *neighbours, int64_t rows, int64_t M, int n_threads);
void lk_ddi_penalty_forward_ref(float *loss, float *probs, const float *logits, const int32_t *offsets,
                                const int32_t *neighbours, int64_t rows, int64_t M);
void lk_ddi_penalty_backward_ref(float *dlogits, float dloss, const float *probs, const int32_t *offsets,
                                 const int32_t *neighbours, int64_t rows, int64_t M);

/* Softmax cross-entropy over (rows,C) logits with one target class per row (InfoNCE is this over a
 * similarity matrix / temperature with targets = diagonal). probs (rows,C) is saved for backward.
 * loss = mean over rows with target >= 0 of -log p[target]; rows with target < 0 are ignored.
 * Backward: dlogits[r] += dloss * (p[r] - onehot(target[r])) / n_valid. */
void lk_cross_entropy_forward(float *loss, float *probs, const float *logits, const int32_t *targets,
                              int64_t rows, int64_t C, int n_threads);
void lk_cross_entropy_forward_isa(int isa, float *loss, float *probs, const float *logits, const int32_t *targets,
                                  int64_t rows, int64_t C, int n_threads);
void lk_cross_entropy_backward(float *dlogits, float dloss, const float *probs, const int32_t *targets,
                               int64_t rows, int64_t C, int n_threads);
void lk_cross_entropy_forward_ref(float *loss, float *probs, const float *logits, const int32_t *targets,
                                  int64_t rows, int64_t C);
void lk_cross_entropy_backward_ref(float *dlogits, float dloss, const float *probs, const int32_t *targets,
                                   int64_t rows, int64_t C);

/* ---- Optimiser -------------------------------------------------------------------------------------
 * Sum of squares (for the global gradient norm), in double over fixed chunks. */
double lk_sum_squares(const float *x, int64_t n, int n_threads);
double lk_sum_squares_isa(int isa, const float *x, int64_t n, int n_threads);
double lk_sum_squares_ref(const float *x, int64_t n);

/* One Adam/AdamW step (PyTorch semantics) on n parameters. g = grad*grad_scale (grad_scale implements
 * clipping: min(1, max_norm/global_norm)). decoupled != 0: AdamW, p -= lr*wd*p before the update;
 * decoupled == 0: Adam with L2, g += wd*p. step is 1-based (bias correction 1-beta^step).
 * m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps). */
void lk_adam_step(float *param, float *m, float *v, const float *grad, int64_t n, float lr, float beta1,
                  float beta2, float eps, float weight_decay, int decoupled, int64_t step, float grad_scale,
                  int n_threads);
void lk_adam_step_isa(int isa, float *param, float *m, float *v, const float *grad, int64_t n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, int decoupled, int64_t step, float grad_scale,
                      int n_threads);
void lk_adam_step_ref(float *param, float *m, float *v, const float *grad, int64_t n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, int decoupled, int64_t step, float grad_scale);

/* ---- Counter-based random numbers and dropout ------------------------------------------------------
 * Element i uses counter (offset + i) hashed with seed, so results depend only on (seed, offset, i):
 * reproducible and independent of the thread count. Dropout keeps an element with probability 1-p and
 * scales it by 1/(1-p); backward recomputes the same mask (din += dout*mask/(1-p)). p >= 1 drops all. */
float lk_rng_uniform(uint64_t seed, uint64_t counter);        /* in [0,1) */
void lk_rng_fill_uniform(float *out, int64_t n, float lo, float hi, uint64_t seed, uint64_t offset, int n_threads);
void lk_rng_fill_uniform_isa(int isa, float *out, int64_t n, float lo, float hi, uint64_t seed, uint64_t offset,
                             int n_threads);
void lk_rng_fill_normal(float *out, int64_t n, float mean, float std, uint64_t seed, uint64_t offset, int n_threads);
void lk_dropout_forward(float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset,
                        int n_threads);
void lk_dropout_forward_isa(int isa, float *out, const float *in, int64_t n, float p, uint64_t seed,
                            uint64_t offset, int n_threads);
void lk_dropout_backward(float *din, const float *dout, int64_t n, float p, uint64_t seed, uint64_t offset,
                         int n_threads);
void lk_dropout_backward_isa(int isa, float *din, const float *dout, int64_t n, float p, uint64_t seed,
                             uint64_t offset, int n_threads);
void lk_dropout_forward_ref(float *out, const float *in, int64_t n, float p, uint64_t seed, uint64_t offset);
void lk_dropout_backward_ref(float *din, const float *dout, int64_t n, float p, uint64_t seed, uint64_t offset);

/* ---- Small tensor helpers used by the autodiff layer -------------------------------------------------
 * y += alpha*x;  out = a + b;  out = a * b (elementwise);  bias: out(rows,C) += bias(C);
 * column sums: dbias(C) += sum over rows of dout(rows,C) (split over columns: thread-invariant). */
void lk_axpy(float *y, const float *x, float alpha, int64_t n, int n_threads);
void lk_add(float *out, const float *a, const float *b, int64_t n, int n_threads);
void lk_mul(float *out, const float *a, const float *b, int64_t n, int n_threads);
void lk_scale(float *out, const float *in, float alpha, int64_t n, int n_threads);
void lk_add_bias(float *out, const float *bias, int64_t rows, int64_t C, int n_threads);
void lk_sum_rows(float *dbias, const float *dout, int64_t rows, int64_t C, int n_threads);
#endif

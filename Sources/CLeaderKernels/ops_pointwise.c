/* Pointwise activations, SwiGLU, softmax and the small tensor helpers (lk_ops.h). Elementwise work is split
 * into fixed blocks; softmax runs rows in parallel. The math is dispatched per ISA (ops_rows.h). */
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"

void lk_activation_forward_isa(int isa, float *out, const float *in, int64_t n, int act, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, n);
    if (nt == 1) {   /* elementwise: one call over all n is the same as the blocks, without an OpenMP region */
        k->act_fwd(out, in, n, act);
        return;
    }
    int64_t nb = ops_ew_blocks(n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->act_fwd(out + i0, in + i0, len, act);
    }
}

void lk_activation_backward_isa(int isa, float *din, const float *dout, const float *in, int64_t n, int act,
                                int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, n);
    int64_t nb = ops_ew_blocks(n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->act_bwd(din + i0, dout + i0, in + i0, len, act);
    }
}

void lk_swiglu_forward_isa(int isa, float *out, const float *gate, const float *up, int64_t n, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, n);
    int64_t nb = ops_ew_blocks(n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->swiglu_fwd(out + i0, gate + i0, up + i0, len);
    }
}

void lk_swiglu_backward_isa(int isa, float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            int64_t n, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, n);
    int64_t nb = ops_ew_blocks(n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->swiglu_bwd(dgate + i0, dup + i0, dout + i0, gate + i0, up + i0, len);
    }
}

void lk_softmax_forward_isa(int isa, float *out, const float *in, const int32_t *row_len, int64_t rows, int64_t n,
                            float scale, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, rows * n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t len = row_len ? row_len[r] : n;
        if (len > n) len = n;
        if (len <= 0) {
            for (int64_t j = 0; j < n; j++) out[r * n + j] = 0.0f;
        } else {
            k->softmax_fwd(out + r * n, in + r * n, len, n, scale);
        }
    }
}

void lk_softmax_backward_isa(int isa, float *din, const float *dout, const float *out, int64_t rows, int64_t n,
                             float scale, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, rows * n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) k->softmax_bwd(din + r * n, dout + r * n, out + r * n, n, scale);
}

/* ---- small helpers (memory bound: baseline vectorisation is enough) ------------------------------ */
void lk_axpy(float *y, const float *x, float alpha, int64_t n, int n_threads) {
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

void lk_add(float *out, const float *a, const float *b, int64_t n, int n_threads) {
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void lk_mul(float *out, const float *a, const float *b, int64_t n, int n_threads) {
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] * b[i];
}

void lk_scale(float *out, const float *in, float alpha, int64_t n, int n_threads) {
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = alpha * in[i];
}

void lk_add_bias(float *out, const float *bias, int64_t rows, int64_t C, int n_threads) {
    int nt = ops_threads(n_threads, rows * C);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < C; j++) out[r * C + j] += bias[j];
}

void lk_sum_rows(float *dbias, const float *dout, int64_t rows, int64_t C, int n_threads) {
    int nt = ops_threads(n_threads, rows * C);
    int64_t nblk = (C + OPS_COL_BLOCK - 1) / OPS_COL_BLOCK;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nblk; b++) {
        int64_t c0 = b * OPS_COL_BLOCK, w = C - c0 < OPS_COL_BLOCK ? C - c0 : OPS_COL_BLOCK;
        float acc[OPS_COL_BLOCK];
        for (int64_t j = 0; j < w; j++) acc[j] = 0.0f;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t j = 0; j < w; j++) acc[j] += dout[r * C + c0 + j];
        for (int64_t j = 0; j < w; j++) dbias[c0 + j] += acc[j];
    }
}

/* ---- the active ISA (lk_isa.h), chosen once ----------------------------------------------------- */
void lk_activation_forward(float *out, const float *in, int64_t n, int act, int n_threads) {
    lk_activation_forward_isa(lk_isa_active(), out, in, n, act, n_threads);
}
void lk_activation_backward(float *din, const float *dout, const float *in, int64_t n, int act, int n_threads) {
    lk_activation_backward_isa(lk_isa_active(), din, dout, in, n, act, n_threads);
}
void lk_swiglu_forward(float *out, const float *gate, const float *up, int64_t n, int n_threads) {
    lk_swiglu_forward_isa(lk_isa_active(), out, gate, up, n, n_threads);
}
void lk_swiglu_backward(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n,
                        int n_threads) {
    lk_swiglu_backward_isa(lk_isa_active(), dgate, dup, dout, gate, up, n, n_threads);
}
void lk_softmax_forward(float *out, const float *in, const int32_t *row_len, int64_t rows, int64_t n, float scale,
                        int n_threads) {
    lk_softmax_forward_isa(lk_isa_active(), out, in, row_len, rows, n, scale, n_threads);
}
void lk_softmax_backward(float *din, const float *dout, const float *out, int64_t rows, int64_t n, float scale,
                         int n_threads) {
    lk_softmax_backward_isa(lk_isa_active(), din, dout, out, rows, n, scale, n_threads);
}

/* Sum of squares and the Adam/AdamW step (lk_ops.h). */
#include <math.h>
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"

double lk_sum_squares_isa(int isa, const float *x, int64_t n, int n_threads) {
    if (n <= 0) return 0.0;
    const ops_rows *k = ops_rows_for(isa);
    double part[OPS_MAX_CHUNKS];
    int64_t ch = ops_chunk_size(n), nc = (n + ch - 1) / ch;
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        int64_t i1 = (c + 1) * ch < n ? (c + 1) * ch : n;
        part[c] = k->sum_squares(x + c * ch, i1 - c * ch);
    }
    double s = 0.0;
    for (int64_t c = 0; c < nc; c++) s += part[c];
    return s;
}

void lk_adam_step_isa(int isa, float *param, float *m, float *v, const float *grad, int64_t n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, int decoupled, int64_t step, float grad_scale,
                      int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    ops_adam_consts c = {
        .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps, .weight_decay = weight_decay,
        .grad_scale = grad_scale, .step_size = (float)((double)lr / bc1), .bc2_sqrt = (float)sqrt(bc2),
        .decay_factor = (float)(1.0 - (double)lr * weight_decay), .decoupled = decoupled != 0,
    };
    int64_t nb = ops_ew_blocks(n);
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->adam(param + i0, m + i0, v + i0, grad + i0, len, &c);
    }
}

/* ---- the active ISA (lk_isa.h), chosen once ----------------------------------------------------- */
double lk_sum_squares(const float *x, int64_t n, int n_threads) {
    return lk_sum_squares_isa(lk_isa_active(), x, n, n_threads);
}
void lk_adam_step(float *param, float *m, float *v, const float *grad, int64_t n, float lr, float beta1, float beta2,
                  float eps, float weight_decay, int decoupled, int64_t step, float grad_scale, int n_threads) {
    lk_adam_step_isa(lk_isa_active(), param, m, v, grad, n, lr, beta1, beta2, eps, weight_decay, decoupled, step,
                     grad_scale, n_threads);
}

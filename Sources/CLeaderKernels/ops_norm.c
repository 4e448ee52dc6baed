/* LayerNorm and RMSNorm (lk_ops.h): rows in parallel; dweight/dbias split over column blocks with the rows
 * summed in a fixed order, so results are bitwise identical for any thread count. */
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"

void lk_layernorm_forward_isa(int isa, float *out, float *mean, float *rstd, const float *in, const float *weight,
                              const float *bias, int64_t rows, int64_t C, float eps, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, rows * C);
    if (nt == 1) {   /* no OpenMP region: its bookkeeping costs as much as a small call's work */
        for (int64_t r = 0; r < rows; r++)
            k->layernorm_fwd(out + r * C, mean + r, rstd + r, in + r * C, weight, bias, C, eps);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++)
        k->layernorm_fwd(out + r * C, mean + r, rstd + r, in + r * C, weight, bias, C, eps);
}

void lk_layernorm_backward_isa(int isa, float *din, float *dweight, float *dbias, const float *dout, const float *in,
                               const float *weight, const float *mean, const float *rstd, int64_t rows, int64_t C,
                               int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, rows * C);
    int64_t nblk = (C + OPS_COL_BLOCK - 1) / OPS_COL_BLOCK;
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static) nowait
        for (int64_t r = 0; r < rows; r++)
            k->layernorm_bwd(din + r * C, dout + r * C, in + r * C, weight, mean[r], rstd[r], C);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nblk; b++) {
            int64_t c0 = b * OPS_COL_BLOCK, c1 = c0 + OPS_COL_BLOCK < C ? c0 + OPS_COL_BLOCK : C;
            k->layernorm_bwd_cols(dweight, dbias, dout, in, mean, rstd, rows, C, c0, c1);
        }
    }
}

void lk_rmsnorm_forward_isa(int isa, float *out, float *rstd, const float *in, const float *weight, int64_t rows,
                            int64_t C, float eps, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, rows * C);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) k->rmsnorm_fwd(out + r * C, rstd + r, in + r * C, weight, C, eps);
}

void lk_rmsnorm_backward_isa(int isa, float *din, float *dweight, const float *dout, const float *in,
                             const float *weight, const float *rstd, int64_t rows, int64_t C, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    int nt = ops_threads(n_threads, rows * C);
    int64_t nblk = dweight ? (C + OPS_COL_BLOCK - 1) / OPS_COL_BLOCK : 0;
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static) nowait
        for (int64_t r = 0; r < rows; r++)
            k->rmsnorm_bwd(din + r * C, dout + r * C, in + r * C, weight, rstd[r], C);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nblk; b++) {
            int64_t c0 = b * OPS_COL_BLOCK, c1 = c0 + OPS_COL_BLOCK < C ? c0 + OPS_COL_BLOCK : C;
            k->rmsnorm_bwd_cols(dweight, dout, in, rstd, rows, C, c0, c1);
        }
    }
}

/* ---- the active ISA (lk_isa.h), chosen once ----------------------------------------------------- */
void lk_layernorm_forward(float *out, float *mean, float *rstd, const float *in, const float *weight,
                          const float *bias, int64_t rows, int64_t C, float eps, int n_threads) {
    lk_layernorm_forward_isa(lk_isa_active(), out, mean, rstd, in, weight, bias, rows, C, eps, n_threads);
}
void lk_layernorm_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                           const float *weight, const float *mean, const float *rstd, int64_t rows, int64_t C,
                           int n_threads) {
    lk_layernorm_backward_isa(lk_isa_active(), din, dweight, dbias, dout, in, weight, mean, rstd, rows, C, n_threads);
}
void lk_rmsnorm_forward(float *out, float *rstd, const float *in, const float *weight, int64_t rows, int64_t C,
                        float eps, int n_threads) {
    lk_rmsnorm_forward_isa(lk_isa_active(), out, rstd, in, weight, rows, C, eps, n_threads);
}
void lk_rmsnorm_backward(float *din, float *dweight, const float *dout, const float *in, const float *weight,
                         const float *rstd, int64_t rows, int64_t C, int n_threads) {
    lk_rmsnorm_backward_isa(lk_isa_active(), din, dweight, dout, in, weight, rstd, rows, C, n_threads);
}

/* Losses (lk_ops.h). Forward reductions run over fixed-size chunks (a function of the size only), each summed
 * in double, then combined serially in chunk order: bitwise identical for any thread count. */
#include <math.h>
#include <stddef.h>
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"

void lk_bce_logits_forward_isa(int isa, float *loss, const float *logits, const float *targets, const float *weights,
                               int64_t n, int n_threads) {
    if (n <= 0) { *loss = 0.0f; return; }
    const ops_rows *k = ops_rows_for(isa);
    double part[OPS_MAX_CHUNKS];
    int64_t ch = ops_chunk_size(n), nc = (n + ch - 1) / ch;
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        int64_t i0 = c * ch, len = n - i0 < ch ? n - i0 : ch;
        part[c] = k->bce_sum(logits + i0, targets + i0, weights ? weights + i0 : NULL, len);
    }
    double s = 0.0;
    for (int64_t c = 0; c < nc; c++) s += part[c];
    *loss = (float)(s / (double)n);
}

void lk_bce_logits_backward_isa(int isa, float *dlogits, float dloss, const float *logits, const float *targets,
                                const float *weights, int64_t n, int n_threads) {
    if (n <= 0) return;
    const ops_rows *k = ops_rows_for(isa);
    float scale = (float)((double)dloss / (double)n);
    int64_t nb = ops_ew_blocks(n);
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        int64_t i0 = b * OPS_EW_BLOCK, len = ops_ew_len(n, b);
        k->bce_bwd(dlogits + i0, logits + i0, targets + i0, weights ? weights + i0 : NULL, len, scale);
    }
}

void lk_mse_forward(float *loss, const float *a, const float *b, int64_t n, int n_threads) {
    if (n <= 0) { *loss = 0.0f; return; }
    double part[OPS_MAX_CHUNKS];
    int64_t ch = ops_chunk_size(n), nc = (n + ch - 1) / ch;
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        int64_t i1 = (c + 1) * ch < n ? (c + 1) * ch : n;
        double s = 0.0;
        for (int64_t i = c * ch; i < i1; i++) {
            double d = (double)a[i] - b[i];
            s += d * d;
        }
        part[c] = s;
    }
    double s = 0.0;
    for (int64_t c = 0; c < nc; c++) s += part[c];
    *loss = (float)(s / (double)n);
}

void lk_mse_backward(float *da, float *db, float dloss, const float *a, const float *b, int64_t n, int n_threads) {
    if (n <= 0) return;
    float k = (float)(2.0 * (double)dloss / (double)n);
    int nt = ops_threads(n_threads, n);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float g = k * (a[i] - b[i]);
        da[i] += g;
        if (db) db[i] -= g;
    }
}

/* Rows are grouped in fixed chunks of ce_chunk_rows(rows) for the loss sum. */
static int64_t ce_chunk_rows(int64_t rows) {
    int64_t c = (rows + OPS_MAX_CHUNKS - 1) / OPS_MAX_CHUNKS;
    return c < 16 ? 16 : c;
}

void lk_cross_entropy_forward_isa(int isa, float *loss, float *probs, const float *logits, const int32_t *targets,
                                  int64_t rows, int64_t C, int n_threads) {
    const ops_rows *k = ops_rows_for(isa);
    double part[OPS_MAX_CHUNKS];
    int64_t ch = ce_chunk_rows(rows), nc = (rows + ch - 1) / ch, n_valid = 0;
    int nt = ops_threads(n_threads, rows * C);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        int64_t r1 = (c + 1) * ch < rows ? (c + 1) * ch : rows;
        double s = 0.0;
        for (int64_t r = c * ch; r < r1; r++) {
            float lse = k->softmax_fwd(probs + r * C, logits + r * C, C, C, 1.0f);
            if (targets[r] >= 0) s += (double)lse - logits[r * C + targets[r]];
        }
        part[c] = s;
    }
    double s = 0.0;
    for (int64_t c = 0; c < nc; c++) s += part[c];
    for (int64_t r = 0; r < rows; r++) n_valid += targets[r] >= 0;
    *loss = n_valid > 0 ? (float)(s / (double)n_valid) : 0.0f;
}

void lk_cross_entropy_backward(float *dlogits, float dloss, const float *probs, const int32_t *targets,
                               int64_t rows, int64_t C, int n_threads) {
    int64_t n_valid = 0;
    for (int64_t r = 0; r < rows; r++) n_valid += targets[r] >= 0;
    if (n_valid == 0) return;
    float k = (float)((double)dloss / (double)n_valid);
    int nt = ops_threads(n_threads, rows * C);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        if (targets[r] < 0) continue;
        float *d = dlogits + r * C;
        const float *p = probs + r * C;
        for (int64_t j = 0; j < C; j++) d[j] += k * p[j];
        d[targets[r]] -= k;
    }
}

/* One row's sigmoid scores into probs; returns the row's sum over pairs i < j (in double). */
static double ddi_row(float *p, const float *x, const int32_t *off, const int32_t *nb, int64_t M) {
    for (int64_t i = 0; i < M; i++) p[i] = 1.0f / (1.0f + expf(-x[i]));
    double s = 0.0;
    for (int64_t i = 0; i < M; i++)
        for (int32_t k = off[i]; k < off[i + 1]; k++)
            if (nb[k] > i) s += (double)p[i] * (double)p[nb[k]];
    return s;
}

void lk_ddi_penalty_forward(float *loss, float *probs, const float *logits, const int32_t *offsets,
                            const int32_t *neighbours, int64_t rows, int64_t M, int n_threads) {
    if (rows <= 0 || M <= 0) { *loss = 0.0f; return; }
    /* rows are few (a batch): one double per row, combined serially in row order (thread-invariant) */
    double part[OPS_MAX_CHUNKS];
    int64_t ch = (rows + OPS_MAX_CHUNKS - 1) / OPS_MAX_CHUNKS, nc = (rows + ch - 1) / ch;
    int nt = ops_threads(n_threads, rows * M);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        double s = 0.0;
        for (int64_t r = c * ch; r < rows && r < (c + 1) * ch; r++)
            s += ddi_row(probs + r * M, logits + r * M, offsets, neighbours, M);
        part[c] = s;
    }
    double s = 0.0;
    for (int64_t c = 0; c < nc; c++) s += part[c];
    *loss = (float)(s / (double)rows);
}

void lk_ddi_penalty_backward(float *dlogits, float dloss, const float *probs, const int32_t *offsets,
                             const int32_t *neighbours, int64_t rows, int64_t M, int n_threads) {
    if (rows <= 0 || M <= 0) return;
    float scale = (float)((double)dloss / (double)rows);
    int nt = ops_threads(n_threads, rows * M);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        const float *p = probs + r * M;
        for (int64_t i = 0; i < M; i++) {
            float g = 0.0f;
            for (int32_t k = offsets[i]; k < offsets[i + 1]; k++) g += p[neighbours[k]];
            dlogits[r * M + i] += scale * g * p[i] * (1.0f - p[i]);
        }
    }
}

/* ---- the active ISA (lk_isa.h), chosen once ----------------------------------------------------- */
void lk_bce_logits_forward(float *loss, const float *logits, const float *targets, const float *weights, int64_t n,
                           int n_threads) {
    lk_bce_logits_forward_isa(lk_isa_active(), loss, logits, targets, weights, n, n_threads);
}
void lk_bce_logits_backward(float *dlogits, float dloss, const float *logits, const float *targets,
                            const float *weights, int64_t n, int n_threads) {
    lk_bce_logits_backward_isa(lk_isa_active(), dlogits, dloss, logits, targets, weights, n, n_threads);
}
void lk_cross_entropy_forward(float *loss, float *probs, const float *logits, const int32_t *targets, int64_t rows,
                              int64_t C, int n_threads) {
    lk_cross_entropy_forward_isa(lk_isa_active(), loss, probs, logits, targets, rows, C, n_threads);
}

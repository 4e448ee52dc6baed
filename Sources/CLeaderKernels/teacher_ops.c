/* Teacher kernels; contract in include/lk_teacher_ops.h. Every output row belongs to one thread. */
#include "lk_teacher_ops.h"
#include "lk_quant.h"
#include <string.h>

static inline int nt(int n_threads) { return n_threads < 1 ? 1 : n_threads; }
static inline int64_t row_bytes(int64_t dim, int dtype) {
    const int64_t bs = lk_dtype_block_size(dtype);
    return bs > 0 ? dim / bs * lk_dtype_block_bytes(dtype) : 0;
}
static inline int64_t last_index(int32_t len, int64_t T) {
    const int64_t l = len < 0 ? 0 : (len > T ? T : (int64_t)len);
    return l - 1;  /* -1: none */
}

void lk_qembedding_forward(float *out, const void *table, const int32_t *ids, int64_t n_ids, int64_t dim,
                           int dtype, int n_threads) {
    const int64_t rb = row_bytes(dim, dtype);
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (n_ids * dim > 16384)
    for (int64_t i = 0; i < n_ids; i++) {
        float *o = out + i * dim;
        if (ids[i] < 0) { memset(o, 0, (size_t)dim * sizeof(float)); continue; }
        lk_dequantize_row(o, (const uint8_t *)table + (int64_t)ids[i] * rb, dim, dtype);
    }
}

void lk_qembedding_forward_ref(float *out, const void *table, const int32_t *ids, int64_t n_ids, int64_t dim,
                               int dtype) {
    const int64_t rb = row_bytes(dim, dtype);
    for (int64_t i = 0; i < n_ids; i++) {
        float *o = out + i * dim;
        if (ids[i] < 0) { for (int64_t j = 0; j < dim; j++) o[j] = 0.0f; continue; }
        lk_dequantize_row_ref(o, (const uint8_t *)table + (int64_t)ids[i] * rb, dim, dtype);
    }
}

void lk_gather_last_forward(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C,
                            int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (B * C > 65536)
    for (int64_t b = 0; b < B; b++) {
        const int64_t t = last_index(len[b], T);
        if (t < 0) memset(out + b * C, 0, (size_t)C * sizeof(float));
        else memcpy(out + b * C, in + (b * T + t) * C, (size_t)C * sizeof(float));
    }
}

void lk_gather_last_backward(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T, int64_t C,
                             int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (B * C > 65536)
    for (int64_t b = 0; b < B; b++) {
        const int64_t t = last_index(len[b], T);
        if (t < 0) continue;
        float *d = din + (b * T + t) * C;
        const float *g = dout + b * C;
        for (int64_t c = 0; c < C; c++) d[c] += g[c];
    }
}

void lk_gather_last_forward_ref(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C) {
    for (int64_t b = 0; b < B; b++) {
        const int64_t t = last_index(len[b], T);
        for (int64_t c = 0; c < C; c++) out[b * C + c] = t < 0 ? 0.0f : in[(b * T + t) * C + c];
    }
}

void lk_gather_last_backward_ref(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T,
                                 int64_t C) {
    for (int64_t b = 0; b < B; b++) {
        const int64_t t = last_index(len[b], T);
        if (t < 0) continue;
        for (int64_t c = 0; c < C; c++) din[(b * T + t) * C + c] += dout[b * C + c];
    }
}

static int32_t argmax_row(const float *x, int64_t n) {
    int64_t best = 0;
    for (int64_t j = 1; j < n; j++)
        if (x[j] > x[best] || (x[best] != x[best] && x[j] == x[j])) best = j;
    return (int32_t)best;
}

void lk_argmax_rows(int32_t *out, const float *x, int64_t rows, int64_t n, int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (rows > 1 && rows * n > 65536)
    for (int64_t r = 0; r < rows; r++) out[r] = argmax_row(x + r * n, n);
}

void lk_argmax_rows_ref(int32_t *out, const float *x, int64_t rows, int64_t n) {
    for (int64_t r = 0; r < rows; r++) {
        int64_t best = 0;
        for (int64_t j = 1; j < n; j++)
            if (x[j + r * n] > x[best + r * n] || (x[best + r * n] != x[best + r * n] && x[j + r * n] == x[j + r * n]))
                best = j;
        out[r] = (int32_t)best;
    }
}

/* Layout and pooling kernels for the autodiff layer; contract in include/lk_core_ops.h.
 * Each parallel loop splits over independent outputs with schedule(static), so every output element is
 * computed by one thread in a fixed order and results do not depend on n_threads. */
#include "lk_core_ops.h"
#include <math.h>
#include <string.h>

static inline int nt(int n_threads) { return n_threads < 1 ? 1 : n_threads; }
static inline int64_t clamp_len(int32_t len, int64_t T) { return len < 0 ? 0 : (len > T ? T : (int64_t)len); }

/* ---- fill / iota ------------------------------------------------------------------------------------ */
void lk_fill(float *out, float value, int64_t n, int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) out[i] = value;
}
void lk_fill_ref(float *out, float value, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = value;
}
void lk_iota_i32(int32_t *out, int64_t n, int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) out[i] = (int32_t)i;
}
void lk_iota_i32_ref(int32_t *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = (int32_t)i;
}

int64_t lk_find_out_of_range_i32(const int32_t *x, int64_t n, int32_t lo, int32_t hi) {
    for (int64_t i = 0; i < n; i++)
        if (x[i] < lo || x[i] >= hi) return i;
    return -1;
}

/* ---- column block copy (concat / split) ------------------------------------------------------------ */
void lk_copy_cols(float *out, int64_t ld_out, const float *in, int64_t ld_in, int64_t rows, int64_t cols,
                  int accumulate, int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (rows * cols > 16384)
    for (int64_t r = 0; r < rows; r++) {
        float *o = out + r * ld_out;
        const float *x = in + r * ld_in;
        if (accumulate) {
            for (int64_t c = 0; c < cols; c++) o[c] += x[c];
        } else {
            memcpy(o, x, (size_t)cols * sizeof(float));
        }
    }
}
void lk_copy_cols_ref(float *out, int64_t ld_out, const float *in, int64_t ld_in, int64_t rows, int64_t cols,
                      int accumulate) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++)
            out[r * ld_out + c] = accumulate ? out[r * ld_out + c] + in[r * ld_in + c] : in[r * ld_in + c];
}

/* ---- swap axes 1 and 2 ----------------------------------------------------------------------------- */
void lk_swap12_forward(float *out, const float *in, int64_t A, int64_t B, int64_t C, int64_t D, int n_threads) {
    /* one task per output row (a,c,b): D contiguous floats */
    int64_t n_rows = A * C * B;
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (n_rows * D > 16384)
    for (int64_t r = 0; r < n_rows; r++) {
        int64_t b = r % B, c = (r / B) % C, a = r / (B * C);
        memcpy(out + r * D, in + ((a * B + b) * C + c) * D, (size_t)D * sizeof(float));
    }
}
void lk_swap12_backward(float *din, const float *dout, int64_t A, int64_t B, int64_t C, int64_t D,
                        int n_threads) {
    /* one task per din row (a,b,c) */
    int64_t n_rows = A * B * C;
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (n_rows * D > 16384)
    for (int64_t r = 0; r < n_rows; r++) {
        int64_t c = r % C, b = (r / C) % B, a = r / (B * C);
        float *di = din + r * D;
        const float *g = dout + ((a * C + c) * B + b) * D;
        for (int64_t d = 0; d < D; d++) di[d] += g[d];
    }
}
void lk_swap12_forward_ref(float *out, const float *in, int64_t A, int64_t B, int64_t C, int64_t D) {
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t d = 0; d < D; d++)
                    out[((a * C + c) * B + b) * D + d] = in[((a * B + b) * C + c) * D + d];
}
void lk_swap12_backward_ref(float *din, const float *dout, int64_t A, int64_t B, int64_t C, int64_t D) {
    for (int64_t a = 0; a < A; a++)
        for (int64_t b = 0; b < B; b++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t d = 0; d < D; d++)
                    din[((a * B + b) * C + c) * D + d] += dout[((a * C + c) * B + b) * D + d];
}

/* ---- masked mean-pool -------------------------------------------------------------------------------- */
void lk_masked_mean_forward(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C,
                            int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (B * T * C > 16384)
    for (int64_t b = 0; b < B; b++) {
        int64_t n = clamp_len(len[b], T);
        float inv = 1.0f / (float)(n > 0 ? n : 1);
        float *o = out + b * C;
        for (int64_t c = 0; c < C; c++) o[c] = 0.0f;
        for (int64_t t = 0; t < n; t++) {
            const float *x = in + (b * T + t) * C;
            for (int64_t c = 0; c < C; c++) o[c] += x[c];
        }
        for (int64_t c = 0; c < C; c++) o[c] *= inv;
    }
}
void lk_masked_mean_backward(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T, int64_t C,
                             int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (B * T * C > 16384)
    for (int64_t b = 0; b < B; b++) {
        int64_t n = clamp_len(len[b], T);
        float inv = 1.0f / (float)(n > 0 ? n : 1);
        const float *g = dout + b * C;
        for (int64_t t = 0; t < n; t++) {
            float *di = din + (b * T + t) * C;
            for (int64_t c = 0; c < C; c++) di[c] += g[c] * inv;
        }
    }
}
void lk_masked_mean_forward_ref(float *out, const float *in, const int32_t *len, int64_t B, int64_t T, int64_t C) {
    for (int64_t b = 0; b < B; b++) {
        int64_t n = clamp_len(len[b], T);
        for (int64_t c = 0; c < C; c++) {
            float s = 0.0f;
            for (int64_t t = 0; t < n; t++) s += in[(b * T + t) * C + c];
            out[b * C + c] = s * (1.0f / (float)(n > 0 ? n : 1));
        }
    }
}
void lk_masked_mean_backward_ref(float *din, const float *dout, const int32_t *len, int64_t B, int64_t T,
                                 int64_t C) {
    for (int64_t b = 0; b < B; b++) {
        int64_t n = clamp_len(len[b], T);
        for (int64_t t = 0; t < n; t++)
            for (int64_t c = 0; c < C; c++)
                din[(b * T + t) * C + c] += dout[b * C + c] * (1.0f / (float)(n > 0 ? n : 1));
    }
}

/* ---- row L2 normalisation ------------------------------------------------------------------------- */
static void l2n_row_forward(float *o, float *norm, const float *x, int64_t C, float eps) {
    double ss = 0.0;
    for (int64_t c = 0; c < C; c++) ss += (double)x[c] * (double)x[c];
    float n = (float)sqrt(ss);
    float inv = 1.0f / (n > eps ? n : eps);
    for (int64_t c = 0; c < C; c++) o[c] = x[c] * inv;
    *norm = n;
}
static void l2n_row_backward(float *di, const float *g, const float *o, float n, int64_t C, float eps) {
    if (n > eps) {
        double dot = 0.0;
        for (int64_t c = 0; c < C; c++) dot += (double)o[c] * (double)g[c];
        float inv = 1.0f / n, d = (float)dot;
        for (int64_t c = 0; c < C; c++) di[c] += (g[c] - o[c] * d) * inv;
    } else {
        for (int64_t c = 0; c < C; c++) di[c] += g[c] / eps;
    }
}
void lk_l2_normalize_forward(float *out, float *norm, const float *in, int64_t rows, int64_t C, float eps,
                             int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; r++) l2n_row_forward(out + r * C, norm + r, in + r * C, C, eps);
}
void lk_l2_normalize_backward(float *din, const float *dout, const float *out, const float *norm, int64_t rows,
                              int64_t C, float eps, int n_threads) {
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (rows * C > 16384)
    for (int64_t r = 0; r < rows; r++) l2n_row_backward(din + r * C, dout + r * C, out + r * C, norm[r], C, eps);
}
void lk_l2_normalize_forward_ref(float *out, float *norm, const float *in, int64_t rows, int64_t C, float eps) {
    for (int64_t r = 0; r < rows; r++) l2n_row_forward(out + r * C, norm + r, in + r * C, C, eps);
}
void lk_l2_normalize_backward_ref(float *din, const float *dout, const float *out, const float *norm,
                                  int64_t rows, int64_t C, float eps) {
    for (int64_t r = 0; r < rows; r++) l2n_row_backward(din + r * C, dout + r * C, out + r * C, norm[r], C, eps);
}

/* ---- attention row lengths ------------------------------------------------------------------------- */
void lk_attention_row_len(int32_t *row_len, const int32_t *len, int64_t B, int64_t H, int64_t T, int causal,
                          int n_threads) {
    int64_t n = B * H * T;
    #pragma omp parallel for num_threads(nt(n_threads)) schedule(static) if (n > 65536)
    for (int64_t r = 0; r < n; r++) {
        int64_t t = r % T, b = r / (H * T);
        int64_t l = clamp_len(len[b], T);
        row_len[r] = (int32_t)(causal && t + 1 < l ? t + 1 : l);
    }
}
void lk_attention_row_len_ref(int32_t *row_len, const int32_t *len, int64_t B, int64_t H, int64_t T, int causal) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t t = 0; t < T; t++) {
                int64_t l = clamp_len(len[b], T);
                if (causal && t + 1 < l) l = t + 1;
                row_len[(b * H + h) * T + t] = (int32_t)l;
            }
}

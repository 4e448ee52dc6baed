/* Naive reference versions (`_ref`) of the ops kernels in lk_ops.h: plain loops, double accumulation, libm.
 * They are the test oracle; clarity over speed. The counter-based RNG itself lives in ops_random.c. */
#include <math.h>
#include <string.h>
#include "lk_ops.h"
#include "ops_rows.h"

/* ---- layernorm ----------------------------------------------------------------------------------- */
void lk_layernorm_forward_ref(float *out, float *mean, float *rstd, const float *in, const float *weight,
                              const float *bias, int64_t rows, int64_t C, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * C;
        double s = 0.0;
        for (int64_t j = 0; j < C; j++) s += x[j];
        double mu = s / (double)C, v = 0.0;
        for (int64_t j = 0; j < C; j++) v += ((double)x[j] - mu) * ((double)x[j] - mu);
        v /= (double)C;
        double rs = 1.0 / sqrt(v + (double)eps);
        for (int64_t j = 0; j < C; j++)
            out[r * C + j] = (float)(((double)x[j] - mu) * rs * weight[j] + (bias ? bias[j] : 0.0f));
        mean[r] = (float)mu;
        rstd[r] = (float)rs;
    }
}

void lk_layernorm_backward_ref(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                               const float *weight, const float *mean, const float *rstd,
                               int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * C, *g = dout + r * C;
        double mu = mean[r], rs = rstd[r], sg = 0.0, sgx = 0.0;
        for (int64_t j = 0; j < C; j++) {
            double xh = ((double)x[j] - mu) * rs, gw = (double)g[j] * weight[j];
            sg += gw;
            sgx += gw * xh;
        }
        sg /= (double)C;
        sgx /= (double)C;
        for (int64_t j = 0; j < C; j++) {
            double xh = ((double)x[j] - mu) * rs;
            din[r * C + j] += (float)(rs * ((double)g[j] * weight[j] - sg - xh * sgx));
        }
    }
    for (int64_t j = 0; j < C; j++) {
        double sw = 0.0, sb = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double g = dout[r * C + j];
            sw += g * (((double)in[r * C + j] - mean[r]) * rstd[r]);
            sb += g;
        }
        dweight[j] += (float)sw;
        if (dbias) dbias[j] += (float)sb;
    }
}

/* ---- rmsnorm ------------------------------------------------------------------------------------- */
void lk_rmsnorm_forward_ref(float *out, float *rstd, const float *in, const float *weight,
                            int64_t rows, int64_t C, float eps) {
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * C;
        double s = 0.0;
        for (int64_t j = 0; j < C; j++) s += (double)x[j] * x[j];
        double rs = 1.0 / sqrt(s / (double)C + (double)eps);
        for (int64_t j = 0; j < C; j++) out[r * C + j] = (float)((double)x[j] * rs * weight[j]);
        rstd[r] = (float)rs;
    }
}

void lk_rmsnorm_backward_ref(float *din, float *dweight, const float *dout, const float *in,
                             const float *weight, const float *rstd, int64_t rows, int64_t C) {
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * C, *g = dout + r * C;
        double rs = rstd[r], s = 0.0;
        for (int64_t j = 0; j < C; j++) s += (double)g[j] * weight[j] * x[j];
        double k = rs * rs * rs * s / (double)C;
        for (int64_t j = 0; j < C; j++) din[r * C + j] += (float)(rs * g[j] * weight[j] - (double)x[j] * k);
    }
    if (dweight)
        for (int64_t j = 0; j < C; j++) {
            double sw = 0.0;
            for (int64_t r = 0; r < rows; r++) sw += (double)dout[r * C + j] * in[r * C + j] * rstd[r];
            dweight[j] += (float)sw;
        }
}

/* ---- activations --------------------------------------------------------------------------------- */
static double ref_sigmoid(double x) {
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}
static const double GELU_K = 0.7978845608028654, GELU_C = 0.044715;

static double ref_act(double x, int act) {
    switch (act) {
    case LK_ACT_RELU: return x > 0 ? x : 0.0;
    case LK_ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(GELU_K * (x + GELU_C * x * x * x)));
    case LK_ACT_SILU: return x * ref_sigmoid(x);
    case LK_ACT_TANH: return tanh(x);
    case LK_ACT_SIGMOID: return ref_sigmoid(x);
    default: return 0.0;
    }
}

static double ref_act_grad(double x, int act) {
    switch (act) {
    case LK_ACT_RELU: return x > 0 ? 1.0 : 0.0;
    case LK_ACT_GELU_TANH: {
        double t = tanh(GELU_K * (x + GELU_C * x * x * x));
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K * (1.0 + 3.0 * GELU_C * x * x);
    }
    case LK_ACT_SILU: {
        double s = ref_sigmoid(x);
        return s * (1.0 + x * (1.0 - s));
    }
    case LK_ACT_TANH: {
        double t = tanh(x);
        return 1.0 - t * t;
    }
    case LK_ACT_SIGMOID: {
        double s = ref_sigmoid(x);
        return s * (1.0 - s);
    }
    default: return 0.0;
    }
}

void lk_activation_forward_ref(float *out, const float *in, int64_t n, int act) {
    for (int64_t i = 0; i < n; i++) out[i] = (float)ref_act(in[i], act);
}

void lk_activation_backward_ref(float *din, const float *dout, const float *in, int64_t n, int act) {
    for (int64_t i = 0; i < n; i++) din[i] += (float)((double)dout[i] * ref_act_grad(in[i], act));
}

void lk_swiglu_forward_ref(float *out, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = (float)((double)gate[i] * ref_sigmoid(gate[i]) * up[i]);
}

void lk_swiglu_backward_ref(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                            int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double g = gate[i], s = ref_sigmoid(g);
        dgate[i] += (float)((double)dout[i] * up[i] * s * (1.0 + g * (1.0 - s)));
        dup[i] += (float)((double)dout[i] * g * s);
    }
}

/* ---- softmax ------------------------------------------------------------------------------------- */
void lk_softmax_forward_ref(float *out, const float *in, const int32_t *row_len, int64_t rows, int64_t n,
                            float scale) {
    for (int64_t r = 0; r < rows; r++) {
        int64_t len = row_len ? row_len[r] : n;
        if (len > n) len = n;
        if (len < 0) len = 0;
        const float *x = in + r * n;
        float *o = out + r * n;
        double mx = -INFINITY, s = 0.0;
        for (int64_t j = 0; j < len; j++) mx = fmax(mx, (double)x[j] * scale);
        for (int64_t j = 0; j < len; j++) s += exp((double)x[j] * scale - mx);
        for (int64_t j = 0; j < len; j++) o[j] = (float)(exp((double)x[j] * scale - mx) / s);
        for (int64_t j = len; j < n; j++) o[j] = 0.0f;
    }
}

void lk_softmax_backward_ref(float *din, const float *dout, const float *out, int64_t rows, int64_t n,
                             float scale) {
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dout + r * n, *y = out + r * n;
        double d = 0.0;
        for (int64_t j = 0; j < n; j++) d += (double)g[j] * y[j];
        for (int64_t j = 0; j < n; j++) din[r * n + j] += (float)((double)scale * y[j] * ((double)g[j] - d));
    }
}

/* ---- embedding ----------------------------------------------------------------------------------- */
void lk_embedding_forward_ref(float *out, const float *table, const int32_t *ids, int64_t n_ids, int64_t dim) {
    for (int64_t i = 0; i < n_ids; i++)
        for (int64_t j = 0; j < dim; j++) out[i * dim + j] = ids[i] < 0 ? 0.0f : table[(int64_t)ids[i] * dim + j];
}

void lk_embedding_backward_ref(float *dtable, const float *dout, const int32_t *ids, int64_t n_ids, int64_t dim) {
    for (int64_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0) continue;
        for (int64_t j = 0; j < dim; j++) dtable[(int64_t)ids[i] * dim + j] += dout[i * dim + j];
    }
}

/* ---- RoPE ---------------------------------------------------------------------------------------- */
void ops_rope_cos_sin(float *c, float *s, int32_t p, int64_t i, int64_t D, float theta) {
    double ang = (double)p * pow((double)theta, -2.0 * (double)i / (double)D);
    *c = (float)cos(ang);
    *s = (float)sin(ang);
}

static void rope_ref(float *out, const float *in, const int32_t *pos, int64_t B, int64_t T, int64_t H,
                     int64_t D, float theta, int layout, int inverse, int accumulate) {
    int64_t half = D / 2;
    for (int64_t bt = 0; bt < B * T; bt++)
        for (int64_t h = 0; h < H; h++) {
            const float *x = in + (bt * H + h) * D;
            float *o = out + (bt * H + h) * D;
            for (int64_t i = 0; i < half; i++) {
                float c, s;
                ops_rope_cos_sin(&c, &s, pos[bt], i, D, theta);
                if (inverse) s = -s;
                int64_t i0 = layout == LK_ROPE_HALF ? i : 2 * i, i1 = layout == LK_ROPE_HALF ? i + half : 2 * i + 1;
                float x0 = x[i0], x1 = x[i1];
                float y0 = x0 * c - x1 * s, y1 = x0 * s + x1 * c;
                if (accumulate) { o[i0] += y0; o[i1] += y1; }
                else { o[i0] = y0; o[i1] = y1; }
            }
            if (D % 2) { /* odd D: the last element is not rotated */
                if (accumulate) o[D - 1] += x[D - 1];
                else o[D - 1] = x[D - 1];
            }
        }
}

void lk_rope_forward_ref(float *out, const float *in, const int32_t *pos, int64_t B, int64_t T, int64_t H,
                         int64_t D, float theta, int layout) {
    rope_ref(out, in, pos, B, T, H, D, theta, layout, 0, 0);
}

void lk_rope_backward_ref(float *din, const float *dout, const int32_t *pos, int64_t B, int64_t T, int64_t H,
                          int64_t D, float theta, int layout) {
    rope_ref(din, dout, pos, B, T, H, D, theta, layout, 1, 1);
}

/* ---- losses -------------------------------------------------------------------------------------- */
void lk_bce_logits_forward_ref(float *loss, const float *logits, const float *targets, const float *weights,
                               int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double x = logits[i], t = targets[i];
        double l = fmax(x, 0.0) - x * t + log1p(exp(-fabs(x)));
        s += (weights ? weights[i] : 1.0) * l;
    }
    *loss = n > 0 ? (float)(s / (double)n) : 0.0f;
}

void lk_bce_logits_backward_ref(float *dlogits, float dloss, const float *logits, const float *targets,
                                const float *weights, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        double w = weights ? weights[i] : 1.0;
        dlogits[i] += (float)((double)dloss * w * (ref_sigmoid(logits[i]) - targets[i]) / (double)n);
    }
}

void lk_mse_forward_ref(float *loss, const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    *loss = n > 0 ? (float)(s / (double)n) : 0.0f;
}

void lk_mse_backward_ref(float *da, float *db, float dloss, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = (float)((double)dloss * 2.0 * ((double)a[i] - b[i]) / (double)n);
        da[i] += g;
        if (db) db[i] -= g;
    }
}

void lk_cross_entropy_forward_ref(float *loss, float *probs, const float *logits, const int32_t *targets,
                                  int64_t rows, int64_t C) {
    double s = 0.0;
    int64_t n_valid = 0;
    for (int64_t r = 0; r < rows; r++) {
        const float *x = logits + r * C;
        double mx = -INFINITY, z = 0.0;
        for (int64_t j = 0; j < C; j++) mx = fmax(mx, x[j]);
        for (int64_t j = 0; j < C; j++) z += exp((double)x[j] - mx);
        for (int64_t j = 0; j < C; j++) probs[r * C + j] = (float)(exp((double)x[j] - mx) / z);
        if (targets[r] >= 0) {
            s += log(z) + mx - x[targets[r]];
            n_valid++;
        }
    }
    *loss = n_valid > 0 ? (float)(s / (double)n_valid) : 0.0f;
}

void lk_cross_entropy_backward_ref(float *dlogits, float dloss, const float *probs, const int32_t *targets,
                                   int64_t rows, int64_t C) {
    int64_t n_valid = 0;
    for (int64_t r = 0; r < rows; r++) n_valid += targets[r] >= 0;
    if (n_valid == 0) return;
    for (int64_t r = 0; r < rows; r++) {
        if (targets[r] < 0) continue;
        for (int64_t j = 0; j < C; j++) {
            double g = (double)probs[r * C + j] - (j == targets[r] ? 1.0 : 0.0);
            dlogits[r * C + j] += (float)((double)dloss * g / (double)n_valid);
        }
    }
}

/* ---- optimiser ----------------------------------------------------------------------------------- */
double lk_sum_squares_ref(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

void lk_adam_step_ref(float *param, float *m, float *v, const float *grad, int64_t n, float lr, float beta1,
                      float beta2, float eps, float weight_decay, int decoupled, int64_t step, float grad_scale) {
    double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    for (int64_t i = 0; i < n; i++) {
        double p = param[i], g = (double)grad[i] * grad_scale;
        if (decoupled) p *= 1.0 - (double)lr * weight_decay;
        else g += (double)weight_decay * p;
        double mi = (double)beta1 * m[i] + (1.0 - beta1) * g;
        double vi = (double)beta2 * v[i] + (1.0 - beta2) * g * g;
        m[i] = (float)mi;
        v[i] = (float)vi;
        param[i] = (float)(p - (double)lr / bc1 * mi / (sqrt(vi) / sqrt(bc2) + eps));
    }
}

void lk_ddi_penalty_forward_ref(float *loss, float *probs, const float *logits, const int32_t *offsets,
                                const int32_t *neighbours, int64_t rows, int64_t M) {
    double s = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < M; i++) probs[r * M + i] = (float)ref_sigmoid(logits[r * M + i]);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = i + 1; j < M; j++) {
                int linked = 0;
                for (int32_t k = offsets[i]; k < offsets[i + 1]; k++) linked |= neighbours[k] == j;
                if (linked) s += (double)probs[r * M + i] * probs[r * M + j];
            }
    }
    *loss = rows > 0 ? (float)(s / (double)rows) : 0.0f;
}

void lk_ddi_penalty_backward_ref(float *dlogits, float dloss, const float *probs, const int32_t *offsets,
                                 const int32_t *neighbours, int64_t rows, int64_t M) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t i = 0; i < M; i++) {
            double g = 0.0, p = probs[r * M + i];
            for (int32_t k = offsets[i]; k < offsets[i + 1]; k++) g += probs[r * M + neighbours[k]];
            dlogits[r * M + i] += (float)((double)dloss * g * p * (1.0 - p) / (double)rows);
        }
}

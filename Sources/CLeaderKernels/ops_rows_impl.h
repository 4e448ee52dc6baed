/* Private template: the row/leaf functions of the ops kernels. Included by ops_rows_{avx512,avx2,generic}.c
 * inside a `#pragma clang attribute push(target(...))`, with OPS_ROWS_TABLE naming the table to define and
 * OPS_ROWS_ISA its LK_ISA_* value. Plain C written so that clang vectorises it for the target: reductions
 * use fixed 16-lane accumulators (deterministic order, no -ffast-math needed), exp/tanh are branch-free
 * polynomials (no libm calls in loops). No OpenMP here (see ops_rows.h). */
#if !defined(OPS_ROWS_TABLE) || !defined(OPS_ROWS_ISA)
#error "define OPS_ROWS_TABLE and OPS_ROWS_ISA before including ops_rows_impl.h"
#endif
#include <string.h>
#include "lk_ops.h"
#include "ops_rows.h"

#define L 16 /* accumulator lanes */

static inline float r_sqrt(float x) { return __builtin_elementwise_sqrt(x); }

/* exp(x), max relative error ~2 ulp for x in [-87, 88]; 0 below -87.3, exp(88) above 88. */
static inline float r_exp(float x) {
    float xc = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float t = xc * 1.44269504088896341f + 12582912.0f; /* round to nearest via the 1.5*2^23 trick */
    float n = t - 12582912.0f;
    float r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t ni = (int32_t)n;
    int32_t bits = (ni + 127) << 23;
    float s;
    memcpy(&s, &bits, sizeof s);
    float res = p * s;
    return x < -87.3f ? 0.0f : res;
}

/* Numerically stable logistic function. */
static inline float r_sigmoid(float x) { return 1.0f / (1.0f + r_exp(-x)); }

/* s = sigmoid(x) and 1-s = e*s with e = exp(-x): 1-s stays accurate where s rounds to 1. */
static inline float r_sigmoid_pair(float x, float *one_minus) {
    float e = r_exp(-x), s = 1.0f / (1.0f + e);
    *one_minus = e * s;
    return s;
}

/* tanh: odd Taylor polynomial for |u| < 0.4, (1-e)/(1+e) with e = exp(-2|u|) otherwise. */
static inline float r_tanh(float u) {
    float a = u < 0.0f ? -u : u;
    float a2 = a * a;
    float poly = -1382.0f / 155925.0f;
    poly = poly * a2 + 62.0f / 2835.0f;
    poly = poly * a2 - 17.0f / 315.0f;
    poly = poly * a2 + 2.0f / 15.0f;
    poly = poly * a2 - 1.0f / 3.0f;
    float small = a + a * a2 * poly;
    float e = r_exp(-2.0f * a);
    float big = (1.0f - e) / (1.0f + e);
    float t = a < 0.4f ? small : big;
    return u < 0.0f ? -t : t;
}

/* 1 - tanh(u)^2, accurate also where |tanh(u)| rounds to 1: 4e/(1+e)^2 with e = exp(-2|u|). */
static inline float r_tanh_grad(float u) {
    float a = u < 0.0f ? -u : u;
    float e = r_exp(-2.0f * a), q = 1.0f / (1.0f + e);
    float t = r_tanh(u);
    return a < 0.4f ? 1.0f - t * t : 4.0f * e * q * q;
}

/* log(y) for finite y >= 1 (cephes logf polynomial), branch-free. */
static inline float r_log_ge1(float y) {
    int32_t bits;
    memcpy(&bits, &y, sizeof bits);
    int32_t k = (bits >> 23) - 127;
    int32_t mb = (bits & 0x007FFFFF) | 0x3F800000;
    float m;
    memcpy(&m, &mb, sizeof m);                       /* y = m * 2^k, m in [1,2) */
    int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    float e = (float)(k + big);
    float f = m - 1.0f, z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float r = p * f * z;
    r += -2.12194440e-4f * e;
    r += -0.5f * z;
    return f + r + 0.693359375f * e;
}

/* log(1+e) for e in [0,1], accurate for tiny e: log(u)*e/(u-1) with u = 1+e (Goldberg's trick). */
static inline float r_log1p_01(float e) {
    float u = 1.0f + e;
    float d = u - 1.0f;
    return d == 0.0f ? e : r_log_ge1(u) * (e / d);
}

static inline float r_hsum(const float acc[L]) {
    float s8[8];
    for (int l = 0; l < 8; l++) s8[l] = acc[l] + acc[l + 8];
    for (int l = 0; l < 4; l++) s8[l] += s8[l + 4];
    return (s8[0] + s8[2]) + (s8[1] + s8[3]);
}

static float r_sum(const float *x, int64_t n) {
    float acc[L] = {0};
    int64_t i = 0;
    for (; i + L <= n; i += L)
        for (int l = 0; l < L; l++) acc[l] += x[i + l];
    float s = r_hsum(acc);
    for (; i < n; i++) s += x[i];
    return s;
}

static float r_dot(const float *a, const float *b, int64_t n) {
    float acc[L] = {0};
    int64_t i = 0;
    for (; i + L <= n; i += L)
        for (int l = 0; l < L; l++) acc[l] += a[i + l] * b[i + l];
    float s = r_hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static float r_max_scaled(const float *x, int64_t n, float scale) {
    float acc[L];
    for (int l = 0; l < L; l++) acc[l] = -__builtin_inff();
    int64_t i = 0;
    for (; i + L <= n; i += L)
        for (int l = 0; l < L; l++) {
            float v = x[i + l] * scale;
            acc[l] = v > acc[l] ? v : acc[l];
        }
    float m = -__builtin_inff();
    for (int l = 0; l < L; l++) m = acc[l] > m ? acc[l] : m;
    for (; i < n; i++) {
        float v = x[i] * scale;
        m = v > m ? v : m;
    }
    return m;
}

/* ---- softmax ------------------------------------------------------------------------------------- */
static float r_softmax_fwd(float *out, const float *in, int64_t len, int64_t n, float scale) {
    float mx = r_max_scaled(in, len, scale);
    float acc[L] = {0};
    int64_t i = 0;
    for (; i + L <= len; i += L)
        for (int l = 0; l < L; l++) {
            float e = r_exp(in[i + l] * scale - mx);
            out[i + l] = e;
            acc[l] += e;
        }
    float s = r_hsum(acc);
    for (; i < len; i++) {
        float e = r_exp(in[i] * scale - mx);
        out[i] = e;
        s += e;
    }
    float inv = 1.0f / s;
    for (int64_t j = 0; j < len; j++) out[j] *= inv;
    for (int64_t j = len; j < n; j++) out[j] = 0.0f;
    return mx + __builtin_logf(s);
}

static void r_softmax_bwd(float *din, const float *dout, const float *out, int64_t n, float scale) {
    float d = r_dot(dout, out, n);
    for (int64_t j = 0; j < n; j++) din[j] += scale * out[j] * (dout[j] - d);
}

/* ---- layernorm ----------------------------------------------------------------------------------- */
static void r_layernorm_fwd(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                            int64_t C, float eps) {
    float mu = r_sum(x, C) / (float)C;
    float acc[L] = {0};
    int64_t i = 0;
    for (; i + L <= C; i += L)
        for (int l = 0; l < L; l++) {
            float d = x[i + l] - mu;
            acc[l] += d * d;
        }
    float var = r_hsum(acc);
    for (; i < C; i++) var += (x[i] - mu) * (x[i] - mu);
    var /= (float)C;
    float rs = 1.0f / r_sqrt(var + eps);
    if (b)
        for (int64_t j = 0; j < C; j++) out[j] = (x[j] - mu) * rs * w[j] + b[j];
    else
        for (int64_t j = 0; j < C; j++) out[j] = (x[j] - mu) * rs * w[j];
    *mean = mu;
    *rstd = rs;
}

static void r_layernorm_bwd(float *din, const float *dout, const float *x, const float *w, float mean, float rstd,
                            int64_t C) {
    /* g = dout*w, xhat = (x-mean)*rstd; din += rstd*(g - mean(g) - xhat*mean(g*xhat)) */
    float a1[L] = {0}, a2[L] = {0};
    int64_t i = 0;
    for (; i + L <= C; i += L)
        for (int l = 0; l < L; l++) {
            float g = dout[i + l] * w[i + l];
            float xh = (x[i + l] - mean) * rstd;
            a1[l] += g;
            a2[l] += g * xh;
        }
    float sg = r_hsum(a1), sgx = r_hsum(a2);
    for (; i < C; i++) {
        float g = dout[i] * w[i];
        sg += g;
        sgx += g * ((x[i] - mean) * rstd);
    }
    float mg = sg / (float)C, mgx = sgx / (float)C;
    for (int64_t j = 0; j < C; j++) {
        float xh = (x[j] - mean) * rstd;
        din[j] += rstd * (dout[j] * w[j] - mg - xh * mgx);
    }
}

static void r_layernorm_bwd_cols(float *dw, float *db, const float *dout, const float *x, const float *mean,
                                 const float *rstd, int64_t rows, int64_t C, int64_t c0, int64_t c1) {
    float aw[OPS_COL_BLOCK], ab[OPS_COL_BLOCK];
    int64_t w = c1 - c0;
    for (int64_t j = 0; j < w; j++) { aw[j] = 0.0f; ab[j] = 0.0f; }
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dout + r * C + c0, *xr = x + r * C + c0;
        float mu = mean[r], rs = rstd[r];
        for (int64_t j = 0; j < w; j++) {
            aw[j] += g[j] * ((xr[j] - mu) * rs);
            ab[j] += g[j];
        }
    }
    for (int64_t j = 0; j < w; j++) dw[c0 + j] += aw[j];
    if (db)
        for (int64_t j = 0; j < w; j++) db[c0 + j] += ab[j];
}

/* ---- rmsnorm ------------------------------------------------------------------------------------- */
static void r_rmsnorm_fwd(float *out, float *rstd, const float *x, const float *w, int64_t C, float eps) {
    float ms = r_dot(x, x, C) / (float)C;
    float rs = 1.0f / r_sqrt(ms + eps);
    for (int64_t j = 0; j < C; j++) out[j] = x[j] * rs * w[j];
    *rstd = rs;
}

static void r_rmsnorm_bwd(float *din, const float *dout, const float *x, const float *w, float rstd, int64_t C) {
    /* din += rstd*g - x*rstd^3*mean(g*x), g = dout*w */
    float acc[L] = {0};
    int64_t i = 0;
    for (; i + L <= C; i += L)
        for (int l = 0; l < L; l++) acc[l] += dout[i + l] * w[i + l] * x[i + l];
    float s = r_hsum(acc);
    for (; i < C; i++) s += dout[i] * w[i] * x[i];
    float k = rstd * rstd * rstd * (s / (float)C);
    for (int64_t j = 0; j < C; j++) din[j] += rstd * dout[j] * w[j] - x[j] * k;
}

static void r_rmsnorm_bwd_cols(float *dw, const float *dout, const float *x, const float *rstd, int64_t rows,
                               int64_t C, int64_t c0, int64_t c1) {
    float aw[OPS_COL_BLOCK];
    int64_t w = c1 - c0;
    for (int64_t j = 0; j < w; j++) aw[j] = 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        const float *g = dout + r * C + c0, *xr = x + r * C + c0;
        float rs = rstd[r];
        for (int64_t j = 0; j < w; j++) aw[j] += g[j] * (xr[j] * rs);
    }
    for (int64_t j = 0; j < w; j++) dw[c0 + j] += aw[j];
}

/* ---- activations --------------------------------------------------------------------------------- */
#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f

static void r_act_fwd(float *out, const float *in, int64_t n, int act) {
    switch (act) {
    case LK_ACT_RELU:
        for (int64_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
        break;
    case LK_ACT_GELU_TANH:
        /* 0.5*(1 + tanh(u)) == sigmoid(2u): no cancellation for negative x */
        for (int64_t i = 0; i < n; i++) {
            float x = in[i];
            out[i] = x * r_sigmoid(2.0f * GELU_K * (x + GELU_C * x * x * x));
        }
        break;
    case LK_ACT_SILU:
        for (int64_t i = 0; i < n; i++) out[i] = in[i] * r_sigmoid(in[i]);
        break;
    case LK_ACT_TANH:
        for (int64_t i = 0; i < n; i++) out[i] = r_tanh(in[i]);
        break;
    case LK_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) out[i] = r_sigmoid(in[i]);
        break;
    default:
        break;
    }
}

static void r_act_bwd(float *din, const float *dout, const float *in, int64_t n, int act) {
    switch (act) {
    case LK_ACT_RELU:
        for (int64_t i = 0; i < n; i++) din[i] += in[i] > 0.0f ? dout[i] : 0.0f;
        break;
    case LK_ACT_GELU_TANH:
        for (int64_t i = 0; i < n; i++) {
            /* with s = sigmoid(2u): 0.5*(1+tanh u) = s, 0.5*(1 - tanh^2 u) = 2*s*(1-s) */
            float x = in[i];
            float oms, s = r_sigmoid_pair(2.0f * GELU_K * (x + GELU_C * x * x * x), &oms);
            float d = s + 2.0f * x * s * oms * GELU_K * (1.0f + 3.0f * GELU_C * x * x);
            din[i] += dout[i] * d;
        }
        break;
    case LK_ACT_SILU:
        for (int64_t i = 0; i < n; i++) {
            float oms, s = r_sigmoid_pair(in[i], &oms);
            din[i] += dout[i] * (s * (1.0f + in[i] * oms));
        }
        break;
    case LK_ACT_TANH:
        for (int64_t i = 0; i < n; i++) din[i] += dout[i] * r_tanh_grad(in[i]);
        break;
    case LK_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float oms, s = r_sigmoid_pair(in[i], &oms);
            din[i] += dout[i] * (s * oms);
        }
        break;
    default:
        break;
    }
}

static void r_swiglu_fwd(float *out, const float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = gate[i] * r_sigmoid(gate[i]) * up[i];
}

static void r_swiglu_bwd(float *dgate, float *dup, const float *dout, const float *gate, const float *up,
                         int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i], oms, s = r_sigmoid_pair(g, &oms);
        float go = dout[i];
        dgate[i] += go * up[i] * (s * (1.0f + g * oms));
        dup[i] += go * (g * s);
    }
}

/* ---- optimiser ----------------------------------------------------------------------------------- */
static void r_adam(float *p, float *m, float *v, const float *g, int64_t n, const ops_adam_consts *k) {
    const float b1 = k->beta1, b2 = k->beta2, ob1 = 1.0f - k->beta1, ob2 = 1.0f - k->beta2;
    const float gs = k->grad_scale, wd = k->weight_decay, ss = k->step_size, bc2 = k->bc2_sqrt, eps = k->eps;
    if (k->decoupled) {
        const float df = k->decay_factor;
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] * gs;
            float pi = p[i] * df;
            float mi = b1 * m[i] + ob1 * gi;
            float vi = b2 * v[i] + ob2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi - ss * mi / (r_sqrt(vi) / bc2 + eps);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float pi = p[i];
            float gi = g[i] * gs + wd * pi;
            float mi = b1 * m[i] + ob1 * gi;
            float vi = b2 * v[i] + ob2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi - ss * mi / (r_sqrt(vi) / bc2 + eps);
        }
    }
}

static double r_sum_squares(const float *x, int64_t n) {
    double acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += (double)x[i + l] * (double)x[i + l];
    double s = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    for (; i < n; i++) s += (double)x[i] * (double)x[i];
    return s;
}

/* ---- losses ------------------------------------------------------------------------------------- */
/* sum_i w_i*[max(x,0) - x*t + log1p(exp(-|x|))]: per element in float (a vectorised pass over a block),
 * then summed in 8 double lanes in a fixed order. */
static double r_bce_sum(const float *x, const float *t, const float *w, int64_t n) {
    enum { BLK = 256 };
    float buf[BLK];
    double acc[8] = {0};
    for (int64_t i0 = 0; i0 < n; i0 += BLK) {
        int64_t len = n - i0 < BLK ? n - i0 : BLK;
        const float *xb = x + i0, *tb = t + i0;
        for (int64_t j = 0; j < len; j++) {
            float xi = xb[j], a = xi < 0.0f ? -xi : xi;
            buf[j] = (xi > 0.0f ? xi : 0.0f) - xi * tb[j] + r_log1p_01(r_exp(-a));
        }
        if (w)
            for (int64_t j = 0; j < len; j++) buf[j] *= w[i0 + j];
        int64_t j = 0;
        for (; j + 8 <= len; j += 8)
            for (int l = 0; l < 8; l++) acc[l] += (double)buf[j + l];
        for (int l = 0; j + l < len; l++) acc[l] += (double)buf[j + l];
    }
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

/* d += k * w * (sigmoid(x) - t) */
static void r_bce_bwd(float *d, const float *x, const float *t, const float *w, int64_t n, float k) {
    if (w)
        for (int64_t i = 0; i < n; i++) d[i] += w[i] * (k * (r_sigmoid(x[i]) - t[i]));
    else
        for (int64_t i = 0; i < n; i++) d[i] += k * (r_sigmoid(x[i]) - t[i]);
}

/* ---- random numbers ------------------------------------------------------------------------------ */
static void r_dropout(float *out, const float *in, int64_t n, float p, float scale, uint64_t seed, uint64_t offset,
                      int accumulate) {
#pragma clang fp contract(off) /* out += in*f rounds like the _ref on every ISA */
    if (accumulate)
        for (int64_t i = 0; i < n; i++) {
            float f = ops_rng_u24(ops_rng_hash(seed, offset + (uint64_t)i)) >= p ? scale : 0.0f;
            out[i] += in[i] * f;
        }
    else
        for (int64_t i = 0; i < n; i++) {
            float f = ops_rng_u24(ops_rng_hash(seed, offset + (uint64_t)i)) >= p ? scale : 0.0f;
            out[i] = in[i] * f;
        }
}

static void r_fill_uniform(float *out, int64_t n, float lo, float w, uint64_t seed, uint64_t offset) {
#pragma clang fp contract(off) /* lo + w*u: same rounding on every ISA */
    for (int64_t i = 0; i < n; i++) out[i] = lo + w * ops_rng_u24(ops_rng_hash(seed, offset + (uint64_t)i));
}

/* ---- inference leaves (lk_infer.h) -------------------------------------------------------------- */
/* Queries in lanes: a block of up to L queries of one head is transposed into qt (D × L, scale folded in),
 * so the scores of key j for the whole block are one L-wide vector (st row j). The softmax over keys is then
 * elementwise across rows (no horizontal reductions), and the output is accumulated transposed (ot, D × L) and
 * written back row by row. Per query: s_j = Σ_d (scale·q_d)·k_jd in d order, p_j = exp(s_j − max), out =
 * (Σ_j p_j v_j) / Σ_j p_j with j in order. */
static void r_set_attention(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows, int64_t len,
                            int64_t H, int64_t D, float scale, float *scratch) {
#define ROW(t) ((rows ? (int64_t)rows[t] : (int64_t)(t)) * ldq)
    const int64_t hd = H * D;
    float *qt = scratch, *ot = qt + D * L, *mx = ot + D * L, *sum = mx + L, *st = sum + L;
    for (int64_t h = 0; h < H; h++) {
        const float *kbase = qkv + hd + h * D, *vbase = qkv + 2 * hd + h * D;
        for (int64_t i0 = 0; i0 < len; i0 += L) {
            const int64_t nq = len - i0 < L ? len - i0 : L;
            for (int64_t l = 0; l < nq; l++) {
                const float *q = qkv + ROW(i0 + l) + h * D;
                for (int64_t d = 0; d < D; d++) qt[d * L + l] = q[d] * scale;
            }
            for (int64_t l = nq; l < L; l++)
                for (int64_t d = 0; d < D; d++) qt[d * L + l] = 0.0f;
            for (int l = 0; l < L; l++) mx[l] = -__builtin_inff();
            for (int64_t j = 0; j < len; j++) {
                const float *k = kbase + ROW(j);
                float a[L] = {0};
                for (int64_t d = 0; d < D; d++)
                    for (int l = 0; l < L; l++) a[l] += k[d] * qt[d * L + l];
                for (int l = 0; l < L; l++) {
                    st[j * L + l] = a[l];
                    mx[l] = a[l] > mx[l] ? a[l] : mx[l];
                }
            }
            for (int l = 0; l < L; l++) sum[l] = 0.0f;
            for (int64_t j = 0; j < len; j++)
                for (int l = 0; l < L; l++) {
                    const float e = r_exp(st[j * L + l] - mx[l]);
                    st[j * L + l] = e;
                    sum[l] += e;
                }
            int64_t d = 0;
            for (; d + 4 <= D; d += 4) {   /* four output columns: independent FMA chains over keys */
                float a0[L] = {0}, a1[L] = {0}, a2[L] = {0}, a3[L] = {0};
                for (int64_t jj = 0; jj < len; jj++) {
                    const float *v = vbase + ROW(jj) + d, *p = st + jj * L;
                    for (int l = 0; l < L; l++) {
                        a0[l] += p[l] * v[0];
                        a1[l] += p[l] * v[1];
                        a2[l] += p[l] * v[2];
                        a3[l] += p[l] * v[3];
                    }
                }
                for (int l = 0; l < L; l++) {
                    ot[d * L + l] = a0[l] / sum[l];
                    ot[(d + 1) * L + l] = a1[l] / sum[l];
                    ot[(d + 2) * L + l] = a2[l] / sum[l];
                    ot[(d + 3) * L + l] = a3[l] / sum[l];
                }
            }
            for (; d < D; d++) {
                float a[L] = {0};
                for (int64_t jj = 0; jj < len; jj++) {
                    const float v = vbase[ROW(jj) + d];
                    for (int l = 0; l < L; l++) a[l] += st[jj * L + l] * v;
                }
                for (int l = 0; l < L; l++) ot[d * L + l] = a[l] / sum[l];
            }
            for (int64_t l = 0; l < nq; l++) {
                float *o = out + (i0 + l) * ldo + h * D;
                for (int64_t d = 0; d < D; d++) o[d] = ot[d * L + l];
            }
        }
    }
}

#undef ROW

static void r_rows_mean(float *out, const float *in, int64_t len, int64_t C) {
    for (int64_t c = 0; c < C; c++) out[c] = 0.0f;
    for (int64_t t = 0; t < len; t++)
        for (int64_t c = 0; c < C; c++) out[c] += in[t * C + c];
    if (len > 0) {
        const float inv = 1.0f / (float)len;
        for (int64_t c = 0; c < C; c++) out[c] *= inv;
    }
}

#undef L

const ops_rows OPS_ROWS_TABLE = {
    .isa = OPS_ROWS_ISA,
    .softmax_fwd = r_softmax_fwd,
    .softmax_bwd = r_softmax_bwd,
    .layernorm_fwd = r_layernorm_fwd,
    .layernorm_bwd = r_layernorm_bwd,
    .layernorm_bwd_cols = r_layernorm_bwd_cols,
    .rmsnorm_fwd = r_rmsnorm_fwd,
    .rmsnorm_bwd = r_rmsnorm_bwd,
    .rmsnorm_bwd_cols = r_rmsnorm_bwd_cols,
    .act_fwd = r_act_fwd,
    .act_bwd = r_act_bwd,
    .swiglu_fwd = r_swiglu_fwd,
    .swiglu_bwd = r_swiglu_bwd,
    .adam = r_adam,
    .sum_squares = r_sum_squares,
    .bce_sum = r_bce_sum,
    .bce_bwd = r_bce_bwd,
    .dropout = r_dropout,
    .fill_uniform = r_fill_uniform,
    .set_attention = r_set_attention,
    .rows_mean = r_rows_mean,
};

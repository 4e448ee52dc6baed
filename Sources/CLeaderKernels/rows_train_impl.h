/* Part of ops_rows_impl.h (one ISA build): the training row functions — layer and RMS norms, activations and
 * SwiGLU (forward and backward), the Adam step, the BCE loss, counter-based dropout and uniform fills. The
 * forward norms and activations also serve inference. */
#ifndef OPS_ROWS_TABLE
#error "include ops_rows_impl.h, not this part"
#endif

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


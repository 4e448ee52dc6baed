/* Part of ops_rows_impl.h (one ISA build): the maths primitives every row function uses — branch-free exp,
 * sigmoid, tanh and log polynomials, fixed-lane sums and dot products, the row softmax. */
#ifndef OPS_ROWS_TABLE
#error "include ops_rows_impl.h, not this part"
#endif

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


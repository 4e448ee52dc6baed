/* 256-bit pieces of the int8 products: the Q8A row quantiser (AVX2, bit-identical to lk_quantize_q8a_ref) and
 * panel kernels over panels of 16 columns: AVX-VNNI (vpdpbusd ymm) and plain AVX2 (vpmaddubsw + vpmaddwd;
 * exact for the 4-bit codes, |u*q| pairs <= 2*15*127; Q8_0 has its own kernel, with the sign trick), and the
 * GEMV of M < 4. Reached only through quant_q8.c, which checks the CPU. */
#include "lk_quant.h"
#include "quant_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static inline int32_t load_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline float load_f(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }

enum { PW = 16, REC = PW * 40, MR = 2 };

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

static inline float hmax8(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

void lk_quantize_q8a_rows_avx2(uint8_t *Xq, const float *X, int64_t ldx, int64_t r0, int64_t r1, int64_t K) {
    const int64_t nb = K / QK, rb = nb * LK_Q8A_BLOCK_BYTES;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t i = r0; i < r1; i++)
        for (int64_t b = 0; b < nb; b++) {
            const float *x = X + i * ldx + b * QK;
            uint8_t *blk = Xq + i * rb + b * LK_Q8A_BLOCK_BYTES;
            __m256 v[4], m = _mm256_setzero_ps();
            for (int h = 0; h < 4; h++) {
                v[h] = _mm256_loadu_ps(x + 8 * h);
                m = _mm256_max_ps(m, _mm256_and_ps(v[h], absmask));
            }
            const float amax = hmax8(m);
            const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            const __m256 vid = _mm256_set1_ps(id);
            int32_t q[QK];
            __m256i sum = _mm256_setzero_si256();
            for (int h = 0; h < 4; h++) {
                __m256i qi = _mm256_cvtps_epi32(_mm256_mul_ps(v[h], vid));
                qi = _mm256_max_epi32(_mm256_min_epi32(qi, _mm256_set1_epi32(127)), _mm256_set1_epi32(-127));
                sum = _mm256_add_epi32(sum, qi);
                _mm256_storeu_si256((__m256i *)(q + 8 * h), qi);
            }
            int32_t s8[8], total = 0;
            _mm256_storeu_si256((__m256i *)s8, sum);
            for (int j = 0; j < 8; j++) total += s8[j];
            for (int j = 0; j < QK; j++) blk[Q8A_Q + j] = (uint8_t)(int8_t)q[j];
            const float s = d * (float)total;
            memcpy(blk + Q8A_D, &d, 4);
            memcpy(blk + Q8A_S, &s, 4);
        }
}

/* The f32 combine and store shared by the kernels: acc += cvt(idot)*(dw*dx) + c*s per block. SIGNED (Q8_0 on
 * plain AVX2): the panel's codes u = w + 128 go back to w = u ^ 0x80, and vpmaddubsw takes |w| against x with
 * w's sign (llama.cpp's sign trick: pairs at most 2*128*127 < 2^15, where u*x pairs would saturate); idot is
 * then sum w*x itself, so the c*s term (c = -128 dw) is left out. */
#define Q8_TILE_BODY(DOT, SIGNED)                                                                                \
    __m256 acc[MR][2];                                                                                           \
    for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();                                    \
    for (int64_t b = 0; b < nb; b++) {                                                                           \
        const uint8_t *rec = panel + b * REC;                                                                    \
        const uint8_t *xb = X + b * LK_Q8A_BLOCK_BYTES;                                                          \
        __m256i ia[MR][2];                                                                                       \
        for (int i = 0; i < mr; i++) ia[i][0] = ia[i][1] = _mm256_setzero_si256();                               \
        for (int t = 0; t < 8; t++) {                                                                            \
            __m256i w0 = _mm256_load_si256((const __m256i *)(rec + t * 64));                                     \
            __m256i w1 = _mm256_load_si256((const __m256i *)(rec + t * 64 + 32));                                \
            __m256i s0 = w0, s1 = w1;                                                                            \
            if (SIGNED) {                                                                                        \
                s0 = _mm256_xor_si256(w0, _mm256_set1_epi8((char)0x80));                                         \
                s1 = _mm256_xor_si256(w1, _mm256_set1_epi8((char)0x80));                                         \
                w0 = _mm256_abs_epi8(s0);                                                                        \
                w1 = _mm256_abs_epi8(s1);                                                                        \
            }                                                                                                    \
            for (int i = 0; i < mr; i++) {                                                                       \
                const __m256i a = _mm256_set1_epi32(load_i32(xb + i * xrb + Q8A_Q + 4 * t));                     \
                ia[i][0] = DOT(ia[i][0], w0, SIGNED ? _mm256_sign_epi8(a, s0) : a);                              \
                ia[i][1] = DOT(ia[i][1], w1, SIGNED ? _mm256_sign_epi8(a, s1) : a);                              \
            }                                                                                                    \
        }                                                                                                        \
        const __m256 d0 = _mm256_load_ps((const float *)(rec + 512)), d1 = _mm256_load_ps((const float *)(rec + 544)); \
        const __m256 c0 = _mm256_load_ps((const float *)(rec + 576)), c1 = _mm256_load_ps((const float *)(rec + 608)); \
        for (int i = 0; i < mr; i++) {                                                                           \
            const __m256 dx = _mm256_set1_ps(load_f(xb + i * xrb + Q8A_D));                                      \
            const __m256 s = _mm256_set1_ps(load_f(xb + i * xrb + Q8A_S));                                       \
            acc[i][0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[i][0]), _mm256_mul_ps(d0, dx), acc[i][0]);         \
            acc[i][1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ia[i][1]), _mm256_mul_ps(d1, dx), acc[i][1]);         \
            if (!SIGNED) {                                                                                       \
                acc[i][0] = _mm256_fmadd_ps(c0, s, acc[i][0]);                                                   \
                acc[i][1] = _mm256_fmadd_ps(c1, s, acc[i][1]);                                                   \
            }                                                                                                    \
        }                                                                                                        \
    }                                                                                                            \
    for (int i = 0; i < mr; i++) {                                                                               \
        float out[PW];                                                                                           \
        _mm256_storeu_ps(out, acc[i][0]);                                                                        \
        _mm256_storeu_ps(out + 8, acc[i][1]);                                                                    \
        float *y = Y + i * ldy;                                                                                  \
        for (int j = 0; j < cols; j++) y[j] = beta == 0.0f ? out[j] : out[j] + beta * y[j];                     \
    }

static inline __m256i dot_maddubs(__m256i acc, __m256i u, __m256i q) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, q), _mm256_set1_epi16(1)));
}

static inline __attribute__((always_inline)) void tile_avx2(int mr, int signed_codes, float *Y, int64_t ldy,
                                                            const uint8_t *X, int64_t xrb, const uint8_t *panel,
                                                            int64_t nb, int cols, float beta) {
    Q8_TILE_BODY(dot_maddubs, signed_codes)
}

static inline __attribute__((always_inline)) void panel_avx2(int signed_codes, float *Y, int64_t ldy,
                                                             const uint8_t *Xq, int64_t xrb, int64_t rows,
                                                             const uint8_t *panel, int64_t nb, int cols, float beta) {
    int64_t i = 0;
    for (; i + MR <= rows; i += MR)
        tile_avx2(MR, signed_codes, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, cols, beta);
    if (i < rows) tile_avx2(1, signed_codes, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, cols, beta);
}

void lk_q8_panel_avx2(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows,
                      const uint8_t *panel, int64_t nb, int cols, float beta) {
    panel_avx2(0, Y, ldy, Xq, xrb, rows, panel, nb, cols, beta);
}

void lk_q8_panel_avx2_q8_0(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows,
                           const uint8_t *panel, int64_t nb, int cols, float beta) {
    panel_avx2(1, Y, ldy, Xq, xrb, rows, panel, nb, cols, beta);
}

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma,avxvnni"))), apply_to = function)

static inline __m256i dot_vnni(__m256i acc, __m256i u, __m256i q) { return _mm256_dpbusd_avx_epi32(acc, u, q); }

static inline __attribute__((always_inline)) void tile_vnni(int mr, float *Y, int64_t ldy, const uint8_t *X,
                                                            int64_t xrb, const uint8_t *panel, int64_t nb, int cols,
                                                            float beta) {
    Q8_TILE_BODY(dot_vnni, 0)
}

void lk_q8_panel_avxvnni(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows,
                         const uint8_t *panel, int64_t nb, int cols, float beta) {
    int64_t i = 0;
    for (; i + MR <= rows; i += MR) tile_vnni(MR, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, cols, beta);
    if (i < rows) tile_vnni(1, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, cols, beta);
}

#pragma clang attribute pop
/* M < 4 (decoding) on AVX2: no panel packing (at M = 1 it was most of the call). Per W row and block, the 32
 * codes go from the file into one ymm (Q4: low nibbles then high, the element order) and are multiplied with the
 * activation codes by vpmaddubsw + vpmaddwd into 8 int32 sums; acc8 += cvt(sums) * (dw*dx) per lane and, for
 * Q4, accc += c*s. Q8_0 codes are signed: llama.cpp's sign trick (|w| against x carrying w's sign, pairs at most
 * 2*128*127 < 2^15) gives sum w*x exactly, so the c term is not needed. One W row per pass (the weights stream
 * from memory, as for lk_q8_gemv_avx512vnni). Rows [n_lo, n_hi) of W against the rows (<= 3) of Xq. */
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

static inline float h2f_avx2(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

static inline float hsum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}

static inline __attribute__((always_inline)) void gemv_row_avx2(const int MR, const int dt, float *Y, int64_t ldy,
                                                                const uint8_t *Xq, int64_t xrb, const uint8_t *w,
                                                                int64_t nb, float beta) {
    const int64_t bb = dt == LK_DTYPE_Q8_0 ? 34 : (dt == LK_DTYPE_Q4_0 ? 18 : 20);
    const int qoff = dt == LK_DTYPE_Q4_1 ? 4 : 2;
    const __m256i low4 = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
    __m256 acc[3];
    float accc[3];
    for (int i = 0; i < MR; i++) { acc[i] = _mm256_setzero_ps(); accc[i] = 0.0f; }
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *wb = w + b * bb;
        const float dw = h2f_avx2(wb);
        __m256i u;
        float c = 0.0f;
        if (dt == LK_DTYPE_Q8_0) {
            u = _mm256_loadu_si256((const __m256i *)(wb + 2));
        } else {
            const __m128i qs = _mm_loadu_si128((const __m128i *)(wb + qoff));
            u = _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(qs), _mm_srli_epi16(qs, 4), 1), low4);
            c = dt == LK_DTYPE_Q4_1 ? h2f_avx2(wb + 2) : -8.0f * dw;
        }
        for (int i = 0; i < MR; i++) {
            const uint8_t *xb = Xq + i * xrb + b * LK_Q8A_BLOCK_BYTES;
            const __m256i q = _mm256_loadu_si256((const __m256i *)(xb + Q8A_Q));
            const __m256i pairs = dt == LK_DTYPE_Q8_0
                                      ? _mm256_maddubs_epi16(_mm256_sign_epi8(u, u), _mm256_sign_epi8(q, u))
                                      : _mm256_maddubs_epi16(u, q);
            const __m256 sums = _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, ones));
            acc[i] = _mm256_fmadd_ps(sums, _mm256_set1_ps(dw * load_f(xb + Q8A_D)), acc[i]);
            if (dt != LK_DTYPE_Q8_0) accc[i] += c * load_f(xb + Q8A_S);
        }
    }
    for (int i = 0; i < MR; i++) {
        const float v = hsum8(acc[i]) + accc[i];
        float *y = Y + i * ldy;
        *y = beta == 0.0f ? v : v + beta * *y;
    }
}

static inline __attribute__((always_inline)) void gemv_avx2_dtype(const int dt, float *Y, int64_t ldy,
                                                                  const uint8_t *Xq, int64_t xrb, int64_t rows,
                                                                  const uint8_t *W, int64_t wrb, int64_t n_lo,
                                                                  int64_t n_hi, int64_t nb, float beta) {
    for (int64_t n = n_lo; n < n_hi; n++) {
        if (rows == 1) gemv_row_avx2(1, dt, Y + n, ldy, Xq, xrb, W + n * wrb, nb, beta);
        else if (rows == 2) gemv_row_avx2(2, dt, Y + n, ldy, Xq, xrb, W + n * wrb, nb, beta);
        else gemv_row_avx2(3, dt, Y + n, ldy, Xq, xrb, W + n * wrb, nb, beta);
    }
}

void lk_q8_gemv_avx2(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows, const uint8_t *W,
                     int64_t wrb, int64_t n_lo, int64_t n_hi, int64_t nb, int dtype, float beta) {
    if (dtype == LK_DTYPE_Q4_1) gemv_avx2_dtype(LK_DTYPE_Q4_1, Y, ldy, Xq, xrb, rows, W, wrb, n_lo, n_hi, nb, beta);
    else if (dtype == LK_DTYPE_Q4_0) gemv_avx2_dtype(LK_DTYPE_Q4_0, Y, ldy, Xq, xrb, rows, W, wrb, n_lo, n_hi, nb, beta);
    else gemv_avx2_dtype(LK_DTYPE_Q8_0, Y, ldy, Xq, xrb, rows, W, wrb, n_lo, n_hi, nb, beta);
}

#pragma clang attribute pop
#endif

/* AVX-512 pieces of the int8 products: the Q8A row quantiser (AVX512F/BW, bit-identical to
 * lk_quantize_q8a_ref) and the AVX512-VNNI panel kernel (vpdpbusd). Reached only through quant_q8.c, which
 * checks the CPU; the rest of the target stays baseline x86-64. */
#include "lk_quant.h"
#include "quant_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,avx2,fma,f16c"))), \
                             apply_to = function)

/* Rows [r0, r1) of X into Q8A. Same operations as quantize_block_ref: max of |x| (exact), d = amax/127,
 * id = 1/d, q = cvtps (round to nearest even under the default MXCSR), s = d*(float)sum(q). */
void lk_quantize_q8a_rows_avx512(uint8_t *Xq, const float *X, int64_t ldx, int64_t r0, int64_t r1, int64_t K) {
    const int64_t nb = K / QK, rb = nb * LK_Q8A_BLOCK_BYTES;
    const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    for (int64_t i = r0; i < r1; i++)
        for (int64_t b = 0; b < nb; b++) {
            const float *x = X + i * ldx + b * QK;
            uint8_t *blk = Xq + i * rb + b * LK_Q8A_BLOCK_BYTES;
            const __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
            const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(x0, absmask), _mm512_and_ps(x1, absmask)));
            const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            const __m512 vid = _mm512_set1_ps(id);
            const __m512i lim = _mm512_set1_epi32(127), nlim = _mm512_set1_epi32(-127);
            __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, vid)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, vid));
            q0 = _mm512_max_epi32(_mm512_min_epi32(q0, lim), nlim);
            q1 = _mm512_max_epi32(_mm512_min_epi32(q1, lim), nlim);
            const int32_t sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
            _mm_storeu_si128((__m128i *)(blk + Q8A_Q), _mm512_cvtepi32_epi8(q0));
            _mm_storeu_si128((__m128i *)(blk + Q8A_Q + 16), _mm512_cvtepi32_epi8(q1));
            const float s = d * (float)sum;
            memcpy(blk + Q8A_D, &d, 4);
            memcpy(blk + Q8A_S, &s, 4);
        }
}

static inline int32_t load_i32(const uint8_t *p) { int32_t v; memcpy(&v, p, 4); return v; }
static inline float load_f(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }

enum { PW = 32, REC = PW * 40, MR = 4 };

/* mr (<= MR, a constant after inlining) rows of Xq against one panel of 32 columns. Per block: 8 groups of 4
 * k values, each one vpdpbusd per row and 16-column half (u8 weight codes x broadcast s8 activation codes,
 * int32 lanes = columns), then acc += cvt(idot) * (dw*dx) and acc += c*s in f32. */
static inline __attribute__((always_inline)) void tile(int mr, float *Y, int64_t ldy, const uint8_t *X, int64_t xrb,
                                                       const uint8_t *panel, int64_t nb, __mmask16 m0, __mmask16 m1,
                                                       float beta) {
    __m512 acc[MR][2];
    for (int i = 0; i < mr; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *rec = panel + b * REC;
        const uint8_t *xb = X + b * LK_Q8A_BLOCK_BYTES;
        __m512i ia[MR][2];
        for (int i = 0; i < mr; i++) ia[i][0] = ia[i][1] = _mm512_setzero_si512();
        for (int t = 0; t < 8; t++) {
            const __m512i w0 = _mm512_load_si512((const void *)(rec + t * 128));
            const __m512i w1 = _mm512_load_si512((const void *)(rec + t * 128 + 64));
            for (int i = 0; i < mr; i++) {
                const __m512i a = _mm512_set1_epi32(load_i32(xb + i * xrb + Q8A_Q + 4 * t));
                ia[i][0] = _mm512_dpbusd_epi32(ia[i][0], w0, a);
                ia[i][1] = _mm512_dpbusd_epi32(ia[i][1], w1, a);
            }
        }
        const __m512 d0 = _mm512_load_ps((const float *)(rec + 1024)), d1 = _mm512_load_ps((const float *)(rec + 1088));
        const __m512 c0 = _mm512_load_ps((const float *)(rec + 1152)), c1 = _mm512_load_ps((const float *)(rec + 1216));
        for (int i = 0; i < mr; i++) {
            const __m512 dx = _mm512_set1_ps(load_f(xb + i * xrb + Q8A_D));
            const __m512 s = _mm512_set1_ps(load_f(xb + i * xrb + Q8A_S));
            acc[i][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[i][0]), _mm512_mul_ps(d0, dx), acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[i][1]), _mm512_mul_ps(d1, dx), acc[i][1]);
            acc[i][0] = _mm512_fmadd_ps(c0, s, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(c1, s, acc[i][1]);
        }
    }
    const __m512 vb = _mm512_set1_ps(beta);
    for (int i = 0; i < mr; i++) {
        float *y = Y + i * ldy;
        __m512 r0 = acc[i][0], r1 = acc[i][1];
        if (beta != 0.0f) {
            r0 = _mm512_add_ps(r0, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m0, y)));
            r1 = _mm512_add_ps(r1, _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m1, y + 16)));
        }
        _mm512_mask_storeu_ps(y, m0, r0);
        _mm512_mask_storeu_ps(y + 16, m1, r1);
    }
}

void lk_q8_panel_avx512vnni(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows,
                            const uint8_t *panel, int64_t nb, int cols, float beta) {
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : (cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1));
    int64_t i = 0;
    for (; i + MR <= rows; i += MR) tile(MR, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, m0, m1, beta);
    switch (rows - i) {
    case 3: tile(3, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, m0, m1, beta); break;
    case 2: tile(2, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, m0, m1, beta); break;
    case 1: tile(1, Y + i * ldy, ldy, Xq + i * xrb, xrb, panel, nb, m0, m1, beta); break;
    default: break;
    }
}

/* M < 4 (decoding): no weight packing. The caller lays the activation rows out once per call
 * (lk_q8_gemv_pack_x_avx512); then per W row and pair of blocks the 64 codes go from the file into one zmm (Q4:
 * [lo(b), lo(b+1), hi(b), hi(b+1)], Q8_0: [b, b+1]), one 512-bit vpdpbusd against the matching activation codes
 * gives 16 int32 partial sums, and acc += cvt(partial) * (dw*dx) per lane, the per-lane scales spread from the two
 * blocks' f16 scales by one vpermps; the c*s terms of the pair go into a 4-lane accumulator (Q4_1: the file's
 * [d, m] pairs converted together, m in lanes 1 and 3; Q4_0 / Q8_0: dw in lanes 0 and 1 against (-8 or -128)*s).
 * At the end y = sum(acc) + sum(accc). W rows go one at a time: measured on AMD Zen 4 for the SmolLM2-135M
 * decoding shapes, 2 or 4 rows per pass were 1.5-2.3x slower (the weight streams from memory; one row is one
 * sequential read). An odd last block pairs with zeros. Each output's arithmetic depends only on its W row. */
enum { GX = 192 };   /* packed activations per block pair: 64 codes, 64 dx lanes, 16 s lanes, padding */

int64_t lk_q8_gemv_x_bytes(int64_t nb) { return (nb + 1) / 2 * GX; }

void lk_q8_gemv_pack_x_avx512(uint8_t *Xp, const uint8_t *Xq, int64_t xrb, int64_t rows, int64_t nb, int dtype) {
    const int64_t pb = lk_q8_gemv_x_bytes(nb);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t p = 0; p < (nb + 1) / 2; p++) {
            uint8_t *o = Xp + i * pb + p * GX;
            float dx[2] = {0.0f, 0.0f}, s[2] = {0.0f, 0.0f};
            memset(o, 0, GX);
            for (int h = 0; h < 2 && 2 * p + h < nb; h++) {
                const uint8_t *xb = Xq + i * xrb + (2 * p + h) * LK_Q8A_BLOCK_BYTES;
                dx[h] = load_f(xb + Q8A_D);
                s[h] = load_f(xb + Q8A_S);
                if (dtype == LK_DTYPE_Q8_0) memcpy(o + 32 * h, xb + Q8A_Q, 32);
                else {
                    memcpy(o + 16 * h, xb + Q8A_Q, 16);
                    memcpy(o + 32 + 16 * h, xb + Q8A_Q + 16, 16);
                }
            }
            float lanes[16], sl[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int l = 0; l < 16; l++) lanes[l] = dtype == LK_DTYPE_Q8_0 ? dx[l / 8] : dx[(l / 4) & 1];
            if (dtype == LK_DTYPE_Q4_1) { sl[1] = s[0]; sl[3] = s[1]; }
            else {
                const float k = dtype == LK_DTYPE_Q8_0 ? -128.0f : -8.0f;   /* c = k*dw; k*s is exact */
                sl[0] = k * s[0];
                sl[1] = k * s[1];
            }
            memcpy(o + 64, lanes, sizeof lanes);
            memcpy(o + 128, sl, sizeof sl);
        }
}

/* One W row's pair of blocks (w1 NULL: an odd last block, its partner all zero): codes and the f16 scales. */
static inline __attribute__((always_inline)) __m512i pair_codes(const int dt, const uint8_t *w0, const uint8_t *w1) {
    const int qoff = dt == LK_DTYPE_Q4_1 ? 4 : 2;
    if (dt == LK_DTYPE_Q8_0) {
        const __m256i b = w1 ? _mm256_loadu_si256((const __m256i *)(w1 + 2)) : _mm256_set1_epi8((char)0x80);
        const __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(w0 + 2))), b, 1);
        return _mm512_xor_si512(z, _mm512_set1_epi8((char)0x80));
    }
    const __m128i q1 = w1 ? _mm_loadu_si128((const __m128i *)(w1 + qoff)) : _mm_setzero_si128();
    const __m256i t = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(w0 + qoff))), q1, 1);
    return _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(t), _mm256_srli_epi16(t, 4), 1), _mm512_set1_epi8(15));
}

static inline __attribute__((always_inline)) __m128 pair_scales(const int dt, const uint8_t *w0, const uint8_t *w1) {
    if (dt == LK_DTYPE_Q4_1)   /* [d0, m0, d1, m1] */
        return _mm_cvtph_ps(_mm_insert_epi32(_mm_cvtsi32_si128(load_i32(w0)), w1 ? load_i32(w1) : 0, 1));
    return _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(lk_load_u16(w0)), w1 ? lk_load_u16(w1) : 0, 1));   /* [d0, d1] */
}

static inline __attribute__((always_inline)) void gemv_row(const int MR, const int dt, float *Y, int64_t ldy,
                                                           const uint8_t *Xp, const uint8_t *w, int64_t nb,
                                                           float beta) {
    const int64_t bb = dt == LK_DTYPE_Q8_0 ? 34 : (dt == LK_DTYPE_Q4_0 ? 18 : 20), pb = lk_q8_gemv_x_bytes(nb);
    const __m512i idx = dt == LK_DTYPE_Q8_0   ? _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)
                        : dt == LK_DTYPE_Q4_1 ? _mm512_set_epi32(2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0)
                                              : _mm512_set_epi32(1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0);
    __m512 acc[3];
    __m128 accc[3];
    for (int i = 0; i < MR; i++) { acc[i] = _mm512_setzero_ps(); accc[i] = _mm_setzero_ps(); }
    for (int64_t p = 0; 2 * p < nb; p++) {
        const uint8_t *w0 = w + 2 * p * bb, *w1 = 2 * p + 1 < nb ? w0 + bb : NULL;
        const __m512i z = pair_codes(dt, w0, w1);
        const __m128 sc = pair_scales(dt, w0, w1);
        const __m512 dw = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(sc));
        for (int i = 0; i < MR; i++) {
            const uint8_t *xp = Xp + i * pb + p * GX;
            const __m512i part = _mm512_dpbusd_epi32(_mm512_setzero_si512(), z, _mm512_load_si512((const void *)xp));
            const __m512 s = _mm512_mul_ps(dw, _mm512_load_ps((const float *)(xp + 64)));
            acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(part), s, acc[i]);
            accc[i] = _mm_fmadd_ps(sc, _mm_load_ps((const float *)(xp + 128)), accc[i]);
        }
    }
    for (int i = 0; i < MR; i++) {
        __m128 c = _mm_add_ps(accc[i], _mm_movehl_ps(accc[i], accc[i]));
        c = _mm_add_ss(c, _mm_shuffle_ps(c, c, 1));
        const float v = _mm512_reduce_add_ps(acc[i]) + _mm_cvtss_f32(c);
        float *y = Y + i * ldy;
        *y = beta == 0.0f ? v : v + beta * *y;
    }
}

static inline __attribute__((always_inline)) void gemv_dtype(const int dt, float *Y, int64_t ldy, const uint8_t *Xp,
                                                             int64_t rows, const uint8_t *W, int64_t wrb,
                                                             int64_t n_lo, int64_t n_hi, int64_t nb, float beta) {
    for (int64_t n = n_lo; n < n_hi; n++) {
        if (rows == 1) gemv_row(1, dt, Y + n, ldy, Xp, W + n * wrb, nb, beta);
        else if (rows == 2) gemv_row(2, dt, Y + n, ldy, Xp, W + n * wrb, nb, beta);
        else gemv_row(3, dt, Y + n, ldy, Xp, W + n * wrb, nb, beta);
    }
}

void lk_q8_gemv_avx512vnni(float *Y, int64_t ldy, const uint8_t *Xp, int64_t rows, const uint8_t *W, int64_t wrb,
                           int64_t n_lo, int64_t n_hi, int64_t nb, int dtype, float beta) {
    if (dtype == LK_DTYPE_Q4_1) gemv_dtype(LK_DTYPE_Q4_1, Y, ldy, Xp, rows, W, wrb, n_lo, n_hi, nb, beta);
    else if (dtype == LK_DTYPE_Q4_0) gemv_dtype(LK_DTYPE_Q4_0, Y, ldy, Xp, rows, W, wrb, n_lo, n_hi, nb, beta);
    else gemv_dtype(LK_DTYPE_Q8_0, Y, ldy, Xp, rows, W, wrb, n_lo, n_hi, nb, beta);
}

static inline float h2f_scale(const uint8_t *p) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128((int)lk_load_u16(p))));
}

/* Panel packing (lk_q8_pack_panel's layout): per column and block, the 32 unsigned codes go out as eight 4-byte
 * groups, group t at (t*pw + j)*4, straight from one 16-byte (Q4) or two (Q8_0) loads; scales converted by F16C
 * (same values as lk_f16_to_f32 for every non-NaN half). */
void lk_q8_pack_panel_avx512(uint8_t *dst, int pw, const uint8_t *W, int64_t row_bytes, int64_t n0, int cols,
                             int64_t nb, int dtype) {
    const int64_t rec = q8_panel_block_bytes(pw), bb = dtype == LK_DTYPE_Q8_0 ? 34 : (dtype == LK_DTYPE_Q4_0 ? 18 : 20);
    const int qoff = dtype == LK_DTYPE_Q4_1 ? 4 : 2;
    const __m128i low4 = _mm_set1_epi8(15), flip = _mm_set1_epi8((char)0x80);
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *r = dst + b * rec;
        float *dws = (float *)(r + 32 * pw), *cs = dws + pw;
        for (int j = 0; j < cols; j++) {
            const uint8_t *wb = W + (n0 + j) * row_bytes + b * bb;
            const float dw = h2f_scale(wb);
            __m128i lo, hi;
            if (dtype == LK_DTYPE_Q8_0) {
                lo = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(wb + 2)), flip);
                hi = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(wb + 18)), flip);
                cs[j] = -128.0f * dw;
            } else {
                const __m128i qs = _mm_loadu_si128((const __m128i *)(wb + qoff));
                lo = _mm_and_si128(qs, low4);
                hi = _mm_and_si128(_mm_srli_epi16(qs, 4), low4);
                cs[j] = dtype == LK_DTYPE_Q4_1 ? h2f_scale(wb + 2) : -8.0f * dw;
            }
            dws[j] = dw;
            uint8_t *col = r + (int64_t)j * 4;
            const int64_t step = (int64_t)pw * 4;
            lk_store_u32(col, (uint32_t)_mm_cvtsi128_si32(lo));
            lk_store_u32(col + step, (uint32_t)_mm_extract_epi32(lo, 1));
            lk_store_u32(col + 2 * step, (uint32_t)_mm_extract_epi32(lo, 2));
            lk_store_u32(col + 3 * step, (uint32_t)_mm_extract_epi32(lo, 3));
            lk_store_u32(col + 4 * step, (uint32_t)_mm_cvtsi128_si32(hi));
            lk_store_u32(col + 5 * step, (uint32_t)_mm_extract_epi32(hi, 1));
            lk_store_u32(col + 6 * step, (uint32_t)_mm_extract_epi32(hi, 2));
            lk_store_u32(col + 7 * step, (uint32_t)_mm_extract_epi32(hi, 3));
        }
        for (int j = cols; j < pw; j++) {
            dws[j] = 0.0f;
            cs[j] = 0.0f;
            for (int t = 0; t < 8; t++) lk_store_u32(r + ((int64_t)t * pw + j) * 4, 0);
        }
    }
}

#pragma clang attribute pop
#endif

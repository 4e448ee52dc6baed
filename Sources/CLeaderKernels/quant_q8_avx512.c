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

/* M < 4 (decoding): no packing; per W row and block the 32 codes are unpacked in a ymm straight from the file
 * (low nibbles in bytes 0-15, high in 16-31: the element order) and one 256-bit vpdpbusd against the row's
 * activation codes gives 8 int32 partial sums; acc8 += cvt(partial) * (dw*dx) per lane, accc += c*s; at the
 * end y = sum(acc8) + accc. Q4_0 / Q4_1 rows are taken four per pass (R = 4, the last ones 1 at a time): they
 * share the activation loads and give four independent accumulator chains (on AMD Zen 4 2-2.5x faster than one
 * row at a time for the teacher's layer shapes, 1.5x for a 49152-row weight streamed from memory; eight per pass
 * was 8 % faster in cache but slower streaming). Q8_0 rows go one at a time: four or eight per pass were 2x
 * slower on its 49152-row LM head. Each output's arithmetic is the same whatever R is. Rows [n_lo, n_hi) of W. */
static inline float h2f_scale(const uint8_t *p) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128((int)lk_load_u16(p))));
}

static inline __attribute__((always_inline)) void gemv_rows(const int R, float *Y, int64_t ldy, const uint8_t *Xq,
                                                            int64_t xrb, int64_t rows, const uint8_t *W, int64_t wrb,
                                                            int64_t n, int64_t nb, int dtype, float beta) {
    const int64_t bb = dtype == LK_DTYPE_Q8_0 ? 34 : (dtype == LK_DTYPE_Q4_0 ? 18 : 20);
    const int qoff = dtype == LK_DTYPE_Q4_1 ? 4 : 2;
    const __m256i low4 = _mm256_set1_epi8(15), flip = _mm256_set1_epi8((char)0x80);
    __m256 acc8[3][4];
    float accc[3][4];
    for (int64_t i = 0; i < rows; i++)
        for (int r = 0; r < R; r++) { acc8[i][r] = _mm256_setzero_ps(); accc[i][r] = 0.0f; }
    for (int64_t b = 0; b < nb; b++) {
        __m256i codes[4];
        float dw[4], c[4];
        for (int r = 0; r < R; r++) {
            const uint8_t *wb = W + (n + r) * wrb + b * bb;
            dw[r] = h2f_scale(wb);
            if (dtype == LK_DTYPE_Q8_0) {
                codes[r] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(wb + 2)), flip);
                c[r] = -128.0f * dw[r];
            } else {
                const __m128i qs = _mm_loadu_si128((const __m128i *)(wb + qoff));
                const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(qs), _mm_srli_epi16(qs, 4), 1);
                codes[r] = _mm256_and_si256(both, low4);
                c[r] = dtype == LK_DTYPE_Q4_1 ? h2f_scale(wb + 2) : -8.0f * dw[r];
            }
        }
        for (int64_t i = 0; i < rows; i++) {
            const uint8_t *xb = Xq + i * xrb + b * LK_Q8A_BLOCK_BYTES;
            const __m256i q = _mm256_loadu_si256((const __m256i *)(xb + Q8A_Q));
            const float dx = load_f(xb + Q8A_D), sx = load_f(xb + Q8A_S);
            for (int r = 0; r < R; r++) {
                const __m256i part = _mm256_dpbusd_epi32(_mm256_setzero_si256(), codes[r], q);
                acc8[i][r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(part), _mm256_set1_ps(dw[r] * dx), acc8[i][r]);
                accc[i][r] += c[r] * sx;
            }
        }
    }
    for (int64_t i = 0; i < rows; i++)
        for (int r = 0; r < R; r++) {
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc8[i][r]), _mm256_extractf128_ps(acc8[i][r], 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
            const float acc = _mm_cvtss_f32(h) + accc[i][r];
            float *y = Y + i * ldy + n + r;
            *y = beta == 0.0f ? acc : acc + beta * *y;
        }
}

void lk_q8_gemv_avx512vnni(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows, const uint8_t *W,
                           int64_t wrb, int64_t n_lo, int64_t n_hi, int64_t nb, int dtype, float beta) {
    int64_t n = n_lo;
    if (dtype != LK_DTYPE_Q8_0)   /* Q8_0 (34-byte blocks): one row at a time measured 2x faster (the LM head) */
        for (; n + 4 <= n_hi; n += 4) gemv_rows(4, Y, ldy, Xq, xrb, rows, W, wrb, n, nb, dtype, beta);
    for (; n < n_hi; n++) gemv_rows(1, Y, ldy, Xq, xrb, rows, W, wrb, n, nb, dtype, beta);
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

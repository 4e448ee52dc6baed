/* AVX-512 pieces of the int8 products: the Q8A row quantiser (AVX512F/BW, bit-identical to
 * lk_quantize_q8a_ref) and the AVX512-VNNI panel kernel (vpdpbusd). Reached only through quant_q8.c, which
 * checks the CPU; the rest of the target stays baseline x86-64. */
#include "lk_quant.h"
#include "quant_kernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx512vnni,avx2,fma"))), \
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

#pragma clang attribute pop
#endif

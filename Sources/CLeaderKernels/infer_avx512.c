/* AVX-512 set attention for head width 16 (the student's 64 / 4), reached from lk_set_attention_forward in
 * infer.c when the lk_ops ISA is avx512. Scores and softmax as the template kernel (rows_serve_impl.h
 * r_set_attention: queries in lanes, softmax across key vectors), with the query transpose done in registers (a
 * block of up to 16 query rows, one zmm each, transposed so lane i holds query i); the weighted sum of values is
 * then formed row by row (lanes = the 16 value columns), so nothing is transposed back. The rest of the target
 * stays baseline x86-64. */
#include "infer_kernels.h"
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,fma"))), apply_to = function)

/* r[0..15] (rows) <- their transpose. */
static inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    /* u[4i + c] holds, in each 128-bit lane L, column 4L + c of rows 4i..4i+3. */
    for (int c = 0; c < 4; c++) {
        const __m512 a = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), b = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        const __m512 e = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), f = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(a, e, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(a, e, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(b, f, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(b, f, 0xDD);
    }
}

/* exp(x): r_exp's polynomial and clamps (rows_math_impl.h), vectorised: ~2 ulp on [-87, 88], 0 below -87.3. */
static inline __m512 vexp(__m512 x) {
    const __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), xc);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512 e = _mm512_scalef_ps(p, n);
    return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ), _mm512_setzero_ps());
}

void lk_set_attention_d16_avx512(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                                 int64_t len, int64_t H, float scale, float *st) {
#define ROW(t) ((rows ? (int64_t)rows[t] : (int64_t)(t)) * ldq)
    const int64_t hd = H * 16;
    const __m512 vscale = _mm512_set1_ps(scale);
    for (int64_t h = 0; h < H; h++) {
        const float *qb = qkv + h * 16, *kb = qkv + hd + h * 16, *vb = qkv + 2 * hd + h * 16;
        for (int64_t i0 = 0; i0 < len; i0 += 16) {
            const int64_t nq = len - i0 < 16 ? len - i0 : 16;
            __m512 q[16];
            for (int r = 0; r < 16; r++)
                q[r] = r < nq ? _mm512_mul_ps(_mm512_loadu_ps(qb + ROW(i0 + r)), vscale) : _mm512_setzero_ps();
            transpose16(q);   /* q[d]: lane i = scale·q_{i0+i, d} */
            __m512 mx = _mm512_set1_ps(-__builtin_inff());
            int64_t j = 0;
            for (; j + 4 <= len; j += 4) {   /* four keys: independent FMA chains over d (each key's chain is the
                                              * same as alone, so a score does not depend on the grouping) */
                const float *k0 = kb + ROW(j), *k1 = kb + ROW(j + 1), *k2 = kb + ROW(j + 2), *k3 = kb + ROW(j + 3);
                __m512 a0 = _mm512_mul_ps(_mm512_set1_ps(k0[0]), q[0]), a1 = _mm512_mul_ps(_mm512_set1_ps(k1[0]), q[0]);
                __m512 a2 = _mm512_mul_ps(_mm512_set1_ps(k2[0]), q[0]), a3 = _mm512_mul_ps(_mm512_set1_ps(k3[0]), q[0]);
                for (int d = 1; d < 16; d++) {
                    a0 = _mm512_fmadd_ps(_mm512_set1_ps(k0[d]), q[d], a0);
                    a1 = _mm512_fmadd_ps(_mm512_set1_ps(k1[d]), q[d], a1);
                    a2 = _mm512_fmadd_ps(_mm512_set1_ps(k2[d]), q[d], a2);
                    a3 = _mm512_fmadd_ps(_mm512_set1_ps(k3[d]), q[d], a3);
                }
                _mm512_store_ps(st + j * 16, a0);
                _mm512_store_ps(st + (j + 1) * 16, a1);
                _mm512_store_ps(st + (j + 2) * 16, a2);
                _mm512_store_ps(st + (j + 3) * 16, a3);
                mx = _mm512_max_ps(mx, _mm512_max_ps(_mm512_max_ps(a0, a1), _mm512_max_ps(a2, a3)));
            }
            for (; j < len; j++) {
                const float *k0 = kb + ROW(j);
                __m512 a0 = _mm512_mul_ps(_mm512_set1_ps(k0[0]), q[0]);
                for (int d = 1; d < 16; d++) a0 = _mm512_fmadd_ps(_mm512_set1_ps(k0[d]), q[d], a0);
                _mm512_store_ps(st + j * 16, a0);
                mx = _mm512_max_ps(mx, a0);
            }
            __m512 sum = _mm512_setzero_ps();
            for (j = 0; j < len; j++) {   /* weights, in place */
                const __m512 p = vexp(_mm512_sub_ps(_mm512_load_ps(st + j * 16), mx));
                _mm512_store_ps(st + j * 16, p);
                sum = _mm512_add_ps(sum, p);
            }
            float *inv = st + len * 16;   /* 1 / sum per query */
            _mm512_store_ps(inv, _mm512_div_ps(_mm512_set1_ps(1.0f), sum));
            /* Output rows directly (lanes = the 16 value columns): out_i = (Σ_j p_ij v_j) / sum_i, p_ij broadcast
             * from the weights; no transpose back, and nq·len FMAs instead of 16·len. Four rows at a time share
             * each v_j load and run four independent chains (each row's sum is in j order either way). */
            int r = 0;
            for (; r + 4 <= nq; r += 4) {
                __m512 o0 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps(), o2 = _mm512_setzero_ps(),
                       o3 = _mm512_setzero_ps();
                for (j = 0; j < len; j++) {
                    const __m512 v = _mm512_loadu_ps(vb + ROW(j));
                    const float *w = st + j * 16 + r;
                    o0 = _mm512_fmadd_ps(_mm512_set1_ps(w[0]), v, o0);
                    o1 = _mm512_fmadd_ps(_mm512_set1_ps(w[1]), v, o1);
                    o2 = _mm512_fmadd_ps(_mm512_set1_ps(w[2]), v, o2);
                    o3 = _mm512_fmadd_ps(_mm512_set1_ps(w[3]), v, o3);
                }
                float *y = out + (i0 + r) * ldo + h * 16;
                _mm512_storeu_ps(y, _mm512_mul_ps(o0, _mm512_set1_ps(inv[r])));
                _mm512_storeu_ps(y + ldo, _mm512_mul_ps(o1, _mm512_set1_ps(inv[r + 1])));
                _mm512_storeu_ps(y + 2 * ldo, _mm512_mul_ps(o2, _mm512_set1_ps(inv[r + 2])));
                _mm512_storeu_ps(y + 3 * ldo, _mm512_mul_ps(o3, _mm512_set1_ps(inv[r + 3])));
            }
            for (; r < nq; r++) {
                __m512 o = _mm512_setzero_ps();
                for (j = 0; j < len; j++) o = _mm512_fmadd_ps(_mm512_set1_ps(st[j * 16 + r]), _mm512_loadu_ps(vb + ROW(j)), o);
                _mm512_storeu_ps(out + (i0 + r) * ldo + h * 16, _mm512_mul_ps(o, _mm512_set1_ps(inv[r])));
            }
        }
    }
}

#undef ROW
#pragma clang attribute pop
#endif

/* Internal to the bf16 products: the AVX-512 pieces both fast paths share (the AMX tiles in bf16_amx.c and the
 * VDPBF16PS kernel in bf16_dpbf16.c) — bf16 rounding of 16 floats, the GELU of the epilogue and the epilogue of
 * 16 sums. Static inline: include it inside the including file's `#pragma clang attribute push(target(...))`
 * region (any target with avx512f, avx512bw, avx512vl, avx512dq), so the functions take that target. */
#ifndef LK_BF16_AVX512_IMPL_H
#define LK_BF16_AVX512_IMPL_H
#include <immintrin.h>
#include <stdint.h>

static inline __mmask16 bf16_cols_mask(int64_t cols) {
    return cols >= 16 ? (__mmask16)0xffff : cols <= 0 ? (__mmask16)0 : (__mmask16)((1u << cols) - 1);
}

/* Nearest-even rounding on the bit pattern (the same operations as lk_f32_to_bf16 for finite inputs). */
static inline __m256i bf16_round16(__m512 x) {
    const __m512i b = _mm512_castps_si512(x);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}

/* GELU, tanh form, as x·sigmoid(2k(x + c x³)) = x / (1 + 2^z), z = -2k·log2(e)·(x + c x³), evaluated cheaply:
 * 2^z = 2^n · p(f) with n = round(z), f = z - n in [-0.5, 0.5] and p a degree-4 fit (relative error 8.4e-6;
 * vscalefps gives 0 / inf for huge |z|, which the formula turns into x and -0), and the reciprocal from rcp14
 * (relative error < 2^-14). So the result is within ~1e-4 relative of GELU: below the bf16 rounding (2^-9) that
 * the next product applies to it. */
static inline __m512 bf16_vgelu(__m512 x) {
    const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    const __m512 z = _mm512_mul_ps(_mm512_set1_ps(-2.0f * 0.7978845608028654f * 1.4426950408889634f),
                                   _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
    const __m512 n = _mm512_roundscale_ps(z, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(z, n);
    __m512 p = _mm512_set1_ps(0.00925496406853199f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.05585603043437004f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.24031251668930054f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.693130612373352f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(0.9999977946281433f));
    const __m512 d = _mm512_add_ps(_mm512_set1_ps(1.0f), _mm512_scalef_ps(p, n));
    return _mm512_mul_ps(x, _mm512_rcp14_ps(d));
}

/* The epilogue of 16 sums (the columns of mask m) of one row, y pointing at their first column: without
 * `accumulate`, y = g(beta·y + (sum + bias)) (y not read when beta is 0); with it, y += g(sum + bias) (a set
 * mean's running sum). g = bf16_vgelu when gelu != 0, else the identity. bias: the 16 biases (zeros for none). */
static inline void bf16_finish16(float *y, __mmask16 m, __m512 sum, __m512 bias, float beta, int gelu, int accumulate) {
    __m512 c = _mm512_add_ps(sum, bias);
    if (!accumulate && beta != 0.0f) c = _mm512_fmadd_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(m, y), c);
    if (gelu) c = bf16_vgelu(c);
    if (accumulate) c = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y), c);
    _mm512_mask_storeu_ps(y, m, c);
}
#endif

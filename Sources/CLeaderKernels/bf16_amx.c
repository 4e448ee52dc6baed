/* AMX-BF16 leaf functions of the bf16 products (bf16_kernels.h, page docs/kernels/bf16-amx.md): for 32 rows,
 * tile registers 0-3 hold a 32 × 32 block of f32 sums, 4-5 two 16-row slices of A, 6-7 two 16-column panels of
 * B; for up to 16 rows, 0-1 hold the sums and the k-steps alternate between (4; 6, 7) and (5; 2, 3). One
 * TDPBF16PS multiplies a 16 × 32 slice of A by a 32 × 16 tile of B (16 pairs per row). The rest of the target
 * stays baseline x86-64; bf16.c calls in here only after lk_amx_available(). */
#include "bf16_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("amx-tile,amx-bf16,avx512f,avx512vl,avx512bw,avx512dq"))), \
                             apply_to = function)

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* Loads the configuration unless the thread's tile unit already holds it (sttilecfg + compare costs ~12
 * cycles, ldtilecfg ~200): consecutive calls of a session configure once. Another AMX user in the process
 * (a different configuration) is detected by the compare. */
static void load_config(void) {
    static const tile_config cfg = {.palette = 1,   /* eight tiles of 16 rows × 64 bytes */
                                    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
                                    .rows = {16, 16, 16, 16, 16, 16, 16, 16}};
    tile_config cur;
    _tile_storeconfig(&cur);
    if (memcmp(&cur, &cfg, sizeof cfg) != 0) _tile_loadconfig(&cfg);
}

void lk_bf16_amx_release(void) { _tile_release(); }

/* Nearest-even rounding on the bit pattern (the same operations as lk_f32_to_bf16 for finite inputs). */
static inline __m256i round_bf16(__m512 x) {
    const __m512i b = _mm512_castps_si512(x);
    const __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    const __m512i r = _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    return _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16));
}

void lk_bf16_convert_rows_avx512(uint16_t *A, int64_t lda, const float *X, int64_t ldx, int rows, int64_t K) {
    for (int r = 0; r < rows; r++) {
        const float *x = X + r * ldx;
        uint16_t *a = A + r * lda;
        int64_t k = 0;
        for (; k + 16 <= K; k += 16) _mm256_storeu_si256((__m256i *)(a + k), round_bf16(_mm512_loadu_ps(x + k)));
        if (k < K) {
            const __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
            _mm256_mask_storeu_epi16(a + k, m, round_bf16(_mm512_maskz_loadu_ps(m, x + k)));
        }
        if (lda > K) memset(a + K, 0, (size_t)(lda - K) * sizeof(uint16_t));
    }
}

void lk_bf16_pack_panel_avx512(uint16_t *panel, const float *W, int64_t ldw, int rows, int64_t K) {
    const int64_t Kp = (K + 31) / 32 * 32;
    if (rows < 16) memset(panel, 0, (size_t)(16 * Kp) * sizeof(uint16_t));
    const __m512i pair_rows = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                                 _mm512_set1_epi32(16));   /* tile row p at 16 pairs apart */
    for (int n = 0; n < rows; n++) {
        const float *w = W + n * ldw;
        for (int64_t k0 = 0; k0 < Kp; k0 += 32) {
            const int64_t left = K - k0;
            const __mmask16 m0 = left >= 16 ? (__mmask16)0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
            const __mmask16 m1 = left >= 32 ? (__mmask16)0xffff : left <= 16 ? 0 : (__mmask16)((1u << (left - 16)) - 1);
            const __m256i lo = round_bf16(_mm512_maskz_loadu_ps(m0, w + k0));
            const __m256i hi = round_bf16(_mm512_maskz_loadu_ps(m1, w + k0 + 16));
            const __m512i pairs = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
            _mm512_i32scatter_epi32(panel + k0 * 16 + n * 2, pair_rows, pairs, 4);
        }
    }
}

void lk_bf16_pack_tile_t_avx512(uint16_t *panels, int64_t panel_stride, const float *Wr, int64_t ldw, int rows,
                                int64_t K) {
    for (int p = 0; p < 16; p++) {
        const int r0 = 2 * p, r1 = 2 * p + 1;
        for (int64_t q = 0; q * 16 < K; q++) {
            const int64_t left = K - q * 16;
            const __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
            const __m512 a = r0 < rows ? _mm512_maskz_loadu_ps(m, Wr + r0 * ldw + q * 16) : _mm512_setzero_ps();
            const __m512 b = r1 < rows ? _mm512_maskz_loadu_ps(m, Wr + r1 * ldw + q * 16) : _mm512_setzero_ps();
            const __m512i lo = _mm512_cvtepu16_epi32(round_bf16(a)), hi = _mm512_cvtepu16_epi32(round_bf16(b));
            _mm512_storeu_si512((void *)(panels + q * panel_stride + p * 32), _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
        }
    }
}

static inline __mmask16 cols_mask(int64_t cols) {
    return cols >= 16 ? (__mmask16)0xffff : cols <= 0 ? (__mmask16)0 : (__mmask16)((1u << cols) - 1);
}

/* GELU, tanh form, as x·sigmoid(2k(x + c x³)) = x / (1 + 2^z), z = -2k·log2(e)·(x + c x³), evaluated cheaply:
 * 2^z = 2^n · p(f) with n = round(z), f = z - n in [-0.5, 0.5] and p a degree-4 fit (relative error 8.4e-6;
 * vscalefps gives 0 / inf for huge |z|, which the formula turns into x and -0), and the reciprocal from rcp14
 * (relative error < 2^-14). So the result is within ~1e-4 relative of GELU: below the bf16 rounding (2^-9) that
 * the next product applies to it. */
static inline __m512 vgelu(__m512 x) {
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

/* Rows of the result (cols <= 32 wide, starting at column col0) from the 32 × 32 sums in cbuf: into Y (rows ldy
 * apart) as g(beta·y + sum + bias), or, with rowp, added to row pointer rowp[r]: y += g(sum + bias). */
static void epilogue(float *Y, int64_t ldy, float *const *rowp, int64_t col0, const float *cbuf, int rows, int64_t cols,
                     const float *bias, float beta, int gelu) {
    const __mmask16 m0 = cols_mask(cols), m1 = cols_mask(cols - 16);
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + col0) : _mm512_setzero_ps();
    const __m512 b1 = bias && m1 ? _mm512_maskz_loadu_ps(m1, bias + col0 + 16) : _mm512_setzero_ps();
    const __m512 vb = _mm512_set1_ps(beta);
    for (int r = 0; r < rows; r++) {
        float *y = (rowp ? rowp[r] : Y + r * ldy) + col0;
        __m512 c0 = _mm512_add_ps(_mm512_loadu_ps(cbuf + r * 32), b0);
        if (!rowp && beta != 0.0f) c0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, y), c0);
        if (gelu) c0 = vgelu(c0);
        if (rowp) c0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, y), c0);
        _mm512_mask_storeu_ps(y, m0, c0);
        if (m1) {
            __m512 c1 = _mm512_add_ps(_mm512_loadu_ps(cbuf + r * 32 + 16), b1);
            if (!rowp && beta != 0.0f) c1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, y + 16), c1);
            if (gelu) c1 = vgelu(c1);
            if (rowp) c1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, y + 16), c1);
            _mm512_mask_storeu_ps(y + 16, m1, c1);
        }
    }
}

void lk_bf16_amx_block(float *Y, int64_t ldy, const uint16_t *A, int64_t lda, int rows, const uint16_t *panels,
                       int64_t npan, int64_t ncols, int64_t Kp, const float *bias, float beta, int gelu,
                       float *const *rowp, float *cbuf) {
    load_config();
    const int64_t kt = Kp / 32, ps = 16 * Kp, sa = lda * (int64_t)sizeof(uint16_t);
    const uint16_t *A1 = A + 16 * lda;
    int64_t p = 0;
    if (rows <= 16)   /* two panel pairs per step, sums in (0, 1) and (2, 3): the pairs' chains overlap */
        for (; p + 4 <= npan; p += 4) {
            const uint16_t *B0 = panels + p * ps, *B1 = B0 + ps, *B2 = B1 + ps, *B3 = B2 + ps;
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int64_t t = 0; t < kt; t++) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_loadd(7, B1 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_loadd(5, B2 + t * 512, 64);
                _tile_dpbf16ps(2, 4, 5);
                _tile_loadd(6, B3 + t * 512, 64);
                _tile_dpbf16ps(3, 4, 6);
            }
            _tile_stored(0, cbuf, 128); _tile_stored(1, cbuf + 16, 128);
            _tile_stored(2, cbuf + 512, 128); _tile_stored(3, cbuf + 528, 128);
            epilogue(Y, ldy, rowp, p * 16, cbuf, rows, 32, bias, beta, gelu);
            const int64_t left = ncols - p * 16 - 32;
            epilogue(Y, ldy, rowp, p * 16 + 32, cbuf + 512, rows, left < 32 ? left : 32, bias, beta, gelu);
        }
    for (; p < npan; p += 2) {
        const uint16_t *B0 = panels + p * ps, *B1 = B0 + ps;
        const int two = p + 1 < npan;
        if (rows > 16 && two) {
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int64_t t = 0; t < kt; t++) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_loadd(7, B1 + t * 512, 64);
                _tile_dpbf16ps(1, 4, 7);
                _tile_loadd(5, A1 + t * 32, sa);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
            _tile_stored(0, cbuf, 128); _tile_stored(1, cbuf + 16, 128);
            _tile_stored(2, cbuf + 512, 128); _tile_stored(3, cbuf + 528, 128);
        } else if (rows > 16) {
            _tile_zero(0); _tile_zero(2);
            for (int64_t t = 0; t < kt; t++) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_loadd(5, A1 + t * 32, sa);
                _tile_dpbf16ps(2, 5, 6);
            }
            _tile_stored(0, cbuf, 128); _tile_stored(2, cbuf + 512, 128);
        } else if (two) {   /* one row tile: k-steps alternate between two register sets (A 4/5, B 6,7/2,3), so
                             * the next step's loads need not wait for this step's multiplies to read theirs */
            _tile_zero(0); _tile_zero(1);
            int64_t t = 0;
            for (; t + 2 <= kt; t += 2) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_loadd(7, B1 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_loadd(5, A + (t + 1) * 32, sa);
                _tile_loadd(2, B0 + (t + 1) * 512, 64);
                _tile_loadd(3, B1 + (t + 1) * 512, 64);
                _tile_dpbf16ps(0, 5, 2);
                _tile_dpbf16ps(1, 5, 3);
            }
            if (t < kt) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_loadd(7, B1 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
            }
            _tile_stored(0, cbuf, 128); _tile_stored(1, cbuf + 16, 128);
        } else {
            _tile_zero(0);
            int64_t t = 0;
            for (; t + 2 <= kt; t += 2) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
                _tile_loadd(5, A + (t + 1) * 32, sa);
                _tile_loadd(7, B0 + (t + 1) * 512, 64);
                _tile_dpbf16ps(0, 5, 7);
            }
            if (t < kt) {
                _tile_loadd(4, A + t * 32, sa);
                _tile_loadd(6, B0 + t * 512, 64);
                _tile_dpbf16ps(0, 4, 6);
            }
            _tile_stored(0, cbuf, 128);
        }
        const int64_t left = ncols - p * 16;
        epilogue(Y, ldy, rowp, p * 16, cbuf, rows, left < (two ? 32 : 16) ? left : (two ? 32 : 16), bias, beta, gelu);
    }
}

#pragma clang attribute pop
#endif

/* AMX-BF16 leaf functions of the bf16 products (bf16_kernels.h, page docs/kernels/bf16.md): for 32 rows,
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
#include "bf16_avx512_impl.h"

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

/* Rows of the result (cols <= 32 wide, starting at column col0) from the 32 × 32 sums in cbuf: into Y (rows ldy
 * apart) as g(beta·y + sum + bias), or, with rowp, added to row pointer rowp[r]: y += g(sum + bias). */
static void epilogue(float *Y, int64_t ldy, float *const *rowp, int64_t col0, const float *cbuf, int rows, int64_t cols,
                     const float *bias, float beta, int gelu) {
    const __mmask16 m0 = bf16_cols_mask(cols), m1 = bf16_cols_mask(cols - 16);
    const __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + col0) : _mm512_setzero_ps();
    const __m512 b1 = bias && m1 ? _mm512_maskz_loadu_ps(m1, bias + col0 + 16) : _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
        float *y = (rowp ? rowp[r] : Y + r * ldy) + col0;
        bf16_finish16(y, m0, _mm512_loadu_ps(cbuf + r * 32), b0, beta, gelu, rowp != NULL);
        if (m1) bf16_finish16(y + 16, m1, _mm512_loadu_ps(cbuf + r * 32 + 16), b1, beta, gelu, rowp != NULL);
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

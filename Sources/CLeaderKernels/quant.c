/* Half-precision conversions, dtype sizes, reference (de)quantisers and the dispatching row dequantiser.
 * Formats: see lk_quant.h; byte layouts: quant_kernels.h. Quantisers follow ggml's *_ref rounding. */
#include "lk_quant.h"
#include "lk_isa.h"
#include "kpath.h"
#include "quant_kernels.h"
#include <math.h>
#include <string.h>

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif
extern int omp_get_thread_num(void);

int64_t lk_dtype_block_size(int dtype) {
    switch (dtype) {
    case LK_DTYPE_F32: case LK_DTYPE_F16: case LK_DTYPE_BF16: return 1;
    case LK_DTYPE_Q8_0: case LK_DTYPE_Q4_0: case LK_DTYPE_Q4_1: return QK;
    default: return 0;
    }
}

int64_t lk_dtype_block_bytes(int dtype) {
    switch (dtype) {
    case LK_DTYPE_F32: return 4;
    case LK_DTYPE_F16: case LK_DTYPE_BF16: return 2;
    case LK_DTYPE_Q8_0: return Q8_0_BYTES;
    case LK_DTYPE_Q4_0: return Q4_0_BYTES;
    case LK_DTYPE_Q4_1: return Q4_1_BYTES;
    default: return 0;
    }
}

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* Exact: every f16 value (including subnormals, +-0, inf, NaN payloads) is an f32. */
float lk_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) {
        if (m == 0) return bits_f32(sign);
        e = 127 - 15 + 1;                       /* subnormal: normalise the mantissa */
        while (!(m & 0x400)) { m <<= 1; e--; }
        return bits_f32(sign | e << 23 | (m & 0x3ff) << 13);
    }
    if (e == 31) return bits_f32(sign | 0x7f800000u | m << 13);
    return bits_f32(sign | (e + 112) << 23 | m << 13);
}

/* Round to nearest even on the integer representation. */
uint16_t lk_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return sign | 0x7e00 | (uint16_t)((x >> 13) & 0x1ff);   /* NaN stays (quiet) NaN */
    if (x >= 0x477ff000u) return sign | 0x7c00;                 /* >= 65520 (and inf) -> inf */
    if (x >= 0x38800000u) {                                     /* normal f16 range */
        uint32_t r = x - ((127 - 15) << 23);                    /* rebias */
        r += 0xfff + ((r >> 13) & 1);                           /* RNE on the 13 dropped bits */
        return sign | (uint16_t)(r >> 13);
    }
    if (x < 0x33000000u) return sign;                           /* < 2^-25 (half of the smallest): +-0 */
    uint32_t e = x >> 23, m = (x & 0x7fffffu) | 0x800000u;      /* subnormal f16 */
    uint32_t shift = 126 - e;                                   /* 14..24: value = m * 2^(e-150) */
    uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1))) q++;
    return sign | (uint16_t)q;
}

float lk_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t lk_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);   /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

/* ---- reference dequantiser ---------------------------------------------------------------------- */

/* out (n) <- in (n values of dtype). Plain loops: the oracle and the generic-ISA implementation. */
void lk_dequantize_row_ref(float *out, const void *in, int64_t n, int dtype) {
    const uint8_t *p = in;
    switch (dtype) {
    case LK_DTYPE_F32: memcpy(out, in, (size_t)n * sizeof(float)); return;
    case LK_DTYPE_F16:
        for (int64_t i = 0; i < n; i++) out[i] = lk_f16_to_f32(lk_load_u16(p + 2 * i));
        return;
    case LK_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) out[i] = lk_bf16_to_f32(lk_load_u16(p + 2 * i));
        return;
    case LK_DTYPE_Q8_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q8_0_BYTES, out += QK) {
            float d = lk_f16_to_f32(lk_load_u16(p));
            for (int j = 0; j < QK; j++) out[j] = d * (float)(int8_t)p[2 + j];
        }
        return;
    case LK_DTYPE_Q4_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_0_BYTES, out += QK) {
            float d = lk_f16_to_f32(lk_load_u16(p));
            for (int j = 0; j < QK / 2; j++) {
                out[j] = d * (float)((p[2 + j] & 15) - 8);
                out[j + QK / 2] = d * (float)((p[2 + j] >> 4) - 8);
            }
        }
        return;
    case LK_DTYPE_Q4_1:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_1_BYTES, out += QK) {
            float d = lk_f16_to_f32(lk_load_u16(p)), m = lk_f16_to_f32(lk_load_u16(p + 2));
            for (int j = 0; j < QK / 2; j++) {
                float lo = d * (float)(p[4 + j] & 15), hi = d * (float)(p[4 + j] >> 4);
                out[j] = lo + m;
                out[j + QK / 2] = hi + m;
            }
        }
        return;
    default:
        for (int64_t i = 0; i < n; i++) out[i] = 0.0f;   /* unknown dtype: callers validate; stay defined */
        return;
    }
}

lk_dequant_row_fn lk_dequant_row_for(int isa) {
    isa = lk_isa_clamp(isa);
    kpath_note(LK_KFAM_DEQUANT, isa);
#if defined(__x86_64__) || defined(__i386__)
    switch (isa) {
    case LK_ISA_AVX512: return lk_dequantize_row_avx512;
    case LK_ISA_AVX2: return lk_dequantize_row_avx2;
    default: break;
    }
#else
    (void)isa;
#endif
    return lk_dequantize_row_ref;
}

void lk_dequantize_row_isa(int isa, float *out, const void *in, int64_t n, int dtype) {
    lk_dequant_row_for(isa)(out, in, n, dtype);
}

void lk_dequantize_row(float *out, const void *in, int64_t n, int dtype) {
    lk_dequant_row_for(lk_isa_active())(out, in, n, dtype);
}

/* out (rows, cols) <- rows consecutive rows of dtype; rows split statically over threads. */
void lk_dequantize(float *out, const void *in, int64_t rows, int64_t cols, int dtype, int n_threads) {
    if (rows <= 0 || cols <= 0) return;
    const lk_dequant_row_fn f = lk_dequant_row_for(lk_isa_active());
    const int64_t rb = lk_row_bytes(cols, dtype);
    const uint8_t *src = in;
    int nt = n_threads < 1 ? 1 : n_threads;
    if ((double)rows * (double)cols < 32768.0) nt = 1;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t r = 0; r < rows; r++) f(out + r * cols, src + r * rb, cols, dtype);
}

/* ---- reference quantisers (ggml's quantize_row_*_ref) ---------------------------------------- */

static void store_u16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* out (row bytes of dtype) <- in (n); n a multiple of 32 for the Q types. */
void lk_quantize_row_ref(void *out, const float *in, int64_t n, int dtype) {
    uint8_t *p = out;
    switch (dtype) {
    case LK_DTYPE_F32: memcpy(out, in, (size_t)n * sizeof(float)); return;
    case LK_DTYPE_F16:
        for (int64_t i = 0; i < n; i++) store_u16(p + 2 * i, lk_f32_to_f16(in[i]));
        return;
    case LK_DTYPE_BF16:
        for (int64_t i = 0; i < n; i++) store_u16(p + 2 * i, lk_f32_to_bf16(in[i]));
        return;
    case LK_DTYPE_Q8_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q8_0_BYTES, in += QK) {
            float amax = 0.0f;
            for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(in[j]));
            const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            store_u16(p, lk_f32_to_f16(d));
            for (int j = 0; j < QK; j++) p[2 + j] = (uint8_t)(int8_t)roundf(in[j] * id);
        }
        return;
    case LK_DTYPE_Q4_0:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_0_BYTES, in += QK) {
            float amax = 0.0f, max = 0.0f;          /* max: the value of largest magnitude, with its sign */
            for (int j = 0; j < QK; j++)
                if (amax < fabsf(in[j])) { amax = fabsf(in[j]); max = in[j]; }
            const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            store_u16(p, lk_f32_to_f16(d));
            for (int j = 0; j < QK / 2; j++) {
                int lo = (int)(int8_t)(in[j] * id + 8.5f), hi = (int)(int8_t)(in[j + QK / 2] * id + 8.5f);
                lo = lo < 15 ? lo : 15;
                hi = hi < 15 ? hi : 15;
                p[2 + j] = (uint8_t)(lo | hi << 4);
            }
        }
        return;
    case LK_DTYPE_Q4_1:
        for (int64_t b = 0; b < n / QK; b++, p += Q4_1_BYTES, in += QK) {
            float min = INFINITY, max = -INFINITY;
            for (int j = 0; j < QK; j++) { min = fminf(min, in[j]); max = fmaxf(max, in[j]); }
            const float d = (max - min) / 15.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
            store_u16(p, lk_f32_to_f16(d));
            store_u16(p + 2, lk_f32_to_f16(min));
            for (int j = 0; j < QK / 2; j++) {
                int lo = (int)(int8_t)((in[j] - min) * id + 0.5f);
                int hi = (int)(int8_t)((in[j + QK / 2] - min) * id + 0.5f);
                lo = lo < 15 ? lo : 15;
                hi = hi < 15 ? hi : 15;
                p[4 + j] = (uint8_t)(lo | hi << 4);
            }
        }
        return;
    default: return;
    }
}

/* Internal to the quantisation kernels (not part of the contract): GGUF block layouts and the per-ISA
 * row dequantisers that quant.c dispatches to (quant_avx512.c, quant_avx2.c; generic = the _ref loops). */
#ifndef LK_QUANT_KERNELS_H
#define LK_QUANT_KERNELS_H
#include <stdint.h>
#include <string.h>

enum { QK = 32 };   /* values per Q block */
/* Byte layouts (no padding; all fields 2-byte aligned within a block):
 *   Q8_0: [0,2) f16 d | [2,34) int8 q[32]
 *   Q4_0: [0,2) f16 d | [2,18) uint8 qs[16]            element j < 16: qs[j] & 15, element j+16: qs[j] >> 4
 *   Q4_1: [0,2) f16 d | [2,4) f16 m | [4,20) uint8 qs[16] */
enum { Q8_0_BYTES = 34, Q4_0_BYTES = 18, Q4_1_BYTES = 20 };

static inline uint16_t lk_load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* out (n) <- n values of dtype at in; n is a multiple of 32 for the Q types. Dequantised values are
 * bit-identical across ISAs: d*q and d*q + m are computed as a rounded multiply then a rounded add. */
typedef void (*lk_dequant_row_fn)(float *out, const void *in, int64_t n, int dtype);
void lk_dequantize_row_avx512(float *out, const void *in, int64_t n, int dtype);
void lk_dequantize_row_avx2(float *out, const void *in, int64_t n, int dtype);
lk_dequant_row_fn lk_dequant_row_for(int isa);   /* clamped; generic is lk_dequantize_row_ref */

/* Bytes of one row of n values (n a multiple of the block size). */
static inline int64_t lk_row_bytes(int64_t n, int dtype) {
    switch (dtype) {
    case 0: return 4 * n;
    case 1: case 2: return 2 * n;
    case 3: return n / QK * Q8_0_BYTES;
    case 4: return n / QK * Q4_0_BYTES;
    case 5: return n / QK * Q4_1_BYTES;
    default: return 0;
    }
}
#endif

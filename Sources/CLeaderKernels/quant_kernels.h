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

/* Threads for a product of `work` multiply-adds: at most one per 64³ of them (small products stay serial). */
static inline int lk_quant_threads(int n_threads, double work) {
    int nt = n_threads < 1 ? 1 : n_threads;
    double cap = work / (64.0 * 64.0 * 64.0);
    if (cap < 1.0) cap = 1.0;
    return (double)nt < cap ? nt : (int)cap;
}

static inline uint16_t lk_load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline void lk_store_u32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* out (n) <- n values of dtype at in; n is a multiple of 32 for the Q types. Dequantised values are
 * bit-identical across ISAs: d*q and d*q + m are computed as a rounded multiply then a rounded add. */
typedef void (*lk_dequant_row_fn)(float *out, const void *in, int64_t n, int dtype);
void lk_dequantize_row_avx512(float *out, const void *in, int64_t n, int dtype);
void lk_dequantize_row_avx2(float *out, const void *in, int64_t n, int dtype);
lk_dequant_row_fn lk_dequant_row_for(int isa);   /* clamped; generic is lk_dequantize_row_ref */
/* Y[i, j] (i < m <= 3, j in [j0, j1)) = dot(x row i (K contiguous), W row j) + beta*Y (beta 0: Y not read) for
 * W rows row_bytes apart in Q8_0, Q4_0 or Q4_1, block by block from the codes (d·Σ x·q + m·Σ x, nothing
 * dequantised to memory); returns 0 (and does nothing) for other dtypes. */
typedef int (*lk_qdot_rows_fn)(int m, int64_t K, const float *x, const void *W, int64_t row_bytes, int dtype,
                               float *Y, int64_t ldy, int64_t j0, int64_t j1, float beta);
int lk_qdot_rows_avx2(int m, int64_t K, const float *x, const void *W, int64_t row_bytes, int dtype, float *Y,
                      int64_t ldy, int64_t j0, int64_t j1, float beta);
int lk_qdot_rows_avx512(int m, int64_t K, const float *x, const void *W, int64_t row_bytes, int dtype, float *Y,
                        int64_t ldy, int64_t j0, int64_t j1, float beta);

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
/* ---- int8 products (quant_q8.c, quant_q8_avx512.c, quant_q8_avx2.c) ----
 * Packed weight panel of PW columns (PW = 32 for AVX-512, 16 for AVX2), one record per block b of 32 K values:
 *   u8 codes [8 groups t][PW columns][4]  (group t holds k = 4t..4t+3 of the block), then f32 dw[PW], f32 c[PW].
 * Missing columns of a partial panel are zero. One vpdpbusd of a group against a broadcast 4-byte group of an
 * activation row adds those 4 products to every column's int32 lane. */
enum { Q8A_D = 0, Q8A_S = 4, Q8A_Q = 8 };
static inline int64_t q8_panel_block_bytes(int pw) { return (int64_t)pw * (32 + 8); }
/* Unpacked codes u[32], scale dw and combine coefficient c of block b of W row r (see lk_quant.h). */
void lk_q8_weight_block(uint8_t u[32], float *dw, float *c, const uint8_t *block, int dtype);
/* Pack columns [n0, n0+cols) of W (rows of row_bytes) into a panel of pw columns (cols <= pw), nb blocks. */
void lk_q8_pack_panel(uint8_t *dst, int pw, const uint8_t *W, int64_t row_bytes, int64_t n0, int cols, int64_t nb,
                      int dtype);
/* The same panel, bitwise, with SSE4.1/F16C loads and stores (the AVX512-VNNI path packs with it). */
void lk_q8_pack_panel_avx512(uint8_t *dst, int pw, const uint8_t *W, int64_t row_bytes, int64_t n0, int cols,
                             int64_t nb, int dtype);
/* Y[i0.., n0..] for rows [0, rows) of Xq and one packed panel (cols valid columns). */
typedef void (*lk_q8_panel_fn)(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrow_bytes, int64_t rows,
                               const uint8_t *panel, int64_t nb, int cols, float beta);
void lk_q8_panel_avx512vnni(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrow_bytes, int64_t rows,
                            const uint8_t *panel, int64_t nb, int cols, float beta);
void lk_q8_panel_avxvnni(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrow_bytes, int64_t rows,
                         const uint8_t *panel, int64_t nb, int cols, float beta);
void lk_q8_panel_avx2(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrow_bytes, int64_t rows,
                      const uint8_t *panel, int64_t nb, int cols, float beta);
void lk_q8_panel_avx2_q8_0(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrow_bytes, int64_t rows,
                           const uint8_t *panel, int64_t nb, int cols, float beta);   /* Q8_0 panels (sign trick) */
/* M < 4 without weight packing (AVX512-VNNI, 512-bit over pairs of blocks): the rows (<= 3) of Xq laid out by
 * lk_q8_gemv_pack_x_avx512 into Xp (rows * lk_q8_gemv_x_bytes(nb) bytes, 64-byte aligned; the layout depends on
 * dtype), then rows [n_lo, n_hi) of W against them. */
int64_t lk_q8_gemv_x_bytes(int64_t nb);
void lk_q8_gemv_pack_x_avx512(uint8_t *Xp, const uint8_t *Xq, int64_t xrb, int64_t rows, int64_t nb, int dtype);
void lk_q8_gemv_avx512vnni(float *Y, int64_t ldy, const uint8_t *Xp, int64_t rows, const uint8_t *W, int64_t wrb,
                           int64_t n_lo, int64_t n_hi, int64_t nb, int dtype, float beta);
/* M < 4 without packing on the 256-bit paths (AVX2 instructions; Q8_0 too, exactly): rows [n_lo, n_hi) of W
 * against the rows (<= 3) of Xq. */
void lk_q8_gemv_avx2(float *Y, int64_t ldy, const uint8_t *Xq, int64_t xrb, int64_t rows, const uint8_t *W,
                     int64_t wrb, int64_t n_lo, int64_t n_hi, int64_t nb, int dtype, float beta);
void lk_quantize_q8a_rows_avx512(uint8_t *Xq, const float *X, int64_t ldx, int64_t r0, int64_t r1, int64_t K);
void lk_quantize_q8a_rows_avx2(uint8_t *Xq, const float *X, int64_t ldx, int64_t r0, int64_t r1, int64_t K);
#endif

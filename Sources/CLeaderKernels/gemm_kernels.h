/* Internal to the GEMM kernels (not part of the contract): the per-ISA leaf functions that the
 * baseline-ISA driver in gemm.c dispatches to. Each ISA file (gemm_avx512.c, gemm_avx2.c,
 * gemm_generic.c) defines one lk_gemm_kernels table; only those files contain vector code. */
#ifndef LK_GEMM_KERNELS_H
#define LK_GEMM_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* Micro-kernel: one MR x NR tile of C.
 *   acc = Ap * Bp  over kc steps (fixed k order, one FMA chain per element);
 *   first != 0:  C = acc                  (beta == 0: C is not read)
 *                C = beta*C + acc         (beta != 0, a single fused multiply-add)
 *   first == 0:  C = C + acc              (later K blocks accumulate)
 * Only the top-left mr x nr corner of the tile is stored (edges use masked loads/stores, so an element
 * gets the same arithmetic whether it sits in a full or in an edge tile).
 *   Ap: (kc, MR) packed, k-major, alpha already folded in
 *   Bp: (kc, NR) rows ldbp apart (ldbp = NR when packed, ldb when B is read in place)
 *   C : (mr, nr) rows ldc apart */
typedef void (*lk_gemm_ukr_fn)(int64_t kc, const float *Ap, const float *Bp, int64_t ldbp,
                               float *C, int64_t ldc, int mr, int nr, int first, float beta);

/* GEMV-like rows (M < 4): C[i, j0:j1] for i < m.
 *   a : (m, K) contiguous, alpha folded in
 *   B : (K, N) rows ldb apart when trans_b == 0, (N, K) when trans_b != 0
 *   C : (m, N) rows ldc apart; beta as for the micro-kernel (beta == 0: C not read)
 * Each C element is one fixed-order dot product over K, whatever j0/j1 are. */
typedef void (*lk_gemv_fn)(int m, int64_t K, const float *a, const float *B, int64_t ldb, int trans_b,
                           float *C, int64_t ldc, int64_t j0, int64_t j1, float beta);

typedef struct {
    int mr, nr;          /* register tile */
    lk_gemm_ukr_fn ukr;
    lk_gemv_fn gemv;
    int edge_rows_only;  /* 1: an edge tile of mr < MR rows reads only those rows of Ap (the rest need no zeros) */
} lk_gemm_kernels;

extern const lk_gemm_kernels lk_gemm_kernels_avx512;   /* 8 x 32, zmm */
extern const lk_gemm_kernels lk_gemm_kernels_avx2;     /* 6 x 16, ymm + FMA */
extern const lk_gemm_kernels lk_gemm_kernels_generic;  /* 4 x 16, portable C */

#define LK_GEMM_MAX_MR 8
#define LK_GEMM_MAX_NR 32

/* dst (kc, width) <- transpose of rows rows of src (rows, >= kc; lds): dst[k*width + j] = scale*src[j*lds + k]
 * for j < rows, 0 for rows <= j < width. Baseline code (4x4 SSE transposes on x86-64). Packs transposed
 * operands of the SGEMM and dequantised weight rows of lk_qgemm. */
void lk_pack_transposed(float *dst, int width, const float *src, int64_t lds, int rows, int64_t kc, float scale);
/* The same without the zero rows: dst[k*width + j] for j < rows only (for a micro-kernel with edge_rows_only). */
void lk_pack_transposed_rows(float *dst, int width, const float *src, int64_t lds, int rows, int64_t kc, float scale);

/* The leaf table for an ISA (clamped to what the CPU supports). */
const lk_gemm_kernels *lk_gemm_kernels_for(int isa);

/* Per-thread scratch memory, the one exception to "kernels never allocate": each slot is a buffer owned by
 * the calling thread (_Thread_local), 64-byte aligned, grown on demand and kept for the next call, freed at
 * thread exit. Returns NULL when the allocation fails; callers then take an unpacked path. Slots keep
 * independent users apart (LK_WS_GEMM for the SGEMM driver, LK_WS_QUANT for the quantised products). */
enum { LK_WS_GEMM = 0, LK_WS_QUANT = 1, LK_WS_SLOTS = 2 };
float *lk_thread_workspace(int slot, size_t n_floats);
#endif

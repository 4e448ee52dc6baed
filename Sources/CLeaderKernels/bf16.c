/* bf16 products (lk_bf16.h; page docs/kernels/bf16.md): path detection, weight packing, the portable
 * path, the oracle and the drivers (serial linear layers for inference sessions; OpenMP over panels of a
 * quantised weight for the teacher). The fast leaves are in bf16_amx.c (tiles) and bf16_dpbf16.c (VDPBF16PS). */
#define _GNU_SOURCE
#include "lk_bf16.h"
#include "lk_isa.h"
#include "kpath.h"
#include "lk_quant.h"
#include "gemm_kernels.h"
#include "quant_kernels.h"
#include "bf16_kernels.h"
#include "infer_kernels.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif
extern int omp_get_thread_num(void);

static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- availability ------------------------------------------------------------------------------- */

static int detect_amx(void) {
#if defined(__x86_64__) && defined(__linux__)
    if (lk_isa_active() != LK_ISA_AVX512) return 0;
    const char *env = getenv("LEADER_AMX");
    if (env != NULL && strcmp(env, "0") == 0) return 0;
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid(1, a, b, c, d);
    if (!((c >> 27) & 1)) return 0;                               /* OSXSAVE */
    __cpuid_count(7, 0, a, b, c, d);
    if (!((d >> 22) & 1) || !((d >> 24) & 1)) return 0;           /* AMX-BF16, AMX-TILE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void)hi;
    if ((lo & (3u << 17)) != (3u << 17)) return 0;                 /* XTILECFG, XTILEDATA enabled by the OS */
    /* ARCH_REQ_XCOMP_PERM (0x1023) for XFEATURE_XTILEDATA (18): process-wide, idempotent. */
    if (syscall(SYS_arch_prctl, 0x1023, 18) != 0) return 0;
    return 1;
#else
    return 0;
#endif
}

int lk_amx_available(void) {
    static _Atomic int state = -1;
    int s = state;
    if (s < 0) {
        s = detect_amx();
        state = s;
    }
    return s;
}

static int detect_avx512_bf16(void) {
#if defined(__x86_64__)
    return lk_isa_active() == LK_ISA_AVX512 && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

static int avx512_bf16_available(void) {
    static _Atomic int state = -1;
    int s = state;
    if (s < 0) {
        s = detect_avx512_bf16();
        state = s;
    }
    return s;
}

int lk_bf16_path_clamp(int path) {
    if (path == LK_BF16_PATH_AMX && lk_amx_available()) return path;
    if (path == LK_BF16_PATH_AVX512_BF16 && avx512_bf16_available()) return path;
    return LK_BF16_PATH_PORTABLE;
}

int lk_bf16_path_active(void) {
    if (lk_amx_available()) return LK_BF16_PATH_AMX;
    if (avx512_bf16_available()) return LK_BF16_PATH_AVX512_BF16;
    return LK_BF16_PATH_PORTABLE;
}

const char *lk_bf16_path_name(int path) {
    switch (path) {
    case LK_BF16_PATH_AMX: return "amx";
    case LK_BF16_PATH_AVX512_BF16: return "avx512-bf16";
    default: return "portable";
    }
}

void lk_amx_release(void) {
#if defined(__x86_64__)
    if (lk_amx_available()) lk_bf16_amx_release();
#endif
}

/* ---- packing ------------------------------------------------------------------------------------ */

int64_t lk_bf16_padded_k(int64_t K) { return cdiv(K, 32) * 32; }

int64_t lk_bf16_packed_elems(int64_t N, int64_t K) { return cdiv(N, 16) * 16 * lk_bf16_padded_k(K); }

/* One panel from `rows` (<= 16) rows of W; missing rows and K padding are zeros. */
static void pack_panel_portable(uint16_t *panel, const float *W, int64_t ldw, int rows, int64_t K) {
    const int64_t Kp = lk_bf16_padded_k(K);
    memset(panel, 0, (size_t)(16 * Kp) * sizeof(uint16_t));
    for (int n = 0; n < rows; n++) {
        const float *w = W + n * ldw;
        for (int64_t k = 0; k < K; k++) panel[(k / 32) * 512 + ((k % 32) / 2) * 32 + n * 2 + (k % 2)] = lk_f32_to_bf16(w[k]);
    }
}

static void pack_panel(uint16_t *panel, const float *W, int64_t ldw, int rows, int64_t K) {
#if defined(__x86_64__)
    if (lk_isa_active() == LK_ISA_AVX512) {
        lk_bf16_pack_panel_avx512(panel, W, ldw, rows, K);
        return;
    }
#endif
    pack_panel_portable(panel, W, ldw, rows, K);
}

void lk_bf16_pack(uint16_t *packed, const float *W, int64_t ldw, int64_t N, int64_t K) {
    const int64_t ps = 16 * lk_bf16_padded_k(K);
    for (int64_t p = 0; p < cdiv(N, 16); p++)
        pack_panel(packed + p * ps, W + p * 16 * ldw, ldw, (int)min64(16, N - p * 16), K);
}

/* ---- portable path ------------------------------------------------------------------------------ */

static void convert_rows(int path, uint16_t *A, int64_t lda, const float *X, int64_t ldx, int rows, int64_t K) {
#if defined(__x86_64__)
    if (path != LK_BF16_PATH_PORTABLE) {   /* both fast paths need AVX-512 */
        lk_bf16_convert_rows_avx512(A, lda, X, ldx, rows, K);
        return;
    }
#else
    (void)path;
#endif
    for (int r = 0; r < rows; r++) {
        for (int64_t k = 0; k < K; k++) A[r * lda + k] = lk_f32_to_bf16(X[r * ldx + k]);
        for (int64_t k = K; k < lda; k++) A[r * lda + k] = 0;
    }
}

/* Rounds `rows` (1..32) rows of X into the 32-row block A (lda apart); for the AMX tiles, also zeroes the rows
 * past them that the tiles read (up to 16 or 32), so no stale values enter a tile (the other paths read only
 * `rows` rows). */
static void round_block(int path, uint16_t *A, int64_t lda, const float *X, int64_t ldx, int rows, int64_t K) {
    convert_rows(path, A, lda, X, ldx, rows, K);
    const int tile_rows = rows <= 16 ? 16 : 32;
    if (path == LK_BF16_PATH_AMX && rows < tile_rows)
        memset(A + rows * lda, 0, (size_t)((tile_rows - rows) * lda) * sizeof(uint16_t));
}

/* Thread tid's share (of nt) of the 32-row blocks of X (M rows), rounded into the shared A (rows lda apart). */
static void round_share(int path, uint16_t *A, int64_t lda, const float *X, int64_t ldx, int64_t M, int64_t K, int tid,
                        int nt) {
    const int64_t blocks = cdiv(M, 32);
    for (int64_t b = tid * blocks / nt; b < (tid + 1) * blocks / nt; b++)
        round_block(path, A + b * 32 * lda, lda, X + b * 32 * ldx, ldx, (int)min64(32, M - b * 32), K);
}

/* The tile computation in plain C: per element one f32 sum over k in order (pairs as the tile does). */
/* GELU, tanh form, as x·sigmoid(2k(x + c x³)) (the AMX epilogue's formula, libm exp). */
static float gelu_scalar(float x) {
    return x / (1.0f + expf(-2.0f * 0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

static void portable_block(float *Y, int64_t ldy, const uint16_t *A, int64_t lda, int rows, const uint16_t *panels,
                           int64_t npan, int64_t ncols, int64_t Kp, const float *bias, float beta, int gelu,
                           float *const *rowp) {
    for (int64_t p = 0; p < npan; p++) {
        const uint16_t *B = panels + p * 16 * Kp;
        const int64_t cols = min64(16, ncols - p * 16);
        for (int r = 0; r < rows; r++) {
            float acc[16] = {0};
            const uint16_t *a = A + r * lda;
            for (int64_t t = 0; t < Kp / 32; t++)
                for (int q = 0; q < 16; q++) {
                    const float a0 = lk_bf16_to_f32(a[t * 32 + 2 * q]), a1 = lk_bf16_to_f32(a[t * 32 + 2 * q + 1]);
                    const uint16_t *b = B + t * 512 + q * 32;
                    for (int n = 0; n < 16; n++) {
                        acc[n] += a0 * lk_bf16_to_f32(b[2 * n]);
                        acc[n] += a1 * lk_bf16_to_f32(b[2 * n + 1]);
                    }
                }
            float *y = (rowp ? rowp[r] : Y + r * ldy) + p * 16;
            for (int64_t n = 0; n < cols; n++) {
                const float v = acc[n] + (bias ? bias[p * 16 + n] : 0.0f);
                const float t = rowp || beta == 0.0f ? v : beta * y[n] + v, g = gelu ? gelu_scalar(t) : t;
                y[n] = rowp ? y[n] + g : g;
            }
        }
    }
}

static void run_block(int path, float *Y, int64_t ldy, const uint16_t *A, int64_t lda, int rows,
                      const uint16_t *panels, int64_t npan, int64_t ncols, int64_t Kp, const float *bias, float beta,
                      int gelu, float *const *rowp, float *cbuf) {
    kpath_note(LK_KFAM_BF16, path);
#if defined(__x86_64__)
    if (path == LK_BF16_PATH_AMX) {
        lk_bf16_amx_block(Y, ldy, A, lda, rows, panels, npan, ncols, Kp, bias, beta, gelu, rowp, cbuf);
        return;
    }
    if (path == LK_BF16_PATH_AVX512_BF16) {
        lk_bf16_dp_block(Y, ldy, A, lda, rows, panels, npan, ncols, Kp, bias, beta, gelu, rowp);
        return;
    }
#endif
    (void)cbuf;
    portable_block(Y, ldy, A, lda, rows, panels, npan, ncols, Kp, bias, beta, gelu, rowp);
}

/* Rows of X per run_block call in the OpenMP drivers, whose A holds every row: the tiles' 32, else 1024, so
 * that VDPBF16PS takes each group of 4 panels (L2-resident) through many rows before the next (the panels of
 * a thread may not all fit in L2). */
static int64_t rows_per_call(int path) { return path == LK_BF16_PATH_AVX512_BF16 ? 1024 : 32; }

/* ---- serial linear layers ----------------------------------------------------------------------- */

/* Scratch: A block (32 × Kp bf16), the 32 × 32 f32 tile buffer (A's size is a multiple of 64 bytes), then 32
 * row pointers (lk_bf16_linear_gelu_mean). */
int64_t lk_bf16_scratch_bytes(int64_t K) { return 32 * lk_bf16_padded_k(K) * 2 + 32 * 32 * 4 + 32 * (int64_t)sizeof(float *); }

void lk_bf16_linear_forward_path(int path, float *Y, int64_t ldy, const float *X, int64_t ldx,
                                 const uint16_t *packed, const float *bias, int64_t M, int64_t N, int64_t K,
                                 float beta, int gelu, void *scratch) {
    if (M <= 0 || N <= 0) return;
    path = lk_bf16_path_clamp(path);
    const int64_t Kp = lk_bf16_padded_k(K), npan = cdiv(N, 16);
    uint16_t *A = (uint16_t *)scratch;
    float *cbuf = (float *)(A + 32 * Kp);
    for (int64_t i0 = 0; i0 < M; i0 += 32) {
        const int rows = (int)min64(32, M - i0);
        round_block(path, A, Kp, X + i0 * ldx, ldx, rows, K);
        run_block(path, Y + i0 * ldy, ldy, A, Kp, rows, packed, npan, N, Kp, bias, beta, gelu, NULL, cbuf);
    }
}

void lk_bf16_linear_forward(float *Y, int64_t ldy, const float *X, int64_t ldx, const uint16_t *packed,
                            const float *bias, int64_t M, int64_t N, int64_t K, float beta, int gelu, void *scratch) {
    lk_bf16_linear_forward_path(lk_bf16_path_active(), Y, ldy, X, ldx, packed, bias, M, N, K, beta, gelu, scratch);
}

void lk_bf16_linear_gelu_mean_path(int path, float *P, int64_t ldp, const float *X, int64_t ldx, const uint16_t *packed,
                                   const float *bias, const int32_t *offsets, int64_t n_sets, int64_t N, int64_t K,
                                   void *scratch) {
    if (n_sets <= 0 || N <= 0) return;
    path = lk_bf16_path_clamp(path);
    const int64_t Kp = lk_bf16_padded_k(K), npan = cdiv(N, 16), base = offsets[0], M = offsets[n_sets] - base;
    uint16_t *A = (uint16_t *)scratch;
    float *cbuf = (float *)(A + 32 * Kp);
    float **rowp = (float **)(cbuf + 32 * 32);
    set_sums_zero(P, ldp, n_sets, N);
    int64_t set = 0;
    for (int64_t i0 = 0; i0 < M; i0 += 32) {
        const int rows = (int)min64(32, M - i0);
        for (int r = 0; r < rows; r++) {   /* rows in order: the set of row i0 + r */
            set = set_of_row(offsets, i0 + r, set);
            rowp[r] = P + set * ldp;
        }
        round_block(path, A, Kp, X + i0 * ldx, ldx, rows, K);
        run_block(path, NULL, 0, A, Kp, rows, packed, npan, N, Kp, bias, 0.0f, 1, rowp, cbuf);
    }
    set_sums_to_means(P, ldp, offsets, n_sets, N);
}

void lk_bf16_linear_gelu_mean(float *P, int64_t ldp, const float *X, int64_t ldx, const uint16_t *packed,
                              const float *bias, const int32_t *offsets, int64_t n_sets, int64_t N, int64_t K,
                              void *scratch) {
    lk_bf16_linear_gelu_mean_path(lk_bf16_path_active(), P, ldp, X, ldx, packed, bias, offsets, n_sets, N, K, scratch);
}

void lk_bf16_linear_forward_ref(float *Y, int64_t ldy, const float *X, int64_t ldx, const float *W, int64_t ldw,
                                const float *bias, int64_t M, int64_t N, int64_t K, float beta, int gelu) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0.0;
            for (int64_t k = 0; k < K; k++)
                s += (double)lk_bf16_to_f32(lk_f32_to_bf16(X[i * ldx + k])) *
                     (double)lk_bf16_to_f32(lk_f32_to_bf16(W[n * ldw + k]));
            const double t = s + (bias ? (double)bias[n] : 0.0) + (beta == 0.0f ? 0.0 : (double)beta * (double)Y[i * ldy + n]);
            Y[i * ldy + n] = (float)(gelu ? t / (1.0 + exp(-2.0 * 0.7978845608028654 * (t + 0.044715 * t * t * t))) : t);
        }
}

/* ---- quantised weights, OpenMP over panels ------------------------------------------------------ */

void lk_qgemm_bf16_path(int path, float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W, int64_t M,
                        int64_t N, int64_t K, int dtype, float beta, int n_threads) {
    if (M <= 0 || N <= 0 || lk_dtype_block_size(dtype) == 0) return;
    path = lk_bf16_path_clamp(path);
    const int64_t Kp = lk_bf16_padded_k(K), npan = cdiv(N, 16), wrb = lk_row_bytes(K, dtype), Mp = cdiv(M, 32) * 32;
    const int nt = lk_quant_threads(n_threads, (double)M * (double)N * (double)K);
    const int64_t per = cdiv(npan, nt);
    /* workspace: X in bf16 (Mp × Kp, shared), then per thread: panels | dequantised rows 16 × K f32 | cbuf */
    const size_t a_b = (size_t)(Mp * Kp) * 2, panels_b = (size_t)(per * 16 * Kp) * 2;
    const size_t rows_b = (size_t)(16 * cdiv(K, 16) * 16) * 4, slice = panels_b + rows_b + 32 * 32 * 4;
    float *ws = lk_thread_workspace(LK_WS_QUANT, (a_b + (size_t)nt * slice) / 4);
    if (ws == NULL) {
        lk_qgemm(Y, ldy, X, ldx, W, M, N, K, dtype, beta, n_threads);
        return;
    }
    uint16_t *A = (uint16_t *)ws;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        round_share(path, A, Kp, X, ldx, M, K, tid, nt);
        uint8_t *base = (uint8_t *)ws + a_b + (size_t)tid * slice;
        uint16_t *panels = (uint16_t *)base;
        float *rows_f = (float *)(base + panels_b);
        float *cbuf = (float *)(base + panels_b + rows_b);
        const int64_t p0 = tid * npan / nt, p1 = (tid + 1) * npan / nt;
        for (int64_t p = p0; p < p1; p++) {
            const int rows = (int)min64(16, N - p * 16);
            for (int r = 0; r < rows; r++)
                lk_dequantize_row(rows_f + r * K, (const uint8_t *)W + (p * 16 + r) * wrb, K, dtype);
            pack_panel(panels + (p - p0) * 16 * Kp, rows_f, K, rows, K);
        }
#pragma omp barrier
        if (p1 > p0)
            for (int64_t i0 = 0; i0 < M; i0 += rows_per_call(path))
                run_block(path, Y + i0 * ldy + p0 * 16, ldy, A + i0 * Kp, Kp, (int)min64(rows_per_call(path), M - i0),
                          panels, p1 - p0, N - p0 * 16, Kp, NULL, beta, 0, NULL, cbuf);
        if (path == LK_BF16_PATH_AMX) lk_amx_release();
    }
}

void lk_qgemm_bf16(float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W, int64_t M, int64_t N,
                   int64_t K, int dtype, float beta, int n_threads) {
    lk_qgemm_bf16_path(lk_bf16_path_active(), Y, ldy, X, ldx, W, M, N, K, dtype, beta, n_threads);
}

/* ---- input gradient through a quantised weight ------------------------------------------------- */

/* Portable twin of lk_bf16_pack_tile_t_avx512 (same bits). */
static void pack_tile_t_portable(uint16_t *panels, int64_t panel_stride, const float *Wr, int64_t ldw, int rows,
                                 int64_t K) {
    for (int64_t q = 0; q * 16 < K; q++)
        for (int p = 0; p < 16; p++)
            for (int c = 0; c < 16; c++)
                for (int e = 0; e < 2; e++) {
                    const int r = 2 * p + e;
                    const int64_t k = q * 16 + c;
                    panels[q * panel_stride + p * 32 + c * 2 + e] = r < rows && k < K ? lk_f32_to_bf16(Wr[r * ldw + k]) : 0;
                }
}

void lk_qgemm_bf16_backward_input_path(int path, float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                                       int64_t M, int64_t N, int64_t K, int dtype, int n_threads) {
    if (M <= 0 || K <= 0 || N <= 0 || lk_dtype_block_size(dtype) == 0) return;
    path = lk_bf16_path_clamp(path);
    /* dX (M,K) += dY (M,N) · W (N,K): the reduction runs over N, so W's rows are the tiles' depth. */
    const int64_t Np = lk_bf16_padded_k(N), kpan = cdiv(K, 16), wrb = lk_row_bytes(K, dtype), Mp = cdiv(M, 32) * 32;
    const int64_t groups = Np / 32, ps = 16 * Np;   /* 32-row groups of W; one panel of Wᵀ: 16 columns × Np */
    const int nt = lk_quant_threads(n_threads, (double)M * (double)N * (double)K);
    /* workspace: dY in bf16 (Mp × Np) | Wᵀ panels (kpan × 16 × Np) | per thread: 32 dequantised rows | cbuf */
    const size_t a_b = (size_t)(Mp * Np) * 2, w_b = (size_t)(kpan * ps) * 2;
    const size_t rows_b = (size_t)(32 * cdiv(K, 16) * 16) * 4, slice = rows_b + 32 * 32 * 4;
    float *ws = lk_thread_workspace(LK_WS_QUANT, (a_b + w_b + (size_t)nt * slice) / 4);
    if (ws == NULL) {
        lk_qgemm_backward_input(dX, lddx, dY, lddy, W, M, N, K, dtype, n_threads);
        return;
    }
    uint16_t *A = (uint16_t *)ws, *Bt = (uint16_t *)((uint8_t *)ws + a_b);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        uint8_t *base = (uint8_t *)ws + a_b + w_b + (size_t)tid * slice;
        float *rows_f = (float *)base, *cbuf = (float *)(base + rows_b);
        round_share(path, A, Np, dY, lddy, M, N, tid, nt);
        for (int64_t g = tid * groups / nt; g < (tid + 1) * groups / nt; g++) {
            const int rows = (int)min64(32, N - g * 32);
            for (int r = 0; r < rows; r++)
                lk_dequantize_row(rows_f + r * K, (const uint8_t *)W + (g * 32 + r) * wrb, K, dtype);
#if defined(__x86_64__)
            if (lk_isa_active() == LK_ISA_AVX512) lk_bf16_pack_tile_t_avx512(Bt + g * 512, ps, rows_f, K, rows, K);
            else
#endif
                pack_tile_t_portable(Bt + g * 512, ps, rows_f, K, rows, K);
        }
#pragma omp barrier
        const int64_t p0 = tid * kpan / nt, p1 = (tid + 1) * kpan / nt;
        if (p1 > p0)
            for (int64_t i0 = 0; i0 < M; i0 += rows_per_call(path))
                run_block(path, dX + i0 * lddx + p0 * 16, lddx, A + i0 * Np, Np, (int)min64(rows_per_call(path), M - i0),
                          Bt + p0 * ps, p1 - p0, K - p0 * 16, Np, NULL, 1.0f, 0, NULL, cbuf);
        if (path == LK_BF16_PATH_AMX) lk_amx_release();
    }
}

void lk_qgemm_bf16_backward_input(float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W, int64_t M,
                                  int64_t N, int64_t K, int dtype, int n_threads) {
    lk_qgemm_bf16_backward_input_path(lk_bf16_path_active(), dX, lddx, dY, lddy, W, M, N, K, dtype, n_threads);
}

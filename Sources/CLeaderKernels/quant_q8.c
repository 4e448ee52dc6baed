/* int8 activations (Q8A) and the integer-dot products lk_qgemm_q8* (formats and the combine: lk_quant.h;
 * panel layout: quant_kernels.h; the page: docs/kernels/int8-gemm.md).
 *
 * Driver (baseline ISA, OpenMP): Xq is quantised by the caller once (lk_quantize_q8a) and shared read-only.
 * Threads split W into panels of PW columns (32 for AVX512-VNNI, 16 for the 256-bit paths); each thread unpacks
 * its panel's blocks into the vpdpbusd-ready layout (codes as u8 groups of 4 per column, dw and c as f32) in its
 * slice of lk_thread_workspace, then the path's panel kernel runs every row of Xq against it. Each output
 * element belongs to one panel and sees the blocks in K order, so results do not depend on n_threads. With fewer
 * than 4 rows (decoding) the SIMD paths skip the panels: threads split W's rows and a GEMV kernel reads each row
 * from the file (lk_q8_gemv_avx512vnni, lk_q8_gemv_avx2). The generic path (and the fallback when no workspace
 * could be had) unpacks one W row at a time and loops. */
#include "lk_quant.h"
#include "lk_isa.h"
#include "kpath.h"
#include "gemm_kernels.h"
#include "quant_kernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif
extern int omp_get_thread_num(void);

static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }
static inline float load_f32(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }
static inline void store_f32(uint8_t *p, float v) { memcpy(p, &v, 4); }

int64_t lk_q8a_row_bytes(int64_t K) { return K / QK * LK_Q8A_BLOCK_BYTES; }

int lk_qgemm_q8_supports(int dtype) {
    return dtype == LK_DTYPE_Q8_0 || dtype == LK_DTYPE_Q4_0 || dtype == LK_DTYPE_Q4_1;
}

/* ---- quantiser ---------------------------------------------------------------------------------- */

/* One block of 32 values (the definition; the SIMD rows reproduce it bit for bit). */
static void quantize_block_ref(uint8_t *blk, const float *x) {
    float amax = 0.0f;
    for (int j = 0; j < QK; j++) amax = fmaxf(amax, fabsf(x[j]));
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    int32_t sum = 0;
    for (int j = 0; j < QK; j++) {
        float r = nearbyintf(x[j] * id);                   /* default rounding: to nearest even */
        int q = r > 127.0f ? 127 : (r < -127.0f ? -127 : (int)r);
        blk[Q8A_Q + j] = (uint8_t)(int8_t)q;
        sum += q;
    }
    store_f32(blk + Q8A_D, d);
    store_f32(blk + Q8A_S, d * (float)sum);
}

void lk_quantize_q8a_ref(void *Xq, const float *X, int64_t ldx, int64_t M, int64_t K) {
    const int64_t nb = K / QK, rb = lk_q8a_row_bytes(K);
    for (int64_t i = 0; i < M; i++)
        for (int64_t b = 0; b < nb; b++)
            quantize_block_ref((uint8_t *)Xq + i * rb + b * LK_Q8A_BLOCK_BYTES, X + i * ldx + b * QK);
}

void lk_dequantize_q8a_ref(float *X, const void *Xq, int64_t M, int64_t K) {
    const int64_t nb = K / QK, rb = lk_q8a_row_bytes(K);
    for (int64_t i = 0; i < M; i++)
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = (const uint8_t *)Xq + i * rb + b * LK_Q8A_BLOCK_BYTES;
            const float d = load_f32(blk + Q8A_D);
            for (int j = 0; j < QK; j++) X[i * K + b * QK + j] = d * (float)(int8_t)blk[Q8A_Q + j];
        }
}

void lk_quantize_q8a_isa(int isa, void *Xq, const float *X, int64_t ldx, int64_t M, int64_t K, int n_threads) {
    if (M <= 0 || K < QK) return;
    const int a = lk_isa_clamp(isa);
    int nt = n_threads < 1 ? 1 : n_threads;
    if ((double)M * (double)K < 65536.0) nt = 1;
    if (nt > M) nt = (int)M;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        const int64_t r0 = tid * M / nt, r1 = (tid + 1) * M / nt;
#if defined(__x86_64__) || defined(__i386__)
        if (a == LK_ISA_AVX512) lk_quantize_q8a_rows_avx512(Xq, X, ldx, r0, r1, K);
        else if (a == LK_ISA_AVX2) lk_quantize_q8a_rows_avx2(Xq, X, ldx, r0, r1, K);
        else
#endif
            lk_quantize_q8a_ref((uint8_t *)Xq + r0 * lk_q8a_row_bytes(K), X + r0 * ldx, ldx, r1 - r0, K);
    }
    (void)a;
}

void lk_quantize_q8a(void *Xq, const float *X, int64_t ldx, int64_t M, int64_t K, int n_threads) {
    lk_quantize_q8a_isa(lk_isa_active(), Xq, X, ldx, M, K, n_threads);
}

/* ---- reference product ---------------------------------------------------------------------------- */

/* Plain loops over the file's bytes (its own nibble reading, not lk_q8_weight_block), combine in double. */
void lk_qgemm_q8_ref(float *Y, int64_t ldy, const void *Xq, const void *W,
                     int64_t M, int64_t N, int64_t K, int dtype, float beta) {
    if (M <= 0 || N <= 0 || !lk_qgemm_q8_supports(dtype)) return;
    const int64_t nb = K / QK, xrb = lk_q8a_row_bytes(K), wrb = lk_row_bytes(K, dtype);
    const int64_t bb = lk_dtype_block_bytes(dtype);
    for (int64_t i = 0; i < M; i++)
        for (int64_t n = 0; n < N; n++) {
            double acc = 0.0;
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *xb = (const uint8_t *)Xq + i * xrb + b * LK_Q8A_BLOCK_BYTES;
                const uint8_t *wb = (const uint8_t *)W + n * wrb + b * bb;
                const int8_t *q = (const int8_t *)(xb + Q8A_Q);
                const float dw = lk_f16_to_f32(lk_load_u16(wb));
                int32_t idot = 0;
                float c;
                if (dtype == LK_DTYPE_Q8_0) {
                    for (int j = 0; j < QK; j++) idot += ((int32_t)(int8_t)wb[2 + j] + 128) * q[j];
                    c = -128.0f * dw;
                } else {
                    const uint8_t *qs = wb + (dtype == LK_DTYPE_Q4_1 ? 4 : 2);
                    for (int j = 0; j < QK / 2; j++) idot += (qs[j] & 15) * q[j] + (qs[j] >> 4) * q[j + QK / 2];
                    c = dtype == LK_DTYPE_Q4_1 ? lk_f16_to_f32(lk_load_u16(wb + 2)) : -8.0f * dw;
                }
                acc += (double)dw * (double)load_f32(xb + Q8A_D) * (double)idot + (double)c * (double)load_f32(xb + Q8A_S);
            }
            float *y = Y + i * ldy + n;
            *y = (float)acc + (beta == 0.0f ? 0.0f : beta * *y);
        }
}

/* ---- panels ----------------------------------------------------------------------------------------- */

void lk_q8_weight_block(uint8_t u[32], float *dw, float *c, const uint8_t *block, int dtype) {
    *dw = lk_f16_to_f32(lk_load_u16(block));
    switch (dtype) {
    case LK_DTYPE_Q8_0:
        for (int j = 0; j < QK; j++) u[j] = block[2 + j] ^ 0x80;   /* q + 128 */
        *c = -128.0f * *dw;
        return;
    case LK_DTYPE_Q4_0:
        for (int j = 0; j < QK / 2; j++) { u[j] = block[2 + j] & 15; u[j + QK / 2] = block[2 + j] >> 4; }
        *c = -8.0f * *dw;
        return;
    default:   /* Q4_1 */
        for (int j = 0; j < QK / 2; j++) { u[j] = block[4 + j] & 15; u[j + QK / 2] = block[4 + j] >> 4; }
        *c = lk_f16_to_f32(lk_load_u16(block + 2));
        return;
    }
}

void lk_q8_pack_panel(uint8_t *dst, int pw, const uint8_t *W, int64_t row_bytes, int64_t n0, int cols, int64_t nb,
                      int dtype) {
    const int64_t rec = q8_panel_block_bytes(pw), bb = lk_dtype_block_bytes(dtype);
    for (int64_t b = 0; b < nb; b++) {
        uint8_t *r = dst + b * rec;
        float *dws = (float *)(r + 32 * pw), *cs = dws + pw;
        for (int j = 0; j < cols; j++) {
            uint8_t u[QK];
            lk_q8_weight_block(u, dws + j, cs + j, W + (n0 + j) * row_bytes + b * bb, dtype);
            for (int t = 0; t < 8; t++) memcpy(r + (t * pw + j) * 4, u + 4 * t, 4);
        }
        for (int j = cols; j < pw; j++) {
            dws[j] = 0.0f;
            cs[j] = 0.0f;
            for (int t = 0; t < 8; t++) memset(r + (t * pw + j) * 4, 0, 4);
        }
    }
}

/* ---- generic path --------------------------------------------------------------------------------- */

/* Rows [n_lo, n_hi) of W; u (K), dws, cs (nb) scratch on the stack. Same f32 combine as the SIMD paths. */
static void generic_rows(float *Y, int64_t ldy, const uint8_t *Xq, const uint8_t *W, int64_t M, int64_t n_lo,
                         int64_t n_hi, int64_t K, int dtype, float beta) {
    const int64_t nb = K / QK, xrb = lk_q8a_row_bytes(K), wrb = lk_row_bytes(K, dtype);
    const int64_t bb = lk_dtype_block_bytes(dtype);
    uint8_t u[K];
    float dws[nb], cs[nb];
    for (int64_t n = n_lo; n < n_hi; n++) {
        for (int64_t b = 0; b < nb; b++) lk_q8_weight_block(u + b * QK, dws + b, cs + b, W + n * wrb + b * bb, dtype);
        for (int64_t i = 0; i < M; i++) {
            float acc = 0.0f;
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *xb = Xq + i * xrb + b * LK_Q8A_BLOCK_BYTES;
                const int8_t *q = (const int8_t *)(xb + Q8A_Q);
                int32_t idot = 0;
                for (int j = 0; j < QK; j++) idot += (int32_t)u[b * QK + j] * q[j];
                acc += (float)idot * (dws[b] * load_f32(xb + Q8A_D));
                acc += cs[b] * load_f32(xb + Q8A_S);
            }
            float *y = Y + i * ldy + n;
            *y = beta == 0.0f ? acc : acc + beta * *y;
        }
    }
}

/* ---- dispatch ------------------------------------------------------------------------------------- */

static int detect_path(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    const int best = lk_isa_best();
    if (best == LK_ISA_AVX512 && __builtin_cpu_supports("avx512vnni")) return LK_Q8_PATH_AVX512_VNNI;
    if (best >= LK_ISA_AVX2 && __builtin_cpu_supports("avxvnni")) return LK_Q8_PATH_AVX_VNNI;
    if (best >= LK_ISA_AVX2) return LK_Q8_PATH_AVX2;
#endif
    return LK_Q8_PATH_GENERIC;
}

static int best_path(void) {
    static _Atomic int best = -1;
    int b = best;
    if (b < 0) { b = detect_path(); best = b; }
    return b;
}

int lk_qgemm_q8_path_clamp(int path) {
    if (path < LK_Q8_PATH_GENERIC || path > LK_Q8_PATH_AVX512_VNNI) return LK_Q8_PATH_GENERIC;
    const int best = best_path();
    if (path <= best) {
        /* AVX-VNNI is not implied by AVX512-VNNI (and vice versa): step down to what exists. */
        if (path == LK_Q8_PATH_AVX_VNNI && best == LK_Q8_PATH_AVX512_VNNI) {
#if defined(__x86_64__) || defined(__i386__)
            if (!__builtin_cpu_supports("avxvnni")) return LK_Q8_PATH_AVX2;
#endif
        }
        return path;
    }
    return best;
}

/* Best path at or below the ISA. */
static int path_for_isa(int isa) {
    switch (lk_isa_clamp(isa)) {
    case LK_ISA_AVX512: return lk_qgemm_q8_path_clamp(LK_Q8_PATH_AVX512_VNNI);
    case LK_ISA_AVX2: {
        int p = lk_qgemm_q8_path_clamp(LK_Q8_PATH_AVX_VNNI);
        return p == LK_Q8_PATH_AVX512_VNNI ? LK_Q8_PATH_AVX2 : p;
    }
    default: return LK_Q8_PATH_GENERIC;
    }
}

int lk_qgemm_q8_path_active(void) { return path_for_isa(lk_isa_active()); }

const char *lk_qgemm_q8_path_name(int path) {
    switch (path) {
    case LK_Q8_PATH_AVX512_VNNI: return "avx512-vnni";
    case LK_Q8_PATH_AVX_VNNI: return "avx-vnni";
    case LK_Q8_PATH_AVX2: return "avx2";
    default: return "generic";
    }
}

void lk_qgemm_q8_path(int path, float *Y, int64_t ldy, const void *Xq, const void *W,
                      int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads) {
    if (M <= 0 || N <= 0 || !lk_qgemm_q8_supports(dtype)) return;
    if (K < QK) {   /* empty sum: Y = beta*Y */
        for (int64_t i = 0; i < M; i++)
            for (int64_t n = 0; n < N; n++) Y[i * ldy + n] = beta == 0.0f ? 0.0f : beta * Y[i * ldy + n];
        return;
    }
    int p = lk_qgemm_q8_path_clamp(path);
    const int64_t nb = K / QK, wrb = lk_row_bytes(K, dtype), xrb = lk_q8a_row_bytes(K);
#if defined(__x86_64__) || defined(__i386__)
    /* Decoding (M < 4): no weight packing, W rows straight from the file (lk_q8_gemv_avx512vnni, whose activations
     * are laid out once here; lk_q8_gemv_avx2 on the 256-bit paths, Q8_0 included). A GEMV streams W once, so it
     * is worth a second thread from 32K products on. */
    if (M < 4 && p != LK_Q8_PATH_GENERIC) {
        float *xp = p == LK_Q8_PATH_AVX512_VNNI
                        ? lk_thread_workspace(LK_WS_QUANT, (size_t)(M * lk_q8_gemv_x_bytes(nb)) / 4) : NULL;
        if (xp != NULL || p != LK_Q8_PATH_AVX512_VNNI) {
            kpath_note(LK_KFAM_Q8, p);
            if (xp != NULL) lk_q8_gemv_pack_x_avx512((uint8_t *)xp, (const uint8_t *)Xq, xrb, M, nb, dtype);
            const int gt = lk_quant_threads(n_threads, (double)M * (double)N * (double)K * 8.0);
#pragma omp parallel num_threads(gt) if (gt > 1)
            {
                const int tid = gt > 1 ? omp_get_thread_num() : 0;
                const int64_t n0 = tid * N / gt, n1 = (tid + 1) * N / gt;
                if (xp != NULL) lk_q8_gemv_avx512vnni(Y, ldy, (const uint8_t *)xp, M, W, wrb, n0, n1, nb, dtype, beta);
                else lk_q8_gemv_avx2(Y, ldy, (const uint8_t *)Xq, xrb, M, (const uint8_t *)W, wrb, n0, n1, nb, dtype,
                                     beta);
            }
            return;
        }
    }
#endif
    kpath_note(LK_KFAM_Q8, p);
    const int nt = lk_quant_threads(n_threads, (double)M * (double)N * (double)K);
    lk_q8_panel_fn fn = NULL;
    int pw = 16;
#if defined(__x86_64__) || defined(__i386__)
    if (p == LK_Q8_PATH_AVX512_VNNI) { fn = lk_q8_panel_avx512vnni; pw = 32; }
    else if (p == LK_Q8_PATH_AVX_VNNI) fn = lk_q8_panel_avxvnni;
    else if (p == LK_Q8_PATH_AVX2) fn = dtype == LK_DTYPE_Q8_0 ? lk_q8_panel_avx2_q8_0 : lk_q8_panel_avx2;
#endif
    const size_t slice = align16((size_t)(nb * q8_panel_block_bytes(pw) / 4));   /* floats, 64-byte multiple */
    float *ws = fn == NULL ? NULL : lk_thread_workspace(LK_WS_QUANT, (size_t)nt * slice);
    const int64_t npanels = cdiv(N, pw);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        if (ws == NULL) {
            generic_rows(Y, ldy, Xq, W, M, tid * N / nt, (tid + 1) * N / nt, K, dtype, beta);
        } else {
            uint8_t *panel = (uint8_t *)(ws + (size_t)tid * slice);
            for (int64_t pq = tid * npanels / nt; pq < (tid + 1) * npanels / nt; pq++) {
                const int64_t n0 = pq * pw;
                const int cols = (int)(N - n0 < pw ? N - n0 : pw);
#if defined(__x86_64__) || defined(__i386__)
                if (p == LK_Q8_PATH_AVX512_VNNI) lk_q8_pack_panel_avx512(panel, pw, W, wrb, n0, cols, nb, dtype);
                else
#endif
                    lk_q8_pack_panel(panel, pw, W, wrb, n0, cols, nb, dtype);
                fn(Y + n0, ldy, Xq, xrb, M, panel, nb, cols, beta);
            }
        }
    }
}

void lk_qgemm_q8_isa(int isa, float *Y, int64_t ldy, const void *Xq, const void *W,
                     int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads) {
    lk_qgemm_q8_path(path_for_isa(isa), Y, ldy, Xq, W, M, N, K, dtype, beta, n_threads);
}

void lk_qgemm_q8(float *Y, int64_t ldy, const void *Xq, const void *W,
                 int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads) {
    lk_qgemm_q8_path(lk_qgemm_q8_path_active(), Y, ldy, Xq, W, M, N, K, dtype, beta, n_threads);
}

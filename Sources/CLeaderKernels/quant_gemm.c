/* Products with quantised weights (lk_qgemm*, lk_qgemm_backward_input*). Baseline-ISA driver: it reuses
 * the SGEMM micro-kernels (gemm_kernels.h) and the per-ISA row dequantisers (quant_kernels.h).
 *
 * Forward  Y (M,N) = X (M,K) * W^T + beta*Y, W (N,K) in dtype:
 *   M < 4:   threads split W rows; each dequantises 16 rows at a time into a tile (16,K) and takes the
 *            GEMV leaf's dot products against the (at most 3) X rows. On AVX2 and AVX-512, Q8_0/Q4_0/Q4_1
 *            rows are taken block by block from their codes instead (lk_qdot_rows_avx2 / _avx512: no tile).
 *   M >= 4:  X is packed once (MR panels, shared; blocks of QM rows); threads split W into NR-row panels;
 *            each panel is dequantised (NR,K), transposed to a packed B panel (K,NR), and multiplied by
 *            every X panel with the micro-kernel (K split evenly into blocks of at most KC, the first applying beta).
 * Backward dX (M,K) += dY (M,N) * W (N,K):
 *   for each block of at most KC W rows (N split evenly): dY[:, block] is packed (shared); threads split the K columns into
 *   32-aligned chunks, dequantise W[block, chunk] into a tile read by the micro-kernel in place.
 * The whole W is never materialised. Every output element belongs to one thread and is computed with a
 * fixed K order, so results do not depend on n_threads. Scratch: lk_thread_workspace (one allocation by the
 * calling thread, sliced per worker); if it fails, a plain-loop fallback runs instead. */
#include "lk_quant.h"
#include "lk_isa.h"
#include "gemm_kernels.h"
#include "quant_kernels.h"
#include <stdint.h>

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif
extern int omp_get_thread_num(void);

enum { KC = 256, QM = 512, GEMV_ROWS = 16, BW_CHUNK = 256 };

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
/* Reduction blocks: the length split evenly into blocks of at most KC (576 -> 2 x 288), as in gemm.c. */
static inline int64_t k_block(int64_t K) { return K <= 0 ? 1 : cdiv(K, cdiv(K, KC)); }
static inline size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }   /* floats -> 64-byte multiple */

/* ---- references --------------------------------------------------------------------------------- */

/* Dequantise each W row with the reference dequantiser, double-precision dot products. */
void lk_qgemm_ref(float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W,
                  int64_t M, int64_t N, int64_t K, int dtype, float beta) {
    if (M <= 0 || N <= 0) return;
    const int64_t rb = lk_row_bytes(K, dtype);
    float wrow[K > 0 ? K : 1];
    for (int64_t n = 0; n < N; n++) {
        lk_dequantize_row_ref(wrow, (const uint8_t *)W + n * rb, K, dtype);
        for (int64_t i = 0; i < M; i++) {
            double acc = 0.0;
            for (int64_t k = 0; k < K; k++) acc += (double)X[i * ldx + k] * (double)wrow[k];
            float *y = Y + i * ldy + n;
            *y = (float)acc + (beta == 0.0f ? 0.0f : beta * *y);
        }
    }
}

void lk_qgemm_backward_input_ref(float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                                 int64_t M, int64_t N, int64_t K, int dtype) {
    if (M <= 0 || K <= 0) return;
    const int64_t rb = lk_row_bytes(K, dtype);
    float wrow[K];
    double acc[K];
    for (int64_t i = 0; i < M; i++) {
        for (int64_t k = 0; k < K; k++) acc[k] = 0.0;
        for (int64_t n = 0; n < N; n++) {
            lk_dequantize_row_ref(wrow, (const uint8_t *)W + n * rb, K, dtype);
            for (int64_t k = 0; k < K; k++) acc[k] += (double)dY[i * lddy + n] * (double)wrow[k];
        }
        for (int64_t k = 0; k < K; k++) dX[i * lddx + k] += (float)acc[k];
    }
}

/* ---- shared pieces ------------------------------------------------------------------------------ */

typedef struct {
    const lk_gemm_kernels *kn;
    lk_dequant_row_fn deq;
    lk_qdot_rows_fn qdot;   /* M < 4 without a tile (the AVX2 code, for AVX2 and AVX-512; NULL for generic) */
    int dtype;
    int64_t row_bytes;
} qctx;

static qctx make_ctx(int isa, int64_t K, int dtype) {
    lk_qdot_rows_fn qdot = NULL;
#if defined(__x86_64__) || defined(__i386__)
    if (lk_isa_clamp(isa) == LK_ISA_AVX512) qdot = lk_qdot_rows_avx512;
    else if (lk_isa_clamp(isa) == LK_ISA_AVX2) qdot = lk_qdot_rows_avx2;
#endif
    qctx c = {lk_gemm_kernels_for(isa), lk_dequant_row_for(isa), qdot, dtype, lk_row_bytes(K, dtype)};
    return c;
}

/* Values [k0, k0+n) of W row r into out (n); k0 block-aligned. */
static void deq_segment(const qctx *c, const void *W, int64_t r, int64_t k0, int64_t n, float *out) {
    const int64_t bs = lk_dtype_block_size(c->dtype);
    const uint8_t *row = (const uint8_t *)W + r * c->row_bytes + (k0 / bs) * lk_dtype_block_bytes(c->dtype);
    c->deq(out, row, n, c->dtype);
}

/* Ap (kc, MR) panels: rows [i0, i0+MR) of S (rows, ·; lds), columns [p0, p0+kc); missing rows zero. */
static void pack_rows(const float *S, int64_t lds, int64_t rows, int64_t i0, int64_t p0, int64_t kc, int mr,
                      float *dst) {
    const int valid = (int)min64(mr, rows - i0);
    for (int i = 0; i < valid; i++) {
        const float *s = S + (i0 + i) * lds + p0;
        for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = s[k];
    }
    for (int i = valid; i < mr; i++)
        for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = 0.0f;
}

static inline void team_barrier(int nt) {
    if (nt > 1) {
#pragma omp barrier
    }
}

/* ---- forward ------------------------------------------------------------------------------------ */

typedef struct {
    qctx c;
    float *Y; int64_t ldy;        /* (M,N) */
    const float *X; int64_t ldx;  /* (M,K) */
    const void *W;                /* (N,K) in dtype */
    int64_t M, N, K;
    float beta;
} qfwd;

/* Y = beta*Y when K == 0. */
static void scale_y(const qfwd *q) {
    for (int64_t i = 0; i < q->M; i++)
        for (int64_t j = 0; j < q->N; j++) {
            float *y = q->Y + i * q->ldy + j;
            *y = q->beta == 0.0f ? 0.0f : q->beta * *y;
        }
}

/* M < 4. ws: xa (M,K) then per-thread tiles (GEMV_ROWS,K). */
static size_t fwd_gemv_ws(const qfwd *q, int nt) {
    return align16((size_t)(q->M * q->K)) + (size_t)nt * align16((size_t)(GEMV_ROWS * q->K));
}
static void fwd_gemv_run(const qfwd *q, float *ws, int tid, int nt) {
    const float *xa = ws;
    float *tile = ws + align16((size_t)(q->M * q->K)) + (size_t)tid * align16((size_t)(GEMV_ROWS * q->K));
    const int64_t groups = cdiv(q->N, GEMV_ROWS);
    for (int64_t gidx = tid * groups / nt; gidx < (tid + 1) * groups / nt; gidx++) {
        const int64_t n0 = gidx * GEMV_ROWS, rows = min64(GEMV_ROWS, q->N - n0);
        if (q->c.qdot && q->c.qdot((int)q->M, q->K, xa, (const uint8_t *)q->W + n0 * q->c.row_bytes, q->c.row_bytes,
                                   q->c.dtype, q->Y + n0, q->ldy, 0, rows, q->beta))
            continue;
        for (int64_t r = 0; r < rows; r++) deq_segment(&q->c, q->W, n0 + r, 0, q->K, tile + r * q->K);
        q->c.kn->gemv((int)q->M, q->K, xa, tile, q->K, 1, q->Y + n0, q->ldy, 0, rows, q->beta);
    }
}

/* M >= 4. ws: Ap (QM rows padded, K) then per-thread (NR,K) rows + (K,NR) packed panel. */
static size_t fwd_packed_ws(const qfwd *q, int nt) {
    const int64_t mr = q->c.kn->mr, nr = q->c.kn->nr;
    return align16((size_t)(cdiv(min64(QM, q->M), mr) * mr * q->K)) + (size_t)nt * 2 * align16((size_t)(nr * q->K));
}
static void fwd_packed_run(const qfwd *q, float *ws, int tid, int nt) {
    const lk_gemm_kernels *kn = q->c.kn;
    const int mr = kn->mr, nr = kn->nr;
    const int64_t K = q->K;
    float *Ap = ws;     /* per K block pc: panels (kc, mr) at Ap + pc*mpad + r*mr*kc */
    float *rows = ws + align16((size_t)(cdiv(min64(QM, q->M), mr) * mr * K)) + (size_t)tid * 2 * align16((size_t)(nr * K));
    float *Bp = rows + align16((size_t)(nr * K));            /* (K, nr): block pc at Bp + pc*nr */
    const int64_t npanels = cdiv(q->N, nr), kcb = k_block(K);
    for (int64_t i0 = 0; i0 < q->M; i0 += QM) {
        const int64_t mb = min64(QM, q->M - i0), nmp = cdiv(mb, mr), mpad = nmp * mr;
        for (int64_t pc = 0; pc < K; pc += kcb) {
            const int64_t kc = min64(kcb, K - pc);
            for (int64_t r = tid * nmp / nt; r < (tid + 1) * nmp / nt; r++)
                pack_rows(q->X + i0 * q->ldx, q->ldx, mb, r * mr, pc, kc, mr, Ap + pc * mpad + r * mr * kc);
        }
        team_barrier(nt);
        for (int64_t pq = tid * npanels / nt; pq < (tid + 1) * npanels / nt; pq++) {
            const int64_t n0 = pq * nr;
            const int nrr = (int)min64(nr, q->N - n0);
            for (int j = 0; j < nrr; j++) deq_segment(&q->c, q->W, n0 + j, 0, K, rows + j * K);
            lk_pack_transposed(Bp, nr, rows, K, nrr, K, 1.0f);   /* to the packed-B layout (K, nr) */
            for (int64_t pc = 0; pc < K; pc += kcb) {
                const int64_t kc = min64(kcb, K - pc);
                for (int64_t r = 0; r < nmp; r++)
                    kn->ukr(kc, Ap + pc * mpad + r * mr * kc, Bp + pc * nr, nr,
                            q->Y + (i0 + r * mr) * q->ldy + n0, q->ldy, (int)min64(mr, mb - r * mr), nrr,
                            pc == 0, q->beta);
            }
        }
        team_barrier(nt);
    }
}

/* Plain loops, rows of W split over threads (used only when no workspace could be allocated). */
static void fwd_fallback_run(const qfwd *q, int tid, int nt) {
    for (int64_t n = tid * q->N / nt; n < (tid + 1) * q->N / nt; n++)
        for (int64_t i = 0; i < q->M; i++) {
            float acc = 0.0f;
            const int64_t bs = lk_dtype_block_size(q->c.dtype);
            for (int64_t k0 = 0; k0 < q->K; k0 += bs) {
                float w[QK];
                deq_segment(&q->c, q->W, n, k0, bs, w);
                for (int64_t k = 0; k < bs; k++) { float t = q->X[i * q->ldx + k0 + k] * w[k]; acc += t; }
            }
            float *y = q->Y + i * q->ldy + n;
            if (q->beta != 0.0f) { float t = q->beta * *y; acc = acc + t; }
            *y = acc;
        }
}

void lk_qgemm_isa(int isa, float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W,
                  int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads) {
    if (M <= 0 || N <= 0 || lk_dtype_block_size(dtype) == 0) return;
    qfwd q = {make_ctx(isa, K, dtype), Y, ldy, X, ldx, W, M, N, K, beta};
    if (K <= 0) { scale_y(&q); return; }
    const int gemv = M < 4;
    const int nt = lk_quant_threads(n_threads, (double)M * (double)N * (double)K + (double)N * (double)K * 4.0);
    float *ws = lk_thread_workspace(LK_WS_QUANT, gemv ? fwd_gemv_ws(&q, nt) : fwd_packed_ws(&q, nt));
    if (ws != NULL && gemv)
        for (int64_t i = 0; i < M; i++)
            for (int64_t k = 0; k < K; k++) ws[i * K + k] = X[i * ldx + k];
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        if (ws == NULL) fwd_fallback_run(&q, tid, nt);
        else if (gemv) fwd_gemv_run(&q, ws, tid, nt);
        else fwd_packed_run(&q, ws, tid, nt);
    }
}

void lk_qgemm(float *Y, int64_t ldy, const float *X, int64_t ldx, const void *W,
              int64_t M, int64_t N, int64_t K, int dtype, float beta, int n_threads) {
    lk_qgemm_isa(lk_isa_active(), Y, ldy, X, ldx, W, M, N, K, dtype, beta, n_threads);
}

/* ---- backward (input gradient) -------------------------------------------------------------------- */

typedef struct {
    qctx c;
    float *dX; int64_t lddx;          /* (M,K) += */
    const float *dY; int64_t lddy;    /* (M,N) */
    const void *W;                    /* (N,K) in dtype */
    int64_t M, N, K;
} qbwd;

/* ws: Ap (M padded, KC) then per-thread tiles (KC, BW_CHUNK). */
static size_t bwd_ws(const qbwd *q, int nt) {
    const int64_t mr = q->c.kn->mr;
    return align16((size_t)(cdiv(q->M, mr) * mr * KC)) + (size_t)nt * align16((size_t)(KC * BW_CHUNK));
}

static void bwd_run(const qbwd *q, float *ws, int tid, int nt) {
    const lk_gemm_kernels *kn = q->c.kn;
    const int mr = kn->mr, nr = kn->nr;
    const int64_t nmp = cdiv(q->M, mr);
    float *Ap = ws;
    float *tile = ws + align16((size_t)(nmp * mr * KC)) + (size_t)tid * align16((size_t)(KC * BW_CHUNK));
    const int64_t nchunks = cdiv(q->K, BW_CHUNK);      /* chunks of 256 columns (block-aligned) */
    const int64_t kcb = k_block(q->N);
    for (int64_t pc = 0; pc < q->N; pc += kcb) {
        const int64_t kc = min64(kcb, q->N - pc);
        for (int64_t r = tid * nmp / nt; r < (tid + 1) * nmp / nt; r++)
            pack_rows(q->dY, q->lddy, q->M, r * mr, pc, kc, mr, Ap + r * mr * kc);
        team_barrier(nt);
        for (int64_t ch = tid * nchunks / nt; ch < (tid + 1) * nchunks / nt; ch++) {
            const int64_t k0 = ch * BW_CHUNK, w = min64(BW_CHUNK, q->K - k0), wpad = cdiv(w, nr) * nr;
            for (int64_t n = 0; n < kc; n++) {         /* tile (kc, wpad): W[pc+n, k0:k0+w], zero-padded */
                float *t = tile + n * wpad;
                deq_segment(&q->c, q->W, pc + n, k0, w, t);
                for (int64_t j = w; j < wpad; j++) t[j] = 0.0f;
            }
            for (int64_t j = 0; j < w; j += nr)
                for (int64_t r = 0; r < nmp; r++)
                    kn->ukr(kc, Ap + r * mr * kc, tile + j, wpad, q->dX + r * mr * q->lddx + k0 + j, q->lddx,
                            (int)min64(mr, q->M - r * mr), (int)min64(nr, w - j), 0, 0.0f);
        }
        team_barrier(nt);
    }
}

/* Plain loops, columns split over threads (used only when no workspace could be allocated). */
static void bwd_fallback_run(const qbwd *q, int tid, int nt) {
    const int64_t bs = lk_dtype_block_size(q->c.dtype);
    const int64_t nblk = q->K / bs;
    for (int64_t b = tid * nblk / nt; b < (tid + 1) * nblk / nt; b++)
        for (int64_t n = 0; n < q->N; n++) {
            float w[QK];
            deq_segment(&q->c, q->W, n, b * bs, bs, w);
            for (int64_t i = 0; i < q->M; i++)
                for (int64_t k = 0; k < bs; k++) {
                    float t = q->dY[i * q->lddy + n] * w[k];
                    q->dX[i * q->lddx + b * bs + k] += t;
                }
        }
}

void lk_qgemm_backward_input_isa(int isa, float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                                 int64_t M, int64_t N, int64_t K, int dtype, int n_threads) {
    if (M <= 0 || N <= 0 || K <= 0 || lk_dtype_block_size(dtype) == 0) return;
    qbwd q = {make_ctx(isa, K, dtype), dX, lddx, dY, lddy, W, M, N, K};
    const int nt = lk_quant_threads(n_threads, (double)M * (double)N * (double)K);
    float *ws = lk_thread_workspace(LK_WS_QUANT, bwd_ws(&q, nt));
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int tid = nt > 1 ? omp_get_thread_num() : 0;
        if (ws == NULL) bwd_fallback_run(&q, tid, nt);
        else bwd_run(&q, ws, tid, nt);
    }
}

void lk_qgemm_backward_input(float *dX, int64_t lddx, const float *dY, int64_t lddy, const void *W,
                             int64_t M, int64_t N, int64_t K, int dtype, int n_threads) {
    lk_qgemm_backward_input_isa(lk_isa_active(), dX, lddx, dY, lddy, W, M, N, K, dtype, n_threads);
}

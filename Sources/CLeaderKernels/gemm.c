/* SGEMM driver (baseline ISA): dispatch, packing, blocking and the OpenMP split.
 *
 * GotoBLAS/BLIS loop nest, row-major C = alpha*op(A)*op(B) + beta*C:
 *   for jc in N step NC                      (only when B is packed)
 *     for pc in K step kc                   (kc = K split evenly into blocks of at most KC)
 *       pack B[pc:pc+kc, jc:jc+nc] into NR-wide k-major panels       (parallel over panels)
 *       pack A[:, pc:pc+kc] into MR-tall k-major panels, alpha folded (parallel over panels)
 *       barrier
 *       tasks = (A block of ~MC rows) x (group of B panels), split statically over threads:
 *         for each B panel of the group: for each MR panel of the A block: micro-kernel
 *   The packed A and B blocks are double-buffered, so the barrier after packing is the only one per block.
 * Paths, chosen from the shape only (never from n_threads, so results are thread-count invariant):
 *   M < 4       GEMV-like rows: A copied contiguous (alpha folded), one dot product per C element;
 *   M <= 64     B read in place (no B packing; edge panels and transposed B packed per task) and each
 *               thread packs its own copy of A, so this path has no barrier at all;
 *   otherwise   B packed once per (jc, pc) block, shared by all threads.
 * Every C element is produced by exactly one thread with the same K blocking and the same micro-kernel
 * arithmetic (edge tiles use masked stores, not a different code path), so any n_threads gives the same bits.
 * The vector code lives in gemm_avx512.c / gemm_avx2.c / gemm_generic.c (see gemm_kernels.h).
 * OpenMP regions are only in this baseline file: target attributes do not reach outlined omp bodies. */
#include "lk_gemm.h"
#include "lk_isa.h"
#include "gemm_kernels.h"
#include <stddef.h>

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif
extern int omp_get_thread_num(void);

#ifndef LK_GEMM_KC
#define LK_GEMM_KC 256
#endif
#ifndef LK_GEMM_MC
#define LK_GEMM_MC 128
#endif
#ifndef LK_GEMM_NC
#define LK_GEMM_NC 2048
#endif
enum {
    KC = LK_GEMM_KC,  /* k block: an 8x32 micro-panel of B (32 KiB) stays in L1 */
    MC = LK_GEMM_MC,  /* rows per A block: the A block (128 KiB) stays in L2 */
    NC = LK_GEMM_NC,  /* columns per packed B block (2 MiB) */
    SMALL_M = 64,     /* M <= SMALL_M: B is not packed */
    GEMV_M = 4,       /* M < GEMV_M: dot-product path */
};

const lk_gemm_kernels *lk_gemm_kernels_for(int isa) {
#if defined(__x86_64__) || defined(__i386__)
    switch (lk_isa_clamp(isa)) {
    case LK_ISA_AVX512: return &lk_gemm_kernels_avx512;
    case LK_ISA_AVX2: return &lk_gemm_kernels_avx2;
    default: break;
    }
#else
    (void)isa;
#endif
    return &lk_gemm_kernels_generic;
}

typedef struct {
    const lk_gemm_kernels *kn;
    float *C; int64_t ldc;          /* (M,N) */
    const float *A; int64_t lda;    /* (M,K) or (K,M) */
    const float *B; int64_t ldb;    /* (K,N) or (N,K) */
    int64_t M, N, K;
    int ta, tb;
    float alpha, beta;
} gemm_args;

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
/* K block size: K split into equal blocks of at most KC (576 -> 2 x 288, not 256+256+64), so no block is
 * so short that loading and storing C dominates. Depends on K only, never on the thread count. */
static inline int64_t k_block(int64_t K) { return cdiv(K, cdiv(K, KC)); }
static inline float elem_a(const gemm_args *g, int64_t i, int64_t p) {
    return g->ta ? g->A[p * g->lda + i] : g->A[i * g->lda + p];
}

/* ---- packing -------------------------------------------------------------------------------------- */

/* dst (kc, MR): rows [i0, i0+MR) of op(A), columns [pc, pc+kc), times alpha; rows >= M are zero. */
static void pack_a_panel(const gemm_args *g, int64_t i0, int64_t pc, int64_t kc, float *dst) {
    const int mr = g->kn->mr;
    const int rows = (int)min64(mr, g->M - i0);
    const float alpha = g->alpha;
    if (g->ta) {          /* A is (K,M): row k of the panel is contiguous in A */
        for (int64_t k = 0; k < kc; k++) {
            const float *src = g->A + (pc + k) * g->lda + i0;
            float *d = dst + k * mr;
            for (int i = 0; i < rows; i++) d[i] = alpha * src[i];
            for (int i = rows; i < mr; i++) d[i] = 0.0f;
        }
        return;
    }
    for (int i = 0; i < rows; i++) {
        const float *src = g->A + (i0 + i) * g->lda + pc;
        for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = alpha * src[k];
    }
    for (int i = rows; i < mr; i++)
        for (int64_t k = 0; k < kc; k++) dst[k * mr + i] = 0.0f;
}

/* dst (kc, NR): columns [j0, j0+NR) of op(B), rows [pc, pc+kc); columns >= N are zero. */
static void pack_b_panel(const gemm_args *g, int64_t j0, int64_t pc, int64_t kc, float *dst) {
    const int nr = g->kn->nr;
    const int cols = (int)min64(nr, g->N - j0);
    if (g->tb) {          /* B is (N,K): column j of op(B) is row j of B */
        for (int j = 0; j < cols; j++) {
            const float *src = g->B + (j0 + j) * g->ldb + pc;
            for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = src[k];
        }
        for (int j = cols; j < nr; j++)
            for (int64_t k = 0; k < kc; k++) dst[k * nr + j] = 0.0f;
        return;
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *src = g->B + (pc + k) * g->ldb + j0;
        float *d = dst + k * nr;
        for (int j = 0; j < cols; j++) d[j] = src[j];
        for (int j = cols; j < nr; j++) d[j] = 0.0f;
    }
}

/* ---- packed path ---------------------------------------------------------------------------------- */

static int use_packed_b(const gemm_args *g) { return g->M > SMALL_M; }

/* Floats of workspace the packed path needs for nt threads. Large M: packed A and packed B, shared, twice
 * (double-buffered: block s+1 is packed while slower threads may still multiply block s, so one barrier
 * per block suffices). Small M: one private copy of packed A per thread (no barrier at all). Plus one edge
 * panel per thread. */
static size_t packed_ws_floats(const gemm_args *g, int nt) {
    const int64_t mr = g->kn->mr, nr = g->kn->nr, kc = k_block(g->K);
    const size_t a = (size_t)(cdiv(g->M, mr) * mr * kc);
    const size_t b = (size_t)(cdiv(min64(NC, g->N), nr) * nr * kc);
    const size_t edge = (size_t)nt * (size_t)(kc * nr);
    return (use_packed_b(g) ? 2 * (a + b) : (size_t)nt * a) + edge;
}

static inline void team_barrier(int nt) {
    if (nt > 1) {
#pragma omp barrier
    }
}

/* Thread tid of nt runs its share of the packed algorithm. ws: packed_ws_floats(g, nt) floats, shared. */
static void packed_run(const gemm_args *g, float *ws, int tid, int nt) {
    const lk_gemm_kernels *kn = g->kn;
    const int mr = kn->mr, nr = kn->nr;
    const int pack_b = use_packed_b(g);
    const int64_t M = g->M, N = g->N, K = g->K;
    const int64_t kcmax = k_block(K);
    const int64_t nmp = cdiv(M, mr);                       /* A micro-panels */
    const int64_t asize = nmp * mr * kcmax, bsize = cdiv(min64(NC, N), nr) * nr * kcmax;
    /* pack_b: buffers {A0, B0, A1, B1}, block s uses pair s % 2; else: private A of this thread */
    float *Abuf[2], *Bbuf[2], *edge;
    if (pack_b) {
        Abuf[0] = ws; Bbuf[0] = ws + asize; Abuf[1] = ws + asize + bsize; Bbuf[1] = ws + 2 * asize + bsize;
        edge = ws + 2 * (asize + bsize) + (int64_t)tid * kcmax * nr;
    } else {
        Abuf[0] = Abuf[1] = ws + (int64_t)tid * asize;
        Bbuf[0] = Bbuf[1] = NULL;
        edge = ws + (int64_t)nt * asize + (int64_t)tid * kcmax * nr;
    }
    const int64_t ncb = pack_b ? NC : N;
    int64_t step = 0;

    /* tasks: A blocks of about MC rows (split evenly) x groups of B panels */
    const int64_t nab = cdiv(nmp * mr, MC);
    for (int64_t jc = 0; jc < N; jc += ncb) {
        const int64_t nc = min64(ncb, N - jc);
        const int64_t nbp = cdiv(nc, nr);
        int64_t ng = min64(nbp, cdiv(4 * (int64_t)nt, nab));
        if (ng < 1) ng = 1;
        while (ng < nbp && (nab * ng) % nt != 0) ng++;
        const int64_t T = nab * ng;
        for (int64_t pc = 0; pc < K; pc += kcmax, step++) {
            const int64_t kc = min64(kcmax, K - pc);
            const int first = pc == 0;
            float *Ap = Abuf[step & 1], *Bp = Bbuf[step & 1];
            if (pack_b)
                for (int64_t q = tid * nbp / nt; q < (tid + 1) * nbp / nt; q++)
                    pack_b_panel(g, jc + q * nr, pc, kc, Bp + q * kc * nr);
            if (pack_b) {
                for (int64_t r = tid * nmp / nt; r < (tid + 1) * nmp / nt; r++)
                    pack_a_panel(g, r * mr, pc, kc, Ap + r * mr * kc);
                team_barrier(nt);
            } else {
                for (int64_t r = 0; r < nmp; r++) pack_a_panel(g, r * mr, pc, kc, Ap + r * mr * kc);
            }
            for (int64_t t = tid * T / nt; t < (tid + 1) * T / nt; t++) {
                const int64_t ib = t / ng, gq = t % ng;
                const int64_t r0 = ib * nmp / nab, r1 = (ib + 1) * nmp / nab;
                const int64_t q0 = gq * nbp / ng, q1 = (gq + 1) * nbp / ng;
                for (int64_t q = q0; q < q1; q++) {
                    const int64_t col = jc + q * nr;
                    const int nrr = (int)min64(nr, N - col);
                    const float *bp;
                    int64_t ldbp = nr;
                    if (pack_b) bp = Bp + q * kc * nr;
                    else if (!g->tb && nrr == nr) { bp = g->B + pc * g->ldb + col; ldbp = g->ldb; }
                    else { pack_b_panel(g, col, pc, kc, edge); bp = edge; }
                    for (int64_t r = r0; r < r1; r++) {
                        const int mrr = (int)min64(mr, M - r * mr);
                        kn->ukr(kc, Ap + r * mr * kc, bp, ldbp, g->C + r * mr * g->ldc + col, g->ldc, mrr, nrr,
                                first, g->beta);
                    }
                }
            }
        }
    }
}

/* ---- GEMV-like path (M < 4) ------------------------------------------------------------------------- */

static size_t gemv_ws_floats(const gemm_args *g) { return (size_t)(g->M * g->K); }

/* a (M,K) <- alpha * op(A), contiguous. */
static void gemv_pack_a(const gemm_args *g, float *a) {
    for (int64_t i = 0; i < g->M; i++)
        for (int64_t p = 0; p < g->K; p++) a[i * g->K + p] = g->alpha * elem_a(g, i, p);
}

/* Columns of thread tid: N split evenly in multiples of 64. */
static void gemv_run(const gemm_args *g, const float *a, int tid, int nt) {
    const int64_t chunks = cdiv(g->N, 64);
    const int64_t j0 = min64(g->N, tid * chunks / nt * 64), j1 = min64(g->N, (tid + 1) * chunks / nt * 64);
    if (j0 < j1) g->kn->gemv((int)g->M, g->K, a, g->B, g->ldb, g->tb, g->C, g->ldc, j0, j1, g->beta);
}

/* ---- unpacked fallback (workspace allocation failed) ---------------------------------------------- */

static float elem_b(const gemm_args *g, int64_t p, int64_t j) {
    return g->tb ? g->B[j * g->ldb + p] : g->B[p * g->ldb + j];
}
/* Rows of thread tid, plain loops; used only when no workspace could be allocated. */
static void unpacked_run(const gemm_args *g, int tid, int nt) {
    for (int64_t i = tid * g->M / nt; i < (tid + 1) * g->M / nt; i++)
        for (int64_t j = 0; j < g->N; j++) {
            float acc = 0.0f;
            for (int64_t p = 0; p < g->K; p++) { float t = elem_a(g, i, p) * elem_b(g, p, j); acc += t; }
            float *c = g->C + i * g->ldc + j;
            float r = g->alpha * acc;
            if (g->beta != 0.0f) { float t = g->beta * *c; r = r + t; }
            *c = r;
        }
}

/* C = beta*C (K == 0 or alpha == 0); beta == 0 writes zeros without reading C. */
static void scale_c(const gemm_args *g) {
    for (int64_t i = 0; i < g->M; i++) {
        float *c = g->C + i * g->ldc;
        for (int64_t j = 0; j < g->N; j++) c[j] = g->beta == 0.0f ? 0.0f : g->beta * c[j];
    }
}

/* ---- entry points --------------------------------------------------------------------------------- */

static size_t ws_floats(const gemm_args *g, int nt) {
    return g->M < GEMV_M ? gemv_ws_floats(g) : packed_ws_floats(g, nt);
}

/* One thread's share, given a workspace of ws_floats(g, nt) floats (NULL: unpacked fallback). */
static void run_share(const gemm_args *g, float *ws, int tid, int nt) {
    if (ws == NULL) unpacked_run(g, tid, nt);
    else if (g->M < GEMV_M) gemv_run(g, ws, tid, nt);
    else packed_run(g, ws, tid, nt);
}

/* Whole product on the calling thread, with the given workspace (ws_floats(g, 1) floats or NULL). */
static void run_serial(const gemm_args *g, float *ws) {
    if (g->M <= 0 || g->N <= 0) return;
    if (g->K <= 0 || g->alpha == 0.0f) { scale_c(g); return; }
    if (ws != NULL && g->M < GEMV_M) gemv_pack_a(g, ws);
    run_share(g, ws, 0, 1);
}

/* Threads worth using: about 32^3 multiply-adds per thread at least (the result does not depend on it). */
static int useful_threads(int64_t M, int64_t N, int64_t K, int n_threads) {
    int nt = n_threads < 1 ? 1 : n_threads;
    double work = (double)M * (double)N * (double)K;
    int64_t cap = (int64_t)(work / (32.0 * 32.0 * 32.0));
    if (cap < 1) cap = 1;
    return nt < cap ? nt : (int)cap;
}

static void run_parallel(const gemm_args *g, int n_threads) {
    if (g->M <= 0 || g->N <= 0) return;
    if (g->K <= 0 || g->alpha == 0.0f) { scale_c(g); return; }
    const int nt = useful_threads(g->M, g->N, g->K, n_threads);
    float *ws = lk_thread_workspace(LK_WS_GEMM, ws_floats(g, nt));
    if (ws != NULL && g->M < GEMV_M) gemv_pack_a(g, ws);
    if (nt == 1) { run_share(g, ws, 0, 1); return; }
#pragma omp parallel num_threads(nt)
    {
        const int tid = omp_get_thread_num();
        run_share(g, ws, tid, nt);
    }
}

void lk_sgemm_isa(int isa, float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
                  int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta,
                  int n_threads) {
    gemm_args g = {lk_gemm_kernels_for(isa), C, ldc, A, lda, B, ldb, M, N, K, trans_a != 0, trans_b != 0,
                   alpha, beta};
    run_parallel(&g, n_threads);
}

void lk_sgemm(float *C, int64_t ldc, const float *A, int64_t lda, const float *B, int64_t ldb,
              int64_t M, int64_t N, int64_t K, int trans_a, int trans_b, float alpha, float beta, int n_threads) {
    lk_sgemm_isa(lk_isa_active(), C, ldc, A, lda, B, ldb, M, N, K, trans_a, trans_b, alpha, beta, n_threads);
}

/* Batched: with at least two batches per thread (or little work per batch) each thread runs whole batch
 * entries serially; otherwise the entries run one after another, each split over all threads. Both give
 * the same bits as a serial run of each entry. */
void lk_sgemm_batched_isa(int isa, float *C, int64_t ldc, int64_t stride_c,
                          const float *A, int64_t lda, int64_t stride_a,
                          const float *B, int64_t ldb, int64_t stride_b,
                          int64_t batch, int64_t M, int64_t N, int64_t K, int trans_a, int trans_b,
                          float alpha, float beta, int n_threads) {
    if (batch <= 0 || M <= 0 || N <= 0) return;
    const lk_gemm_kernels *kn = lk_gemm_kernels_for(isa);
    int nt = n_threads < 1 ? 1 : n_threads;
    if (nt > batch) nt = (int)batch;
    const int per_entry_parallel =
        nt > 1 && batch < 2 * (int64_t)nt && useful_threads(M, N, K, n_threads) > 1;
    if (nt == 1 || per_entry_parallel) {
        for (int64_t b = 0; b < batch; b++) {
            gemm_args g = {kn, C + b * stride_c, ldc, A + b * stride_a, lda, B + b * stride_b, ldb,
                           M, N, K, trans_a != 0, trans_b != 0, alpha, beta};
            run_parallel(&g, per_entry_parallel ? n_threads : 1);
        }
        return;
    }
    gemm_args g0 = {kn, C, ldc, A, lda, B, ldb, M, N, K, trans_a != 0, trans_b != 0, alpha, beta};
    const size_t per = (ws_floats(&g0, 1) + 15) & ~(size_t)15;          /* keep slices 64-byte aligned */
    float *ws = lk_thread_workspace(LK_WS_GEMM, per * (size_t)nt);
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int64_t b = 0; b < batch; b++) {
        gemm_args g = g0;
        g.C = C + b * stride_c; g.A = A + b * stride_a; g.B = B + b * stride_b;
        run_serial(&g, ws == NULL ? NULL : ws + per * (size_t)omp_get_thread_num());
    }
}

void lk_sgemm_batched(float *C, int64_t ldc, int64_t stride_c, const float *A, int64_t lda, int64_t stride_a,
                      const float *B, int64_t ldb, int64_t stride_b, int64_t batch, int64_t M, int64_t N,
                      int64_t K, int trans_a, int trans_b, float alpha, float beta, int n_threads) {
    lk_sgemm_batched_isa(lk_isa_active(), C, ldc, stride_c, A, lda, stride_a, B, ldb, stride_b, batch, M, N, K,
                         trans_a, trans_b, alpha, beta, n_threads);
}

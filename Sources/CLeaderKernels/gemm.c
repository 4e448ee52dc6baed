/* SGEMM driver (baseline ISA): dispatch, packing, blocking and the OpenMP split.
 *
 * GotoBLAS/BLIS loop nest, row-major C = alpha*op(A)*op(B) + beta*C, run by one thread on its block of C:
 *   for jc in N step NC                      (only when B is packed)
 *     for pc in K step kc                    (kc = K split evenly into blocks of at most KC)
 *       pack B[pc:pc+kc, jc:jc+nc] into NR-wide k-major panels
 *       pack A[:, pc:pc+kc] into MR-tall k-major panels, alpha folded in
 *       for each A block of MC rows (L2):  for each B panel (L1):  for each MR panel:  micro-kernel
 * Threads: C is cut into a pr x pc grid of blocks (whole MR x NR tiles), one per thread, and each thread
 * runs the loop nest above on its block with its own packing buffers: no barrier, no shared buffer; a
 * thread that is descheduled on a busy machine delays only the join. The price is that A rows are packed
 * by pc threads and B columns by pr threads; thread_grid picks the grid that minimises that.
 * Paths, chosen from the shape only (never from n_threads, so results are thread-count invariant):
 *   M < 4       GEMV-like rows: A copied contiguous (alpha folded), threads split the columns;
 *   M <= 64     B read in place (no B packing; edge panels and transposed B are packed per panel);
 *   otherwise   B packed per (jc, pc) block.
 * Reading B in place or packed gives the same bits (same values, same micro-kernel), so a thread's block
 * may take either. Every C element is produced by exactly one thread with the same K blocking and the
 * same micro-kernel arithmetic (edge tiles use masked stores, not a different code path).
 * The vector code lives in gemm_avx512.c / gemm_avx2.c / gemm_generic.c (see gemm_kernels.h).
 * OpenMP regions are only in this baseline file: target attributes do not reach outlined omp bodies. */
#include "lk_gemm.h"
#include "lk_isa.h"
#include "kpath.h"
#include "gemm_kernels.h"
#include <stddef.h>
#if defined(__SSE2__)
#include <emmintrin.h>   /* baseline on x86-64: used only to transpose A while packing */
#endif

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
#define LK_GEMM_NC 1024
#endif
enum {
    KC = LK_GEMM_KC,  /* k block: an 8x32 micro-panel of B (32 KiB) stays in L1 */
    MC = LK_GEMM_MC,  /* rows per A block: the A block (128 KiB) stays in L2 */
    NC = LK_GEMM_NC,  /* columns per packed B block: 256 x 1024 (1 MiB) stays in L2 with the A block */
    SMALL_M = 64,     /* M <= SMALL_M: B is not packed */
    GEMV_M = 4,       /* M < GEMV_M: dot-product path */
};

const lk_gemm_kernels *lk_gemm_kernels_for(int isa) {
#if defined(__x86_64__) || defined(__i386__)
    isa = lk_isa_clamp(isa);
    kpath_note(LK_KFAM_SGEMM, isa);
    switch (isa) {
    case LK_ISA_AVX512: return &lk_gemm_kernels_avx512;
    case LK_ISA_AVX2: return &lk_gemm_kernels_avx2;
    default: break;
    }
#else
    (void)isa;
    kpath_note(LK_KFAM_SGEMM, LK_ISA_GENERIC);
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
    /* A is (M,K): a transpose (4x4 SSE blocks; scalar strided stores made this ~10 % of a 2048^3 product) */
    lk_pack_transposed(dst, mr, g->A + i0 * g->lda + pc, g->lda, rows, kc, alpha);
}

void lk_pack_transposed(float *dst, int width, const float *src, int64_t lds, int rows, int64_t kc, float scale) {
    lk_pack_transposed_rows(dst, width, src, lds, rows, kc, scale);
    for (int i = rows; i < width; i++)
        for (int64_t k = 0; k < kc; k++) dst[k * width + i] = 0.0f;
}

void lk_pack_transposed_rows(float *dst, int width, const float *src, int64_t lds, int rows, int64_t kc,
                             float scale) {
    int i = 0;
#if defined(__SSE2__)
    const __m128 va = _mm_set1_ps(scale);
    for (; i + 4 <= rows; i += 4) {
        const float *s0 = src + i * lds, *s1 = s0 + lds, *s2 = s1 + lds, *s3 = s2 + lds;
        int64_t k = 0;
        for (; k + 4 <= kc; k += 4) {
            __m128 r0 = _mm_loadu_ps(s0 + k), r1 = _mm_loadu_ps(s1 + k), r2 = _mm_loadu_ps(s2 + k),
                   r3 = _mm_loadu_ps(s3 + k);
            _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
            _mm_storeu_ps(dst + (k + 0) * width + i, _mm_mul_ps(va, r0));
            _mm_storeu_ps(dst + (k + 1) * width + i, _mm_mul_ps(va, r1));
            _mm_storeu_ps(dst + (k + 2) * width + i, _mm_mul_ps(va, r2));
            _mm_storeu_ps(dst + (k + 3) * width + i, _mm_mul_ps(va, r3));
        }
        for (; k < kc; k++) {
            dst[k * width + i + 0] = scale * s0[k];
            dst[k * width + i + 1] = scale * s1[k];
            dst[k * width + i + 2] = scale * s2[k];
            dst[k * width + i + 3] = scale * s3[k];
        }
    }
#endif
    for (; i < rows; i++) {
        const float *s0 = src + i * lds;
        for (int64_t k = 0; k < kc; k++) dst[k * width + i] = scale * s0[k];
    }
}

/* dst (kc, NR): columns [j0, j0+NR) of op(B), rows [pc, pc+kc); columns >= N are zero. */
static void pack_b_panel(const gemm_args *g, int64_t j0, int64_t pc, int64_t kc, float *dst) {
    const int nr = g->kn->nr;
    const int cols = (int)min64(nr, g->N - j0);
    if (g->tb) {          /* B is (N,K): column j of op(B) is row j of B; scale 1 is exact */
        lk_pack_transposed(dst, nr, g->B + j0 * g->ldb + pc, g->ldb, cols, kc, 1.0f);
        return;
    }
    for (int64_t k = 0; k < kc; k++) {
        const float *src = g->B + (pc + k) * g->ldb + j0;
        float *d = dst + k * nr;
        for (int j = 0; j < cols; j++) d[j] = src[j];
        for (int j = cols; j < nr; j++) d[j] = 0.0f;
    }
}

/* ---- packed path (serial; the parallel driver gives each thread its own block of C) ---------------- */

static int use_packed_b(const gemm_args *g) { return g->M > SMALL_M; }

/* Floats of workspace packed_serial needs: packed A (M x kc), packed B (kc x NC) when B is packed, and
 * one edge panel (kc x NR) for B panels that cannot be read in place. */
static size_t packed_ws_floats(const gemm_args *g) {
    const int64_t mr = g->kn->mr, nr = g->kn->nr, kc = k_block(g->K);
    const size_t a = (size_t)(cdiv(g->M, mr) * mr * kc);
    const size_t b = use_packed_b(g) ? (size_t)(cdiv(min64(NC, g->N), nr) * nr * kc) : 0;
    return a + b + (size_t)(kc * nr);
}

/* The whole product g on the calling thread. ws: packed_ws_floats(g) floats. */
static void packed_serial(const gemm_args *g, float *ws) {
    const lk_gemm_kernels *kn = g->kn;
    const int mr = kn->mr, nr = kn->nr;
    const int pack_b = use_packed_b(g);
    const int64_t M = g->M, N = g->N, K = g->K;
    const int64_t kcmax = k_block(K);
    const int64_t nmp = cdiv(M, mr);                             /* A micro-panels */
    const int64_t mcp = MC / mr > 0 ? MC / mr : 1;               /* micro-panels per A block */
    const int64_t ncb = pack_b ? NC : N;
    float *Ap = ws;                                              /* nmp panels (kc, mr) */
    float *Bp = ws + nmp * mr * kcmax;                           /* panels (kc, nr) when pack_b */
    float *edge = Bp + (pack_b ? cdiv(min64(NC, N), nr) * nr * kcmax : 0);   /* (kc, nr) */
    for (int64_t jc = 0; jc < N; jc += ncb) {
        const int64_t nc = min64(ncb, N - jc), nbp = cdiv(nc, nr);
        for (int64_t pc = 0; pc < K; pc += kcmax) {
            const int64_t kc = min64(kcmax, K - pc);
            const int first = pc == 0;
            if (pack_b)
                for (int64_t q = 0; q < nbp; q++) pack_b_panel(g, jc + q * nr, pc, kc, Bp + q * kc * nr);
            for (int64_t r = 0; r < nmp; r++) pack_a_panel(g, r * mr, pc, kc, Ap + r * mr * kc);
            for (int64_t r0 = 0; r0 < nmp; r0 += mcp) {          /* A block (stays in L2) */
                const int64_t r1 = min64(nmp, r0 + mcp);
                for (int64_t q = 0; q < nbp; q++) {              /* B micro-panel (stays in L1) */
                    const int64_t col = jc + q * nr;
                    const int nrr = (int)min64(nr, N - col);
                    const float *bp;
                    int64_t ldbp = nr;
                    if (pack_b) bp = Bp + q * kc * nr;
                    else if (!g->tb && nrr == nr) { bp = g->B + pc * g->ldb + col; ldbp = g->ldb; }
                    else { pack_b_panel(g, col, pc, kc, edge); bp = edge; }
                    for (int64_t r = r0; r < r1; r++)
                        kn->ukr(kc, Ap + r * mr * kc, bp, ldbp, g->C + r * mr * g->ldc + col, g->ldc,
                                (int)min64(mr, M - r * mr), nrr, first, g->beta);
                }
            }
        }
    }
}

/* Thread grid for the packed path: C is cut into pr x pc blocks (in whole MR x NR tiles), one per thread.
 * Each thread packs its own rows of A and columns of B, so rows x columns of packing are repeated pc and
 * pr times: choose the grid that minimises pc*M + pr*N (M <= 64: B is not packed, split columns only). */
static void thread_grid(const gemm_args *g, int nt, int *pr, int *pc) {
    const int64_t nmp = cdiv(g->M, g->kn->mr), nbp = cdiv(g->N, g->kn->nr);
    double best = -1.0;
    *pr = 1; *pc = nt;
    for (int r = 1; r <= nt; r++) {
        if (nt % r != 0) continue;
        const int c = nt / r;
        if (r > nmp || c > nbp) continue;
        if (!use_packed_b(g) && r > 1) continue;
        const double cost = (double)c * (double)g->M + (double)r * (double)g->N;
        if (best < 0.0 || cost < best) { best = cost; *pr = r; *pc = c; }
    }
    if (best < 0.0) { *pr = 1; *pc = 1; }
}

/* Block of C owned by thread tid in an pr x pc grid, as a sub-product with the same arguments. */
static gemm_args sub_problem(const gemm_args *g, int tid, int pr, int pc) {
    const int64_t mr = g->kn->mr, nr = g->kn->nr;
    const int64_t nmp = cdiv(g->M, mr), nbp = cdiv(g->N, nr);
    const int ti = tid / pc, tj = tid % pc;
    const int64_t i0 = min64(g->M, ti * nmp / pr * mr), i1 = min64(g->M, (ti + 1) * nmp / pr * mr);
    const int64_t j0 = min64(g->N, tj * nbp / pc * nr), j1 = min64(g->N, (tj + 1) * nbp / pc * nr);
    gemm_args s = *g;
    s.M = i1 - i0;
    s.N = j1 - j0;
    s.C = g->C + i0 * g->ldc + j0;
    s.A = g->ta ? g->A + i0 : g->A + i0 * g->lda;
    s.B = g->tb ? g->B + j0 * g->ldb : g->B + j0;
    return s;
}

/* Workspace floats of the largest block in the grid (blocks differ by at most one tile each way). */
static size_t grid_ws_floats(const gemm_args *g, int pr, int pc) {
    gemm_args s = *g;
    s.M = min64(g->M, (cdiv(cdiv(g->M, g->kn->mr), pr)) * g->kn->mr);
    s.N = min64(g->N, (cdiv(cdiv(g->N, g->kn->nr), pc)) * g->kn->nr);
    return (packed_ws_floats(&s) + 15) & ~(size_t)15;            /* slices stay 64-byte aligned */
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

/* Whole product on the calling thread, with a workspace of serial_ws_floats(g) floats (NULL: fallback). */
static size_t serial_ws_floats(const gemm_args *g) {
    return g->M < GEMV_M ? gemv_ws_floats(g) : packed_ws_floats(g);
}
static void run_serial(const gemm_args *g, float *ws) {
    if (g->M <= 0 || g->N <= 0) return;
    if (g->K <= 0 || g->alpha == 0.0f) { scale_c(g); return; }
    if (ws == NULL) unpacked_run(g, 0, 1);
    else if (g->M < GEMV_M) { gemv_pack_a(g, ws); gemv_run(g, ws, 0, 1); }
    else packed_serial(g, ws);
}

/* Threads worth using: about 32^3 multiply-adds per thread at least (the result does not depend on it). */
static int useful_threads(int64_t M, int64_t N, int64_t K, int n_threads) {
    int nt = n_threads < 1 ? 1 : n_threads;
    double work = (double)M * (double)N * (double)K;
    int64_t cap = (int64_t)(work / (32.0 * 32.0 * 32.0));
    if (cap < 1) cap = 1;
    return nt < cap ? nt : (int)cap;
}

/* Whole product over n_threads. No barriers: GEMV columns or packed C blocks are independent per thread. */
static void run_parallel(const gemm_args *g, int n_threads) {
    if (g->M <= 0 || g->N <= 0) return;
    if (g->K <= 0 || g->alpha == 0.0f) { scale_c(g); return; }
    const int nt = useful_threads(g->M, g->N, g->K, n_threads);
    if (nt == 1) { run_serial(g, lk_thread_workspace(LK_WS_GEMM, serial_ws_floats(g))); return; }
    if (g->M < GEMV_M) {
        float *ws = lk_thread_workspace(LK_WS_GEMM, gemv_ws_floats(g));
        if (ws != NULL) gemv_pack_a(g, ws);
#pragma omp parallel num_threads(nt)
        {
            const int tid = omp_get_thread_num();
            if (ws == NULL) unpacked_run(g, tid, nt);
            else gemv_run(g, ws, tid, nt);
        }
        return;
    }
    int pr, pc;
    thread_grid(g, nt, &pr, &pc);
    const int used = pr * pc;
    const size_t per = grid_ws_floats(g, pr, pc);
    float *ws = lk_thread_workspace(LK_WS_GEMM, per * (size_t)used);
#pragma omp parallel num_threads(used)
    {
        const int tid = omp_get_thread_num();
        if (ws == NULL) unpacked_run(g, tid, used);
        else {
            gemm_args s = sub_problem(g, tid, pr, pc);
            if (s.M > 0 && s.N > 0) packed_serial(&s, ws + per * (size_t)tid);
        }
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
    const int requested = n_threads < 1 ? 1 : n_threads;
    /* Few entries, each big enough to split: run them one after another, each over all threads. */
    const int per_entry_parallel =
        requested > 1 && batch < 2 * (int64_t)requested && useful_threads(M, N, K, requested) > 1;
    int nt = useful_threads(batch * M, N, K, requested);
    if (nt > batch) nt = (int)batch;
    if (nt == 1 || per_entry_parallel) {
        for (int64_t b = 0; b < batch; b++) {
            gemm_args g = {kn, C + b * stride_c, ldc, A + b * stride_a, lda, B + b * stride_b, ldb,
                           M, N, K, trans_a != 0, trans_b != 0, alpha, beta};
            run_parallel(&g, per_entry_parallel ? requested : 1);
        }
        return;
    }
    /* Otherwise whole entries per thread, each a serial product with its slice of the caller's workspace. */
    gemm_args g0 = {kn, C, ldc, A, lda, B, ldb, M, N, K, trans_a != 0, trans_b != 0, alpha, beta};
    const size_t per = (serial_ws_floats(&g0) + 15) & ~(size_t)15;      /* keep slices 64-byte aligned */
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

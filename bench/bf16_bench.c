/* bf16 product benchmark: the bf16 path this CPU runs (AMX tiles or AVX512-BF16's VDPBF16PS) against the fp32
 * and int8 kernels of the same products, in one process.
 *
 * Build and run: `make -C bench bf16` (or `make bench`, which runs it after gemm_bench). Prints one JSON object on
 * stdout, progress on stderr. `--quick`: short blocks (a smoke run).
 *
 * - student: the serving layers' shapes, serial (1 thread): lk_bf16_linear_forward (W packed once) against
 *   lk_linear_packed_forward_isa (fp32, the active ISA's packed micro-kernel).
 * - teacher: SmolLM2's two projection shapes with a Q4_1 weight, 2 threads: lk_qgemm_bf16 against lk_qgemm_q8
 *   (quantising X to int8 included) and lk_qgemm (fp32 products of the dequantised blocks).
 * - peak: the path's multiply unit alone (24 independent VDPBF16PS chains on registers; AVX512-BF16 only), and
 *   the same for fp32 VFMADD231PS, so each figure can be read as a fraction of what the core can do.
 *
 * Blocks of the contenders alternate (ABAB...), each repeats its call for at least 60 ms and keeps its fastest
 * call; the best over all blocks counts. The machine is shared: compare ratios from one run. */
#define _POSIX_C_SOURCE 200809L
#include "lk_bf16.h"
#include "lk_infer.h"
#include "lk_isa.h"
#include "lk_quant.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float frand(unsigned *s) {
    *s = *s * 1664525u + 1013904223u;
    return (float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f;
}

static float *rand_floats(size_t n, unsigned seed) {
    float *p = malloc(n * sizeof(float));
    if (p == NULL) { fprintf(stderr, "bf16_bench: out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) p[i] = frand(&seed);
    return p;
}

typedef void (*call_fn)(void *ctx);

/* Fastest call of one block that lasts at least block_s. */
static double time_block(call_fn f, void *ctx, double block_s) {
    double best = 1e30, start = now_s();
    int calls = 0;
    do {
        const double t0 = now_s();
        f(ctx);
        const double dt = now_s() - t0;
        if (dt < best) best = dt;
        calls++;
    } while (now_s() - start < block_s || calls < 3);
    return best;
}

/* ---- student shapes (serial) ---------------------------------------------------------------------- */

typedef struct {
    int64_t m, n, k;
    float *x, *y, *bias, *packed_f32, *scratch_f32;
    uint16_t *packed_bf16;
    void *scratch_bf16;
    int isa;
} student_ctx;

static void student_bf16(void *p) {
    student_ctx *c = p;
    lk_bf16_linear_forward(c->y, c->n, c->x, c->k, c->packed_bf16, c->bias, c->m, c->n, c->k, 0.0f, 0, c->scratch_bf16);
}

static void student_f32(void *p) {
    student_ctx *c = p;
    lk_linear_packed_forward_isa(c->isa, c->y, c->n, c->x, c->k, c->packed_f32, c->bias, c->m, c->n, c->k, 0,
                                 c->scratch_f32);
}

/* ---- teacher shapes (Q4_1 weight, OpenMP) --------------------------------------------------------- */

typedef struct {
    int64_t m, n, k;
    float *x, *y;
    void *w, *xq;
    int threads;
} teacher_ctx;

static void teacher_bf16(void *p) {
    teacher_ctx *c = p;
    lk_qgemm_bf16(c->y, c->n, c->x, c->k, c->w, c->m, c->n, c->k, LK_DTYPE_Q4_1, 0.0f, c->threads);
}

static void teacher_int8(void *p) {
    teacher_ctx *c = p;
    lk_quantize_q8a(c->xq, c->x, c->k, c->m, c->k, c->threads);
    lk_qgemm_q8(c->y, c->n, c->xq, c->w, c->m, c->n, c->k, LK_DTYPE_Q4_1, 0.0f, c->threads);
}

static void teacher_f32(void *p) {
    teacher_ctx *c = p;
    lk_qgemm(c->y, c->n, c->x, c->k, c->w, c->m, c->n, c->k, LK_DTYPE_Q4_1, 0.0f, c->threads);
}

/* ---- peak of the multiply units ------------------------------------------------------------------- */

#if defined(__x86_64__)
#define CHAINS(OP)                                                                                                   \
    OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7) OP(8) OP(9) OP(10) OP(11) OP(12) OP(13) OP(14) OP(15) OP(16)   \
    OP(17) OP(18) OP(19) OP(20) OP(21) OP(22) OP(23)
/* Keeps the compiler from folding the chains (their operands are constants): each iteration's sums are opaque. */
#define OPAQUE_ACCUMULATORS                                                                                        \
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8),  \
                     "+v"(a9), "+v"(a10), "+v"(a11));                                                                \
    __asm__ volatile("" : "+v"(a12), "+v"(a13), "+v"(a14), "+v"(a15), "+v"(a16), "+v"(a17), "+v"(a18), "+v"(a19),   \
                     "+v"(a20), "+v"(a21), "+v"(a22), "+v"(a23));

/* The timed loop of a peak measurement: 24 accumulators a0..a23 start at 0..23, STEP(i) updates a_i once per
 * iteration; evaluates to the seconds taken (the sums go to a volatile sink so nothing is dropped). */
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)(i));
#define SUM(i) sink += _mm512_reduce_add_ps(a##i);
#define TIMED_CHAINS(STEP, seconds)                                                                                \
    CHAINS(DECL)                                                                                                   \
    const double t0 = now_s();                                                                                     \
    for (long it = 0; it < iters; it++) {                                                                          \
        CHAINS(STEP)                                                                                               \
        OPAQUE_ACCUMULATORS                                                                                        \
    }                                                                                                              \
    const double seconds = now_s() - t0;                                                                           \
    volatile float sink = 0;                                                                                       \
    CHAINS(SUM)

/* GFLOP/s of `iters` × 24 independent VDPBF16PS (32 multiply-adds each). */
__attribute__((target("avx512bf16,avx512f"))) static double dpbf16_peak(long iters) {
    __m512i xi = _mm512_set1_epi32(0x3f803f80), wi = _mm512_set1_epi32(0x00010001);
    __asm__ volatile("" : "+v"(xi), "+v"(wi));
    const __m512bh x = (__m512bh)xi, w = (__m512bh)wi;
#define STEP(i) a##i = _mm512_dpbf16_ps(a##i, x, w);
    TIMED_CHAINS(STEP, dt)
#undef STEP
    return (double)iters * 24 * 32 * 2 / dt * 1e-9;
}

/* GFLOP/s of `iters` × 24 independent VFMADD231PS (16 multiply-adds each). */
__attribute__((target("avx512f"))) static double fma_peak(long iters) {
    __m512 x = _mm512_set1_ps(1.0f), w = _mm512_set1_ps(1e-8f);
    __asm__ volatile("" : "+v"(x), "+v"(w));
#define STEP(i) a##i = _mm512_fmadd_ps(x, w, a##i);
    TIMED_CHAINS(STEP, dt)
#undef STEP
    return (double)iters * 24 * 16 * 2 / dt * 1e-9;
}
#endif

int main(int argc, char **argv) {
    const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const double block_s = quick ? 0.01 : 0.06;
    const int rounds = quick ? 1 : 5;
    const int isa = lk_isa_active(), path = lk_bf16_path_active();
    printf("{\"isa\": \"%s\", \"bf16_path\": \"%s\", \"int8_path\": \"%s\"", lk_isa_name(isa), lk_bf16_path_name(path),
           lk_qgemm_q8_path_name(lk_qgemm_q8_path_active()));

#if defined(__x86_64__)
    if (isa == LK_ISA_AVX512) {
        double dp = 0, fma = 0;
        for (int r = 0; r < 3; r++) {
            const long iters = quick ? 200000 : 2000000;
            const double f = fma_peak(iters);
            if (f > fma) fma = f;
            if (path == LK_BF16_PATH_AVX512_BF16) {
                const double d = dpbf16_peak(iters);
                if (d > dp) dp = d;
            }
        }
        printf(", \"peak_gflops_1thread\": {\"fp32_fma\": %.1f", fma);
        if (dp > 0) printf(", \"vdpbf16ps\": %.1f", dp);
        printf("}");
    }
#endif

    /* Student serving layers: (rows, out, in) of W1 on a median patient's codes, the visit encoder, the head. */
    const int64_t student[][3] = {{1, 300, 64}, {26, 300, 64}, {60, 131, 128}, {8, 192, 64}, {1, 192, 64}};
    printf(", \"student\": [");
    for (size_t s = 0; s < sizeof student / sizeof student[0]; s++) {
        student_ctx c = {.m = student[s][0], .n = student[s][1], .k = student[s][2], .isa = isa};
        float *w = rand_floats((size_t)(c.n * c.k), 7u + (unsigned)s);
        c.x = rand_floats((size_t)(c.m * c.k), 11u);
        c.bias = rand_floats((size_t)c.n, 13u);
        c.y = calloc((size_t)(c.m * c.n), sizeof(float));
        c.packed_f32 = malloc((size_t)lk_linear_packed_floats_isa(isa, c.n, c.k) * sizeof(float));
        c.scratch_f32 = malloc((size_t)lk_linear_scratch_floats(c.k) * sizeof(float));
        c.packed_bf16 = malloc((size_t)lk_bf16_packed_elems(c.n, c.k) * sizeof(uint16_t));
        c.scratch_bf16 = malloc((size_t)lk_bf16_scratch_bytes(c.k));
        if (!c.y || !c.packed_f32 || !c.scratch_f32 || !c.packed_bf16 || !c.scratch_bf16) return 1;
        lk_linear_pack_isa(isa, c.packed_f32, w, c.n, c.k);
        lk_bf16_pack(c.packed_bf16, w, c.k, c.n, c.k);
        double best_b = 1e30, best_f = 1e30;
        for (int r = 0; r < rounds; r++) {
            const double b = time_block(student_bf16, &c, block_s), f = time_block(student_f32, &c, block_s);
            if (b < best_b) best_b = b;
            if (f < best_f) best_f = f;
        }
        const double flop = 2.0 * (double)(c.m * c.n * c.k);
        fprintf(stderr, "student M%lld N%lld K%lld: bf16 %.2f us, fp32 %.2f us\n", (long long)c.m, (long long)c.n,
                (long long)c.k, best_b * 1e6, best_f * 1e6);
        printf("%s{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"bf16_us\": %.3f, \"fp32_us\": %.3f, \"bf16_gflops\": %.1f, "
               "\"fp32_gflops\": %.1f, \"fp32_over_bf16\": %.2f}",
               s ? ", " : "", (long long)c.m, (long long)c.n, (long long)c.k, best_b * 1e6, best_f * 1e6,
               flop / best_b * 1e-9, flop / best_f * 1e-9, best_f / best_b);
        free(w); free(c.x); free(c.bias); free(c.y); free(c.packed_f32); free(c.scratch_f32); free(c.packed_bf16);
        free(c.scratch_bf16);
    }
    printf("]");

    /* Teacher products: SmolLM2-135M's q/o/gate/up (576 -> 1536) and down (1536 -> 576) shapes, 1024 tokens. */
    const int64_t teacher[][3] = {{1024, 1536, 576}, {1024, 576, 1536}};
    printf(", \"teacher\": [");
    for (size_t s = 0; s < sizeof teacher / sizeof teacher[0]; s++) {
        teacher_ctx c = {.m = quick ? 128 : teacher[s][0], .n = teacher[s][1], .k = teacher[s][2], .threads = 2};
        float *wf = rand_floats((size_t)(c.n * c.k), 17u + (unsigned)s);
        c.x = rand_floats((size_t)(c.m * c.k), 19u);
        c.y = calloc((size_t)(c.m * c.n), sizeof(float));
        const int64_t wrb = c.k / 32 * lk_dtype_block_bytes(LK_DTYPE_Q4_1);   /* K is a multiple of 32 */
        c.w = malloc((size_t)(wrb * c.n));
        c.xq = malloc((size_t)(lk_q8a_row_bytes(c.k) * c.m));
        if (!c.y || !c.w || !c.xq) return 1;
        for (int64_t r = 0; r < c.n; r++) lk_quantize_row_ref((uint8_t *)c.w + r * wrb, wf + r * c.k, c.k, LK_DTYPE_Q4_1);
        double best[3] = {1e30, 1e30, 1e30};
        const call_fn fns[3] = {teacher_bf16, teacher_int8, teacher_f32};
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < 3; i++) {
                const double t = time_block(fns[i], &c, block_s);
                if (t < best[i]) best[i] = t;
            }
        const double flop = 2.0 * (double)(c.m * c.n * c.k);
        fprintf(stderr, "teacher M%lld N%lld K%lld (Q4_1, 2 threads): bf16 %.1f, int8 %.1f, fp32 %.1f GFLOP/s\n",
                (long long)c.m, (long long)c.n, (long long)c.k, flop / best[0] * 1e-9, flop / best[1] * 1e-9,
                flop / best[2] * 1e-9);
        printf("%s{\"m\": %lld, \"n\": %lld, \"k\": %lld, \"threads\": 2, \"bf16_gflops\": %.1f, \"int8_gflops\": %.1f, "
               "\"fp32_gflops\": %.1f}",
               s ? ", " : "", (long long)c.m, (long long)c.n, (long long)c.k, flop / best[0] * 1e-9,
               flop / best[1] * 1e-9, flop / best[2] * 1e-9);
        free(wf); free(c.x); free(c.y); free(c.w); free(c.xq);
    }
    printf("]}\n");
    return 0;
}

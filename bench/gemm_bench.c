/* SGEMM benchmark: lk_sgemm (this repo) against OpenBLAS in the same process.
 *
 * Build (from the repo root; the Makefile rule does this): see bench/README.md. Note that a plain
 * `clang -fopenmp` link looks for -lomp, which Debian only has under /usr/lib/llvm-14/lib; link with
 * -fopenmp=libiomp5 (Debian's libiomp5.so is libomp 14) or add -L/usr/lib/llvm-14/lib.
 * Run: ./gemm_bench [--quick]   -> one JSON object on stdout, progress on stderr.
 *
 * Method: for each shape and thread count (1, 2), blocks of ours and OpenBLAS alternate (ABBA order), each
 * block repeats the call for at least 80 ms and keeps the fastest call; the best over all blocks of each
 * library counts. A 250 ms pause between blocks lets idle OpenBLAS threads (~0.1 s) and libomp threads
 * (KMP_BLOCKTIME, 0.2 s) stop spinning before the other library runs.
 * Before each block the program waits (up to 0.5 s, not with --quick) for a 100 ms window in which the CPUs
 * were >= 90 % idle; summary.blocks_without_idle_window counts the blocks measured without one.
 * The machine is shared, so only ratios from the same run are meaningful.
 *
 * Debian's OpenBLAS 0.3.21 does not recognise Emerald/Sapphire Rapids and falls back to Prescott (SSE3)
 * kernels. It picks its kernel in a load-time constructor, before main runs, so setting the variable in
 * main is too late: on a CPU with AVX-512, main re-executes itself once with OPENBLAS_CORETYPE=SkylakeX unless
 * the variable is already set (an explicit value from the caller is respected); without AVX-512 OpenBLAS's own
 * choice stands (Zen or Haswell on AVX2 machines). openblas_core in the JSON shows the result. */
#define _POSIX_C_SOURCE 200809L
#include "lk_gemm.h"
#include "lk_isa.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* OpenBLAS / CBLAS entry points (declared here so no cblas.h include path is needed). */
enum { CblasRowMajor = 101, CblasNoTrans = 111 };
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
char *openblas_get_corename(void);

typedef struct { int m, n, k; int square; } shape;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void pause_s(double s) {
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

/* C (m,n) = A (m,k) * B (k,n), row-major, by ours (lib 0) or OpenBLAS (lib 1). */
static void run_once(int lib, const shape *s, const float *A, const float *B, float *C, int threads) {
    if (lib == 0) lk_sgemm(C, s->n, A, s->k, B, s->n, s->m, s->n, s->k, 0, 0, 1.0f, 0.0f, threads);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s->m, s->n, s->k, 1.0f, A, s->k, B, s->n, 0.0f, C,
                     s->n);
}

/* Seconds per call, best of one block that lasts at least block_s. */
static double time_block(int lib, const shape *s, const float *A, const float *B, float *C, int threads,
                         double block_s) {
    double best = 1e30, start = now_s();
    int calls = 0;
    do {
        double t0 = now_s();
        run_once(lib, s, A, B, C, threads);
        double dt = now_s() - t0;
        if (dt < best) best = dt;
        calls++;
    } while (now_s() - start < block_s || calls < 2);
    return best;
}

/* Busy and total jiffies of all CPUs from /proc/stat; 0 on failure. */
static int cpu_jiffies(unsigned long long *busy, unsigned long long *total) {
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL) return 0;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]);
    fclose(f);
    if (n < 5) return 0;
    *total = 0;
    for (int i = 0; i < 8; i++) *total += v[i];
    *busy = *total - v[3] - v[4];    /* minus idle and iowait */
    return 1;
}

/* Waits (at most max_s) for a 100 ms window in which the CPUs were at least 90 % idle, so that other
 * processes on this shared box disturb the measurement less. Returns 1 when such a window was seen. */
static int wait_idle(double max_s) {
    double start = now_s();
    do {
        unsigned long long b0, t0, b1, t1;
        if (!cpu_jiffies(&b0, &t0)) return 0;
        pause_s(0.1);
        if (!cpu_jiffies(&b1, &t1)) return 0;
        if (t1 > t0 && (double)(b1 - b0) <= 0.10 * (double)(t1 - t0)) return 1;
    } while (now_s() - start < max_s);
    return 0;
}

static unsigned long long rng_state = 0x2545F4914F6CDD1DULL;
static float rnd(void) {
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (float)((rng_state * 0x2545F4914F6CDD1DULL) >> 40) / 16777216.0f * 2.0f - 1.0f;
}

int main(int argc, char **argv) {
    if (getenv("OPENBLAS_CORETYPE") == NULL && __builtin_cpu_supports("avx512f")) {   /* see the header comment */
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
        execv("/proc/self/exe", argv);
        fprintf(stderr, "gemm_bench: re-exec failed; OpenBLAS may use its misdetected kernel\n");
    }
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;

    static const shape full[] = {
        {256, 256, 256, 1}, {1024, 1024, 1024, 1}, {2048, 2048, 2048, 1},
        {1, 384, 384, 0}, {1, 576, 576, 0}, {1, 1536, 576, 0}, {1, 576, 1536, 0},
        {8, 384, 384, 0}, {8, 576, 576, 0}, {8, 1536, 576, 0}, {8, 576, 1536, 0},
        {64, 384, 384, 0}, {64, 576, 576, 0}, {64, 1536, 576, 0}, {64, 576, 1536, 0},
    };
    static const shape small[] = {{256, 256, 256, 1}, {1, 576, 576, 0}, {64, 1536, 576, 0}};
    const shape *shapes = quick ? small : full;
    const int nshapes = quick ? (int)(sizeof small / sizeof small[0]) : (int)(sizeof full / sizeof full[0]);
    const int blocks = quick ? 2 : 5;
    /* gap: OpenBLAS's idle workers spin for ~0.1 s and libomp's for up to 0.2 s (KMP_BLOCKTIME) after a
     * call; without the pause they steal a core from the other library's next block. */
    const double block_s = quick ? 0.02 : 0.08, gap_s = quick ? 0.005 : 0.25;
    const double idle_wait_s = quick ? 0.0 : 0.5;    /* --quick does not wait for an idle machine */
    int busy_blocks = 0;                              /* blocks measured without an idle window before them */

    printf("{\"isa\":\"%s\",\"openblas_core\":\"%s\",\"quick\":%s,\"results\":[", lk_isa_name(lk_isa_active()),
           openblas_get_corename(), quick ? "true" : "false");
    double sq_min = 1e30, sm_min = 1e30;
    int first = 1;
    for (int si = 0; si < nshapes; si++) {
        const shape *s = &shapes[si];
        size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
        float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
        float *C0 = malloc(nc * sizeof *C0), *C1 = malloc(nc * sizeof *C1);
        if (!A || !B || !C0 || !C1) { fprintf(stderr, "gemm_bench: out of memory\n"); return 1; }
        for (size_t i = 0; i < na; i++) A[i] = rnd();
        for (size_t i = 0; i < nb; i++) B[i] = rnd();
        for (int threads = 1; threads <= 2; threads++) {
            openblas_set_num_threads(threads);
            run_once(0, s, A, B, C0, threads);      /* warm-up, and a cross-check of the two results */
            run_once(1, s, A, B, C1, threads);
            double maxdiff = 0.0;
            for (size_t i = 0; i < nc; i++) maxdiff = fmax(maxdiff, fabs((double)C0[i] - (double)C1[i]));
            double best[2] = {1e30, 1e30};
            for (int b = 0; b < blocks; b++)
                for (int lib = 0; lib < 2; lib++) {
                    if (!wait_idle(idle_wait_s)) busy_blocks++;
                    int l = (b & 1) ? 1 - lib : lib;  /* ABBA order: neither library always goes first */
                    double t = time_block(l, s, A, B, l == 0 ? C0 : C1, threads, block_s);
                    if (t < best[l]) best[l] = t;
                    pause_s(gap_s);
                }
            const double flops = 2.0 * s->m * s->n * s->k;
            const double ours = flops / best[0] * 1e-9, theirs = flops / best[1] * 1e-9, ratio = ours / theirs;
            if (s->square) sq_min = fmin(sq_min, ratio); else sm_min = fmin(sm_min, ratio);
            fprintf(stderr, "%5d x %5d x %5d  threads %d  ours %7.1f  openblas %7.1f GFLOP/s  ratio %.2f  maxdiff %.1e\n",
                    s->m, s->n, s->k, threads, ours, theirs, ratio, maxdiff);
            printf("%s{\"m\":%d,\"n\":%d,\"k\":%d,\"threads\":%d,\"ours_gflops\":%.1f,\"openblas_gflops\":%.1f,"
                   "\"ratio\":%.3f}", first ? "" : ",", s->m, s->n, s->k, threads, ours, theirs, ratio);
            first = 0;
            fflush(stdout);
        }
        free(A); free(B); free(C0); free(C1);
    }
    printf("],\"summary\":{\"square_min_ratio\":%.3f,\"small_m_min_ratio\":%.3f,\"blocks_without_idle_window\":%d,"
           "\"blocks\":%d}}\n", sq_min, sm_min, busy_blocks, nshapes * 2 * blocks * 2);
    return 0;
}

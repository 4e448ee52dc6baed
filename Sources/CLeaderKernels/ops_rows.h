/* Private: the ISA-dispatched row/leaf functions of the ops kernels, and helpers shared by ops_*.c.
 *
 * ops_rows_impl.h is compiled three times (ops_rows_avx512.c, ops_rows_avx2.c, ops_rows_generic.c), each
 * under its own `#pragma clang attribute push(target(...))`, and exposes one `ops_rows` table. The OpenMP
 * loops live in baseline code (ops_*.c): each `_isa` kernel picks the table ONCE in the calling thread
 * (ops_rows_for(isa)) and passes the pointer into the parallel region. Never put `#pragma omp` into
 * target-attributed code: the outlined body would be baseline. */
#ifndef LK_OPS_ROWS_H
#define LK_OPS_ROWS_H
#include <stdint.h>

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif

/* Constants of one Adam step, computed once per call in double by the caller. */
typedef struct {
    float lr, beta1, beta2, eps, weight_decay, grad_scale;
    float step_size;      /* lr / (1 - beta1^t) */
    float bc2_sqrt;       /* sqrt(1 - beta2^t) */
    float decay_factor;   /* 1 - lr*wd (decoupled) */
    int decoupled;
} ops_adam_consts;

typedef struct {
    int isa;
    /* Softmax of in[0..len)*scale into out[0..len), zeros in out[len..n). len in [1,n]. Returns the
     * log-sum-exp of the scaled entries. */
    float (*softmax_fwd)(float *out, const float *in, int64_t len, int64_t n, float scale);
    /* din += scale * out * (dout - dot(dout, out)) */
    void (*softmax_bwd)(float *din, const float *dout, const float *out, int64_t n, float scale);
    void (*layernorm_fwd)(float *out, float *mean, float *rstd, const float *x, const float *w, const float *b,
                          int64_t C, float eps);
    void (*layernorm_bwd)(float *din, const float *dout, const float *x, const float *w, float mean, float rstd,
                          int64_t C);
    /* Columns [c0, c1) (c1 - c0 <= OPS_COL_BLOCK) of dweight/dbias (dbias may be NULL): rows in order. */
    void (*layernorm_bwd_cols)(float *dw, float *db, const float *dout, const float *x, const float *mean,
                               const float *rstd, int64_t rows, int64_t C, int64_t c0, int64_t c1);
    void (*rmsnorm_fwd)(float *out, float *rstd, const float *x, const float *w, int64_t C, float eps);
    void (*rmsnorm_bwd)(float *din, const float *dout, const float *x, const float *w, float rstd, int64_t C);
    void (*rmsnorm_bwd_cols)(float *dw, const float *dout, const float *x, const float *rstd, int64_t rows,
                             int64_t C, int64_t c0, int64_t c1);
    void (*act_fwd)(float *out, const float *in, int64_t n, int act);
    void (*act_bwd)(float *din, const float *dout, const float *in, int64_t n, int act);
    void (*swiglu_fwd)(float *out, const float *gate, const float *up, int64_t n);
    void (*swiglu_bwd)(float *dgate, float *dup, const float *dout, const float *gate, const float *up, int64_t n);
    void (*adam)(float *p, float *m, float *v, const float *g, int64_t n, const ops_adam_consts *k);
    double (*sum_squares)(const float *x, int64_t n);   /* in double, fixed lane order */
    /* BCE with logits: sum of w_i * loss_i in double (w may be NULL); backward d += k*w*(sigmoid(x)-t). */
    double (*bce_sum)(const float *x, const float *t, const float *w, int64_t n);
    void (*bce_bwd)(float *d, const float *x, const float *t, const float *w, int64_t n, float k);
    /* Dropout of n elements with counters offset+i: out = in*f, or out += in*f when accumulate, f = scale if
     * ops_rng_u24(...) >= p else 0. Bitwise the same for every ISA (integer hash, no FMA contraction). */
    void (*dropout)(float *out, const float *in, int64_t n, float p, float scale, uint64_t seed, uint64_t offset,
                    int accumulate);
    /* out[i] = lo + w*u_i, u_i the uniform of counter offset+i */
    void (*fill_uniform)(float *out, int64_t n, float lo, float w, uint64_t seed, uint64_t offset);
    /* Bidirectional attention inside ONE set of len >= 1 tokens (no padding): token t's q | k | v (each H*D
     * wide) is qkv row t, or row rows[t] when rows != NULL (rows ldq apart); out rows (len, ldo) get the heads
     * side by side. scratch: lk_set_attention_scratch_floats(len, D). */
    void (*set_attention)(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows, int64_t len,
                          int64_t H, int64_t D, float scale, float *scratch);
    /* out (C) = mean of the len >= 1 rows (len, C) of in; 0 when len == 0. */
    void (*rows_mean)(float *out, const float *in, int64_t len, int64_t C);
} ops_rows;

extern const ops_rows lk_ops_rows_avx512;
extern const ops_rows lk_ops_rows_avx2;
extern const ops_rows lk_ops_rows_generic;

/* The table of `isa` (LK_ISA_*, clamped to what the CPU has; the choice is recorded in the kernel-path note). */
const ops_rows *ops_rows_for(int isa);

/* Counter-based RNG: splitmix64-style mixing of (seed, counter), full 64-bit avalanche; plain integer code, so
 * every ISA build gives the same bits. */
static inline uint64_t ops_rng_hash(uint64_t seed, uint64_t counter) {
    uint64_t z = counter * 0x9E3779B97F4A7C15ull + (seed ^ 0xD1B54A32D192ED03ull) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    z = (z ^ (z >> 32)) * 0xD6E8FEB86659FD93ull;
    return z ^ (z >> 32);
}

/* The top 24 bits of the hash as a float in [0,1) (exact). */
static inline float ops_rng_u24(uint64_t h) { return (float)(int32_t)(h >> 40) * 0x1.0p-24f; }

/* cos/sin of RoPE frequency i at position p (computed in double), shared by the ref and optimised RoPE so
 * both rotate by bitwise the same values. Defined in ops_ref.c. */
void ops_rope_cos_sin(float *c, float *s, int32_t p, int64_t i, int64_t D, float theta);

/* Column block of the column-split backward passes (dweight, dbias, embedding, sum_rows). */
#define OPS_COL_BLOCK 256

/* Elementwise kernels run in parallel over blocks of OPS_EW_BLOCK elements; block b starts at b*OPS_EW_BLOCK. */
#define OPS_EW_BLOCK 4096
static inline int64_t ops_ew_blocks(int64_t n) { return (n + OPS_EW_BLOCK - 1) / OPS_EW_BLOCK; }
static inline int64_t ops_ew_len(int64_t n, int64_t b) {
    int64_t r = n - b * OPS_EW_BLOCK;
    return r < OPS_EW_BLOCK ? r : OPS_EW_BLOCK;
}

/* Fixed-size reduction chunks: at most OPS_MAX_CHUNKS partial sums (kept on the stack), each over
 * ops_chunk_size(n) elements, a function of n only, so results do not depend on the thread count. */
#define OPS_MIN_CHUNK 4096
#define OPS_MAX_CHUNKS 1024
static inline int64_t ops_chunk_size(int64_t n) {
    int64_t c = (n + OPS_MAX_CHUNKS - 1) / OPS_MAX_CHUNKS;
    c = (c + 15) / 16 * 16;
    return c < OPS_MIN_CHUNK ? OPS_MIN_CHUNK : c;
}

/* Thread count for a region of `work` elements: parallel only when worth it (results never depend on it). */
static inline int ops_threads(int n_threads, int64_t work) {
    if (n_threads < 1) return 1;
    if (work < 16384) return 1;
    return n_threads;
}
#endif

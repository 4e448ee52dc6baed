/* Serial inference kernels (lk_infer.h): pre-packed linear layers on the GEMM micro-kernels, ragged set
 * attention and segment means on the lk_ops row functions. No OpenMP here. */
#include <string.h>
#include "gemm_kernels.h"
#include "infer_kernels.h"
#include "lk_infer.h"
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"

static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* A panel of rows (< mr at an edge) of X; the missing rows are zeroed only for a micro-kernel that reads them (a
 * single patient's layers mostly run edge tiles: the zeroing was most of the packing there). */
static void pack_x(const lk_gemm_kernels *g, float *dst, const float *X, int64_t ldx, int rows, int64_t K) {
    if (g->edge_rows_only) lk_pack_transposed_rows(dst, g->mr, X, ldx, rows, K, 1.0f);
    else lk_pack_transposed(dst, g->mr, X, ldx, rows, K, 1.0f);
}

int64_t lk_linear_packed_floats_isa(int isa, int64_t N, int64_t K) {
    const lk_gemm_kernels *g = lk_gemm_kernels_for(isa);
    return cdiv(N, g->nr) * g->nr * K;
}

int64_t lk_linear_scratch_floats(int64_t K) { return K * LK_GEMM_MAX_MR; }

void lk_linear_pack_isa(int isa, float *packed, const float *W, int64_t N, int64_t K) {
    const lk_gemm_kernels *g = lk_gemm_kernels_for(isa);
    for (int64_t j0 = 0; j0 < N; j0 += g->nr) {
        int rows = (int)(N - j0 < g->nr ? N - j0 : g->nr);
        lk_pack_transposed(packed + (j0 / g->nr) * g->nr * K, g->nr, W + j0 * K, K, rows, K, 1.0f);
    }
}

void lk_linear_packed_forward_isa(int isa, float *Y, int64_t ldy, const float *X, int64_t ldx, const float *packed,
                                  const float *bias, int64_t M, int64_t N, int64_t K, int accumulate,
                                  float *scratch) {
    const lk_gemm_kernels *g = lk_gemm_kernels_for(isa);
    if (bias) {
        for (int64_t i = 0; i < M; i++) {
            float *y = Y + i * ldy;
            if (accumulate)
                for (int64_t j = 0; j < N; j++) y[j] += bias[j];
            else
                memcpy(y, bias, (size_t)N * sizeof(float));
        }
    } else if (!accumulate && K == 0) {
        for (int64_t i = 0; i < M; i++) memset(Y + i * ldy, 0, (size_t)N * sizeof(float));
        return;
    }
    const float beta = (bias || accumulate) ? 1.0f : 0.0f;
    for (int64_t i0 = 0; i0 < M; i0 += g->mr) {
        int rows = (int)(M - i0 < g->mr ? M - i0 : g->mr);
        pack_x(g, scratch, X + i0 * ldx, ldx, rows, K);
        for (int64_t j0 = 0; j0 < N; j0 += g->nr) {
            int cols = (int)(N - j0 < g->nr ? N - j0 : g->nr);
            g->ukr(K, scratch, packed + (j0 / g->nr) * g->nr * K, g->nr, Y + i0 * ldy + j0, ldy, rows, cols, 1,
                   beta);
        }
    }
}

/* Scratch: the X panel (K x MAX_MR), then MAX_MR tile rows and one GELU row, each N rounded up to a multiple of
 * 64 floats (the activation writes to its own row: in place, the vectorised loop's overlap check fails). */
static int64_t gelu_tile_ld(int64_t N) { return cdiv(N, 64) * 64; }
int64_t lk_linear_gelu_mean_scratch_floats(int64_t N, int64_t K) {
    return lk_linear_scratch_floats(K) + (LK_GEMM_MAX_MR + 1) * gelu_tile_ld(N);
}

void lk_linear_gelu_mean_packed_isa(int isa, float *P, int64_t ldp, const float *X, int64_t ldx, const float *packed,
                                    const float *bias, const int32_t *offsets, int64_t n_sets, int64_t N, int64_t K,
                                    float *scratch) {
    if (n_sets <= 0 || N <= 0) return;
    const lk_gemm_kernels *g = lk_gemm_kernels_for(isa);
    const ops_rows *r = ops_rows_for(isa);
    const int64_t ldt = gelu_tile_ld(N), M = offsets[n_sets] - offsets[0];
    float *xp = scratch, *tile = scratch + lk_linear_scratch_floats(K), *act = tile + LK_GEMM_MAX_MR * ldt;
    set_sums_zero(P, ldp, n_sets, N);
    int64_t set = 0;
    for (int64_t i0 = 0; i0 < M; i0 += g->mr) {
        const int rows = (int)(M - i0 < g->mr ? M - i0 : g->mr);
        if (bias)   /* as lk_linear_packed_forward_isa: the bias first, then beta 1 */
            for (int i = 0; i < rows; i++) {
                memcpy(tile + i * ldt, bias, (size_t)N * sizeof(float));
                memset(tile + i * ldt + N, 0, (size_t)(ldt - N) * sizeof(float));
            }
        pack_x(g, xp, X + i0 * ldx, ldx, rows, K);
        for (int64_t j0 = 0; j0 < N; j0 += g->nr)   /* full-width tiles: the padding columns take the zero panels */
            g->ukr(K, xp, packed + (j0 / g->nr) * g->nr * K, g->nr, tile + j0, ldt, rows, g->nr, 1, bias ? 1.0f : 0.0f);
        for (int i = 0; i < rows; i++) {   /* rows in order: each set's sum in row order, as rows_mean */
            set = set_of_row(offsets, i0 + i, set);
            float *p = P + set * ldp;
            r->act_fwd(act, tile + i * ldt, N, LK_ACT_GELU_TANH);
            for (int64_t n = 0; n < N; n++) p[n] += act[n];
        }
    }
    set_sums_to_means(P, ldp, offsets, n_sets, N);
}

void lk_linear_forward_ref(float *Y, int64_t ldy, const float *X, int64_t ldx, const float *W, const float *bias,
                           int64_t M, int64_t N, int64_t K, int accumulate) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = bias ? bias[j] : 0.0;
            for (int64_t k = 0; k < K; k++) s += (double)X[i * ldx + k] * (double)W[j * K + k];
            Y[i * ldy + j] = accumulate ? Y[i * ldy + j] + (float)s : (float)s;
        }
}

int64_t lk_set_attention_scratch_floats(int64_t max_len, int64_t D) {
    /* r_set_attention: qt and ot (D × 16 each), max and sum (16 each), scores (max_len × 16); the D = 16
     * AVX-512 kernel: scores and 16 reciprocals, 64-byte aligned inside the buffer (+16 floats of slack) */
    return (2 * D + 3 + (max_len > 0 ? max_len : 1)) * 16;
}

void lk_set_attention_forward_isa(int isa, float *out, int64_t ldo, const float *qkv, int64_t ldq,
                                  const int32_t *rows, const int32_t *offsets, int64_t n_sets, int64_t H, int64_t D,
                                  float scale, float *scratch) {
    const ops_rows *r = ops_rows_for(isa);
#if defined(__x86_64__)
    const int d16 = D == 16 && r == &lk_ops_rows_avx512;   /* the student's head width: register transposes */
    float *st = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
#endif
    for (int64_t s = 0; s < n_sets; s++) {
        const int64_t a = offsets[s], len = offsets[s + 1] - a;
        if (len <= 0) continue;
        const float *base = rows ? qkv : qkv + a * ldq;   /* with rows: the table itself, indexed per token */
        const int32_t *ri = rows ? rows + a : NULL;
#if defined(__x86_64__)
        if (d16) {
            lk_set_attention_d16_avx512(out + a * ldo, ldo, base, ldq, ri, len, H, scale, st);
            continue;
        }
#endif
        r->set_attention(out + a * ldo, ldo, base, ldq, ri, len, H, D, scale, scratch);
    }
}

void lk_set_attention_forward_ref(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                                  const int32_t *offsets, int64_t n_sets, int64_t H, int64_t D, float scale) {
    const int64_t hd = H * D;
#define ROW(t) ((rows ? (int64_t)rows[t] : (int64_t)(t)) * ldq)
    for (int64_t s = 0; s < n_sets; s++) {
        int64_t a = offsets[s], len = offsets[s + 1] - a;
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < len; i++) {
                const float *q = qkv + ROW(a + i) + h * D;
                double mx = -1e300, sum = 0.0, p[len > 0 ? len : 1];
                for (int64_t j = 0; j < len; j++) {
                    const float *k = qkv + ROW(a + j) + hd + h * D;
                    double dot = 0.0;
                    for (int64_t d = 0; d < D; d++) dot += (double)q[d] * (double)k[d];
                    p[j] = dot * scale;
                    if (p[j] > mx) mx = p[j];
                }
                for (int64_t j = 0; j < len; j++) { p[j] = __builtin_exp(p[j] - mx); sum += p[j]; }
                for (int64_t d = 0; d < D; d++) {
                    double o = 0.0;
                    for (int64_t j = 0; j < len; j++) o += p[j] / sum * (double)qkv[ROW(a + j) + 2 * hd + h * D + d];
                    out[(a + i) * ldo + h * D + d] = (float)o;
                }
            }
    }
}
#undef ROW

void lk_segment_mean_forward_isa(int isa, float *out, const float *in, const int32_t *offsets, int64_t n_sets,
                                 int64_t C) {
    const ops_rows *r = ops_rows_for(isa);
    for (int64_t s = 0; s < n_sets; s++) r->rows_mean(out + s * C, in + (int64_t)offsets[s] * C, offsets[s + 1] - offsets[s], C);
}

void lk_segment_mean_forward_ref(float *out, const float *in, const int32_t *offsets, int64_t n_sets, int64_t C) {
    for (int64_t s = 0; s < n_sets; s++)
        for (int64_t c = 0; c < C; c++) {
            double acc = 0.0;
            for (int64_t t = offsets[s]; t < offsets[s + 1]; t++) acc += in[t * C + c];
            int64_t n = offsets[s + 1] - offsets[s];
            out[s * C + c] = n > 0 ? (float)(acc / (double)n) : 0.0f;
        }
}

/* ---- the active ISA (lk_isa.h), chosen once ----------------------------------------------------- */
void lk_set_attention_forward(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                              const int32_t *offsets, int64_t n_sets, int64_t H, int64_t D, float scale,
                              float *scratch) {
    lk_set_attention_forward_isa(lk_isa_active(), out, ldo, qkv, ldq, rows, offsets, n_sets, H, D, scale, scratch);
}
void lk_segment_mean_forward(float *out, const float *in, const int32_t *offsets, int64_t n_sets, int64_t C) {
    lk_segment_mean_forward_isa(lk_isa_active(), out, in, offsets, n_sets, C);
}

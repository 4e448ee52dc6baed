/* Embedding lookup/scatter and rotary position embedding (lk_ops.h). */
#include <string.h>
#include "lk_ops.h"
#include "ops_rows.h"

void lk_embedding_forward(float *out, const float *table, const int32_t *ids, int64_t n_ids, int64_t dim,
                          int n_threads) {
    int nt = ops_threads(n_threads, n_ids * dim);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n_ids; i++) {
        if (ids[i] < 0) memset(out + i * dim, 0, (size_t)dim * sizeof(float));
        else memcpy(out + i * dim, table + (int64_t)ids[i] * dim, (size_t)dim * sizeof(float));
    }
}

/* Split over column blocks; within a block ids are visited in order, so every dtable element receives its
 * additions in the same order for any thread count. */
void lk_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int64_t n_ids, int64_t dim,
                           int n_threads) {
    int nt = ops_threads(n_threads, n_ids * dim);
    const int64_t blk = 64;
    int64_t nblk = (dim + blk - 1) / blk;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < nblk; b++) {
        int64_t c0 = b * blk, w = dim - c0 < blk ? dim - c0 : blk;
        for (int64_t i = 0; i < n_ids; i++) {
            if (ids[i] < 0) continue;
            float *d = dtable + (int64_t)ids[i] * dim + c0;
            const float *g = dout + i * dim + c0;
            for (int64_t j = 0; j < w; j++) d[j] += g[j];
        }
    }
}

/* ---- RoPE: per token, cos/sin of up to ROPE_CHUNK frequencies are computed once and applied to all heads */
#define ROPE_CHUNK 128

/* Tokens are visited t-major (idx = t*B + b), so consecutive tokens of a thread usually share a position and
 * reuse the cached cos/sin (when D/2 <= ROPE_CHUNK). The cache holds exactly what would be recomputed, so the
 * result does not depend on the thread count. */
static void rope_opt(float *out, const float *in, const int32_t *pos, int64_t B, int64_t T, int64_t H, int64_t D,
                     float theta, int layout, int inverse, int n_threads) {
    int64_t half = D / 2, ntok = B * T;
    int cacheable = half <= ROPE_CHUNK;
    int nt = ops_threads(n_threads, ntok * H * D);
#pragma omp parallel num_threads(nt)
    {
        float cs[ROPE_CHUNK], sn[ROPE_CHUNK];
        int64_t cached = INT64_MIN; /* position whose cos/sin are in cs/sn, if cacheable */
#pragma omp for schedule(static)
        for (int64_t idx = 0; idx < ntok; idx++) {
            int64_t bt = (idx % B) * T + idx / B;
            for (int64_t i0 = 0; i0 < half; i0 += ROPE_CHUNK) {
                int64_t w = half - i0 < ROPE_CHUNK ? half - i0 : ROPE_CHUNK;
                if (!cacheable || cached != pos[bt]) {
                    for (int64_t i = 0; i < w; i++) {
                        ops_rope_cos_sin(&cs[i], &sn[i], pos[bt], i0 + i, D, theta);
                        if (inverse) sn[i] = -sn[i];
                    }
                    cached = cacheable ? pos[bt] : INT64_MIN;
                }
                for (int64_t h = 0; h < H; h++) {
                    const float *x = in + (bt * H + h) * D;
                    float *o = out + (bt * H + h) * D;
                    if (layout == LK_ROPE_HALF) {
                        for (int64_t i = 0; i < w; i++) {
                            float x0 = x[i0 + i], x1 = x[i0 + i + half];
                            float y0 = x0 * cs[i] - x1 * sn[i], y1 = x0 * sn[i] + x1 * cs[i];
                            if (inverse) { o[i0 + i] += y0; o[i0 + i + half] += y1; }
                            else { o[i0 + i] = y0; o[i0 + i + half] = y1; }
                        }
                    } else {
                        for (int64_t i = 0; i < w; i++) {
                            int64_t j = 2 * (i0 + i);
                            float x0 = x[j], x1 = x[j + 1];
                            float y0 = x0 * cs[i] - x1 * sn[i], y1 = x0 * sn[i] + x1 * cs[i];
                            if (inverse) { o[j] += y0; o[j + 1] += y1; }
                            else { o[j] = y0; o[j + 1] = y1; }
                        }
                    }
                }
            }
            if (D % 2) /* odd D: the last element is not rotated */
                for (int64_t h = 0; h < H; h++) {
                    int64_t e = (bt * H + h) * D + D - 1;
                    if (inverse) out[e] += in[e];
                    else out[e] = in[e];
                }
        }
    }
}

void lk_rope_forward(float *out, const float *in, const int32_t *pos, int64_t B, int64_t T, int64_t H, int64_t D,
                     float theta, int layout, int n_threads) {
    rope_opt(out, in, pos, B, T, H, D, theta, layout, 0, n_threads);
}

void lk_rope_backward(float *din, const float *dout, const int32_t *pos, int64_t B, int64_t T, int64_t H,
                      int64_t D, float theta, int layout, int n_threads) {
    rope_opt(din, dout, pos, B, T, H, D, theta, layout, 1, n_threads);
}

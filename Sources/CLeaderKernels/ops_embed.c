/* Embedding lookup/scatter and rotary position embedding (lk_ops.h). */
#include <string.h>
#include "lk_ops.h"
#include "ops_rows.h"

static void gather_rows(float *out, const float *table, const int32_t *ids, int64_t n, int64_t dim) {
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0) memset(out + i * dim, 0, (size_t)dim * sizeof(float));
        else memcpy(out + i * dim, table + (int64_t)ids[i] * dim, (size_t)dim * sizeof(float));
    }
}

void lk_embedding_forward(float *out, const float *table, const int32_t *ids, int64_t n_ids, int64_t dim,
                          int n_threads) {
    int nt = ops_threads(n_threads, n_ids * dim);
    if (nt == 1) {   /* no OpenMP region for one thread */
        gather_rows(out, table, ids, n_ids, dim);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t i = 0; i < n_ids; i++) gather_rows(out + i * dim, table, ids + i, 1, dim);
}

/* Tasks are (id range) x (column block of 64): a task scans all ids in order and adds the rows whose id falls
 * in its range. Every dtable element therefore receives its additions in id order, whatever the partition, so
 * the result is bitwise the same for any thread count; the id ranges keep both threads busy for small dims. */
void lk_embedding_backward(float *dtable, const float *dout, const int32_t *ids, int64_t n_ids, int64_t dim,
                           int n_threads) {
    int32_t max_id = -1;
    for (int64_t i = 0; i < n_ids; i++) max_id = ids[i] > max_id ? ids[i] : max_id;
    if (max_id < 0) return;
    int nt = ops_threads(n_threads, n_ids * dim);
    const int64_t blk = 64;
    int64_t ncb = (dim + blk - 1) / blk, nr = nt, span = ((int64_t)max_id + nr) / nr;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t task = 0; task < nr * ncb; task++) {
        int64_t lo = (task / ncb) * span, hi = lo + span, c0 = (task % ncb) * blk;
        int64_t w = dim - c0 < blk ? dim - c0 : blk;
        for (int64_t i = 0; i < n_ids; i++) {
            int64_t id = ids[i];
            if (id < lo || id >= hi) continue;
            float *d = dtable + id * dim + c0;
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

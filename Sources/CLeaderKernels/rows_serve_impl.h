/* Part of ops_rows_impl.h (one ISA build): the serving leaves of lk_infer.h — attention inside one set of
 * tokens and the mean of a segment of rows. */
#ifndef OPS_ROWS_TABLE
#error "include ops_rows_impl.h, not this part"
#endif

/* ---- inference leaves (lk_infer.h) -------------------------------------------------------------- */
/* Queries in lanes: a block of up to L queries of one head is transposed into qt (D × L, scale folded in),
 * so the scores of key j for the whole block are one L-wide vector (st row j). The softmax over keys is then
 * elementwise across rows (no horizontal reductions), and the output is accumulated transposed (ot, D × L) and
 * written back row by row. Per query: s_j = Σ_d (scale·q_d)·k_jd in d order, p_j = exp(s_j − max), out =
 * (Σ_j p_j v_j) · (1 / Σ_j p_j) with j in order. */
static void r_set_attention(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows, int64_t len,
                            int64_t H, int64_t D, float scale, float *scratch) {
#define ROW(t) ((rows ? (int64_t)rows[t] : (int64_t)(t)) * ldq)
    const int64_t hd = H * D;
    float *qt = scratch, *ot = qt + D * L, *mx = ot + D * L, *sum = mx + L, *st = sum + L;
    for (int64_t h = 0; h < H; h++) {
        const float *kbase = qkv + hd + h * D, *vbase = qkv + 2 * hd + h * D;
        for (int64_t i0 = 0; i0 < len; i0 += L) {
            const int64_t nq = len - i0 < L ? len - i0 : L;
            for (int64_t l = 0; l < nq; l++) {
                const float *q = qkv + ROW(i0 + l) + h * D;
                for (int64_t d = 0; d < D; d++) qt[d * L + l] = q[d] * scale;
            }
            for (int64_t l = nq; l < L; l++)
                for (int64_t d = 0; d < D; d++) qt[d * L + l] = 0.0f;
            for (int l = 0; l < L; l++) mx[l] = -__builtin_inff();
            for (int64_t j = 0; j < len; j++) {
                const float *k = kbase + ROW(j);
                float a[L] = {0};
                for (int64_t d = 0; d < D; d++)
                    for (int l = 0; l < L; l++) a[l] += k[d] * qt[d * L + l];
                for (int l = 0; l < L; l++) {
                    st[j * L + l] = a[l];
                    mx[l] = a[l] > mx[l] ? a[l] : mx[l];
                }
            }
            for (int l = 0; l < L; l++) sum[l] = 0.0f;
            for (int64_t j = 0; j < len; j++)
                for (int l = 0; l < L; l++) {
                    const float e = r_exp(st[j * L + l] - mx[l]);
                    st[j * L + l] = e;
                    sum[l] += e;
                }
            float *inv = sum;   /* one division per query, as the D = 16 kernel */
            for (int l = 0; l < L; l++) inv[l] = 1.0f / sum[l];
            int64_t d = 0;
            for (; d + 4 <= D; d += 4) {   /* four output columns: independent FMA chains over keys */
                float a0[L] = {0}, a1[L] = {0}, a2[L] = {0}, a3[L] = {0};
                for (int64_t jj = 0; jj < len; jj++) {
                    const float *v = vbase + ROW(jj) + d, *p = st + jj * L;
                    for (int l = 0; l < L; l++) {
                        a0[l] += p[l] * v[0];
                        a1[l] += p[l] * v[1];
                        a2[l] += p[l] * v[2];
                        a3[l] += p[l] * v[3];
                    }
                }
                for (int l = 0; l < L; l++) {
                    ot[d * L + l] = a0[l] * inv[l];
                    ot[(d + 1) * L + l] = a1[l] * inv[l];
                    ot[(d + 2) * L + l] = a2[l] * inv[l];
                    ot[(d + 3) * L + l] = a3[l] * inv[l];
                }
            }
            for (; d < D; d++) {
                float a[L] = {0};
                for (int64_t jj = 0; jj < len; jj++) {
                    const float v = vbase[ROW(jj) + d];
                    for (int l = 0; l < L; l++) a[l] += st[jj * L + l] * v;
                }
                for (int l = 0; l < L; l++) ot[d * L + l] = a[l] * inv[l];
            }
            for (int64_t l = 0; l < nq; l++) {
                float *o = out + (i0 + l) * ldo + h * D;
                for (int64_t d = 0; d < D; d++) o[d] = ot[d * L + l];
            }
        }
    }
}

#undef ROW

static void r_rows_mean(float *out, const float *in, int64_t len, int64_t C) {
    for (int64_t c = 0; c < C; c++) out[c] = 0.0f;
    for (int64_t t = 0; t < len; t++)
        for (int64_t c = 0; c < C; c++) out[c] += in[t * C + c];
    if (len > 0) {
        const float inv = 1.0f / (float)len;
        for (int64_t c = 0; c < C; c++) out[c] *= inv;
    }
}


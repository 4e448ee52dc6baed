/* Internal to the inference kernels (infer.c, and bf16.c's fused pooling): ISA-specific leaves and the set-mean
 * rule of the fused W1 -> GELU -> mean passes. */
#ifndef LK_INFER_KERNELS_H
#define LK_INFER_KERNELS_H
#include <stdint.h>
#include <string.h>

/* Set means accumulated row by row, as lk_segment_mean_forward's rows_mean forms them (a zeroed row, the set's rows
 * added in row order, then × 1/len), so a fused pass is bitwise the unfused chain. set_sums_zero first; for each
 * row in order set_of_row (set: the caller's cursor, starting at 0) names its sum row; set_sums_to_means last. */
static inline void set_sums_zero(float *P, int64_t ldp, int64_t n_sets, int64_t N) {
    for (int64_t s = 0; s < n_sets; s++) memset(P + s * ldp, 0, (size_t)N * sizeof(float));
}
static inline int64_t set_of_row(const int32_t *offsets, int64_t row, int64_t set) {   /* row counted from offsets[0] */
    while (offsets[set + 1] - offsets[0] <= row) set++;
    return set;
}
static inline void set_sums_to_means(float *P, int64_t ldp, const int32_t *offsets, int64_t n_sets, int64_t N) {
    for (int64_t s = 0; s < n_sets; s++) {
        const int64_t len = offsets[s + 1] - offsets[s];
        if (len <= 0) continue;
        const float inv = 1.0f / (float)len;
        for (int64_t n = 0; n < N; n++) P[s * ldp + n] *= inv;
    }
}

/* Set attention of one set for head width D = 16 (AVX-512; infer_avx512.c). st: (len + 1) × 16 floats,
 * 64-byte aligned. */
void lk_set_attention_d16_avx512(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                                 int64_t len, int64_t H, float scale, float *st);
#endif

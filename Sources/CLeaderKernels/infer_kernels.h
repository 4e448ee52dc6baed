/* Internal to the inference kernels (infer.c): ISA-specific leaves. */
#ifndef LK_INFER_KERNELS_H
#define LK_INFER_KERNELS_H
#include <stdint.h>

/* Set attention of one set for head width D = 16 (AVX-512; infer_avx512.c). st: (len + 1) × 16 floats,
 * 64-byte aligned. */
void lk_set_attention_d16_avx512(float *out, int64_t ldo, const float *qkv, int64_t ldq, const int32_t *rows,
                                 int64_t len, int64_t H, float scale, float *st);
#endif

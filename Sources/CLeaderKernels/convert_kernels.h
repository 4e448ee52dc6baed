/* Internal to the f32 <-> f16 array conversions (convert.c dispatches to convert_avx2.c, convert_avx512.c;
 * the generic build is the _ref loop). Each function converts one contiguous chunk on the calling thread. */
#ifndef LK_CONVERT_KERNELS_H
#define LK_CONVERT_KERNELS_H
#include <stdint.h>

void lk_convert_f32_to_f16_avx2(uint16_t *out, const float *in, int64_t n);
void lk_convert_f16_to_f32_avx2(float *out, const uint16_t *in, int64_t n);
void lk_convert_f32_to_f16_avx512(uint16_t *out, const float *in, int64_t n);
void lk_convert_f16_to_f32_avx512(float *out, const uint16_t *in, int64_t n);
#endif

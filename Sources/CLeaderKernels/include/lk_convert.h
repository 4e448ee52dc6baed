/* Array conversions between f32 and IEEE binary16 (the F16 prefix cache of teacher training).
 *
 * Bit-identical to the scalar lk_f32_to_f16 / lk_f16_to_f32 (lk_quant.h) for every input, on every ISA and
 * thread count: f32 -> f16 rounds to nearest even, values >= 65520 in magnitude become inf, results in the
 * f16 subnormal range are kept (never flushed), NaN becomes a quiet NaN with the sign and the top 9 payload
 * bits; f16 -> f32 is exact and keeps every NaN payload (a signalling NaN stays signalling). The AVX2 build
 * uses F16C (vcvtps2ph / vcvtph2ps), the AVX-512 build the 16-lane forms; f16 -> f32 groups holding a NaN
 * take the scalar path (the hardware quietens signalling NaNs). Callers validate sizes; kernels never fail. */
#ifndef LK_CONVERT_H
#define LK_CONVERT_H
#include <stdint.h>

/* out (n) f16 bits <- in (n) f32. */
void lk_convert_f32_to_f16(uint16_t *out, const float *in, int64_t n, int n_threads);
void lk_convert_f32_to_f16_isa(int isa, uint16_t *out, const float *in, int64_t n, int n_threads);
void lk_convert_f32_to_f16_ref(uint16_t *out, const float *in, int64_t n);

/* out (n) f32 <- in (n) f16 bits. */
void lk_convert_f16_to_f32(float *out, const uint16_t *in, int64_t n, int n_threads);
void lk_convert_f16_to_f32_isa(int isa, float *out, const uint16_t *in, int64_t n, int n_threads);
void lk_convert_f16_to_f32_ref(float *out, const uint16_t *in, int64_t n);
#endif

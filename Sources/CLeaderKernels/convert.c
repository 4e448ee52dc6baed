/* f32 <-> f16 array conversions: references, ISA dispatch and the thread split (lk_convert.h). */
#include "lk_convert.h"
#include "lk_isa.h"
#include "kpath.h"
#include "lk_quant.h"
#include "convert_kernels.h"

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif

typedef void (*to_f16_fn)(uint16_t *, const float *, int64_t);
typedef void (*to_f32_fn)(float *, const uint16_t *, int64_t);

void lk_convert_f32_to_f16_ref(uint16_t *out, const float *in, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = lk_f32_to_f16(in[i]);
}

void lk_convert_f16_to_f32_ref(float *out, const uint16_t *in, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = lk_f16_to_f32(in[i]);
}

static to_f16_fn to_f16_for(int isa) {
    isa = lk_isa_clamp(isa);
    kpath_note(LK_KFAM_CONVERT, isa);
#if defined(__x86_64__) || defined(__i386__)
    switch (isa) {
    case LK_ISA_AVX512: return lk_convert_f32_to_f16_avx512;
    case LK_ISA_AVX2: return lk_convert_f32_to_f16_avx2;
    default: break;
    }
#else
    (void)isa;
#endif
    return lk_convert_f32_to_f16_ref;
}

static to_f32_fn to_f32_for(int isa) {
    isa = lk_isa_clamp(isa);
    kpath_note(LK_KFAM_CONVERT, isa);
#if defined(__x86_64__) || defined(__i386__)
    switch (isa) {
    case LK_ISA_AVX512: return lk_convert_f16_to_f32_avx512;
    case LK_ISA_AVX2: return lk_convert_f16_to_f32_avx2;
    default: break;
    }
#else
    (void)isa;
#endif
    return lk_convert_f16_to_f32_ref;
}

/* Chunks of CHUNK values (a multiple of 16, so every chunk but the last is whole vectors), split statically
 * over threads; below 2 chunks one thread. Each value is converted independently, so the thread count cannot
 * change a result. */
enum { CHUNK = 16384 };

static int threads_for(int64_t n, int n_threads) {
    if (n_threads < 1 || n < 2 * CHUNK) return 1;
    return n_threads;
}

void lk_convert_f32_to_f16_isa(int isa, uint16_t *out, const float *in, int64_t n, int n_threads) {
    if (n <= 0) return;
    const to_f16_fn f = to_f16_for(isa);
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) num_threads(threads_for(n, n_threads))
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        f(out + lo, in + lo, len);
    }
}

void lk_convert_f16_to_f32_isa(int isa, float *out, const uint16_t *in, int64_t n, int n_threads) {
    if (n <= 0) return;
    const to_f32_fn f = to_f32_for(isa);
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for schedule(static) num_threads(threads_for(n, n_threads))
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t lo = c * CHUNK, len = n - lo < CHUNK ? n - lo : CHUNK;
        f(out + lo, in + lo, len);
    }
}

void lk_convert_f32_to_f16(uint16_t *out, const float *in, int64_t n, int n_threads) {
    lk_convert_f32_to_f16_isa(lk_isa_active(), out, in, n, n_threads);
}

void lk_convert_f16_to_f32(float *out, const uint16_t *in, int64_t n, int n_threads) {
    lk_convert_f16_to_f32_isa(lk_isa_active(), out, in, n, n_threads);
}

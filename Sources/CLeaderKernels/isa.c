/* Runtime ISA selection (see lk_isa.h). The choice is computed once and then constant. */
#define _POSIX_C_SOURCE 200809L
#include "lk_isa.h"
#include <stdlib.h>
#include <string.h>

#ifndef _OPENMP
#error "CLeaderKernels must be built with -fopenmp (see Package.swift)"
#endif
#include <unistd.h>

static int detect_best(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return LK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return LK_ISA_AVX2;
#endif
    return LK_ISA_GENERIC;
}

int lk_isa_best(void) {
    static _Atomic int best = -1;
    int b = best;
    if (b < 0) { b = detect_best(); best = b; }
    return b;
}

int lk_isa_clamp(int isa) {
    if (isa != LK_ISA_AVX512 && isa != LK_ISA_AVX2) return LK_ISA_GENERIC;
    int best = lk_isa_best();
    return isa < best ? isa : best;
}

int lk_isa_active(void) {
    static _Atomic int active = -1;
    int a = active;
    if (a < 0) {
        a = lk_isa_best();
        const char *env = getenv("LEADER_ISA");
        if (env != NULL) {
            if (strcmp(env, "generic") == 0) a = LK_ISA_GENERIC;
            else if (strcmp(env, "avx2") == 0) a = lk_isa_clamp(LK_ISA_AVX2);
            else if (strcmp(env, "avx512") == 0) a = lk_isa_clamp(LK_ISA_AVX512);
        }
        active = a;
    }
    return a;
}

const char *lk_isa_name(int isa) {
    switch (isa) {
    case LK_ISA_AVX512: return "avx512";
    case LK_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}

int lk_openmp_enabled(void) { return 1; }
int lk_num_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > 1024 ? 1024 : (int)n);
}

/* Runtime instruction-set dispatch shared by all kernels.
 *
 * Every optimised kernel exists in three builds of the same source: AVX-512, AVX2+FMA and portable C.
 * The active one is the best the CPU supports, unless the environment variable LEADER_ISA
 * (avx512 | avx2 | generic) asks for a lower one; the choice is made once, on first use. Kernels that
 * dispatch also have an `_isa` twin taking the ISA explicitly, so tests cover every build in one process.
 * An ISA the CPU lacks is clamped down to the best it has. */
#ifndef LK_ISA_H
#define LK_ISA_H
#include <stdint.h>

enum { LK_ISA_GENERIC = 0, LK_ISA_AVX2 = 1, LK_ISA_AVX512 = 2 };

int lk_isa_best(void);              /* best ISA this CPU supports */
int lk_isa_active(void);            /* best, or the LEADER_ISA override clamped to best; fixed after first call */
int lk_isa_clamp(int isa);          /* min(isa, best), unknown values -> generic */
const char *lk_isa_name(int isa);   /* "avx512" | "avx2" | "generic" */
int lk_openmp_enabled(void);        /* 1 when built with OpenMP */
int lk_num_cpus(void);              /* online CPUs (sysconf), at least 1; never reads OMP_NUM_THREADS */
#endif

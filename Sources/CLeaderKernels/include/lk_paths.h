/* Which kernel code paths a process has run: each dispatcher records the path it picks (kpath_note in
 * kpath.h: a one-byte flag per family and path, set once, read-mostly, so the hot paths pay one inlined relaxed
 * load). Tests read it to print what ran and to fail when a path the CPU supports never did
 * (Tests/KernelTests/KernelPathCoverageTests.swift). */
#ifndef LK_PATHS_H
#define LK_PATHS_H

/* Families and their path numbers: SGEMM, OPS, CONVERT and DEQUANT use LK_ISA_* (lk_isa.h); Q8 uses
 * LK_Q8_PATH_* (lk_quant.h); BF16 uses LK_BF16_PATH_* (lk_bf16.h: 0 portable, 1 AMX tiles,
 * 2 AVX512-BF16). */
enum { LK_KFAM_SGEMM = 0, LK_KFAM_OPS = 1, LK_KFAM_CONVERT = 2, LK_KFAM_DEQUANT = 3, LK_KFAM_Q8 = 4,
       LK_KFAM_BF16 = 5, LK_KFAM_COUNT = 6 };
enum { LK_KPATH_MAX = 4 };

int lk_kpath_seen(int family, int path);    /* 1 once noted in this process, else 0; out of range: 0 */
#endif

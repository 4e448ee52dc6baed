/* The ops kernels' table of row functions for an ISA (ops_rows.h). */
#include "lk_isa.h"
#include "kpath.h"
#include "ops_rows.h"

const ops_rows *ops_rows_for(int isa) {
    isa = lk_isa_clamp(isa);
    kpath_note(LK_KFAM_OPS, isa);
    switch (isa) {
    case LK_ISA_AVX512: return &lk_ops_rows_avx512;
    case LK_ISA_AVX2: return &lk_ops_rows_avx2;
    default: return &lk_ops_rows_generic;
    }
}

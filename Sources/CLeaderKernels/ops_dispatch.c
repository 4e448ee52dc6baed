/* ISA choice for the ops kernels: a thread-local override (tests) or lk_isa_active(). */
#include "lk_isa.h"
#include "lk_ops.h"
#include "kpath.h"
#include "ops_rows.h"

static _Thread_local int isa_override = -1;

int lk_ops_set_isa_for_thread(int isa) {
    int prev = isa_override;
    isa_override = isa < 0 ? -1 : lk_isa_clamp(isa);
    return prev;
}

const ops_rows *ops_rows_current(void) {
    int isa = isa_override >= 0 ? isa_override : lk_isa_active();
    kpath_note(LK_KFAM_OPS, isa);
    switch (isa) {
    case LK_ISA_AVX512: return &lk_ops_rows_avx512;
    case LK_ISA_AVX2: return &lk_ops_rows_avx2;
    default: return &lk_ops_rows_generic;
    }
}

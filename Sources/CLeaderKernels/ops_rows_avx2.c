/* Ops row functions compiled for avx2 (see ops_rows_impl.h). */
#include <string.h>
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"
#define OPS_ROWS_TABLE lk_ops_rows_avx2
#define OPS_ROWS_ISA LK_ISA_AVX2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "ops_rows_impl.h"
#pragma clang attribute pop

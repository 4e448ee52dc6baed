/* Ops row functions compiled for avx512 (see ops_rows_impl.h). */
#include <string.h>
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"
#define OPS_ROWS_TABLE lk_ops_rows_avx512
#define OPS_ROWS_ISA LK_ISA_AVX512
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma"))), apply_to = function)
#include "ops_rows_impl.h"
#pragma clang attribute pop

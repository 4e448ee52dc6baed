/* Private template: the row/leaf functions of the ops kernels. Included by ops_rows_{avx512,avx2,generic}.c
 * inside a `#pragma clang attribute push(target(...))`, with OPS_ROWS_TABLE naming the table to define and
 * OPS_ROWS_ISA its LK_ISA_* value. Plain C written so that clang vectorises it for the target: reductions
 * use fixed 16-lane accumulators (deterministic order, no -ffast-math needed), exp/tanh are branch-free
 * polynomials (no libm calls in loops). No OpenMP here (see ops_rows.h). */
#if !defined(OPS_ROWS_TABLE) || !defined(OPS_ROWS_ISA)
#error "define OPS_ROWS_TABLE and OPS_ROWS_ISA before including ops_rows_impl.h"
#endif
#include <string.h>
#include "lk_ops.h"
#include "ops_rows.h"

#include "rows_math_impl.h"  /* L, exp/tanh/log polynomials, sums, softmax */
#include "rows_train_impl.h" /* norms, activations, Adam, losses, random numbers */
#include "rows_serve_impl.h" /* set attention, segment means */

#undef L

const ops_rows OPS_ROWS_TABLE = {
    .isa = OPS_ROWS_ISA,
    .softmax_fwd = r_softmax_fwd,
    .softmax_bwd = r_softmax_bwd,
    .layernorm_fwd = r_layernorm_fwd,
    .layernorm_bwd = r_layernorm_bwd,
    .layernorm_bwd_cols = r_layernorm_bwd_cols,
    .rmsnorm_fwd = r_rmsnorm_fwd,
    .rmsnorm_bwd = r_rmsnorm_bwd,
    .rmsnorm_bwd_cols = r_rmsnorm_bwd_cols,
    .act_fwd = r_act_fwd,
    .act_bwd = r_act_bwd,
    .swiglu_fwd = r_swiglu_fwd,
    .swiglu_bwd = r_swiglu_bwd,
    .adam = r_adam,
    .sum_squares = r_sum_squares,
    .bce_sum = r_bce_sum,
    .bce_bwd = r_bce_bwd,
    .dropout = r_dropout,
    .fill_uniform = r_fill_uniform,
    .set_attention = r_set_attention,
    .rows_mean = r_rows_mean,
};

/* Umbrella header of the kernel target (internal; not API). */
#ifndef CLEADERKERNELS_H
#define CLEADERKERNELS_H
#include "lk_isa.h"
#include "lk_gemm.h"
#include "lk_quant.h"
#include "lk_ops.h"
#include "lk_core_ops.h"
#include "lk_teacher_ops.h"
#include "lk_infer.h"
#include "lk_convert.h"
#include "lk_bf16.h"
#include "lk_paths.h"
#endif

/* Ops row functions compiled for generic (see ops_rows_impl.h). */
#include <string.h>
#include "lk_isa.h"
#include "lk_ops.h"
#include "ops_rows.h"
#define OPS_ROWS_TABLE lk_ops_rows_generic
#define OPS_ROWS_ISA LK_ISA_GENERIC
#include "ops_rows_impl.h"

/* The record of kernel paths run (lk_paths.h; the dispatchers write it through kpath.h). */
#include "kpath.h"

_Atomic unsigned char lk_kpath_flags[LK_KFAM_COUNT][LK_KPATH_MAX];

int lk_kpath_seen(int family, int path) {
    if (family < 0 || family >= LK_KFAM_COUNT || path < 0 || path >= LK_KPATH_MAX) return 0;
    return atomic_load_explicit(&lk_kpath_flags[family][path], memory_order_relaxed);
}

/* Internal: the dispatchers' side of lk_paths.h, inlined so that recording a path costs one relaxed load. */
#ifndef LK_KPATH_H
#define LK_KPATH_H
#include "lk_paths.h"
#include <stdatomic.h>

extern _Atomic unsigned char lk_kpath_flags[LK_KFAM_COUNT][LK_KPATH_MAX];

/* Records that `family` ran `path` (out-of-range values are ignored). */
static inline void kpath_note(int family, int path) {
    if (family < 0 || family >= LK_KFAM_COUNT || path < 0 || path >= LK_KPATH_MAX) return;
    if (!atomic_load_explicit(&lk_kpath_flags[family][path], memory_order_relaxed))
        atomic_store_explicit(&lk_kpath_flags[family][path], 1, memory_order_relaxed);
}
#endif

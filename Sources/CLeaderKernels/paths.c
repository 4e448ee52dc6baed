/* The record of kernel paths run (lk_paths.h). */
#include "lk_paths.h"
#include <stdatomic.h>

static _Atomic unsigned char seen[LK_KFAM_COUNT][LK_KPATH_MAX];

void lk_kpath_note(int family, int path) {
    if (family < 0 || family >= LK_KFAM_COUNT || path < 0 || path >= LK_KPATH_MAX) return;
    if (!atomic_load_explicit(&seen[family][path], memory_order_relaxed))
        atomic_store_explicit(&seen[family][path], 1, memory_order_relaxed);
}

int lk_kpath_seen(int family, int path) {
    if (family < 0 || family >= LK_KFAM_COUNT || path < 0 || path >= LK_KPATH_MAX) return 0;
    return atomic_load_explicit(&seen[family][path], memory_order_relaxed);
}

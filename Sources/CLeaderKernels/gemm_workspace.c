/* Per-thread cached scratch buffers (see lk_thread_workspace in gemm_kernels.h).
 * Allocating packing buffers on every call went through mmap and page faults; a buffer per thread that
 * only grows keeps repeated calls allocation-free. A pthread key frees the buffers when a thread exits. */
#define _POSIX_C_SOURCE 200809L
#include "gemm_kernels.h"
#include <pthread.h>
#include <stdlib.h>

typedef struct { float *ptr[LK_WS_SLOTS]; size_t cap[LK_WS_SLOTS]; } workspace;

static _Thread_local workspace tls_ws;
static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;

static void ws_free(void *p) {
    workspace *w = p;
    for (int s = 0; s < LK_WS_SLOTS; s++) { free(w->ptr[s]); w->ptr[s] = NULL; w->cap[s] = 0; }
}
static void ws_make_key(void) { (void)pthread_key_create(&ws_key, ws_free); }

float *lk_thread_workspace(int slot, size_t n_floats) {
    if (slot < 0 || slot >= LK_WS_SLOTS) return NULL;
    workspace *w = &tls_ws;
    if (n_floats <= w->cap[slot] && w->ptr[slot] != NULL) return w->ptr[slot];
    if (n_floats > ((size_t)1 << 60) / sizeof(float)) return NULL;
    size_t bytes = (n_floats * sizeof(float) + 63) & ~(size_t)63;
    if (bytes == 0) bytes = 64;
    void *p = aligned_alloc(64, bytes);
    if (p == NULL) return NULL;          /* keep the old (smaller) buffer; the caller falls back */
    free(w->ptr[slot]);
    w->ptr[slot] = p;
    w->cap[slot] = bytes / sizeof(float);
    pthread_once(&ws_once, ws_make_key);
    (void)pthread_setspecific(ws_key, w);
    return p;
}

/* Per-thread state behind the ABI that Swift cannot hold: the thread-local last-error buffer behind
 * leader_last_error() (Swift has no thread-local storage a C host can read without a lock), and the
 * library-wide OpenMP blocktime applied to each calling thread (libomp's setting is per thread). */
#include "CLeader.h"
#include <stdatomic.h>
#include <string.h>

static _Thread_local char last_error[1024];

__attribute__((visibility("hidden"))) void leader_internal_set_error(const char *msg) {
    if (msg == NULL) { last_error[0] = '\0'; return; }
    size_t n = strlen(msg);
    if (n > sizeof last_error - 1) n = sizeof last_error - 1;
    memcpy(last_error, msg, n);
    last_error[n] = '\0';
}

const char *leader_last_error(void) { return last_error; }

/* libomp extension (exported by libomp 5): the spin time of the calling thread's team after a region. */
extern void kmp_set_blocktime(int milliseconds);

/* The requested blocktime and a generation that changes with every request; a thread re-applies the
 * setting when its generation is behind. Generation 0 = never set: libomp's own default stays. */
static _Atomic int requested_blocktime = -1;
static _Atomic unsigned blocktime_generation = 0;
static _Thread_local unsigned applied_generation = 0;

__attribute__((visibility("hidden"))) void leader_internal_set_blocktime(int milliseconds) {
    atomic_store(&requested_blocktime, milliseconds);
    atomic_fetch_add(&blocktime_generation, 1u);
}

__attribute__((visibility("hidden"))) void leader_internal_apply_blocktime(void) {
    unsigned g = atomic_load_explicit(&blocktime_generation, memory_order_relaxed);
    if (g == applied_generation) return;
    applied_generation = g;
    int ms = atomic_load(&requested_blocktime);
    kmp_set_blocktime(ms < 0 ? 200 : ms);   /* -1: libomp's default of 200 ms */
}

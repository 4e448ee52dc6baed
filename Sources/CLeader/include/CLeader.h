/* Module header for the Swift side of the ABI: the public header plus the per-thread support state. */
#ifndef CLEADER_H
#define CLEADER_H
#include "../../../include/leader.h"

/* Stores msg (truncated to 1023 bytes, always NUL-terminated) as this thread's last error; NULL clears it. */
void leader_internal_set_error(const char *msg);

/* Records the OpenMP blocktime (ms, -1 = libomp's default) for every thread that calls the library from now. */
void leader_internal_set_blocktime(int milliseconds);

/* Applies the recorded blocktime to the calling thread if it changed since this thread last applied it. */
void leader_internal_apply_blocktime(void);
#endif

/* Module header for the Swift side of the ABI: the public header plus the thread-local error buffer. */
#ifndef CLEADER_H
#define CLEADER_H
#include "../../../include/leader.h"

/* Stores msg (truncated to 1023 bytes, always NUL-terminated) as this thread's last error; NULL clears it. */
void leader_internal_set_error(const char *msg);
#endif

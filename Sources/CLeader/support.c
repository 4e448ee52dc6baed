/* Thread-local last-error buffer behind leader_last_error(). Swift has no thread-local storage that a C
 * host can read without a lock, so the buffer lives here. */
#include "CLeader.h"
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

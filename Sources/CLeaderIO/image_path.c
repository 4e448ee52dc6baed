/* Where the code of this library was loaded from (see include/CLeaderIO.h). */
#define _GNU_SOURCE
#include "CLeaderIO.h"

#include <dlfcn.h>
#include <string.h>

int32_t lio_image_path(char *out, size_t cap) {
    if (!out || cap == 0) return -1;
    Dl_info info;
    if (!dladdr((void *)&lio_image_path, &info) || !info.dli_fname) return -1;
    size_t n = strlen(info.dli_fname);
    if (n + 1 > cap) return -1;
    memcpy(out, info.dli_fname, n + 1);
    return 0;
}

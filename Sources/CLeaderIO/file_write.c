/* Whole-file writes (plain or gzip) and the CRC-32 of the .ldata checksum, over zlib (see include/CLeaderIO.h). */
#include "CLeaderIO.h"

#include <zlib.h>

uint32_t lio_crc32(uint32_t crc, const uint8_t *data, size_t n) {
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = (uint32_t)crc32(crc, data, chunk);
        data += chunk;
        n -= chunk;
    }
    return crc;
}

int32_t lio_write_file(const char *path, const uint8_t *data, size_t n, int32_t level) {
    if (!path || (!data && n)) return -1;
    char mode[8] = "wb";
    if (level <= 0) {
        mode[2] = 'T';  /* transparent: plain write */
        mode[3] = 0;
    } else {
        mode[2] = (char)('0' + (level > 9 ? 9 : level));
        mode[3] = 0;
    }
    gzFile gz = gzopen(path, mode);
    if (!gz) return -1;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int w = gzwrite(gz, data, chunk);
        if (w <= 0) {
            gzclose(gz);
            return -1;
        }
        data += w;
        n -= (size_t)w;
    }
    return gzclose(gz) == Z_OK ? 0 : -1;
}

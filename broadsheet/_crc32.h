/* CRC-32 (the IEEE polynomial, as zlib.crc32 takes it), for the compiled modules that
   place a string by it: the search index's term files (search/_native.c) and the
   files of parsed posts (content/_posts.c). crc_table_fill() once, at import. */

#ifndef BROADSHEET_CRC32_H
#define BROADSHEET_CRC32_H

#include <stdint.h>

static uint32_t crc_table[256];

static uint32_t
crc32_of(const char *data, Py_ssize_t size)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (Py_ssize_t k = 0; k < size; k++) {
        crc = crc_table[(crc ^ (unsigned char)data[k]) & 0xFF] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFu;
}

static void
crc_table_fill(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) {
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[n] = c;
    }
}

#endif

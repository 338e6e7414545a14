// CRC-32 (IEEE, reflected 0xEDB88320) with a 256-entry table built on first use: the check value of
// serial frames and of the patch store's files.
#include "cedge_crc32.h"

static uint32_t table[256];
static int table_ready;

// Computed rather than written out so the polynomial is visible in one place; two threads racing here
// both write identical values, so no lock is needed.
static void build_table(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    table_ready = 1;
}

uint32_t cedge_crc32(uint32_t crc, const uint8_t *bytes, size_t length) {
    if (!table_ready) build_table();
    uint32_t c = crc ^ 0xFFFFFFFFu;
    for (size_t i = 0; i < length; i++) c = table[(c ^ bytes[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

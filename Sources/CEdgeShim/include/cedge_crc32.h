// CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, init and final xor 0xFFFFFFFF) for frames and files.
#ifndef CEDGE_CRC32_H
#define CEDGE_CRC32_H
#include <stddef.h>
#include <stdint.h>

// Continues a CRC: pass 0 to start, then the previous result to feed more bytes (any split gives the
// same value as one call). cedge_crc32(0, "123456789", 9) == 0xCBF43926.
uint32_t cedge_crc32(uint32_t crc, const uint8_t *bytes, size_t length);
#endif

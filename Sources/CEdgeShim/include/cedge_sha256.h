// SHA-256 (FIPS 180-4) in portable C: the model identity a parameter patch names is the hash of the ONNX file.
#ifndef CEDGE_SHA256_H
#define CEDGE_SHA256_H
#include <stddef.h>
#include <stdint.h>

#define CEDGE_SHA256_DIGEST_BYTES 32

// Running state of one hash; callers treat it as opaque and may keep it on the stack.
typedef struct {
    uint32_t h[8];          // intermediate hash value H(i)
    uint64_t total_bytes;   // message length so far (the padding needs it in bits)
    uint8_t block[64];      // pending input that does not fill a 512-bit block yet
    size_t block_used;
} cedge_sha256_state;

void cedge_sha256_init(cedge_sha256_state *state);
// Feeds `length` more message bytes (any split gives the same digest).
void cedge_sha256_update(cedge_sha256_state *state, const uint8_t *bytes, size_t length);
// Pads, processes the last block(s) and writes the 32-byte digest; the state must be re-initialised after.
void cedge_sha256_final(cedge_sha256_state *state, uint8_t digest[CEDGE_SHA256_DIGEST_BYTES]);
// One-shot: digest of `length` bytes.
void cedge_sha256(const uint8_t *bytes, size_t length, uint8_t digest[CEDGE_SHA256_DIGEST_BYTES]);
#endif

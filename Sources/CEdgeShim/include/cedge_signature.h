// Ed25519 (RFC 8032) through libsodium: the board verifies the cloud's patch signatures.
#ifndef CEDGE_SIGNATURE_H
#define CEDGE_SIGNATURE_H
#include <stddef.h>
#include <stdint.h>

#define CEDGE_ED25519_PUBLIC_KEY_BYTES 32
#define CEDGE_ED25519_SEED_BYTES 32
#define CEDGE_ED25519_SIGNATURE_BYTES 64

// 0 when `signature` is a valid signature of `message` under `public_key`; -1 when it is not;
// -2 when libsodium could not be initialised.
int cedge_ed25519_verify(const uint8_t signature[CEDGE_ED25519_SIGNATURE_BYTES], const uint8_t *message,
                         size_t length, const uint8_t public_key[CEDGE_ED25519_PUBLIC_KEY_BYTES]);

// Signing, for host tools and tests only (the board never holds a private key): the public key of a
// 32-byte seed, and the detached signature of a message. Both return 0, or -2 as above.
int cedge_ed25519_public_key(const uint8_t seed[CEDGE_ED25519_SEED_BYTES],
                             uint8_t public_key[CEDGE_ED25519_PUBLIC_KEY_BYTES]);
int cedge_ed25519_sign(const uint8_t seed[CEDGE_ED25519_SEED_BYTES], const uint8_t *message, size_t length,
                       uint8_t signature[CEDGE_ED25519_SIGNATURE_BYTES]);
#endif

// Ed25519 verification (and test-side signing) over libsodium's crypto_sign_* API.
#include "cedge_signature.h"
#include <sodium.h>
#include <string.h>

// sodium_init is idempotent and thread-safe; it returns 1 when already initialised.
static int ready(void) { return sodium_init() >= 0; }

int cedge_ed25519_verify(const uint8_t signature[CEDGE_ED25519_SIGNATURE_BYTES], const uint8_t *message,
                         size_t length, const uint8_t public_key[CEDGE_ED25519_PUBLIC_KEY_BYTES]) {
    if (!ready()) return -2;
    static const uint8_t empty = 0;
    return crypto_sign_verify_detached(signature, message ? message : &empty, length, public_key) == 0 ? 0 : -1;
}

int cedge_ed25519_public_key(const uint8_t seed[CEDGE_ED25519_SEED_BYTES],
                             uint8_t public_key[CEDGE_ED25519_PUBLIC_KEY_BYTES]) {
    if (!ready()) return -2;
    uint8_t secret[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret, seed);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

int cedge_ed25519_sign(const uint8_t seed[CEDGE_ED25519_SEED_BYTES], const uint8_t *message, size_t length,
                       uint8_t signature[CEDGE_ED25519_SIGNATURE_BYTES]) {
    if (!ready()) return -2;
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES], secret[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret, seed);
    static const uint8_t empty = 0;
    crypto_sign_detached(signature, NULL, message ? message : &empty, length, secret);
    sodium_memzero(secret, sizeof secret);
    return 0;
}

// SHA-256 from FIPS 180-4: constants (4.2.2), functions (4.1.2), padding (5.1.1), computation (6.2.2).
#include "cedge_sha256.h"
#include <string.h>

// K: the first 32 bits of the fractional parts of the cube roots of the first 64 primes (4.2.2).
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }
static inline uint32_t ch(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (~x & z); }
static inline uint32_t maj(uint32_t x, uint32_t y, uint32_t z) { return (x & y) ^ (x & z) ^ (y & z); }
static inline uint32_t big_sigma0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t big_sigma1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t small_sigma0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t small_sigma1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }

// Words are big-endian in the standard whatever the CPU's order, so they are assembled byte by byte.
static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// One iteration of 6.2.2 over a 512-bit block M(i).
static void process_block(uint32_t h[8], const uint8_t *block) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++) w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; t++) w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = hh + big_sigma1(e) + ch(e, f, g) + K[t] + w[t];
        uint32_t t2 = big_sigma0(a) + maj(a, b, c);
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void cedge_sha256_init(cedge_sha256_state *state) {
    // H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes (5.3.3).
    static const uint32_t initial[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(state->h, initial, sizeof initial);
    state->total_bytes = 0;
    state->block_used = 0;
}

void cedge_sha256_update(cedge_sha256_state *state, const uint8_t *bytes, size_t length) {
    if (length == 0) return;  // bytes may be NULL then (an empty Swift array has no storage)
    state->total_bytes += length;
    // Top up a partial block first, then hash whole blocks straight from the input without copying.
    if (state->block_used > 0) {
        size_t take = 64 - state->block_used;
        if (take > length) take = length;
        memcpy(state->block + state->block_used, bytes, take);
        state->block_used += take;
        bytes += take;
        length -= take;
        if (state->block_used < 64) return;
        process_block(state->h, state->block);
        state->block_used = 0;
    }
    while (length >= 64) {
        process_block(state->h, bytes);
        bytes += 64;
        length -= 64;
    }
    if (length > 0) {
        memcpy(state->block, bytes, length);
        state->block_used = length;
    }
}

void cedge_sha256_final(cedge_sha256_state *state, uint8_t digest[CEDGE_SHA256_DIGEST_BYTES]) {
    // 5.1.1: append bit 1, then zeros until 448 mod 512 bits, then the length in bits as 64 bits big-endian.
    uint64_t bit_length = state->total_bytes * 8;
    size_t used = state->block_used;
    state->block[used++] = 0x80;
    if (used > 56) {  // no room for the length: pad this block out and start another
        memset(state->block + used, 0, 64 - used);
        process_block(state->h, state->block);
        used = 0;
    }
    memset(state->block + used, 0, 56 - used);
    store_be32(state->block + 56, (uint32_t)(bit_length >> 32));
    store_be32(state->block + 60, (uint32_t)bit_length);
    process_block(state->h, state->block);
    for (int i = 0; i < 8; i++) store_be32(digest + 4 * i, state->h[i]);
    state->block_used = 0;
}

void cedge_sha256(const uint8_t *bytes, size_t length, uint8_t digest[CEDGE_SHA256_DIGEST_BYTES]) {
    cedge_sha256_state state;
    cedge_sha256_init(&state);
    cedge_sha256_update(&state, bytes, length);
    cedge_sha256_final(&state, digest);
}

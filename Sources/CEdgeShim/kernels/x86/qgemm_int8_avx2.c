// AVX2 int8 dot tile: int8 widened to int16 and multiplied with vpmaddwd, so every sum is exact (vpmaddubsw
// would saturate); compiled with a target attribute and only called after cpuid reports AVX2.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include "../qkernels_internal.h"

__attribute__((target("avx2"))) static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static inline __m256i load16(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}

// Four weight rows against two patches: 8 accumulators + 6 operands fit the 16 ymm registers.
__attribute__((target("avx2"))) static void tile_4x2(int kpad, const int8_t *w, const int8_t *p, int32_t *acc,
                                                     int col0) {
    __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00,
            a31 = a00;
    const int8_t *p0 = p + (size_t)col0 * kpad, *p1 = p0 + kpad;
    for (int k = 0; k < kpad; k += 16) {
        __m256i x0 = load16(p0 + k), x1 = load16(p1 + k);
        __m256i w0 = load16(w + k);
        a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(w0, x0));
        a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(w0, x1));
        __m256i w1 = load16(w + kpad + k);
        a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(w1, x0));
        a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(w1, x1));
        __m256i w2 = load16(w + 2 * (size_t)kpad + k);
        a20 = _mm256_add_epi32(a20, _mm256_madd_epi16(w2, x0));
        a21 = _mm256_add_epi32(a21, _mm256_madd_epi16(w2, x1));
        __m256i w3 = load16(w + 3 * (size_t)kpad + k);
        a30 = _mm256_add_epi32(a30, _mm256_madd_epi16(w3, x0));
        a31 = _mm256_add_epi32(a31, _mm256_madd_epi16(w3, x1));
    }
    acc[0 * 4 + col0] = hsum_epi32(a00);
    acc[0 * 4 + col0 + 1] = hsum_epi32(a01);
    acc[1 * 4 + col0] = hsum_epi32(a10);
    acc[1 * 4 + col0 + 1] = hsum_epi32(a11);
    acc[2 * 4 + col0] = hsum_epi32(a20);
    acc[2 * 4 + col0 + 1] = hsum_epi32(a21);
    acc[3 * 4 + col0] = hsum_epi32(a30);
    acc[3 * 4 + col0 + 1] = hsum_epi32(a31);
}

void cedge_qdot_avx2(int kpad, const int8_t *w, const int8_t *p, int32_t *acc) {
    tile_4x2(kpad, w, p, acc, 0);
    tile_4x2(kpad, w, p, acc, 2);
}
#endif

// The requantized residual add (cedge_qadd) in AVX2 and AVX-512BW: the scalar loop's float operations in the
// same order, lane for lane (the sum of two dequantized values, the Relu floor, the division by the output
// scale, the clamp), then VCVTPS2DQ's round half to even, the zero point added in int32 and the saturating
// packs for the type's range. The compiler's vectorization of the scalar loop narrows with VPMOVDB to memory
// and runs at about 0.6x of this. Each returns how many leading elements it did; the scalar loop does the rest.
#if defined(__x86_64__)
#include <immintrin.h>
#include "../qkernels_internal.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))
#define AVX512_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw")))

// ---- AVX2: 32 elements a step, 8 lanes at a time -------------------------------------------------------------
AVX2_TARGET static inline __m256 widen8(int in_u8, const void *p) {
    const __m128i b = _mm_loadl_epi64((const __m128i *)p);
    return _mm256_cvtepi32_ps(in_u8 ? _mm256_cvtepu8_epi32(b) : _mm256_cvtepi8_epi32(b));
}

AVX2_TARGET static inline __attribute__((always_inline)) size_t add_avx2(size_t n, int in_u8, int out_u8,
        const uint8_t *a, float sa, float za, const uint8_t *b, float sb, float zb, float floor, float sy, int zy,
        uint8_t *y) {
    const float lo = out_u8 ? 0.0f : -128.0f, hi = out_u8 ? 255.0f : 127.0f;
    const __m256 vza = _mm256_set1_ps(za), vsa = _mm256_set1_ps(sa), vzb = _mm256_set1_ps(zb), vsb = _mm256_set1_ps(sb);
    const __m256 vfloor = _mm256_set1_ps(floor), vsy = _mm256_set1_ps(sy);
    const __m256 ta = _mm256_set1_ps(lo - (float)zy - 1.0f), tb = _mm256_set1_ps(hi - (float)zy + 1.0f);
    const __m256i vzy = _mm256_set1_epi32(zy), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i q[4];
        for (int k = 0; k < 4; k++) {
            const __m256 fa = widen8(in_u8, a + i + 8 * k), fb = widen8(in_u8, b + i + 8 * k);
            __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(fa, vza), vsa), _mm256_mul_ps(_mm256_sub_ps(fb, vzb), vsb));
            v = _mm256_max_ps(v, vfloor);
            v = _mm256_div_ps(v, vsy);
            v = _mm256_min_ps(_mm256_max_ps(v, ta), tb);
            q[k] = _mm256_add_epi32(_mm256_cvtps_epi32(v), vzy);
        }
        // Packs work within 128-bit halves: dword j of the result holds q[j / 2 % 4]'s quad j % 2, reordered.
        const __m256i w0 = _mm256_packs_epi32(q[0], q[1]), w1 = _mm256_packs_epi32(q[2], q[3]);
        const __m256i bytes = out_u8 ? _mm256_packus_epi16(w0, w1) : _mm256_packs_epi16(w0, w1);
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_permutevar8x32_epi32(bytes, order));
    }
    return i;
}

AVX2_TARGET size_t cedge_qadd_avx2(size_t n, int in_u8, int out_u8, const void *a, float sa, float za, const void *b,
                                   float sb, float zb, float floor, float sy, int zy, void *y) {
    const uint8_t *pa = a, *pb = b;
    uint8_t *py = y;
    if (in_u8 && out_u8) return add_avx2(n, 1, 1, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
    if (in_u8) return add_avx2(n, 1, 0, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
    if (out_u8) return add_avx2(n, 0, 1, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
    return add_avx2(n, 0, 0, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
}

// ---- AVX-512BW: 64 elements a step, 16 lanes at a time -------------------------------------------------------
AVX512_TARGET static inline __m512 widen16(int in_u8, const void *p) {
    const __m128i b = _mm_loadu_si128((const __m128i *)p);
    return _mm512_cvtepi32_ps(in_u8 ? _mm512_cvtepu8_epi32(b) : _mm512_cvtepi8_epi32(b));
}

AVX512_TARGET static inline __attribute__((always_inline)) size_t add_avx512(size_t n, int in_u8, int out_u8,
        const uint8_t *a, float sa, float za, const uint8_t *b, float sb, float zb, float floor, float sy, int zy,
        uint8_t *y) {
    const float lo = out_u8 ? 0.0f : -128.0f, hi = out_u8 ? 255.0f : 127.0f;
    const __m512 vza = _mm512_set1_ps(za), vsa = _mm512_set1_ps(sa), vzb = _mm512_set1_ps(zb), vsb = _mm512_set1_ps(sb);
    const __m512 vfloor = _mm512_set1_ps(floor), vsy = _mm512_set1_ps(sy);
    const __m512 ta = _mm512_set1_ps(lo - (float)zy - 1.0f), tb = _mm512_set1_ps(hi - (float)zy + 1.0f);
    const __m512i vzy = _mm512_set1_epi32(zy);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i q[4];
        for (int k = 0; k < 4; k++) {
            const __m512 fa = widen16(in_u8, a + i + 16 * k), fb = widen16(in_u8, b + i + 16 * k);
            __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_sub_ps(fa, vza), vsa), _mm512_mul_ps(_mm512_sub_ps(fb, vzb), vsb));
            v = _mm512_max_ps(v, vfloor);
            v = _mm512_div_ps(v, vsy);
            v = _mm512_min_ps(_mm512_max_ps(v, ta), tb);
            q[k] = _mm512_add_epi32(_mm512_cvtps_epi32(v), vzy);
        }
        // Packs work within 128-bit lanes: dword 4 * lane + k of the result is q[k]'s quad `lane`, reordered.
        const __m512i w0 = _mm512_packs_epi32(q[0], q[1]), w1 = _mm512_packs_epi32(q[2], q[3]);
        const __m512i bytes = out_u8 ? _mm512_packus_epi16(w0, w1) : _mm512_packs_epi16(w0, w1);
        _mm512_storeu_si512(y + i, _mm512_permutexvar_epi32(order, bytes));
    }
    return i;
}

AVX512_TARGET size_t cedge_qadd_avx512(size_t n, int in_u8, int out_u8, const void *a, float sa, float za,
                                       const void *b, float sb, float zb, float floor, float sy, int zy, void *y) {
    const uint8_t *pa = a, *pb = b;
    uint8_t *py = y;
    if (in_u8 && out_u8) return add_avx512(n, 1, 1, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
    if (in_u8) return add_avx512(n, 1, 0, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
    if (out_u8) return add_avx512(n, 0, 1, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
    return add_avx512(n, 0, 0, pa, sa, za, pb, sb, zb, floor, sy, zy, py);
}
#endif

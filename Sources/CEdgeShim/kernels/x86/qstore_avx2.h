// The direct path's requantizing store with AVX2 + FMA, for both x86 tiles: the same operations as
// cedge_qrequant / cedge_qround in the same order (one FMA rounding, clamp, round half to even), so its bytes
// equal the scalar definition's. VCVTPS2DQ rounds half to even in the default rounding mode, as the scalar
// 1.5 * 2^23 trick does (the clamped values are far below 2^22). Full 8-pixel segments with unit pixel
// stride take the vector form.
#ifndef CEDGE_QSTORE_AVX2_H
#define CEDGE_QSTORE_AVX2_H
#include <immintrin.h>
#include <string.h>
#include "../qkernels_internal.h"

__attribute__((target("avx2,fma"))) static inline void cedge_qstore_tile_avx2(
    const cedge_qdirect_args *a, const cedge_qsegs *s, const int32_t *acc, int ld, int rows,
    const int32_t *corr, const float *mult, const float *bias) {
    if (a->out_ws != 1) {
        cedge_qstore_tile(a, s, acc, ld, rows, corr, mult, bias);
        return;
    }
    const __m256 lo = _mm256_set1_ps(a->lo), hi = _mm256_set1_ps(a->hi);
    const __m256i zero = _mm256_set1_epi32(a->out_zero);
    const int kind = a->out_kind;
    const size_t cs = a->out_cs;
    for (int g = 0; g < s->nseg; g++) {
        const int n = s->n[g];
        for (int r = 0; r < rows; r++) {
            const __m256i sum = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(acc + (size_t)r * ld + g * CEDGE_QNR)),
                                                 _mm256_set1_epi32(corr[r]));
            __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(mult[r]), _mm256_set1_ps(bias[r]));
            v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
            if (kind == CEDGE_Q_FLOAT32) {
                float *dst = (float *)s->out[g] + (size_t)r * cs;
                if (n == CEDGE_QNR) {
                    _mm256_storeu_ps(dst, v);
                } else {
                    float tmp[CEDGE_QNR];
                    _mm256_storeu_ps(tmp, v);
                    memcpy(dst, tmp, (size_t)n * 4);
                }
                continue;
            }
            const __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), zero);
            const __m128i l = _mm256_castsi256_si128(q), h = _mm256_extracti128_si256(q, 1);
            // In range after the clamp, so the saturating packs only narrow.
            const __m128i bytes = kind == CEDGE_Q_UINT8 ? _mm_packus_epi16(_mm_packus_epi32(l, h), _mm_setzero_si128())
                                                        : _mm_packs_epi16(_mm_packs_epi32(l, h), _mm_setzero_si128());
            uint8_t *dst = (uint8_t *)s->out[g] + (size_t)r * cs;
            if (n == CEDGE_QNR) {
                _mm_storel_epi64((__m128i *)dst, bytes);
            } else {
                // 4, 2 and 1 byte moves rather than a memcpy call per partial row.
                uint64_t b = (uint64_t)_mm_cvtsi128_si64(bytes);
                if (n & 4) { const uint32_t w = (uint32_t)b; memcpy(dst, &w, 4); dst += 4; b >>= 32; }
                if (n & 2) { const uint16_t w = (uint16_t)b; memcpy(dst, &w, 2); dst += 2; b >>= 16; }
                if (n & 1) *dst = (uint8_t)b;
            }
        }
    }
}
#endif

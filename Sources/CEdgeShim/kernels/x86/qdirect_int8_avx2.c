// Direct int8 tile for AVX2 without VNNI: bytes widened to int16 and multiplied with VPMADDWD, exact (the
// 8-bit VPMADDUBSW would saturate). Each int32 lane holds half of one pixel's quad (two products); the halves
// are added once at the end. Four rows at a time: 8 accumulators + operands fit the 16 ymm registers.
#if defined(__x86_64__)
#include <immintrin.h>
#include "../qkernels_internal.h"
#include "qstore_avx2.h"

#define AVX2_TARGET __attribute__((target("avx2,fma")))

// Row r's weight quad (int16) in every 64-bit lane.
#define ROW_QUAD(W, r) _mm256_permute4x64_epi64((W), (r) * 0x55)

AVX2_TARGET void cedge_qdirect_avx2(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w,
                                    int rows, const int32_t *corr, const float *mult, const float *bias) {
    enum { LD = CEDGE_QSEG * CEDGE_QNR };
    int32_t acc[CEDGE_QMR * LD] __attribute__((aligned(32)));
    const int ntaps = a->ntaps;
    const int32_t *off = a->off;
    for (int g = 0; g < s->nseg; g++) {
        const uint8_t *b = s->seg[g];
        for (int h = 0; h < rows; h += 4) {
            __m256i lo0 = _mm256_setzero_si256(), lo1 = lo0, lo2 = lo0, lo3 = lo0;
            __m256i hi0 = lo0, hi1 = lo0, hi2 = lo0, hi3 = lo0;
            const int8_t *wt = w + h * 4;
            for (int t = 0; t < ntaps; t++, wt += CEDGE_QMR * 4) {
                const __m128i *src = (const __m128i *)(b + off[t]);
                const __m256i xl = _mm256_cvtepu8_epi16(_mm_loadu_si128(src));      // pixels 0-3
                const __m256i xh = _mm256_cvtepu8_epi16(_mm_loadu_si128(src + 1));  // pixels 4-7
                const __m256i W = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wt));
                __m256i q = ROW_QUAD(W, 0);
                lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(xl, q));
                hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(xh, q));
                q = ROW_QUAD(W, 1);
                lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(xl, q));
                hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(xh, q));
                q = ROW_QUAD(W, 2);
                lo2 = _mm256_add_epi32(lo2, _mm256_madd_epi16(xl, q));
                hi2 = _mm256_add_epi32(hi2, _mm256_madd_epi16(xh, q));
                q = ROW_QUAD(W, 3);
                lo3 = _mm256_add_epi32(lo3, _mm256_madd_epi16(xl, q));
                hi3 = _mm256_add_epi32(hi3, _mm256_madd_epi16(xh, q));
            }
            // hadd gives pixels (0 1 4 5 | 2 3 6 7); the permute puts them in order.
            int32_t *dst = acc + h * LD + g * CEDGE_QNR;
            _mm256_store_si256((__m256i *)(dst + 0 * LD), _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo0, hi0), 0xD8));
            _mm256_store_si256((__m256i *)(dst + 1 * LD), _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo1, hi1), 0xD8));
            _mm256_store_si256((__m256i *)(dst + 2 * LD), _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo2, hi2), 0xD8));
            _mm256_store_si256((__m256i *)(dst + 3 * LD), _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo3, hi3), 0xD8));
        }
    }
    cedge_qstore_tile_avx2(a, s, acc, LD, rows, corr, mult, bias);
}
#endif

// Direct int8 tile with VPDPBUSD (AVX-512 VNNI on 256-bit vectors): u8 activations x s8 weights, four
// products summed exactly into each int32 lane per instruction. 8 rows x 2 segments = 16 accumulators of the
// 32 EVEX registers; the weight quad of a row is a broadcast. Compiled with a target attribute and only
// called after cpuid reports the extensions.
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "../qkernels_internal.h"
#include "qstore_avx2.h"

#define VNNI_TARGET __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))

VNNI_TARGET static inline __m256i bcast32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

VNNI_TARGET void cedge_qdirect_avx512vnni(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w,
                                          int rows, const int32_t *corr, const float *mult, const float *bias) {
    enum { LD = CEDGE_QSEG * CEDGE_QNR };
    int32_t acc[CEDGE_QMR * LD] __attribute__((aligned(32)));
    const int ntaps = a->ntaps;
    const int32_t *off = a->off;
    for (int g = 0; g < s->nseg; g += 2) {
        const uint8_t *b0 = s->seg[g], *b1 = g + 1 < s->nseg ? s->seg[g + 1] : b0;
        __m256i c[CEDGE_QMR][2];
        for (int r = 0; r < CEDGE_QMR; r++) c[r][0] = c[r][1] = _mm256_setzero_si256();
        const int8_t *wt = w;
        for (int t = 0; t < ntaps; t++, wt += CEDGE_QMR * 4) {
            const __m256i x0 = _mm256_loadu_si256((const __m256i *)(b0 + off[t]));
            const __m256i x1 = _mm256_loadu_si256((const __m256i *)(b1 + off[t]));
#pragma clang loop unroll(full)
            for (int r = 0; r < CEDGE_QMR; r++) {
                const __m256i wr = bcast32(wt + 4 * r);
                c[r][0] = _mm256_dpbusd_epi32(c[r][0], x0, wr);
                c[r][1] = _mm256_dpbusd_epi32(c[r][1], x1, wr);
            }
        }
        for (int r = 0; r < CEDGE_QMR; r++) {
            _mm256_store_si256((__m256i *)(acc + r * LD + g * CEDGE_QNR), c[r][0]);
            if (g + 1 < s->nseg) _mm256_store_si256((__m256i *)(acc + r * LD + (g + 1) * CEDGE_QNR), c[r][1]);
        }
    }
    cedge_qstore_tile_avx2(a, s, acc, LD, rows, corr, mult, bias);
}
#endif

// Direct int8 tile with VPDPBUSD (AVX-512 VNNI): u8 activations x s8 weights, four products summed exactly into
// each int32 lane per instruction. A 512-bit vector holds two 8-pixel segments (the second in the upper half),
// so one call's 4 segments are 2 vectors; 8 rows x 2 = 16 accumulators of the 32 registers, and a row's weight
// quad is an embedded broadcast. Compiled with a target attribute, only called after cpuid reports it.
#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>
#include "../qkernels_internal.h"

#define VNNI_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))

VNNI_TARGET static inline __m512i bcast32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

// Segments a and b (8 pixels each) at tap offset off, side by side.
VNNI_TARGET static inline __m512i pair(const uint8_t *a, const uint8_t *b, int32_t off) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(a + off))),
                              _mm256_loadu_si256((const __m256i *)(b + off)), 1);
}

// The requantizing store straight from the accumulators, two segments per 512-bit vector: the operations of
// cedge_qrequant / cedge_qround in the same order (one FMA rounding, clamp, VCVTPS2DQ's round half to even),
// so the bytes equal the scalar definition's; partial segments store under a mask.
VNNI_TARGET static void store_pairs(const cedge_qdirect_args *a, const cedge_qsegs *s, __m512i c[CEDGE_QMR][2],
                                    int rows, const int32_t *corr, const float *mult, const float *bias) {
    const __m512 lo = _mm512_set1_ps(a->lo), hi = _mm512_set1_ps(a->hi);
    const __m512i zero = _mm512_set1_epi32(a->out_zero);
    const size_t cs = a->out_cs;
    for (int h = 0; h < 2 && 2 * h < s->nseg; h++) {
        const int g0 = 2 * h, g1 = g0 + 1 < s->nseg ? g0 + 1 : -1;
        const __mmask8 m0 = (__mmask8)((1u << s->n[g0]) - 1), m1 = g1 < 0 ? 0 : (__mmask8)((1u << s->n[g1]) - 1);
        for (int r = 0; r < rows; r++) {
            const __m512i sum = _mm512_sub_epi32(c[r][h], _mm512_set1_epi32(corr[r]));
            __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(mult[r]), _mm512_set1_ps(bias[r]));
            v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
            if (a->out_kind == CEDGE_Q_FLOAT32) {
                _mm256_mask_storeu_ps((float *)s->out[g0] + (size_t)r * cs, m0, _mm512_castps512_ps256(v));
                if (g1 >= 0) _mm256_mask_storeu_ps((float *)s->out[g1] + (size_t)r * cs, m1, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
                continue;
            }
            // In range after the clamp, so truncating each lane to its low byte is exact for u8 and s8.
            const __m128i q = _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(v), zero));
            _mm_mask_storeu_epi8((uint8_t *)s->out[g0] + (size_t)r * cs, m0, q);
            if (g1 >= 0) _mm_mask_storeu_epi8((uint8_t *)s->out[g1] + (size_t)r * cs, m1, _mm_srli_si128(q, 8));
        }
    }
}

VNNI_TARGET void cedge_qdirect_avx512vnni(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w,
                                          int rows, const int32_t *corr, const float *mult, const float *bias) {
    enum { LD = CEDGE_QSEG * CEDGE_QNR };
    int32_t acc[CEDGE_QMR * LD] __attribute__((aligned(64)));
    const int ntaps = a->ntaps;
    const int32_t *off = a->off;
    // Missing segments repeat the last one: computed, never stored.
    const uint8_t *seg[CEDGE_QSEG];
    for (int g = 0; g < CEDGE_QSEG; g++) seg[g] = s->seg[g < s->nseg ? g : s->nseg - 1];
    __m512i c[CEDGE_QMR][2];
    for (int r = 0; r < CEDGE_QMR; r++) c[r][0] = c[r][1] = _mm512_setzero_si512();
    const int8_t *wt = w;
    if (s->nseg > 2) {
        for (int t = 0; t < ntaps; t++, wt += CEDGE_QMR * 4) {
            const __m512i x0 = pair(seg[0], seg[1], off[t]), x1 = pair(seg[2], seg[3], off[t]);
#pragma clang loop unroll(full)
            for (int r = 0; r < CEDGE_QMR; r++) {
                const __m512i wr = bcast32(wt + 4 * r);
                c[r][0] = _mm512_dpbusd_epi32(c[r][0], x0, wr);
                c[r][1] = _mm512_dpbusd_epi32(c[r][1], x1, wr);
            }
        }
    } else {
        for (int t = 0; t < ntaps; t++, wt += CEDGE_QMR * 4) {
            const __m512i x0 = pair(seg[0], seg[1], off[t]);
#pragma clang loop unroll(full)
            for (int r = 0; r < CEDGE_QMR; r++) c[r][0] = _mm512_dpbusd_epi32(c[r][0], x0, bcast32(wt + 4 * r));
        }
    }
    if (a->out_ws != 1) {
        for (int r = 0; r < CEDGE_QMR; r++) {
            _mm512_store_si512((__m512i *)(acc + r * LD), c[r][0]);
            _mm512_store_si512((__m512i *)(acc + r * LD + 2 * CEDGE_QNR), c[r][1]);
        }
        cedge_qstore_tile(a, s, acc, LD, rows, corr, mult, bias);
        return;
    }
    store_pairs(a, s, c, rows, corr, mult, bias);
}
#endif

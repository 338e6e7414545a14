// Direct int8 tiles for NEON, signed activations x signed weights. The baseline tile (aarch64 and armv7)
// multiplies with vmull_s8 (exact int16 products) and accumulates product pairs with vpadal; each int32 lane
// then holds half of one pixel's quad, added once at the end. The SDOT tile (ARMv8.2 dot product) sums a
// whole quad per lane; it is compiled with a target attribute and only chosen when HWCAP_ASIMDDP is set.
#if defined(__aarch64__) || defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>
#include "../qkernels_internal.h"

enum { LD = CEDGE_QSEG * CEDGE_QNR };

// Row quad w[0..3] repeated twice (8 bytes), the pattern vmull_s8 meets two pixels with.
static inline int8x8_t quad_twice(const int8_t *w) {
    int32_t v;
    memcpy(&v, w, 4);
    return vreinterpret_s8_s32(vdup_n_s32(v));
}

// Sums the two halves of each pixel: lanes (p0a p0b p1a p1b) -> (p0 p1).
static inline int32x2_t pixel_pairs(int32x4_t v) { return vpadd_s32(vget_low_s32(v), vget_high_s32(v)); }

void cedge_qdirect_neon(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                        const int32_t *corr, const float *mult, const float *bias) {
    int32_t acc[CEDGE_QMR * LD] __attribute__((aligned(16)));
    const int ntaps = a->ntaps;
    const int32_t *off = a->off;
    for (int g = 0; g < s->nseg; g++) {
        const int8_t *b = (const int8_t *)s->seg[g];
        for (int r = 0; r < rows; r += 2) {
            int32x4_t c0[4], c1[4];   // rows r, r + 1; pixel pairs 0-1, 2-3, 4-5, 6-7
            for (int i = 0; i < 4; i++) c0[i] = c1[i] = vdupq_n_s32(0);
            const int8_t *wt = w + r * 4;
            for (int t = 0; t < ntaps; t++, wt += CEDGE_QMR * 4) {
                const int8x16_t x01 = vld1q_s8(b + off[t]), x23 = vld1q_s8(b + off[t] + 16);
                const int8x8_t x[4] = {vget_low_s8(x01), vget_high_s8(x01), vget_low_s8(x23), vget_high_s8(x23)};
                const int8x8_t w0 = quad_twice(wt), w1 = quad_twice(wt + 4);
                for (int i = 0; i < 4; i++) {
                    c0[i] = vpadalq_s16(c0[i], vmull_s8(x[i], w0));
                    c1[i] = vpadalq_s16(c1[i], vmull_s8(x[i], w1));
                }
            }
            int32_t *d0 = acc + r * LD + g * CEDGE_QNR, *d1 = d0 + LD;
            vst1q_s32(d0, vcombine_s32(pixel_pairs(c0[0]), pixel_pairs(c0[1])));
            vst1q_s32(d0 + 4, vcombine_s32(pixel_pairs(c0[2]), pixel_pairs(c0[3])));
            vst1q_s32(d1, vcombine_s32(pixel_pairs(c1[0]), pixel_pairs(c1[1])));
            vst1q_s32(d1 + 4, vcombine_s32(pixel_pairs(c1[2]), pixel_pairs(c1[3])));
        }
    }
    cedge_qstore_tile(a, s, acc, LD, rows, corr, mult, bias);
}

#if defined(__aarch64__)
// 8 rows x 8 pixels per segment: 16 accumulators + 4 operands of aarch64's 32 vector registers.
__attribute__((target("arch=armv8.2-a+dotprod")))
void cedge_qdirect_neon_dotprod(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                                const int32_t *corr, const float *mult, const float *bias) {
    int32_t acc[CEDGE_QMR * LD] __attribute__((aligned(16)));
    const int ntaps = a->ntaps;
    const int32_t *off = a->off;
    for (int g = 0; g < s->nseg; g++) {
        const int8_t *b = (const int8_t *)s->seg[g];
        int32x4_t c[CEDGE_QMR][2];
        for (int r = 0; r < CEDGE_QMR; r++) c[r][0] = c[r][1] = vdupq_n_s32(0);
        const int8_t *wt = w;
        for (int t = 0; t < ntaps; t++, wt += CEDGE_QMR * 4) {
            const int8x16_t x0 = vld1q_s8(b + off[t]), x1 = vld1q_s8(b + off[t] + 16);
            const int8x16_t w0 = vld1q_s8(wt), w1 = vld1q_s8(wt + 16);
            c[0][0] = vdotq_laneq_s32(c[0][0], x0, w0, 0);
            c[0][1] = vdotq_laneq_s32(c[0][1], x1, w0, 0);
            c[1][0] = vdotq_laneq_s32(c[1][0], x0, w0, 1);
            c[1][1] = vdotq_laneq_s32(c[1][1], x1, w0, 1);
            c[2][0] = vdotq_laneq_s32(c[2][0], x0, w0, 2);
            c[2][1] = vdotq_laneq_s32(c[2][1], x1, w0, 2);
            c[3][0] = vdotq_laneq_s32(c[3][0], x0, w0, 3);
            c[3][1] = vdotq_laneq_s32(c[3][1], x1, w0, 3);
            c[4][0] = vdotq_laneq_s32(c[4][0], x0, w1, 0);
            c[4][1] = vdotq_laneq_s32(c[4][1], x1, w1, 0);
            c[5][0] = vdotq_laneq_s32(c[5][0], x0, w1, 1);
            c[5][1] = vdotq_laneq_s32(c[5][1], x1, w1, 1);
            c[6][0] = vdotq_laneq_s32(c[6][0], x0, w1, 2);
            c[6][1] = vdotq_laneq_s32(c[6][1], x1, w1, 2);
            c[7][0] = vdotq_laneq_s32(c[7][0], x0, w1, 3);
            c[7][1] = vdotq_laneq_s32(c[7][1], x1, w1, 3);
        }
        for (int r = 0; r < CEDGE_QMR; r++) {
            vst1q_s32(acc + r * LD + g * CEDGE_QNR, c[r][0]);
            vst1q_s32(acc + r * LD + g * CEDGE_QNR + 4, c[r][1]);
        }
    }
    cedge_qstore_tile(a, s, acc, LD, rows, corr, mult, bias);
}
#endif
#endif

// Quantized convolution (and Gemm as a 1x1 convolution). 1-D/2-D convolutions with one group take the direct
// path (qconv_int8_direct.c); the rest (3-D, grouped) take this file's im2col path: int8 patches per block of
// output pixels, 4x4 int32 dot tiles from the run-time chosen ISA, then the shared requantization.
#include <math.h>
#include <string.h>
#include "cedge_qkernels.h"
#include "kernels_internal.h"
#include "qconv_int8_plan.h"
#include "qkernels_internal.h"

// Output pixels per task: a multiple of the tile width, small enough that a block of patches stays in L1/L2.
#define QBLOCK 32

typedef struct {
    int groups, icg, ocg, kg, kpad, mpad;
    size_t pixels;   // batch * out_plane
    cedge_geom3 g;
} qshape;

static int round_up(int n, int to) { return (n + to - 1) / to * to; }

static void qshape_of(const cedge_qconv_desc *d, qshape *s) {
    cedge_geom_from_conv(&d->conv, &s->g);
    s->groups = d->conv.groups > 0 ? d->conv.groups : 1;
    s->icg = d->conv.in_channels / s->groups;
    s->ocg = d->conv.out_channels / s->groups;
    s->kg = s->icg * (int)s->g.ker_vol;
    s->kpad = round_up(s->kg > 0 ? s->kg : 1, CEDGE_QK_ALIGN);
    s->mpad = round_up(s->ocg, CEDGE_QTILE);
    s->pixels = (size_t)d->conv.batch * s->g.out_plane;
}

size_t cedge_qconv_packed_bytes(const cedge_qconv_desc *d) {
    qshape s;
    qshape_of(d, &s);
    if (cedge_qdirect_applies(d, &s.g)) return cedge_qdirect_packed_bytes(d, &s.g);
    return (size_t)s.groups * s.mpad * s.kpad;
}

size_t cedge_qconv_rowsum_count(const cedge_qconv_desc *d) {
    qshape s;
    qshape_of(d, &s);
    if (cedge_qdirect_applies(d, &s.g)) return cedge_qdirect_rowsum_count(d);
    return (size_t)s.groups * s.mpad;
}

void cedge_qconv_pack(const cedge_qconv_desc *d, const int8_t *w, int8_t *packed, int32_t *rowsum) {
    qshape s;
    qshape_of(d, &s);
    if (cedge_qdirect_applies(d, &s.g)) {
        cedge_qdirect_pack(d, &s.g, w, packed, rowsum);
        return;
    }
    memset(packed, 0, (size_t)s.groups * s.mpad * s.kpad);
    for (int g = 0; g < s.groups; g++)
        for (int m = 0; m < s.mpad; m++) {
            int32_t sum = 0;
            if (m < s.ocg) {
                const int8_t *src = w + ((size_t)g * s.ocg + m) * s.kg;
                int8_t *dst = packed + ((size_t)g * s.mpad + m) * s.kpad;
                for (int k = 0; k < s.kg; k++) {
                    dst[k] = src[k];
                    sum += src[k];
                }
            }
            rowsum[g * s.mpad + m] = sum;
        }
}

// Stores one requantized value (cedge_qrequant / cedge_qround: the definition every path shares).
static inline void store_out(const cedge_qconv_desc *d, void *y, size_t at, int32_t acc, float mult, float bias) {
    const float v = cedge_qrequant(acc, mult, bias, d->out_lo, d->out_hi);
    switch (d->out_kind) {
    case CEDGE_Q_UINT8: ((uint8_t *)y)[at] = (uint8_t)(cedge_qround(v) + d->out_zero); break;
    case CEDGE_Q_INT8: ((int8_t *)y)[at] = (int8_t)(cedge_qround(v) + d->out_zero); break;
    default: ((float *)y)[at] = v; break;
    }
}

// Patches of pixels [p0, p0 + QBLOCK) of group g, one kpad row each; rows past the last pixel and columns
// past kg are zero. Padding cells hold the zero point, which the rowsum correction cancels exactly.
// uint8 data becomes int8 by flipping the top bit (x - 128), so the loop has no per-element type branch.
static void im2col(const cedge_qconv_desc *d, const qshape *s, const void *x, int g, size_t p0, int8_t *dst,
                   int8_t zs) {
    // Everything in locals: int8 stores may alias any memory, so fields read through pointers would be
    // reloaded after every byte written.
    const cedge_geom3 *G = &s->g;
    const uint8_t *src = (const uint8_t *)x;
    const uint8_t flip = d->in_kind == CEDGE_Q_UINT8 ? 0x80u : 0u;
    const size_t in_plane = G->in_plane, out_plane = G->out_plane, pixels = s->pixels;
    const int kpad = s->kpad, kg = s->kg, icg = s->icg, in_channels = d->conv.in_channels;
    const int ID = G->in[0], IH = G->in[1], IW = G->in[2], OH = G->out[1], OW = G->out[2];
    const int KD = G->ker[0], KH = G->ker[1], KW = G->ker[2];
    const int SD = G->str[0], SH = G->str[1], SW = G->str[2], PD = G->pad[0], PH = G->pad[1], PW = G->pad[2];
    const int DD = G->dil[0], DH = G->dil[1], DW = G->dil[2];
    for (int i = 0; i < QBLOCK; i++) {
        size_t p = p0 + (size_t)i;
        int8_t *row = dst + (size_t)i * kpad;
        if (p >= pixels) {
            memset(row, 0, (size_t)kpad);
            continue;
        }
        memset(row + kg, 0, (size_t)(kpad - kg));
        size_t b = p / out_plane, o = p % out_plane;
        int ow = (int)(o % (size_t)OW);
        int oh = (int)((o / (size_t)OW) % (size_t)OH);
        int od = (int)(o / ((size_t)OW * OH));
        // Most pixels' windows lie inside the row: copy those without a bounds test per tap.
        const int iw0 = ow * SW - PW;
        const int interior_w = iw0 >= 0 && iw0 + (KW - 1) * DW < IW;
        int k = 0;
        for (int c = 0; c < icg; c++) {
            const uint8_t *plane = src + ((size_t)b * in_channels + (size_t)g * icg + c) * in_plane;
            for (int kd = 0; kd < KD; kd++) {
                const int id = od * SD - PD + kd * DD;
                for (int kh = 0; kh < KH; kh++) {
                    const int ih = oh * SH - PH + kh * DH;
                    if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                        memset(row + k, (uint8_t)zs, (size_t)KW);
                        k += KW;
                        continue;
                    }
                    const uint8_t *line = plane + ((size_t)id * IH + ih) * IW + iw0;
                    if (interior_w) {
                        for (int kw = 0; kw < KW; kw++) row[k + kw] = (int8_t)(line[kw * DW] ^ flip);
                    } else {
                        for (int kw = 0; kw < KW; kw++) {
                            const int iw = iw0 + kw * DW;
                            row[k + kw] = (iw >= 0 && iw < IW) ? (int8_t)(line[kw * DW] ^ flip) : zs;
                        }
                    }
                    k += KW;
                }
            }
        }
    }
}

typedef struct {
    const cedge_qconv_desc *d;
    const qshape *s;
    const void *x;
    const int8_t *packed;
    const int32_t *rowsum;
    const float *mult, *bias;
    void *y;
    cedge_qdot_fn dot;
    int8_t zs;
} qjob;

static void qconv_task(void *ctx, int task, int tid) {
    const qjob *j = ctx;
    const qshape *s = j->s;
    // Locals again: the byte stores of the epilogue would otherwise force reloads of every field.
    const size_t p0 = (size_t)task * QBLOCK, pixels = s->pixels, out_plane = s->g.out_plane;
    const int kpad = s->kpad, mpad = s->mpad, ocg = s->ocg, groups = s->groups;
    const size_t out_channels = (size_t)j->d->conv.out_channels;
    const int32_t zs = j->zs;
    const cedge_qdot_fn dot = j->dot;
    const float *mult = j->mult, *bias = j->bias;
    int8_t *patches = (int8_t *)cedge_scratch(tid, CEDGE_SCR_PACK_B, ((size_t)QBLOCK * kpad + 3) / 4);
    int32_t acc[CEDGE_QTILE * CEDGE_QTILE];
    for (int g = 0; g < groups; g++) {
        im2col(j->d, s, j->x, g, p0, patches, j->zs);
        for (int mt = 0; mt < mpad; mt += CEDGE_QTILE) {
            const int8_t *wt = j->packed + ((size_t)g * mpad + mt) * kpad;
            int32_t corr[CEDGE_QTILE];
            for (int r = 0; r < CEDGE_QTILE; r++) corr[r] = zs * j->rowsum[g * mpad + mt + r];
            for (int pt = 0; pt < QBLOCK; pt += CEDGE_QTILE) {
                if (p0 + (size_t)pt >= pixels) break;
                dot(kpad, wt, patches + (size_t)pt * kpad, acc);
                for (int c = 0; c < CEDGE_QTILE; c++) {
                    size_t p = p0 + (size_t)pt + c;
                    if (p >= pixels) break;
                    size_t b = p / out_plane, o = p % out_plane;
                    size_t at0 = b * out_channels * out_plane + o;
                    for (int r = 0; r < CEDGE_QTILE && mt + r < ocg; r++) {
                        const int m = g * ocg + mt + r;
                        store_out(j->d, j->y, at0 + (size_t)m * out_plane, acc[r * CEDGE_QTILE + c] - corr[r], mult[m], bias[m]);
                    }
                }
            }
        }
    }
}

void cedge_qconv_run(const cedge_qconv_desc *d, const void *x, const int8_t *packed, const int32_t *rowsum,
                     const float *mult, const float *bias, void *y) {
    qshape s;
    qshape_of(d, &s);
    if (s.pixels == 0 || d->conv.out_channels <= 0) return;
    const cedge_qdirect_path *path = cedge_qpath_active();
    if (cedge_qdirect_applies(d, &s.g)) {
        cedge_qdirect_run(d, &s.g, path, x, packed, rowsum, mult, bias, y);
        return;
    }
    qjob j = {d, &s, x, packed, rowsum, mult, bias, y, path->dot,
              (int8_t)(d->in_kind == CEDGE_Q_UINT8 ? d->in_zero - 128 : d->in_zero)};
    cedge_parallel_for((int)((s.pixels + QBLOCK - 1) / QBLOCK), qconv_task, &j);
}

void cedge_qconv_reference(const cedge_qconv_desc *d, const void *x, const int8_t *w, const float *mult,
                           const float *bias, void *y) {
    qshape s;
    qshape_of(d, &s);
    const cedge_geom3 *G = &s.g;
    for (size_t p = 0; p < s.pixels; p++) {
        size_t b = p / G->out_plane, o = p % G->out_plane;
        int ow = (int)(o % (size_t)G->out[2]);
        int oh = (int)((o / (size_t)G->out[2]) % (size_t)G->out[1]);
        int od = (int)(o / ((size_t)G->out[2] * G->out[1]));
        for (int m = 0; m < d->conv.out_channels; m++) {
            int g = m / s.ocg;
            int32_t acc = 0;
            const int8_t *wm = w + (size_t)m * s.kg;
            int k = 0;
            for (int c = 0; c < s.icg; c++)
                for (int kd = 0; kd < G->ker[0]; kd++)
                    for (int kh = 0; kh < G->ker[1]; kh++)
                        for (int kw = 0; kw < G->ker[2]; kw++, k++) {
                            int id = od * G->str[0] - G->pad[0] + kd * G->dil[0];
                            int ih = oh * G->str[1] - G->pad[1] + kh * G->dil[1];
                            int iw = ow * G->str[2] - G->pad[2] + kw * G->dil[2];
                            if (id < 0 || id >= G->in[0] || ih < 0 || ih >= G->in[1] || iw < 0 || iw >= G->in[2])
                                continue;   // padding is the zero point: contributes nothing
                            size_t at = ((size_t)b * d->conv.in_channels + (size_t)g * s.icg + c) * G->in_plane +
                                        ((size_t)id * G->in[1] + ih) * G->in[2] + iw;
                            int32_t xv = d->in_kind == CEDGE_Q_UINT8 ? ((const uint8_t *)x)[at] : ((const int8_t *)x)[at];
                            acc += (xv - d->in_zero) * wm[k];
                        }
            store_out(d, y, ((size_t)b * d->conv.out_channels + m) * G->out_plane + o, acc, mult[m], bias[m]);
        }
    }
}

void cedge_qdot_generic(int kpad, const int8_t *w, const int8_t *p, int32_t *acc) {
    for (int r = 0; r < CEDGE_QTILE; r++)
        for (int c = 0; c < CEDGE_QTILE; c++) {
            int32_t sum = 0;
            const int8_t *wr = w + (size_t)r * kpad, *pc = p + (size_t)c * kpad;
            for (int k = 0; k < kpad; k++) sum += (int32_t)wr[k] * pc[k];
            acc[r * CEDGE_QTILE + c] = sum;
        }
}

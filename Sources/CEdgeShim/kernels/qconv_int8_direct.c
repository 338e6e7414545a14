// Direct int8 convolution for 1-D/2-D convolutions with one group (every Conv and Gemm of a typical CNN).
// Each run repacks the input once into channel-quad planes, one per column phase of the stride and padded
// with the zero point: [channel / 4][phase][padded row][column][4 bytes]. A tap of 8 consecutive output
// pixels is then 32 contiguous bytes, so the kernels read the input in place: no im2col, whose copy (K bytes
// per output pixel, byte by byte) cost more than the arithmetic. The repack moves 16 columns per vector step
// and lets the last step of a row run whole (reading past the row while the input tensor goes on, writing
// into the next row before it is written): rows of these models are 7 to 28 columns, where byte-wise tails
// cost a third of the int8 run.
#include <string.h>
#if defined(__x86_64__)
#include <emmintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif
#include "kernels_internal.h"
#include "qconv_int8_plan.h"
#include "qkernels_internal.h"

int cedge_qdirect_applies(const cedge_qconv_desc *d, const cedge_geom3 *g) {
    const int groups = d->conv.groups > 0 ? d->conv.groups : 1;
    return groups == 1 && g->in[0] == 1 && g->out[0] == 1 && g->ker[0] == 1;
}

static int round_up(int n, int to) { return (n + to - 1) / to * to; }

// The virtual image a run works on. A Gemm (1x1 kernel on 1x1 planes) becomes one image whose row is the
// batch, so its "pixels" are batch items and its segments fill.
typedef struct {
    int images, C, M, c4, ntiles, ntaps;
    int IH, IW, OH, OW, KH, KW, SH, SW, DH, DW, PH, PW;
    size_t in_img, in_cs, in_hs, in_ws;     // input element strides
    size_t out_img, out_cs, out_hs, out_ws; // output element strides
    int rows_per_task, blocks, hp, wq;      // repacked rows per task (padded), phase-plane width
    // One input channel: the quads hold 4 horizontal taps of the window instead of 4 channels (a 3x3 kernel
    // is 3 taps of 4 lanes, not 9), so the plane is [kw / 4][row][output column][4 bytes], one phase.
    int window;
    int tw, phases;                         // taps per row of the kernel and column phases, as repacked
} dplan;

static void plan(const cedge_qconv_desc *d, const cedge_geom3 *g, dplan *p) {
    memset(p, 0, sizeof *p);
    p->C = d->conv.in_channels;
    p->M = d->conv.out_channels;
    p->c4 = (p->C + 3) / 4;
    p->ntiles = (p->M + CEDGE_QMR - 1) / CEDGE_QMR;
    p->KH = g->ker[1]; p->KW = g->ker[2];
    p->SH = g->str[1]; p->SW = g->str[2];
    p->DH = g->dil[1]; p->DW = g->dil[2];
    p->PH = g->pad[1]; p->PW = g->pad[2];
    p->window = p->C == 1 && p->KW > 1;
    p->tw = p->window ? 1 : p->KW;
    p->phases = p->window ? 1 : p->SW;
    if (p->window) p->c4 = (p->KW + 3) / 4;
    p->ntaps = p->c4 * p->KH * p->tw;
    if (g->in_plane == 1 && g->out_plane == 1 && g->ker_vol == 1) {
        p->images = 1;
        p->IH = p->OH = 1;
        p->IW = p->OW = d->conv.batch;
        p->in_cs = 1; p->in_ws = (size_t)p->C; p->in_hs = 0; p->in_img = 0;
        p->out_cs = 1; p->out_ws = (size_t)p->M; p->out_hs = 0; p->out_img = 0;
        p->SH = p->SW = p->DH = p->DW = 1;
        p->PH = p->PW = 0;
        p->phases = 1;
    } else {
        p->images = d->conv.batch;
        p->IH = g->in[1]; p->IW = g->in[2];
        p->OH = g->out[1]; p->OW = g->out[2];
        p->in_ws = 1; p->in_hs = (size_t)p->IW; p->in_cs = g->in_plane; p->in_img = (size_t)p->C * g->in_plane;
        p->out_ws = 1; p->out_hs = (size_t)p->OW; p->out_cs = g->out_plane; p->out_img = (size_t)p->M * g->out_plane;
    }
    // Column index of tap kw in its phase plane is ow + (kw * DW) / SW; every segment reads 8 pixels.
    p->wq = p->window ? round_up(p->OW, CEDGE_QNR) : (p->KW - 1) * p->DW / p->SW + round_up(p->OW, CEDGE_QNR);
    // Whole images when the batch shares out evenly (or is large); one band of rows per thread when the threads
    // share out over the images (batch 1); else twice the threads' tasks, for balance. A band repacks its rows
    // plus the window's halo, so more bands than threads cost more than they balance: at batch 1, two bands
    // per thread made the edge model 1.13x slower on 2 threads and 1.04x on 1.
    const int threads = cedge_pool_width();
    int blocks = 1;
    if (threads > 1 && p->images % threads != 0 && p->images < 2 * threads)
        blocks = threads % p->images == 0 ? threads / p->images : (2 * threads + p->images - 1) / p->images;
    if (blocks > p->OH) blocks = p->OH;
    if (blocks < 1) blocks = 1;
    p->rows_per_task = (p->OH + blocks - 1) / blocks;
    p->blocks = (p->OH + p->rows_per_task - 1) / p->rows_per_task;
    p->hp = (p->rows_per_task - 1) * p->SH + (p->KH - 1) * p->DH + 1;
}

size_t cedge_qdirect_packed_bytes(const cedge_qconv_desc *d, const cedge_geom3 *g) {
    dplan p;
    plan(d, g, &p);
    return (size_t)p.ntiles * p.ntaps * CEDGE_QMR * 4;
}

size_t cedge_qdirect_rowsum_count(const cedge_qconv_desc *d) {
    return (size_t)(d->conv.out_channels + CEDGE_QMR - 1) / CEDGE_QMR * CEDGE_QMR;
}

void cedge_qdirect_pack(const cedge_qconv_desc *d, const cedge_geom3 *g, const int8_t *w, int8_t *packed,
                        int32_t *rowsum) {
    dplan p;
    plan(d, g, &p);
    const int kvol = p.KH * p.KW;
    for (int t = 0; t < p.ntiles; t++)
        for (int r = 0; r < CEDGE_QMR; r++) {
            const int m = t * CEDGE_QMR + r;
            int32_t sum = 0;
            // Tap order (quad, kh, kw) as the offsets in cedge_qdirect_run; lane l is channel 4 * quad + l, or in
            // window mode kernel column 4 * quad + l (and kw runs over one value).
            for (int cq = 0; cq < p.c4; cq++)
                for (int kh = 0; kh < p.KH; kh++)
                    for (int kw = 0; kw < p.tw; kw++)
                        for (int l = 0; l < 4; l++) {
                            const int lane = cq * 4 + l;
                            int8_t v = 0;
                            if (m < p.M && p.window && lane < p.KW) v = w[(size_t)m * kvol + (size_t)kh * p.KW + lane];
                            if (m < p.M && !p.window && lane < p.C) v = w[((size_t)m * p.C + lane) * kvol + (size_t)kh * p.KW + kw];
                            const size_t tap = ((size_t)cq * p.KH + kh) * p.tw + kw;
                            packed[(((size_t)t * p.ntaps + tap) * CEDGE_QMR + r) * 4 + l] = v;
                            sum += v;
                        }
            rowsum[m] = sum;
        }
}

typedef struct {
    const cedge_qconv_desc *d;
    const dplan *p;
    const uint8_t *x;
    const int8_t *packed;
    const int32_t *corr;
    const float *mult, *bias;
    uint8_t *y;
    size_t out_elem;
    uint8_t flip, zdom;
    const uint8_t *x_end;                 // one past the input tensor's last byte
    size_t pad_bytes;                     // window mode: bytes of the zero-padded row
    cedge_qdirect_fn kernel;
    cedge_qdirect_args args;
} djob;

// Bytes a whole vector step may read past the last byte a row segment uses (the stride-2 step reads 32 for 16
// columns) and write past the last column; the repack buffer and the blank row carry this much slack, so
// rows of the blank row may always run whole.
#define QPACK_SLACK 64

// dst[4 q + l] = r_l[q] ^ flip for q < n: four channel rows into quads, 16 columns per step with SSE2 unpacks
// or one NEON vst4 (the repack of a 3x3 layer costs as much as its requantizing store otherwise). With
// `over` the last, partial step is a whole one too: it reads up to 15 bytes past each row's n-th and writes up
// to 60 bytes past dst's 4 n-th, which the caller allows; narrow rows (14 or 7 columns) then take no scalar step.
static void interleave4(uint8_t *dst, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                        int n, uint8_t flip, int over) {
    int q = 0;
    const int vec_end = over ? n : n - 15;
#if defined(__x86_64__)
    const __m128i f = _mm_set1_epi8((char)flip);
    for (; q < vec_end; q += 16) {
        const __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r0 + q)), f);
        const __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r1 + q)), f);
        const __m128i c = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r2 + q)), f);
        const __m128i d = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(r3 + q)), f);
        const __m128i ab0 = _mm_unpacklo_epi8(a, b), ab1 = _mm_unpackhi_epi8(a, b);
        const __m128i cd0 = _mm_unpacklo_epi8(c, d), cd1 = _mm_unpackhi_epi8(c, d);
        __m128i *out = (__m128i *)(dst + (size_t)q * 4);
        _mm_storeu_si128(out + 0, _mm_unpacklo_epi16(ab0, cd0));
        _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(ab0, cd0));
        _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(ab1, cd1));
        _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(ab1, cd1));
    }
#elif defined(__ARM_NEON)
    const uint8x16_t f = vdupq_n_u8(flip);
    for (; q < vec_end; q += 16) {
        uint8x16x4_t v;
        v.val[0] = veorq_u8(vld1q_u8(r0 + q), f);
        v.val[1] = veorq_u8(vld1q_u8(r1 + q), f);
        v.val[2] = veorq_u8(vld1q_u8(r2 + q), f);
        v.val[3] = veorq_u8(vld1q_u8(r3 + q), f);
        vst4q_u8(dst + (size_t)q * 4, v);
    }
#else
    (void)vec_end;
#endif
    for (; q < n; q++) {
        dst[q * 4 + 0] = r0[q] ^ flip;
        dst[q * 4 + 1] = r1[q] ^ flip;
        dst[q * 4 + 2] = r2[q] ^ flip;
        dst[q * 4 + 3] = r3[q] ^ flip;
    }
}

// dst[4 q + l] = r_l[2 q] ^ flip for q < n: a stride-2 column phase of four rows, gathered and interleaved in one
// pass. A vector step reads 32 bytes of each row for 16 columns, so without `over` the steps stop while the
// next one would read past r_l[2 (n - 1)]; with it, as interleave4.
static void interleave4_stride2(uint8_t *dst, const uint8_t *const r[4], int n, uint8_t flip, int over) {
    int q = 0;
    const int vec_end = over ? n : n - 16;
#if defined(__x86_64__)
    const __m128i even = _mm_set1_epi16(0x00FF), f = _mm_set1_epi8((char)flip);
    __m128i v[4];
    for (; q < vec_end; q += 16) {
        for (int l = 0; l < 4; l++) {
            const uint8_t *src = r[l] + 2 * (size_t)q;
            const __m128i a = _mm_and_si128(_mm_loadu_si128((const __m128i *)src), even);
            const __m128i b = _mm_and_si128(_mm_loadu_si128((const __m128i *)(src + 16)), even);
            v[l] = _mm_xor_si128(_mm_packus_epi16(a, b), f);
        }
        const __m128i ab0 = _mm_unpacklo_epi8(v[0], v[1]), ab1 = _mm_unpackhi_epi8(v[0], v[1]);
        const __m128i cd0 = _mm_unpacklo_epi8(v[2], v[3]), cd1 = _mm_unpackhi_epi8(v[2], v[3]);
        __m128i *out = (__m128i *)(dst + (size_t)q * 4);
        _mm_storeu_si128(out + 0, _mm_unpacklo_epi16(ab0, cd0));
        _mm_storeu_si128(out + 1, _mm_unpackhi_epi16(ab0, cd0));
        _mm_storeu_si128(out + 2, _mm_unpacklo_epi16(ab1, cd1));
        _mm_storeu_si128(out + 3, _mm_unpackhi_epi16(ab1, cd1));
    }
#elif defined(__ARM_NEON)
    const uint8x16_t f = vdupq_n_u8(flip);
    for (; q < vec_end; q += 16) {
        uint8x16x4_t v;
        for (int l = 0; l < 4; l++) v.val[l] = veorq_u8(vld2q_u8(r[l] + 2 * (size_t)q).val[0], f);
        vst4q_u8(dst + (size_t)q * 4, v);
    }
#else
    (void)vec_end;
#endif
    for (; q < n; q++)
        for (int l = 0; l < 4; l++) dst[q * 4 + l] = r[l][2 * (size_t)q] ^ flip;
}

// Whether any tap reads padded row `row` (strided convolutions skip the rows between their windows) or
// column phase `ph` (a 1x1 kernel with stride 2 reads one of two).
static int row_read(const dplan *p, int row) {
    if (p->SH == 1) return 1;   // row >= 0 always: tap 0 reads it (and this skips a division per row)
    for (int kh = 0; kh < p->KH; kh++) {
        const int base = row - kh * p->DH;
        if (base >= 0 && base % p->SH == 0) return 1;
    }
    return 0;
}

static int phase_read(const dplan *p, int ph) {
    for (int kw = 0; kw < p->KW; kw++)
        if (kw * p->DW % p->SW == ph) return 1;
    return 0;
}

static size_t round16(int n) { return (size_t)(n + 15) / 16 * 16; }

// dst[0, n) = z in whole 16-byte stores (up to 15 bytes past n: the caller's next writes cover them, or the
// buffer's slack does). The pads of a row are a few bytes, where a memset call cost more than the fill.
static void fill_pad(uint8_t *dst, uint8_t z, size_t n) {
#if defined(__x86_64__)
    const __m128i v = _mm_set1_epi8((char)z);
    for (size_t i = 0; i < n; i += 16) _mm_storeu_si128((__m128i *)(dst + i), v);
#elif defined(__ARM_NEON)
    const uint8x16_t v = vdupq_n_u8(z);
    for (size_t i = 0; i < n; i += 16) vst1q_u8(dst + i, v);
#else
    memset(dst, z, n);
#endif
}

// Window mode: lane l of output column q in padded row r is input (r - PH, q * SW + (4 * quad + l) * DW - PW).
// With stride 1 the four lanes are the input row shifted by their kernel columns, so the row is padded once
// (with the zero point) into `pad` and interleaved from four offsets; other strides go a byte at a time.
static void repack_window(const djob *j, const uint8_t *x, int prow0, int prows, uint8_t *buf, const uint8_t *blank,
                          uint8_t *pad) {
    const dplan *p = j->p;
    const uint8_t flip = j->flip, z = j->zdom;
    // Only [PW, PW + IW) of the padded row changes from row to row: its pads are filled once.
    if (p->SW == 1 && p->in_ws == 1) memset(pad, z ^ flip, j->pad_bytes);
    for (int cq = 0; cq < p->c4; cq++)
        for (int r = 0; r < prows; r++) {
            if (!row_read(p, prow0 + r)) continue;
            uint8_t *dst = buf + (((size_t)cq * p->hp + r) * p->wq) * 4;
            const int ih = prow0 + r - p->PH;
            if (ih < 0 || ih >= p->IH) {
                memset(dst, z, (size_t)p->wq * 4);
                continue;
            }
            const uint8_t *row = x + (size_t)ih * p->in_hs;
            if (p->SW == 1 && p->in_ws == 1) {
                memcpy(pad + p->PW, row, (size_t)p->IW);
                const uint8_t *s[4];
                for (int l = 0; l < 4; l++) {
                    const int kw = cq * 4 + l;
                    s[l] = kw < p->KW ? pad + (size_t)kw * p->DW : blank;
                }
                // Rows are written in increasing order, so the last step's overshoot lands on a later row.
                interleave4(dst, s[0], s[1], s[2], s[3], p->wq, flip, 1);
                continue;
            }
            // One lane (kernel column) at a time: columns [qa, qb) read inside the row, without a test.
            for (int l = 0; l < 4; l++) {
                const int kw = cq * 4 + l, shift = kw * p->DW - p->PW;
                int qa = 0, qb = 0;
                if (kw < p->KW) {
                    while (qa < p->OW && qa * p->SW + shift < 0) qa++;
                    qb = qa;
                    while (qb < p->OW && qb * p->SW + shift < p->IW) qb++;
                }
                for (int q = 0; q < qa; q++) dst[q * 4 + l] = z;
                for (int q = qa; q < qb; q++) dst[q * 4 + l] = row[(size_t)(q * p->SW + shift) * p->in_ws] ^ flip;
                for (int q = qb; q < p->wq; q++) dst[q * 4 + l] = z;
            }
        }
}

// Padded rows [prow0, prow0 + prows) of image b, all channel quads and phases, into buf. Rows outside the
// image and channels past C read the blank row, whose bytes become the zero point, so the interior loop has no
// branch and compiles to interleaving shuffles. Rows are written in increasing address order and each row's
// right padding after its interior, so a whole last vector step may spill into the next row: that row is
// written later, or never read.
static void repack(const djob *j, int b, int prow0, int prows, uint8_t *buf, const uint8_t *blank, uint8_t *pad) {
    const dplan *p = j->p;
    const uint8_t *x = j->x + (size_t)b * p->in_img;
    const uint8_t flip = j->flip, z = j->zdom;
    const int wq = p->wq, SW = p->SW, IW = p->IW, PW = p->PW;
    const size_t ws = p->in_ws;
    if (p->window) {
        repack_window(j, x, prow0, prows, buf, blank, pad);
        return;
    }
    for (int cq = 0; cq < p->c4; cq++)
        for (int ph = 0; ph < SW; ph++) {
            if (!phase_read(p, ph)) continue;
            // Columns q whose input column q * SW + ph - PW lies inside the row: [q0, q1).
            int q0 = 0;
            while (q0 < wq && q0 * SW + ph - PW < 0) q0++;
            int q1 = q0;
            while (q1 < wq && q1 * SW + ph - PW < IW) q1++;
            const int n = q1 - q0;
            const size_t at = (size_t)(q0 * SW + ph - PW) * ws;
            const int lanes = p->C - cq * 4 < 4 ? p->C - cq * 4 : 4;   // channels of this quad (rest: blank)
            const size_t need = SW == 1 ? round16(n) : 2 * round16(n);
            const uint8_t *quad = x + (size_t)cq * 4 * p->in_cs + at;
            for (int r = 0; r < prows; r++) {
                if (!row_read(p, prow0 + r)) continue;
                uint8_t *dst = buf + ((((size_t)cq * SW + ph) * p->hp + r) * wq) * 4;
                const int ih = prow0 + r - p->PH;
                const uint8_t *s[4];
                const int inside = ih >= 0 && ih < p->IH;
                const uint8_t *row = inside ? quad + (size_t)ih * p->in_hs : NULL;
                for (int l = 0; l < 4; l++) s[l] = inside && l < lanes ? row + (size_t)l * p->in_cs : blank + at;
                // The vector steps may run whole when the highest input row they read stays in the tensor (the
                // blank row always has the slack).
                const int whole = !inside || s[lanes - 1] + need <= j->x_end;
                // Left pad first: its overshoot lands on the interior, written next.
                fill_pad(dst, z, (size_t)q0 * 4);
                uint8_t *d = dst + (size_t)q0 * 4;
                if (SW == 1 && ws == 1) {
                    interleave4(d, s[0], s[1], s[2], s[3], n, flip, whole);
                } else if (SW == 2 && ws == 1) {
                    interleave4_stride2(d, s, n, flip, whole);
                } else {
                    for (int q = 0; q < n; q++) {
                        const size_t iw = (size_t)q * SW * ws;
                        for (int l = 0; l < 4; l++) d[q * 4 + l] = s[l][iw] ^ flip;
                    }
                }
                fill_pad(dst + (size_t)q1 * 4, z, (size_t)(wq - q1) * 4);
            }
        }
}

static void direct_task(void *ctx, int task, int tid) {
    const djob *j = ctx;
    const dplan *p = j->p;
    const int b = task / p->blocks, blk = task % p->blocks;
    const int oh0 = blk * p->rows_per_task;
    const int oh1 = oh0 + p->rows_per_task < p->OH ? oh0 + p->rows_per_task : p->OH;
    const int prows = (oh1 - oh0 - 1) * p->SH + (p->KH - 1) * p->DH + 1;
    const size_t bytes = (size_t)p->c4 * p->phases * p->hp * p->wq * 4 + QPACK_SLACK;
    uint8_t *buf = (uint8_t *)cedge_scratch(tid, CEDGE_SCR_PACK_B, (bytes + 3) / 4);
    // A blank row spans every column a row pointer is read at (IW, or the batch row of a Gemm times C; wq
    // in window mode), and the slack of the vector steps.
    size_t blank_bytes = (size_t)p->IW * p->in_ws;
    if (blank_bytes < (size_t)p->wq) blank_bytes = (size_t)p->wq;
    blank_bytes += QPACK_SLACK;
    uint8_t *blank = (uint8_t *)cedge_scratch(tid, CEDGE_SCR_AUX, (blank_bytes + 3) / 4);
    memset(blank, j->zdom ^ j->flip, blank_bytes);
    uint8_t *pad = p->window ? (uint8_t *)cedge_scratch(tid, CEDGE_SCR_AUX2, (j->pad_bytes + 3) / 4) : NULL;
    repack(j, b, oh0 * p->SH, prows, buf, blank, pad);

    uint8_t *yimg = j->y + (size_t)b * p->out_img * j->out_elem;
    for (int t = 0; t < p->ntiles; t++) {
        const int m0 = t * CEDGE_QMR;
        const int rows = p->M - m0 < CEDGE_QMR ? p->M - m0 : CEDGE_QMR;
        const int8_t *wt = j->packed + (size_t)t * p->ntaps * CEDGE_QMR * 4;
        cedge_qsegs s;
        s.nseg = 0;
        for (int oh = oh0; oh < oh1; oh++)
            for (int ow = 0; ow < p->OW; ow += CEDGE_QNR) {
                const int g = s.nseg++;
                s.seg[g] = buf + ((size_t)(oh - oh0) * p->SH * p->wq + (size_t)ow) * 4;
                s.out[g] = yimg + ((size_t)m0 * p->out_cs + (size_t)oh * p->out_hs + (size_t)ow * p->out_ws) * j->out_elem;
                s.n[g] = p->OW - ow < CEDGE_QNR ? p->OW - ow : CEDGE_QNR;
                if (s.nseg == CEDGE_QSEG) {
                    j->kernel(&j->args, &s, wt, rows, j->corr + m0, j->mult + m0, j->bias + m0);
                    s.nseg = 0;
                }
            }
        if (s.nseg > 0) j->kernel(&j->args, &s, wt, rows, j->corr + m0, j->mult + m0, j->bias + m0);
    }
}

void cedge_qdirect_run(const cedge_qconv_desc *d, const cedge_geom3 *g, const cedge_qdirect_path *path,
                       const void *x, const int8_t *packed, const int32_t *rowsum, const float *mult,
                       const float *bias, void *y) {
    dplan p;
    plan(d, g, &p);
    if (p.images == 0 || p.OW == 0 || p.OH == 0 || p.M <= 0) return;
    // The kernel's activation domain: unsigned (x86 VPDPBUSD, u8 x s8) or signed (ARM SDOT, s8 x s8). The
    // input's byte is flipped by 0x80 when its type differs, which shifts the zero point with it.
    const int in_unsigned = d->in_kind == CEDGE_Q_UINT8;
    const uint8_t flip = in_unsigned == path->unsigned_acts ? 0 : 0x80;
    const int zdom = path->unsigned_acts ? (in_unsigned ? d->in_zero : d->in_zero + 128)
                                         : (in_unsigned ? d->in_zero - 128 : d->in_zero);
    // Tap offsets and per-channel corrections, shared by every task (tid 0 buffers, filled outside tasks).
    const size_t mpad = cedge_qdirect_rowsum_count(d);
    int32_t *off = (int32_t *)cedge_scratch(0, CEDGE_SCR_KOFF, (size_t)p.ntaps + mpad);
    int32_t *corr = off + p.ntaps;
    for (int cq = 0, t = 0; cq < p.c4; cq++)
        for (int kh = 0; kh < p.KH; kh++)
            for (int kw = 0; kw < p.tw; kw++, t++) {
                const int ph = p.window ? 0 : kw * p.DW % p.SW, col = p.window ? 0 : kw * p.DW / p.SW;
                off[t] = (int32_t)(((((size_t)cq * p.phases + ph) * p.hp + (size_t)kh * p.DH) * p.wq + col) * 4);
            }
    for (size_t m = 0; m < mpad; m++) corr[m] = zdom * rowsum[m];
    djob j;
    j.d = d;
    j.p = &p;
    j.x = x;
    j.packed = packed;
    j.corr = corr;
    j.mult = mult;
    j.bias = bias;
    j.y = y;
    j.out_elem = d->out_kind == CEDGE_Q_FLOAT32 ? 4 : 1;
    j.flip = flip;
    j.zdom = (uint8_t)zdom;
    j.x_end = (const uint8_t *)x + (size_t)(p.images - 1) * p.in_img + (size_t)(p.C - 1) * p.in_cs +
              (size_t)(p.IH - 1) * p.in_hs + (size_t)(p.IW - 1) * p.in_ws + 1;
    // Window mode's padded row: the input row at PW, and every column a lane's vector steps read.
    const size_t lanes_read = (size_t)(p.KW - 1) * p.DW + round16(p.wq);
    j.pad_bytes = ((size_t)p.PW + p.IW > lanes_read ? (size_t)p.PW + p.IW : lanes_read) + QPACK_SLACK;
    j.kernel = path->fn;
    j.args = (cedge_qdirect_args){p.ntaps, off, d->out_kind, d->out_zero, d->out_lo, d->out_hi, p.out_cs, p.out_ws};
    cedge_parallel_for(p.images * p.blocks, direct_task, &j);
}

// Plain C tile: the reference the SIMD kernels are tested against, and the path of CPUs without them.
void cedge_qdirect_generic(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                           const int32_t *corr, const float *mult, const float *bias) {
    int32_t acc[CEDGE_QMR * CEDGE_QSEG * CEDGE_QNR];
    const int ld = CEDGE_QSEG * CEDGE_QNR;
    memset(acc, 0, sizeof acc);
    for (int t = 0; t < a->ntaps; t++) {
        const int8_t *wt = w + (size_t)t * CEDGE_QMR * 4;
        for (int g = 0; g < s->nseg; g++) {
            const uint8_t *b = s->seg[g] + a->off[t];
            for (int r = 0; r < rows; r++)
                for (int px = 0; px < CEDGE_QNR; px++) {
                    int32_t sum = 0;
                    for (int l = 0; l < 4; l++) sum += (int32_t)b[px * 4 + l] * wt[r * 4 + l];
                    acc[r * ld + g * CEDGE_QNR + px] += sum;
                }
        }
    }
    cedge_qstore_tile(a, s, acc, ld, rows, corr, mult, bias);
}

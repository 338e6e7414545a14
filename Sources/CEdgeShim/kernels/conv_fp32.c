// Convolution: portable direct loops, and the fast paths (implicit im2col GEMM, 1x1 direct GEMM, single
// output column as dot products, depthwise direct; Winograd and the pixel-rows GEMM for strided convs in
// their own files). Every path ends in the same epilogue:
// y = clamp(sum * scale[oc] + shift[oc]), scale NULL meaning 1 and shift NULL meaning 0.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

// ---- N-d geometry -----------------------------------------------------------------------------------------
static void geom_finish(cedge_geom3 *g) {
    g->in_plane = (size_t)g->in[0] * g->in[1] * g->in[2];
    g->out_plane = (size_t)g->out[0] * g->out[1] * g->out[2];
    g->ker_vol = (size_t)g->ker[0] * g->ker[1] * g->ker[2];
}

static void geom_identity(cedge_geom3 *g, int i) {
    g->in[i] = g->out[i] = g->ker[i] = g->str[i] = g->dil[i] = 1;
    g->pad[i] = g->pad_end[i] = 0;
}

void cedge_geom_from_conv(const cedge_conv_desc *d, cedge_geom3 *g) {
    const int off = 3 - d->spatial;
    for (int i = 0; i < 3; i++) {
        if (i < off) {
            geom_identity(g, i);
            continue;
        }
        const int s = i - off;
        g->in[i] = d->in_size[s];
        g->out[i] = d->out_size[s];
        g->ker[i] = d->kernel[s];
        g->str[i] = d->stride[s] > 0 ? d->stride[s] : 1;
        g->dil[i] = d->dilation[s] > 0 ? d->dilation[s] : 1;
        g->pad[i] = d->pad_begin[s];
        g->pad_end[i] = 0;   // implied by out_size; the loops check against in_size
    }
    geom_finish(g);
}

void cedge_geom_from_pool(const cedge_pool_desc *d, cedge_geom3 *g) {
    const int off = 3 - d->spatial;
    for (int i = 0; i < 3; i++) {
        if (i < off) {
            geom_identity(g, i);
            continue;
        }
        const int s = i - off;
        g->in[i] = d->in_size[s];
        g->out[i] = d->out_size[s];
        g->ker[i] = d->kernel[s];
        g->str[i] = d->stride[s] > 0 ? d->stride[s] : 1;
        g->dil[i] = d->dilation[s] > 0 ? d->dilation[s] : 1;
        g->pad[i] = d->pad_begin[s];
        g->pad_end[i] = d->pad_end[s];
    }
    geom_finish(g);
}

void cedge_pad_plane(const cedge_geom3 *g, const float *src, float *dst, int D, int H, int W) {
    memset(dst, 0, (size_t)D * H * W * sizeof(float));
    const int nd = imin(g->in[0], D - g->pad[0]), nh = imin(g->in[1], H - g->pad[1]);
    const int nw = imin(g->in[2], W - g->pad[2]);
    if (nw <= 0) return;
    for (int id = 0; id < nd; id++)
        for (int ih = 0; ih < nh; ih++)
            memcpy(dst + ((size_t)(id + g->pad[0]) * H + ih + g->pad[1]) * W + g->pad[2],
                   src + ((size_t)id * g->in[1] + ih) * g->in[2], (size_t)nw * sizeof(float));
}

void cedge_pad_rows(const cedge_geom3 *g, const float *src, int channels, float *dst, size_t plane, int row0, int rows,
                    int PW) {
    const int IH = g->in[1], IW = g->in[2], ph = g->pad[1], pw = g->pad[2];
    const int nw = imin(IW, PW - pw);   // > 0 only when pw < PW
    // Zero each channel's rows in one call, then copy the input's cells in: three calls a row (border, cells,
    // border) cost more than the copying at these row lengths.
    const int r0 = imax(0, ph - row0), r1 = imin(rows, IH + ph - row0);
    for (int ch = 0; ch < channels; ch++) {
        float *d = dst + (size_t)ch * plane;
        memset(d, 0, (size_t)rows * PW * sizeof(float));
        if (nw <= 0) continue;
        const float *s = src + (size_t)ch * g->in_plane;
        for (int r = r0; r < r1; r++)
            memcpy(d + (size_t)r * PW + pw, s + (size_t)(row0 + r - ph) * IW, (size_t)nw * sizeof(float));
    }
}

static inline float clampf(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return v > hi ? hi : v;
}

// ---- portable reference -----------------------------------------------------------------------------------
static void conv_portable(const cedge_conv_desc *d, const cedge_geom3 *g, const float *x, const float *w,
                          const float *scale, const float *shift, float *y) {
    const int groups = d->groups > 0 ? d->groups : 1;
    const int icg = d->in_channels / groups, ocg = d->out_channels / groups;
    const int clamp = cedge_clamp_active(d->clamp_min, d->clamp_max);
    for (int n = 0; n < d->batch; n++)
        for (int oc = 0; oc < d->out_channels; oc++) {
            const int grp = oc / ocg;
            float *yp = y + ((size_t)n * d->out_channels + oc) * g->out_plane;
            for (int od = 0; od < g->out[0]; od++)
                for (int oh = 0; oh < g->out[1]; oh++)
                    for (int ow = 0; ow < g->out[2]; ow++) {
                        float acc = 0.0f;
                        for (int ic = 0; ic < icg; ic++) {
                            const float *xp = x + ((size_t)n * d->in_channels + (size_t)grp * icg + ic) * g->in_plane;
                            const float *wp = w + ((size_t)oc * icg + ic) * g->ker_vol;
                            for (int kd = 0; kd < g->ker[0]; kd++) {
                                const int id = od * g->str[0] - g->pad[0] + kd * g->dil[0];
                                if (id < 0 || id >= g->in[0]) continue;
                                for (int kh = 0; kh < g->ker[1]; kh++) {
                                    const int ih = oh * g->str[1] - g->pad[1] + kh * g->dil[1];
                                    if (ih < 0 || ih >= g->in[1]) continue;
                                    for (int kw = 0; kw < g->ker[2]; kw++) {
                                        const int iw = ow * g->str[2] - g->pad[2] + kw * g->dil[2];
                                        if (iw < 0 || iw >= g->in[2]) continue;
                                        acc += xp[((size_t)id * g->in[1] + ih) * g->in[2] + iw] *
                                               wp[((size_t)kd * g->ker[1] + kh) * g->ker[2] + kw];
                                    }
                                }
                            }
                        }
                        if (scale) acc *= scale[oc];
                        if (shift) acc += shift[oc];
                        if (clamp) acc = clampf(acc, d->clamp_min, d->clamp_max);
                        yp[((size_t)od * g->out[1] + oh) * g->out[2] + ow] = acc;
                    }
        }
}

// ---- implicit im2col: packs B panels straight from the input ------------------------------------------------
// Row k of the virtual im2col matrix is (channel c, kernel cell kd,kh,kw); column j is output cell (od,oh,ow).
// Writing it directly into the GEMM's NR-wide panels skips the im2col buffer (which for a 3x3 conv is nine
// times the input) and its extra pass over memory.

typedef struct {
    float *dp;      // current panel row (lane 0)
    int lane, nr;
    size_t panel;   // floats between panels
} emitter;

static inline void emit_zeros(emitter *e, int count) {
    while (count > 0) {
        const int c = imin(count, e->nr - e->lane);
        float *d = e->dp + e->lane;
        for (int i = 0; i < c; i++) d[i] = 0.0f;
        count -= c;
        e->lane += c;
        if (e->lane == e->nr) {
            e->lane = 0;
            e->dp += e->panel;
        }
    }
}

static inline void emit_copy(emitter *e, const float *src, int stride, int count) {
    while (count > 0) {
        const int c = imin(count, e->nr - e->lane);
        float *d = e->dp + e->lane;
        if (stride == 1)
            for (int i = 0; i < c; i++) d[i] = src[i];
        else
            for (int i = 0; i < c; i++) d[i] = src[(size_t)i * stride];
        src += (size_t)c * stride;
        count -= c;
        e->lane += c;
        if (e->lane == e->nr) {
            e->lane = 0;
            e->dp += e->panel;
        }
    }
}

static void pack_im2col(const cedge_bsrc *s, int k0, int kc, int n0, int nc, int nr, float *dst) {
    const cedge_geom3 *g = s->ctx;
    const int KH = g->ker[1], KW = g->ker[2], OH = g->out[1], OW = g->out[2];
    const int ID = g->in[0], IH = g->in[1], IW = g->in[2], sw = g->str[2];
    const int hw = OH * OW;
    const int od0 = n0 / hw, oh0 = (n0 % hw) / OW, ow0 = n0 % OW;
    for (int kk = 0; kk < kc; kk++) {
        const int kidx = k0 + kk;
        const int c = kidx / (int)g->ker_vol;
        int rem = kidx % (int)g->ker_vol;
        const int kd = rem / (KH * KW);
        rem %= KH * KW;
        const int kh = rem / KW, kw = rem % KW;
        const float *xc = s->b + (size_t)c * g->in_plane;
        const int offd = kd * g->dil[0] - g->pad[0], offh = kh * g->dil[1] - g->pad[1];
        const int offw = kw * g->dil[2] - g->pad[2];
        emitter e = {dst + (size_t)kk * nr, 0, nr, (size_t)kc * nr};
        int od = od0, oh = oh0, ow = ow0, left = nc;
        while (left > 0) {
            const int seg = imin(OW - ow, left);
            const int id = od * g->str[0] + offd, ih = oh * g->str[1] + offh;
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                emit_zeros(&e, seg);
            } else {
                // Output cells t in [0, seg) read iw = iw0 + t*sw; keep those inside [0, IW).
                const int iw0 = ow * sw + offw;
                int lo = iw0 >= 0 ? 0 : ceil_div(-iw0, sw);
                int hi = iw0 < IW ? ceil_div(IW - iw0, sw) : 0;
                lo = imin(lo, seg);
                hi = imax(lo, imin(hi, seg));
                const float *row = xc + ((size_t)id * IH + ih) * IW;
                emit_zeros(&e, lo);
                emit_copy(&e, row + (iw0 + lo * sw), sw, hi - lo);
                emit_zeros(&e, seg - hi);
            }
            left -= seg;
            ow += seg;
            if (ow == OW) {
                ow = 0;
                if (++oh == OH) {
                    oh = 0;
                    ++od;
                }
            }
        }
        if (e.lane) emit_zeros(&e, nr - e.lane);   // zero columns past nc in the last panel
    }
}

// ---- shifted windows: im2col-free B for padded / strided convs -------------------------------------------
// The input is copied once into zero-padded "phase planes": for strides (sd, sh, sw) each channel is split into
// sd*sh*sw planes holding the padded cells whose coordinates have the same remainders. Kernel cell (kd, kh, kw)
// then reads, for every output cell, the phase plane of its offsets' remainders at the output's own position
// plus a constant shift, so with outputs laid out at the phase planes' pitch (virtual outputs; the few in the
// pitch gap are computed and dropped), row k of the im2col matrix is one contiguous slice of the phase buffer.
// Packing becomes plain contiguous copies, and the input is copied once instead of kernel-volume times.

#define MAX_PHASE_STRIDE 64

typedef struct {
    const cedge_isa *isa;
    const cedge_geom3 *g;
    const float *x;
    float *phases;                      // [batch*IC][sd][sh][sw][QD][QH][QW]
    int Q[3];
    size_t qplane, chan_stride;
    unsigned char used[3][MAX_PHASE_STRIDE];   // remainders that some kernel cell reads, per dim
} phase_ctx;

// Phase r of a dimension (stride s, pad before `pad`): padded position q*s + r is input cell first + q*s
// (first = r - pad), inside the input and below Q for q in [lo, hi).
static void phase_range(int r, int s, int pad, int in, int Q, int *first, int *lo, int *hi) {
    *first = r - pad;
    *lo = imin(Q, *first >= 0 ? 0 : ceil_div(-*first, s));
    *hi = imax(*lo, imin(Q, *first < in ? ceil_div(in - *first, s) : 0));
}

// Copies phase rows [q0, q0 + nq) (in H; every depth slice and W cell) of channel `chan` into dst, its phase
// planes of QD x nq x QW floats, qplane apart. Unit strides over the whole channel: the single phase plane is
// the padded channel (one memset, one memcpy per input row). Otherwise the used phase planes are zeroed once,
// and each (depth slice, H phase, W phase) is one strided block copy: the input rows of that H phase, every
// sw-th element (one call per block rather than per row: the models' rows are only 7-14 phase cells long).
static void phase_window(const phase_ctx *c, int chan, int q0, int nq, float *dst, size_t qplane) {
    const cedge_geom3 *g = c->g;
    const int sd = g->str[0], sh = g->str[1], sw = g->str[2];
    const int QD = c->Q[0], QH = c->Q[1], QW = c->Q[2], IH = g->in[1], IW = g->in[2];
    const float *xin = c->x + (size_t)chan * g->in_plane;
    if (sd == 1 && sh == 1 && sw == 1 && q0 == 0 && nq == QH) {
        cedge_pad_plane(g, xin, dst, QD, QH, QW);
        return;
    }
    for (int rd = 0; rd < sd; rd++)
        for (int rh = 0; rh < sh; rh++)
            for (int rw = 0; rw < sw; rw++)
                if (c->used[0][rd] && c->used[1][rh] && c->used[2][rw])
                    memset(dst + (((size_t)rd * sh + rh) * sw + rw) * qplane, 0, qplane * sizeof(float));
    int fh[MAX_PHASE_STRIDE], lh[MAX_PHASE_STRIDE], hh[MAX_PHASE_STRIDE];
    int fw[MAX_PHASE_STRIDE], lw[MAX_PHASE_STRIDE], hw[MAX_PHASE_STRIDE];
    for (int r = 0; r < sh; r++) {
        phase_range(r, sh, g->pad[1], IH, QH, &fh[r], &lh[r], &hh[r]);
        lh[r] = imax(lh[r], q0);
        hh[r] = imin(hh[r], q0 + nq);
    }
    for (int r = 0; r < sw; r++) phase_range(r, sw, g->pad[2], IW, QW, &fw[r], &lw[r], &hw[r]);
    const cedge_isa *isa = c->isa;
    for (int id = 0; id < g->in[0]; id++) {
        const int pd = id + g->pad[0], rd = pd % sd, qd = pd / sd;
        if (qd >= QD || !c->used[0][rd]) continue;
        for (int rh = 0; rh < sh; rh++) {
            if (!c->used[1][rh] || hh[rh] <= lh[rh]) continue;
            const int rows = hh[rh] - lh[rh];
            const float *src = xin + ((size_t)id * IH + fh[rh] + (size_t)lh[rh] * sh) * IW;
            float *base = dst + ((size_t)rd * sh + rh) * sw * qplane + ((size_t)qd * nq + lh[rh] - q0) * QW;
            for (int rw = 0; rw < sw; rw++) {
                if (!c->used[2][rw] || hw[rw] <= lw[rw]) continue;
                const float *s = src + fw[rw] + (size_t)lw[rw] * sw;
                float *d = base + (size_t)rw * qplane + lw[rw];
                if (sw == 2 && isa->copy_even)
                    isa->copy_even(rows, hw[rw] - lw[rw], s, (size_t)sh * IW, d, (size_t)QW);
                else
                    cedge_copy_strided_rows(rows, hw[rw] - lw[rw], sw, s, (size_t)sh * IW, d, (size_t)QW);
            }
        }
    }
}

// Channel `chan` (of the batch) into its phase planes.
static void phase_task(void *vctx, int chan, int tid) {
    (void)tid;
    const phase_ctx *c = vctx;
    phase_window(c, chan, 0, c->Q[1], c->phases + (size_t)chan * c->chan_stride, c->qplane);
}

typedef struct {
    const cedge_geom3 *g;
    const float *vout;
    float *y;
    int Q[3];
    size_t span;
} extract_ctx;

// Copies the real outputs of one (n, oc) plane out of its virtual plane.
static void extract_task(void *vctx, int plane, int tid) {
    (void)tid;
    const extract_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const float *src = c->vout + (size_t)plane * c->span;
    float *dst = c->y + (size_t)plane * g->out_plane;
    for (int od = 0; od < g->out[0]; od++)
        for (int oh = 0; oh < g->out[1]; oh++)
            memcpy(dst + ((size_t)od * g->out[1] + oh) * g->out[2], src + ((size_t)od * c->Q[1] + oh) * c->Q[2],
                   (size_t)g->out[2] * sizeof(float));
}

// Plans the shifted-window layout; returns 0 when it does not pay (large pitch gaps, huge strides).
static int shifted_plan(const cedge_geom3 *g, phase_ctx *pc, size_t *span) {
    for (int i = 0; i < 3; i++) {
        if (g->str[i] > MAX_PHASE_STRIDE) return 0;
        const int need = (g->out[i] - 1) * g->str[i] + (g->ker[i] - 1) * g->dil[i] + 1;
        pc->Q[i] = ceil_div(need, g->str[i]);
        memset(pc->used[i], 0, sizeof pc->used[i]);
        for (int k = 0; k < g->ker[i]; k++) pc->used[i][(k * g->dil[i]) % g->str[i]] = 1;
    }
    pc->qplane = (size_t)pc->Q[0] * pc->Q[1] * pc->Q[2];
    pc->chan_stride = pc->qplane * g->str[0] * g->str[1] * g->str[2];
    *span = ((size_t)(g->out[0] - 1) * pc->Q[1] + (g->out[1] - 1)) * pc->Q[2] + g->out[2];
    // Virtual outputs cost GEMM work: fall back to im2col when more than a third would be dropped.
    return *span * 2 <= g->out_plane * 3;
}

// koff[k]: where row k of the im2col matrix (channel, kernel cell) starts in phase planes of Q1 x Q2 cells per
// depth slice, qplane floats per phase and chan floats per channel.
static void fill_koff(const cedge_geom3 *g, int icg, int Q1, int Q2, size_t qplane, size_t chan, size_t *koff) {
    for (int ci = 0, k = 0; ci < icg; ci++)
        for (int kd = 0; kd < g->ker[0]; kd++)
            for (int kh = 0; kh < g->ker[1]; kh++)
                for (int kw = 0; kw < g->ker[2]; kw++, k++) {
                    const int od = kd * g->dil[0], oh = kh * g->dil[1], ow = kw * g->dil[2];
                    const size_t phase = ((size_t)(od % g->str[0]) * g->str[1] + oh % g->str[1]) * g->str[2] +
                                         ow % g->str[2];
                    const size_t shift = ((size_t)(od / g->str[0]) * Q1 + oh / g->str[1]) * Q2 + ow / g->str[2];
                    koff[k] = ci * chan + phase * qplane + shift;
                }
}

// ---- one image on the pool: tasks that copy the phase rows they read -------------------------------------
// At batch 1 the shared phase copy was a serial step before the GEMM and the extraction one after it, and the
// other core read its B from the first core's cache. Instead each task owns a share of the output channels (and,
// with fewer channel panels than threads, a band of output rows): it copies the phase rows it reads into its own
// buffer, runs its part of the GEMM on them and extracts its outputs, in one pass on one core. 2-D only.
typedef struct {
    const cedge_isa *isa;
    const cedge_geom3 *g;
    const phase_ctx *pc;
    const cedge_gemm_problem *proto;   // the whole problem: A, K, epilogue
    float *y;
    const size_t *koff;                // offsets into a band's phase planes
    int channels, bands, parts, nq;    // input channels; row bands x channel parts; phase rows per band buffer
    size_t qplane, chan;               // band buffer: floats per phase plane, per channel
} band_ctx;

static void band_rows(const band_ctx *c, int band, int *oh0, int *oh1) {
    const int OH = c->g->out[1];
    *oh0 = (int)((long)band * OH / c->bands);
    *oh1 = (int)((long)(band + 1) * OH / c->bands);
}

static void band_task(void *vctx, int task, int tid) {
    const band_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const int band = task / c->parts, part = task % c->parts;
    int oh0, oh1;
    band_rows(c, band, &oh0, &oh1);
    const int rows = oh1 - oh0, OW = g->out[2], QW = c->pc->Q[2];
    const size_t floats = (size_t)c->channels * c->chan;
    float *phases = cedge_scratch(tid, CEDGE_SCR_AUX2, floats + CEDGE_B_SLACK);
    memset(phases + floats, 0, CEDGE_B_SLACK * sizeof(float));
    for (int ch = 0; ch < c->channels; ch++)
        phase_window(c->pc, ch, oh0, c->nq, phases + (size_t)ch * c->chan, c->qplane);
    cedge_gemm_problem p = *c->proto;
    const size_t span = (size_t)(rows - 1) * QW + OW;
    // Pitch QW == OW: the band's virtual outputs are its real ones, written in place.
    const int direct = QW == OW;
    float *vout = direct ? c->y + (size_t)oh0 * OW : cedge_scratch(tid, CEDGE_SCR_AUX3, (size_t)p.m * span);
    p.n = (int)span;
    p.b.b = phases;
    p.b.koff = c->koff;
    p.c = vout;
    p.ldc = direct ? g->out_plane : span;
    const int MR = c->isa->mr, mu = ceil_div(p.m, MR);
    const int m0 = (int)((long)part * mu / c->parts) * MR, m1 = imin(p.m, (int)((long)(part + 1) * mu / c->parts) * MR);
    cedge_gemm_tile(c->isa, tid, &p, m0, m1, 0, (int)span);
    if (direct) return;
    for (int m = m0; m < m1; m++)
        cedge_copy_strided_rows(rows, OW, 1, vout + (size_t)m * span, (size_t)QW,
                                c->y + (size_t)m * g->out_plane + (size_t)oh0 * OW, (size_t)OW);
}

// Runs the single problem *p (whose b.koff it fills for the band layout) as tasks when there are threads to
// share it; returns 0 (nothing done, koff untouched) otherwise.
static int shifted_bands(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g, const phase_ctx *pc,
                         const cedge_gemm_problem *p, size_t *koff, float *y) {
    const int width = cedge_pool_width();
    if (width < 2 || g->out[0] != 1 || g->in[0] != 1 || g->ker[0] != 1 || g->out[1] < 2 || p->k <= 0) return 0;
    if (2.0 * p->m * p->n * p->k < CEDGE_MIN_SPLIT_FLOPS) return 0;
    const int mu = ceil_div(p->m, isa->mr), OH = g->out[1], QW = pc->Q[2];
    const int reach = ((g->ker[1] - 1) * g->dil[1]) / g->str[1];   // phase rows a band reads past its own
    // Output channels are split first: every task then copies all the phase rows, but a band split costs more
    // than its share of the copy, measured on the edge model (stride-2 convs: 14x14 from 16 channels, 8.3 us per
    // inference with two channel parts against 9.2 with two bands; 7x7 from 32, 9.5 against 10.0).
    const int parts = imin(width, mu), bands = imin(OH, ceil_div(width, parts));
    band_ctx c;
    c.isa = isa;
    c.g = g;
    c.pc = pc;
    c.proto = p;
    c.y = y;
    c.channels = d->in_channels;
    c.bands = bands;
    c.parts = parts;
    c.nq = ceil_div(OH, bands) + reach;
    c.qplane = (size_t)c.nq * QW;
    c.chan = c.qplane * g->str[1] * g->str[2];
    fill_koff(g, d->in_channels, c.nq, QW, c.qplane, c.chan, koff);
    c.koff = koff;
    cedge_parallel_for(c.bands * c.parts, band_task, &c);
    return 1;
}

static void conv_shifted(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g, phase_ctx *pc,
                         size_t span, const float *x, const float *w, const float *apacked,
                         const uint16_t *apacked16, const float *scale, const float *shift, float *y) {
    const int groups = d->groups > 0 ? d->groups : 1;
    const int icg = d->in_channels / groups, ocg = d->out_channels / groups;
    const int K = icg * (int)g->ker_vol;
    pc->isa = isa;
    pc->g = g;
    pc->x = x;
    size_t *koff = (size_t *)(void *)cedge_scratch(0, CEDGE_SCR_KOFF,
                                                  (size_t)K * ((sizeof(size_t) + sizeof(float) - 1) / sizeof(float)));
    // When the pitch gaps are empty the virtual layout is the real one: write y directly.
    const int direct = span == g->out_plane;
    float *vout = direct ? y : cedge_scratch(0, CEDGE_SCR_VOUT, (size_t)d->batch * d->out_channels * span);
    const int count = d->batch * groups;
    cedge_gemm_problem *probs = (cedge_gemm_problem *)(void *)cedge_scratch(
        0, CEDGE_SCR_JOBS, (size_t)count * (sizeof(cedge_gemm_problem) / sizeof(float) + 1));
    const int clamp = cedge_clamp_active(d->clamp_min, d->clamp_max);
    for (int n = 0; n < d->batch; n++)
        for (int grp = 0; grp < groups; grp++) {
            cedge_gemm_problem *p = &probs[n * groups + grp];
            p->m = ocg;
            p->n = (int)span;
            p->k = K;
            p->a = w ? w + (size_t)grp * ocg * K : NULL;   // NULL: binary16 panels only
            p->lda = (size_t)K;
            p->trans_a = 0;
            p->alpha = 1.0f;
            p->b.pack = cedge_pack_offsets;
            p->b.b = NULL;   // set below, once the phase planes are placed
            p->b.ldb = 0;
            p->b.trans = 0;
            p->b.ctx = NULL;
            p->b.koff = koff;
            p->beta = 0.0f;
            p->c = vout + ((size_t)n * d->out_channels + (size_t)grp * ocg) * span;
            p->ldc = span;
            p->bias = shift ? shift + (size_t)grp * ocg : NULL;
            p->scale = scale ? scale + (size_t)grp * ocg : NULL;
            p->apacked = apacked;
            p->apacked16 = apacked16;
            p->clamp = clamp;
            p->cmin = d->clamp_min;
            p->cmax = d->clamp_max;
        }
    if (count == 1 && shifted_bands(isa, d, g, pc, probs, koff, y)) return;
    fill_koff(g, icg, pc->Q[1], pc->Q[2], pc->qplane, pc->chan_stride, koff);
    // Slack past the end: micro-kernels read whole NR-wide rows of B even for the last, partial column tile.
    const size_t phase_floats = (size_t)d->batch * d->in_channels * pc->chan_stride;
    pc->phases = cedge_scratch(0, CEDGE_SCR_SHARED, phase_floats + CEDGE_B_SLACK);
    memset(pc->phases + phase_floats, 0, CEDGE_B_SLACK * sizeof(float));
    for (int i = 0; i < count; i++) {
        const int n = i / groups, grp = i % groups;
        probs[i].b.b = pc->phases + ((size_t)n * d->in_channels + (size_t)grp * icg) * pc->chan_stride;
    }
    cedge_parallel_copy(d->batch * d->in_channels, phase_task, pc, phase_floats);
    cedge_gemm_run(isa, probs, count);
    if (direct) return;
    extract_ctx e = {g, vout, y, {pc->Q[0], pc->Q[1], pc->Q[2]}, span};
    cedge_parallel_copy(d->batch * d->out_channels, extract_task, &e, (size_t)d->batch * d->out_channels * span);
}

// ---- single output cell: y[oc] = dot(w[oc], im2col column) ------------------------------------------------
typedef struct {
    const cedge_isa *isa;
    const float *w, *col, *scale, *shift;
    float *y;
    int ocg, k, chunk, clamp;
    float cmin, cmax;
    size_t y_stride;
} dotconv_ctx;

static void dotconv_task(void *vctx, int task, int tid) {
    (void)tid;
    const dotconv_ctx *c = vctx;
    const int o1 = imin(c->ocg, (task + 1) * c->chunk);
    for (int o = task * c->chunk; o < o1; o++) {
        float v = c->isa->dot(c->k, c->w + (size_t)o * c->k, c->col);
        if (c->scale) v *= c->scale[o];
        if (c->shift) v += c->shift[o];
        if (c->clamp) v = clampf(v, c->cmin, c->cmax);
        c->y[(size_t)o * c->y_stride] = v;
    }
}

// ---- depthwise -------------------------------------------------------------------------------------------------
// Each (n, c) plane is copied into a zero-bordered buffer (skipped when there is no padding), so the tap loops
// need no bounds checks. With unit strides the whole plane is computed as one long row over the padded pitch
// ("virtual" outputs in the border columns are computed and dropped), which keeps small planes like 7x7
// vectorised; other strides run output row by output row.
typedef struct {
    const cedge_isa *isa;
    const cedge_conv_desc *d;
    const cedge_geom3 *g;
    const float *x, *w, *scale, *shift;
    float *y;
    int P[3];          // padded extents
    int copy, flat;
    int mult;          // output channels per input channel: output plane p reads input plane p / mult
    int parts;         // tasks per input plane, each for a share of its mult output planes
} dw_ctx;

static void dw_plane(const dw_ctx *c, const float *xp, const float **src, int plane, int tid);

// Part `task % parts` of input plane (n, c) = task / parts: its padded copy is made once for the share of the
// mult output planes that read it.
static void dw_task(void *vctx, int task, int tid) {
    const dw_ctx *c = vctx;
    const int in_plane = task / c->parts, part = task % c->parts;
    const cedge_geom3 *g = c->g;
    const int PD = c->P[0], PH = c->P[1], PW = c->P[2];
    const int kv = (int)g->ker_vol;
    const float *xin = c->x + (size_t)in_plane * g->in_plane;
    const float *xp = xin;
    if (c->copy) {
        float *buf = cedge_scratch(tid, CEDGE_SCR_AUX, (size_t)PD * PH * PW);
        cedge_pad_plane(g, xin, buf, PD, PH, PW);
        xp = buf;
    }
    const size_t ptr_floats = (sizeof(const float *) + sizeof(float) - 1) / sizeof(float);
    const float **src = (const float **)(void *)cedge_scratch(tid, CEDGE_SCR_AUX2, (size_t)kv * ptr_floats);
    const int first = in_plane * c->mult;
    for (int plane = first + part * c->mult / c->parts; plane < first + (part + 1) * c->mult / c->parts; plane++)
        dw_plane(c, xp, src, plane, tid);
}

// Output plane `plane` from the (padded) input plane xp.
static void dw_plane(const dw_ctx *c, const float *xp, const float **src, int plane, int tid) {
    const cedge_geom3 *g = c->g;
    const int ch = plane % c->d->out_channels;
    const int PH = c->P[1], PW = c->P[2];
    const int kv = (int)g->ker_vol;
    const float *wc = c->w + (size_t)ch * kv;
    const float scale = c->scale ? c->scale[ch] : 1.0f, bias = c->shift ? c->shift[ch] : 0.0f;
    float *yp = c->y + (size_t)plane * g->out_plane;
    const float cmin = c->d->clamp_min, cmax = c->d->clamp_max;
    const int OD = g->out[0], OH = g->out[1], OW = g->out[2];
    if (c->flat) {
        int t = 0;
        for (int kd = 0; kd < g->ker[0]; kd++)
            for (int kh = 0; kh < g->ker[1]; kh++)
                for (int kw = 0; kw < g->ker[2]; kw++)
                    src[t++] = xp + ((size_t)kd * g->dil[0] * PH + (size_t)kh * g->dil[1]) * PW + (size_t)kw * g->dil[2];
        const size_t span = ((size_t)(OD - 1) * PH + (OH - 1)) * PW + OW;
        if (PW == OW && PH == OH) {
            c->isa->dw_row((int)span, kv, src, wc, 1, scale, bias, cmin, cmax, yp);
            return;
        }
        float *vout = cedge_scratch(tid, CEDGE_SCR_AUX3, span);
        c->isa->dw_row((int)span, kv, src, wc, 1, scale, bias, cmin, cmax, vout);
        for (int od = 0; od < OD; od++)
            for (int oh = 0; oh < OH; oh++)
                memcpy(yp + ((size_t)od * OH + oh) * OW, vout + ((size_t)od * PH + oh) * PW, (size_t)OW * sizeof(float));
        return;
    }
    for (int od = 0; od < OD; od++)
        for (int oh = 0; oh < OH; oh++) {
            int t = 0;
            for (int kd = 0; kd < g->ker[0]; kd++)
                for (int kh = 0; kh < g->ker[1]; kh++) {
                    const float *row = xp + ((size_t)(od * g->str[0] + kd * g->dil[0]) * PH +
                                             (size_t)(oh * g->str[1] + kh * g->dil[1])) * PW;
                    for (int kw = 0; kw < g->ker[2]; kw++) src[t++] = row + (size_t)kw * g->dil[2];
                }
            c->isa->dw_row(OW, kv, src, wc, g->str[2], scale, bias, cmin, cmax, yp + ((size_t)od * OH + oh) * OW);
        }
}

static void conv_depthwise(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g, const float *x,
                           const float *w, const float *scale, const float *shift, float *y) {
    dw_ctx c = {isa, d, g, x, w, scale, shift, y, {0, 0, 0}, 0, 1, d->out_channels / d->in_channels, 1};
    for (int i = 0; i < 3; i++) {
        // Extent that the windows read, and at least the (shifted) input so it copies whole.
        const int need = (g->out[i] - 1) * g->str[i] + (g->ker[i] - 1) * g->dil[i] + 1;
        c.P[i] = need;
        if (g->pad[i] != 0 || need > g->in[i]) c.copy = 1;
        if (g->str[i] != 1) c.flat = 0;
    }
    // Unpadded input read in place: the rows must have the input's pitch.
    if (!c.copy) {
        c.P[0] = g->in[0];
        c.P[1] = g->in[1];
        c.P[2] = g->in[2];
    }
    // Fewer input planes than threads (a one-channel stem at batch 1 was a single task, the other thread idle):
    // their output planes are shared out too, one part per thread, since each part pads its own copy of the
    // input plane (4 parts a thread padded the stem's plane 4 times: its 2 threads took 0.84 of 1 thread's time).
    const int planes = d->batch * d->in_channels, width = cedge_pool_width();
    if (width > 1 && planes < width) c.parts = imin(c.mult, ceil_div(width, planes));
    cedge_parallel_for(planes * c.parts, dw_task, &c);
}

// ---- public entry -------------------------------------------------------------------------------------------
void cedge_conv_f32(const cedge_conv_desc *d, const float *x, const float *w, const float *bias, float *y) {
    cedge_conv_f32_affine(d, x, w, NULL, bias, y);
}

void cedge_conv_f32_affine(const cedge_conv_desc *d, const float *x, const float *w, const float *scale,
                           const float *shift, float *y) {
    cedge_conv_f32_affine_packed(d, x, w, NULL, scale, shift, y);
}

// ---- weights packed once ------------------------------------------------------------------------------------
// The GEMM paths (shifted windows, im2col, 1x1) read the weights as op(A), packed into MR-row panels on every
// call; a session packs them once instead: in fp32, or for fp16 weights in binary16, which the GEMM widens one
// L1-sized block at a time (gemm_tile). The pack records the code path, shape and element size it was made
// for, so a stale one (another path selected since) is ignored rather than misread.
typedef struct {
    const cedge_isa *isa;
    int m, k;
    int half;   // binary16 GEMM A panels (fp16 weights)
    int wino;   // Winograd layout (CEDGE_WINO_*) of transformed weights instead of GEMM A panels, or 0
    int rows;   // 1: transposed weights for the pixel-rows GEMM (conv_pixel_rows_fp32.c)
} packed_header;
#define PACKED_HEADER_BYTES 64   // keeps the panels 64-byte aligned in a 64-byte aligned buffer

// The GEMM shape of the weights when this conv, on the current code path, reads them as a shared op(A).
static int packed_shape(const cedge_conv_desc *d, const cedge_isa *isa, int *m, int *k) {
    cedge_geom3 g;
    cedge_geom_from_conv(d, &g);
    const int groups = d->groups > 0 ? d->groups : 1;
    if (!isa || groups != 1 || d->in_channels <= 1 || d->batch <= 0 || d->out_channels <= 0 || g.out_plane <= 1)
        return 0;   // (one input channel: the tap-loop path, which reads the weights as they are)
    *m = d->out_channels;
    *k = d->in_channels * (int)g.ker_vol;
    return *k > 0;
}

static int packed_wino(const cedge_conv_desc *d, const cedge_isa *isa) {
    cedge_geom3 g;
    cedge_geom_from_conv(d, &g);
    return cedge_wino_plan(isa, d, &g);
}

int cedge_conv_f32_winograd(const cedge_conv_desc *d) { return packed_wino(d, cedge_active_isa()); }

// (The Winograd and pixel-rows plans never both take a conv: one needs stride 1, the other a strided width.)
static int packed_rows(const cedge_conv_desc *d, const cedge_isa *isa) {
    cedge_geom3 g;
    cedge_geom_from_conv(d, &g);
    return cedge_rows_plan(isa, d, &g);
}

int cedge_conv_f32_pixel_rows(const cedge_conv_desc *d) { return packed_rows(d, cedge_active_isa()); }

static void pack_header(void *packed, const cedge_isa *isa, int m, int k, int half, int wino, int rows) {
    packed_header *h = packed;
    h->isa = isa;
    h->m = m;
    h->k = k;
    h->half = half;
    h->wino = wino;
    h->rows = rows;
}

static void pack_weights(const cedge_isa *isa, int m, int k, const float *w, float *dst) {
    cedge_gemm_problem p;
    memset(&p, 0, sizeof p);
    p.m = m;
    p.k = k;
    p.a = w;
    p.lda = (size_t)k;
    p.alpha = 1.0f;
    cedge_gemm_pack_a(isa, &p, dst);
}

size_t cedge_conv_f32_packed_bytes(const cedge_conv_desc *d) {
    const cedge_isa *isa = cedge_active_isa();
    int m, k;
    if (!packed_shape(d, isa, &m, &k)) return 0;
    const int wino = packed_wino(d, isa);
    if (wino)
        return PACKED_HEADER_BYTES + cedge_wino_packed_floats(isa, wino, d->out_channels, d->in_channels) * sizeof(float);
    if (packed_rows(d, isa)) return PACKED_HEADER_BYTES + cedge_rows_packed_floats(isa, m, k) * sizeof(float);
    return PACKED_HEADER_BYTES + cedge_gemm_packed_a_floats(isa, m, k) * sizeof(float);
}

void cedge_conv_f32_pack(const cedge_conv_desc *d, const float *w, void *packed) {
    const cedge_isa *isa = cedge_active_isa();
    int m, k;
    if (!packed_shape(d, isa, &m, &k)) return;
    const int wino = packed_wino(d, isa), rows = packed_rows(d, isa);
    pack_header(packed, isa, m, k, 0, wino, rows);
    float *dst = (float *)(void *)((char *)packed + PACKED_HEADER_BYTES);
    if (wino)
        cedge_wino_pack(isa, wino, w, d->out_channels, d->in_channels, dst);
    else if (rows)
        cedge_rows_pack(isa, w, m, k, dst);
    else
        pack_weights(isa, m, k, w, dst);
}

// Binary16 weights stay on the GEMM paths (Winograd would need its transformed weights in fp32), or take the
// pixel-rows GEMM with binary16 panels widened per call, which keeps them equal to an fp32 run on the same
// (rounded) weights.
size_t cedge_conv_f16w_packed_bytes(const cedge_conv_desc *d) {
    const cedge_isa *isa = cedge_active_isa();
    int m, k;
    if (!packed_shape(d, isa, &m, &k)) return 0;
    if (packed_rows(d, isa)) return PACKED_HEADER_BYTES + cedge_rows_packed_floats(isa, m, k) * sizeof(uint16_t);
    return PACKED_HEADER_BYTES + cedge_gemm_packed_a_floats(isa, m, k) * sizeof(uint16_t);
}

int cedge_conv_f16w_pack(const cedge_conv_desc *d, const uint16_t *w, void *packed) {
    const cedge_isa *isa = cedge_active_isa();
    int m, k;
    if (!packed_shape(d, isa, &m, &k)) return 0;
    // Prepare time only: packs through fp32, exact both ways (every binary16 value is a binary32 value).
    const int rows = packed_rows(d, isa);
    const size_t nw = (size_t)m * k, np = rows ? cedge_rows_packed_floats(isa, m, k) : cedge_gemm_packed_a_floats(isa, m, k);
    float *wide = malloc(nw * sizeof(float)), *panels = malloc(np * sizeof(float));
    if (!wide || !panels) {
        free(wide);
        free(panels);
        return -1;
    }
    cedge_half_to_float_n(nw, w, wide);
    if (rows)
        cedge_rows_pack(isa, wide, m, k, panels);
    else
        pack_weights(isa, m, k, wide, panels);
    uint16_t *dst = (uint16_t *)(void *)((char *)packed + PACKED_HEADER_BYTES);
    for (size_t i = 0; i < np; i++) dst[i] = cedge_float_to_half(panels[i]);
    free(wide);
    free(panels);
    pack_header(packed, isa, m, k, 1, 0, rows);
    return 0;
}

// Weights for the paths that read them unpacked (portable, depthwise, grouped, one output cell): the fp32
// tensor, or the binary16 one widened into scratch once per call.
static const float *plain_weights(const float *w, const uint16_t *w16, size_t count) {
    if (w) return w;
    float *wide = cedge_scratch(0, CEDGE_SCR_WIDE, count);
    cedge_half_to_float_n(count, w16, wide);
    return wide;
}

static void conv_run(const cedge_conv_desc *d, const float *x, const float *w, const uint16_t *w16,
                     const void *packed, const float *scale, const float *shift, const cedge_conv_residual *res,
                     float *y);

// `packed`'s header when it was made for this conv's shape on this path with this element size, else NULL.
static const packed_header *fitting_pack(const cedge_conv_desc *d, const void *packed, const cedge_isa *isa,
                                         int half) {
    const packed_header *h = packed;
    int m, k;
    if (!h || !packed_shape(d, isa, &m, &k) || h->isa != isa || h->m != m || h->k != k || h->half != half)
        return NULL;
    return h;
}

// The pixel-rows panels in `packed` when they were made for this conv on this path, else NULL.
static const float *rows_panels(const cedge_conv_job *j, const cedge_isa *isa) {
    const packed_header *h = fitting_pack(j->d, j->packed, isa, 0);
    return h && h->rows ? (const float *)(const void *)((const char *)h + PACKED_HEADER_BYTES) : NULL;
}

void cedge_conv_f32_pair(const float *x, const cedge_conv_job *a, const cedge_conv_job *b) {
    const cedge_isa *isa = cedge_active_isa();
    cedge_geom3 ga, gb;
    cedge_geom_from_conv(a->d, &ga);
    cedge_geom_from_conv(b->d, &gb);
    const int tap = isa ? cedge_rows_shortcut_tap(isa, a->d, &ga, b->d, &gb) : -1;
    if (tap >= 0) {
        cedge_rows_conv_pair(isa, tap, &ga, x, a, rows_panels(a, isa), b, rows_panels(b, isa));
        return;
    }
    conv_run(a->d, x, a->w, NULL, a->packed, a->scale, a->shift, NULL, a->y);
    conv_run(b->d, x, b->w, NULL, b->packed, b->scale, b->shift, NULL, b->y);
}

void cedge_conv_f32_affine_packed(const cedge_conv_desc *d, const float *x, const float *w, const void *packed,
                                  const float *scale, const float *shift, float *y) {
    conv_run(d, x, w, NULL, packed, scale, shift, NULL, y);
}

void cedge_conv_f32_affine_packed_res(const cedge_conv_desc *d, const float *x, const float *w, const void *packed,
                                      const float *scale, const float *shift, const cedge_conv_residual *res, float *y) {
    conv_run(d, x, w, NULL, packed, scale, shift, res && res->r ? res : NULL, y);
}

void cedge_conv_f16w_affine_packed(const cedge_conv_desc *d, const float *x, const uint16_t *w,
                                   const void *packed, const float *scale, const float *shift, float *y) {
    conv_run(d, x, NULL, w, packed, scale, shift, NULL, y);
}

void cedge_conv_f16w_affine_packed_res(const cedge_conv_desc *d, const float *x, const uint16_t *w,
                                       const void *packed, const float *scale, const float *shift,
                                       const cedge_conv_residual *res, float *y) {
    conv_run(d, x, NULL, w, packed, scale, shift, res && res->r ? res : NULL, y);
}

// The residual join as its own pass over y, for the code paths that have none in their epilogue.
static void residual_pass(const cedge_conv_desc *d, const cedge_geom3 *g, const cedge_conv_residual *res, float *y) {
    const size_t n = (size_t)d->batch * d->out_channels * g->out_plane;
    if (res->relu) cedge_add_relu_f32(n, y, res->r, y);
    else cedge_add_f32(n, y, res->r, y);
}

static int conv_paths(const cedge_conv_desc *d, const cedge_geom3 *g, const float *x, const float *w,
                      const uint16_t *w16, const void *packed, const float *scale, const float *shift,
                      const cedge_conv_residual *res, float *y);

// w or w16 (exactly one) holds the weights; packed, when it matches this conv and path, their packed panels.
// res (or NULL) is joined in the Winograd epilogue, or else by a pass over y after the conv.
static void conv_run(const cedge_conv_desc *d, const float *x, const float *w, const uint16_t *w16,
                     const void *packed, const float *scale, const float *shift, const cedge_conv_residual *res,
                     float *y) {
    cedge_geom3 g;
    cedge_geom_from_conv(d, &g);
    if (d->batch <= 0 || d->out_channels <= 0 || g.out_plane == 0) return;
    if (!conv_paths(d, &g, x, w, w16, packed, scale, shift, res, y) && res) residual_pass(d, &g, res, y);
}

// conv_run's code paths: 1 when the path joined res in its epilogue (Winograd), else 0.
static int conv_paths(const cedge_conv_desc *d, const cedge_geom3 *g, const float *x, const float *w,
                      const uint16_t *w16, const void *packed, const float *scale, const float *shift,
                      const cedge_conv_residual *res, float *y) {
    const cedge_isa *isa = cedge_active_isa();
    const int groups = d->groups > 0 ? d->groups : 1;
    const int icg = d->in_channels / groups, ocg = d->out_channels / groups;
    const size_t wcount = (size_t)d->out_channels * icg * g->ker_vol;
    if (!isa) {
        conv_portable(d, g, x, plain_weights(w, w16, wcount), scale, shift, y);
        return 0;
    }
    const int clamp = cedge_clamp_active(d->clamp_min, d->clamp_max);
    const packed_header *h = fitting_pack(d, packed, isa, w == NULL);
    const int pack_fits = h != NULL;
    const void *pack_data = pack_fits ? (const char *)packed + PACKED_HEADER_BYTES : NULL;
    const float *apacked = pack_data && !h->half && !h->wino && !h->rows ? pack_data : NULL;
    const uint16_t *apacked16 = pack_data && h->half && !h->rows ? pack_data : NULL;

    // Strided convs: output pixels as the GEMM rows (binary16 panels widened here, in one pass).
    if (cedge_rows_plan(isa, d, g)) {
        const float *bp = pack_fits && h->rows ? pack_data : NULL;
        if (bp && h->half) {
            const size_t n = cedge_rows_packed_floats(isa, h->m, h->k);
            float *wide = cedge_scratch(0, CEDGE_SCR_WIDE, n);
            cedge_half_to_float_n(n, (const uint16_t *)pack_data, wide);
            bp = wide;
        }
        cedge_rows_conv(isa, d, g, x, bp ? NULL : plain_weights(w, w16, wcount), bp, scale, shift, y);
        return 0;
    }

    // One input channel per group (depthwise, with or without a channel multiplier, and single-channel stems
    // such as a 3x3 conv of a grayscale image): per output plane, a tap loop over its input plane. As a GEMM
    // its inner dimension would be just the kernel volume (9), far too short for the micro-kernel. (The
    // pixel-rows GEMM measured no faster on the edge model's stem: 5.3 us against 5.0 on 1 thread.)
    if (icg == 1) {
        conv_depthwise(isa, d, g, x, plain_weights(w, w16, wcount), scale, shift, y);
        return 0;
    }

    const int K = icg * (int)g->ker_vol;
    const int P = (int)g->out_plane;
    // The GEMM paths below read binary16 panels when there are some; otherwise fp32 weights.
    if (!apacked16) w = plain_weights(w, w16, wcount);
    if (P == 1) {
        // One output cell (classifier-style convs): gather its im2col column, then dot products per channel.
        float *col = cedge_scratch(0, CEDGE_SCR_SHARED, (size_t)K);
        cedge_bsrc src = {pack_im2col, NULL, 0, 0, g, NULL};
        for (int n = 0; n < d->batch; n++)
            for (int grp = 0; grp < groups; grp++) {
                src.b = x + ((size_t)n * d->in_channels + (size_t)grp * icg) * g->in_plane;
                pack_im2col(&src, 0, K, 0, 1, 1, col);
                dotconv_ctx c = {isa, w + (size_t)grp * ocg * K, col, scale ? scale + (size_t)grp * ocg : NULL,
                                 shift ? shift + (size_t)grp * ocg : NULL,
                                 y + (size_t)n * d->out_channels + (size_t)grp * ocg, ocg, K, 0, clamp,
                                 d->clamp_min, d->clamp_max, 1};
                const int width = cedge_pool_width();
                const int tasks = (width > 1 && (double)ocg * K >= 65536.0) ? imin(width, ocg) : 1;
                c.chunk = ceil_div(ocg, tasks);
                cedge_parallel_for(ceil_div(ocg, c.chunk), dotconv_task, &c);
            }
        return 0;
    }

    const int wino = w16 ? 0 : cedge_wino_plan(isa, d, g);
    if (wino) {
        cedge_wino_conv(isa, wino, d, g, x, w, pack_fits && h->wino == wino ? (const float *)pack_data : NULL, scale,
                        shift, res, y);
        return 1;
    }

    int pointwise = 1;
    for (int i = 0; i < 3; i++)
        if (g->ker[i] != 1 || g->str[i] != 1 || g->pad[i] != 0 || g->out[i] != g->in[i]) pointwise = 0;
    if (!pointwise) {
        phase_ctx pc;
        size_t span;
        if (shifted_plan(g, &pc, &span)) {
            conv_shifted(isa, d, g, &pc, span, x, w, apacked, apacked16, scale, shift, y);
            return 0;
        }
    }

    const int count = d->batch * groups;
    cedge_gemm_problem *probs = (cedge_gemm_problem *)(void *)cedge_scratch(
        0, CEDGE_SCR_JOBS, (size_t)count * (sizeof(cedge_gemm_problem) / sizeof(float) + 1));
    for (int n = 0; n < d->batch; n++)
        for (int grp = 0; grp < groups; grp++) {
            cedge_gemm_problem *p = &probs[n * groups + grp];
            const float *xg = x + ((size_t)n * d->in_channels + (size_t)grp * icg) * g->in_plane;
            p->m = ocg;
            p->n = P;
            p->k = K;
            p->a = w ? w + (size_t)grp * ocg * K : NULL;   // NULL: binary16 panels only
            p->lda = (size_t)K;
            p->trans_a = 0;
            p->alpha = 1.0f;
            if (pointwise) {
                // 1x1, stride 1, no pad: the input planes already are the B matrix.
                cedge_bsrc_matrix(&p->b, xg, g->in_plane, 0);
            } else {
                p->b.pack = pack_im2col;
                p->b.b = xg;
                p->b.ldb = 0;
                p->b.trans = 0;
                p->b.ctx = g;
                p->b.koff = NULL;
            }
            p->beta = 0.0f;
            p->c = y + ((size_t)n * d->out_channels + (size_t)grp * ocg) * g->out_plane;
            p->ldc = g->out_plane;
            p->bias = shift ? shift + (size_t)grp * ocg : NULL;
            p->scale = scale ? scale + (size_t)grp * ocg : NULL;
            p->apacked = apacked;
            p->apacked16 = apacked16;
            p->clamp = clamp;
            p->cmin = d->clamp_min;
            p->cmax = d->clamp_max;
        }
    cedge_gemm_run(isa, probs, count);
    return 0;
}

// Strided convolutions as a GEMM with the output pixels as rows: C^T (pixels x output channels) = A (pixels x
// K taps, read in place from the zero-padded input) * W^T (K x channels, packed once), stored transposed into
// NCHW by the micro-kernel. The shifted-window GEMM computes a strided conv over pitch-padded rows of phase
// planes: at the 7x7 and 14x14 outputs of a small ResNet a quarter (span 55 for 49 cells) or an eighth of its
// columns were padding, and the phase copy and the extraction of the outputs came on top. Here a row panel is
// up to MR pixels of one output row, so every multiply-add makes an output, and nothing is copied but the
// padded input.
#include <string.h>

#include "kernels_internal.h"

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }
static inline int ceil_div(int a, int b) { return (a + b - 1) / b; }

#define PREP_PIECE_FLOATS 2048

int cedge_rows_plan(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g) {
    const int groups = d->groups > 0 ? d->groups : 1;
    if (!isa || !isa->ukernel_rows || groups != 1 || d->in_channels < 2 || d->out_channels < 1 || d->batch < 1)
        return 0;
    if (g->ker[0] != 1 || g->in[0] != 1 || g->out[0] != 1) return 0;   // 1-d and 2-d
    return g->str[2] >= 2 && g->out[1] * g->out[2] > 1;
}

size_t cedge_rows_packed_floats(const cedge_isa *isa, int oc, int k) {
    return (size_t)ceil_div(oc, isa->nr) * k * isa->nr;
}

// Panel jp of NR output channels: k rows of NR weights (channels past oc zero).
void cedge_rows_pack(const cedge_isa *isa, const float *w, int oc, int k, float *dst) {
    const int NR = isa->nr, KQ = ceil_div(oc, NR);
    for (int jp = 0; jp < KQ; jp++)
        for (int i = 0; i < k; i++) {
            float *row = dst + ((size_t)jp * k + i) * NR;
            for (int j = 0; j < NR; j++) {
                const int o = jp * NR + j;
                row[j] = o < oc ? w[(size_t)o * k + i] : 0.0f;
            }
        }
}

// One conv of a pass: its packed W^T panels, epilogue and output. A pass runs one conv, or a ResNet block's
// strided conv and its 1x1 shortcut over the same input (cedge_conv_f32_pair): the shortcut's taps are one tap
// of the main conv's window, so both read the same padded rows in one set of tasks.
typedef struct {
    const float *b;
    cedge_rows_epi epi;
    float *y;
    int OC, K, KQ;
} rows_conv;

typedef struct {
    const cedge_isa *isa;
    const cedge_geom3 *g;   // the main conv's
    const float *x, *xp;    // the input, and what the taps read: its padded copy, or x itself
    rows_conv cv[2];
    int nconv;
    int tap;              // the shortcut's (cv[1]) tap of the main conv's window
    const size_t *koff;   // the main conv's K tap offsets, then the shortcut's (unused with own rows)
    int C, per_row, panels, chunks;
    int PH, PW;
    size_t plane;   // xp's plane
    int own;        // batch 1 on the pool: each task pads the rows it reads itself (xp, koff unused)
    cedge_shared_prep *prep;   // tasks that share xp pad it together first (pieces of planes_per planes)
    int nplanes, planes_per;
} rows_ctx;

// Tap k's offset from a pixel's window origin, in padded planes `plane` floats apart, rows PW apart; a
// shortcut's taps after the main conv's.
static void fill_koff(const rows_ctx *c, size_t plane, size_t *koff) {
    const cedge_geom3 *g = c->g;
    for (int ch = 0, k = 0; ch < c->C; ch++)
        for (int ky = 0; ky < g->ker[1]; ky++)
            for (int kx = 0; kx < g->ker[2]; kx++, k++)
                koff[k] = (size_t)ch * plane + (size_t)ky * g->dil[1] * c->PW + (size_t)kx * g->dil[2];
    if (c->nconv > 1) {
        const int taps = g->ker[1] * g->ker[2];
        for (int ch = 0; ch < c->C; ch++) koff[c->cv[0].K + ch] = koff[ch * taps + c->tap];
    }
}

static size_t koff_floats(const rows_ctx *c) {
    const int k = c->cv[0].K + (c->nconv > 1 ? c->cv[1].K : 0);
    return (size_t)k * ((sizeof(size_t) + sizeof(float) - 1) / sizeof(float));
}

static void pad_task(void *vctx, int plane, int tid) {
    (void)tid;
    const rows_ctx *c = vctx;
    cedge_pad_plane(c->g, c->x + (size_t)plane * c->g->in_plane, (float *)c->xp + (size_t)plane * c->plane, 1, c->PH,
                    c->PW);
}

static void pad_piece(void *vctx, int piece, int tid) {
    const rows_ctx *c = vctx;
    const int p1 = imin(c->nplanes, (piece + 1) * c->planes_per);
    for (int p = piece * c->planes_per; p < p1; p++) pad_task(vctx, p, tid);
}

// Output-channel panel jp of one conv over pixel panels [q0, q1) (each up to MR pixels of one output row, the
// row split evenly), reading xp (padded rows from row0 on, planes `plane` apart) at the taps koff.
static void conv_panels(const rows_ctx *c, const rows_conv *cv, int jp, int q0, int q1, const float *xp, size_t plane,
                        int row0, const size_t *koff) {
    const cedge_geom3 *g = c->g;
    const int NR = c->isa->nr, OH = g->out[1], OW = g->out[2], n_oc = imin(NR, cv->OC - jp * NR);
    const size_t OHW = (size_t)OH * OW;
    const float *b = cv->b + (size_t)jp * cv->K * NR;
    cedge_rows_epi e = cv->epi;
    if (e.scale) e.scale += jp * NR;
    if (e.shift) e.shift += jp * NR;
    for (int q = q0; q < q1; q++) {
        const int per_image = OH * c->per_row, n = q / per_image, oy = (q % per_image) / c->per_row;
        const int r = q % c->per_row, ox0 = r * OW / c->per_row, cnt = (r + 1) * OW / c->per_row - ox0;
        const float *abase = xp + (size_t)n * c->C * plane + (size_t)(oy * g->str[1] - row0) * c->PW +
                             (size_t)ox0 * g->str[2];
        float *yt = cv->y + ((size_t)n * cv->OC + (size_t)jp * NR) * OHW + (size_t)oy * OW + ox0;
        c->isa->ukernel_rows(cnt, n_oc, cv->K, abase, koff, g->str[2], b, &e, yt, OHW);
    }
}

// Task: the main conv's output-channel panel jp over a share of the pixel panels, then the shortcut's panels
// jp, jp + KQ, ... over the same pixels (it costs a tap per channel against the main conv's window, so its
// panels ride along instead of being tasks of their own, which would leave one thread the whole main conv).
static void rows_task(void *vctx, int task, int tid) {
    const rows_ctx *c = vctx;
    const cedge_geom3 *g = c->g;
    const int part = task % c->chunks, jp = task / c->chunks;
    const int q0 = (int)((long)part * c->panels / c->chunks), q1 = (int)((long)(part + 1) * c->panels / c->chunks);
    if (q1 <= q0) return;
    const float *xp = c->xp;
    const size_t *koff = c->koff;
    size_t plane = c->plane;
    int row0 = 0;   // xp's first row, in padded rows
    if (c->prep) cedge_shared_prep_run(c->prep, pad_piece, vctx, tid);
    if (c->own) {
        // Batch 1: panel q is in output row q / per_row. The rows these panels read, padded by this thread
        // (a serial copy before the tasks was a step of its own, and its lines then moved to the other core).
        const int oy0 = q0 / c->per_row, oy1 = (q1 - 1) / c->per_row;
        const int rows = (oy1 - oy0) * g->str[1] + (g->ker[1] - 1) * g->dil[1] + 1;
        row0 = oy0 * g->str[1];
        plane = (size_t)rows * c->PW;
        float *buf = cedge_scratch(tid, CEDGE_SCR_AUX2, (size_t)c->C * plane);
        cedge_pad_rows(g, c->x, c->C, buf, plane, row0, rows, c->PW);
        size_t *own = (size_t *)(void *)cedge_scratch(tid, CEDGE_SCR_KOFF, koff_floats(c));
        fill_koff(c, plane, own);
        xp = buf;
        koff = own;
    }
    conv_panels(c, &c->cv[0], jp, q0, q1, xp, plane, row0, koff);
    if (c->nconv > 1)
        for (int jb = jp; jb < c->cv[1].KQ; jb += c->cv[0].KQ)
            conv_panels(c, &c->cv[1], jb, q0, q1, xp, plane, row0, koff + c->cv[0].K);
}

static void conv_init(const cedge_isa *isa, rows_conv *cv, const cedge_conv_desc *d, int k, const float *w,
                      const float *bpacked, const float *scale, const float *shift, float *y, int slot) {
    cv->y = y;
    cv->OC = d->out_channels;
    cv->K = k;
    cv->KQ = ceil_div(cv->OC, isa->nr);
    cv->epi.scale = scale;
    cv->epi.shift = shift;
    cv->epi.clamp = cedge_clamp_active(d->clamp_min, d->clamp_max);
    cv->epi.cmin = d->clamp_min;
    cv->epi.cmax = d->clamp_max;
    if (!bpacked) {
        float *bp = cedge_scratch(0, slot, cedge_rows_packed_floats(isa, cv->OC, k));
        cedge_rows_pack(isa, w, cv->OC, k, bp);
        bpacked = bp;
    }
    cv->b = bpacked;
}

// The pass over the main conv's geometry g (the shortcut, when c->nconv is 2, already in c->cv[1]).
static void rows_run(rows_ctx *c, const cedge_conv_desc *d) {
    const cedge_isa *isa = c->isa;
    cedge_shared_prep prep;
    const cedge_geom3 *g = c->g;
    // The extent the windows read; without pads and within the input, the taps read x in place.
    c->PH = (g->out[1] - 1) * g->str[1] + (g->ker[1] - 1) * g->dil[1] + 1;
    c->PW = (g->out[2] - 1) * g->str[2] + (g->ker[2] - 1) * g->dil[2] + 1;
    c->per_row = ceil_div(g->out[2], isa->mr);
    c->panels = d->batch * g->out[1] * c->per_row;
    // The main conv's output-channel panels first; fewer than threads: the pixel panels are shared out too.
    const int KQ = c->cv[0].KQ, width = cedge_pool_width();
    c->chunks = imax(1, KQ >= width ? 1 : imin(c->panels, ceil_div(width, KQ)));
    if (g->pad[1] == 0 && g->pad[2] == 0 && c->PH <= g->in[1] && c->PW <= g->in[2]) {
        c->xp = c->x;
        c->PH = g->in[1];
        c->PW = g->in[2];
        c->plane = g->in_plane;
    } else if (d->batch == 1 && c->chunks > 1) {
        // Tasks that split an image's rows pad their own (the 14x14 stride-2 conv of the edge model on 2
        // threads: 11.3 us with the shared copy, 9.6). Tasks that split the channels share one copy: each
        // padding the whole input measured slower (7x7: 10.3 us, 11.5).
        c->own = 1;
    } else {
        c->plane = (size_t)c->PH * c->PW;
        c->nplanes = d->batch * c->C;
        const size_t floats = (size_t)c->nplanes * c->plane;
        c->xp = cedge_scratch(0, CEDGE_SCR_SHARED, floats);
        if (width > 1 && KQ * c->chunks > 1) {
            // The tasks pad it themselves, in pieces of about PREP_PIECE_FLOATS (the 7x7 stride-2 pair of the
            // edge model at batch 1 on 2 threads: 2 us of serial copy before its two tasks).
            c->planes_per = imax(1, (int)(PREP_PIECE_FLOATS / c->plane));
            cedge_shared_prep_init(&prep, ceil_div(c->nplanes, c->planes_per));
            c->prep = &prep;
        } else {
            cedge_parallel_copy(c->nplanes, pad_task, c, floats);
        }
    }
    if (!c->own) {
        size_t *koff = (size_t *)(void *)cedge_scratch(0, CEDGE_SCR_KOFF, koff_floats(c));
        fill_koff(c, c->plane, koff);
        c->koff = koff;
    }
    cedge_parallel_for(KQ * c->chunks, rows_task, c);
}

static void ctx_init(rows_ctx *c, const cedge_isa *isa, const cedge_geom3 *g, const cedge_conv_desc *d,
                     const float *x) {
    memset(c, 0, sizeof *c);
    c->isa = isa;
    c->g = g;
    c->x = x;
    c->C = d->in_channels;
    c->nconv = 1;
}

void cedge_rows_conv(const cedge_isa *isa, const cedge_conv_desc *d, const cedge_geom3 *g, const float *x,
                     const float *w, const float *bpacked, const float *scale, const float *shift, float *y) {
    rows_ctx c;
    ctx_init(&c, isa, g, d, x);
    conv_init(isa, &c.cv[0], d, c.C * g->ker[1] * g->ker[2], w, bpacked, scale, shift, y, CEDGE_SCR_APACK);
    rows_run(&c, d);
}

int cedge_rows_shortcut_tap(const cedge_isa *isa, const cedge_conv_desc *a, const cedge_geom3 *ga,
                            const cedge_conv_desc *b, const cedge_geom3 *gb) {
    if (!cedge_rows_plan(isa, a, ga) || !cedge_rows_plan(isa, b, gb) || a->batch != b->batch ||
        a->in_channels != b->in_channels)
        return -1;
    if (gb->ker[1] != 1 || gb->ker[2] != 1 || gb->pad[1] != 0 || gb->pad[2] != 0) return -1;
    for (int i = 1; i < 3; i++)
        if (ga->in[i] != gb->in[i] || ga->out[i] != gb->out[i] || ga->str[i] != gb->str[i]) return -1;
    // Main-conv tap (ty, tx) reads padded cell (s*oy + ty*dil, ...) = input cell (s*oy + ty*dil - pad): the
    // shortcut's s*oy when ty*dil == pad.
    const int ty = ga->pad[1] / ga->dil[1], tx = ga->pad[2] / ga->dil[2];
    if (ty * ga->dil[1] != ga->pad[1] || tx * ga->dil[2] != ga->pad[2] || ty >= ga->ker[1] || tx >= ga->ker[2])
        return -1;
    return ty * ga->ker[2] + tx;
}

void cedge_rows_conv_pair(const cedge_isa *isa, int tap, const cedge_geom3 *g, const float *x, const cedge_conv_job *a,
                          const float *pa, const cedge_conv_job *b, const float *pb) {
    rows_ctx c;
    ctx_init(&c, isa, g, a->d, x);
    conv_init(isa, &c.cv[0], a->d, c.C * g->ker[1] * g->ker[2], a->w, pa, a->scale, a->shift, a->y, CEDGE_SCR_APACK);
    conv_init(isa, &c.cv[1], b->d, c.C, b->w, pb, b->scale, b->shift, b->y, CEDGE_SCR_APACK2);
    c.tap = tap;
    c.nconv = 2;
    rows_run(&c, a->d);
}
